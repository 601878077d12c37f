# %% [markdown]
# # Hub task report: our runs beside the paper's
# Test accuracy (GLUE, HellaSwag), BLEU (DART, WMT16) or exact match (CoQA) of the fine-tuned checkpoint
# (teacher) and of every student (mean ± std over seeds) under each
# initialisation and strategy, next to the paper's numbers for the same task
# (`reference/official_results.csv`: its replicated teacher and its students).
# Written to `paper/hub/<task>.md`.

# %% tags=["parameters"]
params_file = "params.yaml"
task_name = "mnli"

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import load_params
from layerkd.io import atomic_write_text
from layerkd.hub.report import KINDS, hub_table, table_markdown
from layerkd.strategies import LABELS

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/hub/
spec = load_params(params_file).hub.datasets[task_name]
metric = KINDS[spec.kind][1]
table = hub_table(task_name, spec.paper_key, kind=spec.kind)
text = table_markdown(table, task_name, spec.paper_key, spec.kind)
atomic_write_text(paths.HUB_REPORT / f"{task_name}.md", text)
display(Markdown(text))

# %% [markdown]
# Each student's gain over `none` of its initialisation, ours and the paper's.

# %%
students = table[table.model == "student"]
fig, axes = plt.subplots(1, students.init.nunique(), figsize=(4.5 * students.init.nunique(), 3),
                         squeeze=False, sharey=True)
for ax, (init, part) in zip(axes[0], students.groupby("init", sort=False)):
    base = part.set_index("strategy")
    gains = base.drop(index="none", errors="ignore")
    x = range(len(gains))
    if "none" in base.index:
        ax.bar([i - 0.2 for i in x], gains["mean"] - base.loc["none", "mean"], 0.4, label="ours")
        ax.bar([i + 0.2 for i in x], gains["paper"] - base.loc["none", "paper"], 0.4,
               label="paper")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(list(x), [LABELS[s] for s in gains.index], rotation=30, ha="right")
    ax.set_title(f"{task_name}: {init}")
axes[0][0].set_ylabel(f"gain over none ({metric} points)")
axes[0][0].legend(fontsize=8)
fig.tight_layout()
