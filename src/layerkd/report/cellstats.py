"""Per (task, init) cell: how far apart the matching strategies are, against what
equal strategies would show.

spread_table     per cell: the observed spread (``stats.spread``: best minus worst
                 mean of the paper's four matching strategies), its bootstrap
                 interval resampling seeds, and its null reference: the spread
                 after permuting the strategy labels within each seed
                 (scipy.stats.permutation_test, permutation_type="samples": every
                 one of the (4!)^n relabellings at n seeds), whose mean is the
                 spread equal strategies would give and whose upper tail is the
                 p-value; Holm over the cells of the table
margin_table     per cell: the smallest margin within which TOST shows *every* pair
                 of matching strategies equivalent (intersection-union: the largest
                 of the pairs' ``stats.tost_margin``, each at level alpha, needs no
                 multiplicity correction)

Permuting within seeds keeps what a seed shares across strategies (data order,
and under weight copy the starting point), so the null is the paired one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .stats import MATCHING, holm, seed_interval, tost_margin

SPREAD_COLUMNS = ["task", "init", "spread", "ci_low", "ci_high", "null_mean", "null_95",
                  "p", "p_holm", "seeds"]


def _range_of_means(*samples, axis=-1):
    means = np.stack([np.mean(x, axis=axis) for x in samples])
    return np.ptp(means, axis=0)


def _matching_wide(part: pd.DataFrame, metric: str) -> pd.DataFrame:
    """seeds x matching strategies (the paper's four), seeds with every strategy."""
    wide = part.pivot_table(index="seed", columns="strategy", values=metric)
    return wide[[s for s in MATCHING if s in wide.columns]].dropna()


def spread_null(wide: pd.DataFrame, max_resamples: int = 20000, seed: int = 0) -> dict:
    """Observed spread of a seeds x strategies frame, its bootstrap interval and
    its permutation null (exact when (k!)^n <= ``max_resamples``)."""
    samples = [wide[c].to_numpy(float) for c in wide.columns]
    observed = float(_range_of_means(*samples))
    if wide.shape[1] < 2 or wide.shape[0] < 2:
        return dict(spread=observed, ci_low=np.nan, ci_high=np.nan, null_mean=np.nan,
                    null_95=np.nan, p=np.nan, seeds=wide.shape[0])
    low, high = seed_interval(samples, _range_of_means, seed=seed)
    res = stats.permutation_test(samples, _range_of_means, permutation_type="samples",
                                 vectorized=True, alternative="greater",
                                 n_resamples=max_resamples, rng=seed)
    null = res.null_distribution
    return dict(spread=observed, ci_low=low, ci_high=high, null_mean=float(null.mean()),
                null_95=float(np.quantile(null, 0.95)), p=float(res.pvalue),
                seeds=wide.shape[0])


def spread_table(students: pd.DataFrame, metric: str = "score") -> pd.DataFrame:
    """``spread_null`` per task x init, p Holm-corrected over the table's cells."""
    rows = [{"task": task, "init": init, **spread_null(_matching_wide(part, metric))}
            for (task, init), part in students.groupby(["task", "init"], sort=False)]
    out = pd.DataFrame(rows, columns=SPREAD_COLUMNS)
    out["p_holm"] = holm(out["p"])
    return out


def margin_table(students: pd.DataFrame, metric: str = "score",
                 alpha: float = 0.05) -> pd.DataFrame:
    """Per task x init: the smallest margin within which all pairs of the paper's
    matching strategies are shown equivalent at ``alpha``, and the pair that sets it."""
    rows = []
    for (task, init), part in students.groupby(["task", "init"], sort=False):
        wide = _matching_wide(part, metric)
        pairs = [(a, b) for i, a in enumerate(wide.columns) for b in wide.columns[i + 1:]]
        margins = {(a, b): tost_margin(wide[a].to_numpy(), wide[b].to_numpy(), alpha)
                   for a, b in pairs}
        widest = max(margins, key=margins.get) if margins else None
        rows.append({"task": task, "init": init,
                     "margin": margins[widest] if widest else np.nan,
                     "set by": f"{widest[0]} - {widest[1]}" if widest else "",
                     "seeds": wide.shape[0]})
    return pd.DataFrame(rows, columns=["task", "init", "margin", "set by", "seeds"])
