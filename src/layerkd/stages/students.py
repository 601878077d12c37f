"""The distillation stage, for any model family: every strategy x seed of
``params.distill`` from one initialisation, trained together by the family's engine
(``Family.together``, ``distill.engines``)."""

from __future__ import annotations

from pathlib import Path

from ..config import Params
from ..distill.engines import ENGINES
from ..distill.run import Run
from ..paths import run_paths, student_dirs
from ..tasks import Task
from .teacher import load_teacher


def teacher_cache(task: Task, params: Params, teacher):
    """The teacher's outputs on the transfer set, computed once for every student."""
    return task.family.cache(teacher, task.splits["train"].subset(params.distill.transfer_size))


def distill_all(task: Task, params: Params, teacher, cache, init: str, results_dir: Path,
                models_dir: Path, desc: str | None = None,
                workers: int | None = None) -> list[dict]:
    """Every strategy x seed of ``params.distill`` from one initialisation:
    results_dir/<strategy>/seed<k>/metrics.json and models_dir/<strategy>_seed<k>.pt;
    metrics in run order (strategy, then seed).

    Encoder students train as stacked groups of ``distill.batch_students`` (0 =
    all together); encoder-decoder students in ``workers`` threads, at most
    ``distill.batch_students`` side by side (see the families)."""
    d = params.distill
    runs = [Run(s, seed, *run_paths(results_dir, models_dir, s, seed))
            for s in d.strategies for seed in d.seeds]
    engine = ENGINES[task.family.together]
    return engine(task, params, teacher, cache, init, runs, workers=workers, desc=desc)


def run_students(task: Task, params: Params, init: str) -> list[dict]:
    """The distill stage for one initialisation: every strategy x seed."""
    teacher = load_teacher(task, params)
    return distill_all(task, params, teacher, teacher_cache(task, params, teacher), init,
                       *student_dirs(task.name, init))
