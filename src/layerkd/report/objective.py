"""What the results tables say about the objective, the loss and convergence.

* ``objective_caption``: the matching objective of the runs behind a table
  (from the ``objective`` / ``norm`` records of their metrics.json), in one
  short phrase for its caption; a setting the runs disagree on reads "mixed",
  one they do not record reads "n/a" (runs older than the record).
* ``hidden_share_table``: the weighted hidden term ``a_hid * H`` as a share of
  the total training loss, first and last epoch, mean over seeds.
* ``generation_table``: Table 2 with test exact match (%) beside BLEU.
* Convergence check. A ``none`` student (no hidden matching) has converged
  when its validation curve gains less than 0.5 points of its metric
  (accuracy % or BLEU) over the last quarter of its epochs::

      gain = max(curve[-k:]) - max(curve[:-k]),  k = max(1, n_epochs // 4)
      (rounded to 6 decimals, so float32 noise in logged percentages cannot decide)
      converged  <=>  gain < 0.5

  ``convergence_table`` reports, per task x init, the largest gain over
  seeds. Where depth-ablation runs of ``none`` exist
  (``results/<task>/ablations/depth<k>/none/seed<s>/metrics.json``) it also
  asks whether a shallower ``none`` student beats the default-depth one by
  more than seed noise: ``mean(shallow) - mean(default) > 2 * s_p / sqrt(n)``
  with ``s_p`` the pooled standard deviation (ddof=1) of the two groups and
  ``n`` the smaller group's number of seeds. Either would mean the students
  are under-trained and the comparison between strategies is confounded.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import INITS
from ..strategies import LABELS, STRATEGIES
from .curves import read_curve
from .style import INIT_LABELS
from .tables import cell, latex_escape, results_table

CONVERGENCE_THRESHOLD = 0.5  # points of the task's metric over the last quarter
# Objective settings named in captions: (record field, how a caption calls it).
CAPTION_FIELDS = (("distance", "distance"), ("pair_reduce", "pair reduction"),
                  ("batch_divide", "batch division"), ("a_hid", "a_hid"),
                  ("temperature", "temperature"), ("norm", "norm"))


# --- the objective records --------------------------------------------------

def objective_records(students: pd.DataFrame) -> pd.DataFrame:
    """One row per run: task plus every objective field (NaN where not recorded)."""
    obj = students["objective"] if "objective" in students else pd.Series(None, students.index)
    rows = [o if isinstance(o, dict) else {} for o in obj]
    out = pd.DataFrame(rows, index=students.index)
    for extra in ("norm", "all_to_one_target"):
        out[extra] = students[extra] if extra in students else np.nan
    return out.assign(task=students["task"])


def _value_text(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):g}"
    return str(value)


def describe(values) -> str:
    """One setting over runs: its value, "mixed" when runs disagree, "n/a" when unrecorded."""
    seen = {_value_text(v) for v in values if not (v is None or (isinstance(v, float)
                                                                  and math.isnan(v)))}
    return "n/a" if not seen else seen.pop() if len(seen) == 1 else "mixed"


def objective_settings(students: pd.DataFrame, tasks=None, swept=None) -> dict[str, str]:
    """{caption name: value} of the runs of ``tasks`` (all runs when None); the
    field ``swept`` (an ablation's varied setting) is left out."""
    rec = objective_records(students)
    if tasks is not None:
        rec = rec[rec["task"].isin(list(tasks))]
    return {name: describe(rec[field]) if field in rec else "n/a"
            for field, name in CAPTION_FIELDS if field != swept}


def settings_phrase(settings: dict[str, str]) -> str:
    """'distance sum_sq, pair reduction mean, ...' (LaTeX-escaped)."""
    if all(v == "n/a" for v in settings.values()):
        return "not recorded by these runs"
    return ", ".join(f"{latex_escape(name)} {latex_escape(v)}" for name, v in settings.items())


def ablation_objective_caption(runs: pd.DataFrame, swept=None) -> str:
    """The objective each task's ablation runs recorded, per task, for the caption
    of an ablation table (not the parameters: a task's overrides change it)."""
    tasks = list(dict.fromkeys(runs["task"]))
    return ("Objective as the runs recorded it, per task: "
            f"{per_task_objectives(runs, tasks, swept)}.")


def objective_caption(students: pd.DataFrame, tasks) -> str:
    """The objective of the runs of ``tasks`` in one phrase, for a table caption."""
    return f"Objective: {settings_phrase(objective_settings(students, tasks))}."


def per_task_objectives(students: pd.DataFrame, tasks, swept=None) -> str:
    """'task, task: phrase; task: phrase' (tasks with one objective share a phrase);
    ``swept``: a field left out (the setting an ablation varies)."""
    groups: dict[str, list[str]] = {}
    for t in tasks:
        groups.setdefault(settings_phrase(objective_settings(students, [t], swept)),
                          []).append(t)
    return "; ".join(", ".join(latex_escape(t) for t in names) + f": {phrase}"
                     for phrase, names in groups.items())


# --- share of the loss -------------------------------------------------------

def _pct(value) -> str:
    return "n/a" if pd.isna(value) else f"{100 * value:.1f}"


def hidden_share_table(students: pd.DataFrame, tasks) -> pd.DataFrame:
    """Per task x init x matching strategy: mean over seeds of the hidden term's
    share of the loss (%) in the first and last epoch ("n/a" when unrecorded)."""
    df = students[students["task"].isin(tasks) & (students["strategy"] != "none")].copy()
    for col in ("hid_share_first", "hid_share_last"):
        df[col] = pd.to_numeric(df[col], errors="coerce") if col in df else np.nan
    g = df.groupby(["task", "init", "strategy"], sort=False)
    out = g.agg(first=("hid_share_first", "mean"), last=("hid_share_last", "mean"),
                seeds=("seed", "count")).reset_index()
    out["order"] = (out["task"].map(list(tasks).index) * 100 + out["init"].map(INITS.index) * 10
                    + out["strategy"].map(STRATEGIES.index))
    out = out.sort_values("order")
    return pd.DataFrame({"task": out["task"], "init": out["init"].map(INIT_LABELS),
                         "strategy": out["strategy"].map(LABELS),
                         "first epoch %": out["first"].map(_pct),
                         "last epoch %": out["last"].map(_pct),
                         "seeds": out["seeds"]}).set_index("task")


def hidden_share_caption(students: pd.DataFrame, tasks) -> str:
    return ("Share of the training loss taken by the weighted hidden term "
            "$a_{hid} H$ (\\%), mean over seeds of the first and the last epoch's "
            "means, per matching strategy. Objectives: "
            + per_task_objectives(students, tasks) + ".")


# --- Table 2 with exact match ------------------------------------------------

def generation_table(teachers: pd.DataFrame, students: pd.DataFrame, tasks) -> pd.DataFrame:
    """Table 2: per task a BLEU and an exact-match (%) column, teacher first."""
    bleu = results_table(teachers, students, tasks)
    em = results_table(teachers, students, tasks, metric="test_exact_match")
    cols = {}
    for task in bleu.columns:
        cols[f"{task} BLEU"] = bleu[task]
        cols[f"{task} EM %"] = em[task] if task in em else "n/a"
    out = pd.DataFrame(cols, index=bleu.index)
    out.index.name = bleu.index.name
    return out


# --- convergence -------------------------------------------------------------

def last_quarter_gain(values) -> float:
    """max over the last quarter of the epochs minus max before it (NaN under 2 epochs)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float("nan")
    k = max(1, len(v) // 4)
    return round(float(v[-k:].max() - v[:-k].max()), 6)  # float32 noise must not decide


def curve_metric(task_dir: Path) -> str:
    """val/bleu for generation runs, val/acc otherwise (whichever the runs wrote)."""
    return "val/bleu" if any(task_dir.glob("students/*/*/seed*/live/plots/metrics/val/bleu.tsv")) \
        else "val/acc"


def none_gains(results_root: str | Path, tasks) -> pd.DataFrame:
    """Per task x init x seed of ``none``: epochs trained and the gain over the last
    quarter of its validated epochs."""
    rows = []
    for task in tasks:
        task_dir = Path(results_root) / task
        metric = curve_metric(task_dir)
        for tsv in sorted(task_dir.glob(f"students/*/none/seed*/live/plots/metrics/{metric}.tsv")):
            live = tsv.parents[3]
            curve = read_curve(live, metric)  # validated epochs only (distill.val_every)
            rows.append({"task": task, "init": live.parents[2].name,
                         "seed": int(live.parent.name.removeprefix("seed")),
                         "epochs": int(curve["step"].iloc[-1]) + 1,
                         "gain": last_quarter_gain(curve["value"])})
    return pd.DataFrame(rows, columns=["task", "init", "seed", "epochs", "gain"])


def beats_by_noise(shallow, default) -> bool:
    """mean(shallow) - mean(default) > 2 * pooled std / sqrt(min n)."""
    a, b = np.asarray(shallow, float), np.asarray(default, float)
    if len(a) < 2 or len(b) < 2:
        return False
    pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1))
                     / (len(a) + len(b) - 2))
    return bool(a.mean() - b.mean() > 2 * pooled / np.sqrt(min(len(a), len(b))))


def depth_none_runs(results_root: str | Path, task: str) -> pd.DataFrame:
    """The depth ablation's ``none`` runs of a task (empty when there are none)."""
    paths = sorted(Path(results_root).glob(f"{task}/ablations/depth*/none/seed*/metrics.json"))
    rows = [json.loads(p.read_text()) for p in paths]
    df = pd.DataFrame(rows, columns=None if rows else ["init", "student_depth", "score"])
    if rows:
        df["score"] = df["test_bleu"] if "test_bleu" in df else df["test_acc"]
    return df


def shallower_verdict(results_root, students: pd.DataFrame, task: str, init: str) -> str:
    """Whether a shallower ``none`` student beats the default-depth one beyond seed noise."""
    ablated = depth_none_runs(results_root, task)
    main = students[(students["task"] == task) & (students["init"] == init)
                    & (students["strategy"] == "none")]
    ablated = ablated[ablated["init"] == init] if len(ablated) else ablated
    if main.empty or ablated.empty:
        return "n/a"
    default = int(main["student_depth"].iloc[0])
    better = [f"depth {d}: {cell(part['score'])} vs {cell(main['score'])}"
              for d, part in ablated.groupby("student_depth")
              if d < default and beats_by_noise(part["score"], main["score"])]
    compared = (ablated["student_depth"] < default).any()
    return "n/a" if not compared else "; ".join(["yes"] + better) if better else "no"


def convergence_table(results_root, students: pd.DataFrame, tasks,
                      threshold: float = CONVERGENCE_THRESHOLD) -> pd.DataFrame:
    """Per task x init: largest last-quarter gain of a ``none`` seed, the verdict,
    and whether a shallower ``none`` student beats the default depth."""
    gains = none_gains(results_root, tasks)
    rows = []
    for (task, init), part in gains.groupby(["task", "init"], sort=False):
        worst = part["gain"].max()
        rows.append({"task": task, "init": INIT_LABELS.get(init, init), "seeds": len(part),
                     "epochs": int(part["epochs"].max()),
                     "max gain in last quarter": round(float(worst), 2),
                     "converged": "yes" if worst < threshold else "NO",
                     "shallower none better": shallower_verdict(results_root, students,
                                                                task, init)})
    return pd.DataFrame(rows).set_index("task") if rows else pd.DataFrame()


def convergence_caption(threshold: float = CONVERGENCE_THRESHOLD) -> str:
    return ("Convergence of the students without hidden matching (none): the largest gain "
            "over seeds of the best validation score in the last quarter of the epochs over "
            f"the best before it; converged when below {threshold:g} points. Last column: "
            "does a shallower none student of the depth ablation beat the default depth by "
            "more than seed noise (mean difference above twice the pooled std over "
            "$\\sqrt{n}$)?")


def convergence_macros(table: pd.DataFrame,
                       threshold: float = CONVERGENCE_THRESHOLD) -> dict[str, str]:
    """\\ConvergedCells of \\ConvergenceCells (task x init) and \\ConvergenceThreshold."""
    m = {"ConvergenceThreshold": f"{threshold:g}"}
    if len(table):
        m.update(ConvergedCells=str(int((table["converged"] == "yes").sum())),
                 ConvergenceCells=str(len(table)))
    return m
