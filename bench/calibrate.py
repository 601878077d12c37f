"""Calibration probe: does a task's teacher lead its `none` student, and by how much?

Trains one task's teacher and its `none` student (one seed; random init
unless --init says otherwise: settings are chosen on the teacher and `none`
only, never on a matching strategy) with params.yaml plus the given changes, in a scratch folder, so
the pipeline's data/, models/ and results/ are never touched. Used to choose
the per-task settings before a task joins the default run (docs/tasks.md; the probes
so far: docs/history.md).

    python bench/calibrate.py scan '{"distill.transfer_size": 500, "teacher.epochs": 15}'
    python bench/calibrate.py numbers_ro '{"overrides.numbers_ro.distill.transfer_size": 300}'

Keys are dotted paths into params.yaml; values are JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import yaml

from layerkd.config import parse_params
from layerkd.data.generate import build_data
from layerkd.report.objective import none_gains
from layerkd.stages.students import run_students
from layerkd.stages.teacher import run_teacher
from layerkd.tasks import load_task

ROOT = Path(__file__).resolve().parents[1]


def with_changes(raw: dict, changes: dict) -> dict:
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return raw


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task")
    ap.add_argument("changes", nargs="?", default="{}", help="JSON {dotted.key: value}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default="random", choices=["random", "weight_copy"])
    args = ap.parse_args(argv)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw = with_changes(raw, json.loads(args.changes))
    raw["tasks"], raw["ablations"]["tasks"] = [args.task], []
    for kind in ("objective", "a_hid", "transfer"):
        raw["ablations"][kind]["tasks"] = []
    raw["distill"].update(seeds=[args.seed], strategies=["none"], inits=[args.init])
    raw["angles"]["seeds"] = [args.seed]
    params = parse_params(raw)  # validated before anything trains
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        build_data(args.task, params)
        p = params.for_task(args.task)
        task = load_task(args.task, p)
        start = time.perf_counter()
        teacher = run_teacher(task, p, progress=False)
        teacher_s = time.perf_counter() - start
        start = time.perf_counter()
        students = run_students(task, p, args.init)
        students_s = time.perf_counter() - start
        # the convergence criterion of the committed results (report.objective)
        none_gain = float(none_gains("results", [task.name])["gain"].iloc[0])
    score = f"test_{task.metric}"
    out = {"task": args.task, "changes": json.loads(args.changes), "seed": args.seed,
           "init": args.init, "teacher_pretrain_val": teacher.get(f"pretrain_val_{task.metric}"),
           "teacher": teacher[score], "teacher_s": round(teacher_s, 1),
           **{s["strategy"]: s[score] for s in students},
           "students_s": round(students_s, 1), "none_last_quarter_gain": none_gain}
    if "test_exact_match" in teacher:
        out["teacher_em"] = teacher["test_exact_match"]
        out.update({f"{s['strategy']}_em": s["test_exact_match"] for s in students})
    out["teacher_lead"] = out["teacher"] - out["none"]
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
