# %% [markdown]
# # 5. Angles: teacher layers seen from the student
# The paper's explanation of why the layer-selection strategy matters little:
# seen from a student's hidden state, the teacher's layers mostly lie in the
# same direction, so the angle at the student between two teacher layers is
# acute and pulling the student towards one teacher layer also pulls it
# towards the others. Measured here on the test split (padding masked), for
# every initialisation, strategy and `angles.seeds`, at initialisation and
# after training (`layerkd.stages.angles`). The aggregate stage draws the figures.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
from IPython.display import Image, Markdown, display

from layerkd import paths
from layerkd.config import LLM_TASK, load_params
from layerkd.io import atomic_write_json
from layerkd.lm.angles import angle_report as llm_angle_report
from layerkd.lm.task import Facts
from layerkd.lm.teacher import load_teacher
from layerkd.report import angle_figures as fa
from layerkd.stages.angles import angle_report
from layerkd.tasks import load_task

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
all_params = load_params(params_file)
reports = {}
for task_name in all_params.tasks:
    params = all_params.for_task(task_name)
    reports[task_name] = angle_report(load_task(task_name, params), params)
    atomic_write_json(paths.angles_file(task_name), reports[task_name])
# the decoder-only task (Qwen3): the hidden states `transformers` returns
facts = Facts.load()
reports[LLM_TASK] = llm_angle_report(all_params.llm, all_params.angles, facts,
                                     load_teacher(all_params.llm, facts))
atomic_write_json(paths.angles_file(LLM_TASK), reports[LLM_TASK])

# %% [markdown]
# Share of acute angles (%) and mean cosine per run and stack, mean over the
# measured seeds ("initial" = the student before training; it does not depend on
# the strategy), beside the null baseline: the same angles at random directions
# of the student's norms.

# %%
display(fa.angle_table(reports))
display(Markdown(fa.angle_findings(reports)))

# %% [markdown]
# Every (student block, teacher pair, token) cosine, per task: the distribution
# whose acute share the paper's explanation is about.

# %%
for task_name, report in reports.items():
    path = paths.ANGLES / f"hist_{task_name}.png"
    fa.angle_histograms(report, path)
    display(Image(filename=path, width=760))
