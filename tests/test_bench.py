"""The benchmark scripts run against the current package (quick settings), so an
API change cannot leave them broken."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_benchmark_runs_quick(tmp_path):
    done = subprocess.run([sys.executable, "bench/bench.py", "--quick", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = (tmp_path / "results.md").read_text()
    assert "GFLOP/s" in report and "together" in report


@pytest.mark.slow
def test_generation_benchmark_runs_quick(tmp_path):
    done = subprocess.run([sys.executable, "bench/generation.py", "--quick", "--out",
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = (tmp_path / "generation.md").read_text()
    assert "Students trained together" in report and "GFLOP/s" in report
    result = json.loads((tmp_path / "generation.json").read_text())
    # the two engines train the same students: equal up to thread-count rounding
    assert result["whole_runs"]["max_bleu_diff"] < 1.0


@pytest.mark.slow
def test_backend_benchmark_runs_quick(tmp_path):
    done = subprocess.run([sys.executable, "bench/backends.py", "--quick", "--out",
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "backends.json").read_text())
    assert set(result["step_ms"]) == {"native", "transformers"}
    assert all(ms > 0 for per_thread in result["step_ms"].values() for ms in per_thread.values())
    generation = result["generation_step_ms"]
    assert set(generation) == {"scan", "numbers_ro"}
    assert all(ms > 0 for task in generation.values() for per_thread in task.values()
               for ms in per_thread.values())
    assert "numbers_ro | T5" in (tmp_path / "backends.md").read_text()
