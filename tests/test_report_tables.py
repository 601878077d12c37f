"""Table builders of the report, on hand-made runs."""

import pandas as pd

from layerkd.report.collect import summarise as summary
from layerkd.report.collect import with_score
from layerkd.report.tables import calibration_table


def _runs():
    teachers = with_score(pd.DataFrame([{"task": "a", "test_acc": 90.0},
                                         {"task": "g", "test_bleu": 60.0}]))
    rows = [{"task": "a", "init": "random", "strategy": "none", "seed": s, "test_acc": v}
            for s, v in enumerate([80.0, 82.0, 84.0])]
    rows += [{"task": "g", "init": "random", "strategy": "none", "seed": s, "test_bleu": v}
             for s, v in enumerate([57.0, 58.0, 59.0])]
    rows += [{"task": "g", "init": "weight_copy", "strategy": "none", "seed": 0, "test_bleu": 10.0}]
    return teachers, with_score(pd.DataFrame(rows))


def test_calibration_table_lead_and_verdict():
    teachers, students = _runs()
    table = calibration_table(teachers, summary(students), min_lead=5)
    assert list(table.index) == ["a", "g"]
    assert table.loc["a", "teacher lead"] == 8.0           # 90 - mean(80, 82, 84)
    assert table.loc["a", "lead at least 5"] == "yes"
    assert table.loc["g", "teacher lead"] == 2.0           # weight copy does not count
    assert table.loc["g", "lead at least 5"] == "NO"
    assert table.loc["g", "metric"] == "BLEU" and table.loc["a", "metric"] == "acc %"
    assert table.loc["a", "none (random init)"] == "82.0 ± 2.0"
    assert table.loc["a", "seeds"] == 3
    assert list(calibration_table(teachers, summary(students), tasks=["g", "a", "x"]).index) \
        == ["g", "a"]


def test_depth_runs_put_the_main_runs_back_at_the_default_depth():
    from layerkd.report.tables import depth_runs, depth_table

    def row(task, depth, strategy, seed, acc, init="random", variant=None):
        r = {"task": task, "init": init, "strategy": strategy, "seed": seed,
             "student_depth": depth, "student_width": 16, "test_acc": acc}
        return r | ({"variant": variant} if variant else {})

    ablation = with_score(pd.DataFrame(
        [row("a", 1, "none", s, 50.0 + s, variant="depth1") for s in (0, 1)]
        + [row("a", 6, "none", 0, 1.0, variant="width8")]))
    students = with_score(pd.DataFrame(
        [row("a", 2, "none", s, 60.0 + s) for s in (0, 1, 2)]       # seed 2 not ablated
        + [row("a", 2, "none", 0, 0.0, init="weight_copy")]          # other init
        + [row("a", 2, "forward", 0, 0.0)]                           # other strategy
        + [row("b", 2, "none", 0, 0.0)]))                            # other task
    runs = depth_runs(ablation, students, "random", ["a"], ["none"], [0, 1], [1, 2])
    assert sorted(zip(runs["variant"], runs["score"])) == [
        ("depth1", 50.0), ("depth1", 51.0), ("depth2", 60.0), ("depth2", 61.0)]
    table = depth_table(runs)
    assert table.loc["a: 2 blocks", "none"] == "60.5 ± 0.7"
    # the default depth is a row of the table even where ablations.depths leaves it out
    assert sorted(depth_runs(ablation, students, "random", ["a"], ["none"], [0, 1], [1])[
        "variant"].unique().tolist()) == ["depth1", "depth2"]


def test_long_tables_break_across_pages_short_ones_float():
    from layerkd.report.tables import LONG_TABLE_ROWS, to_latex

    short = pd.DataFrame({"x": range(3)}, index=pd.Index(["a", "b", "c"], name="task"))
    tex = to_latex(short, "Short.", "tab:short")
    assert r"\begin{table}" in tex and "longtable" not in tex
    n = LONG_TABLE_ROWS + 1
    long = pd.DataFrame({"x": range(n)}, index=pd.Index([f"r{i}" for i in range(n)], name="task"))
    tex = to_latex(long, "Long.", "tab:long")
    assert r"\begin{longtable}" in tex and r"\begin{table}" not in tex
    assert tex.count(r"task & x \\") == 2  # the header, repeated after a page break
    assert r"\endhead" in tex and tex.count(r"\\" + "\n") >= n


def test_validation_table_reads_the_selection_score():
    from layerkd.report.tables import results_table

    teachers = with_score(pd.DataFrame([{"task": "a", "test_acc": 90.0, "val_acc": 91.0}]))
    students = with_score(pd.DataFrame(
        [{"task": "a", "init": "random", "strategy": "none", "seed": s, "test_acc": 80.0,
          "val_acc": v} for s, v in enumerate([82.0, 84.0])]))
    table = results_table(teachers, students, ["a"], "val_score")
    assert table.loc["teacher", "a"] == "91.0"
    assert table.loc["random init: none", "a"] == "83.0 ± 1.4"


def fake_runs(**columns):
    return with_score(pd.DataFrame(columns))


def test_depth_and_width_tables_from_runs():
    from layerkd.report.tables import depth_table, width_table

    ablation = fake_runs(task="mnist", strategy=["none", "forward"] * 4,
                         seed=[0, 0, 1, 1] * 2,
                         variant=["depth1"] * 4 + ["width32"] * 4,
                         student_depth=[1] * 4 + [6] * 4, student_width=[64] * 4 + [32] * 4,
                         test_acc=[50.0, 60.0, 52.0, 62.0, 70.0, 80.0, 72.0, 84.0])
    main = fake_runs(task="mnist", init=["random"] * 4 + ["weight_copy"] * 2,
                     strategy=["none", "forward"] * 3, seed=[0, 0, 1, 1, 0, 0],
                     test_acc=[75.0, 85.0, 77.0, 87.0, 99.0, 99.0])
    depth = depth_table(ablation)
    assert depth.loc["mnist: 1 block", "forward"] == "61.0 ± 1.4"
    width = width_table(ablation, main, "random", 64)
    assert width.loc["forward", "mnist (width 32)"] == "82.0 ± 2.8"
    assert width.loc["forward", "mnist (width 64)"] == "86.0 ± 1.4"  # weight copy left out
