"""Depth and width ablations: the distillation runs again with one setting changed.

Each variant is ``distill`` with ``student_depth`` (or ``student_width``)
replaced and the strategies, seeds and initialisation of ``ablations``; it
trains through the same ``stages.distill_all`` as the main runs and writes
results/<task>/ablations/<variant>/<strategy>/seed<k>/metrics.json (the
variant is the folder name; each run records its student depth and width).
"""

from __future__ import annotations

from pathlib import Path

from .config import Params, parse_params
from .experiment import load_teacher
from .stages import distill_all, teacher_cache, teacher_paths
from .tasks import Task


def variants(params: Params) -> dict[str, Params]:
    """{"depth3": params with 3-block students, ..., "width32": ...}: the
    ablation runs of one task (pass ``params.for_task(task)``). The task's
    default depth is left out: its runs are the main runs of the distill stage
    (``aggregate.depth_runs`` puts them back beside the variants)."""
    a = params.ablations
    base = params.model_dump()
    base["distill"] |= {"strategies": a.strategies, "seeds": a.seeds, "inits": [a.init]}
    base["angles"]["seeds"] = a.seeds[:1]  # angles are not measured on variants
    out = {}
    for depth in a.depths:
        if depth == params.distill.student_depth:
            continue  # the main runs (distill stage) are this variant: not trained twice
        raw = {**base, "distill": {**base["distill"], "student_depth": depth}}
        out[f"depth{depth}"] = parse_params(raw)
    for width in a.widths:
        raw = {**base, "distill": {**base["distill"], "student_width": width}}
        out[f"width{width}"] = parse_params(raw)
    return out


def variant_dirs(task: str, variant: str) -> tuple[Path, Path]:
    """(results folder, checkpoint folder) of one ablation variant."""
    return (Path(f"results/{task}/ablations/{variant}"),
            Path(f"models/ablations/{task}/{variant}"))


def train_variant(task: Task, params: Params, teacher, variant: str, cache) -> list[dict]:
    """Every strategy x seed of one variant (``params`` from ``variants``); each
    run's metrics.json records its student depth and width."""
    return distill_all(task, params, teacher, cache, params.distill.inits[0],
                       *variant_dirs(task.name, variant), desc=f"{task.name}/{variant}")


def run_ablations(task: Task, params: Params) -> list[dict]:
    """Every variant of one task; the teacher cache is computed once and shared
    (every variant keeps the task's transfer set)."""
    teacher = load_teacher(task, params, teacher_paths(task.name)[1])
    cache = teacher_cache(task, params, teacher)
    rows = []
    for name, p in variants(params).items():
        rows += [dict(row, variant=name) for row in train_variant(task, p, teacher, name, cache)]
    return rows
