# %% [markdown]
# # 2. Teacher
# The teacher plays BERT-base: 12 blocks, trained on the task's whole training
# split with augmentation, so it knows more than any student can learn from the
# small transfer set alone (the analogue of pre-training on far more data).

# %% tags=["parameters"]
params_file = "params.yaml"
task_name = "mnist"

# %%
import json
from pathlib import Path

import pandas as pd

from layerkd.config import load_params
from layerkd.experiment import train_teacher
from layerkd.tasks import load_task

params = load_params(params_file)
task = load_task(task_name, params)

# %%
metrics = train_teacher(task, params, Path(f"results/{task_name}/teacher"),
                        Path(f"models/{task_name}/teacher.pt"))
print(json.dumps(metrics, indent=2))

# %% [markdown]
# Training curve (dvclive log).

# %%
log = pd.read_csv(f"results/{task_name}/teacher/live/plots/metrics/val/acc.tsv", sep="\t")
ax = log.plot(x="step", y="acc", legend=False, title=f"teacher on {task_name}")
ax.set(xlabel="epoch", ylabel="validation accuracy (%)");
