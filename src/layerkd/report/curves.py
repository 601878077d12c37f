"""dvclive curves as frames: no plotting here, so the teacher stage can read its
curve without depending on the figure code."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_curve(live_dir: str | Path, metric: str = "val/acc") -> pd.DataFrame:
    """A dvclive metric as a (step, value) frame."""
    path = Path(live_dir) / "plots" / "metrics" / f"{metric}.tsv"
    df = pd.read_csv(path, sep="\t")
    return df.rename(columns={df.columns[1]: "value"})
