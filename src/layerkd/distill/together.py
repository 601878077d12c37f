"""Encoder students of one task trained together (the classifier family's way):
``StudentGroup`` cuts N students into ``StudentStack``s of cache-sized
activations and steps them side by side in worker threads; ``distill_runs``
trains a stage's runs in groups and writes each run's outputs as a run
trained alone would."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import torch
from tqdm import tqdm

from ..config import OptimParams, Params
from ..data import Split
from ..models import Encoder, count_parameters
from ..strategies import Pairs
from ..tasks import Task
from ..train.loop import NonFiniteLoss, open_live, validates
from .cache import TeacherCache
from .distiller import Distiller
from .objective import Objective
from .run import (
    Run,
    build_run,
    default_workers,
    distill_one,
    run_fields,
    run_name,
    save_run,
)
from .stacked import LOSS_KEYS, StudentStack

STACK_BYTES = 2 * 2**20  # one stack's largest activation: about a CPU core's cache


def default_stack_size(params: Params, task: Task) -> int | None:
    """Students per stack on the CPU: enough that one grouped operation is large,
    few enough that a stack's largest activation (the MLP hidden layer of a batch)
    stays cache-sized; bench/bench.py measures the effect. None (no limit) on a GPU."""
    if task.device.type != "cpu":
        return None
    m = params.model
    per_student = params.distill.batch_size * (task.max_len + 1) * params.student_width
    return max(1, STACK_BYTES // (4 * per_student * m.mlp_ratio))


class StudentGroup:
    """N students trained together, as StudentStacks of at most ``stack_size``
    students (default: N / workers), spread over ``workers`` threads that step
    side by side with one intra-op thread each.

    The operations of small students do not spread well over cores inside one
    operation; independent stacks on independent cores do (operations release
    the GIL). Use as a context manager to run the threads; outside one the
    stacks step one after another. A student's result does not depend on the
    split, up to floating-point rounding.
    """

    def __init__(self, distillers: list[Distiller], opt: OptimParams, total_steps: int,
                 backend: str = "bmm", workers: int | None = None,
                 stack_size: int | None = None):
        self.n = len(distillers)
        device = next(distillers[0].parameters()).device
        workers = default_workers(self.n, device) if workers is None else workers
        self.workers = max(1, min(workers, self.n))
        per_stack = -(-self.n // self.workers)  # all students, spread evenly over the workers
        if stack_size:
            per_stack = min(per_stack, stack_size)
        n_stacks = -(-self.n // per_stack)
        n_stacks = -(-n_stacks // self.workers) * self.workers  # equal work per worker
        n_stacks = min(n_stacks, self.n)
        cuts = [round(i * self.n / n_stacks) for i in range(n_stacks + 1)]
        self.parts = [slice(cuts[i], cuts[i + 1]) for i in range(n_stacks)]
        self.stacks = [StudentStack(distillers[part], backend) for part in self.parts]
        for stack in self.stacks:
            stack.setup_training(opt, total_steps)
        # worker w runs stacks w, w + workers, ... one after another
        self.assigned = [list(range(w, n_stacks, self.workers)) for w in range(self.workers)]
        self._pool, self._threads = None, None

    def __enter__(self) -> "StudentGroup":
        if self.workers > 1:
            self._threads = torch.get_num_threads()
            torch.set_num_threads(1)
            self._pool = ThreadPoolExecutor(self.workers, initializer=torch.set_num_threads,
                                            initargs=(1,))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            torch.set_num_threads(self._threads)
            self._pool = None

    def _each(self, fn) -> list:
        """[fn(stack, part) for every stack], the workers' shares in parallel when running."""
        if self._pool is None:
            return [fn(s, p) for s, p in zip(self.stacks, self.parts)]

        def share(ids):
            return [(i, fn(self.stacks[i], self.parts[i])) for i in ids]

        done = dict(pair for pairs in self._pool.map(share, self.assigned) for pair in pairs)
        return [done[i] for i in range(len(self.stacks))]

    def set_pairs(self, pairs: list[Pairs]) -> None:
        for stack, part in zip(self.stacks, self.parts):
            stack.set_pairs(pairs[part])

    def train_step(self, idx: torch.Tensor, transfer: Split, cache: TeacherCache) -> torch.Tensor:
        """One step of every student i on its batch idx[i]: (N, 4) losses (LOSS_KEYS)."""
        return torch.cat(self._each(lambda s, p: s.train_step(idx[p], transfer, cache)))

    def accuracy(self, split: Split) -> list[float]:
        return [a for accs in self._each(lambda s, p: s.accuracy(split)) for a in accs]

    def keep_best(self, improved: list[bool]) -> None:
        self._each(lambda s, p: s.keep_best(improved[p]))

    def restore_best(self) -> None:
        self._each(lambda s, p: s.restore_best())

    def state_dict(self, i: int) -> OrderedDict:
        for stack, part in zip(self.stacks, self.parts):
            if part.start <= i < part.stop:
                return stack.state_dict(i - part.start)
        raise IndexError(i)


def distill_together(task: Task, params: Params, teacher: Encoder, cache: TeacherCache,
                     init: str, runs: list[Run], progress: bool = True,
                     backend: str = "bmm", workers: int | None = None,
                     stack_size: int | None = None) -> list[dict]:
    """Train the students of ``runs`` (one task and init) together; like calling
    ``run.distill_one`` for each run, and writing the same outputs.

    workers: threads the group is split over (default: one per torch CPU thread);
    stack_size: students per grouped operation (default: ``default_stack_size``)."""
    if not runs:
        return []
    start = time.perf_counter()
    d = params.distill
    n = len(runs)
    names = [run_name(task, init, r.strategy, r.seed) for r in runs]
    distillers = [build_run(task, params, teacher, init, r.strategy, r.seed) for r in runs]
    first_pairs = [list(x.pairs) for x in distillers]
    n_params = count_parameters(distillers[0])
    transfer = task.splits["train"].subset(d.transfer_size)
    steps_per_epoch = math.ceil(len(transfer) / d.batch_size)
    group = StudentGroup(distillers, d, d.epochs * steps_per_epoch, backend, workers,
                         stack_size or default_stack_size(params, task))
    del distillers
    gens = [torch.Generator().manual_seed(r.seed) for r in runs]
    lives = [None] * n
    if any(r.out_dir is not None for r in runs):
        lives = [None if r.out_dir is None else open_live(r.out_dir / "live") for r in runs]
    best_val, best_epoch = [-1.0] * n, [-1] * n
    objective = Objective.from_params(d)
    shares: list[list[float]] = []  # per epoch, each run's weighted hidden share
    bar = tqdm(total=d.epochs * steps_per_epoch, desc=f"{task.name}/{init}: {n} students",
               disable=not progress, mininterval=10, leave=False)
    with group:
        for epoch in range(d.epochs):
            group.set_pairs([task.family.pairs(params, r.strategy, r.seed, epoch) for r in runs])
            order = torch.stack([torch.randperm(len(transfer), generator=g) for g in gens])
            order = order.to(task.device)
            sums = torch.zeros(n, len(LOSS_KEYS), dtype=torch.float64)
            for step, idx in enumerate(order.split(d.batch_size, dim=1)):
                losses = group.train_step(idx, transfer, cache)
                finite = torch.isfinite(losses[:, -1])
                if not bool(finite.all()):
                    i = int((~finite).nonzero()[0])
                    raise NonFiniteLoss(
                        f"{names[i]}: non-finite loss ({losses[i, -1].item()}) at epoch "
                        f"{epoch}, step {step}; lower the learning rate (distill.lr) or the "
                        f"loss weights (distill.a_ce, a_kl, a_hid) ({int((~finite).sum())} of "
                        f"{n} students trained together non-finite)"
                    )
                sums += losses.cpu().double()
                bar.update()
            hid, total = LOSS_KEYS.index("hid"), LOSS_KEYS.index("total")
            shares.append([objective.hidden_share(sums[i, hid].item(), sums[i, total].item())
                           for i in range(n)])
            val = None
            if validates(epoch, d.epochs, d.val_every):
                val = group.accuracy(task.splits["val"])
                improved = [v > b for v, b in zip(val, best_val)]
                group.keep_best(improved)
                for i in range(n):
                    if improved[i]:
                        best_val[i], best_epoch[i] = val[i], epoch
            for i in range(n):
                if lives[i] is not None:
                    for key, total in zip(LOSS_KEYS, sums[i]):
                        lives[i].log_metric(f"train/{key}", (total / (step + 1)).item())
                    if val is not None:
                        lives[i].log_metric("val/acc", val[i])
                    lives[i].next_step()
            bar.set_postfix(best=f"{max(best_val):.1f}")
        bar.close()
        for live in lives:
            if live is not None:
                live.end()
        group.restore_best()
        test = group.accuracy(task.splits["test"])
    wall = (time.perf_counter() - start) / n
    rows = []
    for i, r in enumerate(runs):
        metrics = {**run_fields(task, params, init, r.strategy, r.seed), "test_acc": test[i],
                   "val_acc": best_val[i], "best_epoch": best_epoch[i],
                   "wall_s": wall, "n_params": n_params, "pairs": first_pairs[i],
                   "hid_share_first": shares[0][i], "hid_share_last": shares[-1][i]}
        save_run(metrics, group.state_dict(i), r.out_dir, r.ckpt_path)
        rows.append(metrics)
    return rows


def distill_runs(task: Task, params: Params, teacher: Encoder, cache: TeacherCache, init: str,
                 runs: list[Run], group_size: int | None = None,
                 progress: bool = True) -> list[dict]:
    """Train every run, ``group_size`` students at a time (default:
    ``distill.batch_students``): 0 = all together, 1 = one at a time through
    ``run.distill_one``, k = consecutive groups of k. Metrics in run order."""
    k = params.distill.batch_students if group_size is None else group_size
    if k < 0:
        raise ValueError(f"group_size must be >= 0, got {k}")
    if k == 1:
        return [distill_one(task, params, teacher, cache, init, r.strategy, r.seed, r.out_dir,
                        r.ckpt_path, progress=False)
                for r in tqdm(runs, desc=f"{task.name}/{init}", disable=not progress,
                              mininterval=10)]
    k = k or len(runs)
    rows = []
    for i in range(0, len(runs), k):
        rows += distill_together(task, params, teacher, cache, init, runs[i : i + k], progress)
    return rows
