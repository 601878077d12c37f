"""Students of one task trained side by side in worker threads (the
encoder-decoder family's way of training students together).

Every distiller is built in the main thread, in run order (building seeds the
global RNG: ``run.build_run``), then trained in a pool of worker threads with
one torch intra-op thread each (small students use several cores poorly;
torch operations release the GIL). A run's results equal those of a
sequential run at one intra-op thread (torch's results may differ by rounding
between thread counts); ``wall_s`` is each run's own wall time, measured while
sharing the machine with the other workers.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager

import torch
from tqdm import tqdm

from .run import (
    Run,
    RunStopped,
    build_run,
    default_workers,
    distill_one,
    run_name,
    train_run,
)

__all__ = ["Run", "RunStopped", "default_workers", "train_in_threads"]


def train_in_threads(task, params, teacher, cache, init: str, runs: list[Run],
                     workers: int | None = None, progress: bool = True,
                     desc: str | None = None) -> list[dict]:
    """Train the students of ``runs`` (one task and init); like calling
    ``distill_one`` for each run, and writing the same outputs. Metrics in run
    order.

    workers: threads training runs side by side, one torch intra-op thread each
    (default: ``default_workers``, one per torch CPU thread, 1 on a GPU);
    1 = one run after another in this thread, at the current thread count. With
    more, every distiller is built here first, in run order (building seeds the
    global RNG), then trained in the pool; the thread count is restored afterwards.
    A failing run stops the others at their next epoch, and its exception (naming
    the run) is raised here."""
    if not runs:
        return []
    names = [run_name(task, init, r.strategy, r.seed) for r in runs]
    workers = default_workers(len(runs), task.device) if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    workers = min(workers, len(runs))
    label = desc or f"{task.name}/{init}"
    if workers == 1:
        rows = []
        for r, name in tqdm(list(zip(runs, names)), desc=label, disable=not progress,
                            mininterval=10):
            with _named(name):
                rows.append(distill_one(task, params, teacher, cache, init, r.strategy, r.seed,
                                        r.out_dir, r.ckpt_path, progress=False))
        return rows
    distillers = [build_run(task, params, teacher, init, r.strategy, r.seed) for r in runs]
    stop = threading.Event()

    def train(i: int) -> dict:
        r, distiller = runs[i], distillers[i]
        distillers[i] = None  # the worker holds the only reference: freed when it is done
        try:
            with _named(names[i]):
                return train_run(task, params, distiller, cache, init, r.strategy, r.seed,
                                 r.out_dir, r.ckpt_path, progress=False, stop=stop)
        except RunStopped:
            raise
        except BaseException:
            stop.set()
            raise

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    futures = []
    try:
        with ThreadPoolExecutor(workers, initializer=torch.set_num_threads,
                                initargs=(1,)) as pool:
            try:
                # tqdm creates its class lock lazily: make it (and this bar) here, before
                # the workers' own bars, or two threads may each create one
                tqdm.get_lock()
                bar = tqdm(total=len(runs), desc=f"{label}: {workers} workers",
                           disable=not progress, mininterval=10)
                futures = [pool.submit(train, i) for i in range(len(runs))]
                with bar:
                    for future in as_completed(futures):
                        if future.cancelled() or future.exception() is not None:
                            stop.set()
                            for f in futures:
                                f.cancel()
                        bar.update()
            except BaseException:  # e.g. KeyboardInterrupt: stop the workers at their next epoch
                stop.set()
                for f in futures:
                    f.cancel()
                raise
    finally:
        torch.set_num_threads(threads)
    errors = [f.exception() for f in futures if not f.cancelled()]
    errors = [e for e in errors if e is not None]
    if errors:  # the first failing run in run order (the others only stopped)
        raise next((e for e in errors if not isinstance(e, RunStopped)), errors[0])
    return [f.result() for f in futures]


@contextmanager
def _named(name: str):
    """Exceptions leaving the block name the run (a note, unless the message does)."""
    try:
        yield
    except BaseException as e:
        if not isinstance(e, RunStopped) and name not in str(e):
            e.add_note(f"in run {name}")
        raise
