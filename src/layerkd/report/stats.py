"""Seed-paired statistics with scipy.stats and statsmodels.

Runs of different strategies that share a seed share their data order and (for
weight copy) their starting point, so comparisons are paired by seed.

paired_vs_none     paired t-test (scipy.stats.ttest_rel) of each strategy against none,
                   Holm-corrected within its task x init (the family: "which
                   strategies beat none on task T from init I"; Holm over the
                   whole table at three seeds could reject almost nothing), with a
                   bootstrap interval of the gain (``seed_interval``)
strategy_anova     repeated-measures ANOVA (statsmodels AnovaRM; subject = seed,
                   within = matching strategy) per task x init: do the matching
                   strategies differ at all? Holm over the tasks x inits
equivalence        every pair of matching strategies: paired t-test (difference?) and
                   TOST (equivalence within the task's margin?), each Holm-corrected
                   within its task x init (the family the omnibus test gates), and the
                   smallest margin TOST could establish at this n (``tost_margin``)
spread             the one definition of "spread between strategies" used everywhere
seed_interval      bootstrap interval of a statistic, resampling seeds (scipy.stats.bootstrap)

Equivalence margins are in the metric's own units (``MARGINS``): 1 point of
accuracy is 10 of the 1,000 test examples of most tasks, and 1 BLEU is the
smallest difference between strategies the paper's tables discuss; both are
fixed here, before any result is read.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .spread import MATCHING, spread  # noqa: F401  (re-exported: one definition)

MARGINS = {"acc": 1.0, "bleu": 1.0}  # equivalence margin per metric, in its own units


def holm(p) -> np.ndarray:
    """Holm-adjusted p-values (statsmodels multipletests); NaN entries stay NaN."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def strategy_spreads(summary: pd.DataFrame, init: str = "random") -> dict[str, float]:
    """Per task, the ``spread`` of one initialisation's strategy means (``summarise``
    rows): the headline numbers of ``metrics/spread.json``, for ``dvc exp show``."""
    rows = summary[summary["init"] == init]
    return {task: spread(g.set_index("strategy")["mean"])
            for task, g in rows.groupby("task", sort=False)}


CONFIDENCE = 0.95
RESAMPLES = 9999


def seed_interval(samples, statistic, confidence: float = CONFIDENCE,
                  seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(*samples, axis=-1)``, resampling
    seeds jointly across the paired ``samples`` (scipy.stats.bootstrap, paired=True).

    Percentile, not BCa: with three seeds the resampling distribution has ten
    distinct values and BCa's acceleration is undefined. At that n the interval
    is narrower than its nominal level (it cannot reach beyond the observed
    seeds); read it as the range the seeds support, not as a calibrated 95 %.
    """
    samples = [np.asarray(x, float) for x in samples]
    if len(samples[0]) < 2:
        return float("nan"), float("nan")
    value = statistic(*samples, axis=-1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate resamples (every seed equal) warn
        res = stats.bootstrap(samples, statistic, paired=True, vectorized=True,
                              confidence_level=confidence, method="percentile",
                              n_resamples=RESAMPLES, rng=seed)
    low, high = res.confidence_interval
    if not np.isfinite(low):  # no variation to resample: the interval is the value
        low = high = value
    return float(low), float(high)


def _mean_difference(x, y, axis=-1):
    return np.mean(x - y, axis=axis)


def _paired(df: pd.DataFrame, a: str, b: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    wide = df.pivot_table(index="seed", columns="strategy", values=metric)
    both = wide[[a, b]].dropna()
    return both[a].to_numpy(float), both[b].to_numpy(float)


def _ttest_rel(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    d = x - y
    if len(d) < 2:
        return float("nan"), float("nan")
    if np.allclose(d, d[0]):  # no spread: t undefined; identical runs are no evidence
        return float("nan"), (1.0 if np.isclose(d[0], 0) else 0.0)
    t, p = stats.ttest_rel(x, y)
    return float(t), float(p)


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


def tost_margin(x: np.ndarray, y: np.ndarray, alpha: float = 0.05) -> float:
    """The smallest margin within which TOST at level ``alpha`` shows the paired samples
    equivalent: the larger absolute bound of the (1 - 2 alpha) t interval of the mean
    difference (scipy.stats.ttest_1samp); TOST rejects both one-sided nulls at any
    larger margin. With every difference equal it is that difference's size."""
    d = np.asarray(x, float) - np.asarray(y, float)
    if len(d) < 2:
        return float("nan")
    if np.allclose(d, d[0]):
        return float(abs(d[0]))
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(1 - 2 * alpha)
    return float(max(abs(ci.low), abs(ci.high)))


VS_NONE_COLUMNS = ["task", "init", "strategy", "gain", "ci_low", "ci_high", "t", "p", "p_holm",
                   "n"]


def paired_vs_none(students: pd.DataFrame, metric: str = "test_acc") -> pd.DataFrame:
    """Per task x init x strategy: mean gain over none (paired by seed), its bootstrap
    interval over seeds, t, p, p Holm-corrected within the task x init, n."""
    families = []
    for (task, init), part in students.groupby(["task", "init"]):
        rows = []
        for strategy in part["strategy"].unique():
            if strategy == "none":
                continue
            x, y = _paired(part, strategy, "none", metric)
            t, p = _ttest_rel(x, y)
            low, high = seed_interval((x, y), _mean_difference)
            rows.append({"task": task, "init": init, "strategy": strategy,
                         "gain": float(np.mean(x - y)), "ci_low": low, "ci_high": high,
                         "t": t, "p": p, "n": len(x)})
        family = pd.DataFrame(rows, columns=VS_NONE_COLUMNS)
        family["p_holm"] = holm(family["p"])  # the family: this task x init's strategies
        families.append(family)
    families = [f for f in families if len(f)]
    return (pd.concat(families, ignore_index=True) if families
            else pd.DataFrame(columns=VS_NONE_COLUMNS))


def strategy_anova(students: pd.DataFrame, metric: str = "test_acc") -> pd.DataFrame:
    """Per task x init: repeated-measures ANOVA of the score over the matching
    strategies (``none`` excluded; seeds with a run of every strategy), F, dfs, p,
    and p Holm-corrected over the rows."""
    from statsmodels.stats.anova import AnovaRM

    rows = []
    for (task, init), part in students[students["strategy"] != "none"].groupby(["task", "init"]):
        wide = part.pivot_table(index="seed", columns="strategy", values=metric).dropna()
        k, n = wide.shape[1], wide.shape[0]
        f = p = df_num = df_den = float("nan")
        if k >= 2 and n >= 2:
            long = wide.reset_index().melt(id_vars="seed", var_name="strategy", value_name="y")
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                res = AnovaRM(long, "y", "seed", within=["strategy"]).fit().anova_table.iloc[0]
            f, df_num, df_den, p = (float(res["F Value"]), float(res["Num DF"]),
                                    float(res["Den DF"]), float(res["Pr > F"]))
            if not np.isfinite(p):  # zero residual variance: F undefined
                f = p = float("nan")
        rows.append({"task": task, "init": init, "strategies": k, "seeds": n, "F": f,
                     "df": f"{df_num:g}, {df_den:g}", "p": p})
    out = pd.DataFrame(rows, columns=["task", "init", "strategies", "seeds", "F", "df", "p"])
    out["p_holm"] = holm(out["p"])
    return out


def equivalence(students: pd.DataFrame, margin, metric: str = "test_acc") -> pd.DataFrame:
    """Every pair of matching strategies (none excluded) per task x init: mean
    difference, paired t-test p and TOST p within ``margin`` (a number, or a
    mapping task -> margin), both Holm-corrected within the task x init, and
    ``min_margin``: the smallest margin TOST establishes at this n (``tost_margin``)."""
    rows = []
    for (task, init), part in students.groupby(["task", "init"]):
        m = margin[task] if isinstance(margin, dict) else margin
        names = [s for s in part["strategy"].unique() if s != "none"]
        family = []
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                x, y = _paired(part, a, b, metric)
                family.append({"task": task, "init": init, "a": a, "b": b,
                               "diff": float(np.mean(x - y)) if len(x) else float("nan"),
                               "p_t": _ttest_rel(x, y)[1], "p_tost": tost_paired(x, y, m),
                               "margin": m, "min_margin": tost_margin(x, y), "n": len(x)})
        fam = pd.DataFrame(family)
        if len(fam):
            fam["p_t_holm"] = holm(fam["p_t"])
            fam["p_tost_holm"] = holm(fam["p_tost"])
        rows.append(fam)
    cols = ["task", "init", "a", "b", "diff", "p_t", "p_t_holm", "p_tost", "p_tost_holm",
            "margin", "min_margin", "n"]
    rows = [r for r in rows if len(r)]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
