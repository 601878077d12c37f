"""What a stage found, in words computed from its runs: the interpretation
cells of the distillation and ablation notebooks (no plotting, no files: the
distill and ablation stages use it)."""

from __future__ import annotations

import pandas as pd

from ..strategies import LABELS


def _spread_sentence(runs: pd.DataFrame, score: str) -> tuple[str, pd.Series]:
    means = runs.groupby("strategy", sort=False)[score].mean()
    seed_sd = runs.groupby("strategy", sort=False)[score].std().median()
    best, worst = means.idxmax(), means.idxmin()
    text = (f"the strategy means span {means.max() - means.min():.2f} points, from "
            f"{LABELS[worst]} ({means[worst]:.2f}) to {LABELS[best]} ({means[best]:.2f})")
    if pd.notna(seed_sd):
        text += f", against a median seed standard deviation of {seed_sd:.2f}"
    return text, means


def distill_findings(runs: pd.DataFrame, score: str, teacher: float) -> str:
    """One paragraph per initialisation: how far apart the strategies are, compared
    with the seed-to-seed spread, and where `none` and the teacher stand."""
    out = []
    for init, part in runs.groupby("init", sort=False):
        text, means = _spread_sentence(part, score)
        line = f"**{init}**: {text}."
        if "none" in means:
            gains = (means.drop("none") - means["none"]).sort_values(ascending=False)
            line += (f" Without hidden matching (`none`) the student scores "
                     f"{means['none']:.2f}, {teacher - means['none']:.2f} below the teacher "
                     f"({teacher:.2f})")
            if len(gains):
                line += (f"; the matching strategies gain {gains.min():+.2f} to "
                         f"{gains.max():+.2f} over it")
            line += "."
        out.append(line)
    n_seeds = runs["seed"].nunique()
    out.append(f"Means over {n_seeds} seeds; whether a difference is more than seed noise "
               "is tested in the aggregate stage (seed-paired, Holm-corrected).")
    return "\n\n".join(out)


def ablation_findings(runs: pd.DataFrame, score: str) -> str:
    """Per variant of an ablation: the spread of the strategy means and the best one."""
    if runs.empty:
        return "Nothing to train: every variant of this ablation is the task's main runs."
    lines = []
    for variant, part in runs.groupby("variant", sort=False):
        text, _ = _spread_sentence(part, score)
        lines.append(f"* `{variant}`: {text}.")
    return ("Per variant (means over seeds; the aggregate stage adds the main runs and "
            "the tests):\n\n" + "\n".join(lines))
