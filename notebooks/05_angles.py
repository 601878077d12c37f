# %% [markdown]
# # 5. Angles: teacher layers seen from the student
# The paper's explanation of why the layer-selection strategy matters little:
# seen from a student's hidden state, the teacher's layers mostly lie in the
# same direction, so the angle at the student between two teacher layers is
# acute and pulling the student towards one teacher layer also pulls it
# towards the others. Measured here on the test split (padding masked), for
# every initialisation, strategy and `angles.seeds`, at initialisation and
# after training (`layerkd.analysis`). The aggregate stage draws the figures.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import pandas as pd

from layerkd.analysis import angle_report
from layerkd.config import load_params
from layerkd.io import atomic_write_json
from layerkd.tasks import load_task

all_params = load_params(params_file)
reports = {}
for task_name in all_params.tasks:
    params = all_params.for_task(task_name)
    reports[task_name] = angle_report(load_task(task_name, params), params)
    atomic_write_json(f"results/angles/{task_name}.json", reports[task_name])

# %% [markdown]
# Fraction of acute angles and mean cosine per run and stack ("initial" = the
# student before training; it does not depend on the strategy).

# %%
rows = [{"task": t, "init": r["init"], "strategy": r["strategy"], "seed": r["seed"],
         "stack": stack, "acute_fraction": v["acute_fraction"], "mean_cos": v["mean_cos"]}
        for t, report in reports.items()
        for r in report["runs"] for stack, v in r.items() if stack in report["stacks"]]
pd.DataFrame(rows).groupby(["task", "stack", "init", "strategy"], sort=False)[
    ["acute_fraction", "mean_cos"]].mean().round(3)
