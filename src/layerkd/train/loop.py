"""The one training loop, ``fit``, used by teachers and students of every
family: AdamW with linear warm-up and cosine decay, a progress bar, per-epoch metrics logged with dvclive, the best-on-validation weights
restored at the end, and a clear stop on a non-finite loss.
"""

from __future__ import annotations

import copy
import functools
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ..config import OptimParams


FUSED_ADAMW_DEVICES = ("cpu", "cuda")  # where torch has a fused AdamW kernel


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch, and ask torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def configure_runtime(device: str = "auto", threads: int | None = None) -> torch.device:
    """Set the CPU thread count (None = torch's default) and return the device to use."""
    if threads is not None:
        torch.set_num_threads(threads)
    return select_device(device)


def select_device(name: str = "auto") -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("runtime.device='cuda' but no CUDA device is available; use 'auto' or 'cpu'")
    return torch.device(name)


def validates(epoch: int, epochs: int, every: int) -> bool:
    """Whether epoch (0-based) is validated: every ``every``-th one and always the last."""
    return (epoch + 1) % every == 0 or epoch == epochs - 1


def warmup_cosine(optimizer, total_steps: int, warmup_frac: float):
    warmup = max(1, int(total_steps * warmup_frac))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class NonFiniteLoss(FloatingPointError):
    pass


@dataclass
class FitResult:
    best_val: float
    best_epoch: int
    history: list[dict]
    wall_s: float


def fit(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]],
    n_train: int,
    evaluate: Callable[[], float],
    opt: OptimParams,
    seed: int,
    run_name: str,
    live_dir: str | Path | None = None,
    on_epoch_start: Callable[[int], None] | None = None,
    progress: bool = True,
    metric_name: str = "acc",
) -> FitResult:
    """Train ``model`` on minibatches of sample indices; keep the best-on-validation weights.

    loss_fn(indices) -> (loss, logs); evaluate() -> the validation metric (higher is
    better), logged as ``val/<metric_name>``.
    """
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    # fused: one kernel per step instead of a loop over the tensors (bench/generation.md:
    # 1.07x per step of a small student); the same update up to rounding
    optimizer = torch.optim.AdamW(params, lr=opt.lr, weight_decay=opt.weight_decay,
                                  fused=params[0].device.type in FUSED_ADAMW_DEVICES)
    steps_per_epoch = math.ceil(n_train / opt.batch_size)
    schedule = warmup_cosine(optimizer, opt.epochs * steps_per_epoch, opt.warmup_frac)
    live = None
    if live_dir is not None:
        live = open_live(live_dir)
    best_val, best_epoch, best_state, history = -1.0, -1, None, []
    bar = tqdm(total=opt.epochs * steps_per_epoch, desc=run_name, disable=not progress,
               mininterval=5, leave=False)
    for epoch in range(opt.epochs):
        if on_epoch_start is not None:
            on_epoch_start(epoch)
        model.train()
        sums: dict[str, float] = {}
        for step, idx in enumerate(torch.randperm(n_train, generator=gen).split(opt.batch_size)):
            loss, logs = loss_fn(idx)
            if not torch.isfinite(loss):
                raise NonFiniteLoss(
                    f"{run_name}: non-finite loss ({loss.item()}) at epoch {epoch}, step {step}; "
                    "lower the learning rate (teacher.lr, distill.lr) or the loss weights "
                    "(distill.a_ce, a_kl, a_hid)"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.update()
        row = {"epoch": epoch, **{f"train/{k}": v / (step + 1) for k, v in sums.items()}}
        history.append(row)
        if validates(epoch, opt.epochs, opt.val_every):
            val = row[f"val/{metric_name}"] = evaluate()
            if val > best_val:
                best_val, best_epoch = val, epoch
                best_state = copy.deepcopy(model.state_dict())
            bar.set_postfix(val=f"{val:.1f}", best=f"{best_val:.1f}")
        if live is not None:
            for k, v in row.items():
                if k != "epoch":
                    live.log_metric(k, v)
            live.next_step()
    bar.close()
    if live is not None:
        live.end()
    model.load_state_dict(best_state)
    return FitResult(best_val, best_epoch, history, time.perf_counter() - start)


# dvclive marks each step for its editor extension in one file per repository
# (.dvc/tmp/exps/run/DVCLIVE_STEP_COMPLETED) and deletes it at the end with an
# exists-then-remove: runs trained in parallel threads race on it, so every
# live writer of this process takes this lock for those two calls.
_LIVE_SIGNAL = threading.Lock()


@functools.cache  # one class for every run
def _thread_safe_live():
    from dvclive import Live  # imported on first use: dvclive is slow to import

    class ThreadSafeLive(Live):
        def next_step(self):
            with _LIVE_SIGNAL:
                super().next_step()

        def end(self):
            with _LIVE_SIGNAL:
                super().end()

    return ThreadSafeLive


def open_live(path: str | Path):
    """A dvclive logger for one run, safe to step and end from parallel threads."""
    return _thread_safe_live()(str(path), save_dvc_exp=False, dvcyaml=False, report=None)
