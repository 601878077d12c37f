"""The angle reports (``analysis.angle_report``, one per task) as a table,
figures (PNG) and sentences: angles at the student between teacher layers, and
distances between layers."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ..config import INITS  # noqa: E402
from ..strategies import LABELS, STRATEGIES  # noqa: E402
from .style import COLORS, INIT_LABELS, save  # noqa: E402

RUN_LABELS = {"initial": "at initialisation", **LABELS}


def stacks(report: dict) -> list[str]:
    return report["stacks"]


def _runs(report: dict, init: str) -> list[str]:
    present = {r["strategy"] for r in report["runs"] if r["init"] == init}
    return [s for s in ["initial", *STRATEGIES] if s in present]


def _mean(report: dict, init: str, strategy: str, stack: str, key: str) -> np.ndarray:
    values = [np.array(r[stack][key], dtype=float) for r in report["runs"]
              if r["init"] == init and r["strategy"] == strategy]
    if key.startswith("hist") or key.startswith("null_hist"):
        return np.sum(values, axis=0)
    with warnings.catch_warnings():  # the heatmaps' lower triangles are NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=0)


def angle_table(reports: dict[str, dict]) -> pd.DataFrame:
    """Share of acute angles (%), the same at the null baseline (random directions of
    the student's norms) and mean cosine per task x stack x init x run: mean over
    the measured seeds, and how many."""
    rows = [{"task": task, "stack": stack, "init": r["init"], "run": r["strategy"],
             "acute %": 100 * r[stack]["acute_fraction"],
             "null acute %": 100 * r[stack]["null_acute_fraction"],
             "mean cos": r[stack]["mean_cos"], "seeds": 1}
            for task, rep in reports.items() for r in rep["runs"] for stack in stacks(rep)]
    df = pd.DataFrame(rows).groupby(["task", "stack", "init", "run"], sort=False).agg(
        {"acute %": "mean", "null acute %": "mean", "mean cos": "mean", "seeds": "sum"})
    return df.round({"acute %": 1, "null acute %": 1, "mean cos": 3}).reset_index()


def angle_histograms(report: dict, path):
    """Every (student block, teacher pair i < k, token) cosine at the student: one
    panel per stack x init, one line per run (dashed: before training) with its
    share of acute angles in the legend, and the null baseline (dotted: random
    directions of the student's norms, pooled over runs)."""
    inits = [i for i in INITS if any(r["init"] == i for r in report["runs"])]
    sts = stacks(report)
    edges = np.linspace(-1, 1, report["bins"] + 1)
    fig, axes = plt.subplots(len(sts), len(inits), figsize=(4.8 * len(inits), 3.2 * len(sts)),
                             squeeze=False, sharex=True)
    for row, stack in enumerate(sts):
        for col, init in enumerate(inits):
            ax = axes[row][col]
            null = np.zeros(len(edges) - 1)
            null_acute = []
            for run in _runs(report, init):
                counts = _mean(report, init, run, stack, "hist_all")
                null = null + _mean(report, init, run, stack, "null_hist_all")
                null_acute.append(_mean(report, init, run, stack, "null_acute_fraction"))
                acute = 100 * _mean(report, init, run, stack, "acute_fraction")
                density = counts / max(counts.sum(), 1) / np.diff(edges)
                style = (dict(color="k", ls="--") if run == "initial"
                         else dict(color=COLORS[run]))
                ax.stairs(density, edges, label=f"{RUN_LABELS[run]}: {acute:.0f} % acute",
                          lw=1.2, **style)
            acute = 100 * float(np.mean(null_acute))
            ax.stairs(null / max(null.sum(), 1) / np.diff(edges), edges, color="0.5", ls=":",
                      lw=1.2, label=f"null (random directions): {acute:.0f} % acute")
            ax.axvline(0, color="0.7", lw=0.8)
            ax.set(title=f"{report['task']} {stack}: {INIT_LABELS[init]}",
                   xlabel="cosine of the angle at the student", ylabel="density")
            ax.legend(fontsize=6)
    save(fig, path)
    return fig


def angle_heatmaps(report: dict, stack: str, path) -> None:
    """Per student block (columns), the mean cosine of each teacher pair (i < k);
    one row per init x run (mean over seeds)."""
    rows = [(i, r) for i in INITS for r in _runs(report, i)
            if any(x["init"] == i for x in report["runs"])]
    n_blocks = len(report["runs"][0][stack]["heatmap"])
    # Drawn at about the size it is printed (6.5 x 8.3 in at most: a page), so its
    # 8-9 pt labels stay near 8-9 pt on paper whatever the number of blocks and runs.
    side = min(1.25, 4.1 / n_blocks, 7.6 / len(rows))
    fig, axes = plt.subplots(len(rows), n_blocks, squeeze=False, layout="constrained",
                             figsize=(side * n_blocks + 2.6, side * len(rows) + 0.9))
    image = None
    for r, (init, run) in enumerate(rows):
        heat = _mean(report, init, run, stack, "heatmap")
        for j in range(n_blocks):
            ax = axes[r][j]
            image = ax.imshow(heat[j], cmap="coolwarm", vmin=-1, vmax=1,
                              extent=(0.5, heat.shape[1] + 0.5, heat.shape[1] + 0.5, 0.5))
            n_t = heat.shape[1]
            ticks = [1, n_t] if n_t > 2 else list(range(1, n_t + 1))
            ax.set_xticks(ticks), ax.set_yticks(ticks)
            ax.tick_params(labelsize=8, length=2)
            # block numbers on the outer panels only: the inner ones are the same
            ax.tick_params(labelleft=j == 0, labelbottom=r == len(rows) - 1)
            if r == 0:
                ax.set_title(f"student\nblock {j + 1}", fontsize=9)
            if j == 0:
                # horizontal, wrapped: a long run name cannot run into the next row's
                name = "\n".join(textwrap.wrap(RUN_LABELS[run], 12, break_long_words=False))
                ax.set_ylabel(f"{INIT_LABELS[init]}:\n{name}", fontsize=8, rotation=0,
                              ha="right", va="center")
    bar = fig.colorbar(image, ax=axes, shrink=0.5)
    bar.set_label("mean cosine (row i < column k)", fontsize=9)
    bar.ax.tick_params(labelsize=8)
    fig.suptitle(f"{report['task']} {stack}: cosine of the angle at the student between\n"
                 f"teacher blocks i (rows) and k (columns), numbered from 1", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def distance_figure(report: dict, stack: str, path):
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
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(integer=True))
        for c, run in enumerate(runs, start=1):
            ax = axes[r][c]
            im = ax.imshow(_mean(report, init, run, stack, "distances"), cmap="viridis",
                           aspect="auto", vmin=0, vmax=tt.max())
            ax.set_title(f"{INIT_LABELS[init]}:\n{RUN_LABELS[run]}", fontsize=7)
            ax.set(xlabel="teacher layer", ylabel="student layer")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(im, ax=axes, shrink=0.6, label="mean L2 distance per token")
    fig.suptitle(f"{report['task']} {stack}: distances between hidden states (layer 0 = "
                 "embeddings)", fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return fig


def angle_findings(reports: dict[str, dict]) -> str:
    """Markdown sentences from the measured shares of acute angles: per task and
    stack, random init, before training, without matching, with forward matching,
    and at the null baseline."""
    table = angle_table(reports)
    lines = ["### What the angles show (random initialisation, mean over seeds)"]
    for (task, stack), part in table[table["init"] == "random"].groupby(["task", "stack"],
                                                                         sort=False):
        acute = part.set_index("run")["acute %"]
        null = part["null acute %"].mean()
        said = [f"{RUN_LABELS[r]} {acute[r]:.1f} %" for r in ("initial", "none", "forward")
                if r in acute.index]
        lines.append(f"- {task} {stack}: acute angles {', '.join(said)}; null baseline "
                     f"{null:.1f} %.")
    random = table[(table["init"] == "random") & (table["run"] == "none")]
    if len(random):  # read from the numbers, not assumed
        none, null = random["acute %"].mean(), random["null acute %"].mean()
        lines.append(
            f"Averaged over tasks and stacks, the never-matched `none` student sees {none:.1f} % "
            f"acute angles against {null:.1f} % at the null baseline: "
            + ("as many as any point that far from the teacher's states, so acute angles "
               "alone do not explain why matching helps." if none >= null - 1.0 else
               "fewer than the null, so its position is not arbitrary."))
    return "\n".join(lines)
