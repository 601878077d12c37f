"""Pooled over (task, init) cells: do the matching strategies differ, and in what order?

One cell has three seeds: too few to see a difference of a point or two. Pooling
the cells asks whether the same strategy wins across them.

runs_frame      the runs as one long frame: family (classification, generation,
                decoder-only), cell (task/init), strategy, seed, score; the
                paper's four matching strategies only
blocks          one row per block and one column per strategy: a cell's seed
                means when the family has at least ``MIN_CELLS`` cells, else each
                seed of its cell (the decoder-only family has one cell)
block_tests     Friedman's test over the blocks (scipy.stats.friedmanchisquare) and
                Page's trend test (scipy.stats.page_trend_test) of the order
                ``TREND``: also run on the paper's own cell means
mixed_model     linear mixed model (statsmodels MixedLM, REML) of the score
                standardised within each cell on strategy, with random effects
                for the seed within the cell and for the cell x strategy
                interaction (the cells' own main effect is zero after
                standardising, so it is not estimated); effects in units of the
                cell's standard deviation
pairwise        every pair of strategies (forward - reverse first): the mixed
                model's contrast with its Wald interval and p, Holm over the
                pairs of the family, and the mean difference in points over the
                blocks with a bootstrap interval resampling blocks

Page's order is fixed by the strategies' definitions, not by the results:
reverse pairs student depth with teacher depth in decreasing order (rank
correlation -1), random in a shuffled one (about 0), forward in increasing order
(+1). All-to-one has no order and stays out of the trend test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..config import CLASSIFICATION_TASKS, GENERATION_TASKS
from .stats import MATCHING, holm

FAMILIES = ("classification", "generation", "decoder-only")
OVERALL = "overall"
TREND = ("reverse", "random", "forward")  # predicted increasing order (Page)
PAIRS = [("forward", "reverse")] + [
    (a, b) for i, a in enumerate(MATCHING) for b in MATCHING[i + 1:] if {a, b} != {"forward", "reverse"}]
MIN_CELLS = 3  # fewer cells: the blocks are the seeds


def family_of(task: str) -> str:
    if task in CLASSIFICATION_TASKS:
        return "classification"
    return "generation" if task in GENERATION_TASKS else "decoder-only"


def runs_frame(students: pd.DataFrame, score: str = "score") -> pd.DataFrame:
    """students: one row per run (task, init, strategy, seed and ``score``)."""
    df = students[students["strategy"].isin(MATCHING)]
    return pd.DataFrame({"family": df["task"].map(family_of).to_numpy(),
                         "cell": (df["task"] + "/" + df["init"]).to_numpy(),
                         "strategy": df["strategy"].to_numpy(), "seed": df["seed"].to_numpy(),
                         "score": df[score].astype(float).to_numpy()})


def by_family(runs: pd.DataFrame):
    """(family name, its runs) for each family present, then ``OVERALL``."""
    for family in FAMILIES:
        part = runs[runs["family"] == family]
        if len(part):
            yield family, part
    yield OVERALL, runs


def blocks(runs: pd.DataFrame) -> pd.DataFrame:
    """Blocks x strategies (``MATCHING`` order): cell means, or seeds of a family
    with fewer than ``MIN_CELLS`` cells."""
    key = "cell" if runs["cell"].nunique() >= MIN_CELLS else ["cell", "seed"]
    wide = runs.pivot_table(index=key, columns="strategy", values="score")
    return wide[[s for s in MATCHING if s in wide.columns]]


def block_tests(wide: pd.DataFrame) -> dict:
    """Friedman (all strategies) and Page (``TREND``) over the complete blocks."""
    out = {"blocks": 0, "friedman": np.nan, "friedman_p": np.nan, "page_L": np.nan,
           "page_p": np.nan, "forward_above_reverse": np.nan}
    full = wide.dropna()
    out["blocks"] = len(full)
    if len(full) >= 2 and full.shape[1] >= 3:
        res = stats.friedmanchisquare(*[full[c] for c in full.columns])
        out.update(friedman=float(res.statistic), friedman_p=float(res.pvalue))
    if len(full) >= 2 and set(TREND) <= set(full.columns):
        res = stats.page_trend_test(full[list(TREND)].to_numpy())
        out.update(page_L=float(res.statistic), page_p=float(res.pvalue))
    fr = wide[["forward", "reverse"]].dropna() if {"forward", "reverse"} <= set(wide) else None
    if fr is not None and len(fr):
        out["forward_above_reverse"] = f"{int((fr['forward'] > fr['reverse']).sum())}/{len(fr)}"
    return out


def standardise(runs: pd.DataFrame) -> pd.Series:
    """The score as a z-score within its cell (mean 0, sd 1 over the cell's runs)."""
    g = runs.groupby("cell")["score"]
    sd = g.transform("std")
    return ((runs["score"] - g.transform("mean")) / sd.where(sd > 0)).fillna(0.0)  # a cell
    # whose runs all score the same (tiny smoke runs) carries no information: z = 0


def mixed_model(runs: pd.DataFrame):
    """statsmodels MixedLM fit: z ~ 0 + strategy, groups: cell, variance components:
    seed within cell and (with several cells) strategy within cell."""
    import statsmodels.formula.api as smf

    data = runs.assign(z=standardise(runs).to_numpy())
    vc = {"seed": "0 + C(seed)"}
    if data["cell"].nunique() > 1:
        vc["strategy"] = "0 + C(strategy)"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # boundary fits are reported by `converged`
        model = smf.mixedlm("z ~ 0 + C(strategy)", data, groups="cell", re_formula="0",
                            vc_formula=vc)
        try:
            return model.fit(reml=True)
        except (np.linalg.LinAlgError, ValueError):  # degenerate data (every z equal)
            return None


def _contrast(fit, a: str, b: str) -> tuple[float, float, float, float]:
    if fit is None:
        return (np.nan,) * 4
    names = list(fit.model.exog_names)
    row = np.zeros((1, len(names)))
    row[0, names.index(f"C(strategy)[{a}]")] = 1.0
    row[0, names.index(f"C(strategy)[{b}]")] = -1.0
    t = fit.t_test(row)
    low, high = np.asarray(t.conf_int()).ravel()
    return float(np.ravel(t.effect)[0]), float(low), float(high), float(np.ravel(t.pvalue)[0])


def _mean(x, axis=-1):
    return np.mean(x, axis=axis)


def block_interval(diffs: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of the mean block difference (scipy.stats.bootstrap, BCa;
    percentile where BCa is undefined)."""
    diffs = np.asarray(diffs, float)
    if len(diffs) < 2 or np.allclose(diffs, diffs[0]):
        return float(diffs.mean()), float(diffs.mean())
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for method in ("BCa", "percentile"):
            ci = stats.bootstrap((diffs,), _mean, method=method, rng=seed).confidence_interval
            if np.isfinite(ci.low) and np.isfinite(ci.high):
                break
    return float(ci.low), float(ci.high)


def pairwise(runs: pd.DataFrame) -> pd.DataFrame:
    """Per family (and overall) and pair of strategies: mixed-model contrast a - b
    (z units) with its 95 % Wald interval and p, Holm over the family's pairs; the
    mean difference in points over blocks, its bootstrap interval and how many
    blocks have a above b."""
    rows = []
    for family, part in by_family(runs):
        fit = mixed_model(part)
        wide = blocks(part)
        fam = []
        for a, b in PAIRS:
            effect, low, high, p = _contrast(fit, a, b)
            d = (wide[a] - wide[b]).dropna().to_numpy()
            d_low, d_high = block_interval(d)
            fam.append({"family": family, "pair": f"{a} - {b}", "effect_z": effect,
                        "z_low": low, "z_high": high, "p": p, "points": float(d.mean()),
                        "points_low": d_low, "points_high": d_high,
                        "a_above_b": f"{int((d > 0).sum())}/{len(d)}",
                        "converged": bool(fit is not None and fit.converged)})
        fam = pd.DataFrame(fam)
        fam.insert(6, "p_holm", holm(fam["p"]))
        rows.append(fam)
    return pd.concat(rows, ignore_index=True)


def pooled_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per family and overall: cells, runs, Friedman and Page over the blocks, and the
    mixed model's variance components."""
    rows = []
    for family, part in by_family(runs):
        fit = mixed_model(part)
        vc = dict(zip(fit.model.exog_vc.names, np.atleast_1d(fit.vcomp))) if fit else {}
        rows.append({"family": family, "cells": part["cell"].nunique(), "runs": len(part),
                     "block": "cell" if part["cell"].nunique() >= MIN_CELLS else "seed",
                     **block_tests(blocks(part)),
                     "var seed": float(vc.get("seed", np.nan)),
                     "var cell x strategy": float(vc.get("strategy", np.nan)),
                     "var residual": float(fit.scale) if fit else np.nan,
                     "converged": bool(fit is not None and fit.converged)})
    return pd.DataFrame(rows)


PAPER_FAMILIES = {"classification": "classification", "generation": "generation",
                  "llm": "decoder-only"}


def paper_blocks(csv_path) -> pd.DataFrame:
    """The paper's student cell means (``official_results.csv``) as blocks x
    strategies, indexed by (family, task, init), for the same block tests (one
    value per cell: no seeds, so no mixed model). QQP counts by accuracy, and
    MNLI once (matched): its mismatched row is the same students on another
    test set, not an independent cell."""
    ref = pd.read_csv(csv_path)
    ref = ref[(ref["model"] == "student") & ref["strategy"].isin(MATCHING)
              & ~((ref["task"] == "qqp") & (ref["metric"] == "f1"))
              & (ref["task"] != "mnli_mm")]
    ref = ref.assign(family=ref["setting"].map(PAPER_FAMILIES))
    wide = ref.pivot_table(index=["family", "task", "init"], columns="strategy",
                           values="value")
    return wide[[s for s in MATCHING if s in wide.columns]]


def paper_tests(csv_path) -> pd.DataFrame:
    """``block_tests`` on the paper's cells, per family and overall."""
    wide = paper_blocks(csv_path)
    rows = [{"family": f, **block_tests(wide.xs(f, level="family"))}
            for f in FAMILIES if f in wide.index.get_level_values("family")]
    rows.append({"family": OVERALL, **block_tests(wide)})
    return pd.DataFrame(rows)
