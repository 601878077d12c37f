"""The figures' shared style: initialisation labels, one colour per strategy, metric axes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

from ..strategies import STRATEGIES  # noqa: E402

INIT_LABELS = {"random": "random init", "weight_copy": "weight copy"}
# One strategy order (STRATEGIES) and one colour-blind-safe palette for every figure.
COLORS = dict(zip(STRATEGIES, sns.color_palette("colorblind", len(STRATEGIES))))
METRIC_RANGE = (0.0, 100.0)  # accuracy %, BLEU and exact match % all live in [0, 100]


def metric_label(metric: str, split: str = "test") -> str:
    """Axis name of a metric column or key: 'test accuracy (%)', 'validation BLEU', ..."""
    name = {"BLEU": "BLEU", "bleu": "BLEU", "test_bleu": "BLEU",
            "test_exact_match": "exact match (%)", "exact_match": "exact match (%)"}.get(
        metric, "accuracy (%)")
    return f"{'validation' if split == 'val' else split} {name}"


def clip_to_metric(ax, values, pad: float = 3.0) -> None:
    """y-limits around the data, never outside the metric's range."""
    v = np.asarray([x for x in values if np.isfinite(x)], float)
    if len(v):
        lo, hi = METRIC_RANGE
        ax.set_ylim(max(lo, v.min() - pad), min(hi, v.max() + pad))


def save(fig, path) -> None:
    """Lay out, write a 130-dpi PNG (creating its folder) and close."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
