# %% [markdown]
# # 2. Teacher
# The teacher plays BERT-base (classification: 12 blocks) or BART-base
# (generation: an encoder-decoder, depth from `overrides`): trained on the
# task's whole training split, so it knows more than any student can learn from
# the small transfer set alone (the analogue of pre-training on far more data).

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
curve = read_curve(teacher_paths(task_name)[0] / "live", f"val/{task.metric}")
ax = curve.plot(x="step", y="value", legend=False, title=f"teacher on {task_name}")
ax.set(xlabel="epoch", ylabel=f"validation {task.metric}");

# %%
display(Markdown(
    f"The teacher reaches {metrics[f'test_{task.metric}']:.1f} test {task.metric} "
    f"({metrics[f'val_{task.metric}']:.1f} on validation, the checkpoint of epoch "
    f"{metrics['best_epoch'] + 1} of {params.teacher.epochs}): {metrics['n_params']:,} "
    f"parameters trained on {metrics['n_train']:,} examples in {metrics['wall_s']:.0f} s."))
