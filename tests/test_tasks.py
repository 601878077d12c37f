"""Every task loads from its saved arrays into the model it is meant for."""

from pathlib import Path

import pytest
import torch
import yaml

from layerkd.config import TASKS, parse_params
from layerkd.data import load_arrays
from layerkd.data.generate import build_data
from layerkd.paths import data_file as data_path
from layerkd.tasks import load_task

ROOT = Path(__file__).resolve().parents[1]
SMOKE = yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    params = parse_params(SMOKE)
    cards = {t: build_data(t, params, root) for t in TASKS}
    return root, params, cards


@pytest.mark.parametrize("name", TASKS)
def test_task_loads_and_model_runs(built, name):
    root, params, cards = built
    task = load_task(name, params, root)
    pool = ["pool"] if getattr(getattr(params.data, name), "n_pool", 0) else []
    assert sorted(task.splits) == sorted(["test", "train", "val", *pool])
    assert {k: len(v) for k, v in task.splits.items()} == cards[name]["sizes"]
    p = params.for_task(name)
    model = task.build_model(p.distill.student_depth, p.model.width, p)
    split = task.splits["val"].subset(3)
    if task.family.name == "seq2seq":
        assert task.metric == "bleu" and task.src_vocab and task.tgt_vocab
        logits, enc, dec = model(split.x, split.x != 0, split.y[:, :-1], split.y[:, :-1] != 0)
        assert logits.shape[:2] == split.y[:, :-1].shape
        assert len(enc) == len(dec) == p.distill.student_depth + 1
    else:
        assert task.metric == "acc"
        logits, hiddens = model(split.x, split.mask)
        assert logits.shape == (3, task.n_classes)
        assert len(hiddens) == p.distill.student_depth + 1
        assert int(split.y.max()) < task.n_classes


@pytest.mark.parametrize("name", TASKS)
def test_rebuilding_gives_the_same_checksum(built, name, tmp_path):
    root, params, cards = built
    assert build_data(name, params, tmp_path)["checksum"] == cards[name]["checksum"]
    load_arrays(data_path(name, root))  # verifies the card


def test_listops_uses_token_ids_and_padding_mask(built):
    root, params, _ = built
    train = load_task("listops", params, root).splits["train"]
    assert train.x.dtype == torch.int64 and train.mask is not None
    assert torch.equal(train.mask, train.x != 0)


def test_overrides_apply_per_task():
    params = parse_params(SMOKE)
    assert params.for_task("scan").model.teacher_depth == 2
    assert params.for_task("mnist").model.teacher_depth == 4
