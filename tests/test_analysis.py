"""The ablation variants and the angle stage on a tiny task."""

import json

import pytest
import torch
from conftest import complete
from test_stacked import TINY, tiny_setup

from layerkd.config import parse_params
from layerkd.distill.run import build_run
from layerkd.io import atomic_torch_save
from layerkd.stages.ablation import train_variant, variants
from layerkd.stages.angles import angle_report, initial_distiller


def test_variants_change_one_setting_each():
    raw = json.loads(json.dumps(TINY)) | {"tasks": ["mnist"]}
    raw = complete({**raw, "ablations": {"tasks": ["mnist"], "depths": [1, 2, 3], "widths": [8],
                                         "seeds": [4], "strategies": ["none", "forward"]}})
    params = parse_params(raw)
    v = variants(params)
    assert params.distill.student_depth == 2  # the main runs: not trained again
    assert list(v) == ["depth1", "depth3", "width8"]
    assert [p.distill.student_depth for p in v.values()] == [1, 3, params.distill.student_depth]
    assert [p.student_width for p in v.values()] == [16, 16, 8]
    for p in v.values():
        assert p.distill.strategies == ["none", "forward"]
        assert p.distill.seeds == [4] and p.distill.inits == ["random"]
        assert p.distill.epochs == params.distill.epochs  # everything else is distill's


def test_narrow_variant_saves_trained_projections(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params, task, teacher, cache = tiny_setup(masked=True, student_width=8, inits=["random"],
                                              strategies=["forward"])
    rows = train_variant(task, params, teacher, "width8", cache)
    assert [(r["student_width"], r["student_depth"], r["strategy"]) for r in rows] == \
        [(8, params.distill.student_depth, "forward")] * 2
    state = torch.load(tmp_path / "ablation_models/shape/tiny/width8/forward_seed0.pt")["state_dict"]
    start = build_run(task, params, teacher, "random", "forward", 0).state_dict()
    assert state["projections.2.weight"].shape == (16, 8)
    assert not torch.equal(state["projections.2.weight"], start["projections.2.weight"])
    saved = json.loads((tmp_path / "results/tiny/ablations/width8/forward/seed1/metrics.json")
                       .read_text())
    assert (saved["student_width"], saved["seed"]) == (8, 1)
    from layerkd.report.collect import (
        collect_ablations,  # the variant is the folder's name
    )

    assert collect_ablations("results")["variant"].tolist() == ["width8"] * 2


@pytest.mark.parametrize("width", [16, 8])
def test_angle_report_before_and_after_training(tmp_path, monkeypatch, width):
    monkeypatch.chdir(tmp_path)
    params, task, teacher, _ = tiny_setup(masked=True, student_width=width, inits=["random"],
                                          strategies=["none", "forward"], seeds=[0])
    atomic_torch_save({"state_dict": teacher.state_dict(), "config_hash": "x"},
                      tmp_path / "models/tiny/teacher.pt")
    import layerkd.stages.angles as analysis

    monkeypatch.setattr(analysis, "load_teacher", lambda *a: teacher)
    trained = {}
    for strategy in ["none", "forward"]:  # stand-ins for trained runs: perturbed weights
        d, _ = initial_distiller(task, params, teacher, "random", 0)
        with torch.no_grad():
            for p in d.parameters():
                p.add_(0.1 * torch.randn_like(p))
        trained[strategy] = d
        atomic_torch_save({"state_dict": d.state_dict()},
                          tmp_path / f"models/tiny/students/random/{strategy}_seed0.pt")
    report = analysis.angle_report(task, params, progress=False)
    assert [r["strategy"] for r in report["runs"]] == ["initial", "none", "forward"]
    assert report["stacks"] == ["encoder"]
    runs = {r["strategy"]: r["encoder"] for r in report["runs"]}
    n_teacher, n_student = 3, params.distill.student_depth
    for r in runs.values():
        assert 0 <= r["acute_fraction"] <= 1
        assert sum(r["hist"]) == 16 * 1 + int(task.splits["test"].mask.sum())  # [CLS] + tokens
        assert len(r["heatmap"]) == n_student and len(r["heatmap"][0]) == n_teacher
        assert len(r["distances"]) == n_student + 1 and len(r["distances"][0]) == n_teacher + 1
    assert runs["none"]["mean_cos"] != runs["initial"]["mean_cos"]  # trained weights loaded
    assert report["teacher_distances"]["encoder"][1][1] == 0


def test_angle_report_names_the_missing_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params, task, teacher, _ = tiny_setup(inits=["random"], strategies=["forward"], seeds=[0])
    import layerkd.stages.angles as analysis

    monkeypatch.setattr(analysis, "load_teacher", lambda *a: teacher)
    with pytest.raises(FileNotFoundError, match="forward_seed0.pt missing.*distill@tiny"):
        angle_report(task, params, progress=False)
