"""What a pipeline stage does, as functions the notebooks call.

train_teacher   fit the teacher on the task's full train split
TeacherCache    the frozen teacher's logits and hidden states, computed once
distill         one student: one initialisation x strategy x seed
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from .config import Params
from .data import Split
from .initialisation import initialise
from .io import atomic_torch_save, atomic_write_json
from .losses import Distiller, Objective
from .models import Encoder, count_parameters
from .strategies import match_layers, middle_layer
from .tasks import Task
from .train import accuracy, classification_loss, fit, set_seed


def config_hash(obj) -> str:
    """Short hash of a JSON-able config: keys checkpoints to what made them."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def teacher_config(params: Params, task: str) -> dict:
    """What a teacher checkpoint depends on: its own task's data settings (not
    the other tasks'), the model and the teacher's training."""
    data = params.data.model_dump()
    return {"task": task, "data": {"seed": data["seed"], task: data[task]},
            "model": params.model.model_dump(), "teacher": params.teacher.model_dump()}


def train_teacher(task: Task, params: Params, out_dir: Path, ckpt_path: Path,
                  progress: bool = True) -> dict:
    """Fit the teacher; metrics and training curves to out_dir, weights to ckpt_path."""
    p = params.teacher
    set_seed(p.seed)
    model = task.encoder(params.model.teacher_depth, params.model.width, params)
    train = task.splits["train"]
    gen = torch.Generator().manual_seed(p.seed + 1)
    augment = (lambda idx: task.augment(idx, gen)) if p.augment and task.augment else None
    result = fit(model, classification_loss(model, train, augment), len(train),
                 lambda: accuracy(model, task.splits["val"]), p, p.seed,
                 f"teacher {task.name}", out_dir / "live", progress=progress)
    metrics = {"task": task.name, "test_acc": accuracy(model, task.splits["test"]),
               "val_acc": result.best_val, "best_epoch": result.best_epoch,
               "wall_s": result.wall_s, "n_params": count_parameters(model),
               "n_train": len(train)}
    atomic_torch_save({"state_dict": model.state_dict(),
                       "config_hash": config_hash(teacher_config(params, task.name))},
                      ckpt_path)
    atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics


def load_teacher(task: Task, params: Params, ckpt_path: Path) -> Encoder:
    path = Path(ckpt_path)
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run the teacher stage first (dvc repro teacher)")
    ckpt = torch.load(path, weights_only=True, map_location=task.device)
    expected = config_hash(teacher_config(params, task.name))
    if ckpt["config_hash"] != expected:
        raise ValueError(f"{path} was trained with other parameters (config hash "
                         f"{ckpt['config_hash']} != {expected}); rerun the teacher stage")
    model = task.encoder(params.model.teacher_depth, params.model.width, params)
    model.load_state_dict(ckpt["state_dict"])
    return model.eval().requires_grad_(False)


@dataclass
class TeacherCache:
    """Teacher logits (N, C) and hidden states (L_T + 1, N, T, d) of one split."""

    logits: torch.Tensor
    hiddens: torch.Tensor

    @classmethod
    @torch.no_grad()
    def compute(cls, teacher: Encoder, split: Split, batch_size: int = 500) -> "TeacherCache":
        teacher.eval()
        logits, hiddens = [], []
        for i in range(0, len(split), batch_size):
            mask = None if split.mask is None else split.mask[i : i + batch_size]
            lg, hs = teacher(split.x[i : i + batch_size], mask)
            logits.append(lg)
            hiddens.append(torch.stack(hs))
        return cls(torch.cat(logits), torch.cat(hiddens, dim=1))

    def batch(self, idx: torch.Tensor, layers: list[int] | None = None):
        """Teacher logits (B, C) and hidden states of the samples ``idx``.

        layers=None: every hidden state, one (L_T + 1, B, T, d) tensor.
        layers given: only those teacher layers are gathered, as a dict
        {teacher layer: (B, T, d)}; a run passes the layers its pairs use (none
        at all for strategy ``none``). Both index by teacher layer, as
        ``hidden_matching_loss`` expects.
        """
        if layers is None:
            return self.logits[idx], self.hiddens[:, idx]
        layers = sorted(set(layers))
        if not layers:
            return self.logits[idx], {}
        rows = torch.as_tensor(layers, device=self.hiddens.device)
        picked = self.hiddens[rows[:, None], idx.to(self.hiddens.device)[None, :]]
        return self.logits[idx], dict(zip(layers, picked.unbind(0)))

    def gather(self, idx: torch.Tensor, layers: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Batched form for N runs at once: idx (N, B) samples, layers (N, K) teacher
        layers -> logits (N, B, C) and hidden states (K, N, B, T, d), slot-major."""
        return self.logits[idx], self.hiddens[layers.T[:, :, None], idx[None, :, :]]


def pairs_at(params: Params, strategy: str, seed: int, epoch: int = 0) -> list:
    """The layer pairs a run matches in an epoch (only in_order_random changes
    with the epoch: RAIL-KD redraws its layers every epoch)."""
    d = params.distill
    return match_layers(strategy, d.student_depth, params.model.teacher_depth, seed=seed,
                        epoch=epoch if strategy == "in_order_random" else 0,
                        target=d.all_to_one_target, embeddings=d.match_embeddings)


def build_distiller(task: Task, params: Params, teacher: Encoder, init: str, strategy: str,
                    seed: int) -> Distiller:
    """A run's student (initialised from ``seed``) and projections, with its epoch-0 pairs."""
    d, m = params.distill, params.model
    set_seed(seed)
    student = initialise(task.encoder(d.student_depth, params.student_width, params), init,
                         teacher)
    return Distiller(student, pairs_at(params, strategy, seed), teacher_width=m.width,
                     objective=Objective.from_params(d))


def run_name(task: Task, init: str, strategy: str, seed: int) -> str:
    return f"{task.name}/{init}/{strategy}/seed{seed}"


def run_fields(task: Task, params: Params, init: str, strategy: str, seed: int) -> dict:
    """What identifies a student run: the first fields of its metrics.json (the
    student's shape too, so depth and width ablations need no extra bookkeeping)."""
    d, m = params.distill, params.model
    target = middle_layer(m.teacher_depth) if d.all_to_one_target is None else d.all_to_one_target
    return {"task": task.name, "init": init, "strategy": strategy, "seed": seed,
            "student_depth": d.student_depth, "student_width": params.student_width,
            "norm": m.norm, "all_to_one_target": target, **Objective.from_params(d).record()}


def hidden_shares(objective: Objective, history: list[dict]) -> dict:
    """The weighted hidden term's share of the training loss in the first and
    the last epoch (from ``fit``'s history rows)."""
    first, last = history[0], history[-1]
    return {"hid_share_first": objective.hidden_share(first["train/hid"], first["train/total"]),
            "hid_share_last": objective.hidden_share(last["train/hid"], last["train/total"])}


def distill(task: Task, params: Params, teacher: Encoder, cache: TeacherCache, init: str,
            strategy: str, seed: int, out_dir: Path | None = None,
            ckpt_path: Path | None = None, progress: bool = True) -> dict:
    """Train one student; write its metrics under out_dir and its best weights
    (student and projections) to ckpt_path."""
    d = params.distill
    distiller = build_distiller(task, params, teacher, init, strategy, seed)
    student, pairs = distiller.student, list(distiller.pairs)
    transfer = task.splits["train"].subset(d.transfer_size)

    def on_epoch_start(epoch: int) -> None:
        distiller.pairs = pairs_at(params, strategy, seed, epoch)

    def loss_fn(idx):
        # only the teacher layers the current pairs use (none for strategy 'none')
        t_logits, t_hiddens = cache.batch(idx, [t for _, t in distiller.pairs])
        mask = None if transfer.mask is None else transfer.mask[idx]
        _, losses = distiller(transfer.x[idx], transfer.y[idx], mask, t_logits, t_hiddens)
        return losses["total"], {k: v.item() for k, v in losses.items()}

    name = run_name(task, init, strategy, seed)
    live_dir = None if out_dir is None else out_dir / "live"
    result = fit(distiller, loss_fn, len(transfer), lambda: accuracy(student, task.splits["val"]),
                 d, seed, name, live_dir, on_epoch_start, progress)
    metrics = {**run_fields(task, params, init, strategy, seed),
               "test_acc": accuracy(student, task.splits["test"]), "val_acc": result.best_val,
               "best_epoch": result.best_epoch, "wall_s": result.wall_s,
               "n_params": count_parameters(distiller), "pairs": pairs,
               **hidden_shares(distiller.objective, result.history)}
    if ckpt_path is not None:
        atomic_torch_save({"state_dict": distiller.state_dict(), "metrics": metrics}, ckpt_path)
    if out_dir is not None:
        atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics
