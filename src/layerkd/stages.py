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


def teacher_cache(task: Task, params: Params, teacher):
    """The teacher's outputs on the transfer set, computed once for every student."""
    if task.kind == "generate":
        from .generation import teacher_cache_generation

        return teacher_cache_generation(teacher, task, params)
    return TeacherCache.compute(teacher, task.splits["train"].subset(params.distill.transfer_size))


def distill_all(task: Task, params: Params, teacher, cache, init: str, results_dir: Path,
                models_dir: Path, desc: str | None = None,
                workers: int | None = None) -> list[dict]:
    """Every strategy x seed of ``params.distill`` from one initialisation:
    results_dir/<strategy>/seed<k>/metrics.json and models_dir/<strategy>_seed<k>.pt;
    metrics in run order (strategy, then seed).

    Classification students train together (``batched``, groups of
    ``distill.batch_students``). Generation students train in a pool of
    ``workers`` threads, one torch intra-op thread each
    (``generation.distill_generation_runs``; default ``batched.default_workers``:
    one per torch CPU thread, 1 on a GPU), with the results of a sequential run at
    one intra-op thread; workers=1 or ``distill.batch_students == 1`` trains them
    one after another, ``batch_students = k > 1`` at most k at a time. ``workers``
    applies to generation tasks only."""
    d = params.distill
    runs = [(s, seed) for s in d.strategies for seed in d.seeds]
    if task.kind == "generate":
        from .batched import Run, default_workers
        from .generation import distill_generation_runs

        if workers is None:
            workers = default_workers(len(runs), task.device)
        if d.batch_students:  # 1 = one at a time, k = at most k side by side
            workers = min(workers, d.batch_students)
        return distill_generation_runs(
            task, params, teacher, cache, init,
            [Run(s, seed, results_dir / s / f"seed{seed}", models_dir / f"{s}_seed{seed}.pt")
             for s, seed in runs], workers=workers, desc=desc)
    from .batched import Run, distill_runs

    return distill_runs(task, params, teacher, cache, init,
                        [Run(s, seed, results_dir / s / f"seed{seed}",
                             models_dir / f"{s}_seed{seed}.pt") for s, seed in runs],
                        group_size=d.batch_students)


def run_students(task: Task, params: Params, init: str) -> list[dict]:
    """The distill stage for one initialisation: every strategy x seed."""
    teacher = load_teacher(task, params, teacher_paths(task.name)[1])
    return distill_all(task, params, teacher, teacher_cache(task, params, teacher), init,
                       *student_dirs(task.name, init))
