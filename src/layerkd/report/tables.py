"""The results as tables: mean ± std over seeds per task, init and strategy, the
shape of the result beside the paper's, the depth and width ablations and the
calibration; written as Markdown and LaTeX (booktabs)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import INITS
from ..strategies import LABELS, STRATEGIES
from .collect import summarise
from .stats import MATCHING, spread
from .style import INIT_LABELS


def format_cell(mean: float, std: float, n: int) -> str:
    """'mean ± std' over seeds (the mean alone for a single seed; "n/a" when unrecorded)."""
    if pd.isna(mean):
        return "n/a"
    return f"{mean:.1f} ± {std:.1f}" if n > 1 else f"{mean:.1f}"


def cell(values) -> str:
    """``format_cell`` of a set of seed scores."""
    v = pd.Series(values, dtype=float)
    return format_cell(v.mean(), v.std(), len(v))


def results_table(teachers: pd.DataFrame, students: pd.DataFrame,
                  tasks: list[str] | None = None, metric: str = "score") -> pd.DataFrame:
    """Teacher row, then one row per init x strategy; one column per task (in ``tasks`` order).

    metric: the column shown (default the headline score; e.g. ``test_exact_match``);
    cells of runs that do not record it read "n/a"."""
    if tasks is not None:
        students = students[students["task"].isin(tasks)]
        teachers = teachers[teachers["task"].isin(tasks)]
    if metric not in students:
        students = students.assign(**{metric: np.nan})
    s = summarise(students, metric)
    s["cell"] = [format_cell(m, sd, n) for m, sd, n in zip(s["mean"], s["std"], s["n"])]
    table = s.pivot_table(index=["init", "strategy"], columns="task", values="cell",
                          aggfunc="first", sort=False)
    order = sorted(table.index, key=lambda k: (INITS.index(k[0]), STRATEGIES.index(k[1])))
    table = table.loc[order]
    table.index = [f"{INIT_LABELS[i]}: {LABELS[st]}" for i, st in table.index]
    if tasks is not None:
        table = table[[t for t in tasks if t in table.columns]]
    t = teachers.set_index("task")
    teacher = (t[metric] if metric in t else pd.Series(np.nan, t.index)).map(
        lambda v: "n/a" if pd.isna(v) else f"{v:.1f}")
    table = pd.concat([pd.DataFrame([teacher.reindex(table.columns)], index=["teacher"]), table])
    table.index.name = "model"
    table.columns.name = None
    return table


def to_markdown(table: pd.DataFrame) -> str:
    return table.to_markdown() + "\n"


def latex_escape(text) -> str:
    out = str(text)
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("#", r"\#"),
                 ("_", r"\_"), ("±", r"$\pm$"), ("<", "$<$"), (">", "$>$")):
        out = out.replace(a, b)
    return out


# Run names as the figures and the prose name them (one label per strategy everywhere).
NAME_LABELS = {**{k: v for k, v in LABELS.items() if "_" in k}, "weight_copy": "weight copy"}


def display_labels(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every strategy and init key in its cells and index read by
    its label (``all_to_one`` -> all-to-one, ``weight_copy`` -> weight copy, an
    ``init`` column's ``random`` -> random init)."""
    def relabel(value):
        if not isinstance(value, str):
            return value
        for key, label in NAME_LABELS.items():
            value = re.sub(rf"\b{key}\b", label, value)
        return value

    out = table.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(relabel)
    if "init" in out.columns:
        out["init"] = out["init"].replace(INIT_LABELS)
    if not pd.api.types.is_numeric_dtype(out.index):
        out.index = out.index.map(relabel).rename(out.index.name)
    return out


def tt_list(names) -> str:
    """Names as a LaTeX list of typewriter words: \\texttt{a}, \\texttt{b}."""
    return ", ".join(rf"\texttt{{{latex_escape(n)}}}" for n in names)


LONG_TABLE_ROWS = 30  # more rows than fit beside text: a longtable that breaks across pages
# Type size by the table's width in characters (widest entry of each column, two
# for each column gap): the widest sizes that fit the text width of the paper's
# 11 pt Times page. Never smaller than \scriptsize (8 pt): a table wider than
# that still is split or transposed by its notebook, not shrunk (the PDF test
# fails on type below 7 pt).
TYPE_SIZES = ((95, r"\small"), (115, r"\footnotesize"))


HEADER_WRAP = 12  # a longer column name with a space is set on two lines


def header_lines(name) -> list[str]:
    """A column name as one line, or two of about equal length when it is long."""
    words = str(name).split(" ")
    if len(str(name)) <= HEADER_WRAP or len(words) == 1:
        return [str(name)]
    cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i]))
                                                      - len(" ".join(words[i:]))))
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def header_cell(name) -> str:
    lines = [latex_escape(x) for x in header_lines(name)]
    return lines[0] if len(lines) == 1 else rf"\shortstack{{{lines[0]}\\{lines[1]}}}"


def type_size(table: pd.DataFrame) -> str:
    """The LaTeX size command a table is set in (see ``TYPE_SIZES``)."""
    columns = [[*table.index, table.index.name or "Model"]]
    columns += [[*table[c], *header_lines(c)] for c in table.columns]
    chars = sum(max(len(str(v)) for v in col) + 2 for col in columns)
    return next((size for limit, size in TYPE_SIZES if chars <= limit), r"\scriptsize")



def to_latex(table: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs table, the caption LaTeX already. Up to ``LONG_TABLE_ROWS`` rows:
    a float shrunk to the line width when wider; longer: a ``longtable`` in
    footnote-size type whose header repeats on every page (a float cannot break, so its bottom
    rows would run off the page)."""
    cols = "l" + "c" * len(table.columns)
    first = table.index.name or "Model"
    header = " & ".join([latex_escape(first)] + [header_cell(c) for c in table.columns]) + r" \\"
    size = type_size(table)
    if len(table) > LONG_TABLE_ROWS:
        lines = [rf"\begingroup{size}\setlength{{\tabcolsep}}{{3pt}}",
                 rf"\begin{{longtable}}{{{cols}}}",
                 rf"\caption{{{caption}}}\label{{{label}}}\\", r"\toprule", header, r"\midrule",
                 r"\endfirsthead",
                 rf"\multicolumn{{{len(table.columns) + 1}}}{{l}}{{\emph{{Table \ref{{{label}}}, "
                 r"continued}}\\", r"\toprule", header, r"\midrule", r"\endhead",
                 r"\bottomrule", r"\endlastfoot"]
        end = [r"\end{longtable}", r"\endgroup"]
    else:
        # [H]: a table stays where its text puts it, so tables and figures keep their order
        lines = [r"\begin{table}[H]", r"\centering", rf"\caption{{{caption}}}",
                 rf"\label{{{label}}}", size,
                 r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
                 rf"\begin{{tabular}}{{{cols}}}", r"\toprule", header, r"\midrule"]
        end = [r"\bottomrule", r"\end{tabular}}", r"\end{table}"]
    previous_block = None
    for name, row in table.iterrows():
        block = str(name).split(":")[0]
        if previous_block is not None and block != previous_block:
            lines.append(r"\midrule")
        previous_block = block
        lines.append(" & ".join([latex_escape(name)] + [latex_escape(v) for v in row]) + r" \\")
    return "\n".join(lines + end) + "\n"


def shape_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """Per task x init: gain of matching over none and spread between strategies.

    summary: columns task, init, strategy, mean (ours from ``summarise``, the
    paper's from ``paper_summary``). Only the strategies both sides report
    (none, forward, reverse, all-to-one, random) enter.
    """
    rows = []
    for (task, init), part in summary.groupby(["task", "init"], sort=False):
        m = part.set_index("strategy")["mean"]
        matched = m.reindex([s for s in MATCHING if s in m.index])
        if "none" not in m.index or matched.empty:
            continue
        rows.append({"task": task, "init": init,
                     "gain forward": m.get("forward", np.nan) - m["none"],
                     "mean gain of matching": matched.mean() - m["none"],
                     "spread between strategies": spread(m),
                     "matching strategies above none": f"{int((matched > m['none']).sum())}"
                                                      f"/{len(matched)}",
                     "above none": int((matched > m["none"]).sum()), "compared": len(matched),
                     "best": LABELS[matched.idxmax()], "worst": LABELS[matched.idxmin()]})
    return pd.DataFrame(rows)


def paper_summary(csv_path: str | Path) -> pd.DataFrame:
    """The authors' student rows as (task, init, strategy, mean); QQP by F1 is left out
    so each task has one metric."""
    ref = pd.read_csv(csv_path)
    ref = ref[(ref["model"] == "student") & ~((ref["task"] == "qqp") & (ref["metric"] == "f1"))]
    return ref.rename(columns={"value": "mean"})[["task", "init", "strategy", "mean"]]


def comparison_table(ours: pd.DataFrame, paper_csv: str | Path) -> pd.DataFrame:
    """Shape of the result, side by side: the paper's tasks, then ours."""
    theirs = shape_summary(paper_summary(paper_csv)).assign(source="paper")
    mine = shape_summary(ours[ours["strategy"].isin(("none",) + MATCHING)]).assign(
        source="this reproduction")
    out = pd.concat([theirs, mine], ignore_index=True)
    out["init"] = out["init"].map(INIT_LABELS)
    cols = ["source", "task", "init", "gain forward", "mean gain of matching",
            "spread between strategies", "matching strategies above none", "best", "worst"]
    return out[cols].round(2)


def width_table(ablation: pd.DataFrame, students: pd.DataFrame, init: str,
                teacher_width: int) -> pd.DataFrame:
    """Narrow students (with projections) beside same-width students of the main runs
    (same init, strategies and seeds): mean ± std per strategy (rows) and task x width."""
    narrow = ablation[ablation["variant"].str.startswith("width")]
    same = students[(students["init"] == init)
                    & students["strategy"].isin(narrow["strategy"].unique())
                    & students["seed"].isin(narrow["seed"].unique())
                    & students["task"].isin(narrow["task"].unique())]
    df = pd.concat([same.assign(width=teacher_width),
                    narrow.assign(width=narrow["student_width"])], ignore_index=True)
    df["column"] = [f"{t} (width {w})" for t, w in zip(df["task"], df["width"])]
    table = df.groupby(["strategy", "column"])["score"].apply(cell).unstack("column")
    table = table.loc[[s for s in STRATEGIES if s in table.index]]
    table.index = [LABELS[s] for s in table.index]
    table.index.name = "strategy"
    table.columns.name = None
    return table


def depth_runs(ablation: pd.DataFrame, students: pd.DataFrame, init: str, tasks: list[str],
               strategies: list[str], seeds: list[int], depths: list[int]) -> pd.DataFrame:
    """The depth ablation's runs: its variants (``depths``, those below each task's
    teacher), plus the main runs at each task's default depth, which
    ``ablation.variants`` does not train again and which is always a row of the
    table, whether or not ``depths`` names it."""
    main = students[(students["init"] == init) & students["task"].isin(tasks)
                    & students["strategy"].isin(strategies) & students["seed"].isin(seeds)]
    main = main.assign(variant=[f"depth{d}" for d in main["student_depth"]])
    variants = ablation[ablation["variant"].str.startswith("depth")]
    return pd.concat([variants, main], ignore_index=True)


def depth_table(ablation: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std per task x depth (rows) and strategy (columns)."""
    df = ablation[ablation["variant"].str.startswith("depth")]
    table = df.groupby(["task", "student_depth", "strategy"])["score"].apply(cell).unstack()
    table = table[[s for s in STRATEGIES if s in table.columns]]
    table.columns = [LABELS[s] for s in table.columns]
    table.index = [f"{t}: {d} block{'' if d == 1 else 's'}" for t, d in table.index]
    table.index.name = "student"
    return table


def calibration_table(teachers: pd.DataFrame, summary: pd.DataFrame,
                      min_lead: float = 5.0, tasks: list[str] | None = None) -> pd.DataFrame:
    """Teacher against the random-init ``none`` student, per task.

    The lead is what leaves distillation room to help; the issue's calibration
    rule asks for at least ``min_lead`` points (accuracy or BLEU) averaged
    over seeds. Tasks without a finished random-init ``none`` cell are left out;
    rows follow ``tasks`` (default: alphabetical). Numbers are unrounded (the
    verdict and everything derived from the table use the same values).
    """
    none = summary[(summary["init"] == "random") & (summary["strategy"] == "none")]
    score = teachers.set_index("task")["score"]
    metric = teachers.set_index("task")["metric"]
    rows = []
    for r in none.itertuples():
        lead = float(score[r.task]) - r.mean
        rows.append({"task": r.task, "metric": "BLEU" if metric[r.task] == "BLEU" else "acc %",
                     "teacher": float(score[r.task]),
                     "none (random init)": format_cell(r.mean, r.std, r.n), "seeds": r.n,
                     "teacher lead": lead,
                     f"lead at least {min_lead:g}": "yes" if lead >= min_lead else "NO"})
    table = pd.DataFrame(rows).set_index("task")
    return table if tasks is None else table.loc[[t for t in tasks if t in table.index]]
