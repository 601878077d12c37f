"""Finished runs read from results/ into frames, their headline score, and seed summaries.

Main runs: ``results/<task>/teacher/metrics.json`` and
``results/<task>/students/<init>/<strategy>/seed<k>/metrics.json``; ablation runs
live under ``results/<task>/ablations[_<kind>]/<variant>/<strategy>/seed<k>/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..config import INITS
from ..io import read_metrics
from ..strategies import STRATEGIES


def collect(results_root: str | Path = "results") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(teachers, students): one row per finished run."""
    root = Path(results_root)
    teachers = [read_metrics(p.parent) for p in sorted(root.glob("*/teacher/metrics.json"))]
    students = [read_metrics(p.parent) for p in sorted(root.glob("*/students/*/*/seed*/metrics.json"))]
    if not teachers or not students:
        raise FileNotFoundError(f"no finished runs under {root}: run the distill stages first")
    return with_score(pd.DataFrame(teachers)), with_score(pd.DataFrame(students))


def _variant_runs(paths) -> list[dict]:
    """metrics.json of ablation runs, each with ``variant``: its variant folder's name."""
    return [dict(json.loads(p.read_text()), variant=p.parts[-4]) for p in paths]


def collect_ablations(results_root: str | Path = "results") -> pd.DataFrame:
    """One row per finished depth / width ablation run (results/<task>/ablations/<variant>/...)."""
    paths = sorted(Path(results_root).glob("*/ablations/*/*/seed*/metrics.json"))
    if not paths:
        raise FileNotFoundError(f"no ablation runs under {results_root}: run the ablate stages")
    return with_score(pd.DataFrame(_variant_runs(paths)))


def collect_setting_ablation(results_root: str | Path, kind: str) -> pd.DataFrame:
    """One row per finished run of one setting ablation (``kind`` objective or a_hid:
    results/<task>/ablations_<kind>/<variant>/...); empty when none ran yet."""
    paths = sorted(Path(results_root).glob(f"*/ablations_{kind}/*/*/seed*/metrics.json"))
    rows = _variant_runs(paths)
    if not rows:
        return pd.DataFrame(columns=["task", "init", "strategy", "seed", "variant", "score",
                                     "metric"])
    return with_score(pd.DataFrame(rows))


def with_score(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``score``: the headline test metric (accuracy, or BLEU for generation), and
    ``val_score``: the same on validation (best epoch: the checkpoint's selection score)."""
    def col(name):
        return df[name] if name in df else pd.Series(np.nan, index=df.index)

    bleu = col("test_bleu")
    return df.assign(score=bleu.fillna(col("test_acc")),
                     val_score=col("val_bleu").fillna(col("val_acc")),
                     metric=np.where(bleu.notna(), "BLEU", "acc"))


def t_interval(values) -> tuple[float, float]:
    """95 % Student-t confidence interval of the mean (scipy.stats.t)."""
    v = np.asarray(values, dtype=float)
    m = v.mean()
    if len(v) < 2:
        return m, m
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return m - half, m + half


def summarise(students: pd.DataFrame, metric: str = "score") -> pd.DataFrame:
    """Mean, std (ddof=1), n and 95 % t-interval per task x init x strategy."""
    g = students.groupby(["task", "init", "strategy"])[metric]
    out = g.agg(mean="mean", std="std", n="count").reset_index()
    ci = g.apply(lambda v: t_interval(v)).reset_index(name="ci")
    out["ci_low"], out["ci_high"] = zip(*ci["ci"])
    out["order"] = out["init"].map(INITS.index) * 10 + out["strategy"].map(STRATEGIES.index)
    return out.sort_values(["task", "order"]).drop(columns="order").reset_index(drop=True)
