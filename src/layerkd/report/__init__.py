"""The aggregate stage's reporting: finished runs in, the paper's tables, figures and text out.

    collect        read the runs from results/ into frames; the headline score; seed summaries
    curves         read a dvclive curve (no plotting: the teacher stage uses it too)
    stats          seed-paired tests: vs none, repeated-measures ANOVA, equivalence, spread
    tables         result, comparison, ablation and calibration tables; Markdown and LaTeX
    style          the figures' shared labels, colours and metric axes
    figures        per-task results, training curves, depth and init gains, the strategies
    angle_figures  the angle reports: table, histograms, heatmaps, distances, findings
    objective      the objective in captions, the hidden term's share, Table 2, convergence
    ablations      the hidden-distance and hidden-weight ablations: runs, tables, figure
    paper_text     the paper's macros, the reproducibility table, the Markdown report
    findings       the distill and ablation notebooks' interpretation, from their runs
"""
