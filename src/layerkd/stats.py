"""Seed-paired statistics with scipy.stats.

Runs of different strategies that share a seed share their data order and (for
weight copy) their starting point, so comparisons are paired by seed.

paired_vs_none   paired t-test (scipy.stats.ttest_rel) of each strategy against none
tost_paired      two one-sided paired t-tests: is |mean difference| < margin?
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def _paired(df: pd.DataFrame, a: str, b: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    wide = df.pivot_table(index="seed", columns="strategy", values=metric)
    both = wide[[a, b]].dropna()
    return both[a].to_numpy(float), both[b].to_numpy(float)


def tost_paired(x: np.ndarray, y: np.ndarray, margin: float) -> float:
    """p-value of equivalence within ±margin of paired samples (larger of the two one-sided p)."""
    d = np.asarray(x, float) - np.asarray(y, float)
    if len(d) < 2:
        return float("nan")
    if np.allclose(d, d[0]):  # no spread: the t statistic is undefined
        return 0.0 if abs(d[0]) < margin else 1.0
    p_low = stats.ttest_1samp(d, -margin, alternative="greater").pvalue
    p_high = stats.ttest_1samp(d, margin, alternative="less").pvalue
    return float(max(p_low, p_high))


def paired_vs_none(students: pd.DataFrame, metric: str = "test_acc") -> pd.DataFrame:
    """Per task x init x strategy: mean gain over none (paired by seed), t, p, n."""
    rows = []
    for (task, init), part in students.groupby(["task", "init"]):
        for strategy in part["strategy"].unique():
            if strategy == "none":
                continue
            x, y = _paired(part, strategy, "none", metric)
            if len(x) < 2:
                t, p = float("nan"), float("nan")
            else:
                t, p = stats.ttest_rel(x, y)
            rows.append({"task": task, "init": init, "strategy": strategy,
                         "gain": float(np.mean(x - y)), "t": float(t), "p": float(p),
                         "n": len(x)})
    return pd.DataFrame(rows)


def equivalence(students: pd.DataFrame, margin: float, metric: str = "test_acc") -> pd.DataFrame:
    """TOST p-value for every pair of matching strategies (none excluded)."""
    rows = []
    for (task, init), part in students.groupby(["task", "init"]):
        names = [s for s in part["strategy"].unique() if s != "none"]
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                x, y = _paired(part, a, b, metric)
                rows.append({"task": task, "init": init, "a": a, "b": b,
                             "diff": float(np.mean(x - y)) if len(x) else float("nan"),
                             "p_tost": tost_paired(x, y, margin), "n": len(x)})
    return pd.DataFrame(rows)
