# %% [markdown]
# # 3. Distillation under every layer-selection strategy
# One execution of this notebook trains every strategy x seed for one task and
# one student initialisation. The frozen teacher's logits and hidden states on
# the transfer set are computed once here and reused by every student.

# %% tags=["parameters"]
params_file = "params.yaml"
task_name = "mnist"
init = "random"

# %%
import json
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from layerkd.config import load_params
from layerkd.experiment import TeacherCache, distill, load_teacher
from layerkd.io import atomic_write_json
from layerkd.strategies import describe, match_layers
from layerkd.tasks import load_task

params = load_params(params_file)
if init not in params.distill.inits:
    raise ValueError(f"init={init!r} is not in distill.inits={params.distill.inits}")
d = params.distill
task = load_task(task_name, params)
teacher = load_teacher(task, params, Path(f"models/{task_name}/teacher.pt"))
cache = TeacherCache.compute(teacher, task.splits["train"].subset(d.transfer_size))
results_dir, models_dir = Path(f"results/{task_name}/{init}"), Path(f"models/{task_name}/{init}")

# %% [markdown]
# The layer pairs each strategy matches (seed 0; `in_order_random` shown for epoch 0).

# %%
for s in d.strategies:
    pairs = match_layers(s, d.student_depth, params.model.teacher_depth,
                         target=d.all_to_one_target)
    print(f"{s:>16}: {describe(pairs)}")

# %%
rows = []
runs = [(s, seed) for s in d.strategies for seed in d.seeds]
for strategy, seed in tqdm(runs, desc=f"{task_name}/{init}", mininterval=10):
    rows.append(distill(task, params, teacher, cache, init, strategy, seed,
                        results_dir / strategy / f"seed{seed}",
                        models_dir / f"{strategy}_seed{seed}.pt", progress=False))

# %%
df = pd.DataFrame(rows)
summary = df.groupby("strategy", sort=False)["test_acc"].agg(["mean", "std", "count"])
print(summary.round(2).to_string())
metrics = {s: {"test_acc_mean": r["mean"], "test_acc_std": r["std"]} for s, r in summary.iterrows()}
atomic_write_json(Path(f"metrics/{task_name}_{init}.json"), metrics)
