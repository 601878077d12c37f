"""Tables and figures from finished runs (the aggregation stage).

Reads ``results/<task>/teacher/metrics.json`` and
``results/<task>/students/<init>/<strategy>/seed<k>/metrics.json``; writes Markdown and
LaTeX tables (mean ± std over seeds) and a figure per task.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from scipy import stats  # noqa: E402

from .config import INITS  # noqa: E402
from .figures import read_curve  # noqa: E402
from .stats import MATCHING, spread  # noqa: E402
from .strategies import STRATEGIES  # noqa: E402

LABELS = {"none": "none", "forward": "forward", "reverse": "reverse", "random": "random",
          "all_to_one": "all-to-one", "in_order_random": "in-order random (RAIL-KD)"}
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


def collect(results_root: str | Path = "results") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(teachers, students): one row per finished run."""
    root = Path(results_root)
    teachers = [json.loads(p.read_text()) for p in sorted(root.glob("*/teacher/metrics.json"))]
    students = [json.loads(p.read_text()) for p in sorted(root.glob("*/students/*/*/seed*/metrics.json"))]
    if not teachers or not students:
        raise FileNotFoundError(f"no finished runs under {root}: run the distill stages first")
    return _with_score(pd.DataFrame(teachers)), _with_score(pd.DataFrame(students))


def _with_score(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``score``: the headline test metric (accuracy, or BLEU for generation), and
    ``val_score``: the same on validation (best epoch: the checkpoint's selection score)."""
    def col(name):
        return df[name] if name in df else pd.Series(np.nan, index=df.index)

    bleu = col("test_bleu")
    return df.assign(score=bleu.fillna(col("test_acc")),
                     val_score=col("val_bleu").fillna(col("val_acc")),
                     metric=np.where(bleu.notna(), "BLEU", "acc"))


def t_interval(values) -> tuple[float, float]:
    """95 % Student-t confidence interval of the mean (scipy.stats.t)."""
    v = np.asarray(values, dtype=float)
    m = v.mean()
    if len(v) < 2:
        return m, m
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return m - half, m + half


def summarise(students: pd.DataFrame, metric: str = "score") -> pd.DataFrame:
    """Mean, std (ddof=1), n and 95 % t-interval per task x init x strategy."""
    g = students.groupby(["task", "init", "strategy"])[metric]
    out = g.agg(mean="mean", std="std", n="count").reset_index()
    ci = g.apply(lambda v: t_interval(v)).reset_index(name="ci")
    out["ci_low"], out["ci_high"] = zip(*ci["ci"])
    out["order"] = out["init"].map(INITS.index) * 10 + out["strategy"].map(STRATEGIES.index)
    return out.sort_values(["task", "order"]).drop(columns="order").reset_index(drop=True)


def format_cell(mean: float, std: float, n: int) -> str:
    """'mean ± std' over seeds (the mean alone for a single seed; "n/a" when unrecorded)."""
    if pd.isna(mean):
        return "n/a"
    return f"{mean:.1f} ± {std:.1f}" if n > 1 else f"{mean:.1f}"


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
                 ("_", r"\_"), ("±", r"$\pm$")):
        out = out.replace(a, b)
    return out


LONG_TABLE_ROWS = 30  # more rows than fit beside text: a longtable that breaks across pages


def to_latex(table: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs table, the caption LaTeX already. Up to ``LONG_TABLE_ROWS`` rows:
    a float shrunk to the line width when wider; longer: a ``longtable`` in
    footnote-size type whose header repeats on every page (a float cannot break, so its bottom
    rows would run off the page)."""
    cols = "l" + "c" * len(table.columns)
    first = table.index.name or "Model"
    header = " & ".join([latex_escape(first)] + [latex_escape(c) for c in table.columns]) + r" \\"
    if len(table) > LONG_TABLE_ROWS:
        lines = [r"\begingroup\footnotesize\setlength{\tabcolsep}{4pt}",
                 rf"\begin{{longtable}}{{{cols}}}",
                 rf"\caption{{{caption}}}\label{{{label}}}\\", r"\toprule", header, r"\midrule",
                 r"\endfirsthead",
                 rf"\multicolumn{{{len(table.columns) + 1}}}{{l}}{{\emph{{Table \ref{{{label}}}, "
                 r"continued}}\\", r"\toprule", header, r"\midrule", r"\endhead",
                 r"\bottomrule", r"\endlastfoot"]
        end = [r"\end{longtable}", r"\endgroup"]
    else:
        lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{caption}}}",
                 rf"\label{{{label}}}",
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


def part_metric(df: pd.DataFrame) -> str:
    return str(df["metric"].iloc[0])


def strategy_figure(teachers: pd.DataFrame, students: pd.DataFrame, task: str, path: str | Path,
                    y: str = "score"):
    """Test score per strategy, one panel per initialisation: every seed a point,
    its runs joined across strategies (they share data order and start), the
    median a black bar, the teacher a dashed line; y within the metric's range.
    ``y``: the column drawn (the headline score; ``test_exact_match`` for generation)."""
    df = students[students["task"] == task]
    order = [s for s in STRATEGIES if s in set(df["strategy"])]
    inits = [i for i in INITS if i in set(df["init"])]
    fig, axes = plt.subplots(1, len(inits), figsize=(4.4 * len(inits), 3.6), sharey=True,
                             squeeze=False)
    teacher = float(teachers.set_index("task").loc[task, y])
    label = metric_label(y if y != "score" else part_metric(df))
    for ax, init in zip(axes[0], inits):
        wide = df[df["init"] == init].pivot_table(index="seed", columns="strategy",
                                                  values=y).reindex(columns=order)
        xs = np.arange(len(order))
        for _, row in wide.iterrows():  # one seed: its runs, paired
            ax.plot(xs, row.to_numpy(float), color="0.75", lw=0.8, zorder=1)
        for x, s in zip(xs, order):
            ax.scatter(np.full(len(wide), x), wide[s], color=COLORS[s], s=22, zorder=2)
            ax.hlines(wide[s].median(), x - 0.25, x + 0.25, color="k", lw=2, zorder=3)
        ax.axhline(teacher, ls="--", color="0.3", lw=1, label=f"teacher {teacher:.1f}")
        ax.set_xticks(xs, [LABELS[s] for s in order], rotation=35, ha="right")
        ax.set(title=f"{task}: {INIT_LABELS[init]} ({len(wide)} seeds)", ylabel=label)
        ax.legend(loc="lower right", fontsize=8)
    clip_to_metric(axes[0][0], list(df[y]) + [teacher])
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return fig


def curve_figure(results_root: str | Path, task: str, teacher: float, path: str | Path,
                 metric: str = "val/acc"):
    """Validation score per epoch: per strategy the mean over seeds and a band from
    the lowest to the highest seed, one panel per initialisation, the teacher dashed.
    Only validated epochs are drawn (``distill.val_every``)."""
    rows = []
    for live in sorted(Path(results_root, task, "students").glob("*/*/seed*/live")):
        if not (live / "plots" / "metrics" / f"{metric}.tsv").exists():
            continue
        curve = read_curve(live, metric)
        init, strategy, seed = live.parents[2].name, live.parents[1].name, live.parent.name
        rows += [{"init": init, "strategy": strategy, "seed": seed, "epoch": int(e) + 1,
                  "value": float(v)} for e, v in zip(curve["step"], curve["value"])]
    df = pd.DataFrame(rows)
    inits = [i for i in INITS if i in set(df["init"])]
    fig, axes = plt.subplots(1, len(inits), figsize=(4.8 * len(inits), 3.4), sharey=True,
                             squeeze=False)
    for ax, init in zip(axes[0], inits):
        part = df[df["init"] == init]
        for s in [s for s in STRATEGIES if s in set(part["strategy"])]:
            g = part[part["strategy"] == s].groupby("epoch")["value"]
            ax.plot(g.mean().index, g.mean(), color=COLORS[s], lw=1.2, label=LABELS[s])
            ax.fill_between(g.min().index, g.min(), g.max(), color=COLORS[s], alpha=0.15, lw=0)
        ax.axhline(teacher, ls="--", color="0.3", lw=1, label=f"teacher (test) {teacher:.1f}")
        ax.set(title=f"{task}: {INIT_LABELS[init]}", xlabel="epoch",
               ylabel=metric_label(metric.split("/")[-1], "val"))
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    clip_to_metric(axes[0][0], list(df["value"]) + [teacher], pad=2)
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return fig


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


def collect_ablations(results_root: str | Path = "results") -> pd.DataFrame:
    """One row per finished ablation run (results/<task>/ablations/<variant>/...)."""
    paths = sorted(Path(results_root).glob("*/ablations/*/*/seed*/metrics.json"))
    if not paths:
        raise FileNotFoundError(f"no ablation runs under {results_root}: run the ablate stages")
    rows = [dict(json.loads(p.read_text()), variant=p.parts[-4]) for p in paths]
    return _with_score(pd.DataFrame(rows))


def cell(values) -> str:
    v = pd.Series(values, dtype=float)
    return format_cell(v.mean(), v.std(), len(v))


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
    """The depth ablation's runs: its variants, plus the main runs at each task's
    default depth (which ``ablation.variants`` does not train again) when that
    depth is one of ``depths``."""
    main = students[(students["init"] == init) & students["task"].isin(tasks)
                    & students["strategy"].isin(strategies) & students["seed"].isin(seeds)
                    & students["student_depth"].isin(depths)]
    main = main.assign(variant=[f"depth{d}" for d in main["student_depth"]])
    variants = ablation[ablation["variant"].str.startswith("depth")]
    return pd.concat([variants, main], ignore_index=True)


def depth_table(ablation: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std per task x depth (rows) and strategy (columns)."""
    df = ablation[ablation["variant"].str.startswith("depth")]
    table = df.groupby(["task", "student_depth", "strategy"])["score"].apply(cell).unstack()
    table = table[[s for s in STRATEGIES if s in table.columns]]
    table.columns = [LABELS[s] for s in table.columns]
    table.index = [f"{t}: {d} blocks" for t, d in table.index]
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
