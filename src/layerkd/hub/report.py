"""A hub task's results beside the paper's (reference/official_results.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..paths import PAPER_RESULTS, RESULTS
from ..report.collect import summarise
from ..strategies import LABELS


# kind -> (the paper's setting, our metric, the paper's metric, the column's title)
KINDS = {"classification": ("classification", "acc", "acc", "test acc. (%)"),
         "generation": ("generation", "bleu", "bleu", "test BLEU"),
         "lm_choice": ("llm", "acc", "acc", "test acc. (%)"),
         "lm_qa": ("llm", "em", "exact_match", "test exact match (%)")}
PAPER_TEACHERS = ("replication", "finetuned")  # the paper's own teacher row, by setting


def paper_rows(paper_key: str | None, csv: Path = PAPER_RESULTS,
               kind: str = "classification") -> pd.DataFrame:
    """The paper's numbers of one task (GLUE accuracy, DART / WMT16 BLEU, HellaSwag
    accuracy, CommonsenseQA exact match); empty without a key."""
    setting, _, metric, _ = KINDS[kind]
    df = pd.read_csv(csv)
    df = df[(df.setting == setting) & (df.task == paper_key) & (df.metric == metric)]
    return df.assign(strategy=df.strategy.fillna(""))


def hub_table(task: str, paper_key: str | None, results: Path = RESULTS,
              csv: Path = PAPER_RESULTS, kind: str = "classification") -> pd.DataFrame:
    """Teacher and every init x strategy: our test metric (mean, std over seeds, n)
    and the paper's (its own teacher; its students)."""
    metric = KINDS[kind][1]
    teacher = json.loads((results / task / "teacher" / "metrics.json").read_text())
    runs = pd.DataFrame([json.loads(p.read_text()) for p in
                         sorted((results / task / "students").glob("*/*/seed*/metrics.json"))])
    paper = paper_rows(paper_key, csv, kind)

    def paper_value(model: str, inits: tuple[str, ...], strategy: str) -> float | None:
        hit = paper[(paper.model == model) & paper.init.isin(inits) &
                    (paper.strategy == strategy)]
        return float(hit.value.iloc[0]) if len(hit) else None

    rows = [{"model": "teacher", "init": "", "strategy": "", "mean": teacher[f"test_{metric}"],
             "std": None, "n": 1, "paper": paper_value("teacher", PAPER_TEACHERS, "")}]
    # the embedded tasks' summary: mean, std (ddof 1), n in init x strategy order
    for r in summarise(runs, f"test_{metric}").itertuples():
        rows.append({"model": "student", "init": r.init, "strategy": r.strategy,
                     "mean": r.mean, "std": r.std, "n": int(r.n),
                     "paper": paper_value("student", (r.init,), r.strategy)})
    return pd.DataFrame(rows)


def table_markdown(table: pd.DataFrame, task: str, paper_key: str | None,
                   kind: str = "classification") -> str:
    def ours(r) -> str:
        return f"{r['mean']:.1f}" + ("" if pd.isna(r["std"]) else f" ± {r['std']:.1f}")

    shown = pd.DataFrame({
        "model": [r.model if r.model == "teacher" else f"{r.init}: {LABELS[r.strategy]}"
                  for r in table.itertuples()],
        KINDS[kind][3]: [ours(r) for _, r in table.iterrows()],
        "seeds": table["n"],
        f"paper ({paper_key or 'none'})": [
            "" if pd.isna(v) else f"{v:.1f}" for v in table["paper"]],
    })
    # as formatted (one decimal): no re-parsing of the strings as numbers
    table_text = shown.to_markdown(index=False, disable_numparse=True)
    return f"# Hub task `{task}`\n\n{table_text}\n"
