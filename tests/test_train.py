"""Training: deterministic on the CPU, best-on-validation weights, clear stop on NaN."""

import json

import pytest
import torch
from conftest import complete

from layerkd.config import parse_params
from layerkd.data import Split
from layerkd.distill.cache import TeacherCache
from layerkd.distill.initialisation import initialise
from layerkd.distill.run import distill_one
from layerkd.tasks import Task
from layerkd.train.loop import NonFiniteLoss, fit

TINY = complete({
    "model": {"width": 16, "heads": 2, "teacher_depth": 3},
    # validate every epoch: these tests read one curve point per epoch
    "teacher": {"epochs": 1, "val_every": 1},
    "distill": {"val_every": 1, "epochs": 2, "student_depth": 2, "transfer_size": 32, "batch_size": 8,
                "seeds": [0]},
})


def tiny_task() -> Task:
    g = torch.Generator().manual_seed(0)
    splits = {name: Split(torch.randn(n, 4, 5, generator=g), torch.randint(0, 3, (n,), generator=g))
              for name, n in [("train", 40), ("val", 16), ("test", 16)]}
    return Task("tiny", splits, in_features=5, n_classes=3, max_len=4,
                family_name="classifier")


def run_once(tmp_path, strategy="forward", init="random", **changes):
    raw = json.loads(json.dumps(TINY))
    raw["distill"].update(changes)
    params = parse_params(raw)
    task = tiny_task()
    torch.manual_seed(123)
    teacher = task.build_model(3, 16, params).eval()
    cache = TeacherCache.compute(teacher, task.splits["train"].subset(32))
    return distill_one(task, params, teacher, cache, init, strategy, seed=0,
                   out_dir=tmp_path / "run", ckpt_path=tmp_path / "run.pt", progress=False)


@pytest.mark.parametrize("strategy", ["forward", "in_order_random"])
def test_same_seed_gives_bit_identical_metrics(tmp_path, strategy):
    a = run_once(tmp_path / "a", strategy)
    b = run_once(tmp_path / "b", strategy)
    a.pop("wall_s"), b.pop("wall_s")
    assert a == b
    sa = torch.load(tmp_path / "a" / "run.pt")["state_dict"]
    sb = torch.load(tmp_path / "b" / "run.pt")["state_dict"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_metrics_and_training_curve_written(tmp_path):
    m = run_once(tmp_path, "reverse", "weight_copy")
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["strategy"] == "reverse" and saved["init"] == "weight_copy"
    assert saved["pairs"] == [[0, 0], [1, 3], [2, 2]]
    assert 0 <= m["test_acc"] <= 100
    curve = (tmp_path / "run" / "live" / "plots" / "metrics" / "val" / "acc.tsv").read_text()
    assert len(curve.strip().splitlines()) == 1 + 2  # header + one row per epoch


def test_fit_restores_best_validation_weights():
    model = torch.nn.Linear(2, 1)
    scores = iter([10.0, 50.0, 20.0])
    snapshots = []

    def evaluate():
        snapshots.append(model.weight.detach().clone())
        return next(scores)

    def loss_fn(idx):
        loss = (model(torch.ones(len(idx), 2)) - 5).pow(2).mean()
        return loss, {"mse": loss.item()}

    opt = parse_params(TINY).teacher.model_copy(update={"epochs": 3, "lr": 0.1})
    result = fit(model, loss_fn, 8, evaluate, opt, seed=0, run_name="t", progress=False)
    assert result.best_epoch == 1 and result.best_val == 50.0
    assert torch.equal(model.weight, snapshots[1])


def test_non_finite_loss_stops_with_run_name_and_step():
    model = torch.nn.Linear(2, 1)

    def loss_fn(idx):
        return model(torch.ones(len(idx), 2)).sum() * float("nan"), {}

    opt = parse_params(TINY).teacher
    with pytest.raises(NonFiniteLoss, match=r"mnist/random/forward/seed0: non-finite .* epoch 0, "
                       r"step 0.*teacher\.lr, distill\.lr"):
        fit(model, loss_fn, 8, lambda: 0.0, opt, 0, "mnist/random/forward/seed0", progress=False)


def test_initialise_rejects_unknown_init():
    with pytest.raises(ValueError, match="weight_copy"):
        initialise(tiny_task().build_model(2, 16, parse_params(TINY)), "zeros")


def test_val_every_validates_every_kth_and_the_last_epoch():
    model = torch.nn.Linear(2, 1)
    calls = []

    def loss_fn(idx):
        loss = (model(torch.ones(len(idx), 2)) - 5).pow(2).mean()
        return loss, {"mse": loss.item()}

    def evaluate():
        calls.append(len(calls))
        return float(len(calls))  # later validations score higher

    opt = parse_params(TINY).teacher.model_copy(update={"epochs": 7, "val_every": 3})
    result = fit(model, loss_fn, 8, evaluate, opt, seed=0, run_name="t", progress=False)
    validated = [row["epoch"] for row in result.history if "val/acc" in row]
    assert validated == [2, 5, 6] and len(calls) == 3
    assert result.best_epoch == 6 and len(result.history) == 7


def test_val_every_must_be_positive():
    with pytest.raises(ValueError, match="val_every"):
        parse_params({**TINY, "distill": {**TINY["distill"], "val_every": 0}})
