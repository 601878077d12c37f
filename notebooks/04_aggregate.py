# %% [markdown]
# # 4. Results: tables and figures for the paper
# Collects every finished run and writes `paper/tables/` (Markdown and LaTeX,
# mean ± std over seeds) and `paper/figures/` (per-seed points and 95 %
# Student-t intervals).

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
from pathlib import Path

from IPython.display import Markdown, display

from layerkd import aggregate as agg
from layerkd.config import load_params
from layerkd.io import atomic_write_json, atomic_write_text

params = load_params(params_file)
teachers, students = agg.collect("results")
# Only the runs the current parameters define (stale folders of removed ones are ignored).
students = students[students["task"].isin(params.tasks)
                    & students["init"].isin(params.distill.inits)
                    & students["strategy"].isin(params.distill.strategies)
                    & students["seed"].isin(params.distill.seeds)]
teachers = teachers[teachers["task"].isin(params.tasks)]
tables, figures = Path("paper/tables"), Path("paper/figures")

# %%
table = agg.results_table(teachers, students)
atomic_write_text(tables / "results.md", agg.to_markdown(table))
atomic_write_text(tables / "results.tex", agg.to_latex(
    table, "Test accuracy (\\%), mean $\\pm$ std over seeds, per layer-selection strategy "
    "and student initialisation.", "tab:results"))
display(Markdown(agg.to_markdown(table)))

# %%
for task_name in params.tasks:
    agg.strategy_figure(teachers, students, task_name, figures / f"strategies_{task_name}.png")

# %% [markdown]
# Calibration: the teacher's lead over the `none` student (random init) is
# what leaves room for distillation to help.

# %%
summary = agg.summarise(students)
calibration = {}
for task_name in params.tasks:
    t = float(teachers.set_index("task").loc[task_name, "test_acc"])
    none = summary.query("task == @task_name and init == 'random' and strategy == 'none'")
    calibration[task_name] = {"teacher_test_acc": t,
                              "none_random_test_acc": float(none["mean"].iloc[0]),
                              "teacher_lead": t - float(none["mean"].iloc[0])}
atomic_write_json(Path("metrics/summary.json"), {
    "calibration": calibration,
    "students": {f"{r.task}/{r.init}/{r.strategy}": {"mean": r.mean, "std": r.std, "n": r.n}
                 for r in summary.itertuples()}})
calibration
