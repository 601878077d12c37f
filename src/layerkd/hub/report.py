"""A hub task's results beside the paper's (reference/official_results.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..paths import PAPER_RESULTS, RESULTS
from ..report.collect import summarise
from ..strategies import LABELS


SETTINGS = {"acc": "classification", "bleu": "generation"}  # metric -> the paper's setting


def paper_rows(paper_key: str | None, csv: Path = PAPER_RESULTS,
               metric: str = "acc") -> pd.DataFrame:
    """The paper's numbers of one task in ``metric`` (GLUE accuracy, DART / WMT16
    BLEU); empty without a key."""
    df = pd.read_csv(csv)
    df = df[(df.setting == SETTINGS[metric]) & (df.task == paper_key) & (df.metric == metric)]
    return df.assign(strategy=df.strategy.fillna(""))


def hub_table(task: str, paper_key: str | None, results: Path = RESULTS,
              csv: Path = PAPER_RESULTS, metric: str = "acc") -> pd.DataFrame:
    """Teacher and every init x strategy: our test ``metric`` (mean, std over seeds,
    n) and the paper's (its replicated teacher; its students)."""
    teacher = json.loads((results / task / "teacher" / "metrics.json").read_text())
    runs = pd.DataFrame([json.loads(p.read_text()) for p in
                         sorted((results / task / "students").glob("*/*/seed*/metrics.json"))])
    paper = paper_rows(paper_key, csv, metric)

    def paper_value(model: str, init: str, strategy: str) -> float | None:
        hit = paper[(paper.model == model) & (paper.init == init) & (paper.strategy == strategy)]
        return float(hit.value.iloc[0]) if len(hit) else None

    rows = [{"model": "teacher", "init": "", "strategy": "", "mean": teacher[f"test_{metric}"],
             "std": None, "n": 1, "paper": paper_value("teacher", "replication", "")}]
    # the embedded tasks' summary: mean, std (ddof 1), n in init x strategy order
    for r in summarise(runs, f"test_{metric}").itertuples():
        rows.append({"model": "student", "init": r.init, "strategy": r.strategy,
                     "mean": r.mean, "std": r.std, "n": int(r.n),
                     "paper": paper_value("student", r.init, r.strategy)})
    return pd.DataFrame(rows)


def table_markdown(table: pd.DataFrame, task: str, paper_key: str | None,
                   metric: str = "acc") -> str:
    def ours(r) -> str:
        return f"{r['mean']:.1f}" + ("" if pd.isna(r["std"]) else f" ± {r['std']:.1f}")

    shown = pd.DataFrame({
        "model": [r.model if r.model == "teacher" else f"{r.init}: {LABELS[r.strategy]}"
                  for r in table.itertuples()],
        {"acc": "test acc. (%)", "bleu": "test BLEU"}[metric]:
            [ours(r) for _, r in table.iterrows()],
        "seeds": table["n"],
        f"paper ({paper_key or 'none'})": [
            "" if pd.isna(v) else f"{v:.1f}" for v in table["paper"]],
    })
    return f"# Hub task `{task}`\n\n" + shown.to_markdown(index=False) + "\n"
