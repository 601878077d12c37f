"""The paper's generated numbers: macro names, macro files, and a text with no typed numbers."""

import re
from pathlib import Path

import pandas as pd
import pytest

from layerkd.report.paper_text import fmt, macro_name, macros_tex, result_macros

PAPER = Path(__file__).resolve().parents[1] / "paper"


def test_macro_names_are_letters_only():
    assert macro_name("mnist1d", "random", "forward", "mean") == "MnistOneDRandomForwardMean"
    assert macro_name("mnist", "weight_copy", "all_to_one", "std") == "MnistWeightCopyAllToOneStd"
    assert macro_name("numbers_ro", "teacher lead") == "NumbersRoTeacherLead"
    with pytest.raises(ValueError):
        macro_name("_", "")


def test_fmt_and_tex():
    assert fmt(95.8123) == "95.8" and fmt(5000) == "5{,}000" and fmt(float("nan")) == "n/a"
    assert macros_tex({"A": "1.0"}).splitlines()[-1] == r"\newcommand{\A}{1.0}"


def test_result_macros_from_a_small_table():
    teachers = pd.DataFrame({"task": ["mnist"], "score": [90.0]})
    summary = pd.DataFrame({"task": "mnist", "init": "random",
                            "strategy": ["none", "forward", "reverse"],
                            "mean": [70.0, 75.5, 74.0], "std": [1.0, 2.0, 0.5], "n": 3})
    vs_none = pd.DataFrame({"task": "mnist", "init": "random", "strategy": ["forward", "reverse"],
                            "p": [0.01, 0.2], "p_holm": [0.02, 0.2]})
    equiv = pd.DataFrame({"task": ["mnist"], "init": ["random"], "p_tost": [0.01],
                          "p_tost_holm": [0.5]})
    anova = pd.DataFrame({"task": ["mnist"], "init": ["random"], "p": [0.001],
                          "p_holm": [0.07]})
    m = result_macros(teachers, summary, vs_none, equiv, None, margin=1.0, anova=anova)
    assert m["MnistTeacher"] == "90.0" and m["MnistTeacherLead"] == "20.0"
    assert m["MnistRandomForwardMean"] == "75.5" and m["MnistRandomSpread"] == "1.5"
    assert m["MnistRandomWorstGain"] == "4.0" and m["MnistRandomBestGain"] == "5.5"
    # only Holm-corrected p-values are counted
    assert m["MnistRandomSignificant"] == "1" and m["MnistRandomEquivalent"] == "0"
    assert m["StrategyTests"] == "1" and m["StrategiesDiffer"] == "0"


def body_of_paper() -> str:
    tex = (PAPER / "main.tex").read_text()
    body = tex.split(r"\begin{document}", 1)[1]
    return "\n".join(line.split("%", 1)[0] if not line.lstrip().startswith("%") else ""
                     for line in body.replace(r"\%", "PERCENT").splitlines())


def test_paper_text_types_no_number_by_hand():
    body = body_of_paper()
    commands = "ref|label|cite|bibliography|bibliographystyle|inputtable|resultfigure|includegraphics"
    body = re.sub(rf"\\({commands})(\[[^]]*\])?\{{[^}}]*\}}", "", body)
    body = re.sub(r"[Ll]ayer 0", "", body)  # the embedding layer's index, a definition
    typed = re.findall(r"(?<![A-Za-z\\\d])\d+(?:[.,]\d+)?", body)  # names like T5 pass
    assert typed == [], f"numbers typed in paper/main.tex: {typed}"


def test_every_macro_the_paper_uses_is_generated():
    macros_file = PAPER / "macros.tex"
    if not macros_file.exists():
        pytest.skip("paper/macros.tex not generated yet (dvc repro)")
    defined = set(re.findall(r"\\newcommand\{\\([A-Za-z]+)\}", macros_file.read_text()))
    defined |= set(re.findall(r"\\newcommand\{\\([A-Za-z]+)\}", (PAPER / "main.tex").read_text()))
    used = set(re.findall(r"\\([A-Z][A-Za-z]+)", body_of_paper()))
    assert sorted(used - defined) == []


def test_overview_macros_count_cells_above_none():
    from layerkd.report.paper_text import overview_macros

    summary = pd.DataFrame({
        "task": ["a"] * 4 + ["b"] * 3 + ["g"] * 2,
        "init": "random",
        "strategy": ["none", "forward", "reverse", "in_order_random",
                     "none", "forward", "reverse", "none", "forward"],
        "mean": [70.0, 75.0, 69.0, 99.0, 50.0, 52.0, 54.0, 30.0, 10.0]})
    calibration = pd.DataFrame({"teacher lead": [20.0, 3.0, 40.0]}, index=["a", "b", "g"])
    kinds = {"a": "classification", "b": "classification", "g": "generation"}
    m = overview_macros(summary, calibration, kinds)
    assert m["NumTasks"] == "3" and m["NumClassificationTasks"] == "2"
    assert m["MinTeacherLead"] == "3.0" and m["MinTeacherLeadTask"] == "b"
    assert m["CalibratedTasks"] == "2" and m["CalibrationMinLead"] == "5"
    # in-order random is left out: a has 1 of 2 above none, b 2 of 2
    assert m["ClassificationRandomAboveNone"] == "3" and m["ClassificationRandomCells"] == "4"
    assert m["ClassificationRandomMeanGain"] == "2.5"    # mean of (72 - 70, 53 - 50)
    assert m["ClassificationRandomMeanSpread"] == "4.0"  # mean of (6, 2)
    assert m["GenerationRandomAboveNone"] == "0" and m["GenerationRandomMeanGain"] == "-20.0"


def test_findings_sentences_come_from_the_macros():
    from layerkd.report.paper_text import findings_markdown

    m = {"ClassificationRandomCells": "16", "ClassificationRandomAboveNone": "13",
         "ClassificationRandomMeanGain": "3.1", "ClassificationRandomMeanSpread": "1.3",
         "StrategyTests": "12", "StrategiesDiffer": "4"}
    text = findings_markdown(m)
    assert "13 of 16 (task, matching strategy) cells beat no matching" in text
    assert "mean spread between strategies 1.3 points" in text
    assert "4 of 12 (task, initialisation) cells" in text
    assert "Generation" not in text  # no sentence without its numbers
