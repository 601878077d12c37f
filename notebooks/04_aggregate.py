# %% [markdown]
# # 4. Results: every table, figure and number of the paper
# Collects every finished run (main runs, angle reports, ablations) and writes
# `paper/tables/` (Markdown and LaTeX, mean ± std over seeds),
# `paper/figures/` (every seed a point), the seed-paired statistics (Holm-corrected), `paper/macros.tex` (every number the paper's text
# quotes) and `paper/README.md` (the same material as a Markdown report).

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

import pandas as pd

from IPython.display import Image, Markdown, display

from layerkd import paths
from layerkd.config import CLASSIFICATION_TASKS, GENERATION_TASKS, LLM_TASK, load_params
from layerkd.io import atomic_write_json, atomic_write_text
from layerkd.report import ablations as ar
from layerkd.report import angle_figures as fa
from layerkd.report import agreement, cellstats, collect, figures, paper_text, pooled, stats, tables
from layerkd.report import verdict as vd
from layerkd.report import llm as rl
from layerkd.report import objective as obr
from layerkd.report import transfer as tr

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
params = load_params(params_file)
teachers, students = collect.collect(paths.RESULTS)
# Only the runs the current parameters define (stale folders of removed ones are ignored).
students = students[students["task"].isin(params.tasks)
                    & students["init"].isin(params.distill.inits)
                    & students["strategy"].isin(params.distill.strategies)
                    & students["seed"].isin(params.distill.seeds)]
teachers = teachers[teachers["task"].isin(params.tasks)]
table_dir, figs = paths.TABLES, paths.FIGURES
summary = collect.summarise(students)
report_sections, report_figures = [], []  # for paper/README.md


def write_table(name, table, caption, widths=None):
    """Markdown and LaTeX; ``widths``: paragraph columns for tables of long text."""
    atomic_write_text(table_dir / f"{name}.md", tables.to_markdown(table))
    atomic_write_text(table_dir / f"{name}.tex",
                      vd.wide_latex(table, caption, f"tab:{name}", widths) if widths
                      else tables.to_latex(table, caption, f"tab:{name}"))
    plain = caption.replace("\\%", "%").replace("$\\pm$", "±").replace("\\_", "_")
    report_sections.append((name, f"*{plain}*\n\n" + tables.to_markdown(table)))
    display(Markdown(f"**{name}**\n\n" + tables.to_markdown(table)))


def readable(table, p_columns):
    """Rounded, with p-values as text (a p of 1e-9 must not print as 0)."""
    out = table.round(4)
    for c in p_columns:
        out[c] = table[c].map(vd.p_text)
    return out


def add_figure(path, caption):
    report_figures.append((str(path.relative_to(paths.PAPER)), caption))
    display(Markdown(f"*{caption}*"), Image(filename=str(path), width=760))


# %% [markdown]
# ## Table 1 (classification, test accuracy %) and Table 2 (generation, test BLEU and exact match)
# Every caption names the matching objective the runs recorded (`report.objective`).

# %%
groups = {"table1_classification": [t for t in params.tasks if t in CLASSIFICATION_TASKS],
          "table2_generation": [t for t in params.tasks if t in GENERATION_TASKS]}
captions = {"table1_classification": "Classification: test accuracy (\\%)",
            "table2_generation": "Generation: test corpus BLEU (sacrebleu) and test exact "
                                 "match (EM, \\% of sequences)"}
builders = {"table1_classification": tables.results_table,
            "table2_generation": obr.generation_table}
for name, task_names in groups.items():
    if task_names:
        write_table(name, builders[name](teachers, students, task_names),
                    captions[name] + ", mean $\\pm$ std over seeds, per layer-selection "
                    "strategy and student initialisation. "
                    + obr.objective_caption(students, task_names))

# %% [markdown]
# ## Table 3 (the decoder-only task, `facts`: multiple choice and exact match)
# The paper's Qwen3 setting at CPU size (stages `llm_teacher`, `llm_distill`):
# layer-reduced, weight-copied students of a small Qwen3 teacher.

# %%
llm_teacher, llm_students = rl.collect_llm(paths.RESULTS, params.llm)
low, high = rl.hidden_share_range(llm_students)
write_table("table3_llm", rl.table3(llm_teacher, llm_students),
            f"Decoder-only ({LLM_TASK}, Qwen3 {params.llm.model.teacher_depth} blocks into "
            f"{params.llm.distill.student_depth}): test multiple-choice accuracy (log-likelihood "
            "of each ending, as HellaSwag) and exact match of the greedy answer (as "
            "CommonsenseQA), \\%, mean $\\pm$ std over seeds. Objective: cross-entropy + KL + "
            f"{params.llm.distill.a_hid:g} x squared distance of unit-normalised block outputs "
            f"(the official LLM objective); the hidden term is {low:.0f} to {high:.0f} \\% of "
            "the last epoch's loss.")
path = figs / f"strategies_{LLM_TASK}.png"
rl.llm_figure(llm_teacher, llm_students, path)
add_figure(path, f"{LLM_TASK}: every seed's test scores per strategy; dashed: the teacher.")

# %% [markdown]
# Validation scores of the same runs (the best validated epoch, which chose each
# checkpoint), to read beside the test scores above.

# %%
write_table("validation", tables.results_table(teachers, students, params.tasks, "val_score"),
            "Validation score of the selected checkpoint (accuracy \\% or BLEU), mean "
            "$\\pm$ std over seeds: the score that chose each run's best epoch, beside the "
            "test scores of Tables 1 and 2.")

# %% [markdown]
# ## The hidden term's share of the loss
# How much of the training loss the weighted hidden term `a_hid * H` is, in the
# first and the last epoch: a matching strategy can only matter if this share
# is not negligible.

# %%
write_table("hidden_share", obr.hidden_share_table(students, params.tasks),
            obr.hidden_share_caption(students, params.tasks))

# %% [markdown]
# ## The shape of the result, side by side with the paper
# Gain of matching over `none`, spread between matching strategies and their
# ranking: the paper's numbers (`reference/official_results.csv`) and ours.

# %%
comparison = tables.comparison_table(
    pd.concat([summary, rl.comparison_rows(llm_students)], ignore_index=True),
    paths.PAPER_RESULTS)
write_table("comparison", comparison.set_index("source"),
            "The paper's result shape and ours: gain over no matching and spread between "
            "strategies (points of the task's metric). Ours: "
            + obr.objective_caption(students, params.tasks)
            + f" {LLM_TASK} (MC: multiple choice, EM: exact match): the official LLM objective.")

# %% [markdown]
# ## Statistics per (task, init) cell (seed-paired; `scipy.stats`, `statsmodels`)
# The decoder-only task enters with its multiple-choice score (`facts`, weight copy).
# Each strategy against `none` by a paired t-test (`ttest_rel`), Holm-corrected
# within its (task, init) cell (the family: which strategies beat `none` there),
# with a bootstrap interval of the gain resampling seeds; a repeated-measures ANOVA
# over the matching strategies per cell; for every pair of matching strategies a
# paired t-test and TOST within the metric's margin (`stats.MARGINS`), both
# Holm-corrected within the cell, and the smallest margin TOST establishes at this
# number of seeds. Only corrected p-values are counted in the text.

# %%
margins = {t: stats.MARGINS["bleu" if t in GENERATION_TASKS else "acc"] for t in params.tasks}
margins[LLM_TASK] = stats.MARGINS["acc"]
margin = stats.MARGINS["acc"]
cell_runs = pd.concat([students, llm_students.assign(score=llm_students["test_mc"])],
                      ignore_index=True)  # the decoder-only cell by its multiple-choice score
vs_none = stats.paired_vs_none(cell_runs, "score").round(3)
anova = stats.strategy_anova(cell_runs, "score").round(3)
equiv = stats.equivalence(cell_runs, margins, "score").round(3)
seeds_note = f"{len(params.distill.seeds)} seeds"
write_table("vs_none", vs_none.set_index("task"),
            "Gain of each strategy over no matching, paired by seed: mean gain, its 95\\% "
            f"percentile bootstrap interval resampling seeds (scipy.stats.bootstrap; at "
            f"{seeds_note} narrower than nominal), paired t-test (scipy.stats.ttest\\_rel) "
            "statistic, raw p and p Holm-corrected within each (task, init) cell (the family: "
            "that cell's strategies against none; statsmodels multipletests). facts: "
            "multiple-choice accuracy.")
write_table("strategy_anova", anova.set_index("task"),
            "Do the matching strategies differ? Repeated-measures ANOVA per task and "
            "initialisation (statsmodels AnovaRM; subject: seed; within: the matching "
            "strategies, none excluded): F, degrees of freedom, raw p and p Holm-corrected "
            "over the rows (the family: every cell).")
write_table("equivalence", equiv.drop(columns=["margin", "n"]).rename(
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
write_table("spread_null", spreads.round(3).set_index("task"),
            "Spread between the four matching strategies (best minus worst seed mean) per "
            "(task, init) cell, its 95\\% percentile bootstrap interval resampling seeds, "
            "and its null reference: the spread after permuting strategy labels within each "
            "seed (scipy.stats.permutation\\_test, every relabelling): its mean, its 95th "
            "percentile, the share at least as large as observed (p) and p Holm-corrected "
            "over the cells (the family: every cell).")
equivalence_margins = cellstats.margin_table(cell_runs)
write_table("equivalence_margins", equivalence_margins.round(2).set_index("task"),
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
write_table("pooled", readable(pooled_tests, ["friedman_p", "page_p"]).set_index("family"),
            "Pooled over (task, init) cells, per setting family and overall: Friedman's "
            "chi-square over the blocks (scipy.stats.friedmanchisquare; a block is a cell's "
            "seed means, or a seed where the family has one cell), Page's L for the "
            "increasing order reverse, random, forward (scipy.stats.page\\_trend\\_test), blocks with forward above "
            "reverse, and the variance components of the mixed model (statsmodels MixedLM, "
            "REML; score standardised within each cell).")
write_table("pairwise", readable(pairs, ["p", "p_holm"]).set_index("family"),
            "Pairs of matching strategies pooled over cells, per family: the mixed model's "
            "contrast a - b in within-cell standard deviations with its 95\\% Wald interval, "
            "p and p Holm-corrected over the family's six pairs; the mean difference in "
            "points over the blocks with a 95\\% bootstrap interval resampling blocks, and "
            "the blocks with a above b.")
write_table("pooled_paper", readable(paper_tests, ["friedman_p", "page_p"]).set_index("family"),
            "The same block tests on the paper's cell means (official\\_results.csv; QQP by "
            "accuracy, MNLI matched only; complete blocks of the four strategies for "
            "Friedman and Page).")

# %% [markdown]
# ## Figures: results per strategy, training curves, the strategies themselves

# %%
for task_name in params.tasks:
    path = figs / f"strategies_{task_name}.png"
    figures.strategy_figure(teachers, students, task_name, path)
    add_figure(path, f"{task_name}: test score per strategy and initialisation; every seed a "
               "point, a seed's runs joined by a grey line (paired), the median a black bar, "
               "the teacher dashed.")
    if task_name in GENERATION_TASKS:
        path = figs / f"strategies_em_{task_name}.png"
        figures.strategy_figure(teachers, students, task_name, path, y="test_exact_match")
        add_figure(path, f"{task_name}: test exact match (% of sequences) per strategy and "
                   "initialisation (as above).")
    path = figs / f"curves_{task_name}.png"
    figures.curve_figure(paths.RESULTS, task_name,
                     float(teachers.set_index("task").loc[task_name, "score"]), path,
                     "val/bleu" if task_name in GENERATION_TASKS else "val/acc")
    add_figure(path, f"{task_name}: validation score per validated epoch, per strategy the "
               "mean over seeds (line) and the lowest to highest seed (band); dashed: the "
               "teacher's test score.")
d = params.distill
path = figs / "strategies.png"
figures.strategy_diagram(d.student_depth, params.model.teacher_depth, path)
add_figure(path, "The layer pairs of each strategy, drawn from match_layers' own output.")

# %% [markdown]
# ## Initialisation: the gain from matching under random init and weight copy

# %%
path = figs / "init_gain.png"
figures.init_gain_figure(students, path)
add_figure(path, "Gain of each matching strategy over no matching, paired by seed, under "
           "random initialisation (circles) and weight copy (triangles): every seed a "
           "point, the median a black bar.")

# %% [markdown]
# ## Angles: teacher layers seen from the student (stage `angles`)

# %%
reports = {t: json.loads(paths.angles_file(t).read_text()) for t in [*params.tasks, LLM_TASK]}
angle_table = fa.angle_table(reports)
write_table("angles", angle_table.set_index("task"),
            "Angles at the student between two teacher blocks: share of acute angles (\\%), "
            "the same share at the null baseline (random directions with the norms of the "
            "student's states) and mean cosine over student blocks, teacher pairs and test "
            "tokens, at initialisation and after training (mean over the measured seeds).")
for task_name, rep in reports.items():
    path = figs / f"angles_hist_{task_name}.png"
    fa.angle_histograms(rep, path)
    add_figure(path, f"{task_name}: every cosine of the angle at the student between two "
               "teacher blocks (dashed: before training; dotted: the null baseline); the "
               "legend gives each share of acute angles.")
    for stack in fa.stacks(rep):
        for kind, draw in (("heatmap", fa.angle_heatmaps), ("distances", fa.distance_figure)):
            path = figs / f"angles_{kind}_{task_name}_{stack}.png"
            draw(rep, stack, path)
            add_figure(path, f"{task_name} {stack}: " + (
                "mean cosine per student block and teacher pair." if kind == "heatmap" else
                "mean distances between teacher layers and from student to teacher layers."))

# %% [markdown]
# ## Ablations: student depth and width (stage `ablate`)

# %%
a = params.ablations
if a.tasks:  # ablations.tasks: [] turns the stage off
    ablation = collect.collect_ablations(paths.RESULTS)
    ablation = ablation[ablation["task"].isin(a.tasks) & ablation["strategy"].isin(a.strategies)
                        & ablation["seed"].isin(a.seeds)]
    depth = tables.depth_runs(ablation, students, a.init, a.tasks, a.strategies, a.seeds,
                              a.depths)
    write_table("depth", tables.depth_table(depth),
                "Student depth against the same teacher: test score, mean $\\pm$ std over seeds.")
    path = figs / "depth.png"
    figures.depth_figure(depth, path, teachers)
    add_figure(path, "Test score against student depth, random initialisation: every seed a "
               "point, the median per strategy a line, the teacher dashed.")
    if a.widths:
        write_table("width", tables.width_table(ablation, students, a.init, params.model.width),
                    "Students narrower than the teacher, whose states reach the teacher's "
                    "width through one trained linear map per layer, beside same-width "
                    "students: test score, mean $\\pm$ std over seeds.")

# %% [markdown]
# ## Ablation: normalisation of the hidden term (stage `ablate_objective`)
# Every strategy under each hidden distance (`ablations.objective`); the task's
# own distance is its main runs, and `none` (no hidden term) is the baseline of
# every distance. Spread: the best minus the worst mean of the matching strategies.


# %%
def setting_ablation(kind, name, what):
    if not params.ablations.sweep(kind).tasks:
        return None
    runs = ar.setting_runs(collect.collect_setting_ablation(paths.RESULTS, kind), students,
                          params, kind)
    described = tables.latex_escape(ar.describe(params, kind))
    write_table(name, ar.setting_table(runs, kind),
                f"{what}: test score (accuracy \\% or BLEU), mean $\\pm$ std over seeds, per "
                f"task, setting and strategy, and the spread between matching strategies "
                f"(best minus worst mean); {described}.")
    path = figs / f"{name}.png"
    ar.gain_figure(runs, kind, path)
    add_figure(path, f"{what}: gain over none (paired by seed) per matching strategy, the "
               f"mean as a line and each seed as a point; {ar.describe(params, kind)}.")
    return runs


objective_runs = setting_ablation("objective", "objective_ablation",
                                  "Normalisation of the hidden term")

# %% [markdown]
# ## Ablation: weight of the hidden term (stage `ablate_a_hid`)
# `a_hid` swept over `ablations.a_hid.values`; the task's own weight is its main
# runs, and `none` (trained once) is the baseline of every weight.

# %%
setting_ablation("a_hid", "a_hid_ablation", "Weight of the hidden term")

# %% [markdown]
# ## Ablation: size of the transfer set (stage `ablate_transfer`)
# The students distil on the first n training examples (`ablations.transfer.sizes`)
# for the main runs' number of optimiser steps; the whole training split is the
# main runs. Where does "the strategy doesn't matter (much)" hold?

# %%
t = params.ablations.transfer
transfer = pd.DataFrame(columns=tr.COLUMNS)  # no runs: every macro "n/a"
if t.tasks:
    transfer = tr.transfer_runs(collect.collect_setting_ablation(paths.RESULTS, "transfer"),
                                students, params)
    seeds = ", ".join(str(s) for s in t.seeds)
    write_table("transfer_ablation", tr.transfer_table(transfer),
                "Size of the transfer set: test score (accuracy \\% or BLEU), mean $\\pm$ "
                "std over seeds, per task, initialisation and number of training examples the "
                "students distil on (the largest: the main runs), and the spread between "
                f"matching strategies; seeds {seeds}; every size trains for the main runs' "
                "number of optimiser steps, other settings as the main runs.")
    path = figs / "transfer_ablation.png"
    tr.transfer_figure(transfer, path)
    add_figure(path, "Gain over none (paired by seed) against the size of the transfer set "
               "(log scale): the mean per matching strategy as a line, each seed a point.")
    transfer_text = tr.transfer_findings(transfer)
    report_sections.append(("transfer_findings", transfer_text))
    display(Markdown(transfer_text))

# %% [markdown]
# ## Verdict against the paper
# Each of the paper's claims, the paper's evidence (its own table) and this
# artifact's, and a verdict by the rules of `report.verdict` (fixed in code):
# (a) matching beats `none` from random init, (b) the spread is small, (c) most
# angles at the student are acute, (d) no consistent ordering. Then where the
# two differ, with what this artifact's ablations show about why.

# %%
kinds = {t: "classification" if t in CLASSIFICATION_TASKS else "generation" for t in params.tasks}
alpha = 0.05
ours_shape = tables.shape_summary(summary)
paper_shape = vd.paper_shape(paths.PAPER_RESULTS)
claims = [vd.claim_a(ours_shape, paper_shape, vs_none, alpha),
          vd.claim_b(ours_shape, paper_shape, spreads, alpha),
          vd.claim_c(angle_table),
          vd.claim_d(pooled_tests, pairs, paper_tests, alpha)]
verdict_values = {k: v for _, m in claims for k, v in m.items()}
verdict = vd.verdict_table([row for row, _ in claims])
write_table("verdict", verdict,
            "The paper's claims against this artifact: the paper's evidence (its "
            f"official results), this artifact's (every cell, {seeds_note}; p-values as in "
            "Tables vs\\_none, spread\\_null and pairwise) and the verdict by the rules of "
            f"layerkd.report.verdict (alpha {alpha:g}).",
            widths=["2.8cm", "4.0cm", "6.2cm", "1.6cm"])
divergences, divergence_values = agreement.divergence_table(
    paper_shape, ours_shape, kinds, objective_runs, transfer,
    verdict_values["PaperForwardAboveReverse"], verdict_values["ForwardAboveReverse"])
write_table("divergences", divergences,
            "Where this artifact and the paper differ, and what this artifact's ablations "
            "(normalisation of the hidden term, size of the transfer set) and its two "
            "initialisations show about why (points of the task's metric).",
            widths=["2.4cm", "2.6cm", "2.6cm", "7.0cm"])

# %% [markdown]
# ## Calibration
# The teacher's lead over the `none` student (random init) is what leaves room
# for distillation to help.

# %%
min_lead = 5.0  # the calibration rule: teacher >= 5 points above the random-init none student
calibration = tables.calibration_table(teachers, summary, min_lead, params.tasks)
write_table("calibration", calibration.round(1),
            "Calibration: the teacher against the random-init none student at the "
            "default student depth (test accuracy \\% or BLEU, mean $\\pm$ std over seeds); "
            f"the rule asks for a lead of at least {min_lead:g} points.")

# %% [markdown]
# ## Convergence of the students without matching
# A `none` student has converged when its best validation score of the last
# quarter of the epochs beats the best before it by less than 0.5 points
# (`report.objective`); a shallower `none` student of the depth ablation that
# beats the default depth beyond seed noise would also mean under-training.

# %%
convergence = obr.convergence_table(paths.RESULTS, students, params.tasks)
if len(convergence):
    write_table("convergence", convergence, obr.convergence_caption())
# best minus worst matching strategy per task (random init): one short column per task
# in README's `dvc exp show`
atomic_write_json(paths.METRICS / "spread.json", stats.strategy_spreads(summary, "random"))
atomic_write_json(paths.METRICS / "summary.json", {
    "calibration": {t: {"teacher": r["teacher"], "teacher_lead": r["teacher lead"],
                        "none_random": r["teacher"] - r["teacher lead"]}
                    for t, r in calibration.iterrows()},
    "students": {f"{r.task}/{r.init}/{r.strategy}": {"mean": r.mean, "std": r.std, "n": r.n}
                 for r in summary.itertuples()}})

# %% [markdown]
# ## Reproducibility, the paper's numbers, the Markdown report

# %%
write_table("reproducibility", paper_text.reproducibility_table(params, teachers, students),
            "Runs behind every table: splits, sizes, seeds, runs per cell, epochs, wall "
            "time and parameter count per run (from the run metadata).")
machine = paper_text.machine()
values = paper_text.result_macros(teachers, summary, vs_none, equiv, angle_table, margin,
                                  anova=anova)
values.update(paper_text.param_macros(params))
values.update(ar.param_macros(params))
values.update(tr.transfer_macros(transfer, params))
values.update(paper_text.overview_macros(summary, calibration, kinds, min_lead))
values.update(paper_text.data_macros(params.tasks))
generated = students[students["task"].isin(GENERATION_TASKS)]
if len(generated) and "test_exact_match" in generated:
    values.update(paper_text.exact_match_macros(teachers, collect.summarise(
        generated, "test_exact_match")))
values.update(obr.convergence_macros(convergence))
values.update(rl.llm_macros(llm_teacher, llm_students))
values.update(vd.as_tex(verdict_values | divergence_values))
values.update(paper_text.cell_stat_macros(vs_none, spreads, equivalence_margins, kinds))
values.update({paper_text.macro_name("machine", k): str(v).replace("_", "\\_")
               for k, v in machine.items()})
atomic_write_text(paths.MACROS, paper_text.macros_tex(values))
report_sections.insert(0, ("Machine", "\n".join(f"- {k}: {v}" for k, v in machine.items())))
atomic_write_text(paths.REPORT, paper_text.markdown_report(report_sections,
                                                                       report_figures))
print(f"{len(values)} macros, {len(report_sections)} sections, {len(report_figures)} figures")
display(Markdown(paper_text.findings_markdown(values)))
