"""Teacher training and distillation for the generation tasks (encoder-decoder).

The same protocol as the classification runs in ``experiment``: the teacher
trains on the whole training split; each student sees the first
``distill.transfer_size`` pairs; the strategy is applied to the encoder and the
decoder stacks separately (``seq2seq.seq2seq_pairs``); the teacher's outputs on
the transfer set are computed once (``Seq2SeqTeacherCache``). Checkpoints are
selected on validation BLEU of greedy decodes (cheap, every epoch); test BLEU
and exact match are reported for decodes with ``model.beams`` beams (recorded
as ``beams`` in the metrics).
"""

from __future__ import annotations

from pathlib import Path

from .config import Params
from .experiment import hidden_shares, run_fields, run_name
from .io import atomic_torch_save, atomic_write_json
from .losses import Objective
from .models import count_parameters
from .seq2seq import (EncoderDecoder, Seq2SeqDistiller, Seq2SeqTeacherCache, ce_loss_fn,
                      distill_loss_fn, evaluate_seq2seq, initialise_seq2seq, seq2seq_pairs)
from .tasks import Task
from .train import fit, set_seed


def _scores(model: EncoderDecoder, task: Task, split: str, beams: int = 1) -> dict[str, float]:
    return evaluate_seq2seq(model, task.splits[split], vocab=task.tgt_vocab, beams=beams)


def train_teacher_generation(task: Task, params: Params, out_dir: Path, ckpt_path: Path,
                             hash_: str, progress: bool = True) -> dict:
    p = params.teacher
    set_seed(p.seed)
    model = task.encoder(params.model.teacher_depth, params.model.width, params)
    train = task.splits["train"]
    result = fit(model, ce_loss_fn(model, train), len(train),
                 lambda: _scores(model, task, "val")["bleu"], p, p.seed,
                 f"teacher {task.name}", out_dir / "live", progress=progress,
                 metric_name="bleu")
    test = _scores(model, task, "test", params.model.beams)
    metrics = {"task": task.name, "test_bleu": test["bleu"],
               "test_exact_match": test["exact_match"], "beams": params.model.beams,
               "val_bleu": result.best_val,
               "best_epoch": result.best_epoch, "wall_s": result.wall_s,
               "n_params": count_parameters(model), "n_train": len(train)}
    atomic_torch_save({"state_dict": model.state_dict(), "config_hash": hash_}, ckpt_path)
    atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics


def teacher_cache_generation(teacher: EncoderDecoder, task: Task,
                             params: Params) -> Seq2SeqTeacherCache:
    transfer = task.splits["train"].subset(params.distill.transfer_size)
    return Seq2SeqTeacherCache.compute(teacher, transfer.x, transfer.y)


def seq2seq_pairs_at(params: Params, strategy: str, seed: int, epoch: int):
    """(encoder pairs, decoder pairs) of a strategy at one epoch (only in-order
    random draws anew each epoch)."""
    d, m = params.distill, params.model
    return seq2seq_pairs(strategy, (d.student_depth, d.student_depth),
                         (m.teacher_depth, m.teacher_depth), seed=seed,
                         epoch=epoch if strategy == "in_order_random" else 0,
                         target=d.all_to_one_target, embeddings=d.match_embeddings)


def build_seq2seq_distiller(task: Task, params: Params, teacher: EncoderDecoder, init: str,
                            strategy: str, seed: int) -> Seq2SeqDistiller:
    """A generation run's student and projections exactly as its training starts
    (seeded, initialised, paired for epoch 0)."""
    d = params.distill
    set_seed(seed)
    student = initialise_seq2seq(task.encoder(d.student_depth, params.student_width, params),
                                 init, teacher)
    return Seq2SeqDistiller(student, *seq2seq_pairs_at(params, strategy, seed, 0),
                            teacher_width=params.model.width,
                            objective=Objective.from_params(d))


def distill_generation(task: Task, params: Params, teacher: EncoderDecoder,
                       cache: Seq2SeqTeacherCache, init: str, strategy: str, seed: int,
                       out_dir: Path | None = None, ckpt_path: Path | None = None,
                       progress: bool = True) -> dict:
    """Train one encoder-decoder student; metrics to out_dir, weights to ckpt_path."""
    d = params.distill
    distiller = build_seq2seq_distiller(task, params, teacher, init, strategy, seed)
    student = distiller.student
    transfer = task.splits["train"].subset(d.transfer_size)
    enc_pairs0, dec_pairs0 = list(distiller.enc_pairs), list(distiller.dec_pairs)

    def on_epoch_start(epoch: int) -> None:
        distiller.enc_pairs, distiller.dec_pairs = seq2seq_pairs_at(params, strategy, seed, epoch)

    name = run_name(task, init, strategy, seed)
    result = fit(distiller, distill_loss_fn(distiller, transfer, cache), len(transfer),
                 lambda: _scores(student, task, "val")["bleu"], d, seed, name,
                 None if out_dir is None else out_dir / "live", on_epoch_start, progress,
                 metric_name="bleu")
    test = _scores(student, task, "test", params.model.beams)
    metrics = {**run_fields(task, params, init, strategy, seed), "test_bleu": test["bleu"],
               "test_exact_match": test["exact_match"], "beams": params.model.beams,
               "val_bleu": result.best_val, "best_epoch": result.best_epoch,
               "wall_s": result.wall_s, "n_params": count_parameters(distiller),
               "pairs": enc_pairs0, "dec_pairs": dec_pairs0,
               **hidden_shares(distiller.objective, result.history)}
    if ckpt_path is not None:
        atomic_torch_save({"state_dict": distiller.state_dict(), "metrics": metrics}, ckpt_path)
    if out_dir is not None:
        atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics
