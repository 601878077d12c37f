"""The objective ablations (hidden distance, hidden weight): variants and their
checks (their tables: test_report_ablations.py)."""

import copy
from pathlib import Path

import pytest
import yaml

from layerkd.config import ConfigError, parse_params
from layerkd.paths import variant_dirs
from layerkd.stages.ablation import setting_variants

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "params.yaml").read_text())


def raw_with(**sections):
    raw = copy.deepcopy(DEFAULT)
    for kind, changes in sections.items():
        raw["ablations"][kind] |= changes
    return raw


# --- variants ---------------------------------------------------------------


def test_objective_variants_reuse_the_main_distance_and_train_none_nowhere():
    params = parse_params(DEFAULT)
    # numbers_ro's own objective is ln_mse (T5-like): its main runs are that variant
    v = setting_variants(params.for_task("numbers_ro"), "objective")
    assert list(v) == ["distance_sum_sq", "distance_mse"]
    matching = [s for s in params.ablations.objective.strategies if s != "none"]
    for name, p in v.items():
        assert p.distill.hidden_distance == name.removeprefix("distance_")
        assert p.distill.hidden_batch_divide is False
        assert p.distill.strategies == matching  # none: from the main runs
        assert p.distill.seeds == [0, 1, 2] and p.distill.inits == ["random"]
        assert p.distill.a_hid == params.distill.a_hid
        assert p.distill.epochs == params.for_task("numbers_ro").distill.epochs
        assert p.distill.student_depth == 3  # the task's own overrides are kept
    # classification runs divide by the batch size (official BERT trainer): the raw
    # sum_sq of the ablation is another setting, trained with none once
    v = setting_variants(params.for_task("mnist1d"), "objective")
    assert list(v) == ["distance_sum_sq", "distance_mse", "distance_ln_mse"]
    assert v["distance_sum_sq"].distill.strategies == params.ablations.objective.strategies


def test_objective_variants_without_the_main_setting_train_none_once():
    raw = raw_with(objective={"distances": ["mse", "ln_mse", "sum_sq"], "batch_divide": True,
                              "strategies": ["none", "forward"]})
    v = setting_variants(parse_params(raw).for_task("scan"), "objective")
    assert list(v) == ["distance_mse", "distance_ln_mse", "distance_sum_sq"]
    assert [p.distill.strategies for p in v.values()] == [["none", "forward"], ["forward"],
                                                         ["forward"]]
    assert all(p.distill.hidden_batch_divide for p in v.values())


def test_a_hid_variants_reuse_the_main_weight_and_its_none_runs():
    params = parse_params(raw_with(a_hid={"values": [0.3, 1, 3, 10]}))
    v = setting_variants(params.for_task("mnist1d"), "a_hid")
    assert params.distill.a_hid == 3
    assert list(v) == ["a_hid_0.3", "a_hid_1", "a_hid_10"]
    assert [p.distill.a_hid for p in v.values()] == [0.3, 1.0, 10.0]
    assert all(p.distill.strategies == ["forward", "reverse"] for p in v.values())
    assert all(p.distill.hidden_distance == "sum_sq" for p in v.values())


def test_a_hid_none_trained_once_when_no_value_is_the_main_one():
    raw = raw_with(a_hid={"values": [1, 10]})
    v = setting_variants(parse_params(raw).for_task("scan"), "a_hid")
    assert [p.distill.strategies for p in v.values()] == [["none", "forward", "reverse"],
                                                         ["forward", "reverse"]]
    # a task whose own a_hid is 10 (overrides) reuses its main runs at 10
    raw["overrides"]["scan"]["distill"]["a_hid"] = 10.0
    v = setting_variants(parse_params(raw).for_task("scan"), "a_hid")
    assert list(v) == ["a_hid_1"] and v["a_hid_1"].distill.strategies == ["forward", "reverse"]


def test_only_none_at_a_new_value_trains_nothing():
    raw = raw_with(a_hid={"strategies": ["none"], "values": [1, 3]})
    assert setting_variants(parse_params(raw).for_task("mnist1d"), "a_hid") == {}


def test_objective_ablations_write_beside_the_depth_ablation():
    assert variant_dirs("scan", "a_hid_10", "a_hid") == (
        Path("results/scan/ablations_a_hid/a_hid_10"), Path("ablation_models/a_hid/scan/a_hid_10"))
    assert variant_dirs("scan", "depth1") == (Path("results/scan/ablations/depth1"),
                                              Path("ablation_models/shape/scan/depth1"))


# --- checks -----------------------------------------------------------------


@pytest.mark.parametrize("kind, changes, expected", [
    ("objective", {"distances": ["sum_sq", "cosine"]},
     ["ablations.objective.distances", "'cosine'", "unit_sq"]),
    ("objective", {"tasks": ["mnist1d", "digits_x"]}, ["ablations.objective.tasks", "'digits_x'"]),
    ("objective", {"strategies": ["forward", "sideways"]},
     ["ablations.objective.strategies", "'sideways'"]),
    ("objective", {"init": "zeros"}, ["ablations.objective.init", "'zeros'", "weight_copy"]),
    ("objective", {"distances": ["mse", "mse"]}, ["ablations.objective.distances", "duplicates"]),
    ("objective", {"distances": []}, ["ablations.objective.distances"]),
    ("objective", {"seeds": [0, 5]},
     ["ablations.objective.seeds", "5", "distill.seeds", "main runs of task 'numbers_ro'"]),
    ("a_hid", {"values": [1, 0]}, ["ablations.a_hid.values", "[0.0]", "> 0"]),
    ("a_hid", {"values": [1, 1]}, ["ablations.a_hid.values", "duplicates"]),
    ("a_hid", {"tasks": ["mnist1d", "sst2"]}, ["ablations.a_hid.tasks", "'sst2'"]),
    ("a_hid", {"seeds": [1, 1]}, ["ablations.a_hid.seeds", "duplicates"]),
    ("a_hid", {"strategies": ["none", "all_to_two"]}, ["ablations.a_hid.strategies", "'all_to_two'"]),
    ("a_hid", {"distances": ["mse"]}, ["ablations.a_hid.distances", "unknown parameter"]),
])
def test_bad_objective_ablation_names_parameter_value_and_allowed(kind, changes, expected):
    with pytest.raises(ConfigError) as err:
        parse_params(raw_with(**{kind: changes}))
    for fragment in expected:
        assert fragment in str(err.value), (fragment, str(err.value))


def test_task_outside_tasks_and_reuse_needing_main_runs():
    raw = raw_with()
    raw["tasks"] = ["mnist", "mnist1d", "scan"]  # digits and numbers_ro left out
    raw["ablations"]["tasks"] = ["mnist"]
    raw["ablations"]["transfer"]["tasks"] = []  # its own checks: test_transfer_ablation.py
    with pytest.raises(ConfigError, match=r"ablations.objective.tasks: 'digits' is not allowed"):
        parse_params(raw)
    raw["ablations"]["objective"]["tasks"] = []
    with pytest.raises(ConfigError, match=r"ablations.a_hid.tasks: 'numbers_ro' is not allowed"):
        parse_params(raw)
    raw["ablations"]["a_hid"]["tasks"] = ["mnist1d"]
    parse_params(raw)
    # the main runs are reused at a_hid = 3: they must hold the ablation's strategies
    raw["distill"]["strategies"] = ["none", "forward"]
    with pytest.raises(ConfigError, match=r"ablations.a_hid.strategies: 'reverse'.*main runs"):
        parse_params(raw)
    raw["ablations"]["a_hid"]["values"] = [1, 10]  # nothing reused: any strategies
    parse_params(raw)


def test_an_ablation_with_nothing_to_train_still_makes_its_stage_outputs(tmp_path, monkeypatch):
    from layerkd.stages import ablation

    monkeypatch.chdir(tmp_path)
    raw = raw_with(a_hid={"strategies": ["none"], "values": [1, 3]})
    params = parse_params(raw).for_task("mnist1d")

    class FakeTask:
        name = "mnist1d"

    assert ablation.run_ablations(FakeTask(), params, "a_hid") == []  # no teacher loaded
    assert (tmp_path / "results/mnist1d/ablations_a_hid").is_dir()
    assert (tmp_path / "ablation_models/a_hid/mnist1d").is_dir()
