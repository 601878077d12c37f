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
#
# A rerun resumes: runs already finished with the same settings are kept, not
# trained again. Everything below the training cell is read from the run folders
# (`results/<task>/students/<init>/<strategy>/seed<k>/`: the record and the dvclive
# curves), so a resumed execution shows every run as fully as the one that trained it.

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
from layerkd.report.runs import (interpretation, plot_curves, record_times, run_table, styled,
                                 summary)
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
# each run record's time before training: afterwards an unchanged one was kept
before = record_times(task_name, d.inits, d.strategies, d.seeds)
rows = [row for init in d.inits for row in run_students(task, params, init)]
stale = remove_stale(task, params)  # runs of earlier settings (docs/troubleshooting.md)
if stale:
    print(f"removed {len(stale)} outputs of runs the parameters no longer ask for")

# %%
score = f"test_{task.metric}"
df = pd.DataFrame(rows)
cells = df.groupby(["init", "strategy"], sort=False)[score].agg(["mean", "std"])
atomic_write_json(metrics_file(task_name), {
    f"{init}/{strategy}": {f"{score}_mean": r["mean"], f"{score}_std": r["std"]}
    for (init, strategy), r in cells.iterrows()})
runs = run_table(task_name, d.inits, d.strategies, d.seeds, task.metric, before)
display(styled(summary(runs, task.metric)))

# %% [markdown]
# Every run: its test and validation score, the epoch whose weights it kept (best
# on validation), the hidden term's share of its last epoch's loss, and whether
# this execution trained it or kept it from an earlier one.

# %%
display(styled(runs))

# %% [markdown]
# Every run's curves from its dvclive log: the training loss (the weighted sum of
# cross-entropy, KL and hidden terms; log scale) and the validation score, one
# line per seed, one column per strategy. `none` has no hidden term, so its loss
# sits lower; the validation rows share their axes.

# %%
teacher = json.loads((teacher_paths(task_name)[0] / "metrics.json").read_text())[score]
plot_curves(task_name, runs, task.metric, teacher);

# %% [markdown]
# Every run's test score (one point per seed; bar: mean ± std over seeds) under
# each strategy and initialisation, with the teacher's score for reference.
# The aggregate stage tests the differences with seed-paired statistics.

# %%
fig, axes = plt.subplots(1, len(d.inits), figsize=(4 * len(d.inits), 3.2), sharey=True,
                         squeeze=False)
for ax, (init, part) in zip(axes[0], df.groupby("init", sort=False)):
    groups = list(part.groupby("strategy", sort=False))
    for x, (strategy, seeds) in enumerate(groups):
        ax.scatter([x] * len(seeds), seeds[score], s=14, color="C0", zorder=3)
        ax.errorbar(x, seeds[score].mean(), yerr=seeds[score].std(), fmt="_", color="k",
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
display(Markdown(interpretation(runs, task.metric, teacher, task_name)))
