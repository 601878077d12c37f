"""Benchmark: the students on the native models vs `transformers` (BERT, BART, T5).

    make bench        (or: python bench/backends.py [--quick] [--out DIR])

``model.backend`` chooses where the classification tasks' models come from.
Both give the same hidden states once the weights are the same
(tests/test_transformers_backend.py); this measures what each costs at the
default sizes (params.yaml: width, heads, MLP ratio, teacher and student
depths, batch size) on MNIST-shaped inputs (16 patch tokens of 49 features):
one distillation step of a student (forward, every loss, backward, AdamW) with
the teacher's outputs cached, at one torch thread (a worker's setting) and at
all threads. The generation tasks the same way on their own data and sizes
(``params.for_task``): ``scan`` (post-norm: native vs BART) and ``numbers_ro``
(pre-norm: native vs T5), through the families' own loss, on random ids of the
committed splits' shapes (``generation.synthetic_task``).

Writes backends.md and backends.json next to this file (or to --out).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from layerkd.config import load_params
from layerkd.distill.distiller import Distiller
from layerkd.distill.objective import Objective
from layerkd.models import Encoder
from layerkd.models.bert import BertClassifier
from layerkd.strategies import match_layers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOKENS, FEATURES, CLASSES = 16, 49, 10


def build(backend: str, depth: int, params):
    m = params.model
    if backend == "native":
        return Encoder(FEATURES, CLASSES, TOKENS, depth, m.width, m.heads, m.mlp_ratio,
                       norm=m.norm)
    return BertClassifier(FEATURES, CLASSES, TOKENS, depth, m.width, m.heads, m.mlp_ratio)


def step_ms(backend: str, params, threads: int, repeats: int) -> float:
    """Median wall time (ms) of one distillation step, forward pairs."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    d, m = params.distill, params.model
    teacher = build(backend, m.teacher_depth, params).eval()
    student = build(backend, d.student_depth, params)
    pairs = match_layers("forward", d.student_depth, m.teacher_depth)
    distiller = Distiller(student, pairs, teacher_width=m.width, objective=Objective.from_params(d))
    x = torch.randn(d.batch_size, TOKENS, FEATURES)
    y = torch.randint(0, CLASSES, (d.batch_size,))
    with torch.no_grad():
        t_logits, t_hiddens = teacher(x)
    opt = torch.optim.AdamW(distiller.parameters(), lr=d.lr, fused=True)
    times = []
    for i in range(repeats + 3):  # three warm-up steps
        start = time.perf_counter()
        _, losses = distiller(x, y, None, t_logits, t_hiddens)
        opt.zero_grad(set_to_none=True)
        losses["total"].backward()
        opt.step()
        if i >= 3:
            times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def seq2seq_step_ms(task_name: str, backend: str, params, threads: int, repeats: int) -> float:
    """Median wall time (ms) of one distillation step of a generation task's student
    (forward pairs, teacher cached), through its family's own loss function."""
    from generation import synthetic_task  # bench/ is this script's first import path

    from layerkd.distill.objective import Objective as Obj

    torch.set_num_threads(threads)
    view = params.for_task(task_name)
    task = synthetic_task(view, task_name)
    if backend == "transformers":
        task.family_name = "seq2seq_transformers"
    family, d, m = task.family, view.distill, view.model
    torch.manual_seed(0)
    teacher = family.build(task, m.teacher_depth, m.width, view).eval()
    student = family.build(task, d.student_depth, m.width, view)
    distiller = family.distiller(student, family.pairs(view, "forward", 0), m.width,
                                 Obj.from_params(d))
    transfer = task.splits["train"]
    loss_fn = family.distill_loss(distiller, transfer, family.cache(teacher, transfer))
    opt = torch.optim.AdamW(distiller.parameters(), lr=d.lr, fused=True)
    gen, times = torch.Generator().manual_seed(0), []
    for i in range(repeats + 3):  # three warm-up steps
        idx = torch.randint(len(transfer), (d.batch_size,), generator=gen)
        start = time.perf_counter()
        loss, _ = loss_fn(idx)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 3:
            times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


GENERATION = {"scan": "BART", "numbers_ro": "T5"}  # task -> its transformers model


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few repeats (tests)")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args(argv)
    params = load_params(ROOT / "params.yaml")
    repeats = 3 if args.quick else 30
    all_threads = torch.get_num_threads()
    rows = {backend: {threads: step_ms(backend, params, threads, repeats)
                      for threads in sorted({1, all_threads})}
            for backend in ("native", "transformers")}
    torch.set_num_threads(all_threads)
    result = {"batch_size": params.distill.batch_size, "width": params.model.width,
              "teacher_depth": params.model.teacher_depth,
              "student_depth": params.distill.student_depth, "repeats": repeats,
              "step_ms": rows,
              "transformers_over_native": {t: rows["transformers"][t] / rows["native"][t]
                                           for t in rows["native"]}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Classification students: native encoder vs transformers BERT", "",
             f"One distillation step (forward pairs, cached teacher), batch "
             f"{result['batch_size']}, width {result['width']}, {result['student_depth']}-block "
             f"student, {result['teacher_depth']}-block teacher; median of {repeats} steps "
             "(`python bench/backends.py`).", "",
             "| torch threads | native (ms) | transformers (ms) | transformers / native |",
             "|---|---|---|---|"]
    for t in rows["native"]:
        lines.append(f"| {t} | {rows['native'][t]:.1f} | {rows['transformers'][t]:.1f} | "
                     f"{result['transformers_over_native'][t]:.2f}x |")
    lines += ["", "The native encoder also trains many students as stacked tensors "
              "(`distill.batch_students`, bench/results.md); the transformers backend "
              "trains them in threads, one torch thread each."]
    generation = {task: {backend: {t: seq2seq_step_ms(task, backend, params, t, repeats)
                                   for t in sorted({1, all_threads})}
                         for backend in ("native", "transformers")} for task in GENERATION}
    torch.set_num_threads(all_threads)
    result["generation_step_ms"] = generation
    lines += ["", "# Generation students: native encoder-decoder vs transformers BART / T5", "",
              "One distillation step of each task's student (forward pairs, cached teacher) "
              "at the task's own sizes, on random ids of its splits' shapes; median of "
              f"{repeats} steps.", "",
              "| task | transformers model | torch threads | native (ms) | transformers (ms) "
              "| transformers / native |", "|---|---|---|---|---|---|"]
    for task, rows_ in generation.items():
        for t in rows_["native"]:
            native, hf = rows_["native"][t], rows_["transformers"][t]
            lines.append(f"| {task} | {GENERATION[task]} | {t} | {native:.1f} | {hf:.1f} | "
                         f"{hf / native:.2f}x |")
    (out / "backends.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "backends.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
