"""Per-cell statistics: Holm within each (task, init) cell, bootstrap intervals over
seeds, the spread's permutation null and the smallest TOST margin, each against a
direct computation on a small synthetic grid."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.weightstats import ttost_paired

from layerkd.report import cellstats
from layerkd.report.stats import MATCHING, holm, paired_vs_none, seed_interval, tost_margin

NULL_DRAWS = 200


def frame(values: dict[str, list[float]], task="t", init="random") -> pd.DataFrame:
    return pd.DataFrame([{"task": task, "init": init, "strategy": s, "seed": i, "score": v}
                         for s, vs in values.items() for i, v in enumerate(vs)])


def cell(rng, effects=None, seeds=3, noise=1.0, task="t") -> pd.DataFrame:
    """One cell: none and the four matching strategies, a shared level per seed."""
    effects = effects or {}
    level = rng.normal(0, 1, seeds)
    return frame({s: list(70 + level + effects.get(s, 0.0) + rng.normal(0, noise, seeds))
                  for s in ("none", *MATCHING)}, task=task)


@pytest.fixture
def fast_holm(monkeypatch):
    """statsmodels' Holm calls gc.collect() (about 0.1 s in a test process): the
    many-draw tests skip it (it changes no number)."""
    import gc

    monkeypatch.setattr(gc, "collect", lambda *a: 0)  # restored after the test


def bound(alpha=0.05, draws=NULL_DRAWS) -> int:
    return int(sps.binom.ppf(0.999, draws, alpha))


def test_holm_runs_within_each_cell_not_over_the_table():
    rng = np.random.default_rng(0)
    runs = pd.concat([cell(rng, {"forward": 5}, task="a"), cell(rng, task="b")])
    out = paired_vs_none(runs, "score")
    for _, fam in out.groupby(["task", "init"]):
        assert len(fam) == 4 and np.allclose(fam["p_holm"], holm(fam["p"]))
    assert not np.allclose(out["p_holm"], holm(out["p"]))  # not the whole table's family


def test_gain_interval_is_the_percentile_bootstrap_of_the_seed_differences():
    rng = np.random.default_rng(1)
    x, y = rng.normal(3, 1, 40), rng.normal(0, 1, 40)
    low, high = seed_interval((x, y), lambda a, b, axis=-1: np.mean(a - b, axis=axis))
    d = x - y
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))  # normal approximation at n = 40
    assert low == pytest.approx(d.mean() - half, abs=0.15 * half)
    assert high == pytest.approx(d.mean() + half, abs=0.15 * half)


def test_interval_of_identical_seeds_is_the_value():
    low, high = seed_interval((np.array([2.0, 2.0, 2.0]), np.zeros(3)),
                              lambda a, b, axis=-1: np.mean(a - b, axis=axis))
    assert low == high == 2.0


def test_spread_null_is_the_exact_relabelling_distribution():
    wide = pd.DataFrame({"forward": [3.0, 5.0], "reverse": [1.0, 2.5],
                         "random": [2.0, 2.0], "all_to_one": [2.5, 4.0]})
    out = cellstats.spread_null(wide)
    rows = wide.to_numpy()
    null = [np.ptp((rows[0][list(p)] + rows[1][list(q)]) / 2)
            for p in itertools.permutations(range(4)) for q in itertools.permutations(range(4))]
    observed = np.ptp(rows.mean(0))
    assert out["spread"] == pytest.approx(observed)
    assert out["null_mean"] == pytest.approx(np.mean(null))
    assert out["p"] == pytest.approx(np.mean(np.array(null) >= observed - 1e-12))


def test_an_injected_spread_exceeds_its_null_and_equal_strategies_do_not_too_often(fast_holm):
    rng = np.random.default_rng(2)
    # graded: with three seeds one outlying strategy cannot reach p < 0.05 (a quarter
    # of the relabellings keep its three runs together)
    graded = {"forward": 6.0, "all_to_one": 3.0, "reverse": -3.0}
    big = cellstats.spread_table(cell(rng, graded, noise=0.3))
    assert big["p"].iloc[0] < 0.05 and big["spread"].iloc[0] > big["null_95"].iloc[0]
    rejected = sum(cellstats.spread_table(cell(rng))["p"].iloc[0] < 0.05
                   for _ in range(NULL_DRAWS))
    assert rejected <= bound()


def test_equal_strategies_do_not_beat_none_in_a_cell_too_often(monkeypatch, fast_holm):
    monkeypatch.setattr("layerkd.report.stats.RESAMPLES", 99)  # the intervals are not read
    rng = np.random.default_rng(3)
    families = sum((paired_vs_none(cell(rng), "score")["p_holm"] < 0.05).any()
                   for _ in range(NULL_DRAWS))
    assert families <= bound()  # Holm keeps the family-wise rate at alpha


def test_tost_margin_is_where_statsmodels_tost_starts_to_reject():
    x = np.array([80.0, 81.5, 79.0, 80.7])
    y = np.array([79.2, 80.1, 79.4, 79.5])
    m = tost_margin(x, y)
    assert ttost_paired(x, y, -m * 1.001, m * 1.001)[0] < 0.05
    assert ttost_paired(x, y, -m * 0.99, m * 0.99)[0] >= 0.05


def test_cell_margin_is_the_widest_pair():
    rng = np.random.default_rng(4)
    runs = cell(rng, {"reverse": -3.0})
    out = cellstats.margin_table(runs).iloc[0]
    wide = runs.pivot_table(index="seed", columns="strategy", values="score")
    pairs = [tost_margin(wide[a].to_numpy(), wide[b].to_numpy())
             for a, b in itertools.combinations(MATCHING, 2)]
    assert out["margin"] == pytest.approx(max(pairs))
    assert "reverse" in out["set by"]
