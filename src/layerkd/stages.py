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
                models_dir: Path, desc: str | None = None) -> list[dict]:
    """Every strategy x seed of ``params.distill`` from one initialisation:
    results_dir/<strategy>/seed<k>/metrics.json and models_dir/<strategy>_seed<k>.pt.
    Classification students train together (``batched``), generation students
    one after another."""
    d = params.distill
    runs = [(s, seed) for s in d.strategies for seed in d.seeds]
    if task.kind == "generate":
        from tqdm import tqdm

        from .generation import distill_generation

        return [distill_generation(task, params, teacher, cache, init, s, seed,
                                   results_dir / s / f"seed{seed}",
                                   models_dir / f"{s}_seed{seed}.pt", progress=False)
                for s, seed in tqdm(runs, desc=desc or f"{task.name}/{init}", mininterval=10)]
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
