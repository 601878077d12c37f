"""What each pipeline stage does, for any task: the notebooks call these.

Classification tasks go through ``experiment`` (and ``batched`` for several
students at once); generation tasks through ``generation``.
"""

from __future__ import annotations

from pathlib import Path

from .config import Params
from .experiment import TeacherCache, config_hash, load_teacher, teacher_config, train_teacher
from .tasks import Task


def teacher_paths(task: str) -> tuple[Path, Path]:
    """(results folder, checkpoint) of a task's teacher."""
    return Path(f"results/{task}/teacher"), Path(f"models/{task}/teacher.pt")


def student_dirs(task: str, init: str) -> tuple[Path, Path]:
    """(results folder, checkpoint folder) of one task's students of one initialisation."""
    return Path(f"results/{task}/students/{init}"), Path(f"models/{task}/students/{init}")


def run_teacher(task: Task, params: Params, progress: bool = True) -> dict:
    out_dir, ckpt = teacher_paths(task.name)
    if task.kind == "generate":
        from .generation import train_teacher_generation

        return train_teacher_generation(task, params, out_dir, ckpt,
                                        config_hash(teacher_config(params, task.name)), progress)
    return train_teacher(task, params, out_dir, ckpt, progress)


def run_students(task: Task, params: Params, init: str) -> list[dict]:
    """Every strategy x seed of one initialisation; per-run metrics and checkpoints."""
    d = params.distill
    teacher = load_teacher(task, params, teacher_paths(task.name)[1])
    results_dir, models_dir = student_dirs(task.name, init)
    runs = [(s, seed) for s in d.strategies for seed in d.seeds]
    if task.kind == "generate":
        from tqdm import tqdm

        from .generation import distill_generation, teacher_cache_generation

        cache = teacher_cache_generation(teacher, task, params)
        return [distill_generation(task, params, teacher, cache, init, s, seed,
                                   results_dir / s / f"seed{seed}",
                                   models_dir / f"{s}_seed{seed}.pt", progress=False)
                for s, seed in tqdm(runs, desc=f"{task.name}/{init}", mininterval=10)]
    from .batched import Run, distill_runs

    cache = TeacherCache.compute(teacher, task.splits["train"].subset(d.transfer_size))
    return distill_runs(task, params, teacher, cache, init,
                        [Run(s, seed, results_dir / s / f"seed{seed}",
                             models_dir / f"{s}_seed{seed}.pt") for s, seed in runs],
                        group_size=d.batch_students)
