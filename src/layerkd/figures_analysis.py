"""Figures of the analysis: angles, distances, depth and width ablations, initialisation.

Inputs are the angle reports of ``analysis.angle_report`` (one per task) and
the run tables of ``aggregate``; every figure is saved as a PNG.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .aggregate import INIT_LABELS, LABELS, t_interval  # noqa: E402
from .config import INITS  # noqa: E402
from .strategies import STRATEGIES  # noqa: E402

RUN_LABELS = {"initial": "at initialisation", **LABELS}


def _save(fig, path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def stacks(report: dict) -> list[str]:
    return report["stacks"]


def _runs(report: dict, init: str) -> list[str]:
    present = {r["strategy"] for r in report["runs"] if r["init"] == init}
    return [s for s in ["initial", *STRATEGIES] if s in present]


def _mean(report: dict, init: str, strategy: str, stack: str, key: str) -> np.ndarray:
    values = [np.array(r[stack][key], dtype=float) for r in report["runs"]
              if r["init"] == init and r["strategy"] == strategy]
    if key == "hist":
        return np.sum(values, axis=0)
    with warnings.catch_warnings():  # the heatmaps' lower triangles are NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=0)


def angle_table(reports: dict[str, dict]) -> pd.DataFrame:
    """Share of acute angles (%) and mean cosine per task x stack x init x run (mean over seeds)."""
    rows = [{"task": task, "stack": stack, "init": r["init"], "run": r["strategy"],
             "acute %": 100 * r[stack]["acute_fraction"], "mean cos": r[stack]["mean_cos"]}
            for task, rep in reports.items() for r in rep["runs"] for stack in stacks(rep)]
    df = pd.DataFrame(rows).groupby(["task", "stack", "init", "run"], sort=False).mean()
    return df.round({"acute %": 1, "mean cos": 3}).reset_index()


def angle_histograms(report: dict, path) -> None:
    """Per-token mean cosine over (student block, teacher pair), as the authors plot it:
    one panel per init x stack, one line per strategy, dashed before training."""
    inits = [i for i in INITS if any(r["init"] == i for r in report["runs"])]
    sts = stacks(report)
    edges = np.linspace(-1, 1, report["bins"] + 1)
    fig, axes = plt.subplots(len(sts), len(inits), figsize=(4.6 * len(inits), 3.1 * len(sts)),
                             squeeze=False, sharex=True)
    for row, stack in enumerate(sts):
        for col, init in enumerate(inits):
            ax = axes[row][col]
            for n, run in enumerate(_runs(report, init)):
                counts = _mean(report, init, run, stack, "hist")
                density = counts / max(counts.sum(), 1) / np.diff(edges)
                style = dict(color="k", ls="--") if run == "initial" else dict(color=f"C{n}")
                ax.stairs(density, edges, label=RUN_LABELS[run], lw=1.2, **style)
            ax.axvline(0, color="0.7", lw=0.8)
            ax.set(title=f"{report['task']} {stack}: {INIT_LABELS[init]}",
                   xlabel="per-token mean cosine at the student", ylabel="density")
    axes[0][-1].legend(fontsize=7)
    _save(fig, path)


def angle_heatmaps(report: dict, stack: str, path) -> None:
    """Per student block (columns), the mean cosine of each teacher pair (i < k);
    one row per init x run (mean over seeds)."""
    rows = [(i, r) for i in INITS for r in _runs(report, i)
            if any(x["init"] == i for x in report["runs"])]
    n_blocks = len(report["runs"][0][stack]["heatmap"])
    fig, axes = plt.subplots(len(rows), n_blocks, squeeze=False, layout="constrained",
                             figsize=(max(1.3 * n_blocks + 1.6, 5.0), 1.3 * len(rows) + 0.6))
    image = None
    for r, (init, run) in enumerate(rows):
        heat = _mean(report, init, run, stack, "heatmap")
        for j in range(n_blocks):
            ax = axes[r][j]
            image = ax.imshow(heat[j], cmap="coolwarm", vmin=-1, vmax=1,
                              extent=(0.5, heat.shape[1] + 0.5, heat.shape[1] + 0.5, 0.5))
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(f"student block {j + 1}", fontsize=7)
            if j == 0:
                ax.set_ylabel(f"{INIT_LABELS[init]}\n{RUN_LABELS[run]}", fontsize=6)
    fig.colorbar(image, ax=axes, shrink=0.5, label="mean cosine (row i < column k)")
    fig.suptitle(f"{report['task']} {stack}: cosine of the angle at the student\nbetween "
                 f"teacher blocks i (rows) and k (columns)", fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def distance_figure(report: dict, stack: str, path) -> None:
    """Mean distance between teacher layers, and from each student layer (rows) to
    each teacher layer (columns), per init x run (mean over seeds)."""
    inits = [i for i in INITS if any(r["init"] == i for r in report["runs"])]
    runs = _runs(report, inits[0])
    fig, axes = plt.subplots(len(inits), len(runs) + 1, squeeze=False, layout="constrained",
                             figsize=(2.3 * (len(runs) + 1), 2.4 * len(inits) + 0.4))
    tt = np.array(report["teacher_distances"][stack])
    for r, init in enumerate(inits):
        ax = axes[r][0]
        ax.imshow(tt, cmap="viridis")
        ax.set(title="teacher vs teacher", xlabel="teacher layer", ylabel="teacher layer")
        for c, run in enumerate(runs, start=1):
            ax = axes[r][c]
            im = ax.imshow(_mean(report, init, run, stack, "distances"), cmap="viridis",
                           aspect="auto", vmin=0, vmax=tt.max())
            ax.set_title(f"{INIT_LABELS[init]}:\n{RUN_LABELS[run]}", fontsize=7)
            ax.set(xlabel="teacher layer", ylabel="student layer")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(im, ax=axes, shrink=0.6, label="mean L2 distance per token")
    fig.suptitle(f"{report['task']} {stack}: distances between hidden states (layer 0 = "
                 "embeddings)", fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def depth_figure(ablation: pd.DataFrame, path) -> None:
    """Metric against student depth, one line per strategy, 95 % t-intervals; a panel per task."""
    df = ablation[ablation["variant"].str.startswith("depth")].copy()
    tasks = list(dict.fromkeys(df["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        part = df[df["task"] == task].assign(strategy=lambda x: x["strategy"].map(LABELS))
        order = [LABELS[s] for s in STRATEGIES if LABELS[s] in set(part["strategy"])]
        # depths as categories, strategies dodged so that the intervals stay readable
        sns.pointplot(part, x="student_depth", y="score", hue="strategy", hue_order=order,
                      ax=ax, errorbar=t_interval, dodge=0.5, capsize=0.08, err_kws={"lw": 1},
                      markersize=4)
        ax.set(title=task, xlabel="student depth (blocks)",
               ylabel="test BLEU" if part["metric"].iloc[0] == "BLEU" else "test accuracy (%)")
        ax.legend(fontsize=7)
    _save(fig, path)


def init_gain_figure(students: pd.DataFrame, path) -> None:
    """Gain over no matching (paired by seed) per strategy, random init beside weight copy."""
    base = students[students["strategy"] == "none"].set_index(["task", "init", "seed"])["score"]
    df = students[students["strategy"] != "none"].copy()
    df["gain"] = df["score"].to_numpy() - base.reindex(
        pd.MultiIndex.from_frame(df[["task", "init", "seed"]])).to_numpy()
    df["strategy"] = df["strategy"].map(LABELS)
    df["init"] = df["init"].map(INIT_LABELS)
    tasks = list(dict.fromkeys(df["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        part = df[df["task"] == task]
        sns.pointplot(part, x="strategy", y="gain", hue="init", ax=ax, errorbar=t_interval,
                      dodge=0.3, linestyle="none", capsize=0.15, marker="D")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set(title=task, xlabel="", ylabel="gain over none (points, paired by seed)")
        ax.tick_params(axis="x", rotation=30)
        ax.legend(fontsize=7)
    _save(fig, path)
