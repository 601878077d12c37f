"""Tables, figures and macros of the objective ablations (stage aggregate).

Takes the runs of ``collect.collect_setting_ablation`` (``kind`` is
``objective``: the hidden distance, or ``a_hid``: the hidden weight; see
``ablation.setting_variants``) and puts back what those stages do not train
again: the main runs at the task's own setting, and ``none`` (no
hidden term, the same at every setting), which is every setting's baseline.
"""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..config import NO_HIDDEN, Params  # noqa: E402
from ..strategies import LABELS, STRATEGIES  # noqa: E402
from .objective import ablation_objective_caption  # noqa: E402
from .paper_text import fmt, macro_name  # noqa: E402
from .style import INIT_LABELS, save  # noqa: E402
from .tables import cell, latex_escape, tt_list  # noqa: E402

# kind -> (the swept setting in words, short axis / row label)
SETTING_NAMES = {"objective": ("hidden distance", "distance"),
                 "a_hid": ("hidden-term weight a_hid", "a_hid")}
RUN_COLUMNS = ["task", "strategy", "seed", "setting", "label", "order", "score", "metric",
               "source"]
RECORD_COLUMNS = ["objective", "norm"]  # what each run recorded of its objective
SWEPT_FIELD = {"objective": "distance", "a_hid": "a_hid"}  # the objective field each varies
FINDINGS = [f"{q}{end}{w}" for q in ("Spread", "Gain") for end in ("Low", "High")
            for w in ("", "Where")]  # the macros of ``finding_macros``


def setting_label(kind: str, setting) -> str:
    return f"{float(setting):g}" if kind == "a_hid" else str(setting)


def setting_runs(ablation: pd.DataFrame, students: pd.DataFrame, params: Params,
                 kind: str) -> pd.DataFrame:
    """Every run of the ablation, one row per task x setting x strategy x seed:
    its variants' runs, the main runs at each task's own setting, and the
    ``none`` runs (trained once) repeated at every setting. Stale folders of
    settings, strategies or seeds no longer asked for are left out."""
    a = params.ablations.sweep(kind)
    parts = []
    for task in a.tasks:
        p = params.for_task(task)
        strategies = a.strategies_of(p.distill)
        order = {a.variant(s): i for i, s in enumerate(a.settings())}
        setting_of = {a.variant(s): s for s in a.settings()}

        def pick(df):
            return df[(df["task"] == task) & (df["init"] == a.init)
                      & df["strategy"].isin(strategies) & df["seed"].isin(a.seeds)]

        runs = pick(ablation)
        runs = runs[runs["variant"].isin(list(order))]
        runs = runs.assign(source=runs["variant"])  # (assigning the unfiltered column to an
        # empty frame would bring back every row of it)
        mains = [a.variant(s) for s in a.settings() if a.is_main(p.distill, s)]
        if mains:
            runs = pd.concat([pick(students).assign(variant=mains[0], source="main"), runs],
                             ignore_index=True)
        # runs without a hidden term are the same at every setting: one per seed
        # (the main runs first), repeated for each setting
        free = runs[runs["strategy"].isin(NO_HIDDEN)].drop_duplicates(["strategy", "seed"])
        runs = pd.concat([runs[~runs["strategy"].isin(NO_HIDDEN)]]
                         + [free.assign(variant=v) for v in order], ignore_index=True)
        runs["setting"] = runs["variant"].map(setting_of)
        runs["order"] = runs["variant"].map(order)
        runs["label"] = [setting_label(kind, s) for s in runs["setting"]]
        parts.append(runs)
    if not parts:
        return pd.DataFrame(columns=RUN_COLUMNS + RECORD_COLUMNS)
    # the objective each run recorded travels along: the captions name it per task
    out = pd.concat(parts, ignore_index=True).reindex(columns=RUN_COLUMNS + RECORD_COLUMNS)
    out["strategy_order"] = out["strategy"].map(STRATEGIES.index)
    out = out.sort_values(["task", "order", "strategy_order", "seed"], kind="stable")
    return out.drop(columns="strategy_order").reset_index(drop=True)


def spread(runs: pd.DataFrame) -> pd.DataFrame:
    """Per task x setting: the spread between matching strategies, the largest
    minus the smallest of their mean scores over seeds (NaN with fewer than two)."""
    matching = runs[~runs["strategy"].isin(NO_HIDDEN)]
    means = matching.groupby(["task", "order", "label", "strategy"])["score"].mean()
    g = means.groupby(["task", "order", "label"])
    out = (g.max() - g.min()).where(g.count() >= 2).rename("spread").reset_index()
    return out.sort_values(["task", "order"]).drop(columns="order").reset_index(drop=True)


def setting_table(runs: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Mean ± std over seeds per task x setting (rows) and strategy (columns),
    and the spread between the matching strategies' means."""
    name = SETTING_NAMES[kind][1]
    table = runs.groupby(["task", "order", "label", "strategy"])["score"].apply(cell).unstack()
    table = table[[s for s in STRATEGIES if s in table.columns]]
    table.columns = [LABELS[s] for s in table.columns]
    s = spread(runs).set_index(["task", "label"])["spread"]
    table["spread"] = [fmt(s.get((t, lab), np.nan)) for t, _, lab in table.index]
    table.index = [f"{t}: {name} {lab}" for t, _, lab in table.index]
    table.index.name = "task: setting"
    return table


def gains(runs: pd.DataFrame) -> pd.DataFrame:
    """Matching runs with ``gain``: the score minus the ``none`` run of the same
    task, setting and seed."""
    base = runs[runs["strategy"] == "none"].set_index(["task", "label", "seed"])["score"]
    df = runs[~runs["strategy"].isin(NO_HIDDEN)].copy()
    key = pd.MultiIndex.from_frame(df[["task", "label", "seed"]])
    df["gain"] = df["score"].to_numpy() - base.reindex(key).to_numpy()
    return df


def gain_figure(runs: pd.DataFrame, kind: str, path) -> None:
    """Gain over ``none`` (paired by seed) against the setting: a line per
    matching strategy through its mean, per-seed points beside it; a panel per task."""
    df = gains(runs)
    tasks = list(dict.fromkeys(df["task"]))
    fig, axes = plt.subplots(1, max(len(tasks), 1), figsize=(4.6 * max(len(tasks), 1), 3.5),
                             squeeze=False)
    strategies = [s for s in STRATEGIES if s in set(df["strategy"])]
    colours = dict(zip(strategies, sns.color_palette("colorblind", len(strategies))))
    width = 0.5 / max(len(strategies), 1)
    for ax, task in zip(axes[0], tasks):
        part = df[df["task"] == task]
        labels = part.drop_duplicates("order").sort_values("order")["label"].tolist()
        for i, s in enumerate(strategies):
            mine = part[part["strategy"] == s]
            offset = (i - (len(strategies) - 1) / 2) * width
            means = mine.groupby("order")["gain"].mean()
            ax.plot(means.index + offset, means.to_numpy(), marker="o", color=colours[s],
                    label=LABELS[s], lw=1.2)
            ax.scatter(mine["order"] + offset, mine["gain"], color=colours[s], s=10,
                       alpha=0.5, lw=0)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlim(-0.5, len(labels) - 0.5)
        metric = "BLEU" if (part["metric"] == "BLEU").any() else "accuracy"
        ax.set(title=task, xlabel=SETTING_NAMES[kind][0],
               ylabel=f"gain over none ({metric} points)")
        ax.legend(fontsize=7)
    save(fig, path)


def describe(params: Params, kind: str) -> str:
    """What the ablation swept (for captions): tasks, init, seeds and the swept
    values. The rest of the objective is each task's own: ``caption`` reads it
    from the runs (``objective.ablation_objective_caption``)."""
    a = params.ablations.sweep(kind)
    seeds = ", ".join(str(s) for s in a.seeds)
    if kind == "objective":
        swept = (f"hidden distance {', '.join(a.distances)} "
                 f"({'with' if a.batch_divide else 'no'} division by the batch size)")
    else:
        swept = f"a_hid in {', '.join(f'{v:g}' for v in a.values)}"
    return (f"tasks {', '.join(a.tasks)}; {INIT_LABELS.get(a.init, a.init)}; seeds {seeds}; "
            f"{swept}")


def caption(runs: pd.DataFrame, params: Params, kind: str, what: str) -> str:
    """The ablation table's caption: what it shows, what was swept, and per task
    the rest of the objective as its runs recorded it."""
    return (f"{what}: test score (accuracy \\% or BLEU), mean $\\pm$ std over seeds, per "
            "task, setting and strategy, and the spread between matching strategies (best "
            f"minus worst mean); {latex_escape(describe(params, kind))}. "
            + ablation_objective_caption(runs, SWEPT_FIELD[kind]))


def finding_macros(runs: pd.DataFrame, prefix: str, setting: str) -> dict[str, str]:
    """What an ablation's table shows, as macros: the smallest and the largest
    spread between matching strategies over the task x setting rows, and the
    lowest and highest mean gain of a matching strategy over ``none``, each with
    where it occurs (``\\<prefix>SpreadLow``, ``...SpreadLowWhere``, ...).

    runs: columns task, label, order, strategy, seed, score (``setting_runs``);
    setting: how a row's setting is named ("distance", "a_hid"; "" where the label
    says it, as "3 blocks")."""
    m = dict.fromkeys([prefix + k for k in FINDINGS], "n/a")  # defined even without runs
    if runs is None or runs.empty:
        return m

    def where(task, label):
        named = f"{latex_escape(setting)} " if setting else ""
        return f"\\texttt{{{latex_escape(task)}}}, {named}{latex_escape(label)}"

    s = spread(runs).dropna(subset=["spread"])
    g = gains(runs).groupby(["task", "label", "strategy"])["gain"].mean().dropna()
    if len(s):
        lo, hi = s.loc[s["spread"].idxmin()], s.loc[s["spread"].idxmax()]
        m |= {f"{prefix}SpreadLow": fmt(lo["spread"]),
              f"{prefix}SpreadLowWhere": where(lo["task"], lo["label"]),
              f"{prefix}SpreadHigh": fmt(hi["spread"]),
              f"{prefix}SpreadHighWhere": where(hi["task"], hi["label"])}
    if len(g):
        (lt, ll, ls), (ht, hl, hs) = g.idxmin(), g.idxmax()
        m |= {f"{prefix}GainLow": fmt(g.min()),
              f"{prefix}GainLowWhere": f"{LABELS[ls]}, {where(lt, ll)}",
              f"{prefix}GainHigh": fmt(g.max()),
              f"{prefix}GainHighWhere": f"{LABELS[hs]}, {where(ht, hl)}"}
    return m


def findings_markdown(values: dict[str, str]) -> str:
    """What each ablation's table shows, in Markdown, from its ``finding_macros``."""
    def plain(text):  # the macros' LaTeX back to text
        return text.replace("\\texttt", "").replace("\\_", "_").replace("{", "").replace("}", "")

    lines = ["### What the ablations show"]
    for prefix, name in (("Depth", "Student depth"), ("ObjectiveAblation", "Hidden distance"),
                         ("AHidAblation", "Hidden-term weight")):
        v = {k: plain(values.get(prefix + k, "n/a")) for k in FINDINGS}
        if v["SpreadLow"] != "n/a":
            lines.append(f"- {name}: the spread between matching strategies ranges from "
                         f"{v['SpreadLow']} ({v['SpreadLowWhere']}) to {v['SpreadHigh']} "
                         f"({v['SpreadHighWhere']}); the mean gain of a matching strategy "
                         f"over none from {v['GainLow']} ({v['GainLowWhere']}) to "
                         f"{v['GainHigh']} ({v['GainHighWhere']}).")
    return "\n".join(lines)


def param_macros(params: Params) -> dict[str, str]:
    """What the paper's text and captions quote of the two ablations."""
    out = {}
    for kind in ("objective", "a_hid"):
        a = params.ablations.sweep(kind)
        prefix = "ObjectiveAblation" if kind == "objective" else "AHidAblation"
        out[prefix + "Tasks"] = tt_list(a.tasks) or "none"
        out[prefix + "Init"] = latex_escape(a.init.replace("_", " "))
        out[prefix + "Seeds"] = fmt(len(a.seeds))
        out[prefix + "Strategies"] = latex_escape(", ".join(  # null: distill.strategies
            LABELS[s] for s in a.strategies_of(params.distill)))
        out[prefix + "Settings"] = (tt_list(a.distances) if kind == "objective"
                                    else ", ".join(f"{v:g}" for v in a.values))
    out[macro_name("objective ablation batch divide")] = (
        "with" if params.ablations.objective.batch_divide else "without")
    return out
