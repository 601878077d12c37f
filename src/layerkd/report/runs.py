"""One task's distillation runs read back for its notebook: a row per run, every
run's training and validation curves, and a paragraph on what sets the task apart.

Everything is read from the run folders,
``results/<task>/students/<init>/<strategy>/seed<k>/`` (``metrics.json`` and the
dvclive curves under ``live/``), so an execution that resumes and trains nothing
shows the same runs as the one that trained them. ``record_times`` taken before
the stage trains tells the two apart afterwards: a run whose record changed was
trained by this execution, any other was kept.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..io import read_metrics
from ..paths import run_paths, student_dirs
from ..strategies import LABELS
from .curves import read_curve
from .spread import MATCHING, spread

LOSS = "train/total"  # the weighted sum the optimiser minimised, per epoch
# report.style holds the same labels, but importing it switches matplotlib to Agg,
# which would keep a notebook's figures from showing
INIT_LABELS = {"random": "random init", "weight_copy": "weight copy"}
METRIC_NAMES = {"acc": "accuracy", "bleu": "BLEU"}


def run_folders(task: str, inits, strategies, seeds) -> list[tuple[str, str, int, Path]]:
    """(init, strategy, seed, results folder) of every run the parameters ask for."""
    return [(init, s, seed, run_paths(*student_dirs(task, init), s, seed)[0])
            for init in inits for s in strategies for seed in seeds]


def record_times(task: str, inits, strategies, seeds) -> dict[Path, int | None]:
    """Each run's metrics.json modification time (None when absent)."""
    out = {}
    for *_, folder in run_folders(task, inits, strategies, seeds):
        record = folder / "metrics.json"
        out[folder] = record.stat().st_mtime_ns if record.exists() else None
    return out


def kept(before: int | None, after: int | None) -> bool:
    """A run whose record existed before the stage and was not rewritten."""
    return before is not None and before == after


def run_table(task: str, inits, strategies, seeds, metric: str,
              before: dict[Path, int | None]) -> pd.DataFrame:
    """One row per run: its scores, the epoch of its checkpoint, the hidden term's
    share of its last epoch's loss and whether this execution trained it."""
    after = record_times(task, inits, strategies, seeds)
    rows = []
    for init, strategy, seed, folder in run_folders(task, inits, strategies, seeds):
        m = read_metrics(folder)
        # records of every family hold the test score; the rest is shown where recorded
        row = {"init": init, "strategy": strategy, "seed": seed,
               f"test {metric}": m[f"test_{metric}"],
               f"val {metric}": m.get(f"val_{metric}", np.nan)}
        if "test_exact_match" in m and metric != "exact_match":
            row["test exact match"] = m["test_exact_match"]
        row |= {"best epoch": m.get("best_epoch", np.nan) + 1, "epochs": m.get("epochs", np.nan),
                "hidden share %": 100 * m.get("hid_share_last", np.nan),
                "run": "kept" if kept(before.get(folder), after[folder]) else "trained"}
        rows.append(row)
    return pd.DataFrame(rows)


def styled(table: pd.DataFrame, digits: int = 2):
    """The table as it should read: rounded numbers, strategy labels, no index."""
    shown = table.assign(strategy=table["strategy"].map(LABELS)) if "strategy" in table else table
    numbers = {c: f"{{:.{digits}f}}" for c in shown.select_dtypes("float").columns}
    return shown.style.format(numbers, na_rep="").hide(axis="index")


def summary(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and std over seeds of each (init, strategy), in run order."""
    score = f"test {metric}"
    out = table.groupby(["init", "strategy"], sort=False)[score].agg(["mean", "std", "count"])
    return out.rename(columns={"count": "seeds"}).reset_index()


def _curve(folder: Path, key: str) -> pd.DataFrame | None:
    path = folder / "live" / "plots" / "metrics" / f"{key}.tsv"
    return read_curve(folder / "live", key) if path.exists() else None


def plot_curves(task: str, table: pd.DataFrame, metric: str, teacher: float | None = None):
    """Every run's curves: per initialisation a row of training loss (log scale) and
    a row of validation score, one column per strategy, one line per seed; the
    axes of a row are shared, so strategies compare by eye."""
    inits = list(dict.fromkeys(table["init"]))
    strategies = list(dict.fromkeys(table["strategy"]))
    seeds = sorted(table["seed"].unique())
    fig, axes = plt.subplots(2 * len(inits), len(strategies), sharex=True, sharey="row",
                             figsize=(2.4 * len(strategies) + 1, 2.0 * 2 * len(inits)),
                             squeeze=False)
    colors = dict(zip(seeds, plt.get_cmap("viridis")(np.linspace(0.1, 0.8, len(seeds)))))
    for i, init in enumerate(inits):
        loss_row, val_row = axes[2 * i], axes[2 * i + 1]
        for j, strategy in enumerate(strategies):
            for seed in seeds:
                folder = run_paths(*student_dirs(task, init), strategy, seed)[0]
                for ax, key in ((loss_row[j], LOSS), (val_row[j], f"val/{metric}")):
                    curve = _curve(folder, key)
                    if curve is not None:
                        ax.plot(curve["step"] + 1, curve["value"], lw=1, color=colors[seed],
                                label=f"seed {seed}")
            if teacher is not None:
                val_row[j].axhline(teacher, color="C3", ls="--", lw=0.8, label="teacher")
            loss_row[j].set_yscale("log")
            loss_row[j].set_title(f"{INIT_LABELS.get(init, init)}: {LABELS[strategy]}",
                                  fontsize=8)
        loss_row[0].set_ylabel("training loss")
        val_row[0].set_ylabel(f"validation {METRIC_NAMES.get(metric, metric)}")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    for ax in axes.flat:
        ax.tick_params(labelsize=7)
    axes[1][0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{task}: every run's training loss and validation "
                 f"{METRIC_NAMES.get(metric, metric)}", fontsize=10)
    fig.tight_layout()
    return fig


def _names(strategies) -> str:
    return ", ".join(LABELS[s] for s in strategies)


def interpretation(table: pd.DataFrame, metric: str, teacher: float | None,
                   task: str) -> str:
    """What this task's runs show, in words computed from them: how many were
    trained here, and per initialisation the matching strategies' spread against
    seed noise, their gain over `none`, what weight copy adds, and when the
    checkpoints were chosen."""
    score = f"test {metric}"
    trained = int((table["run"] == "trained").sum())
    n = len(table)
    if trained == 0:
        lines = [f"**Runs.** All {n} runs were kept from an earlier execution with the same "
                 "settings: nothing was trained here, and the table and curves show their "
                 "records."]
    else:
        lines = [f"**Runs.** {trained} of {n} runs were trained in this execution"
                 + ("" if trained == n else f", {n - trained} kept from an earlier one with "
                    "the same settings") + "."]
    name = METRIC_NAMES.get(metric, metric)
    stats = summary(table, metric).set_index(["init", "strategy"])
    for init, part in stats.groupby(level="init", sort=False):
        means, stds = part["mean"].droplevel(0), part["std"].droplevel(0)
        matched = means.reindex([s for s in MATCHING if s in means.index]).dropna()
        text = f"**{task}, {INIT_LABELS.get(init, init)}.**"
        if len(matched) >= 2:
            noise = stds.reindex(matched.index).max()  # NaN with one seed
            text += (f" The paper's matching strategies span {spread(means):.2f} {name} points"
                     f" (best {LABELS[matched.idxmax()]} {matched.max():.2f}, worst "
                     f"{LABELS[matched.idxmin()]} {matched.min():.2f})")
            if np.isfinite(noise):
                text += (", " + ("within" if spread(means) <= 2 * noise else "beyond")
                         + f" twice the largest seed std among them ({noise:.2f})")
            text += "."
        if "none" in means and len(means) > 1:
            gains = means.drop("none") - means["none"]
            below = [s for s in gains.index if gains[s] < 0]
            against = f"`none` ({means['none']:.2f}): {gains.min():+.2f} to {gains.max():+.2f}"
            if not below:
                text += f" Every strategy is above {against}."
            elif len(below) == len(gains):
                text += f" Every strategy is below {against}."
            else:
                text += f" Against {against}; below it: {_names(below)}."
        if teacher is not None:
            text += (f" The best student mean is {teacher - means.max():.2f} below the teacher "
                     f"({teacher:.2f}).")
        lines.append(text)
    inits = list(dict.fromkeys(table["init"]))
    if {"random", "weight_copy"} <= set(inits):
        copy = stats.loc["weight_copy", "mean"] - stats.loc["random", "mean"]
        lines.append(f"**Initialisation.** Weight copy changes the mean by {copy.min():+.2f} to "
                     f"{copy.max():+.2f} points across strategies (`none`: "
                     f"{copy.get('none', np.nan):+.2f}).")
    late = table["best epoch"] > 0.75 * table["epochs"]
    if table["best epoch"].notna().any():
        lines.append(f"**Checkpoints.** {int(late.sum())} of {n} runs kept weights from the "
                     f"last quarter of their epochs (still improving on validation when "
                     f"training stopped); the median checkpoint is at epoch "
                     f"{int(table['best epoch'].median())} of {int(table['epochs'].max())}.")
    stds = table.groupby(["init", "strategy"], sort=False)[score].std().dropna()
    if len(stds):
        init, strategy = stds.idxmax()
        lines.append(f"**Seed noise.** The widest cell is {INIT_LABELS.get(init, init)}, "
                     f"{LABELS[strategy]} (std {stds.max():.2f}); the aggregate stage tests "
                     "every difference seed-paired, Holm-corrected.")
    return "\n\n".join(lines)
