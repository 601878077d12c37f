"""The objective ablations' report (hidden distance, hidden weight): their runs,
tables, figure and macros on synthetic runs."""

import json

import numpy as np
import pandas as pd
from test_objective_ablations import (  # committed params, sweeps changed
    DEFAULT,
    raw_with,
)

from layerkd.config import parse_params
from layerkd.report import ablations as ar
from layerkd.report.collect import collect_setting_ablation
from layerkd.report.tables import latex_escape
from layerkd.strategies import LABELS


def synthetic(kind="a_hid"):
    """Main runs at a_hid 3 (none, forward, reverse), variants at 1 and 10."""
    raw = raw_with(a_hid={"tasks": ["mnist1d"], "values": [1, 3, 10], "seeds": [0, 1]})
    raw["ablations"]["objective"]["tasks"] = []
    params = parse_params(raw)
    main = pd.DataFrame({"task": "mnist1d", "init": "random",
                         "strategy": ["none", "forward", "reverse"] * 2 + ["random"],
                         "seed": [0, 0, 0, 1, 1, 1, 0],
                         "score": [70.0, 74.0, 72.0, 72.0, 76.0, 70.0, 99.0], "metric": "acc"})
    var = pd.DataFrame({"task": "mnist1d", "init": "random",
                        "strategy": ["forward", "reverse"] * 4,
                        "seed": [0, 0, 1, 1] * 2,
                        "variant": ["a_hid_1"] * 4 + ["a_hid_10"] * 4,
                        "score": [71.0, 71.0, 73.0, 73.0, 60.0, 66.0, 62.0, 70.0],
                        "metric": "acc"})
    stale = var.iloc[:1].assign(variant="a_hid_0.3", score=0.0)
    return params, main, pd.concat([var, stale], ignore_index=True)


def test_setting_runs_put_back_the_main_runs_and_repeat_none():
    params, main, var = synthetic()
    runs = ar.setting_runs(var, main, params, "a_hid")
    assert runs["label"].unique().tolist() == ["1", "3", "10"]  # a_hid_0.3 is stale
    assert "random" not in set(runs["strategy"])  # not a strategy of the ablation
    assert len(runs) == 3 * 3 * 2  # settings x strategies x seeds
    none = runs[runs["strategy"] == "none"]
    assert none.groupby("label")["score"].apply(list).to_dict() == {
        "1": [70.0, 72.0], "3": [70.0, 72.0], "10": [70.0, 72.0]}
    assert set(runs[runs["label"] == "3"]["source"]) == {"main"}
    assert set(runs[runs["label"] == "10"]["source"]) == {"a_hid_10", "main"}  # none from main


def test_setting_table_values_and_spread():
    params, main, var = synthetic()
    runs = ar.setting_runs(var, main, params, "a_hid")
    table = ar.setting_table(runs, "a_hid")
    assert table.index.tolist() == ["mnist1d: a_hid 1", "mnist1d: a_hid 3", "mnist1d: a_hid 10"]
    assert table.columns.tolist() == ["none", "forward", "reverse", "spread"]
    assert table.loc["mnist1d: a_hid 3", "forward"] == "75.0 ± 1.4"
    assert table.loc["mnist1d: a_hid 10", "none"] == "71.0 ± 1.4"
    # spread = max - min of the matching strategies' means: 3 -> 75 - 71, 10 -> 68 - 61
    assert table["spread"].tolist() == ["0.0", "4.0", "7.0"]
    s = ar.spread(runs)
    assert s["spread"].tolist() == [0.0, 4.0, 7.0]
    g = ar.gains(runs)
    assert g[(g["label"] == "10") & (g["strategy"] == "reverse")]["gain"].tolist() == [-4.0, -2.0]


def test_spread_needs_two_matching_strategies():
    runs = pd.DataFrame({"task": "t", "order": 0, "label": "mse", "seed": [0, 0],
                         "strategy": ["none", "forward"], "score": [1.0, 2.0]})
    assert np.isnan(ar.spread(runs)["spread"].iloc[0])


def test_gain_figure_and_macros(tmp_path):
    params, main, var = synthetic()
    runs = ar.setting_runs(var, main, params, "a_hid")
    ar.gain_figure(runs, "a_hid", tmp_path / "a_hid.png")
    assert (tmp_path / "a_hid.png").read_bytes()[:4] == b"\x89PNG"
    m = ar.param_macros(parse_params(raw_with(a_hid={"values": [0.3, 1, 3, 10]})))
    assert m["AHidAblationSettings"] == "0.3, 1, 3, 10"
    assert m["AHidAblationStrategies"] == "none, forward, reverse"
    assert m["ObjectiveAblationTasks"] == r"\texttt{digits}, \texttt{mnist1d}, \texttt{numbers\_ro}"
    assert m["ObjectiveAblationSettings"].startswith(r"\texttt{sum\_sq}")
    assert "seeds 0, 1, 2" in ar.describe(parse_params(DEFAULT), "objective")
    every = ar.param_macros(parse_params(raw_with(objective={"strategies": None})))
    assert every["ObjectiveAblationStrategies"] == latex_escape(", ".join(  # distill.strategies
        LABELS[s] for s in DEFAULT["distill"]["strategies"]))  # the tables' labels


def test_collect_setting_ablation_names_each_run_by_its_variant_folder(tmp_path):
    empty = collect_setting_ablation(tmp_path, "a_hid")
    assert len(empty) == 0 and {"variant", "score", "metric"} <= set(empty.columns)
    for variant, seed, acc in (("a_hid_1", 0, 70.0), ("a_hid_10", 1, 60.0)):
        run = tmp_path / "mnist1d" / "ablations_a_hid" / variant / "forward" / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps(
            {"task": "mnist1d", "init": "random", "strategy": "forward", "seed": seed,
             "test_acc": acc}))
    runs = collect_setting_ablation(tmp_path, "a_hid")
    assert runs["variant"].tolist() == ["a_hid_1", "a_hid_10"]
    assert runs["score"].tolist() == [70.0, 60.0] and set(runs["metric"]) == {"acc"}
    assert len(collect_setting_ablation(tmp_path, "objective")) == 0
