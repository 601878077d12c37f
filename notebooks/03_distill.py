# %% [markdown]
# # 3. Distillation under every layer-selection strategy
# One execution of this notebook trains every initialisation x strategy x seed
# of one task. The frozen teacher's outputs on the transfer set are computed
# once and reused by every student. For classification tasks,
# `distill.batch_students` students train together as stacked parameters
# (`layerkd.distill.together`; 0 = all of them, 1 = one at a time); each keeps its own
# initialisation, batch order, pairs, optimizer state and best weights.
# Generation tasks train their encoder-decoder students in a pool of worker
# threads, one torch thread each (`batch_students: 1` = one at a time).

# %% tags=["parameters"]
params_file = "params.yaml"
task_name = "mnist"

# %%
import json

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import load_params
from layerkd.io import atomic_write_json
from layerkd.paths import metrics_file, teacher_paths
from layerkd.report.findings import distill_findings
from layerkd.stages.students import remove_stale, run_students
from layerkd.strategies import LABELS, describe, match_layers
from layerkd.tasks import load_task

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
params = load_params(params_file).for_task(task_name)  # validated, per-task overrides applied
d = params.distill
task = load_task(task_name, params)

# %% [markdown]
# The layer pairs each strategy matches (seed 0; `in_order_random` shown for
# epoch 0). For generation tasks the same list applies to the encoder and to
# the decoder stack.

# %%
for s in d.strategies:
    pairs = match_layers(s, d.student_depth, params.model.teacher_depth,
                         target=d.all_to_one_target)
    print(f"{s:>16}: {describe(pairs)}")

# %%
rows = [row for init in d.inits for row in run_students(task, params, init)]
stale = remove_stale(task, params)  # runs of earlier settings (the stage resumes, see README)
if stale:
    print(f"removed {len(stale)} outputs of runs the parameters no longer ask for")

# %%
score = f"test_{task.metric}"
df = pd.DataFrame(rows)
summary = df.groupby(["init", "strategy"], sort=False)[score].agg(["mean", "std", "count"])
print(summary.round(2).to_string())
atomic_write_json(metrics_file(task_name), {
    f"{init}/{strategy}": {f"{score}_mean": r["mean"], f"{score}_std": r["std"]}
    for (init, strategy), r in summary.iterrows()})

# %% [markdown]
# Every run's test score (one point per seed; bar: mean ± std over seeds) under
# each strategy and initialisation, with the teacher's score for reference.
# The aggregate stage tests the differences with seed-paired statistics.

# %%
teacher = json.loads((teacher_paths(task_name)[0] / "metrics.json").read_text())[score]
fig, axes = plt.subplots(1, len(d.inits), figsize=(4 * len(d.inits), 3.2), sharey=True,
                         squeeze=False)
for ax, (init, part) in zip(axes[0], df.groupby("init", sort=False)):
    groups = list(part.groupby("strategy", sort=False))
    for x, (strategy, runs) in enumerate(groups):
        ax.scatter([x] * len(runs), runs[score], s=14, color="C0", zorder=3)
        ax.errorbar(x, runs[score].mean(), yerr=runs[score].std(), fmt="_", color="k",
                    capsize=5, markersize=14)
    ax.axhline(teacher, color="C3", lw=1, ls="--", label="teacher")
    ax.set_xticks(range(len(groups)), [LABELS[s] for s, _ in groups], rotation=30, ha="right")
    ax.set_title(f"{task_name}: {init}")
axes[0][0].set_ylabel(score.replace("_", " "))
axes[0][0].legend(loc="lower left", fontsize=8)
fig.tight_layout()

# %% [markdown]
# What this stage found:

# %%
display(Markdown(distill_findings(df, score, teacher)))
