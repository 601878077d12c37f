"""One student run, for any model family: build it, train it, record it.

A run is two steps: ``build_run`` seeds the global RNG and builds the student
(initialised from the teacher or not) and its projections, paired for epoch 0;
``train_run`` trains a built distiller and writes its metrics and checkpoint,
touching no global RNG (the batch order comes from ``fit``'s own generator,
``in_order_random`` pairs from their own ``random.Random``), so it may run in
a worker thread. ``distill_one`` does both.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from ..io import atomic_torch_save, without_timings, write_metrics
from ..models import count_parameters
from ..paths import PENDING, STAMP
from ..strategies import middle_layer
from ..train.loop import fit, set_seed
from .objective import Objective


@dataclass(frozen=True)
class Run:
    """One student of a stage: strategy x seed, and where its outputs go."""

    strategy: str
    seed: int
    out_dir: Path | None = None
    ckpt_path: Path | None = None


class RunStopped(RuntimeError):
    """A run stopped early because another run trained alongside it failed."""


def default_workers(n: int, device: torch.device | str = "cpu") -> int:
    """Worker threads for n students: one per torch CPU thread (1 on a GPU)."""
    if torch.device(device).type != "cpu":
        return 1
    return max(1, min(n, torch.get_num_threads()))


def run_name(task, init: str, strategy: str, seed: int) -> str:
    return f"{task.name}/{init}/{strategy}/seed{seed}"


def run_fields(task, params, init: str, strategy: str, seed: int) -> dict:
    """What identifies a student run: the first fields of its metrics.json (the
    student's shape and the whole objective too, so ablations need no extra
    bookkeeping)."""
    d, m = params.distill, params.model
    target = middle_layer(m.teacher_depth) if d.all_to_one_target is None else d.all_to_one_target
    n_transfer = len(task.splits["train"].subset(d.transfer_size))
    return {"task": task.name, "init": init, "strategy": strategy, "seed": seed,
            "transfer_size": n_transfer, "epochs": d.epochs,
            "student_depth": d.student_depth, "student_width": params.student_width,
            "norm": m.norm, "all_to_one_target": target, **Objective.from_params(d).record()}


def hidden_shares(objective: Objective, history: list[dict]) -> dict:
    """The weighted hidden term's share of the training loss in the first and
    the last epoch (from ``fit``'s history rows)."""
    first, last = history[0], history[-1]
    return {"hid_share_first": objective.hidden_share(first["train/hid"], first["train/total"]),
            "hid_share_last": objective.hidden_share(last["train/hid"], last["train/total"])}


def build_run(task, params, teacher, init: str, strategy: str, seed: int):
    """A run's student and projections exactly as its training starts (seeded,
    initialised, paired for epoch 0)."""
    d, family = params.distill, task.family
    set_seed(seed)
    student = family.initialise(family.build(task, d.student_depth, params.student_width,
                                             params), init, teacher)
    return family.distiller(student, family.pairs(params, strategy, seed, 0),
                            params.model.width, Objective.from_params(d))


def save_run(metrics: dict, state_dict, out_dir: Path | None, ckpt_path: Path | None) -> None:
    """A run's best weights (student and projections) and its metrics.json (its
    time apart: ``io.write_metrics``); then,
    last, its settings stamp: ``PENDING`` (written when the run started) is
    renamed to ``paths.STAMP``, so a run folder holds a stamp only once all
    of its results are in place (a stage killed before that finds none)."""
    if ckpt_path is not None:
        atomic_torch_save({"state_dict": state_dict, "metrics": without_timings(metrics)},
                          ckpt_path)
    if out_dir is not None:
        write_metrics(out_dir, metrics)
        if (out_dir / PENDING).exists():
            os.replace(out_dir / PENDING, out_dir / STAMP)


def train_run(task, params, distiller, cache, init: str, strategy: str, seed: int,
              out_dir: Path | None = None, ckpt_path: Path | None = None,
              progress: bool = True, stop: threading.Event | None = None) -> dict:
    """Train a distiller built by ``build_run`` (same init, strategy and seed);
    metrics to out_dir, weights to ckpt_path. stop: when set, raise
    ``RunStopped`` at the next epoch."""
    d, family = params.distill, task.family
    student = distiller.student
    transfer = task.splits["train"].subset(d.transfer_size)
    first_pairs = family.pairs_record(distiller)
    name = run_name(task, init, strategy, seed)

    def on_epoch_start(epoch: int) -> None:
        if stop is not None and stop.is_set():
            raise RunStopped(f"{name}: stopped, another run failed")
        family.set_pairs(distiller, family.pairs(params, strategy, seed, epoch))

    result = fit(distiller, family.distill_loss(distiller, transfer, cache), len(transfer),
                 lambda: family.evaluate(student, task, "val")[family.metric], d, seed, name,
                 None if out_dir is None else out_dir / "live", on_epoch_start, progress,
                 metric_name=family.metric)
    test = family.evaluate(student, task, "test", params.model.beams)
    metrics = {**run_fields(task, params, init, strategy, seed),
               **{f"test_{k}": v for k, v in test.items()}, **family.test_record(params),
               f"val_{family.metric}": result.best_val, "best_epoch": result.best_epoch,
               "wall_s": result.wall_s, "n_params": count_parameters(distiller), **first_pairs,
               **hidden_shares(distiller.objective, result.history)}
    save_run(metrics, distiller.state_dict(), out_dir, ckpt_path)
    return metrics


def distill_one(task, params, teacher, cache, init: str, strategy: str, seed: int,
                out_dir: Path | None = None, ckpt_path: Path | None = None,
                progress: bool = True) -> dict:
    """Train one student alone; metrics to out_dir, weights to ckpt_path."""
    distiller = build_run(task, params, teacher, init, strategy, seed)
    return train_run(task, params, distiller, cache, init, strategy, seed, out_dir, ckpt_path,
                     progress)
