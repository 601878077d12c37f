import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from layerkd.stats import equivalence, paired_vs_none, tost_paired


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
