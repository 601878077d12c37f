"""Wall-clock times are kept apart from results (layerkd.io.write_metrics): a rerun
that changes only a time changes no file another stage depends on."""

import json
from pathlib import Path

from layerkd.io import read_metrics, write_metrics
from layerkd.paths import RESULTS, TIMINGS, timing_file


def test_the_time_goes_to_the_timing_record_and_comes_back_when_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = RESULTS / "mnist" / "students" / "random" / "forward" / "seed0"
    write_metrics(run, {"test_acc": 91.5, "wall_s": 12.25})
    assert json.loads((run / "metrics.json").read_text()) == {"test_acc": 91.5}
    assert timing_file(run) == TIMINGS / "mnist/students/random/forward/seed0/timing.json"
    assert json.loads(timing_file(run).read_text()) == {"wall_s": 12.25}
    assert read_metrics(run) == {"test_acc": 91.5, "wall_s": 12.25}


def test_a_rerun_that_only_took_longer_writes_the_same_metrics_bytes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = Path("results/digits/teacher")
    write_metrics(run, {"test_acc": 97.0, "wall_s": 30.0})
    first = (run / "metrics.json").read_bytes()
    write_metrics(run, {"test_acc": 97.0, "wall_s": 41.0})
    assert (run / "metrics.json").read_bytes() == first
    assert read_metrics(run)["wall_s"] == 41.0


def test_timings_are_no_stage_dependency():
    import yaml

    root = Path(__file__).resolve().parents[1]
    for name, stage in yaml.safe_load((root / "dvc.yaml").read_text())["stages"].items():
        body = stage.get("do", stage)
        for dep in body.get("deps", []):
            assert not str(dep).startswith(str(TIMINGS)), (name, dep)
