"""The paper profile's hub tasks (section hub, profiles/paper.yaml): schema, data
builder, model, weight copy, live teacher, and the whole hub pipeline end to end
on offline stand-ins (a tiny random BERT folder, GLUE-format JSON-lines files)."""

import copy
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from test_pipeline import copy_repository, pipeline_env

from layerkd.config import ConfigError, load_params, parse_params
from layerkd.hub.report import paper_rows
from layerkd.hub.standin import point_profile, write_standins

ROOT = Path(__file__).resolve().parents[1]
PAPER = yaml.safe_load((ROOT / "profiles" / "paper.yaml").read_text())


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    return write_standins(tmp_path_factory.mktemp("standins"))


@pytest.fixture(scope="module")
def pointed(standins):
    """profiles/paper.yaml pointed at the stand-ins (nothing else changed)."""
    return parse_params(point_profile(copy.deepcopy(PAPER), standins))


def test_paper_profile_is_valid_and_has_the_official_settings():
    p = load_params(ROOT / "profiles" / "paper.yaml")
    assert p.hub.tasks == ["mnli", "qqp", "qnli", "sst2"]
    assert p.hub.model.checkpoint == "bert-base-uncased" and p.hub.model.max_length == 128
    d = p.hub.distill
    assert (d.student_depth, d.epochs, d.batch_size, d.lr, d.all_to_one_target) == (3, 10, 32,
                                                                                     1e-5, 6)
    assert (d.a_ce, d.a_kl, d.a_hid, d.hidden_distance) == (1, 1, 3, "sum_sq")
    assert (p.hub.teacher.epochs, p.hub.teacher.lr) == (3, 2e-5)


@pytest.mark.parametrize("change, words", [
    ({"tasks": ["mnli", "cola"]}, ["hub.tasks", "'cola'"]),
    ({"datasets": {"scan": PAPER["hub"]["datasets"]["sst2"]}, "tasks": ["scan"]},
     ["hub.datasets", "scan"]),
    ({"teacher": None}, ["hub.teacher is required"]),
    ({"teacher": {**PAPER["hub"]["teacher"], "pretrain_epochs": 2}}, ["pretrain_epochs"]),
    ({"distill": {**PAPER["hub"]["distill"], "strategies": ["forwards"]}},
     ["hub.distill.strategies", "forwards"]),
])
def test_hub_schema_errors_name_the_key(change, words):
    raw = copy.deepcopy(PAPER)
    raw["hub"].update(change)
    with pytest.raises(ConfigError) as err:
        parse_params(raw)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_hub_view_reads_the_checkpoint_and_checks_depths(pointed):
    view = pointed.for_task("mnli")
    m = view.model
    assert (m.width, m.heads, m.teacher_depth, m.norm, m.backend) == (32, 2, 12, "post",
                                                                       "transformers")
    assert view.distill == pointed.hub.distill and view.teacher == pointed.hub.teacher
    deep = pointed.model_copy(update={"hub": pointed.hub.model_copy(update={
        "distill": pointed.hub.distill.model_copy(update={"student_depth": 13})})})
    with pytest.raises(ConfigError, match="student_depth=13 is not allowed: use 1..12"):
        deep.for_task("mnli")


@pytest.mark.parametrize("task, n_text", [("mnli", 2), ("sst2", 1)])
def test_hub_data_is_tokenised_in_the_stored_format(pointed, task, n_text):
    from layerkd.hub.data import build_hub_task, tokenizer_of

    arrays = build_hub_task(pointed.hub, task)
    spec, tok = pointed.hub.datasets[task], tokenizer_of(pointed.hub)
    assert len(arrays["y_val"]) == spec.n_val and len(arrays["y_test"]) == 60
    assert len(arrays["y_train"]) == 160 - spec.n_val
    x, mask = arrays["x_train"], arrays["mask_train"]
    assert x.shape[1:] == (24, 2) and mask.shape[1] == 23
    assert (x[:, 0, 0] == tok.cls_token_id).all()  # [CLS] first; the mask covers the rest
    assert ((x[:, 1:, 0] != tok.pad_token_id) == mask).all()
    assert (x[..., 1].max(1) == (n_text - 1)).all()  # a second segment only for pairs
    assert (x[:, :, 0] != tok.unk_token_id).all()


def test_hub_model_weight_copy_and_live_teacher(pointed, tmp_path, monkeypatch):
    from layerkd.data import Split
    from layerkd.distill.cache import LiveTeacher, TeacherCache
    from layerkd.hub.model import HubBert, hub_config, weight_copy_hub_
    from layerkd.strategies import forward_targets

    ckpt = pointed.hub.model.checkpoint
    teacher = HubBert(hub_config(ckpt, 3, 12), checkpoint=ckpt).eval()
    student = weight_copy_hub_(HubBert(hub_config(ckpt, 3, 3)), teacher).eval()
    x = torch.randint(5, 40, (4, 10, 2))
    x[..., 1] = 0
    mask = torch.ones(4, 9, dtype=torch.bool)
    mask[0, 6:] = False
    logits, hiddens = teacher(x, mask)
    assert logits.shape == (4, 3) and len(hiddens) == 13 and hiddens[0].shape == (4, 10, 32)
    s, t = student.model.bert, teacher.model.bert
    for i, k in enumerate(forward_targets(3, 12)):
        assert torch.equal(s.encoder.layer[i].output.dense.weight,
                           t.encoder.layer[k - 1].output.dense.weight)
    assert torch.equal(s.embeddings.word_embeddings.weight, t.embeddings.word_embeddings.weight)
    assert not torch.equal(student.model.classifier.weight, teacher.model.classifier.weight)
    split = Split(x, torch.zeros(4, dtype=torch.long), mask)
    live, cached = LiveTeacher(teacher, split), TeacherCache.compute(teacher, split)
    idx = torch.tensor([2, 0])
    (l1, h1), (l2, h2) = live.batch(idx, [6, 12]), cached.batch(idx, [6, 12])
    assert torch.allclose(l1, l2, atol=1e-5)
    assert all(torch.allclose(h1[k], h2[k], atol=1e-5) for k in (6, 12))


@pytest.mark.slow
def test_paper_profile_runs_end_to_end_on_standins(standins, tmp_path):
    """`dvc repro hub_report` with profiles/paper.yaml pointed at the stand-ins (one
    task, one seed: the CI budget), the network blocked in every process."""
    repo = tmp_path / "repo"
    repo.mkdir()
    copy_repository(repo)
    profile = point_profile(copy.deepcopy(PAPER), standins)
    profile["hub"]["tasks"] = ["mnli"]
    profile["hub"]["distill"]["seeds"] = [0]
    (repo / "params.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    offline = tmp_path / "offline"
    result = subprocess.run(["dvc", "repro", "hub_report"], cwd=repo,
                            env=pipeline_env(offline), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    attempts = offline / "attempts.log"
    assert not attempts.exists() or attempts.read_text() == ""
    ran = [line for line in result.stdout.splitlines() if line.startswith("Running stage")]
    assert ran == [f"Running stage '{s}':" for s in (
        "check", "hub_data@mnli", "hub_teacher@mnli", "hub_distill@mnli", "hub_report@mnli")]
    d = profile["hub"]["distill"]
    runs = sorted((repo / "results" / "mnli" / "students").glob("*/*/seed*/metrics.json"))
    assert len(runs) == len(d["inits"]) * len(d["strategies"])
    first = json.loads(runs[0].read_text())
    assert (first["student_depth"], first["objective"]["distance"],
            first["all_to_one_target"]) == (3, "sum_sq", 6)
    report = (repo / "paper" / "hub" / "mnli.md").read_text()
    paper_teacher = paper_rows("mnli_m").query("model == 'teacher' and init == 'replication'")
    assert "paper (mnli_m)" in report and f"{paper_teacher.value.iloc[0]:.1f}" in report
    teacher = json.loads((repo / "results" / "mnli" / "teacher" / "metrics.json").read_text())
    assert teacher["n_train"] == 160 - 32 and np.isfinite(teacher["test_acc"])
    assert (repo / "notebooks" / "executed" / "hub_data_mnli.ipynb").exists()


def test_standin_command_writes_a_valid_pointed_profile(tmp_path):
    import sys

    result = subprocess.run([sys.executable, "-m", "layerkd.hub.standin", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "paper_standin.yaml" in result.stdout
    p = load_params(tmp_path / "paper_standin.yaml")
    assert p.hub.tasks == ["mnli", "sst2"]  # the tasks with a stand-in
    assert p.hub.model.checkpoint == str((tmp_path / "bert").resolve())
    assert p.hub.datasets["sst2"].data_files["validation"].endswith("sst2/validation.jsonl")
    assert p.hub.distill == load_params(ROOT / "profiles" / "paper.yaml").hub.distill
