"""The engines that train the students of one task and initialisation together,
by name (``Family.together``). Each takes the same arguments and returns the
runs' metrics in run order, writing what ``run.distill_one`` would for each."""

from __future__ import annotations

from .run import default_workers
from .threads import train_in_threads
from .together import distill_runs


def stacked(task, params, teacher, cache, init: str, runs: list, workers=None, desc=None):
    """Encoder students as stacked tensors in groups of ``distill.batch_students``
    (0 = all together, 1 = one at a time)."""
    return distill_runs(task, params, teacher, cache, init, runs,
                        group_size=params.distill.batch_students)


def threads(task, params, teacher, cache, init: str, runs: list, workers=None, desc=None):
    """Students side by side in ``workers`` threads, one torch intra-op thread each
    (default: one per torch CPU thread, 1 on a GPU; at most ``distill.batch_students``
    when that is set: 1 = one at a time)."""
    if workers is None:
        workers = default_workers(len(runs), task.device)
    if params.distill.batch_students:
        workers = min(workers, params.distill.batch_students)
    return train_in_threads(task, params, teacher, cache, init, runs, workers=workers, desc=desc)


ENGINES = {"stacked": stacked, "threads": threads}
