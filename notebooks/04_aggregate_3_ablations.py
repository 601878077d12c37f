# %% [markdown]
# # 4.3 Ablations: depth, the hidden term's normalisation and weight, the transfer set
# The third notebook of the aggregate stage. Each ablation stage trained some
# strategies again with one setting changed; the task's own setting is its main
# runs (not trained again), and `none`, which has no hidden term, is the
# baseline of every setting. Each table's caption names, per task, the
# objective its runs recorded; each section ends with what its table shows.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import load_params
from layerkd.report import ablations as ar
from layerkd.report import collect, figures, publish, tables
from layerkd.report import objective as obr
from layerkd.report import transfer as tr
from layerkd.report.paper_text import counted

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
params = load_params(params_file)
teachers, students = publish.runs(params)
a = params.ablations
part = publish.Part("ablations")

# %% [markdown]
# ## Student depth and width (stage `ablate`)
# Students of other depths against the same teacher (random init); each task's
# default depth is its main runs.

# %%
if a.tasks:  # ablations.tasks: [] turns the stage off
    ablation = collect.collect_ablations(paths.RESULTS)
    ablation = ablation[ablation["task"].isin(a.tasks) & ablation["strategy"].isin(a.strategies)
                        & ablation["seed"].isin(a.seeds)]
    depth = tables.depth_runs(ablation, students, a.init, a.tasks, a.strategies, a.seeds,
                              a.depths)
    part.table("depth", tables.depth_table(depth),
               "Student depth against the same teacher (each task's default depth: its main "
               "runs): test score, mean $\\pm$ std over seeds. "
               + obr.ablation_objective_caption(depth))
    path = paths.FIGURES / "depth.png"
    figures.depth_figure(depth, path, teachers)
    part.figure(path, "Test score against student depth, random initialisation: every seed a "
                "point, the median per strategy a line, the teacher dashed.")
    part.values.update(ar.finding_macros(
        depth.assign(label=[counted(d, "block") for d in depth["student_depth"]],
                     order=depth["student_depth"]), "Depth", ""))
    if a.widths:
        part.table("width", tables.width_table(ablation, students, a.init, params.model.width),
                   "Students narrower than the teacher, whose states reach the teacher's "
                   "width through one trained linear map per layer, beside same-width "
                   "students: test score, mean $\\pm$ std over seeds.")
else:
    part.values.update(ar.finding_macros(None, "Depth", ""))

# %% [markdown]
# ## Normalisation of the hidden term (stage `ablate_objective`)
# Every strategy under each hidden distance (`ablations.objective`).
# Spread: the best minus the worst mean of the matching strategies.

# %%
PREFIX = {"objective": "ObjectiveAblation", "a_hid": "AHidAblation"}


def setting_ablation(kind, name, what):
    runs = publish.setting_ablation(params, students, kind)
    part.values.update(ar.finding_macros(runs, PREFIX[kind], ar.SETTING_NAMES[kind][1]))
    if runs is None:
        return
    part.table(name, ar.setting_table(runs, kind), ar.caption(runs, params, kind, what))
    path = paths.FIGURES / f"{name}.png"
    ar.gain_figure(runs, kind, path)
    part.figure(path, f"{what}: gain over none (paired by seed) per matching strategy, the "
                f"mean as a line and each seed as a point; {ar.describe(params, kind)}.")


setting_ablation("objective", "objective_ablation", "Normalisation of the hidden term")

# %% [markdown]
# ## Weight of the hidden term (stage `ablate_a_hid`)
# `a_hid` swept over `ablations.a_hid.values`.

# %%
setting_ablation("a_hid", "a_hid_ablation", "Weight of the hidden term")

# %% [markdown]
# ## Size of the transfer set (stage `ablate_transfer`)
# The students distil on the first n training examples (`ablations.transfer.sizes`)
# for the main runs' number of optimiser steps; the whole training split is the
# main runs. Where does "the strategy doesn't matter (much)" hold?

# %%
transfer = publish.transfer(params, students)
if len(transfer):
    seeds = ", ".join(str(s) for s in a.transfer.seeds)
    part.table("transfer_ablation", tr.transfer_table(transfer),
               "Size of the transfer set: test score (accuracy \\% or BLEU), mean $\\pm$ "
               "std over seeds, per task, initialisation and number of training examples the "
               "students distil on (the largest: the main runs), and the spread between "
               f"matching strategies; seeds {seeds}; every size trains for the main runs' "
               "number of optimiser steps. " + obr.ablation_objective_caption(transfer))
    path = paths.FIGURES / "transfer_ablation.png"
    tr.transfer_figure(transfer, path)
    part.figure(path, "Gain over none (paired by seed) against the size of the transfer set "
                "(log scale): the mean per matching strategy as a line, each seed a point.")
    part.text("transfer_findings", tr.transfer_findings(transfer))
part.values.update(tr.transfer_macros(transfer, params))

# %% [markdown]
# ## What the ablations show

# %%
display(Markdown(ar.findings_markdown(part.values)))
part.save()
print(f"{len(part.values)} macros, {len(part.sections)} tables, {len(part.figures)} figures")
