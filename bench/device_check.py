"""Device check: the pipeline's stage code on a GPU, at the smoke profile's sizes.

The default runs on a CPU; `runtime.device: auto` moves every model, batch and
teacher cache to CUDA when one is present (`profiles/gpu.yaml`). This script
runs the stage functions the notebooks call (teacher, both initialisations of
students, angles) for every embedded task of a profile, in one process, on
``runtime.device``, and records what each produced and how long it took.

    python bench/device_check.py --profile profiles/smoke.yaml --device cuda --out DIR
    python bench/device_check.py --profile params.yaml --tasks digits --out DIR   # full size

Data must exist under data/ (the data stage, or `--build-data`). Without
dvclive installed (a GPU image may lack it: it needs all of DVC) the training
curves go to a no-op logger; logging runs no device code. The decoder-only task
is left out: it is scored by lm-eval, which such an image may lack too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import types
from pathlib import Path

import torch
import yaml


def no_op_dvclive() -> bool:
    """Register a stand-in ``dvclive`` when it is not installed; True if it was."""
    try:
        import dvclive  # noqa: F401
        return False
    except ImportError:
        pass

    class Live:
        def __init__(self, *args, **kwargs):
            pass

        def log_metric(self, *args, **kwargs):
            pass

        def next_step(self):
            pass

        def end(self):
            pass

    sys.modules["dvclive"] = types.SimpleNamespace(Live=Live)
    return True


def load(profile: Path, device: str):
    """The profile's parameters with ``runtime.device`` set, validated as any params.yaml."""
    from layerkd.config.params import parse_params

    raw = yaml.safe_load(profile.read_text())
    raw["runtime"]["device"] = device
    return parse_params(raw)


def check_task(name: str, all_params) -> dict:
    from layerkd.stages.angles import angle_report
    from layerkd.stages.students import run_students
    from layerkd.stages.teacher import run_teacher
    from layerkd.tasks import load_task

    params = all_params.for_task(name)
    task = load_task(name, params)
    row = {"task": name, "device": str(task.device)}
    start = time.perf_counter()
    teacher = run_teacher(task, params, progress=False)
    row |= {"teacher_s": round(time.perf_counter() - start, 1),
            f"teacher_test_{task.metric}": round(teacher[f"test_{task.metric}"], 2)}
    start = time.perf_counter()
    students = [m for init in params.distill.inits for m in run_students(task, params, init)]
    row |= {"students": len(students), "students_s": round(time.perf_counter() - start, 1),
            f"students_test_{task.metric}": sorted(round(m[f"test_{task.metric}"], 1)
                                                   for m in students)}
    start = time.perf_counter()
    report = angle_report(task, params, progress=False)
    row |= {"angle_runs": len(report["runs"]), "angles_s": round(time.perf_counter() - start, 1)}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", type=Path, default=Path("profiles/smoke.yaml"))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", type=Path, default=Path("bench"))
    ap.add_argument("--tasks", nargs="*", help="embedded tasks to check (default: the profile's)")
    ap.add_argument("--build-data", action="store_true", help="run the data stage's builder first")
    args = ap.parse_args()
    stand_in = no_op_dvclive()
    params = load(args.profile, args.device)
    tasks = args.tasks or params.tasks
    if args.build_data:
        from layerkd.data.generate import build_data

        for name in tasks:
            build_data(name, params)
    meta = {"profile": str(args.profile), "device": args.device, "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            "dvclive": "no-op stand-in" if stand_in else "installed"}
    rows, failures = [], {}
    for name in tasks:
        try:
            rows.append(check_task(name, params))
            print(json.dumps(rows[-1]), flush=True)
        except Exception:  # record every task's outcome, then fail at the end
            failures[name] = traceback.format_exc()
            print(f"{name} FAILED:\n{failures[name]}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "device_check.json").write_text(
        json.dumps({"meta": meta, "rows": rows, "failures": failures}, indent=1))
    if failures:
        raise SystemExit(f"{len(failures)} task(s) failed: {sorted(failures)}")


if __name__ == "__main__":
    main()
