"""Figures of the results: per-task scores and training curves, depth and
initialisation gains, and the strategies' layer pairs (PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ..config import INITS  # noqa: E402
from ..strategies import LABELS, STRATEGIES, match_layers  # noqa: E402
from .curves import read_curve  # noqa: E402
from .style import COLORS, INIT_LABELS, clip_to_metric, metric_label, save  # noqa: E402


def part_metric(df: pd.DataFrame) -> str:
    return str(df["metric"].iloc[0])


def strategy_figure(teachers: pd.DataFrame, students: pd.DataFrame, task: str, path: str | Path,
                    y: str = "score"):
    """Test score per strategy, one panel per initialisation: every seed a point,
    its runs joined across strategies (they share data order and start), the
    median a black bar, the teacher a dashed line; y within the metric's range.
    ``y``: the column drawn (the headline score; ``test_exact_match`` for generation)."""
    df = students[students["task"] == task]
    order = [s for s in STRATEGIES if s in set(df["strategy"])]
    inits = [i for i in INITS if i in set(df["init"])]
    fig, axes = plt.subplots(1, len(inits), figsize=(4.4 * len(inits), 3.6), sharey=True,
                             squeeze=False)
    teacher = float(teachers.set_index("task").loc[task, y])
    label = metric_label(y if y != "score" else part_metric(df))
    for ax, init in zip(axes[0], inits):
        wide = df[df["init"] == init].pivot_table(index="seed", columns="strategy",
                                                  values=y).reindex(columns=order)
        xs = np.arange(len(order))
        for _, row in wide.iterrows():  # one seed: its runs, paired
            ax.plot(xs, row.to_numpy(float), color="0.75", lw=0.8, zorder=1)
        for x, s in zip(xs, order):
            ax.scatter(np.full(len(wide), x), wide[s], color=COLORS[s], s=22, zorder=2)
            ax.hlines(wide[s].median(), x - 0.25, x + 0.25, color="k", lw=2, zorder=3)
        ax.axhline(teacher, ls="--", color="0.3", lw=1, label=f"teacher {teacher:.1f}")
        ax.set_xticks(xs, [LABELS[s] for s in order], rotation=35, ha="right")
        ax.set(title=f"{task}: {INIT_LABELS[init]} ({len(wide)} seeds)", ylabel=label)
        ax.legend(loc="lower right", fontsize=8)
    clip_to_metric(axes[0][0], list(df[y]) + [teacher])
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return fig


def curve_figure(results_root: str | Path, task: str, teacher: float, path: str | Path,
                 metric: str = "val/acc"):
    """Validation score per epoch: per strategy the mean over seeds and a band from
    the lowest to the highest seed, one panel per initialisation, the teacher dashed.
    Only validated epochs are drawn (``distill.val_every``)."""
    rows = []
    for live in sorted(Path(results_root, task, "students").glob("*/*/seed*/live")):
        if not (live / "plots" / "metrics" / f"{metric}.tsv").exists():
            continue
        curve = read_curve(live, metric)
        init, strategy, seed = live.parents[2].name, live.parents[1].name, live.parent.name
        rows += [{"init": init, "strategy": strategy, "seed": seed, "epoch": int(e) + 1,
                  "value": float(v)} for e, v in zip(curve["step"], curve["value"])]
    df = pd.DataFrame(rows)
    inits = [i for i in INITS if i in set(df["init"])]
    fig, axes = plt.subplots(1, len(inits), figsize=(4.8 * len(inits), 3.4), sharey=True,
                             squeeze=False)
    for ax, init in zip(axes[0], inits):
        part = df[df["init"] == init]
        for s in [s for s in STRATEGIES if s in set(part["strategy"])]:
            g = part[part["strategy"] == s].groupby("epoch")["value"]
            ax.plot(g.mean().index, g.mean(), color=COLORS[s], lw=1.2, label=LABELS[s])
            ax.fill_between(g.min().index, g.min(), g.max(), color=COLORS[s], alpha=0.15, lw=0)
        ax.axhline(teacher, ls="--", color="0.3", lw=1, label=f"teacher (test) {teacher:.1f}")
        ax.set(title=f"{task}: {INIT_LABELS[init]}", xlabel="epoch",
               ylabel=metric_label(metric.split("/")[-1], "val"))
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    clip_to_metric(axes[0][0], list(df["value"]) + [teacher], pad=2)
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return fig


def depth_figure(ablation: pd.DataFrame, path, teachers: pd.DataFrame | None = None):
    """Test score against student depth, a panel per task: every seed a point,
    the median per strategy a line, the teacher dashed; integer depth ticks."""
    df = ablation[ablation["variant"].str.startswith("depth")]
    tasks = list(dict.fromkeys(df["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.8 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        part = df[df["task"] == task]
        order = [s for s in STRATEGIES if s in set(part["strategy"])]
        for k, s in enumerate(order):
            runs = part[part["strategy"] == s]
            dx = (k - (len(order) - 1) / 2) * 0.08  # strategies side by side at each depth
            ax.scatter(runs["student_depth"] + dx, runs["score"], color=COLORS[s], s=14,
                       alpha=0.7)
            med = runs.groupby("student_depth")["score"].median()
            ax.plot(med.index + dx, med, color=COLORS[s], lw=1.2, label=LABELS[s])
        values = list(part["score"])
        if teachers is not None and task in set(teachers["task"]):
            t = float(teachers.set_index("task").loc[task, "score"])
            ax.axhline(t, ls="--", color="0.3", lw=1, label=f"teacher {t:.1f}")
            values.append(t)
        ax.set(title=f"{task}: random init, {part['seed'].nunique()} seeds",
               xlabel="student depth (blocks)", ylabel=metric_label(part["metric"].iloc[0]))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        clip_to_metric(ax, values)
        ax.legend(fontsize=7)
    save(fig, path)
    return fig


def init_gain_figure(students: pd.DataFrame, path):
    """Gain over no matching (paired by seed) per strategy, random init beside
    weight copy: every seed a point, the median a bar; one panel per task,
    three panels to a row."""
    base = students[students["strategy"] == "none"].set_index(["task", "init", "seed"])["score"]
    df = students[students["strategy"] != "none"].copy()
    df["gain"] = df["score"].to_numpy() - base.reindex(
        pd.MultiIndex.from_frame(df[["task", "init", "seed"]])).to_numpy()
    tasks = list(dict.fromkeys(df["task"]))
    ncols = min(3, len(tasks))
    nrows = -(-len(tasks) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.4 * nrows), squeeze=False)
    markers, offsets = {"random": "o", "weight_copy": "^"}, {"random": -0.15, "weight_copy": 0.15}
    for ax, task in zip(axes.flat, tasks):
        part = df[df["task"] == task]
        order = [s for s in STRATEGIES if s in set(part["strategy"])]
        for x, s in enumerate(order):
            for init in [i for i in INITS if i in set(part["init"])]:
                g = part[(part["strategy"] == s) & (part["init"] == init)]["gain"]
                dx = offsets[init]
                ax.scatter(np.full(len(g), x + dx), g, s=14, color=COLORS[s],
                           marker=markers[init], label=INIT_LABELS[init] if x == 0 else None)
                ax.hlines(g.median(), x + dx - 0.12, x + dx + 0.12, color="k", lw=1.5)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xticks(range(len(order)), [LABELS[s] for s in order], rotation=30, ha="right")
        unit = "BLEU" if part["metric"].iloc[0] == "BLEU" else "points"
        ax.set(title=f"{task} (paired by seed)", ylabel=f"gain over none ({unit})")
        ax.legend(fontsize=7)  # marker: o random init, ^ weight copy
    for ax in list(axes.flat)[len(tasks):]:
        ax.set_visible(False)
    save(fig, path)
    return fig


def strategy_diagram(n_student: int, n_teacher: int, path: str | Path, seed: int = 0,
                     strategies=STRATEGIES, epochs_shown: int = 3):
    """One panel per strategy, drawn from ``match_layers``'s own output.

    Student layers on the left, teacher layers on the right (0 = embeddings).
    ``in_order_random`` shows its first ``epochs_shown`` epochs in fading lines.
    """
    fig, axes = plt.subplots(1, len(strategies), figsize=(1.9 * len(strategies), 3.4),
                             sharey=True)
    for ax, strategy in zip(axes, strategies):
        epochs = range(epochs_shown) if strategy == "in_order_random" else [0]
        for e in epochs:
            pairs = match_layers(strategy, n_student, n_teacher, seed=seed, epoch=e)
            for s, t in pairs:
                ax.plot([0, 1], [s / n_student, t / n_teacher], color="C0",
                        alpha=1.0 - 0.3 * e, lw=1.2)
        ax.scatter([0] * (n_student + 1), [i / n_student for i in range(n_student + 1)],
                   color="C1", zorder=3, s=18)
        ax.scatter([1] * (n_teacher + 1), [i / n_teacher for i in range(n_teacher + 1)],
                   color="C2", zorder=3, s=18)
        for i in range(n_student + 1):
            ax.annotate(f"S{i}", (0, i / n_student), xytext=(-14, -3),
                        textcoords="offset points", fontsize=6)
        for i in range(n_teacher + 1):
            ax.annotate(f"T{i}", (1, i / n_teacher), xytext=(4, -3),
                        textcoords="offset points", fontsize=6)
        extra = f"\n(epochs 0-{epochs_shown - 1}, fading)" if len(epochs) > 1 else ""
        ax.set_title(LABELS[strategy] + extra, fontsize=9)
        ax.set_xlim(-0.35, 1.35)
        ax.axis("off")
    fig.suptitle(f"Layer pairs matched by each strategy (student {n_student} blocks, "
                 f"teacher {n_teacher}; seed {seed})", fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    return fig


def spread_null_figure(spreads: pd.DataFrame, path) -> None:
    """Per (task, init) cell, the spread between the matching strategies (point, with
    its bootstrap interval) beside what equal strategies give: the permutation
    null's mean (grey diamond) and 95th percentile (grey bar end).

    spreads: ``cellstats.spread_table`` (task, init, spread, ci_low, ci_high,
    null_mean, null_95)."""
    df = spreads.reset_index(drop=True)
    labels = [f"{t}, {INIT_LABELS.get(i, i)}" for t, i in zip(df["task"], df["init"])]
    y = np.arange(len(df))[::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.32 * len(df) + 1.2))
    ax.hlines(y, 0, df["null_95"], color="0.8", lw=4, label="null: up to its 95th percentile")
    ax.scatter(df["null_mean"], y, marker="D", color="0.45", s=18, zorder=3,
               label="null mean (equal strategies)")
    ax.errorbar(df["spread"], y, xerr=[df["spread"] - df["ci_low"], df["ci_high"] - df["spread"]],
                fmt="o", color="black", ms=4, lw=1, zorder=4,
                label="observed spread (95% bootstrap interval)")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("spread between matching strategies (points of the task's metric)")
    ax.legend(fontsize=7, loc="lower right")
    save(fig, path)
