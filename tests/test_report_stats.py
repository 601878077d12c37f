import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from layerkd.report.stats import (
    equivalence,
    holm,
    paired_vs_none,
    spread,
    strategy_anova,
    tost_paired,
)


def frame(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"task": "t", "init": "random", "strategy": s, "seed": i, "test_acc": v}
                         for s, vs in values.items() for i, v in enumerate(vs)])


def test_paired_gain_and_p_value_match_scipy():
    none, fwd = [70.0, 72.0, 71.0, 69.0], [75.0, 76.5, 74.0, 74.5]
    out = paired_vs_none(frame({"none": none, "forward": fwd}))
    row = out.set_index("strategy").loc["forward"]
    assert row["gain"] == pytest.approx(np.mean(np.subtract(fwd, none)))
    assert row["p"] == pytest.approx(sps.ttest_rel(fwd, none).pvalue)
    assert row["n"] == 4


def test_tost_equivalent_when_differences_are_small_and_tight():
    a = np.array([80.0, 81.0, 79.5, 80.5, 80.2])
    assert tost_paired(a + 0.1 * np.array([1, -1, 1, -1, 0.5]), a, margin=1.0) < 0.05


def test_tost_not_equivalent_when_difference_exceeds_margin():
    a = np.array([80.0, 81.0, 79.5, 80.5, 80.2])
    assert tost_paired(a + 3.0 + 0.1 * np.arange(5), a, margin=1.0) > 0.5


def test_equivalence_lists_every_pair_of_matching_strategies():
    out = equivalence(frame({"none": [1, 2, 3], "forward": [4, 5, 6], "reverse": [4, 5, 7],
                             "random": [5, 5, 5]}), margin=1.0)
    assert {(r.a, r.b) for r in out.itertuples()} == {("forward", "reverse"),
                                                      ("forward", "random"),
                                                      ("reverse", "random")}


def test_holm_matches_the_step_down_rule_and_keeps_nan():
    p = [0.01, 0.04, np.nan, 0.03]
    # sorted 0.01, 0.03, 0.04 -> x3, x2, x1, running max, capped at 1
    assert np.allclose(holm(p), [0.03, 0.06, np.nan, 0.06], equal_nan=True)


def test_vs_none_holm_column_is_never_below_the_raw_p():
    g = np.random.default_rng(0)
    values = {s: list(70 + g.normal(size=4)) for s in ("none", "forward", "reverse", "random")}
    out = paired_vs_none(frame(values))
    assert (out["p_holm"] >= out["p"]).all() and (out["p_holm"] <= 1).all()


def test_strategy_anova_matches_the_textbook_repeated_measures_f():
    g = np.random.default_rng(1)
    y = 70 + g.normal(size=(5, 3)) + np.array([0.0, 1.0, 3.0])  # 5 seeds x 3 strategies
    names = ["forward", "reverse", "random"]
    out = strategy_anova(frame({s: list(y[:, j]) for j, s in enumerate(names)})).iloc[0]
    n, k = y.shape
    ss_strat = n * ((y.mean(0) - y.mean()) ** 2).sum()
    ss_seed = k * ((y.mean(1) - y.mean()) ** 2).sum()
    ss_err = ((y - y.mean()) ** 2).sum() - ss_strat - ss_seed
    f = (ss_strat / (k - 1)) / (ss_err / ((k - 1) * (n - 1)))
    assert out["F"] == pytest.approx(f)
    assert out["p"] == pytest.approx(sps.f.sf(f, k - 1, (k - 1) * (n - 1)))
    assert out["strategies"] == 3 and out["seeds"] == 5


def test_equivalence_holm_within_task_and_margin_per_task():
    rows = frame({"forward": [4, 5, 6], "reverse": [4, 5, 7], "random": [5, 5, 5]})
    other = rows.assign(task="u")
    out = equivalence(pd.concat([rows, other]), margin={"t": 1.0, "u": 5.0})
    assert set(out.groupby("task")["margin"].first().items()) == {("t", 1.0), ("u", 5.0)}
    for _, fam in out.groupby("task"):
        assert np.allclose(fam["p_tost_holm"], holm(fam["p_tost"]), equal_nan=True)


def test_strategy_spreads_per_task_of_one_init():
    from layerkd.report.stats import strategy_spreads

    rows = [("a", "random", "forward", 70.0), ("a", "random", "reverse", 73.0),
            ("a", "random", "none", 10.0), ("a", "weight_copy", "forward", 99.0),
            ("a", "weight_copy", "reverse", 50.0), ("b", "random", "forward", 5.0),
            ("b", "random", "all_to_one", 6.5)]
    summary = pd.DataFrame(rows, columns=["task", "init", "strategy", "mean"])
    assert strategy_spreads(summary) == pytest.approx({"a": 3.0, "b": 1.5})
    assert strategy_spreads(summary, "weight_copy") == pytest.approx({"a": 49.0})


def test_spread_uses_only_the_papers_matching_strategies():
    means = pd.Series({"none": 10.0, "forward": 70.0, "reverse": 72.0, "random": 71.0,
                       "all_to_one": 70.5, "in_order_random": 90.0})
    assert spread(means) == pytest.approx(2.0)
