"""The decoder-only students (stage ``llm_distill``): for every init, strategy
and seed a layer-reduced Qwen3 (``qwen.layer_reduced_student``) distilled on
the fine-tuning questions with the official LLM objective (``distill``), scored
on the test questions (exact match) and multiple choice (accuracy).

Pairs come from ``strategies.match_layers`` without the embedding output, as
llm/sft_trainer.py (``select_*_matching``) pairs blocks only; ``random`` is a
fixed shuffle (official ``shuffle``). With ``llm.distill.lora.r`` > 0 the
student trains peft LoRA adapters on every linear layer instead of all its
weights (merged into the saved checkpoint). A finished run is kept when the
stage runs again under the same settings (``settings_key``).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import torch
from tqdm import tqdm

from ..config import LLM_TASK, LLMParams
from ..distill.objective import Objective
from ..distill.run import Run, hidden_shares, save_run
from ..models import count_parameters
from ..paths import run_paths, student_dirs
from ..stages.students import finished, remove_stale_runs, start_run
from ..strategies import REGISTRY, describe, match_layers
from ..train.loop import fit, set_seed
from .distill import LMDistiller, LMTeacherCache, distill_loss_fn
from .harness import harness_scores
from .qwen import copy_map, layer_reduced_student
from .task import Facts, selection_score

RECORD_VERSION = 2  # raise when a field of a run's metrics.json is added or changes meaning (2: time apart)


def objective(llm: LLMParams) -> Objective:
    """The official LLM objective: blocks only, pairs averaged, no batch division."""
    d = llm.distill
    return Objective(d.a_ce, d.a_kl, d.a_hid, d.temperature, d.hidden_distance, "mean", False,
                     False)


def pairs(llm: LLMParams, strategy: str, seed: int, epoch: int = 0):
    return match_layers(strategy, llm.distill.student_depth, llm.model.teacher_depth,
                        seed=seed, epoch=epoch, embeddings=False)


def with_lora(student, llm: LLMParams):
    """The student with peft LoRA adapters on every linear layer (r > 0), else itself."""
    lora = llm.distill.lora
    if not lora.r:
        return student
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=lora.r, lora_alpha=lora.alpha,
                        lora_dropout=lora.dropout, target_modules="all-linear")
    with warnings.catch_warnings():  # peft asks transformers a deprecated question, per run
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing` is deprecated")
        return get_peft_model(student, config)


def settings_key(llm: LLMParams, init: str, teacher) -> str:
    """A hash of what a run depends on but its strategy and seed: data, model,
    distill settings (the run lists excepted), the init and the teacher's weights."""
    d = llm.distill.model_dump(exclude={"strategies", "seeds", "inits"})
    h = hashlib.sha256(json.dumps([RECORD_VERSION, init, d, llm.model.model_dump(),
                                   llm.data.model_dump()], sort_keys=True).encode())
    for t in teacher.state_dict().values():
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def train_student(llm: LLMParams, facts: Facts, teacher, cache: LMTeacherCache, init: str,
                  strategy: str, seed: int, out_dir: Path | None = None,
                  ckpt_path: Path | None = None, progress: bool = True) -> dict:
    """Train one student; metrics to out_dir, merged weights to ckpt_path."""
    d, name = llm.distill, f"{LLM_TASK} {init} {strategy} seed {seed}"
    set_seed(seed)
    student = with_lora(layer_reduced_student(teacher, d.student_depth, init, seed), llm)
    distiller = LMDistiller(student, pairs(llm, strategy, seed), objective(llm))
    first_pairs = describe(distiller.pairs)
    n_trainable = sum(p.numel() for p in student.parameters() if p.requires_grad)

    def on_epoch_start(epoch: int) -> None:
        if REGISTRY[strategy].redraws_each_epoch:
            distiller.pairs = pairs(llm, strategy, seed, epoch)

    ids = facts["x_train"]
    result = fit(distiller, distill_loss_fn(distiller, ids, cache), len(ids),
                 lambda: selection_score(facts.scores(student, "val")), d, seed, name,
                 None if out_dir is None else out_dir / "live", on_epoch_start, progress,
                 metric_name="score")
    trained = student.merge_and_unload() if d.lora.r else student
    test = harness_scores(trained, facts, "test")
    metrics = {"task": LLM_TASK, "init": init, "strategy": strategy, "seed": seed,
               **{f"test_{k}": v for k, v in test.items()},
               **{f"test_{k}_native": v for k, v in facts.scores(trained, "test").items()},
               "val_score": result.best_val,
               "best_epoch": result.best_epoch, "wall_s": result.wall_s,
               "student_depth": d.student_depth, "teacher_depth": llm.model.teacher_depth,
               "copied_blocks": list(copy_map(llm.model.teacher_depth, d.student_depth))
               if init == "weight_copy" else None,
               "pairs": first_pairs, "transfer_size": len(ids), "epochs": d.epochs,
               "lr": d.lr, "lora": d.lora.model_dump(),
               "n_trainable": n_trainable,
               "n_params": count_parameters(trained), **objective(llm).record(),
               **hidden_shares(distiller.objective, result.history)}
    save_run(metrics, trained.state_dict(), out_dir, ckpt_path)
    return metrics


def run_students(llm: LLMParams, facts: Facts, teacher, progress: bool = True) -> list[dict]:
    """Every init x strategy x seed; a run finished under the same settings is kept."""
    d = llm.distill
    cache = LMTeacherCache.compute(teacher, facts["x_train"])
    todo = [(i, s, k) for i in d.inits for s in d.strategies for k in d.seeds]
    keys = {init: settings_key(llm, init, teacher) for init in d.inits}
    out = []
    for init, strategy, seed in tqdm(todo, desc=f"students {LLM_TASK}", disable=not progress,
                                     mininterval=10):
        run = Run(strategy, seed, *run_paths(*student_dirs(LLM_TASK, init), strategy, seed))
        kept = finished(run, keys[init])
        if kept is None:
            start_run(run, keys[init])
            kept = train_student(llm, facts, teacher, cache, init, strategy, seed, run.out_dir,
                                 run.ckpt_path, progress=False)
        out.append(kept)
    return out


def load_student(llm: LLMParams, teacher, init: str, strategy: str, seed: int):
    """A trained student (merged weights), frozen."""
    ckpt = run_paths(*student_dirs(LLM_TASK, init), strategy, seed)[1]
    if not ckpt.exists():
        raise FileNotFoundError(f"{ckpt} missing: run the distillation stage first "
                                "(dvc repro llm_distill)")
    student = layer_reduced_student(teacher, llm.distill.student_depth, "random", seed)
    student.load_state_dict(torch.load(ckpt, weights_only=True)["state_dict"])
    return student.eval().requires_grad_(False)
