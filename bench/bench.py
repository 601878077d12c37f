"""Benchmark: the cost of a distillation step, and students trained together.

    make bench        (or: python bench/bench.py [--params params.yaml] [--quick])

Everything is measured side by side in one run, at the model sizes of
params.yaml (teacher, student, tokens, batch size), with torch's default
thread count:

1. one student's distillation step (CE + KL + hidden matching against the
   cached teacher) vs the plain CE-only step of the same student (target <= 1.15x);
2. per-student training throughput of N students trained together
   (``layerkd.distill.together``) vs the same students one at a time (target >= 3x);
3. achieved GFLOP/s of the training steps beside the float32 matrix-multiply
   peak of this machine, measured in the same run; and the peak RSS.

Step times are medians over interleaved rounds after warm-up steps. Inputs are
synthetic with the default task's shapes (a step's cost does not depend on the
values), so no pipeline output is needed. Writes bench/results.md and
bench/results.json next to this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from itertools import cycle
from pathlib import Path

import torch
from torch.utils.flop_counter import (
    FlopCounterMode,
    sdpa_backward_flop_count,
    sdpa_flop_count,
)

from layerkd.config import load_params
from layerkd.data import Split
from layerkd.distill.cache import TeacherCache
from layerkd.distill.run import Run, build_run, distill_one
from layerkd.distill.together import StudentGroup, default_stack_size, distill_together
from layerkd.families.classifier import classification_loss
from layerkd.tasks import Task
from layerkd.train.loop import warmup_cosine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_DISTILL_OVER_CE = 1.15
TARGET_TOGETHER_SPEEDUP = 3.0
MATMUL_OPS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"}
ATTENTION_OPS = {"aten::_scaled_dot_product_flash_attention_for_cpu",
                 "aten::_scaled_dot_product_flash_attention_for_cpu_backward"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def synthetic_task(params, seed: int = 0) -> Task:
    """Random inputs with the default mnist task's shapes (16 patch tokens of 49
    pixels) and split sizes."""
    patch = params.data.mnist.patch
    tokens, features = (28 // patch) ** 2, patch * patch
    g = torch.Generator().manual_seed(seed)
    m = params.data.mnist  # the mnist students' transfer set (null: its whole training split)
    n_train = params.for_task("mnist").distill.transfer_size or 5000 - m.n_val - m.n_test
    sizes = {"train": n_train, "val": m.n_val, "test": m.n_test}
    splits = {k: Split(torch.rand(n, tokens, features, generator=g),
                       torch.randint(0, 10, (n,), generator=g)) for k, n in sizes.items()}
    return Task("bench", splits, features, 10, tokens, family_name="classifier")


def full_batches(n_train: int, batch: int, seeds: list[int], count: int = 64):
    """`count` full batches per student, each drawn from the student's own generator."""
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    out = []
    while len(out) < count:
        perms = torch.stack([torch.randperm(n_train, generator=g) for g in gens])
        out += [p for p in perms.split(batch, dim=1) if p.shape[1] == batch]
    return out[:count]


def single_step(task, params, teacher, cache, strategy: str, mode: str = "distill"):
    """One student's training step as ``fit`` runs it for ``distill.run.distill_one``.

    mode: "distill" (teacher layers gathered as the run needs them), "all_layers"
    (every teacher layer gathered, as before), or "ce" (CE-only on the student).
    """
    d = params.distill
    distiller = build_run(task, params, teacher, "random", strategy, 0)
    transfer = task.splits["train"]
    if mode == "ce":
        model, loss_fn = distiller.student, classification_loss(distiller.student, transfer)
    else:
        model = distiller

        def loss_fn(idx):
            layers = None if mode == "all_layers" else [t for _, t in distiller.pairs]
            t_logits, t_hiddens = cache.batch(idx, layers)
            _, losses = distiller(transfer.x[idx], transfer.y[idx], None, t_logits, t_hiddens)
            return losses["total"], {k: v.item() for k, v in losses.items()}

    optimizer = torch.optim.AdamW(model.parameters(), lr=d.lr, weight_decay=d.weight_decay)
    schedule = warmup_cosine(optimizer, 10**6, d.warmup_frac)
    batches = cycle(b[0] for b in full_batches(len(transfer), d.batch_size, [0]))
    model.train()

    def step():
        loss, _ = loss_fn(next(batches))
        if not torch.isfinite(loss):
            raise FloatingPointError("non-finite loss in the benchmark")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()

    return step


def together_step(task, params, teacher, cache, runs: list[tuple[str, int]],
                  backend: str = "bmm", workers: int | None = None,
                  stack_size: int | None = -1):
    """One training step of N students together, as ``distill_together`` runs it
    (split over `workers` threads, default one per torch thread, in stacks of
    `stack_size` students, default as distill_together: -1)."""
    d = params.distill
    if stack_size == -1:
        stack_size = default_stack_size(params, task)
    group = StudentGroup([build_run(task, params, teacher, "random", s, k)
                          for s, k in runs], d, 10**6, backend, workers, stack_size)
    transfer = task.splits["train"]
    batches = cycle(full_batches(len(transfer), d.batch_size, [k for _, k in runs]))

    def step():
        with group:  # starts and stops the worker threads: included in the time
            losses = group.train_step(next(batches), transfer, cache)
        if not bool(torch.isfinite(losses[:, -1]).all()):
            raise FloatingPointError("non-finite loss in the benchmark")
        losses.cpu().double()

    step.workers = group.workers
    step.stacks = len(group.stacks)
    return step


def median_times(steps: dict, rounds: int, per_round: int, warmup: int) -> dict:
    """Median seconds per call of each function, rounds interleaved across functions.

    Every round starts each function with one untimed call: switching between
    configurations (thread counts, worker threads) makes the first call after a
    switch slow, a cost that training a run never pays."""
    for f in steps.values():
        for _ in range(warmup):
            f()
    times = {k: [] for k in steps}
    for _ in range(rounds):
        for k, f in steps.items():
            f()  # settle
            start = time.perf_counter()
            for _ in range(per_round):
                f()
            times[k].append((time.perf_counter() - start) / per_round)
    return {k: statistics.median(v) for k, v in times.items()}


def matmul_gflops(shape_a, shape_b, repeats: int = 7) -> float:
    """Median GFLOP/s of a float32 (batched) matrix product of these shapes."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(*shape_a, generator=g), torch.randn(*shape_b, generator=g)
    flops = 2 * a.numel() * b.shape[-1]
    reps = max(1, int(2e8 // flops))  # >= ~0.2 GFLOP per timing
    for _ in range(2):
        torch.matmul(a, b)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(reps):
            torch.matmul(a, b)
        times.append((time.perf_counter() - start) / reps)
    return flops / statistics.median(times) / 1e9


ATTENTION_FLOPS = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu:
        lambda q, k, v, *args, out_shape=None, **kw: sdpa_flop_count(q, k, v),
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward:
        lambda g, q, k, v, *args, out_shape=None, **kw: sdpa_backward_flop_count(g, q, k, v),
}


def count_flops(step) -> int:
    """FLOPs of one call (matrix products and attention; elementwise work is not counted)."""
    with FlopCounterMode(display=False, custom_mapping=ATTENTION_FLOPS) as counter:
        step()
    return counter.get_total_flops()


def analytic_flops(params, n_students: int = 1) -> int:
    """Matrix-product FLOPs of one student step by hand: forward x 3 (backward = 2 x forward),
    minus the input gradient of the embedding, which is not needed."""
    d, m = params.distill, params.model
    b = d.batch_size
    t = (28 // params.data.mnist.patch) ** 2
    f, w, r = params.data.mnist.patch ** 2, params.student_width, m.mlp_ratio
    per_block = 2 * b * (t + 1) * w * w * (3 + 1 + 2 * r) + 4 * b * (t + 1) ** 2 * w
    embed = 2 * b * t * f * w
    head = 2 * b * w * 10
    proj = 0 if w == m.width else 2 * b * (t + 1) * w * m.width * (d.student_depth + 1)
    forward = d.student_depth * per_block + embed + head + proj
    return n_students * (3 * forward - embed)


def op_shares(step, calls: int = 3) -> dict:
    """Share of operator self time in matrix products and in attention (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) or 1

    def share(ops) -> float:
        return sum(e.self_cpu_time_total for e in events if e.key in ops) / total

    return {"matmul": share(MATMUL_OPS), "attention": share(ATTENTION_OPS)}


def end_to_end(task, params, teacher, cache, runs: list[tuple[str, int]], epochs: int) -> dict:
    """Wall time of whole runs (build, train, validate every epoch, test) with `epochs`
    epochs: every run through experiment.distill, then all together."""
    p = params.model_copy(update={"distill": params.distill.model_copy(update={"epochs": epochs})})
    start = time.perf_counter()
    for s, k in runs:
        distill_one(task, p, teacher, cache, "random", s, k, progress=False)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    distill_together(task, p, teacher, cache, "random", [Run(s, k) for s, k in runs],
                     progress=False)
    together = time.perf_counter() - start
    return {"epochs": epochs, "runs": len(runs), "one_at_a_time_s": alone,
            "together_s": together, "speedup": alone / together}


def busy_fraction(seconds: float = 1.0) -> float:
    """Share of all CPUs busy (any process) over `seconds`, from /proc/stat (Linux)."""
    def sample():
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
        return 1 - (i1 - i0) / max(1, t1 - t0)
    except OSError:
        return float("nan")


def with_threads(n: int, step):
    """step run with n intra-op threads (restored afterwards)."""
    def run():
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            step()
        finally:
            torch.set_num_threads(before)
    return run


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a smoke check)")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args(argv)
    rounds, per_round, warmup = (3, 1, 1) if args.quick else (7, 3, 3)
    busy_before = busy_fraction()
    t_start = time.perf_counter()
    params = load_params(args.params)
    d, m = params.distill, params.model
    torch.manual_seed(0)
    task = synthetic_task(params)
    teacher = task.build_model(m.teacher_depth, m.width, params).eval().requires_grad_(False)
    cache = TeacherCache.compute(teacher, task.splits["train"])
    rss = {"after setup": peak_rss_mb()}
    threads = torch.get_num_threads()
    env = {"torch": torch.__version__, "threads": threads,
           "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
           "python": sys.version.split()[0],
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(unset)"),
           "cpu_busy_before": busy_before}
    sizes = {"teacher_depth": m.teacher_depth, "student_depth": d.student_depth,
             "width": m.width, "student_width": params.student_width, "heads": m.heads,
             "tokens": task.max_len + 1, "batch_size": d.batch_size,
             "strategies": list(d.strategies), "seeds": list(d.seeds)}

    # -- matrix-multiply peak, and at the model's shapes -----------------------------
    tokens = d.batch_size * (task.max_len + 1)
    w = params.student_width
    runs_all = [(s, k) for s in d.strategies for k in d.seeds]
    runs_one_seed = [(s, d.seeds[0]) for s in d.strategies]
    n_all, n_one = len(runs_all), len(runs_one_seed)
    mm = {f"square_{k}": matmul_gflops((k, k), (k, k)) for k in (512, 1024, 2048)}
    mm["peak"] = max(mm.values())
    mm["qkv_one_student"] = matmul_gflops((tokens, w), (w, 3 * w))
    mm[f"qkv_{n_all}_students"] = matmul_gflops((n_all, tokens, w), (n_all, w, 3 * w))

    # -- training steps, all interleaved ------------------------------------------
    hid = "forward" if "forward" in d.strategies else d.strategies[-1]
    small = params.model_copy(update={"distill": d.model_copy(update={"batch_size": 2})})
    singles = {s: single_step(task, params, teacher, cache, s) for s in d.strategies}
    singles[hid] = singles.get(hid) or single_step(task, params, teacher, cache, hid)
    steps = {"ce_only": single_step(task, params, teacher, cache, hid, "ce"),
             "ce_kl": single_step(task, params, teacher, cache, "none"),
             "distill": singles[hid],
             "distill_all_layers": single_step(task, params, teacher, cache, hid, "all_layers"),
             "distill_1_thread": with_threads(1, singles[hid]),
             "distill_batch_2": single_step(task, small, teacher, cache, hid),
             **{f"alone_{s}": f for s, f in singles.items() if s != hid}}
    groups = {f"together_{n_all}": together_step(task, params, teacher, cache, runs_all),
              f"together_{n_all}_one_stack": together_step(task, params, teacher, cache,
                                                           runs_all, workers=1),
              f"together_{n_one}": together_step(task, params, teacher, cache, runs_one_seed)}
    t = median_times({**steps, **groups}, rounds, per_round, warmup)
    t[f"alone_{hid}"] = t["distill"]
    vmap_key = f"together_{n_one}_vmap"
    t.update(median_times({vmap_key: together_step(task, params, teacher, cache, runs_one_seed,
                                                   "vmap", workers=1)},
                          max(2, rounds // 2), 1, 1))
    rss["after step timings"] = peak_rss_mb()
    workers = {k: (g.workers, g.stacks) for k, g in groups.items()}
    workers[vmap_key] = (1, 1)
    throughput = []
    for key, runs in [(f"together_{n_all}", runs_all), (f"together_{n_all}_one_stack", runs_all),
                      (f"together_{n_one}", runs_one_seed), (vmap_key, runs_one_seed)]:
        alone = sum(t[f"alone_{s}"] for s, _ in runs)  # one step of each, one after another
        throughput.append({"config": key, "n": len(runs), "workers": workers[key][0],
                           "stacks": workers[key][1],
                           "backend": "vmap" if "vmap" in key else "bmm",
                           "step_s": t[key], "alone_sum_s": alone,
                           "students_per_s_alone": len(runs) / alone,
                           "students_per_s_together": len(runs) / t[key],
                           "speedup": alone / t[key]})
    e2e = end_to_end(task, params, teacher, cache, runs_all, epochs=1 if args.quick else 4)
    rss["after end-to-end"] = peak_rss_mb()

    # -- FLOPs and achieved GFLOP/s ------------------------------------------------
    f_single = count_flops(single_step(task, params, teacher, cache, hid))
    f_ce = count_flops(single_step(task, params, teacher, cache, hid, "ce"))
    f_group = count_flops(together_step(task, params, teacher, cache, runs_all, workers=1))
    key_all = f"together_{n_all}"
    flops = {
        "ce_one_student": {"flop": f_ce, "step_s": t["ce_only"]},
        "distill_one_student": {"flop": f_single, "analytic_flop": analytic_flops(params),
                                "step_s": t["distill"]},
        key_all: {"flop": f_group, "analytic_flop": analytic_flops(params, n_all),
                  "step_s": t[key_all]},
    }
    for f in flops.values():
        f["gflops"] = f["flop"] / f["step_s"] / 1e9
    shares = {"distill_one_student": op_shares(steps["distill"]),
              key_all: op_shares(together_step(task, params, teacher, cache, runs_all,
                                               workers=1))}
    rss["final"] = peak_rss_mb()
    env["cpu_busy_after"] = busy_fraction()
    env["loadavg_after"] = os.getloadavg()[0]

    result = {"env": env, "sizes": sizes, "matmul_gflops": mm, "step_s": t,
              "distill_over_ce": t["distill"] / t["ce_only"], "throughput": throughput,
              "end_to_end": e2e, "flops": flops, "op_shares": shares, "peak_rss_mb": rss,
              "bench_wall_s": time.perf_counter() - t_start,
              "timing": {"rounds": rounds, "steps_per_round": per_round, "warmup": warmup}}
    report = render(result)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "results.md").write_text(report)
    print(report)
    return result


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def render(r: dict) -> str:
    env, sz, mm, t = r["env"], r["sizes"], r["matmul_gflops"], r["step_s"]
    peak = mm["peak"]
    ms = lambda s: f"{1e3 * s:.1f} ms"  # noqa: E731
    big, one_stack = r["throughput"][0], r["throughput"][1]
    n = big["n"]
    lines = [
        "# Benchmark: distillation step and students trained together",
        "",
        f"Machine: {env['cpus']} CPUs ({env['machine']}), torch {env['torch']} with "
        f"{env['threads']} threads (OMP_NUM_THREADS={env['OMP_NUM_THREADS']}), "
        f"Python {env['python']}. Generated by `make bench` (bench/bench.py); every figure "
        f"below was measured in this one run ({r['bench_wall_s']:.0f} s).",
        "",
        f"Sizes (params.yaml): teacher {sz['teacher_depth']} blocks, student "
        f"{sz['student_depth']} blocks, width {sz['width']} (student {sz['student_width']}), "
        f"{sz['heads']} heads, {sz['tokens']} tokens (patches + CLS), batch {sz['batch_size']}; "
        f"synthetic inputs of the task's shape. Step times: median over "
        f"{r['timing']['rounds']} interleaved rounds of {r['timing']['steps_per_round']} "
        f"timed steps (each round after one untimed step; {r['timing']['warmup']} warm-up "
        f"steps first); a step = loss, backward, AdamW, schedule, as in training.",
    ]
    busy = max(env["cpu_busy_before"], env["cpu_busy_after"])
    if busy == busy and busy > 0.25:  # (busy == busy: not NaN)
        lines += ["", f"**Warning: the machine was busy** ({100 * env['cpu_busy_before']:.0f}% "
                  f"of the CPUs in use just before the run, {100 * env['cpu_busy_after']:.0f}% "
                  "just after): other processes competed for the cores, so these figures "
                  "are unreliable; rerun `make bench` on an idle machine."]
    lines += [
        "",
        "## 1. Distillation step vs CE-only step (one student)",
        "",
        "| step | median time | vs CE-only |",
        "|---|---:|---:|",
    ]
    labels = {"ce_only": "CE only (plain supervised step)",
              "ce_kl": "CE + KL (strategy none: no hidden matching)",
              "distill": "CE + KL + hidden matching, cached teacher (only the layers used)",
              "distill_all_layers": "same, gathering every teacher layer per batch (before)"}
    for k, label in labels.items():
        lines.append(f"| {label} | {ms(t[k])} | {t[k] / t['ce_only']:.3f}x |")
    ratio = r["distill_over_ce"]
    lines += ["", f"Target <= {TARGET_DISTILL_OVER_CE}x: {verdict(ratio <= TARGET_DISTILL_OVER_CE)}"
              f" ({ratio:.3f}x)."]
    if ratio > TARGET_DISTILL_OVER_CE:
        lines.append(f"The extra {ms(t['distill'] - t['ce_only'])} per step splits into KL "
                     f"{ms(t['ce_kl'] - t['ce_only'])} and hidden matching "
                     f"{ms(t['distill'] - t['ce_kl'])}: small memory-bound operations (distance, "
                     "mean and their backward per pair) next to a student step that is itself "
                     "small.")
    lines += [
        "",
        "## 2. Students trained together vs one at a time",
        "",
        "One at a time = the sum of one step of each student through the per-student path "
        "(`distill.run.distill_one`, all threads); together = one step of `layerkd.distill.together` for all "
        "of them: the students in stacks (one grouped operation per layer and stack), the "
        "stacks spread over worker threads, one core each (workers = 1: the stacks one after "
        "another, each operation on all threads).",
        "",
        "| students | backend | stacks | workers | step together | steps one at a time "
        "| students/s alone | students/s together | speed-up |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r["throughput"]:
        lines.append(f"| {row['n']} | {row['backend']} | {row['stacks']} | {row['workers']} | "
                     f"{ms(row['step_s'])} | {ms(row['alone_sum_s'])} | "
                     f"{row['students_per_s_alone']:.1f} | {row['students_per_s_together']:.1f} | "
                     f"{row['speedup']:.2f}x |")
    e2e = r["end_to_end"]
    lines += ["", f"Whole runs ({e2e['runs']} students, {e2e['epochs']} epochs: build, train, "
              f"validate every epoch, test; measured once): one at a time "
              f"{e2e['one_at_a_time_s']:.1f} s, together {e2e['together_s']:.1f} s, "
              f"**{e2e['speedup']:.2f}x**.", "",
              f"Target >= {TARGET_TOGETHER_SPEEDUP}x for {n} students: "
              f"{verdict(big['speedup'] >= TARGET_TOGETHER_SPEEDUP)} ({big['speedup']:.2f}x "
              f"per training step, {e2e['speedup']:.2f}x for whole runs)."]
    sh = r["op_shares"]
    key_all = f"together_{n}"
    fl = r["flops"]
    one = t["distill"]
    fixed = t["distill_batch_2"]
    per_student = big["step_s"] / n
    floor = fl["distill_one_student"]["flop"] / (peak * 1e9)
    if big["speedup"] < TARGET_TOGETHER_SPEEDUP:
        lines += [
            "",
            "What limits it (all measured above):",
            "",
            f"* Grouping removes the fixed cost of a step (Python, dispatch, autograd "
            f"bookkeeping, one optimizer update per tensor): a one-student step on a batch of 2 "
            f"takes {ms(fixed)} of the {ms(one)} of a batch of {sz['batch_size']}. The rest is "
            f"arithmetic and memory traffic that every student needs, grouped or not.",
            f"* Matrix products are {100 * sh['distill_one_student']['matmul']:.0f}% of a single "
            f"student's operator time and already run near the core's speed (one student's "
            f"qkv product: {mm['qkv_one_student']:.0f} GFLOP/s; {n} grouped: "
            f"{mm[f'qkv_{n}_students']:.0f} GFLOP/s); grouping cannot make them cheaper. "
            f"Grouped, the step runs at {fl[key_all]['gflops']:.0f} GFLOP/s, "
            f"{100 * fl[key_all]['gflops'] / peak:.0f}% of the {peak:.0f} GFLOP/s peak; the "
            f"remainder is elementwise work (LayerNorm, GELU, softmax, residuals, AdamW), "
            f"memory-bound and proportional to the number of students.",
            f"* The cores: one student gains {t['distill_1_thread'] / one:.2f}x from "
            f"{env['threads']} threads over 1; the group split over {big['workers']} worker "
            f"threads takes {ms(per_student)} per student (the same stacks one after another "
            f"on all threads: {ms(one_stack['step_s'] / n)}).",
            f"* Floor: one student-step is {fl['distill_one_student']['flop'] / 1e9:.2f} GFLOP, "
            f"{ms(floor)} at the measured matmul peak if every operation ran at it; a "
            f"{TARGET_TOGETHER_SPEEDUP:.0f}x speed-up needs {ms(one / TARGET_TOGETHER_SPEEDUP)} "
            f"per student, {100 * floor / (one / TARGET_TOGETHER_SPEEDUP):.0f}% of peak for "
            f"the whole step including the memory-bound work.",
        ]
    lines += [
        "",
        "## 3. Achieved GFLOP/s vs matrix-multiply peak",
        "",
        f"Float32 matmul peak of this machine, measured in this run: **{peak:.1f} GFLOP/s** "
        f"(the fastest square product of sides 512, 1024, 2048: {mm['square_512']:.1f}, "
        f"{mm['square_1024']:.1f}, {mm['square_2048']:.1f} GFLOP/s; {env['threads']} threads).",
        "",
        "| step | GFLOP per step (counted) | by hand | median time | GFLOP/s | % of peak "
        "| matmul share of op time |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for k, label in [("ce_one_student", "CE only, one student"),
                     ("distill_one_student", "distillation, one student"),
                     (key_all, f"distillation, {n} students together")]:
        f = fl[k]
        hand = f"{f['analytic_flop'] / 1e9:.3f}" if "analytic_flop" in f else ""
        share = f"{100 * sh[k]['matmul']:.0f}%" if k in sh else ""
        lines.append(f"| {label} | {f['flop'] / 1e9:.3f} | {hand} | {ms(f['step_s'])} | "
                     f"{f['gflops']:.1f} | {100 * f['gflops'] / peak:.1f}% | {share} |")
    lines += ["", "FLOPs are counted with torch.utils.flop_counter.FlopCounterMode (matrix "
              "products and attention; elementwise operations are not counted); 'by hand' "
              "is the analytic count of the matrix products (forward x 3). Operator shares "
              "come from torch.profiler (self time; the grouped step profiled as one stack).",
              "", "## Memory", "", "| peak RSS after | MiB |", "|---|---:|"]
    for k, v in r["peak_rss_mb"].items():
        lines.append(f"| {k} | {v:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
