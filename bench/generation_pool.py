"""Quick timing: generation students trained one after another vs in a thread pool.

    PYTHONPATH=src python bench/generation_pool.py [--students 6] [--rounds 1]

Trains the same small encoder-decoder students (a synthetic copy task; a
random teacher, its outputs cached) three ways, interleaved per round:
sequentially at torch's default thread count (the former ``distill_all``),
sequentially at one intra-op thread, and through
``distill.threads.train_in_threads`` with ``distill.run.default_workers``
workers (one intra-op thread each). Prints wall times and the speed-up; also
checks that the pool's metrics equal the one-thread sequential run's.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml

from layerkd.config import parse_params
from layerkd.data import Split
from layerkd.distill.run import Run, default_workers
from layerkd.distill.threads import train_in_threads
from layerkd.stages.students import teacher_cache
from layerkd.tasks import Task

VOCAB = ["<pad>", "<bos>", "<eos>"] + [f"w{i}" for i in range(20)]
WORDS = 10


def copy_task() -> Task:
    g = torch.Generator().manual_seed(0)

    def split(n):
        words = torch.randint(3, len(VOCAB), (n, WORDS), generator=g)
        src = torch.cat([words, torch.full((n, 1), 2)], 1)
        tgt = torch.cat([torch.full((n, 1), 1), words, torch.full((n, 1), 2)], 1)
        return Split(src, tgt)

    return Task("scan", {"train": split(512), "val": split(64), "test": split(64)}, None, 0,
                WORDS + 1, src_vocab=VOCAB, tgt_vocab=VOCAB, family_name="seq2seq")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    seeds = list(range(args.students // 2))
    # params.yaml with this benchmark's sizes (every key is required)
    raw = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())
    raw["overrides"], raw["angles"]["seeds"] = {}, seeds[:1]
    for section in (raw["ablations"], *(raw["ablations"][k] for k in
                                        ("objective", "a_hid", "transfer"))):
        section["tasks"] = []
    raw["model"].update(width=64, heads=4, teacher_depth=4)
    raw["teacher"].update(epochs=1)
    raw["distill"].update(epochs=3, student_depth=2, transfer_size=512, batch_size=32,
                          seeds=seeds, strategies=["forward", "in_order_random"])
    params = parse_params(raw)
    task = copy_task()
    torch.manual_seed(0)
    teacher = task.build_model(4, 64, params).eval()
    cache = teacher_cache(task, params, teacher)
    runs = [Run(s, seed) for s in params.distill.strategies for seed in seeds]
    threads = torch.get_num_threads()
    workers = default_workers(len(runs), task.device)
    print(f"{len(runs)} students, torch threads {threads}, pool workers {workers}")

    def timed(n_threads, n_workers):
        torch.set_num_threads(n_threads)
        try:
            start = time.perf_counter()
            rows = train_in_threads(task, params, teacher, cache, "weight_copy", runs,
                                    workers=n_workers, progress=False)
            return time.perf_counter() - start, rows
        finally:
            torch.set_num_threads(threads)

    times = {"sequential, default threads": [], "sequential, 1 thread": [], "pool": []}
    for _ in range(args.rounds):
        t, _ = timed(threads, 1)
        times["sequential, default threads"].append(t)
        t, one = timed(1, 1)
        times["sequential, 1 thread"].append(t)
        t, pool = timed(threads, workers)
        times["pool"].append(t)
        strip = lambda rows: [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]
        assert strip(one) == strip(pool), "pool differs from the one-thread sequential run"
    best = {k: min(v) for k, v in times.items()}
    for k, v in best.items():
        print(f"{k:>28}: {v:7.2f} s  (rounds: {', '.join(f'{x:.2f}' for x in times[k])})")
    print(f"speed-up of the pool over sequential at default threads: "
          f"{best['sequential, default threads'] / best['pool']:.2f}x; "
          f"over sequential at 1 thread: {best['sequential, 1 thread'] / best['pool']:.2f}x")


if __name__ == "__main__":
    main()
