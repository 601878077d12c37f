# %% [markdown]
# # 2. Teacher
# The teacher plays BERT-base (classification: 12 blocks) or BART-base / T5
# (generation: an encoder-decoder, depth from `overrides`). Where the task's
# generator gives a pre-training pool (`data.<task>.n_pool`: mnist1d, listops,
# scan, numbers_ro) it first trains `teacher.pretrain_epochs` epochs on that
# pool, then fine-tunes on the training split, the set the students later distil
# on: its lead over them comes from the pool, as the paper's teachers owe theirs
# to pre-training. MNIST and digits have no larger pool: their teachers train on
# the training split with augmentation (MNIST).

# %% tags=["parameters"]
params_file = "params.yaml"
task_name = "mnist"

# %%
import json

from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import load_params
from layerkd.paths import teacher_paths
from layerkd.report.curves import read_curve
from layerkd.stages.teacher import run_teacher
from layerkd.tasks import load_task

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
params = load_params(params_file).for_task(task_name)  # validated, per-task overrides applied
task = load_task(task_name, params)

# %%
metrics = run_teacher(task, params)
print(json.dumps(metrics, indent=2))

# %% [markdown]
# Training curve (dvclive log): validation accuracy, or BLEU for generation tasks.

# %%
folder, key = teacher_paths(task_name)[0], f"val/{task.metric}"
curve = read_curve(folder / "live", key)
if params.teacher.pretrain_epochs:  # pre-training first, then fine-tuning, on one axis
    pre = read_curve(folder / "pretrain", key)
    curve = curve.assign(step=curve["step"] + params.teacher.pretrain_epochs)
    ax = pre.plot(x="step", y="value", label="pre-training on the pool")
    curve.plot(x="step", y="value", label="fine-tuning on the training split", ax=ax)
    ax.set_title(f"teacher on {task_name}")
else:
    ax = curve.plot(x="step", y="value", legend=False, title=f"teacher on {task_name}")
ax.set(xlabel="epoch", ylabel=f"validation {task.metric}");

# %%
display(Markdown(
    f"The teacher reaches {metrics[f'test_{task.metric}']:.1f} test {task.metric} "
    f"({metrics[f'val_{task.metric}']:.1f} on validation, "
    + ("the pre-trained checkpoint: no fine-tuning epoch beat it" if metrics["kept_pretrained"]
       else f"the checkpoint of fine-tuning epoch {metrics['best_epoch'] + 1} of "
       f"{params.teacher.epochs}")
    + f"): {metrics['n_params']:,} "
    f"parameters trained on {metrics['n_train']:,} examples"
    + (f" after {metrics['pretrain_epochs']} epochs on a pool of {metrics['n_pool']:,} "
       f"(validation {metrics[f'pretrain_val_{task.metric}']:.1f} after pre-training)"
       if metrics["n_pool"] else "")
    + f", in {metrics['wall_s']:.0f} s."))
