"""Pooled statistics over (task, init) cells (layerkd.report.pooled), on synthetic
grids whose answer is known."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from layerkd.report import pooled
from layerkd.report.stats import MATCHING

NULL_DRAWS = 200


def grid(effects: dict[str, float], cells: int = 6, seeds: int = 3, noise: float = 1.0,
         rng=None) -> pd.DataFrame:
    """Runs of the four matching strategies: a cell level, a seed level within the
    cell, the strategy's effect and noise (one family: the names are no real task)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    rows = []
    for c in range(cells):
        level = rng.normal(70, 10)
        for k in range(seeds):
            seed_level = rng.normal(0, 0.5)
            for s in MATCHING:
                rows.append({"task": f"t{c}", "init": "random", "strategy": s, "seed": k,
                             "score": level + seed_level + effects.get(s, 0.0)
                             + rng.normal(0, noise)})
    return pd.DataFrame(rows)


def bound(alpha: float = 0.05, draws: int = NULL_DRAWS) -> int:
    """Most rejections a test at level alpha may show in ``draws`` null draws
    (binomial, one-sided 0.999)."""
    return int(sps.binom.ppf(0.999, draws, alpha))


def test_block_tests_equal_scipy_on_the_cell_means():
    runs = pooled.runs_frame(grid({"forward": 1.0}))
    means = runs.groupby(["cell", "strategy"])["score"].mean().unstack()
    out = pooled.block_tests(pooled.blocks(runs))
    assert out["blocks"] == 6
    assert out["friedman_p"] == pytest.approx(
        sps.friedmanchisquare(*[means[s] for s in MATCHING]).pvalue)
    assert out["page_p"] == pytest.approx(
        sps.page_trend_test(means[list(pooled.TREND)].to_numpy()).pvalue)
    fr = f"{int((means['forward'] > means['reverse']).sum())}/6"
    assert out["forward_above_reverse"] == fr


def test_one_cell_family_blocks_on_seeds():
    runs = pooled.runs_frame(grid({}, cells=1, seeds=4))
    assert len(pooled.blocks(runs)) == 4


def test_mixed_model_contrast_is_the_difference_of_standardised_means_when_balanced():
    runs = pooled.runs_frame(grid({"forward": 2.0, "reverse": -2.0}))
    z = runs.assign(z=pooled.standardise(runs))
    assert np.allclose(z.groupby("cell")["z"].agg(["mean", "std"]).to_numpy(), [0, 1])
    effect, low, high, p = pooled._contrast(pooled.mixed_model(runs), "forward", "reverse")
    means = z.groupby("strategy")["z"].mean()
    assert effect == pytest.approx(means["forward"] - means["reverse"], abs=1e-6)
    assert low < effect < high and p < 0.05


def test_an_injected_ordering_is_found():
    runs = pooled.runs_frame(grid({"forward": 1.5, "random": 0.5, "all_to_one": 0.5,
                                   "reverse": -0.5}, cells=8, noise=0.7))
    pairs = pooled.pairwise(runs).set_index(["family", "pair"])
    fr = pairs.loc[(pooled.OVERALL, "forward - reverse")]
    assert fr["p_holm"] < 0.05 and fr["effect_z"] > 0 and fr["z_low"] > 0
    assert fr["points_low"] < 2.0 < fr["points_high"]  # the injected difference
    assert pairs.index.get_level_values("pair")[0] == "forward - reverse"
    table = pooled.pooled_table(runs).set_index("family").loc[pooled.OVERALL]
    assert table["friedman_p"] < 0.05 and table["page_p"] < 0.05


def test_holm_runs_over_the_six_pairs_of_each_family():
    from layerkd.report.stats import holm

    pairs = pooled.pairwise(pooled.runs_frame(grid({"forward": 1.0})))
    for _, fam in pairs.groupby("family"):
        assert len(fam) == 6
        assert np.allclose(fam["p_holm"], holm(fam["p"]))


def test_equal_strategies_are_not_called_different_at_more_than_the_nominal_rate():
    rng = np.random.default_rng(7)
    friedman = page = 0
    for _ in range(NULL_DRAWS):
        out = pooled.block_tests(pooled.blocks(pooled.runs_frame(grid({}, cells=6, rng=rng))))
        friedman += out["friedman_p"] < 0.05
        page += out["page_p"] < 0.05
    assert friedman <= bound() and page <= bound()


def test_the_mixed_model_contrast_keeps_its_level_under_equal_strategies():
    rng, draws = np.random.default_rng(11), 50  # a fit takes about 0.2 s
    rejected = sum(pooled._contrast(pooled.mixed_model(pooled.runs_frame(
        grid({}, cells=6, rng=rng))), "forward", "reverse")[3] < 0.05 for _ in range(draws))
    assert rejected <= bound(draws=draws)


def test_paper_tests_count_mnli_once_and_qqp_by_accuracy(tmp_path):
    rows = []
    for task in ("mnli_m", "mnli_mm", "sst2"):
        for s, v in zip(MATCHING, (72.0, 70.0, 71.0, 73.0)):
            rows.append(("classification", "student", "random", s, task, "acc", v))
    for s, v in zip(MATCHING, (60.0, 61.0, 62.0, 63.0)):
        rows.append(("classification", "student", "random", s, "qqp", "f1", v))
        rows.append(("classification", "student", "random", s, "qqp", "acc", v + 20))
    path = tmp_path / "official.csv"
    pd.DataFrame(rows, columns=["setting", "model", "init", "strategy", "task", "metric",
                                "value"]).to_csv(path, index=False)
    wide = pooled.paper_blocks(path)
    assert sorted(wide.index.get_level_values("task")) == ["mnli_m", "qqp", "sst2"]
    assert wide.loc[("classification", "qqp", "random"), "forward"] == 80.0
    out = pooled.paper_tests(path).set_index("family")
    assert out.loc["overall", "forward_above_reverse"] == "2/3"
