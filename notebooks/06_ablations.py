# %% [markdown]
# # 6. Ablations: student shape, the hidden term's normalisation and weight, the transfer set
# The distillation runs again with one setting changed (`ablations` in
# `params.yaml`). `kind` picks the ablation:
# * `shape` (stage `ablate`): student depths against the same teacher, and
#   students narrower than the teacher, whose hidden states reach the teacher's
#   width through one trained linear map per student layer;
# * `objective` (stage `ablate_objective`): every strategy under each hidden
#   distance (`ablations.objective.distances`);
# * `a_hid` (stage `ablate_a_hid`): the weight of the hidden term
#   (`ablations.a_hid.values`);
# * `transfer` (stage `ablate_transfer`): the students distil on the first n
#   training examples (`ablations.transfer.sizes`) instead of the whole
#   training split, from each initialisation, for the main runs' number of
#   optimiser steps (variants `size<n>_<init>`).
#
# Every other setting is `distill`'s. A variant equal to the task's main runs
# is not trained again, and `none` (no hidden term) is trained once per
# objective ablation. The aggregate stage draws the tables and figures.

# %% tags=["parameters"]
params_file = "params.yaml"
task_name = "mnist"
kind = "shape"

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import load_params
from layerkd.report.findings import ablation_findings
from layerkd.stages.ablation import ablation_variants, run_ablations
from layerkd.tasks import load_task

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
params = load_params(params_file).for_task(task_name)
task = load_task(task_name, params)
print({name: p.distill.strategies for name, p in ablation_variants(params, kind, task).items()})

# %%
rows = run_ablations(task, params, kind)

# %%
score = f"test_{task.metric}"
df = pd.DataFrame(rows)
if rows:
    display(df.pivot_table(index="variant", columns="strategy", values=score, aggfunc="mean",
                           sort=False).round(2))

# %% [markdown]
# Each strategy's mean test score over seeds across the variants of this ablation
# (the aggregate stage adds the main runs, the spread and the tests).

# %%
if rows:
    means = df.pivot_table(index="variant", columns="strategy", values=score, aggfunc="mean",
                           sort=False)
    ax = means.plot(marker="o", figsize=(5.5, 3.2), title=f"{task_name}: {kind} ablation")
    ax.set(xlabel="variant", ylabel=score.replace("_", " "))
    ax.set_xticks(range(len(means)), means.index, rotation=30, ha="right")
    plt.tight_layout()

# %% [markdown]
# What this stage found:

# %%
display(Markdown(ablation_findings(df, score)))
