"""Benchmark: the encoder-decoder students (the generation tasks), where their time goes.

    make bench        (or: python bench/generation.py [--task scan] [--quick] [--out DIR])

Measured side by side in one run, at the sizes params.yaml gives the task
(teacher and student depths, width, batch size, transfer and validation set
sizes) on synthetic ids of its data's shapes (a step's cost does not depend
on the values, so no pipeline output is needed):

1. whole runs trained together (``distill.threads``: one student per core)
   vs one after another on all cores, and the metrics of both (equal);
2. the cost of one training step per 32 examples as the batch grows: the most
   that stacking students into larger grouped operations could save (a batch
   of B examples for one student does at least the work of B / 32 students'
   steps, with fewer, larger operations);
3. the changes to the per-step overhead that were tried, each measured against
   the step as trained: AdamW's multi-tensor and fused updates, the explicit
   ("math") attention kernel instead of the flash kernel, ``torch.compile``;
4. greedy decoding of the validation split (checkpoint selection) against one
   training epoch;
5. achieved GFLOP/s of the step against this machine's float32 (and bfloat16)
   matrix-multiply peak at one thread, the setting every worker trains at.

Writes generation.md and generation.json next to this file (or to --out).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from layerkd.config import load_params
from layerkd.data import Split
from layerkd.distill.run import Run, build_run
from layerkd.distill.threads import train_in_threads
from layerkd.models import BOS_ID, EOS_ID, PAD_ID
from layerkd.stages.students import teacher_cache
from layerkd.tasks import Task

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ is the first import path of a script run from it (python bench/generation.py)
from bench import ATTENTION_FLOPS, busy_fraction, matmul_gflops, peak_rss_mb  # noqa: E402

# The committed generation splits' shapes (ids incl. BOS / EOS / padding; vocabularies
# incl. the three specials; mean real target tokens): data/<task>.npz
SHAPES = {"scan": dict(src_len=10, tgt_len=26, src_vocab=16, tgt_vocab=9, mean_tgt=12.8),
          "numbers_ro": dict(src_len=12, tgt_len=12, src_vocab=36, tgt_vocab=40, mean_tgt=10.1)}
BATCHES = (32, 64, 128, 256)


def split_sizes(params, task: str) -> tuple[int, int]:
    """(transfer, validation) sizes of the task in params.yaml."""
    data = getattr(params.data, task)
    if task == "scan":
        return data.max_train, data.max_val
    return data.n_train, data.n_val


def synthetic_task(params, name: str, seed: int = 0) -> Task:
    """Random ids with the task's shapes: sources padded after a random length,
    targets BOS, words, EOS, padding (mean length as the real data's)."""
    s = SHAPES[name]
    g = torch.Generator().manual_seed(seed)

    def ids(n, length, vocab, mean):
        lengths = (torch.rand(n, generator=g) * 2 * mean).long().clamp(1, length - 2)
        words = torch.randint(3, vocab, (n, length), generator=g)
        pos = torch.arange(length)[None]
        return torch.where(pos < lengths[:, None], words, PAD_ID), lengths

    def split(n):
        src, _ = ids(n, s["src_len"], s["src_vocab"], s["src_len"] * 0.8)
        words, lengths = ids(n, s["tgt_len"] - 1, s["tgt_vocab"], s["mean_tgt"] - 2)
        tgt = torch.cat([torch.full((n, 1), BOS_ID), words], 1)
        tgt[torch.arange(n), lengths + 1] = EOS_ID
        return Split(src, tgt)

    n_train, n_val = split_sizes(params, name)
    vocab = lambda n: ["<pad>", "<bos>", "<eos>"] + [f"w{i}" for i in range(n - 3)]  # noqa: E731
    return Task(name, {"train": split(n_train), "val": split(n_val), "test": split(n_val)},
                None, 0, s["src_len"], src_vocab=vocab(s["src_vocab"]),
                tgt_vocab=vocab(s["tgt_vocab"]), family_name="seq2seq")


def timed(fn, repeats: int, warmup: int = 2) -> float:
    """Median seconds of fn() over `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_step(task, params, teacher, cache, batch: int, optim: dict | None = None,
              compiled: bool = False):
    """One student's training step (forward strategy, random init) on a fixed batch."""
    distiller = build_run(task, params, teacher, "random", "forward", 0)
    transfer = task.splits["train"]
    loss_fn = task.family.distill_loss(distiller, transfer, cache)
    idx = torch.arange(batch) % len(transfer)
    optimizer = torch.optim.AdamW(distiller.parameters(), lr=params.distill.lr, **(optim or {}))

    def loss():
        return loss_fn(idx)[0]

    forward = torch.compile(loss, dynamic=False) if compiled else loss

    def step():
        value = forward()
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()

    return step


def whole_runs(task, params, teacher, cache, epochs: int) -> dict:
    """Six runs (none / forward / reverse x 2 seeds), one after another on all cores
    vs side by side in worker threads; their metrics must agree."""
    p = params.model_copy(update={"distill": params.distill.model_copy(
        update={"epochs": epochs, "val_every": max(1, epochs // 2)})})
    runs = [Run(s, k) for s in ("none", "forward", "reverse") for k in (0, 1)]
    out = {}
    for label, workers in (("one_at_a_time", 1), ("together", None)):
        start = time.perf_counter()
        rows = train_in_threads(task, p, teacher, cache, "random", runs, workers=workers,
                                progress=False)
        out[label + "_s"] = time.perf_counter() - start
        out[label + "_bleu"] = [r["test_bleu"] for r in rows]
    diff = max(abs(a - b) for a, b in zip(out["one_at_a_time_bleu"], out["together_bleu"]))
    return {**out, "runs": len(runs), "epochs": epochs, "max_bleu_diff": diff,
            "speedup": out["one_at_a_time_s"] / out["together_s"]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--task", default="scan", choices=sorted(SHAPES))
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no torch.compile")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else 9
    busy_before = busy_fraction()
    start = time.perf_counter()
    params = load_params(args.params).for_task(args.task)
    d, m = params.distill, params.model
    torch.manual_seed(0)
    task = synthetic_task(params, args.task)
    teacher = task.build_model(m.teacher_depth, m.width, params).eval().requires_grad_(False)
    cache = teacher_cache(task, params, teacher)
    threads = torch.get_num_threads()
    r = {"task": args.task, "threads": threads, "torch": torch.__version__,
         "sizes": {"teacher_depth": m.teacher_depth, "student_depth": d.student_depth,
                   "width": m.width, "batch_size": d.batch_size,
                   "transfer": len(task.splits["train"]), "val": len(task.splits["val"]),
                   **SHAPES[args.task]}}
    r["whole_runs"] = whole_runs(task, params, teacher, cache, 2 if args.quick else 6)
    torch.set_num_threads(1)  # every worker of the engine trains at one intra-op thread
    try:
        per_batch = {b: timed(make_step(task, params, teacher, cache, b), repeats)
                     for b in BATCHES}
        r["per_32_examples_ms"] = {b: 1e3 * t * 32 / b for b, t in per_batch.items()}
        r["stacking_ceiling"] = r["per_32_examples_ms"][32] / min(r["per_32_examples_ms"].values())
        b = d.batch_size
        base = make_step(task, params, teacher, cache, b)
        variants = {
            "as trained (AdamW per-tensor loop, flash attention)": base,
            "AdamW foreach=True": make_step(task, params, teacher, cache, b, {"foreach": True}),
            "AdamW fused=True": make_step(task, params, teacher, cache, b, {"fused": True}),
        }
        math_step = make_step(task, params, teacher, cache, b)

        def explicit_attention():
            with sdpa_kernel(SDPBackend.MATH):
                math_step()

        variants["explicit (math) attention kernel"] = explicit_attention
        compile_s = None
        if not args.quick:
            compiled = make_step(task, params, teacher, cache, b, compiled=True)
            t0 = time.perf_counter()
            compiled()
            compile_s = time.perf_counter() - t0
            variants["torch.compile of the loss (after compiling)"] = compiled
        step_s = {}
        for _ in range(2):  # interleaved: each variant's median over both passes
            for name, fn in variants.items():
                step_s.setdefault(name, []).append(timed(fn, repeats))
        r["variants_ms"] = {k: 1e3 * min(v) for k, v in step_s.items()}
        r["compile_s"] = compile_s
        with FlopCounterMode(display=False, custom_mapping=ATTENTION_FLOPS) as counter:
            base()
        r["step_gflop"] = counter.get_total_flops() / 1e9
        r["matmul_peak_gflops"] = max(matmul_gflops((n, n), (n, n)) for n in (256, 512, 1024))
        a = torch.randn(1024, 1024, dtype=torch.bfloat16)
        t_bf16 = timed(lambda: a @ a, repeats)
        r["bf16_peak_gflops"] = 2 * 1024**3 / t_bf16 / 1e9
        distiller = build_run(task, params, teacher, "random", "forward", 0)
        r["val_decode_s"] = timed(lambda: task.family.evaluate(distiller.student, task, "val"),
                                  max(1, repeats // 3), warmup=1)
        steps_per_epoch = -(-len(task.splits["train"]) // b)
        r["epoch_s"] = steps_per_epoch * r["variants_ms"][next(iter(variants))] / 1e3
    finally:
        torch.set_num_threads(threads)
    r["validations_per_run"] = -(-d.epochs // d.val_every)
    r["peak_rss_mb"] = peak_rss_mb()
    r["bench_wall_s"] = time.perf_counter() - start
    r["cpu_busy"] = max(busy_before, busy_fraction())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "generation.json").write_text(json.dumps(r, indent=1) + "\n")
    (out / "generation.md").write_text(render(r))
    print(render(r))
    return r


def render(r: dict) -> str:
    sz, w = r["sizes"], r["whole_runs"]
    ms = r["variants_ms"]
    base = next(iter(ms.values()))
    gflops = r["step_gflop"] / (base / 1e3)
    epochs = r["epoch_s"]
    lines = [
        f"# Benchmark: the encoder-decoder students ({r['task']}'s shapes)",
        "",
        f"Generated by `make bench` (bench/generation.py), torch {r['torch']}, "
        f"{r['threads']} threads; every figure below was measured in this one run "
        f"({r['bench_wall_s']:.0f} s, peak RSS {r['peak_rss_mb']:.0f} MiB). Sizes "
        f"(params.yaml, task `{r['task']}`): teacher {sz['teacher_depth']}+"
        f"{sz['teacher_depth']} blocks, student {sz['student_depth']}+{sz['student_depth']}, "
        f"width {sz['width']}, batch {sz['batch_size']}, {sz['transfer']} transfer pairs, "
        f"{sz['val']} validation pairs; synthetic ids of the data's shapes (sources "
        f"{sz['src_len']}, targets {sz['tgt_len']} ids, about {sz['mean_tgt']} real).",
    ]
    if r["cpu_busy"] > 0.25:
        lines += ["", f"**Warning: the machine was busy** ({100 * r['cpu_busy']:.0f}% of the "
                  "CPUs in use around the run): rerun on an idle machine."]
    lines += [
        "",
        "## 1. Students trained together (whole runs)",
        "",
        f"{w['runs']} runs of {w['epochs']} epochs (build, train, validate, test): one after "
        f"another on all {r['threads']} threads {w['one_at_a_time_s']:.1f} s; side by side, "
        f"one per core (`distill.threads`, the family's engine) {w['together_s']:.1f} s: "
        f"**{w['speedup']:.2f}x**. Test BLEU of the two differ by at most "
        f"{w['max_bleu_diff']:.2g} (rounding: one vs {r['threads']} intra-op threads).",
        "",
        "## 2. Cost per 32 examples as the batch grows (one thread)",
        "",
        "| batch | ms per 32 examples |",
        "|---:|---:|",
        *[f"| {b} | {v:.1f} |" for b, v in r["per_32_examples_ms"].items()],
        "",
        f"Stacking students into grouped operations can save at most what a larger batch "
        f"saves one student: **{r['stacking_ceiling']:.2f}x** here (the classifier family's "
        "stacked engine, results.md section 2, gains more: its fixed per-step cost is a "
        "larger share of a step). The "
        "work that remains scales with the examples: attention, LayerNorm, GELU, softmax, "
        "AdamW.",
        "",
        f"## 3. Per-step overhead: changes tried (one thread, batch {sz['batch_size']})",
        "",
        "| step | median ms | vs as trained |",
        "|---|---:|---:|",
        *[f"| {k} | {v:.1f} | {base / v:.2f}x |" for k, v in ms.items()],
        "",
    ]
    if r["compile_s"] is not None:
        lines += [f"`torch.compile` first call: {r['compile_s']:.0f} s, paid again for every "
                  "new graph (each strategy's pairs, every `in_order_random` epoch, the "
                  "last partial batch) in every stage process.", ""]
    lines += [
        "## 4. Checkpoint selection: greedy decoding of the validation split",
        "",
        f"One decode of the {sz['val']} validation pairs: {r['val_decode_s']:.2f} s; one "
        f"training epoch: {epochs:.2f} s (steps as trained). A default run validates "
        f"{r['validations_per_run']} times (`distill.val_every`); the official BART code "
        "also selects on validation BLEU of decodes.",
        "",
        "## 5. Achieved GFLOP/s (one thread)",
        "",
        f"A step counts {r['step_gflop']:.3f} GFLOP (matrix products and attention) and runs "
        f"at {gflops:.1f} GFLOP/s: {100 * gflops / r['matmul_peak_gflops']:.0f}% of this "
        f"core's float32 matrix-multiply peak ({r['matmul_peak_gflops']:.0f} GFLOP/s; "
        f"bfloat16: {r['bf16_peak_gflops']:.0f} GFLOP/s, which only the matrix products "
        "would use).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
