"""Figures that are not per-task results: strategy diagrams and training curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .strategies import STRATEGIES, match_layers  # noqa: E402

TITLES = {"none": "none", "forward": "forward", "reverse": "reverse", "random": "random",
          "all_to_one": "all-to-one", "in_order_random": "in-order random"}


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
        ax.set_title(TITLES[strategy] + extra, fontsize=9)
        ax.set_xlim(-0.35, 1.35)
        ax.axis("off")
    fig.suptitle(f"Layer pairs matched by each strategy (student {n_student} blocks, "
                 f"teacher {n_teacher}; seed {seed})", fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    return fig


def read_curve(live_dir: str | Path, metric: str = "val/acc") -> pd.DataFrame:
    """A dvclive metric as a (step, value) frame."""
    path = Path(live_dir) / "plots" / "metrics" / f"{metric}.tsv"
    df = pd.read_csv(path, sep="\t")
    return df.rename(columns={df.columns[1]: "value"})


def training_curves(results_root: str | Path, task: str, path: str | Path,
                    metric: str = "val/acc"):
    """Validation accuracy per epoch, mean over seeds, one line per strategy and panel per init."""
    root = Path(results_root) / task / "students"
    rows = []
    for live in sorted(root.glob("*/*/seed*/live")):
        init, strategy = live.parts[-4], live.parts[-3]
        c = read_curve(live, metric)
        rows += [{"init": init, "strategy": strategy, "epoch": s, "value": v}
                 for s, v in zip(c["step"], c["value"])]
    df = pd.DataFrame(rows)
    inits = sorted(df["init"].unique())
    fig, axes = plt.subplots(1, len(inits), figsize=(4.5 * len(inits), 3.2), sharey=True,
                             squeeze=False)
    for ax, init in zip(axes[0], inits):
        part = df[df["init"] == init].groupby(["strategy", "epoch"])["value"].mean()
        for strategy in [s for s in STRATEGIES if s in part.index.get_level_values(0)]:
            ax.plot(part[strategy].index, part[strategy].values, label=TITLES[strategy])
        ax.set(title=f"{task}: {init.replace('_', ' ')}", xlabel="epoch",
               ylabel=f"{metric} (mean over seeds)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    return fig
