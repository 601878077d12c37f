"""The one definition of "spread between strategies", used by every stage that
reports it (apart from ``stats``, so that a change to the statistics does not
make the distillation stages stale)."""

from __future__ import annotations

import pandas as pd

MATCHING = ("forward", "reverse", "all_to_one", "random")  # the strategies the paper reports


def spread(means: pd.Series) -> float:
    """max - min of the seed-mean scores of the matching strategies the paper reports
    (``MATCHING``; ``none`` and ``in_order_random`` excluded), from unrounded means."""
    m = means.reindex([s for s in MATCHING if s in means.index]).dropna()
    return float(m.max() - m.min()) if len(m) else float("nan")
