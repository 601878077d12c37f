"""The transfer-set-size ablation: its variants (equal optimiser steps), its
parameter checks, and its report (runs, gains, table, figure, findings)."""

import math

import pandas as pd
import pytest
from conftest import complete

from layerkd.config import ConfigError, parse_params
from layerkd.report import transfer as tr
from layerkd.stages.ablation import transfer_variants

TRANSFER = {"tasks": ["mnist1d"], "inits": ["random", "weight_copy"], "strategies": None,
            "seeds": [0, 1], "fractions": [0.1, 0.3]}


def params_with(transfer=None, distill=None):
    raw = complete({"ablations": {"transfer": {**TRANSFER, **(transfer or {})}},
                    "distill": {"epochs": 9, "val_every": 1, "batch_size": 64,
                                "transfer_size": None, **(distill or {})}})
    return parse_params(raw)


def test_variants_train_for_the_main_runs_steps():
    p = params_with().for_task("mnist1d")
    v = transfer_variants(p, 3500)
    assert list(v) == ["frac0.1_random", "frac0.1_weight_copy",
                       "frac0.3_random", "frac0.3_weight_copy"]
    main_steps = 9 * math.ceil(3500 / 64)
    for name, vp in v.items():
        d = vp.distill
        assert d.inits == [name.split("_", 1)[1]]
        assert d.seeds == [0, 1] and d.strategies == p.distill.strategies
        steps = d.epochs * math.ceil(d.transfer_size / 64)
        assert abs(steps - main_steps) / main_steps < 0.1, (name, steps, main_steps)
        validations = math.ceil(d.epochs / d.val_every)
        assert 0.5 * 9 <= validations <= 2 * 9  # as often as the main runs, not 12x more
    assert v["frac0.1_random"].distill.transfer_size == 350
    assert v["frac0.3_random"].distill.transfer_size == 1050
    assert v["frac0.1_random"].ablations.transfer.tasks == []  # variants ablate nothing
    only = params_with({"inits": None}, {"inits": ["random"]}).for_task("mnist1d")
    assert list(transfer_variants(only, 3500)) == ["frac0.1_random", "frac0.3_random"]
    assert transfer_variants(p, 5)["frac0.1_random"].distill.transfer_size == 1  # at least one


@pytest.mark.parametrize("change, fragments", [
    ({"fractions": [0.1, 0.1]}, ["ablations.transfer.fractions", "duplicates"]),
    ({"inits": ["zeros"]}, ["ablations.transfer.inits", "'zeros'", "weight_copy"]),
    ({"inits": ["weight_copy"]}, ["ablations.transfer.inits", "'weight_copy'",
                                  "(distill.inits)"]),
    ({"strategies": ["sideways"]}, ["ablations.transfer.strategies", "'sideways'"]),
    ({"tasks": ["scan"]}, ["ablations.transfer.tasks", "'scan'"]),
    ({"seeds": [7]}, ["ablations.transfer.seeds", "7", "distill.seeds"]),
    ({"fractions": [0.0]}, ["ablations.transfer.fractions", "[0.0]", "0 < f < 1"]),
    ({"fractions": [1.0]}, ["ablations.transfer.fractions", "[1.0]", "the main runs"]),
])
def test_bad_transfer_ablation_values_are_named(change, fragments):
    raw = complete({"ablations": {"transfer": {**TRANSFER, **change}},
                    "distill": {"transfer_size": None}})
    if change.get("inits") == ["weight_copy"]:
        raw["distill"]["inits"] = ["random"]
    raw["tasks"] = ["mnist", "mnist1d"]
    with pytest.raises(ConfigError) as err:
        parse_params(raw)
    for fragment in fragments:
        assert fragment in str(err.value), (fragment, str(err.value))


def test_pretraining_needs_a_pool():
    raw = complete({"teacher": {"pretrain_epochs": 2}})
    raw["tasks"] = ["mnist1d"]
    raw["data"]["mnist1d"]["n_pool"] = 0
    with pytest.raises(ConfigError, match=r"teacher.pretrain_epochs=2.*set data.mnist1d.n_pool"):
        parse_params(raw)
    raw["tasks"] = ["mnist"]
    with pytest.raises(ConfigError, match="task 'mnist' has no pre-training pool"):
        parse_params(raw)
    raw = complete({"overrides": {"mnist1d": {"teacher": {"pretrain_epochs": 2}}}})
    raw["data"]["mnist1d"]["n_pool"] = 100
    assert parse_params(raw).for_task("mnist1d").teacher.pretrain_epochs == 2
    assert parse_params(raw).for_task("mnist").teacher.pretrain_epochs == 0


def fake_runs():
    """Two inits x two sizes (300 and the main 3500) x none / forward / reverse x 2 seeds."""
    rows = []
    for init in ("random", "weight_copy"):
        for size, lift in ((300, 4.0), (3500, 1.0)):
            for strategy, extra in (("none", 0.0), ("forward", lift), ("reverse", 2 * lift)):
                for seed in (0, 1):
                    rows.append({"task": "mnist1d", "init": init, "strategy": strategy,
                                 "seed": seed, "transfer_size": size, "score": 80 + extra + seed,
                                 "metric": "acc",
                                 "variant": f"frac0.1_{init}" if size == 300 else None})
    df = pd.DataFrame(rows)
    return df[df["variant"].notna()], df[df["variant"].isna()].drop(columns="variant")


def test_report_runs_gains_table_and_findings(tmp_path):
    ablation, students = fake_runs()
    p = params_with({"fractions": [0.1]})
    runs = tr.transfer_runs(ablation, students, p)
    assert len(runs) == 24 and set(runs["size"]) == {300, 3500}
    gains = tr.transfer_gains(runs)
    small = gains[(gains["size"] == 300) & (gains["strategy"] == "reverse")]
    assert (small["gain"] == 8.0).all()
    summary = tr.transfer_summary(runs).set_index(["init", "size"])
    assert summary.loc[("random", 300), "spread"] == pytest.approx(4.0)
    assert summary.loc[("random", 3500), "spread"] == pytest.approx(1.0)
    table = tr.transfer_table(runs)
    assert list(table.index)[:2] == ["mnist1d: random, n = 300", "mnist1d: random, n = 3,500"]
    text = tr.transfer_findings(runs)
    assert "n = 300: spread 4.0 (beyond" in text and "n = 3,500: spread 1.0 (within" in text
    assert "in 2 of 4 task x init x size cells" in text
    tr.transfer_figure(runs, tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 10_000


def test_stale_sizes_are_left_out():
    ablation, students = fake_runs()
    runs = tr.transfer_runs(ablation, students, params_with({"fractions": [0.3]}))
    assert set(runs["size"]) == {3500}


def test_macros_are_computed_and_defined_without_runs():
    ablation, students = fake_runs()
    p = params_with({"fractions": [0.1]})
    m = tr.transfer_macros(tr.transfer_runs(ablation, students, p), p)
    assert m["TransferAgreeCells"] == "2" and m["TransferCells"] == "4"
    assert m["TransferSpreadSmallest"] == "4.0" and m["TransferSpreadFull"] == "1.0"
    assert m["TransferGainSmallest"] == "8.0" and m["TransferGainFull"] == "2.0"
    empty = tr.transfer_macros(pd.DataFrame(columns=tr.COLUMNS), p)
    assert empty["TransferCells"] == "n/a" and empty["TransferAblationFractions"] == "10\\,\\%"


def test_findings_say_n_a_with_one_matching_strategy_or_seed():
    ablation, students = fake_runs()
    p = params_with({"fractions": [0.1], "strategies": ["none", "forward"], "seeds": [0]})
    runs = tr.transfer_runs(ablation, students, p)
    text = tr.transfer_findings(runs)
    assert "spread n/a (fewer than two matching strategies or seeds)" in text
    assert "in 0 of 0 task x init x size cells" in text
