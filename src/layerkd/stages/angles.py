"""The angle stage: teacher layers seen from each student, before and after training.

For every initialisation, measured seed and strategy, the student's hidden
states on the first ``angles.max_examples`` test examples are compared with
the teacher's (``angles.angle_summary``, ``angles.mean_distances``), once at
initialisation (the same for every strategy) and once with the trained
weights of the distillation stage. Students narrower than the teacher are
measured in the teacher's space through their projection maps. Everything
lands in one JSON-able dict per task, plotted by the aggregate stage.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from ..angles import angle_summary, mean_distances, random_directions, to_teacher_space
from ..config import Params
from ..distill.run import build_run
from ..paths import student_dirs
from ..tasks import Task
from .teacher import load_teacher


def initial_distiller(task: Task, params: Params, teacher, init: str, seed: int):
    """A run's student and projections exactly as its training starts; returns
    (distiller, {stack: projections})."""
    distiller = build_run(task, params, teacher, init, "none", seed)
    return distiller, task.family.projections(distiller)


def _nan_to_none(a: torch.Tensor) -> list:
    return [[[None if np.isnan(v) else round(float(v), 5) for v in row] for row in block]
            for block in a.tolist()]


def measure(student_states: dict, teacher_states: dict, projections: dict, bins: int,
            seed: int = 0) -> dict:
    """Per stack: angle summary (histograms, heatmaps, acute fraction), the same for
    the null baseline (``angles.random_directions`` of the student's states), and
    distances."""
    out = {}
    edges = np.linspace(-1, 1, bins + 1)
    for stack, (t_states, mask) in teacher_states.items():
        # measured on the CPU: the states of a GPU run come back from the device
        s_states = to_teacher_space(student_states[stack][0], projections[stack]).cpu()
        summary = angle_summary(t_states[1:], s_states[1:], mask, bins)
        null = angle_summary(t_states[1:], random_directions(s_states[1:], seed), mask, bins)
        counts, _ = np.histogram(summary.token_mean.numpy(), bins=edges)
        out[stack] = {
            "acute_fraction": summary.acute_fraction,
            "mean_cos": float(summary.token_mean.mean()),
            "hist": counts.tolist(),            # per-token means (the authors' plot)
            "hist_all": summary.hist.tolist(),  # every (block, pair, token) cosine
            "null_acute_fraction": null.acute_fraction,
            "null_hist_all": null.hist.tolist(),
            "heatmap": _nan_to_none(summary.heatmap),
            "distances": mean_distances(s_states, t_states, mask).tolist(),
        }
    return out


def angle_report(task: Task, params: Params, progress: bool = True) -> dict:
    """Every init x measured seed x (initial + each strategy) of one task."""
    a, d = params.angles, params.distill
    teacher = load_teacher(task, params)
    split = task.splits["test"].subset(a.max_examples)
    teacher_states = {stack: (h.cpu(), None if m is None else m.cpu())
                      for stack, (h, m) in task.family.hidden_states(teacher, split).items()}
    report = {"task": task.name, "stacks": list(teacher_states), "bins": a.bins,
              "n_examples": len(split),
              "student_width": params.student_width, "teacher_width": params.model.width,
              "teacher_distances": {stack: mean_distances(h, h, m).tolist()
                                    for stack, (h, m) in teacher_states.items()},
              "runs": []}
    todo = [(init, seed, strategy) for init in d.inits for seed in a.seeds
            for strategy in ["initial", *d.strategies]]
    for init, seed, strategy in tqdm(todo, desc=f"angles {task.name}", disable=not progress,
                                     mininterval=10):
        distiller, projections = initial_distiller(task, params, teacher, init, seed)
        if strategy != "initial":
            ckpt = student_dirs(task.name, init)[1] / f"{strategy}_seed{seed}.pt"
            if not ckpt.exists():
                raise FileNotFoundError(f"{ckpt} missing: run the distillation stage first "
                                        f"(dvc repro distill@{task.name})")
            state = torch.load(ckpt, weights_only=True, map_location=task.device)
            distiller.load_state_dict(state["state_dict"])
        states = task.family.hidden_states(distiller.student, split)
        report["runs"].append({"init": init, "seed": seed, "strategy": strategy,
                               **measure(states, teacher_states, projections, a.bins, seed)})
    return report
