"""The paper's claims against this artifact's runs: a verdict per claim, the
evidence on both sides, and what in this artifact's experiments explains a
difference; every number computed here from the runs and the paper's table.

Claims and the rule that decides each verdict (fixed in code, before any
number is read; ``alpha`` the significance level):

(a) matching beats ``none`` from random init. Reproduced: every random-init
    (task, matching strategy) mean is above ``none`` and the cells' mean gains are
    above zero by a one-sided Wilcoxon signed-rank test over the cells
    (scipy.stats.wilcoxon); partly: the test rejects but some mean is below;
    not: the test does not reject.
(b) the spread between strategies is small. Reproduced: no cell's spread exceeds
    its permutation null (``cellstats.spread_table``, Holm over the cells) and the
    mean spread is below the mean random-init gain over ``none``; partly: one of
    the two; not: neither.
(c) seen from the student, most angles between teacher layers are acute.
    Reproduced: the acute share after matching is above one half everywhere and
    above its null baseline (random directions of the student's norms); partly:
    above one half but not above the null; not: at most one half somewhere.
(d) no consistent ordering of the strategies ("doesn't matter (much)").
    Reproduced: neither Friedman's test over all cells nor the pooled
    forward - reverse contrast (Holm over the pairs) rejects; partly: one does;
    not: both do.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats

from ..strategies import LABELS
from .paper_text import fmt
from .pooled import OVERALL
from .stats import MATCHING
from .tables import paper_summary, shape_summary

VERDICTS = ("reproduced", "partly", "not reproduced")
CLAIMS = {"a": "(a) matching beats none from random init",
          "b": "(b) the spread between strategies is small",
          "c": "(c) most angles at the student between teacher layers are acute",
          "d": "(d) no consistent ordering of the strategies"}


def p_text(p: float) -> str:
    """A p-value as the text quotes it (two significant digits; tiny ones as a bound)."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return "< 0.0001" if p < 1e-4 else f"{p:.2g}"


def p_is(p: float) -> str:
    """"p = 0.012" or "p < 0.0001": a p-value as a macro quotes it."""
    text = p_text(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _verdict(strong: bool, weak: bool) -> str:
    return VERDICTS[0] if strong else VERDICTS[1] if weak else VERDICTS[2]


def claim_a(ours: pd.DataFrame, paper: pd.DataFrame, vs_none: pd.DataFrame,
            alpha: float) -> tuple[dict, dict]:
    """ours / paper: ``tables.shape_summary`` rows; vs_none: ``stats.paired_vs_none``."""
    mine, theirs = ours[ours["init"] == "random"], paper[paper["init"] == "random"]
    above, cells = int(mine["above none"].sum()), int(mine["compared"].sum())
    gains = mine["mean gain of matching"].to_numpy(float)
    p = (float(stats.wilcoxon(gains, alternative="greater").pvalue)
         if len(gains) and np.any(gains != 0) else np.nan)  # all zero: no test
    tested = vs_none[(vs_none["init"] == "random") & vs_none["strategy"].isin(MATCHING)
                     & vs_none["task"].isin(mine["task"])]
    survive = int((tested["p_holm"] < alpha).sum())
    verdict = _verdict(above == cells and p < alpha, p < alpha)
    worst = theirs.loc[theirs["mean gain of matching"].idxmin()] if len(theirs) else None
    paper_text = (f"{int(theirs['above none'].sum())} of {int(theirs['compared'].sum())} "
                  f"(task, strategy) cells above none, mean gain "
                  f"{fmt(theirs['mean gain of matching'].mean())}; {worst['task']}: "
                  f"{worst['above none']} of {worst['compared']}, mean gain "
                  f"{fmt(worst['mean gain of matching'])}" if worst is not None else "n/a")
    ours_text = (f"{above} of {cells} above none, mean gain {fmt(float(np.mean(gains)))} "
                 f"(cells' gains > 0: Wilcoxon p {p_text(p)}); {survive} of {len(tested)} "
                 f"gains significant after Holm within each cell")
    macros = {"VerdictA": verdict, "RandomAboveNone": fmt(above), "RandomCells": fmt(cells),
              "RandomGainsSignificant": fmt(survive), "RandomGainsTested": fmt(len(tested)),
              "RandomGainWilcoxonP": p_is(p)}
    return {"claim": CLAIMS["a"], "paper": paper_text, "this artifact": ours_text,
            "verdict": verdict}, macros


def claim_b(ours: pd.DataFrame, paper: pd.DataFrame, spreads: pd.DataFrame,
            alpha: float) -> tuple[dict, dict]:
    """spreads: ``cellstats.spread_table`` (the main tasks' cells and the decoder-only one)."""
    above_null = int((spreads["p_holm"] < alpha).sum())
    raw = int((spreads["p"] < alpha).sum())
    gain = ours.loc[ours["init"] == "random", "mean gain of matching"].mean()
    spread = spreads["spread"].mean()
    verdict = _verdict(above_null == 0 and spread < gain, above_null == 0 or spread < gain)
    p_gain = paper.loc[paper["init"] == "random", "mean gain of matching"].mean()
    paper_text = (f"spread {fmt(paper['spread between strategies'].min())} to "
                  f"{fmt(paper['spread between strategies'].max())} (mean "
                  f"{fmt(paper['spread between strategies'].mean())}) against a mean "
                  f"random-init gain of {fmt(p_gain)}; no null reference")
    ours_text = (f"spread {fmt(spreads['spread'].min())} to {fmt(spreads['spread'].max())} "
                 f"(mean {fmt(spread)}) against {fmt(spreads['null_mean'].min())} to "
                 f"{fmt(spreads['null_mean'].max())} (mean {fmt(spreads['null_mean'].mean())}) "
                 f"for equal strategies; {raw} of {len(spreads)} cells above their null at "
                 f"p < {alpha:g}, {above_null} after Holm over the cells; mean random-init "
                 f"gain {fmt(gain)}")
    macros = {"VerdictB": verdict, "SpreadMean": fmt(spread),
              "NullSpreadMean": fmt(spreads["null_mean"].mean()),
              "SpreadCells": fmt(len(spreads)), "SpreadAboveNullRaw": fmt(raw),
              "SpreadAboveNullHolm": fmt(above_null)}
    return {"claim": CLAIMS["b"], "paper": paper_text, "this artifact": ours_text,
            "verdict": verdict}, macros


def claim_c(angle_table: pd.DataFrame) -> tuple[dict, dict]:
    """angle_table: ``angle_figures.angle_table`` (acute shares per task, stack, init, run)."""
    matched = angle_table[angle_table["run"].isin(MATCHING)]
    acute, null = matched["acute %"].astype(float), matched["null acute %"].astype(float)
    none = angle_table.loc[angle_table["run"] == "none", "acute %"].astype(float)
    majority, beyond = bool((acute > 50).all()), bool((acute > null).all())
    verdict = _verdict(majority and beyond, majority)
    ours_text = (f"{fmt(acute.min())} to {fmt(acute.max())} % acute after matching; the "
                 f"null baseline {fmt(null.min())} to {fmt(null.max())} % and the never-matched "
                 f"student {fmt(none.min())} to {fmt(none.max())} %: acute angles are where "
                 "the student lies, not an effect of matching")
    macros = {"VerdictC": verdict, "AcuteLow": fmt(acute.min()), "AcuteHigh": fmt(acute.max()),
              "NullAcuteLow": fmt(null.min())}
    return {"claim": CLAIMS["c"], "paper": "most angles acute (the paper's figure; no "
            "numbers in the official results)", "this artifact": ours_text,
            "verdict": verdict}, macros


def claim_d(pooled_table: pd.DataFrame, pairwise: pd.DataFrame, paper_tests: pd.DataFrame,
            alpha: float) -> tuple[dict, dict]:
    """pooled_table / pairwise: ``pooled.pooled_table`` / ``pooled.pairwise``;
    paper_tests: ``pooled.paper_tests``."""
    mine = pooled_table.set_index("family").loc[OVERALL]
    theirs = paper_tests.set_index("family").loc[OVERALL]
    fr = pairwise[(pairwise["family"] == OVERALL)
                  & (pairwise["pair"] == "forward - reverse")].iloc[0]
    verdict = _verdict(not (mine["friedman_p"] < alpha or fr["p_holm"] < alpha),
                       not (mine["friedman_p"] < alpha and fr["p_holm"] < alpha))
    paper_text = (f"forward above reverse in {theirs['forward_above_reverse']} cells; "
                  f"Friedman over its {int(theirs['blocks'])} complete cells chi2 "
                  f"{fmt(theirs['friedman'])}, p {p_text(theirs['friedman_p'])}; Page "
                  f"(reverse < random < forward) p {p_text(theirs['page_p'])}")
    ours_text = (f"forward above reverse in {mine['forward_above_reverse']} cells, by "
                 f"{fmt(fr['points'], 2)} points [{fmt(fr['points_low'], 2)}, "
                 f"{fmt(fr['points_high'], 2)}] ({fmt(fr['effect_z'], 2)} within-cell sd "
                 f"[{fmt(fr['z_low'], 2)}, {fmt(fr['z_high'], 2)}], mixed model, Holm p "
                 f"{p_text(fr['p_holm'])}); Friedman chi2 {fmt(mine['friedman'])}, p "
                 f"{p_text(mine['friedman_p'])}; Page p {p_text(mine['page_p'])}")
    macros = {"VerdictD": verdict, "ForwardAboveReverse": str(mine["forward_above_reverse"]),
              "PaperForwardAboveReverse": str(theirs["forward_above_reverse"]),
              "ForwardReversePoints": fmt(fr["points"], 2),
              "ForwardReversePointsLow": fmt(fr["points_low"], 2),
              "ForwardReversePointsHigh": fmt(fr["points_high"], 2),
              "ForwardReverseZ": fmt(fr["effect_z"], 2), "ForwardReverseZLow": fmt(fr["z_low"], 2),
              "ForwardReverseZHigh": fmt(fr["z_high"], 2),
              "ForwardReverseP": p_is(fr["p_holm"]), "PooledCells": fmt(int(mine["cells"])),
              "FriedmanChi": fmt(mine["friedman"]), "FriedmanP": p_is(mine["friedman_p"]),
              "PageP": p_is(mine["page_p"]), "PaperFriedmanP": p_is(theirs["friedman_p"]),
              "PaperFriedmanCells": fmt(int(theirs["blocks"])),
              "PaperPageP": p_is(theirs["page_p"]),
              "OrderingReading": {
                  VERDICTS[2]: "the layer-selection strategy does not matter much, but it "
                               "does matter: the strategies keep one order across cells",
                  VERDICTS[1]: "one of the two pooled tests finds an order, the other not",
                  VERDICTS[0]: "no consistent order of the strategies is found, as the "
                               "paper says"}[verdict]}
    return {"claim": CLAIMS["d"], "paper": paper_text, "this artifact": ours_text,
            "verdict": verdict}, macros


def verdict_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).set_index("claim")


def paper_shape(paper_csv) -> pd.DataFrame:
    """``tables.shape_summary`` of the paper's student rows (as the comparison table)."""
    return shape_summary(paper_summary(paper_csv))


def label(strategy: str) -> str:
    return LABELS.get(strategy, strategy)


def as_tex(macros: dict[str, str]) -> dict[str, str]:
    """Macro values safe in LaTeX text ("<" would print as an inverted exclamation):
    "p < 0.0001" and "p = 0.01" as math, any other "<" as math, chi2 as a symbol."""
    def tex(v: str) -> str:
        v = re.sub(r"\bp ([=<]) ([0-9.]+|n/a)", r"$p \1 \2$", v)
        v = re.sub(r"(?<!\$p )<", "$<$", v)
        return v.replace("chi2", "$\\chi^2$")
    return {k: tex(v) for k, v in macros.items()}


def wide_latex(table: pd.DataFrame, caption: str, label: str, widths: list[str]) -> str:
    """A booktabs table of long text cells: one paragraph column per column
    (``widths``: LaTeX lengths, the index first), so the text wraps."""
    from .tables import latex_escape

    def tex(v) -> str:  # latex_escape writes "<" as "$<$"; "p < x" becomes one formula
        v = re.sub(r"\bp (=|\$<\$) ([0-9.]+|n/a)",
                   lambda m: f"$p {'=' if m.group(1) == '=' else '<'} {m.group(2)}$",
                   latex_escape(v))
        return v.replace("chi2", "$\\chi^2$")

    spec = "".join(f"p{{{w}}}" for w in widths)
    lines = [r"\begin{table}[H]", r"\centering\footnotesize", rf"\caption{{{caption}}}",
             rf"\label{{{label}}}", rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
             " & ".join(tex(c) for c in [table.index.name or "", *table.columns]) + r" \\",
             r"\midrule"]
    lines += [" & ".join(tex(v) for v in [name, *row]) + r" \\" for name, row in table.iterrows()]
    return "\n".join(lines + [r"\bottomrule", r"\end{tabular}", r"\end{table}"]) + "\n"
