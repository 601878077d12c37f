# %% [markdown]
# # 8. The decoder-only students under every layer-selection strategy
# Students of `llm.distill.student_depth` blocks start from the teacher's blocks
# of the official copy map (llm/model_utils.py: 36 -> 9 blocks 0, 4, 9, ..., 35;
# the same evenly spaced pattern at other depths), with its embedding, final
# norm and head, and distil on the fine-tuning questions with the official LLM
# objective (llm/sft_trainer.py): next-token cross-entropy + KL to the teacher +
# `a_hid` x the squared distance of unit-normalised hidden states, blocks only.
# Each strategy pairs the student's blocks with the teacher's (all-to-one: the
# middle teacher block, L_T // 2). A run finished under the same settings is
# kept when the stage runs again.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import LLM_SCORES, LLM_TASK, load_params
from layerkd.io import atomic_write_json
from layerkd.lm.qwen import copy_map
from layerkd.lm.students import pairs, run_students
from layerkd.lm.task import Facts
from layerkd.lm.teacher import load_teacher
from layerkd.stages.students import remove_stale_runs
from layerkd.strategies import LABELS, describe

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
llm = load_params(params_file).llm  # validated before anything runs
d = llm.distill
facts = Facts.load()
teacher = load_teacher(llm, facts)

# %%
print(f"weight copy: student blocks <- teacher blocks {copy_map(llm.model.teacher_depth, d.student_depth)}")
for s in d.strategies:
    print(f"{s:>16}: {describe(pairs(llm, s, seed=0))}")

# %%
rows = run_students(llm, facts, teacher)
stale = remove_stale_runs(LLM_TASK, d.inits, d.strategies, d.seeds)  # earlier settings' runs
if stale:
    print(f"removed {len(stale)} outputs of runs the parameters no longer ask for")
students = pd.DataFrame(rows)
scores = {f"test_{k}": name for k, name in LLM_SCORES.items()}
summary = students.groupby(["init", "strategy"], sort=False)[list(scores)].agg(["mean", "std"])
print(summary.round(2).to_string())
atomic_write_json(paths.metrics_file(LLM_TASK), {
    f"{init}/{strategy}": {f"{m}_{k}": r[(m, k)] for m in scores for k in ("mean", "std")}
    for (init, strategy), r in summary.iterrows()})

# %% [markdown]
# Every run's two test scores (one point per seed; bar: mean ± std over seeds),
# with the teacher's as a dashed line. The aggregate stage writes Table 3 from
# the same runs.

# %%
teacher_metrics = json.loads((paths.teacher_paths(LLM_TASK)[0] / "metrics.json").read_text())
fig, axes = plt.subplots(len(d.inits), 2, figsize=(9, 3.2 * len(d.inits)), squeeze=False)
for row, (init, part) in zip(axes, students.groupby("init", sort=False)):
    groups = list(part.groupby("strategy", sort=False))
    for ax, (score, name) in zip(row, scores.items()):
        for x, (strategy, runs) in enumerate(groups):
            ax.scatter([x] * len(runs), runs[score], s=14, color="C0", zorder=3)
            ax.errorbar(x, runs[score].mean(), yerr=runs[score].std(), fmt="_", color="k",
                        capsize=5, markersize=14)
        ax.axhline(teacher_metrics[score], color="C3", lw=1, ls="--", label="teacher")
        ax.set_xticks(range(len(groups)), [LABELS[s] for s, _ in groups], rotation=30,
                      ha="right")
        ax.set(title=f"{LLM_TASK}, {init}", ylabel=f"test {name} (%)")
axes[0, 0].legend()
fig.tight_layout()

# %%
means = students.groupby(["init", "strategy"])[list(scores)].mean()
shares = 100 * students.loc[students["strategy"] != "none", "hid_share_last"]
lines = []
for init, part in means.groupby(level="init"):
    part = part.droplevel("init")
    matched = part.drop(index="none", errors="ignore")
    for m, name in scores.items():
        if "none" in part.index and not matched.empty:
            lines.append(f"* {init}, {name}: none {part.loc['none', m]:.1f}; matching "
                         f"strategies {matched[m].min():.1f} to {matched[m].max():.1f} "
                         f"(spread {matched[m].max() - matched[m].min():.1f}); teacher "
                         f"{teacher_metrics[m]:.1f}.")
if len(shares):
    lines.append(f"\nThe weighted hidden term is {shares.min():.0f} to {shares.max():.0f} % "
                 "of the last epoch's training loss of the matching runs.")
display(Markdown("\n".join(lines)))
