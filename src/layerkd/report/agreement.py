"""Where this artifact and the paper differ, and what this artifact's own
experiments say about why: the DART rows (matching below ``none`` from random
init), the forward-over-reverse ordering, and the acute angles. One row per
difference, every number computed from the runs (the ablations' frames) and the
paper's table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import ablations as ar
from . import transfer as tr
from .paper_text import fmt


def _forward_minus_reverse(runs: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Mean over seeds of forward minus reverse, per ``keys``."""
    means = runs[runs["strategy"].isin(["forward", "reverse"])].groupby(
        keys + ["strategy"])["score"].mean().unstack("strategy")
    if not {"forward", "reverse"} <= set(means.columns):  # an ablation without reverse
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=keys))
    return (means["forward"] - means["reverse"]).dropna()


def transfer_facts(runs: pd.DataFrame) -> dict:
    """The transfer ablation at its smallest and its whole transfer set: the largest
    gain of a matching strategy over ``none`` and the mean forward - reverse gap."""
    if runs is None or runs.empty:
        return {}
    s = tr.transfer_summary(runs)
    smallest = s.groupby(["task", "init"])["size"].transform("min") == s["size"]
    full = s.groupby(["task", "init"])["size"].transform("max") == s["size"]
    gap = _forward_minus_reverse(runs, ["task", "init", "size"]).rename("gap").reset_index()
    gap_small = gap.merge(s.loc[smallest, ["task", "init", "size"]])["gap"].mean()
    gap_full = gap.merge(s.loc[full, ["task", "init", "size"]])["gap"].mean()
    g = tr.transfer_gains(runs)
    g = g[g["init"] == "random"].groupby(["task", "size", "strategy"])["gain"].mean()
    return {"random_below": int((g < 0).sum()), "random_gains": len(g),
            "gain_small": s.loc[smallest, "gain_max"].max(),
            "gain_full": s.loc[full, "gain_max"].max(),
            "size_small": int(s.loc[smallest, "size"].min()),
            "size_small_max": int(s.loc[smallest, "size"].max()),
            "gap_small": gap_small, "gap_full": gap_full}


def _sizes(t: dict) -> str:
    low, high = t["size_small"], t["size_small_max"]
    return f"{low:,}" if low == high else f"{low:,} to {high:,}"


def objective_facts(runs: pd.DataFrame, main_label: dict | None = None) -> dict:
    """The normalisation ablation: the matching strategy that falls furthest below
    ``none`` (task, distance, strategy, mean gain), and forward - reverse per distance
    averaged over the tasks."""
    if runs is None or runs.empty:
        return {}
    g = ar.gains(runs).groupby(["task", "label", "strategy"])["gain"].mean()
    worst = g.idxmin()
    gap = _forward_minus_reverse(runs, ["task", "label"]).groupby("label").mean()
    return {"worst_task": worst[0], "worst_distance": worst[1], "worst_strategy": worst[2],
            "worst_gain": float(g.min()), "gap": gap.to_dict()}


def divergence_table(paper: pd.DataFrame, ours: pd.DataFrame, kinds: dict[str, str],
                     objective_runs: pd.DataFrame | None, transfer_runs: pd.DataFrame | None,
                     fr_paper: str, fr_ours: str) -> tuple[pd.DataFrame, dict]:
    """paper / ours: ``tables.shape_summary`` rows; kinds: task -> classification or
    generation (ours); fr_*: "k/n" cells with forward above reverse."""
    dart = paper[(paper["task"] == "dart")].set_index("init")
    gen = ours[ours["task"].map(kinds) == "generation"]
    g_rand, g_wc = gen[gen["init"] == "random"], gen[gen["init"] == "weight_copy"]
    t, o = transfer_facts(transfer_runs), objective_facts(objective_runs)
    rows, m = [], {}
    if len(dart) and len(g_rand):
        m |= {"DartRandomGain": fmt(dart.loc["random", "mean gain of matching"]),
              "DartWeightCopyGain": fmt(dart.loc["weight_copy", "mean gain of matching"]),
              "GenRandomGain": fmt(g_rand["mean gain of matching"].mean()),
              "GenWeightCopyGain": fmt(g_wc["mean gain of matching"].mean())}
        paper_step = (dart.loc["weight_copy", "mean gain of matching"]
                      - dart.loc["random", "mean gain of matching"])
        our_step = g_wc["mean gain of matching"].mean() - g_rand["mean gain of matching"].mean()
        same_sign = bool(np.sign(paper_step) == np.sign(our_step))
        why = []
        if o:
            why.append(f"objective scale: with the {o['worst_distance']} distance (normalisation "
                       f"ablation) {o['worst_strategy']} on {o['worst_task']} falls "
                       f"{fmt(-o['worst_gain'])} points below none, so a hidden term whose "
                       "scale is left to the hidden states can make matching lose")
            m |= {"ObjectiveWorstGain": fmt(o["worst_gain"]),
                  "ObjectiveWorstDistance": o["worst_distance"].replace("_", "\\_"),
                  "ObjectiveWorstTask": o["worst_task"].replace("_", "\\_")}
        if t:
            why.append(f"data size: the largest gain over none is {fmt(t['gain_small'])} points "
                       f"at the smallest transfer sets ({_sizes(t)} training examples) and "
                       f"{fmt(t['gain_full'])} "
                       "on the whole training split (transfer ablation): matching helps less "
                       "the more data the students see, and DART's training set is larger "
                       f"than any here; from random init {t['random_below']} of "
                       f"{t['random_gains']} (task, size, strategy) mean gains are below none")
        why.append(f"initialisation: the paper's DART gain goes from {m['DartRandomGain']} "
                   f"(random init) to {m['DartWeightCopyGain']} (weight copy), this "
                   f"artifact's generation gain from {m['GenRandomGain']} to "
                   f"{m['GenWeightCopyGain']}: the starting point moves the two in "
                   + ("opposite directions" if same_sign is False else "the same direction"))
        rows.append({"difference": "DART from random init: matching below none",
                     "paper": f"DART mean gain of matching {m['DartRandomGain']} "
                              f"({dart.loc['random', 'matching strategies above none']} above "
                              "none)",
                     "this artifact": f"generation mean gain {m['GenRandomGain']} "
                                      f"({int(g_rand['above none'].sum())}/"
                                      f"{int(g_rand['compared'].sum())} above none)",
                     "what the experiments show": "; ".join(why)})
    why = []
    if t:
        why.append(f"forward - reverse averages {fmt(t['gap_small'])} points at the smallest "
                   f"transfer sets ({_sizes(t)} examples) and {fmt(t['gap_full'])} on the whole split "
                   "(transfer ablation): the ordering is strongest where data are scarce, and "
                   "every task here is small beside the paper's")
    if o and o["gap"]:
        gaps = ", ".join(f"{k} {fmt(v)}" for k, v in o["gap"].items())
        why.append(f"forward - reverse per distance, averaged over tasks: {gaps} "
                   "(normalisation ablation)")
    rows.append({"difference": "ordering: forward above reverse",
                 "paper": f"{fr_paper} cells", "this artifact": f"{fr_ours} cells",
                 "what the experiments show": "; ".join(why) or "n/a"})
    if t:
        m |= {"TransferGapSmall": fmt(t["gap_small"]), "TransferGapFull": fmt(t["gap_full"]),
              "TransferGainSmallestSet": fmt(t["gain_small"]),
              "TransferGainWholeSet": fmt(t["gain_full"])}
    return pd.DataFrame(rows).set_index("difference"), m
