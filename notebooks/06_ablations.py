# %% [markdown]
# # 6. Ablations: student depth and width
# The distillation runs again with one setting changed (`ablations` in
# `params.yaml`): student depths against the same teacher, and students
# narrower than the teacher, whose hidden states reach the teacher's width
# through one trained linear map per student layer. Every other setting is
# `distill`'s. The aggregate stage draws the figures.

# %% tags=["parameters"]
params_file = "params.yaml"
task_name = "mnist"

# %%
import pandas as pd

from layerkd.ablation import run_ablations, variants
from layerkd.config import load_params
from layerkd.tasks import load_task

params = load_params(params_file).for_task(task_name)
task = load_task(task_name, params)
print("variants:", list(variants(params)))

# %%
rows = run_ablations(task, params)

# %%
score = "test_bleu" if task.kind == "generate" else "test_acc"
df = pd.DataFrame(rows)
df.pivot_table(index="variant", columns="strategy", values=score, aggfunc="mean",
               sort=False).round(2)
