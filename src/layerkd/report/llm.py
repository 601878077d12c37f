"""Table 3 (the decoder-only task): the teacher and every strategy's students on
multiple choice (accuracy, HellaSwag-style) and generated answers (exact match,
CommonsenseQA-style), mean ± std over seeds; their rows of the comparison
table; a figure with every seed; the numbers the paper's text quotes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import LLM_SCORES, LLM_TASK, LLMParams
from ..strategies import LABELS, STRATEGIES
from .collect import summarise
from .style import INIT_LABELS, save
from .tables import results_table

COLUMNS = {f"test_{k}": f"{name} (%)" for k, name in LLM_SCORES.items()}
COMPARISON_TASKS = {"test_mc": f"{LLM_TASK} (MC)", "test_em": f"{LLM_TASK} (EM)"}


def collect_llm(results_root: str | Path, llm: LLMParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(teacher, students) frames of the runs the parameters ask for."""
    root = Path(results_root) / LLM_TASK
    path = root / "teacher" / "metrics.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run the llm_teacher stage first")
    teacher = pd.DataFrame([json.loads(path.read_text())])
    d = llm.distill
    rows = [json.loads(p.read_text()) for p in sorted(root.glob("students/*/*/seed*/metrics.json"))]
    students = pd.DataFrame(rows)
    if students.empty:
        raise FileNotFoundError(f"no student runs under {root}: run the llm_distill stage")
    keep = (students["init"].isin(d.inits) & students["strategy"].isin(d.strategies)
            & students["seed"].isin(d.seeds))
    return teacher, students[keep].reset_index(drop=True)


def table3(teacher: pd.DataFrame, students: pd.DataFrame) -> pd.DataFrame:
    """Teacher row, then one row per init x strategy; both scores as columns."""
    parts = [results_table(teacher, students, [LLM_TASK], metric)
             .rename(columns={LLM_TASK: name}) for metric, name in COLUMNS.items()]
    return pd.concat(parts, axis=1)


def comparison_rows(students: pd.DataFrame) -> pd.DataFrame:
    """Seed means per (task, init, strategy) as ``collect.summarise`` gives them,
    one pseudo-task per score, to stand beside the paper's Qwen3 rows."""
    return pd.concat([summarise(students, metric).assign(task=task)
                      for metric, task in COMPARISON_TASKS.items()], ignore_index=True)


def hidden_share_range(students: pd.DataFrame) -> tuple[float, float]:
    """Smallest and largest last-epoch share (%) of the weighted hidden term."""
    shares = students.loc[students["strategy"] != "none", "hid_share_last"] * 100
    return (float(shares.min()), float(shares.max())) if len(shares) else (np.nan, np.nan)


def llm_figure(teacher: pd.DataFrame, students: pd.DataFrame, path) -> None:
    """Every seed a point, per strategy (and init), one panel per score; the
    teacher a dashed line. Points spread by seed (no random jitter: the figure
    renders the same every time)."""
    import matplotlib.pyplot as plt

    order = [s for s in STRATEGIES if s in set(students["strategy"])]
    inits = list(dict.fromkeys(students["init"]))
    seeds = sorted(set(students["seed"]))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=False)
    for ax, (metric, name) in zip(axes, COLUMNS.items()):
        for i, init in enumerate(inits):
            runs = students[students["init"] == init]
            dodge = (i - (len(inits) - 1) / 2) * 0.3
            x = [order.index(s) + dodge + (seeds.index(k) - (len(seeds) - 1) / 2) * 0.08
                 for s, k in zip(runs["strategy"], runs["seed"])]
            ax.scatter(x, runs[metric], s=30, color=f"C{i}", zorder=3)
        ax.axhline(float(teacher[metric].iloc[0]), ls="--", color="grey", label="teacher")
        ax.set_xticks(range(len(order)), [LABELS[s] for s in order], rotation=30)
        ax.set(title=name, xlabel="", ylabel=name)
    handles = [plt.Line2D([], [], ls="--", color="grey", label="teacher")] + [
        plt.Line2D([], [], ls="", marker="o", color=f"C{i}", label=INIT_LABELS[init])
        for i, init in enumerate(inits)]
    axes[-1].legend(handles=handles, fontsize=8)
    save(fig, path)


def llm_macros(teacher: pd.DataFrame, students: pd.DataFrame) -> dict[str, str]:
    """The numbers of the paper's text about the decoder-only task (name -> value):
    the teacher, and the students of the paper's init (weight copy where run)."""
    t = teacher.iloc[0]
    init = "weight_copy" if "weight_copy" in set(students["init"]) else students["init"].iloc[0]
    means = students[students["init"] == init].groupby("strategy")[list(COLUMNS)].mean()
    matched = means.drop(index="none", errors="ignore")
    low, high = hidden_share_range(students)
    out = {"LlmTeacherMc": f"{t['test_mc']:.1f}", "LlmTeacherEm": f"{t['test_em']:.1f}",
           "LlmShareLow": f"{low:.0f}", "LlmShareHigh": f"{high:.0f}",
           "LlmTeacherDepth": str(int(t["depth"])),
           "LlmStudentDepth": str(int(students["student_depth"].iloc[0])),
           "LlmSeeds": str(students["seed"].nunique())}
    if "none" in means.index:
        out |= {"LlmNoneMc": f"{means.loc['none', 'test_mc']:.1f}",
                "LlmNoneEm": f"{means.loc['none', 'test_em']:.1f}"}
    if not matched.empty:
        for metric, key in (("test_mc", "Mc"), ("test_em", "Em")):
            out[f"LlmSpread{key}"] = f"{matched[metric].max() - matched[metric].min():.1f}"
            out[f"LlmBest{key}"] = LABELS[matched[metric].idxmax()]
            gains = matched[metric] - means.loc["none", metric] if "none" in means.index else None
            if gains is not None:
                out[f"LlmGainLow{key}"] = f"{gains.min():+.1f}"
                out[f"LlmGainHigh{key}"] = f"{gains.max():+.1f}"
    return out
