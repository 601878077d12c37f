# %% [markdown]
# # 4. Results: tables and figures for the paper
# Collects every finished run and writes `paper/tables/` (Markdown and LaTeX,
# mean ± std over seeds), `paper/figures/` (per-seed points and 95 %
# Student-t intervals) and the seed-paired statistics.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
from pathlib import Path

from IPython.display import Markdown, display

from layerkd import aggregate as agg
from layerkd import figures, stats
from layerkd.config import CLASSIFICATION_TASKS, GENERATION_TASKS, load_params
from layerkd.io import atomic_write_json, atomic_write_text

params = load_params(params_file)
teachers, students = agg.collect("results")
# Only the runs the current parameters define (stale folders of removed ones are ignored).
students = students[students["task"].isin(params.tasks)
                    & students["init"].isin(params.distill.inits)
                    & students["strategy"].isin(params.distill.strategies)
                    & students["seed"].isin(params.distill.seeds)]
teachers = teachers[teachers["task"].isin(params.tasks)]
tables, figs = Path("paper/tables"), Path("paper/figures")
summary = agg.summarise(students)


def write_table(name, table, caption):
    atomic_write_text(tables / f"{name}.md", agg.to_markdown(table))
    atomic_write_text(tables / f"{name}.tex", agg.to_latex(table, caption, f"tab:{name}"))
    display(Markdown(f"**{name}**\n\n" + agg.to_markdown(table)))


# %% [markdown]
# ## Table 1 (classification, test accuracy %) and Table 2 (generation, test BLEU)

# %%
groups = {"table1_classification": [t for t in params.tasks if t in CLASSIFICATION_TASKS],
          "table2_generation": [t for t in params.tasks if t in GENERATION_TASKS]}
captions = {"table1_classification": "Classification: test accuracy (\\%)",
            "table2_generation": "Generation: test corpus BLEU (sacrebleu)"}
for name, task_names in groups.items():
    if task_names:
        write_table(name, agg.results_table(teachers, students, task_names),
                    captions[name] + ", mean $\\pm$ std over seeds, per layer-selection "
                    "strategy and student initialisation.")

# %% [markdown]
# ## The shape of the result, side by side with the paper
# Gain of matching over `none`, spread between matching strategies and their
# ranking: the paper's numbers (`reference/official_results.csv`) and ours.

# %%
comparison = agg.comparison_table(summary, "reference/official_results.csv")
write_table("comparison", comparison.set_index("source"),
            "The paper's result shape and ours: gain over no matching and spread between "
            "strategies (points of the task's metric).")

# %% [markdown]
# ## Statistics (seed-paired, `scipy.stats`)
# Paired t-test of each strategy against `none` (`ttest_rel`), and two one-sided
# tests (TOST) of equivalence between matching strategies within ±1 point.

# %%
margin = 1.0
vs_none = stats.paired_vs_none(students, "score").round(3)
equiv = stats.equivalence(students, margin, "score").round(3)
write_table("vs_none", vs_none.set_index("task"),
            "Gain of each strategy over no matching, paired by seed: mean gain, paired "
            "t-test (scipy.stats.ttest\\_rel) statistic and p-value.")
write_table("equivalence", equiv.set_index("task"),
            f"Equivalence of matching strategies within $\\pm${margin:g} point: TOST p-value "
            "(two one-sided scipy.stats.ttest\\_1samp on seed-paired differences).")

# %% [markdown]
# ## Figures

# %%
for task_name in params.tasks:
    agg.strategy_figure(teachers, students, task_name, figs / f"strategies_{task_name}.png")
    figures.training_curves("results", task_name, figs / f"curves_{task_name}.png",
                            "val/bleu" if task_name in GENERATION_TASKS else "val/acc")
d = params.distill
figures.strategy_diagram(d.student_depth, params.model.teacher_depth, figs / "strategies.png")

# %% [markdown]
# ## Calibration
# The teacher's lead over the `none` student (random init) is what leaves room
# for distillation to help.

# %%
calibration = {}
for task_name in params.tasks:
    t = float(teachers.set_index("task").loc[task_name, "score"])
    none = summary.query("task == @task_name and init == 'random' and strategy == 'none'")
    if len(none):
        calibration[task_name] = {"teacher": t, "none_random": float(none["mean"].iloc[0]),
                                  "teacher_lead": t - float(none["mean"].iloc[0])}
atomic_write_json(Path("metrics/summary.json"), {
    "calibration": calibration,
    "students": {f"{r.task}/{r.init}/{r.strategy}": {"mean": r.mean, "std": r.std, "n": r.n}
                 for r in summary.itertuples()}})
calibration
