"""Depth and width ablations: the distillation runs again with one setting changed.

Each variant is ``distill`` with ``student_depth`` (or ``student_width``)
replaced and the strategies, seeds and initialisation of ``ablations``; it
trains like the main runs (batched for classification) and writes
results/<task>/ablations/<variant>/<strategy>/seed<k>/metrics.json.
"""

from __future__ import annotations

from pathlib import Path

from .config import Params, parse_params
from .experiment import TeacherCache, load_teacher
from .io import atomic_write_json
from .tasks import Task


def variants(params: Params) -> dict[str, Params]:
    """{"depth3": params with 3-block students, ..., "width32": ...}: the
    ablation runs of one task (pass ``params.for_task(task)``)."""
    a = params.ablations
    base = params.model_dump()
    base["distill"] |= {"strategies": a.strategies, "seeds": a.seeds, "inits": [a.init]}
    base["angles"]["seeds"] = a.seeds[:1]  # angles are not measured on variants
    out = {}
    for depth in a.depths:
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


def train_variant(task: Task, params: Params, teacher, variant: str,
                  cache: TeacherCache | None = None) -> list[dict]:
    """Every strategy x seed of one variant (``params`` from ``variants``)."""
    d = params.distill
    init = d.inits[0]
    results_dir, models_dir = variant_dirs(task.name, variant)
    runs = [(s, seed) for s in d.strategies for seed in d.seeds]
    if task.kind == "generate":
        from tqdm import tqdm

        from .generation import distill_generation, teacher_cache_generation

        cache = cache or teacher_cache_generation(teacher, task, params)
        rows = [distill_generation(task, params, teacher, cache, init, s, seed,
                                   results_dir / s / f"seed{seed}",
                                   models_dir / f"{s}_seed{seed}.pt", progress=False)
                for s, seed in tqdm(runs, desc=f"{task.name}/{variant}", mininterval=10)]
    else:
        from .batched import Run, distill_runs

        cache = cache or TeacherCache.compute(teacher,
                                              task.splits["train"].subset(d.transfer_size))
        rows = distill_runs(task, params, teacher, cache, init,
                            [Run(s, seed, results_dir / s / f"seed{seed}",
                                 models_dir / f"{s}_seed{seed}.pt") for s, seed in runs])
    rows = [dict(row, variant=variant, student_depth=d.student_depth,
                 student_width=params.student_width) for row in rows]
    for row in rows:  # the variant's settings beside each run's metrics
        atomic_write_json(results_dir / row["strategy"] / f"seed{row['seed']}" / "metrics.json",
                          row)
    return rows


def run_ablations(task: Task, params: Params) -> list[dict]:
    """Every variant of one task; the teacher cache is computed once and shared."""
    from .stages import teacher_paths

    teacher = load_teacher(task, params, teacher_paths(task.name)[1])
    if task.kind == "generate":
        from .generation import teacher_cache_generation

        cache = teacher_cache_generation(teacher, task, params)
    else:
        transfer = task.splits["train"].subset(params.distill.transfer_size)
        cache = TeacherCache.compute(teacher, transfer)
    rows = []
    for name, p in variants(params).items():
        rows += train_variant(task, p, teacher, name, cache)
    return rows
