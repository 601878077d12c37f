"""The teacher stage, for any model family: train, score and checkpoint the
teacher on the task's whole training split; load it back for the later stages."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from ..config import POOL_TASKS, Params
from ..io import atomic_torch_save, write_metrics
from ..models import count_parameters
from ..paths import teacher_paths
from ..tasks import Task
from ..train.loop import fit, set_seed


def config_hash(obj) -> str:
    """Short hash of a JSON-able config: keys checkpoints to what made them."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def teacher_config(params: Params, task: str) -> dict:
    """What a teacher checkpoint depends on: its own task's data settings (not
    the other tasks'), the model and the teacher's training."""
    if task in params.hub.tasks:  # a hub task: its dataset and checkpoint
        own = params.hub.identity(task)
    else:
        own = {"seed": params.data.seed, task: getattr(params.data, task).model_dump()}
    return {"task": task, "data": own,
            "model": params.model.identity(), "teacher": params.teacher.model_dump()}


def train_teacher(task: Task, params: Params, out_dir: Path, ckpt_path: Path,
                  progress: bool = True) -> dict:
    """Fit the teacher; metrics and training curves to out_dir, weights to ckpt_path.

    With ``teacher.pretrain_epochs`` > 0 it first trains that many epochs on the
    task's pool (curves in out_dir/pretrain), keeping its best-on-validation
    weights, then fine-tunes ``teacher.epochs`` on the training split from them at
    ``teacher.finetune_lr`` (a fresh optimiser and schedule, as a fine-tuning run
    starts); the pre-trained
    weights are kept when no fine-tuning epoch beats them on validation."""
    p, family = params.teacher, task.family
    set_seed(p.seed)
    model = family.start_teacher(task, params.model.teacher_depth, params.model.width, params)
    train = task.splits["train"]
    val = lambda: family.evaluate(model, task, "val")[family.metric]  # noqa: E731
    pre = None
    if p.pretrain_epochs:
        if "pool" not in task.splits:
            raise ValueError(f"teacher.pretrain_epochs={p.pretrain_epochs} needs a pre-training "
                             f"pool: set data.{task.name}.n_pool > 0 (tasks with one: "
                             f"{', '.join(POOL_TASKS)})")
        pool = task.splits["pool"]
        pre = fit(model, family.teacher_loss(model, task, params, "pool"), len(pool), val,
                  p.model_copy(update={"epochs": p.pretrain_epochs}), p.seed,
                  f"teacher {task.name} pre-training", out_dir / "pretrain", progress=progress,
                  metric_name=family.metric)
    pretrained = copy.deepcopy(model.state_dict()) if pre else None
    tune = p.model_copy(update={"lr": p.finetune_lr}) if pre and p.finetune_lr else p
    result = fit(model, family.teacher_loss(model, task, params), len(train), val, tune, p.seed,
                 f"teacher {task.name}", out_dir / "live", progress=progress,
                 metric_name=family.metric)
    # Model selection on validation covers the pre-trained weights too: fine-tuning on
    # a small training split can lose what the pool taught (kept and recorded if so).
    kept_pretrained = bool(pre and pre.best_val > result.best_val)
    if kept_pretrained:
        model.load_state_dict(pretrained)
    model = family.finish_teacher(model, task)
    test = family.evaluate(model, task, "test", params.model.beams)
    metrics = {"task": task.name, **{f"test_{k}": v for k, v in test.items()},
               **family.test_record(params), f"val_{family.metric}":
               pre.best_val if kept_pretrained else result.best_val,
               "best_epoch": -1 if kept_pretrained else result.best_epoch,
               "wall_s": result.wall_s + (pre.wall_s if pre else 0.0),
               "n_params": count_parameters(model), "n_train": len(train),
               "n_pool": len(task.splits["pool"]) if pre else 0,
               "pretrain_epochs": p.pretrain_epochs,
               f"pretrain_val_{family.metric}": pre.best_val if pre else None,
               "kept_pretrained": kept_pretrained}
    atomic_torch_save({"state_dict": model.state_dict(),
                       "config_hash": config_hash(teacher_config(params, task.name))},
                      ckpt_path)
    write_metrics(out_dir, metrics)
    return metrics


def run_teacher(task: Task, params: Params, progress: bool = True) -> dict:
    """The teacher stage of one task (outputs under ``paths.teacher_paths``)."""
    return train_teacher(task, params, *teacher_paths(task.name), progress)


def load_teacher(task: Task, params: Params, ckpt_path: Path | None = None) -> nn.Module:
    """The trained teacher, frozen; refuses a checkpoint made with other parameters."""
    path = Path(ckpt_path or teacher_paths(task.name)[1])
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run the teacher stage first "
                                f"(dvc repro teacher@{task.name})")
    ckpt = torch.load(path, weights_only=True, map_location=task.device)
    expected = config_hash(teacher_config(params, task.name))
    if ckpt["config_hash"] != expected:
        raise ValueError(f"{path} was trained with other parameters (config hash "
                         f"{ckpt['config_hash']} != {expected}); rerun the teacher stage")
    model = task.family.build(task, params.model.teacher_depth, params.model.width, params)
    model.load_state_dict(ckpt["state_dict"])
    return model.eval().requires_grad_(False)
