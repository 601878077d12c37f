"""A killed distillation stage resumes from its finished students: a run whose
folder holds its metrics, its checkpoint and the hash of the settings it was
trained under is not trained again; anything else is."""

import json

import pytest
import torch
from test_stacked import tiny_setup

from layerkd.distill import engines
from layerkd.stages import students
from layerkd.stages.students import STAMP, distill_all


def run(tmp_path, params, task, teacher, cache, init="random"):
    return distill_all(task, params, teacher, cache, init, tmp_path / "r", tmp_path / "m")


@pytest.fixture
def counted(monkeypatch):
    """Records the runs each engine call trains."""
    trained = []
    for name, engine in list(engines.ENGINES.items()):
        def counting(task, params, teacher, cache, init, runs, _engine=engine, **kw):
            trained.append([(r.strategy, r.seed) for r in runs])
            return _engine(task, params, teacher, cache, init, runs, **kw)
        monkeypatch.setitem(engines.ENGINES, name, counting)
    return trained


def test_finished_runs_are_kept_and_the_rest_trained(tmp_path, counted):
    params, task, teacher, cache = tiny_setup(strategies=["none", "forward"], seeds=[0, 1])
    first = run(tmp_path, params, task, teacher, cache)
    # as if killed while forward/seed1 trained: its metrics and checkpoint are gone
    (tmp_path / "r" / "forward" / "seed1" / "metrics.json").unlink()
    (tmp_path / "m" / "forward_seed1.pt").unlink()
    kept = (tmp_path / "m" / "none_seed0.pt").stat().st_mtime_ns
    again = run(tmp_path, params, task, teacher, cache)
    assert counted == [[("none", 0), ("none", 1), ("forward", 0), ("forward", 1)],
                       [("forward", 1)]]
    assert (tmp_path / "m" / "none_seed0.pt").stat().st_mtime_ns == kept
    # in run order; the retrained run (alone, not in a stack of four) agrees up to rounding
    first, again = json.loads(json.dumps(first)), json.loads(json.dumps(again))
    assert first[:3] == again[:3]
    a, b = first[3], again[3]
    floats = [k for k, v in a.items() if isinstance(v, float) and k != "wall_s"]
    assert {k: a[k] for k in floats} == pytest.approx({k: b[k] for k in floats}, rel=1e-4)
    assert {k: v for k, v in a.items() if k not in floats and k != "wall_s"} == \
        {k: v for k, v in b.items() if k not in floats and k != "wall_s"}


@pytest.mark.parametrize("change", ["settings", "teacher", "stamp"])
def test_a_run_from_other_settings_is_trained_again(tmp_path, counted, change):
    params, task, teacher, cache = tiny_setup(strategies=["forward"], seeds=[0])
    run(tmp_path, params, task, teacher, cache)
    if change == "settings":
        params = params.model_copy(update={"distill": params.distill.model_copy(
            update={"lr": params.distill.lr * 2})})
    elif change == "teacher":
        with torch.no_grad():
            next(teacher.parameters()).add_(1e-3)
    else:
        (tmp_path / "r" / "forward" / "seed0" / STAMP).write_text("0" * 64)
    run(tmp_path, params, task, teacher, cache)
    assert counted == [[("forward", 0)], [("forward", 0)]]


def test_remove_stale_keeps_exactly_the_runs_asked_for(tmp_path, monkeypatch):
    params, task, _, _ = tiny_setup(strategies=["forward"], seeds=[0], inits=["random"])
    monkeypatch.setattr(students, "student_dirs",
                        lambda t, init: (tmp_path / "r" / t / "students" / init,
                                         tmp_path / "m" / t / "students" / init))
    for init, strategy, seed in [("random", "forward", 0), ("random", "forward", 1),
                                 ("random", "none", 0), ("weight_copy", "forward", 0)]:
        out, ckpt = students.run_paths(*students.student_dirs(task.name, init), strategy, seed)
        out.mkdir(parents=True)
        (out / "metrics.json").write_text(json.dumps({}))
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        ckpt.write_bytes(b"")
    stale = students.remove_stale(task, params)
    assert len(stale) == 6  # 3 folders and 3 checkpoints
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["m/tiny/students/random/forward_seed0.pt",
                    "r/tiny/students/random/forward/seed0/metrics.json"]
    assert not (tmp_path / "r" / "tiny" / "students" / "weight_copy").exists()
