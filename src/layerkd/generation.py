"""Teacher training and distillation for the generation tasks (encoder-decoder).

The same protocol as the classification runs in ``experiment``: the teacher
trains on the whole training split; each student sees the first
``distill.transfer_size`` pairs; the strategy is applied to the encoder and the
decoder stacks separately (``seq2seq.seq2seq_pairs``); the teacher's outputs on
the transfer set are computed once (``Seq2SeqTeacherCache``). Checkpoints are
selected on validation BLEU of greedy decodes (cheap, every epoch); test BLEU
and exact match are reported for decodes with ``model.beams`` beams (recorded
as ``beams`` in the metrics).

A student run is two steps: ``build_seq2seq_distiller`` (seeds the global RNG,
initialises the student and its projections) and ``train_seq2seq_distiller``
(trains a built distiller and writes its outputs; touches no global RNG: the
batch order comes from ``fit``'s own generator, ``in_order_random`` pairs from
their own ``random.Random``). ``distill_generation`` does both for one run.
``distill_generation_runs`` trains several runs of one task and initialisation:
it builds every distiller in the main thread, in run order, then trains them in
a pool of worker threads with one torch intra-op thread each (the small
students use several cores poorly; torch operations release the GIL). A run's
results equal those of a sequential run at one intra-op thread (torch's results
may differ by rounding between thread counts); ``wall_s`` is each run's own
wall time, measured while sharing the machine with the other workers.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

import torch
from tqdm import tqdm

from .batched import Run, default_workers
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


def train_seq2seq_distiller(task: Task, params: Params, distiller: Seq2SeqDistiller,
                            cache: Seq2SeqTeacherCache, init: str, strategy: str, seed: int,
                            out_dir: Path | None = None, ckpt_path: Path | None = None,
                            progress: bool = True,
                            stop: threading.Event | None = None) -> dict:
    """Train a distiller built by ``build_seq2seq_distiller`` (same init, strategy and
    seed); metrics to out_dir, weights to ckpt_path. Uses no global RNG, so it may
    run in a worker thread. stop: when set, raise ``RunStopped`` at the next epoch."""
    d = params.distill
    student = distiller.student
    transfer = task.splits["train"].subset(d.transfer_size)
    enc_pairs0, dec_pairs0 = list(distiller.enc_pairs), list(distiller.dec_pairs)
    name = run_name(task, init, strategy, seed)

    def on_epoch_start(epoch: int) -> None:
        if stop is not None and stop.is_set():
            raise RunStopped(f"{name}: stopped, another run failed")
        distiller.enc_pairs, distiller.dec_pairs = seq2seq_pairs_at(params, strategy, seed, epoch)

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


def distill_generation(task: Task, params: Params, teacher: EncoderDecoder,
                       cache: Seq2SeqTeacherCache, init: str, strategy: str, seed: int,
                       out_dir: Path | None = None, ckpt_path: Path | None = None,
                       progress: bool = True) -> dict:
    """Train one encoder-decoder student; metrics to out_dir, weights to ckpt_path."""
    distiller = build_seq2seq_distiller(task, params, teacher, init, strategy, seed)
    return train_seq2seq_distiller(task, params, distiller, cache, init, strategy, seed,
                                   out_dir, ckpt_path, progress)


class RunStopped(RuntimeError):
    """A run of ``distill_generation_runs`` stopped early because another run failed."""


def distill_generation_runs(task: Task, params: Params, teacher: EncoderDecoder,
                            cache: Seq2SeqTeacherCache, init: str, runs: list[Run],
                            workers: int | None = None, progress: bool = True,
                            desc: str | None = None) -> list[dict]:
    """Train the encoder-decoder students of ``runs`` (one task and init); like calling
    ``distill_generation`` for each run, and writing the same outputs. Metrics in
    run order.

    workers: threads training runs side by side, one torch intra-op thread each
    (default: ``batched.default_workers``, one per torch CPU thread, 1 on a GPU);
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
                rows.append(distill_generation(task, params, teacher, cache, init, r.strategy,
                                               r.seed, r.out_dir, r.ckpt_path, progress=False))
        return rows
    distillers = [build_seq2seq_distiller(task, params, teacher, init, r.strategy, r.seed)
                  for r in runs]
    stop = threading.Event()

    def train(i: int) -> dict:
        r, distiller = runs[i], distillers[i]
        distillers[i] = None  # the worker holds the only reference: freed when it is done
        try:
            with _named(names[i]):
                return train_seq2seq_distiller(task, params, distiller, cache, init,
                                               r.strategy, r.seed, r.out_dir, r.ckpt_path,
                                               progress=False, stop=stop)
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
            e.add_note(f"in generation run {name}")
        raise
