"""Table, figure and findings of the transfer-set-size ablation (stage aggregate).

Takes the runs of ``collect.collect_setting_ablation(root, "transfer")`` (the
students distilled on the first fraction of the transfer set, ``stages.ablation.
transfer_variants``) and puts back the main runs, which are the whole-training-
split point of every curve.
"""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..config import INITS, NO_HIDDEN, Params  # noqa: E402
from ..strategies import LABELS, STRATEGIES  # noqa: E402
from .paper_text import and_list, fmt  # noqa: E402
from .style import save  # noqa: E402
from .tables import cell, tt_list  # noqa: E402

COLUMNS = ["task", "init", "strategy", "seed", "size", "score", "metric", "source"]


def transfer_runs(ablation: pd.DataFrame, students: pd.DataFrame,
                  params: Params) -> pd.DataFrame:
    """One row per task x init x size x strategy x seed: the ablation's runs and
    the main runs (``source`` main, size = the task's whole transfer set). Stale
    folders of fractions, strategies or seeds no longer asked for are left out."""
    a = params.ablations.transfer
    parts = []
    for task in a.tasks:
        p = params.for_task(task)
        strategies, inits = a.strategies_of(p.distill), a.inits_of(p.distill)

        def pick(df):
            return df[(df["task"] == task) & df["init"].isin(inits)
                      & df["strategy"].isin(strategies) & df["seed"].isin(a.seeds)]

        wanted = {a.variant(f, i) for f in a.fractions for i in inits}
        runs = pick(ablation)
        runs = runs[runs["variant"].isin(wanted)]
        runs = runs.assign(source=runs["variant"])
        parts += [runs, pick(students).assign(source="main")]
    parts = [df for df in parts if len(df)]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(parts, ignore_index=True).rename(columns={"transfer_size": "size"})
    # the objective each run recorded travels along: the caption names it per task
    out = out.reindex(columns=COLUMNS + ["objective", "norm"]).assign(
        size=lambda df: df["size"].astype(int))
    order = out["init"].map(INITS.index) * 100 + out["strategy"].map(STRATEGIES.index)
    out = out.assign(_o=order).sort_values(["task", "_o", "size", "seed"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def transfer_gains(runs: pd.DataFrame) -> pd.DataFrame:
    """Matching runs with ``gain``: the score minus the ``none`` run of the same
    task, init, size and seed."""
    keys = ["task", "init", "size", "seed"]
    base = runs[runs["strategy"] == "none"].set_index(keys)["score"]
    df = runs[~runs["strategy"].isin(NO_HIDDEN)].copy()
    df["gain"] = df["score"].to_numpy() - base.reindex(
        pd.MultiIndex.from_frame(df[keys])).to_numpy()
    return df


def transfer_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per task x init x size: the spread between the matching strategies' means,
    the median seed std of all strategies, and the smallest and largest mean gain
    of a matching strategy over ``none``."""
    means = runs.groupby(["task", "init", "size", "strategy"])["score"].agg(["mean", "std"])
    gains = transfer_gains(runs).groupby(["task", "init", "size", "strategy"])["gain"].mean()
    rows = []
    for (task, init, size), part in means.groupby(level=["task", "init", "size"]):
        matching = part[~part.index.get_level_values("strategy").isin(NO_HIDDEN)]["mean"]
        g = gains.loc[(task, init, size)] if (task, init, size) in gains.index else pd.Series()
        rows.append({"task": task, "init": init, "size": size,
                     "spread": matching.max() - matching.min() if len(matching) > 1 else np.nan,
                     "seed_std": float(part["std"].median()),
                     "gain_min": g.min() if len(g) else np.nan,
                     "gain_max": g.max() if len(g) else np.nan})
    out = pd.DataFrame(rows)
    if len(out):
        out = out.assign(_o=out["init"].map(INITS.index)).sort_values(["task", "_o", "size"])
        out = out.drop(columns="_o").reset_index(drop=True)
    return out


def transfer_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds per task x init x size (rows) and strategy (columns),
    then the spread between the matching strategies' means."""
    table = runs.groupby(["task", "init", "size", "strategy"])["score"].apply(cell).unstack()
    table = table[[s for s in STRATEGIES if s in table.columns]]
    table.columns = [LABELS[s] for s in table.columns]
    summary = transfer_summary(runs).set_index(["task", "init", "size"])
    table["spread"] = [fmt(summary["spread"].get(k, np.nan)) for k in table.index]
    order = sorted(table.index, key=lambda k: (k[0], INITS.index(k[1]), k[2]))
    table = table.loc[order]
    table.index = [f"{t}: {i.replace('_', ' ')}, n = {n:,}" for t, i, n in table.index]
    table.index.name = "task: init, transfer set"
    return table


def transfer_figure(runs: pd.DataFrame, path) -> None:
    """Gain over ``none`` (paired by seed) against the transfer-set size (log
    scale): a line per matching strategy through its mean, per-seed points; a
    panel per task (rows) and initialisation (columns)."""
    df = transfer_gains(runs)
    tasks = list(dict.fromkeys(df["task"]))
    inits = [i for i in INITS if i in set(df["init"])]
    fig, axes = plt.subplots(max(len(tasks), 1), max(len(inits), 1), squeeze=False,
                             figsize=(4.4 * max(len(inits), 1), 3.2 * max(len(tasks), 1)))
    strategies = [s for s in STRATEGIES if s in set(df["strategy"])]
    colours = dict(zip(strategies, sns.color_palette("colorblind", len(strategies))))
    for r, task in enumerate(tasks):
        for c, init in enumerate(inits):
            ax, part = axes[r][c], df[(df["task"] == task) & (df["init"] == init)]
            for s in strategies:
                mine = part[part["strategy"] == s]
                means = mine.groupby("size")["gain"].mean()
                ax.plot(means.index, means.to_numpy(), marker="o", color=colours[s],
                        label=LABELS[s], lw=1.2)
                ax.scatter(mine["size"], mine["gain"], color=colours[s], s=10, alpha=0.5, lw=0)
            ax.axhline(0, color="0.5", lw=0.8)
            ax.set_xscale("log")
            sizes = sorted(set(part["size"]))
            ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
            ax.minorticks_off()
            metric = "BLEU" if (part["metric"] == "BLEU").any() else "accuracy"
            ax.set(title=f"{task}, {init.replace('_', ' ')} init",
                   xlabel="transfer set (training examples)",
                   ylabel=f"gain over none ({metric} points)")
            ax.legend(fontsize=6)
    save(fig, path)


def transfer_findings(runs: pd.DataFrame) -> str:
    """Where "the strategy doesn't matter (much)" holds along the transfer-set size,
    in sentences computed from the runs: per task and initialisation, the spread
    between matching strategies against the median seed std, and the range of
    their gains over ``none``, from the smallest to the whole transfer set."""
    s = transfer_summary(runs)
    if s.empty:
        return "No transfer-set-size runs."
    out = []
    for (task, init), part in s.groupby(["task", "init"], sort=False):
        steps = []
        for row in part.itertuples():
            if np.isnan(row.spread) or np.isnan(row.seed_std):
                agree = "spread n/a (fewer than two matching strategies or seeds)"
            else:
                within = "within" if row.spread <= 2 * row.seed_std else "beyond"
                agree = (f"spread {row.spread:.1f} ({within} twice the median seed std "
                         f"{row.seed_std:.1f})")
            steps.append(f"n = {row.size:,}: {agree}, gains over none "
                         f"{row.gain_min:+.1f} to {row.gain_max:+.1f}")
        out.append(f"- **{task}, {init.replace('_', ' ')} init**: " + "; ".join(steps) + ".")
    judged = s.dropna(subset=["spread", "seed_std"])
    holds = judged[judged["spread"] <= 2 * judged["seed_std"]]
    out.append(f"\nThe strategies agree (spread within twice the seed std) in {len(holds)} of "
               f"{len(judged)} task x init x size cells.")
    return "\n".join(out)


def transfer_macros(runs: pd.DataFrame, params: Params) -> dict[str, str]:
    """What the paper quotes of the transfer-set ablation, computed from its runs
    (every macro is defined, "n/a" without runs, so the paper always compiles)."""
    a = params.ablations.transfer
    out = {"TransferAblationTasks": tt_list(a.tasks) or "none",
           "TransferAblationFractions": and_list(f"{100 * f:g}\\,\\%" for f in a.fractions),
           "TransferAblationSeeds": fmt(len(a.seeds))}
    s = transfer_summary(runs) if len(runs) else pd.DataFrame()
    if s.empty:
        return out | dict.fromkeys(["TransferAgreeCells", "TransferCells",
                                    "TransferSpreadSmallest", "TransferSpreadFull",
                                    "TransferGainSmallest", "TransferGainFull"], "n/a")
    smallest = s.groupby(["task", "init"])["size"].transform("min") == s["size"]
    full = s.groupby(["task", "init"])["size"].transform("max") == s["size"]
    return out | {
        "TransferAgreeCells": fmt(int((s["spread"] <= 2 * s["seed_std"]).sum())),
        "TransferCells": fmt(int((s["spread"].notna() & s["seed_std"].notna()).sum())),
        "TransferSpreadSmallest": fmt(s.loc[smallest, "spread"].mean()),
        "TransferSpreadFull": fmt(s.loc[full, "spread"].mean()),
        "TransferGainSmallest": fmt(s.loc[smallest, "gain_max"].max()),
        "TransferGainFull": fmt(s.loc[full, "gain_max"].max())}
