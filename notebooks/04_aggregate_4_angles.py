# %% [markdown]
# # 4.4 Angles: teacher layers seen from the student
# The last notebook of the aggregate stage: the figures and the table of the
# angle stage's reports (`05_angles`). Per task, every cosine of the angle at
# the student between two teacher blocks (histograms), its mean per student
# block and teacher pair (heatmaps), and the distances between layers. The
# paper shows MNIST's and `numbers_ro`'s in its body and the rest in its
# appendix; here the histograms of every task are shown, the heatmaps and
# distances of each task are written to `paper/figures/` and shown for MNIST.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import load_params
from layerkd.report import angle_figures as fa
from layerkd.report import paper_text, publish

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
params = load_params(params_file)
reports = publish.angle_reports(params)
SHOWN = {params.tasks[0]}  # the first task's heatmaps and distances shown inline
part = publish.Part("angles")

# %% [markdown]
# ## The share of acute angles, per task, stack, initialisation and run

# %%
angle_table = fa.angle_table(reports)
part.table("angles", angle_table.set_index("task"),
           "Angles at the student between two teacher blocks: share of acute angles (\\%), "
           "the same share at the null baseline (random directions with the norms of the "
           "student's states) and mean cosine over student blocks, teacher pairs and test "
           "tokens, at initialisation and after training (mean over the measured seeds).")
part.values.update(paper_text.angle_macros(angle_table))

# %% [markdown]
# ## Every cosine, per task

# %%
for task_name, rep in reports.items():
    path = paths.FIGURES / f"angles_hist_{task_name}.png"
    fa.angle_histograms(rep, path)
    part.figure(path, f"{task_name}: every cosine of the angle at the student between two "
                "teacher blocks (dashed: before training; dotted: the null baseline); the "
                "legend gives each share of acute angles.")

# %% [markdown]
# ## Per student block and teacher pair, and the distances between layers

# %%
for task_name, rep in reports.items():
    for stack in fa.stacks(rep):
        for kind, draw in (("heatmap", fa.angle_heatmaps), ("distances", fa.distance_figure)):
            path = paths.FIGURES / f"angles_{kind}_{task_name}_{stack}.png"
            draw(rep, stack, path)
            part.figure(path, f"{task_name} {stack}: " + (
                "mean cosine per student block and teacher pair." if kind == "heatmap" else
                "mean distances between teacher layers and from student to teacher layers."),
                show=task_name in SHOWN)

# %% [markdown]
# ## What the angles show

# %%
values = part.save()
display(Markdown(fa.angle_findings(reports)))
print(f"{len(part.values)} macros; paper/macros.tex now holds {len(values)}")
