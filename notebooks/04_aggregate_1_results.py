# %% [markdown]
# # 4.1 Results: the paper's tables of every run
# The first of the four notebooks of the aggregate stage (then
# `04_aggregate_2_statistics`, `04_aggregate_3_ablations`, `04_aggregate_4_angles`).
# It collects every finished main run and writes the paper's results tables
# (`paper/tables/`, Markdown and LaTeX, mean ± std over seeds), their figures
# (`paper/figures/`, every seed a point) and the numbers the text quotes
# (`paper/macros.tex`, through `layerkd.report.publish`).

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import pandas as pd
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import CLASSIFICATION_TASKS, GENERATION_TASKS, LLM_TASK, load_params
from layerkd.io import atomic_write_json
from layerkd.report import ablations as ar
from layerkd.report import collect, figures, paper_text, publish, stats, tables
from layerkd.report import llm as rl
from layerkd.report import objective as obr

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
params = load_params(params_file)
teachers, students = publish.runs(params)
llm_teacher, llm_students = publish.llm(params)
summary = collect.summarise(students)
kinds = {t: "classification" if t in CLASSIFICATION_TASKS else "generation" for t in params.tasks}
part = publish.Part("results")

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
        part.table(name, builders[name](teachers, students, task_names),
                   captions[name] + ", mean $\\pm$ std over seeds, per layer-selection "
                   "strategy and student initialisation. "
                   + obr.objective_caption(students, task_names))

# %% [markdown]
# ## Table 3 (the decoder-only task, `facts`: multiple choice and exact match)
# The paper's Qwen3 setting at CPU size (stages `llm_teacher`, `llm_distill`):
# layer-reduced, weight-copied students of a small Qwen3 teacher.

# %%
low, high = rl.hidden_share_range(llm_students)
part.table("table3_llm", rl.table3(llm_teacher, llm_students),
           f"Decoder-only ({LLM_TASK}, Qwen3 {params.llm.model.teacher_depth} blocks into "
           f"{params.llm.distill.student_depth}): test multiple-choice accuracy (log-likelihood "
           "of each ending, as HellaSwag) and exact match of the greedy answer (as "
           "CommonsenseQA), \\%, mean $\\pm$ std over seeds. Objective: cross-entropy + KL + "
           f"{params.llm.distill.a_hid:g} x squared distance of unit-normalised block outputs "
           f"(the official LLM objective); the hidden term is {low:.0f} to {high:.0f} \\% of "
           "the last epoch's loss.")
path = paths.FIGURES / f"strategies_{LLM_TASK}.png"
rl.llm_figure(llm_teacher, llm_students, path)
part.figure(path, f"{LLM_TASK}: every seed's test scores per strategy; dashed: the teacher.")

# %% [markdown]
# Validation scores of the same runs (the best validated epoch, which chose each
# checkpoint), to read beside the test scores above.

# %%
part.table("validation", tables.results_table(teachers, students, params.tasks, "val_score"),
           "Validation score of the selected checkpoint (accuracy \\% or BLEU), mean "
           "$\\pm$ std over seeds: the score that chose each run's best epoch, beside the "
           "test scores of Tables~\\ref{tab:table1_classification} and "
           "\\ref{tab:table2_generation}.")

# %% [markdown]
# ## The hidden term's share of the loss
# How much of the training loss the weighted hidden term `a_hid * H` is, in the
# first and the last epoch: a matching strategy can only matter if this share
# is not negligible.

# %%
part.table("hidden_share", obr.hidden_share_table(students, params.tasks),
           obr.hidden_share_caption(students, params.tasks))

# %% [markdown]
# ## The shape of the result, side by side with the paper
# Gain of matching over `none`, spread between matching strategies and their
# ranking: the paper's numbers (`reference/official_results.csv`) and ours.

# %%
comparison = tables.comparison_table(
    pd.concat([summary, rl.comparison_rows(llm_students)], ignore_index=True),
    paths.PAPER_RESULTS)
part.table("comparison", comparison.set_index("source"),
           "The paper's result shape and ours: gain over no matching and spread between "
           "strategies (points of the task's metric). Ours: "
           + obr.objective_caption(students, params.tasks)
           + f" {LLM_TASK} (MC: multiple choice, EM: exact match): the official LLM objective.")

# %% [markdown]
# ## Figures: results per strategy, training curves, the strategies themselves

# %%
for task_name in params.tasks:
    path = paths.FIGURES / f"strategies_{task_name}.png"
    figures.strategy_figure(teachers, students, task_name, path)
    part.figure(path, f"{task_name}: test score per strategy and initialisation; every seed "
                "a point, a seed's runs joined by a grey line (paired), the median a black "
                "bar, the teacher dashed.")
    if task_name in GENERATION_TASKS:
        path = paths.FIGURES / f"strategies_em_{task_name}.png"
        figures.strategy_figure(teachers, students, task_name, path, y="test_exact_match")
        part.figure(path, f"{task_name}: test exact match (% of sequences) per strategy and "
                    "initialisation (as above).")
    path = paths.FIGURES / f"curves_{task_name}.png"
    figures.curve_figure(paths.RESULTS, task_name,
                         float(teachers.set_index("task").loc[task_name, "score"]), path,
                         "val/bleu" if task_name in GENERATION_TASKS else "val/acc")
    part.figure(path, f"{task_name}: validation score per validated epoch, per strategy the "
                "mean over seeds (line) and the lowest to highest seed (band); dashed: the "
                "teacher's test score.")
path = paths.FIGURES / "strategies.png"
figures.strategy_diagram(params.distill.student_depth, params.model.teacher_depth, path)
part.figure(path, "The layer pairs of each strategy, drawn from match_layers' own output.")

# %% [markdown]
# ## Initialisation: the gain from matching under random init and weight copy

# %%
path = paths.FIGURES / "init_gain.png"
figures.init_gain_figure(students, path)
part.figure(path, "Gain of each matching strategy over no matching, paired by seed, under "
            "random initialisation (circles) and weight copy (triangles): every seed a "
            "point, the median a black bar.")

# %% [markdown]
# ## Calibration
# The teacher's lead over the `none` student (random init) is what leaves room
# for distillation to help.

# %%
min_lead = 5.0  # the calibration rule: teacher >= 5 points above the random-init none student
calibration = tables.calibration_table(teachers, summary, min_lead, params.tasks)
part.table("calibration", calibration.round(1),
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
    part.table("convergence", convergence, obr.convergence_caption())
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
# ## Reproducibility: the runs behind every table
# One column per task (the table fits the page at its type size).

# %%
reproducibility = paper_text.reproducibility_table(params, teachers, students)
part.table("reproducibility", reproducibility.T.rename_axis("per task"),
           "Runs behind every table: splits, sizes, seeds, runs per cell, epochs, wall "
           "time and parameter count per run (from the run metadata), one column per task.")

# %% [markdown]
# ## The numbers the text quotes
# Settings, per-task overview, exact match, convergence and the decoder-only
# task; the statistics notebook adds each cell's means and tests.

# %%
v = part.values
v.update(paper_text.param_macros(params))
v.update(ar.param_macros(params))
v.update(paper_text.overview_macros(summary, calibration, kinds, min_lead))
v.update(paper_text.data_macros(params.tasks))
generated = students[students["task"].isin(GENERATION_TASKS)]
if len(generated) and "test_exact_match" in generated:
    v.update(paper_text.exact_match_macros(teachers, collect.summarise(
        generated, "test_exact_match")))
v.update(obr.convergence_macros(convergence))
v.update(rl.llm_macros(llm_teacher, llm_students))
values = part.save()
print(f"{len(part.values)} macros, {len(part.sections)} tables, {len(part.figures)} figures")
display(Markdown(paper_text.findings_markdown(values)))
