# %% [markdown]
# # 4.2 Statistics and the verdict against the paper
# The second notebook of the aggregate stage. Per (task, init) cell, seed-paired
# tests of each strategy against `none` and between the matching strategies
# (`scipy.stats`, `statsmodels`, Holm-corrected); pooled over the cells, the
# ordering of the strategies; then each of the paper's claims, judged by the
# rules of `report.verdict`. The paper's appendix holds these tables.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import CLASSIFICATION_TASKS, GENERATION_TASKS, LLM_TASK, load_params
from layerkd.report import (agreement, cellstats, collect, figures, paper_text, pooled, publish,
                            stats, tables)
from layerkd.report import angle_figures as fa
from layerkd.report import verdict as vd

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
params = load_params(params_file)
teachers, students = publish.runs(params)
llm_teacher, llm_students = publish.llm(params)
summary = collect.summarise(students)
cell_runs = publish.cell_runs(students, llm_students)  # facts by its multiple-choice score
kinds = {t: "classification" if t in CLASSIFICATION_TASKS else "generation" for t in params.tasks}
seeds_note = paper_text.counted(len(params.distill.seeds), "seed")
part = publish.Part("statistics")


def readable(table, p_columns):
    """Rounded, with p-values as text (a p of 1e-9 must not print as 0)."""
    out = table.round(4)
    for c in p_columns:
        out[c] = table[c].map(vd.p_text)
    return out


# %% [markdown]
# ## Per (task, init) cell
# Each strategy against `none` by a paired t-test (`ttest_rel`), Holm-corrected
# within its cell (the family: which strategies beat `none` there), with a
# bootstrap interval of the gain resampling seeds; a repeated-measures ANOVA
# over the matching strategies per cell; for every pair of matching strategies a
# paired t-test and TOST within the metric's margin (`stats.MARGINS`), both
# Holm-corrected within the cell, and the smallest margin TOST establishes at
# this number of seeds. Only corrected p-values are counted in the text.

# %%
margins = {t: stats.MARGINS["bleu" if t in GENERATION_TASKS else "acc"] for t in params.tasks}
margins[LLM_TASK] = stats.MARGINS["acc"]
vs_none = stats.paired_vs_none(cell_runs, "score").round(3)
anova = stats.strategy_anova(cell_runs, "score").round(3)
equiv = stats.equivalence(cell_runs, margins, "score").round(3)
part.table("vs_none", vs_none.set_index("task"),
           "Gain of each strategy over no matching, paired by seed: mean gain, its 95\\% "
           f"percentile bootstrap interval resampling seeds (scipy.stats.bootstrap; at "
           f"{seeds_note} narrower than nominal), paired t-test (scipy.stats.ttest\\_rel) "
           "statistic, raw p and p Holm-corrected within each (task, init) cell (the family: "
           "that cell's strategies against none; statsmodels multipletests). facts: "
           "multiple-choice accuracy.")
part.table("strategy_anova", anova.set_index("task"),
           "Do the matching strategies differ? Repeated-measures ANOVA per task and "
           "initialisation (statsmodels AnovaRM; subject: seed; within: the matching "
           "strategies, none excluded): F, degrees of freedom, raw p and p Holm-corrected "
           "over the rows (the family: every cell).")
part.table("equivalence", equiv.drop(columns=["margin", "n"]).rename(
    columns={"min_margin": "margin"}).set_index("task"),
           "Pairs of matching strategies, paired by seed: mean difference a - b, paired "
           "t-test p (difference) and TOST p (equivalence within the margin, in the metric's "
           "units: 1 point of accuracy, 1 BLEU; two one-sided scipy.stats.ttest\\_1samp), "
           "each raw and Holm-corrected within the (task, init) cell (the family: that "
           "cell's pairs), and margin: the smallest margin TOST shows at level 0.05 "
           f"with {seeds_note} (the larger bound of the 90\\% t interval).")

# %% [markdown]
# ## How large is the spread, against equal strategies?
# Per cell, the spread (best minus worst mean of the paper's four matching
# strategies) with a bootstrap interval resampling seeds, beside its null
# reference: the spread after permuting the strategy labels within each seed
# (every relabelling), whose mean is what equal strategies would show. And the
# smallest margin within which TOST shows every pair of them equivalent.

# %%
spreads = cellstats.spread_table(cell_runs)
part.table("spread_null", spreads.round(3).set_index("task"),
           "Spread between the four matching strategies (best minus worst seed mean) per "
           "(task, init) cell, its 95\\% percentile bootstrap interval resampling seeds, "
           "and its null reference: the spread after permuting strategy labels within each "
           "seed (scipy.stats.permutation\\_test, every relabelling): its mean, its 95th "
           "percentile, the share at least as large as observed (p) and p Holm-corrected "
           "over the cells (the family: every cell).")
path = paths.FIGURES / "spread_null.png"
figures.spread_null_figure(spreads, path)
part.figure(path, "Spread between the matching strategies per (task, init) cell, with its "
            "bootstrap interval, beside the spread equal strategies give (permutation null: "
            "its mean and up to its 95th percentile).")
equivalence_margins = cellstats.margin_table(cell_runs)
part.table("equivalence_margins", equivalence_margins.round(2).set_index("task"),
           "The smallest margin (points of the metric) within which two one-sided tests at "
           f"level 0.05 show every pair of the four matching strategies equivalent, with "
           f"{seeds_note} (intersection-union: the largest of the pairs' margins), and the "
           "pair that sets it.")

# %% [markdown]
# ## Pooled over cells: do the strategies differ, and in what order?
# Per setting family and overall: Friedman's test over the cells (their seed
# means; the decoder-only family, one cell, over its seeds) and Page's trend
# test of reverse < random < forward (the order of each mapping's depth
# correlation, fixed before the results); a linear mixed model of the score
# standardised within each cell on strategy (random effects: seed within cell,
# cell x strategy); every pair of strategies as a contrast of that model,
# Holm over the pairs. The same block tests on the paper's own cell means.

# %%
runs = pooled.runs_frame(cell_runs)
pooled_tests = pooled.pooled_table(runs)
pairs = pooled.pairwise(runs)
paper_tests = pooled.paper_tests(paths.PAPER_RESULTS)
# one column per family: the statistics are many, the families few (the table fits the page)
part.table("pooled", readable(pooled_tests, ["friedman_p", "page_p"]).set_index("family").T
           .rename_axis("statistic"),
           "Pooled over (task, init) cells, per setting family and overall: Friedman's "
           "chi-square over the blocks (scipy.stats.friedmanchisquare; a block is a cell's "
           "seed means, or a seed where the family has one cell), Page's L for the "
           "increasing order reverse, random, forward (scipy.stats.page\\_trend\\_test), "
           "blocks with forward above reverse, and the variance components of the mixed "
           "model (statsmodels MixedLM, REML; score standardised within each cell); one "
           "column per family.")
part.table("pairwise", readable(pairs, ["p", "p_holm"]).set_index("family"),
           "Pairs of matching strategies pooled over cells, per family: the mixed model's "
           "contrast a - b in within-cell standard deviations with its 95\\% Wald interval, "
           "p and p Holm-corrected over the family's six pairs; the mean difference in "
           "points over the blocks with a 95\\% bootstrap interval resampling blocks, and "
           "the blocks with a above b.")
part.table("pooled_paper", readable(paper_tests, ["friedman_p", "page_p"]).set_index("family").T
           .rename_axis("statistic"),
           "The same block tests on the paper's cell means (official\\_results.csv; QQP by "
           "accuracy, MNLI matched only; complete blocks of the four strategies for "
           "Friedman and Page).")

# %% [markdown]
# ## Verdict against the paper
# Each of the paper's claims, the paper's evidence (its own table) and this
# artifact's, and a verdict by the rules of `report.verdict` (fixed in code):
# (a) matching beats `none` from random init, (b) the spread is small, (c) most
# angles at the student are acute, (d) no consistent ordering. Then where the
# two differ, with what this artifact's ablations show about why (their runs
# are read here; `04_aggregate_3_ablations` draws them, `04_aggregate_4_angles`
# the angles).

# %%
alpha = 0.05
angle_table = fa.angle_table(publish.angle_reports(params))
ours_shape = tables.shape_summary(summary)
paper_shape = vd.paper_shape(paths.PAPER_RESULTS)
claims = [vd.claim_a(ours_shape, paper_shape, vs_none, alpha),
          vd.claim_b(ours_shape, paper_shape, spreads, alpha),
          vd.claim_c(angle_table),
          vd.claim_d(pooled_tests, pairs, paper_tests, alpha)]
verdict_values = {k: v for _, m in claims for k, v in m.items()}
part.table("verdict", vd.verdict_table([row for row, _ in claims]),
           "The paper's claims against this artifact: the paper's evidence (its "
           f"official results), this artifact's (every cell, {seeds_note}; p-values as in "
           "Tables~\\ref{tab:vs_none}, \\ref{tab:spread_null} and \\ref{tab:pairwise}) and "
           f"the verdict by the rules of layerkd.report.verdict (alpha {alpha:g}).",
           widths=["2.8cm", "4.0cm", "6.2cm", "1.6cm"])
divergences, divergence_values = agreement.divergence_table(
    paper_shape, ours_shape, kinds, publish.setting_ablation(params, students, "objective"),
    publish.transfer(params, students),
    verdict_values["PaperForwardAboveReverse"], verdict_values["ForwardAboveReverse"])
part.table("divergences", divergences,
           "Where this artifact and the paper differ, and what this artifact's ablations "
           "(normalisation of the hidden term, size of the transfer set) and its two "
           "initialisations show about why (points of the task's metric).",
           widths=["2.4cm", "2.6cm", "2.6cm", "7.0cm"])

# %% [markdown]
# ## The numbers the text quotes, and what this run found

# %%
v = part.values
v.update(paper_text.result_macros(teachers, summary, vs_none, equiv, None,
                                  stats.MARGINS["acc"], alpha=alpha, anova=anova))
v.update(vd.as_tex(verdict_values | divergence_values))
v.update(paper_text.cell_stat_macros(vs_none, spreads, equivalence_margins, kinds))
values = part.save()
display(Markdown(paper_text.findings_markdown(values)))
