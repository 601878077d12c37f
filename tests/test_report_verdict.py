"""The verdict against the paper (layerkd.report.verdict) and the table of
differences (layerkd.report.agreement): each rule on inputs built to land on
each side of it."""

import numpy as np
import pandas as pd
import pytest

from layerkd.report import agreement, verdict


def shape(task_gains: dict[str, list[float]], init="random") -> pd.DataFrame:
    """``tables.shape_summary``-like rows: per task the gains of four strategies."""
    rows = []
    for task, gains in task_gains.items():
        g = np.asarray(gains, float)
        rows.append({"task": task, "init": init, "mean gain of matching": g.mean(),
                     "spread between strategies": np.ptp(g), "above none": int((g > 0).sum()),
                     "compared": len(g), "matching strategies above none": f"{(g > 0).sum()}/4"})
    return pd.DataFrame(rows)


def vs_none(tasks, p_holm=0.01) -> pd.DataFrame:
    return pd.DataFrame([{"task": t, "init": "random", "strategy": s, "p_holm": p_holm}
                         for t in tasks for s in ("forward", "reverse", "random", "all_to_one")])


def test_claim_a_reproduced_partly_not():
    tasks = {f"t{i}": [2.0, 3.0, 1.0, 4.0] for i in range(6)}
    paper = shape({"dart": [-5.0, -6.0, -5.5, -6.2]})
    row, m = verdict.claim_a(shape(tasks), paper, vs_none(tasks), 0.05)
    assert row["verdict"] == "reproduced" and m["RandomAboveNone"] == "24"
    assert "dart" in row["paper"]
    tasks["t0"] = [2.0, -1.0, 1.0, 4.0]  # one strategy below none, the cells still above
    assert verdict.claim_a(shape(tasks), paper, vs_none(tasks), 0.05)[0]["verdict"] == "partly"
    worse = {f"t{i}": [(-1) ** i * 2.0] * 4 for i in range(6)}
    assert verdict.claim_a(shape(worse), paper, vs_none(worse), 0.05)[0]["verdict"] == \
        "not reproduced"


def spread_rows(p_holm, spread=1.0):
    return pd.DataFrame({"spread": spread, "null_mean": 0.8, "p": p_holm, "p_holm": p_holm},
                        index=range(len(p_holm)))


def test_claim_b_follows_the_null_and_the_gain():
    ours = shape({"t": [3.0, 3.0, 3.0, 3.0]})
    assert verdict.claim_b(ours, ours, spread_rows([0.5, 0.2]), 0.05)[0]["verdict"] == \
        "reproduced"
    assert verdict.claim_b(ours, ours, spread_rows([0.01, 0.2]), 0.05)[0]["verdict"] == "partly"
    assert verdict.claim_b(ours, ours, spread_rows([0.01, 0.2], spread=5.0),
                           0.05)[0]["verdict"] == "not reproduced"


def angles(acute, null):
    return pd.DataFrame({"task": "t", "stack": "encoder", "init": "random",
                         "run": ["none", "forward", "reverse"], "acute %": [99.0, acute, acute],
                         "null acute %": [null] * 3})


@pytest.mark.parametrize("acute, null, expected", [(90.0, 60.0, "reproduced"),
                                                   (90.0, 100.0, "partly"),
                                                   (40.0, 30.0, "not reproduced")])
def test_claim_c(acute, null, expected):
    assert verdict.claim_c(angles(acute, null))[0]["verdict"] == expected


def pooled_rows(friedman_p, contrast_p):
    table = pd.DataFrame([{"family": "overall", "cells": 13, "blocks": 13, "friedman": 9.0,
                           "friedman_p": friedman_p, "page_p": 0.2,
                           "forward_above_reverse": "9/13"}])
    pairs = pd.DataFrame([{"family": "overall", "pair": "forward - reverse", "effect_z": 0.5,
                           "z_low": 0.1, "z_high": 0.9, "p": contrast_p, "p_holm": contrast_p,
                           "points": 1.2, "points_low": 0.4, "points_high": 2.0}])
    return table, pairs


@pytest.mark.parametrize("friedman_p, contrast_p, expected", [
    (0.3, 0.4, "reproduced"), (0.01, 0.4, "partly"), (0.001, 0.001, "not reproduced")])
def test_claim_d(friedman_p, contrast_p, expected):
    table, pairs = pooled_rows(friedman_p, contrast_p)
    paper, _ = pooled_rows(0.2, 0.2)
    row, m = verdict.claim_d(table, pairs, paper, 0.05)
    assert row["verdict"] == expected
    assert m["ForwardReversePoints"] == "1.20" and m["ForwardAboveReverse"] == "9/13"


def test_p_text_and_tex_safety():
    assert verdict.p_text(0.01234) == "0.012" and verdict.p_text(1e-7) == "< 0.0001"
    assert verdict.p_text(float("nan")) == "n/a"
    assert verdict.as_tex({"x": "p < 0.0001, 3 < 4"})["x"] == "$p < 0.0001$, 3 $<$ 4"
    table = pd.DataFrame({"b": ["p < 0.05 and 5 %"]}, index=pd.Index(["a_b"], name="claim"))
    tex = verdict.wide_latex(table, "cap", "tab:x", ["2cm", "3cm"])
    assert r"a\_b" in tex and r"5 \%" in tex and "$p < 0.05$" in tex and "{p{2cm}p{3cm}}" in tex
    assert verdict.as_tex({"p": verdict.p_is(0.0123)})["p"] == "$p = 0.012$"


@pytest.mark.parametrize("friedman_p, contrast_p, says", [
    (0.001, 0.001, "does matter"), (0.3, 0.4, "No consistent ordering")])
def test_findings_state_the_ordering_with_its_test(friedman_p, contrast_p, says):
    from layerkd.report.paper_text import findings_markdown

    table, pairs = pooled_rows(friedman_p, contrast_p)
    _, m = verdict.claim_d(table, pairs, table, 0.05)
    text = findings_markdown(verdict.as_tex(m))
    assert says in text and "1.20 points [0.40, 2.00]" in text
    assert f"Holm {verdict.p_is(contrast_p)}" in text and "$" not in text


def transfer_runs():
    """Two sizes, none / forward / reverse, two seeds: forward - reverse is 6 at the
    small size and 1 at the full one; the gain over none 10 and 2."""
    rows = []
    for size, (none, fwd, rev) in {50: (60.0, 70.0, 64.0), 500: (80.0, 82.0, 81.0)}.items():
        for seed in (0, 1):
            for s, v in (("none", none), ("forward", fwd), ("reverse", rev)):
                rows.append({"task": "t", "init": "random", "strategy": s, "seed": seed,
                             "size": size, "score": v + seed, "metric": "acc", "source": "x"})
    return pd.DataFrame(rows)


def test_transfer_facts_are_the_smallest_and_the_whole_set():
    t = agreement.transfer_facts(transfer_runs())
    assert t["gap_small"] == pytest.approx(6.0) and t["gap_full"] == pytest.approx(1.0)
    assert t["gain_small"] == pytest.approx(10.0) and t["gain_full"] == pytest.approx(2.0)
    assert t["size_small"] == 50


def test_divergence_table_names_dart_and_the_ordering():
    paper = pd.concat([shape({"dart": [-5.0, -6.0, -5.5, -6.2]}),
                       shape({"dart": [1.0, 2.0, 1.5, 1.0]}, init="weight_copy")])
    ours = pd.concat([shape({"g": [3.0, 2.0, 4.0, 1.0]}),
                      shape({"g": [0.5, -1.0, 0.0, 0.2]}, init="weight_copy")])
    table, m = agreement.divergence_table(paper, ours, {"g": "generation"}, None,
                                          transfer_runs(), "9/14", "12/13")
    assert list(table.index) == ["DART from random init: matching below none",
                                 "ordering: forward above reverse"]
    assert m["DartRandomGain"] == "-5.7" and m["GenRandomGain"] == "2.5"
    assert "6.0" in table.loc["ordering: forward above reverse", "what the experiments show"]
    why = table.loc["DART from random init: matching below none", "what the experiments show"]
    assert "opposite directions" in why  # the paper's DART gain rises with weight copy, ours falls


def test_the_whole_chain_runs_on_a_smoke_sized_degenerate_grid():
    """Two seeds, a cell whose runs all score the same, ablations without reverse:
    what the smoke profile gives the aggregate stage."""
    from layerkd.report import cellstats, pooled, tables
    from layerkd.report.collect import summarise
    from layerkd.report.stats import paired_vs_none

    rng = np.random.default_rng(5)
    rows = []
    for task in ("mnist", "scan", "facts"):
        for init in ("random", "weight_copy"):
            for s in ("none", "forward", "reverse", "random", "all_to_one"):
                for seed in (0, 1):
                    flat = task == "scan" and init == "weight_copy"
                    rows.append({"task": task, "init": init, "strategy": s, "seed": seed,
                                 "score": 10.0 if flat else 50 + rng.normal()})
    runs = pd.DataFrame(rows)
    vs = paired_vs_none(runs, "score")
    spreads = cellstats.spread_table(runs)
    assert len(cellstats.margin_table(runs)) == 6
    pooled_runs = pooled.runs_frame(runs)
    table, pairs = pooled.pooled_table(pooled_runs), pooled.pairwise(pooled_runs)
    ours = tables.shape_summary(summarise(runs[runs["task"] != "facts"]))
    paper = shape({"dart": [-5.0, -6.0, -5.5, -6.2]})
    rows = [verdict.claim_a(ours, paper, vs, 0.05)[0],
            verdict.claim_b(ours, paper, spreads, 0.05)[0],
            verdict.claim_d(table, pairs, table, 0.05)[0]]
    assert all(r["verdict"] in verdict.VERDICTS for r in rows)
    small = transfer_runs()
    assert np.isnan(agreement.transfer_facts(small[small["strategy"] != "reverse"])["gap_small"])
