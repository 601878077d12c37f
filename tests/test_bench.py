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


def test_paper_scale_benchmark_runs_tiny(tmp_path):
    """The GPU benchmark of the paper's settings, at toy widths on the CPU: every
    setting builds, steps and is costed from its run's size."""
    done = subprocess.run([sys.executable, "bench/paper_scale.py", "--tiny", "--steps", "1",
                           "--warmup", "0", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((tmp_path / "paper_scale_tiny.json").read_text())["rows"]
    assert [r["setting"] for r in rows] == ["bert_mnli", "bart_dart", "t5_wmt16",
                                            "qwen3_hellaswag", "qwen3_coqa"]
    mnli = rows[0]
    assert mnli["steps_per_run"] == -(-392_702 // 32) * 10  # 10 epochs at batch 32
    assert mnli["teacher_steps"] == -(-392_702 // 32) * 3
    for r in rows:
        assert r["ms_per_step"] > 0 and r["teacher_ms_per_step"] > 0
        assert r["loss"] == r["loss"]  # finite, not NaN
    # the LLM setting: 5 strategies x weight copy x 3 seeds, in bfloat16
    assert rows[3]["students"] == 15 and rows[3]["dtype"] == "bfloat16"


def test_committed_paper_scale_run_used_the_published_sizes():
    """The committed GPU run built the paper's architectures at their published
    sizes: BERT-base 110M, BART-large 406M, T5-base 223M, Qwen3-8B 8.19B parameters."""
    rows = {r["setting"]: r for r in
            json.loads((ROOT / "bench" / "paper_scale.json").read_text())["rows"]}
    published = {"bert_mnli": 109.5, "bart_dart": 406.3, "t5_wmt16": 222.9,
                 "qwen3_hellaswag": 8190.7, "qwen3_coqa": 8190.7}
    for name, millions in published.items():
        assert rows[name]["teacher_params_M"] == pytest.approx(millions, rel=0.01)
        assert rows[name]["peak_memory_GiB"] > 0
