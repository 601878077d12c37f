"""The decoder-only teacher (stage ``llm_teacher``): a Qwen3 pre-trained as a
language model on the facts pool, then fine-tuned on the questions, as the
paper's teacher is a pre-trained LLM fine-tuned on each task (llm/finetune.py).

Pre-training keeps its best epoch on validation multiple choice (what it
knows); fine-tuning keeps its best on the mean of multiple choice and exact
match (``task.selection_score``). With ``rehearse_pool`` the pool's statements
are fine-tuned on beside the questions: without them the teacher forgets the
facts of the people it is not asked about (probe in README).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..config import LLM_TASK, LLMParams
from ..io import atomic_torch_save, write_metrics
from ..models import count_parameters
from ..paths import teacher_paths
from ..stages.teacher import config_hash
from ..train.loop import fit, set_seed
from .distill import lm_loss_fn
from .harness import harness_scores
from .qwen import build_qwen3
from .task import Facts, model_config, selection_score


def teacher_config(llm: LLMParams) -> dict:
    """What the teacher checkpoint depends on: data, model and its training."""
    return {"task": LLM_TASK, **llm.model_dump(include={"data", "model", "teacher"})}


def train_teacher(llm: LLMParams, facts: Facts, out_dir: Path, ckpt_path: Path,
                  progress: bool = True) -> dict:
    """Pre-train, fine-tune, score and save the teacher; returns its metrics."""
    p = llm.teacher
    set_seed(p.seed)
    model = build_qwen3(model_config(llm, facts), seed=p.seed)
    pre = None
    if p.pretrain_epochs:
        pool = facts["x_pool"]
        pre = fit(model, lm_loss_fn(model, pool), len(pool),
                  lambda: facts.scores(model, "val")["mc"],
                  p.model_copy(update={"epochs": p.pretrain_epochs, "lr": p.pretrain_lr}),
                  p.seed, f"teacher {LLM_TASK} pre-training", out_dir / "pretrain",
                  progress=progress, metric_name="mc")
    pretrained = facts.scores(model, "val")
    tune = facts.rehearsal_set() if p.rehearse_pool else facts["x_train"]
    result = fit(model, lm_loss_fn(model, tune), len(tune),
                 lambda: selection_score(facts.scores(model, "val")), p, p.seed,
                 f"teacher {LLM_TASK}", out_dir / "live", progress=progress, metric_name="score")
    test = harness_scores(model, facts, "test")
    metrics = {"task": LLM_TASK, **{f"test_{k}": v for k, v in test.items()},
               **{f"test_{k}_native": v for k, v in facts.scores(model, "test").items()},
               "val_score": result.best_val, "best_epoch": result.best_epoch,
               **{f"pretrained_val_{k}": v for k, v in pretrained.items()},
               "wall_s": result.wall_s + (pre.wall_s if pre else 0.0),
               "n_params": count_parameters(model), "n_finetune": len(tune),
               "n_questions": len(facts["x_train"]), "n_pool": len(facts["x_pool"]),
               "pretrain_epochs": p.pretrain_epochs, "rehearse_pool": p.rehearse_pool,
               "depth": llm.model.teacher_depth}
    atomic_torch_save({"state_dict": model.state_dict(),
                       "config_hash": config_hash(teacher_config(llm))}, ckpt_path)
    write_metrics(out_dir, metrics)
    return metrics


def run_teacher(llm: LLMParams, progress: bool = True) -> dict:
    """The ``llm_teacher`` stage (outputs under ``paths.teacher_paths("facts")``)."""
    return train_teacher(llm, Facts.load(), *teacher_paths(LLM_TASK), progress)


def load_teacher(llm: LLMParams, facts: Facts, ckpt_path: Path | None = None):
    """The trained teacher, frozen; refuses a checkpoint made with other parameters."""
    path = Path(ckpt_path or teacher_paths(LLM_TASK)[1])
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run the teacher stage first "
                                "(dvc repro llm_teacher)")
    ckpt = torch.load(path, weights_only=True)
    expected = config_hash(teacher_config(llm))
    if ckpt["config_hash"] != expected:
        raise ValueError(f"{path} was trained with other parameters (config hash "
                         f"{ckpt['config_hash']} != {expected}); rerun llm_teacher")
    model = build_qwen3(model_config(llm, facts))
    model.load_state_dict(ckpt["state_dict"])
    return model.eval().requires_grad_(False)
