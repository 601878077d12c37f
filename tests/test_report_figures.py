"""Every figure kind of the report on small synthetic runs: axis limits inside
the metric's range, axis names and a teacher line where the figure has one."""

import numpy as np
import pandas as pd
import pytest

from layerkd.report import angle_figures as fa
from layerkd.report.collect import with_score
from layerkd.report.figures import (
    curve_figure,
    depth_figure,
    init_gain_figure,
    strategy_figure,
)

STRATS = ["none", "forward", "reverse", "random", "all_to_one"]


def runs(metric="test_bleu", low=0.0, high=100.0):
    g = np.random.default_rng(0)
    rows = [{"task": "t", "init": init, "strategy": s, "seed": k,
             metric: float(np.clip(g.normal(95, 8), low, high)), "test_exact_match": 50.0}
            for init in ("random", "weight_copy") for s in STRATS for k in range(3)]
    teachers = with_score(pd.DataFrame([{"task": "t", metric: 99.5,
                                          "test_exact_match": 90.0}]))
    return teachers, with_score(pd.DataFrame(rows))


def within_range(ax):
    lo, hi = ax.get_ylim()
    return 0.0 <= lo < hi <= 100.0


def has_teacher_line(ax):
    return any(line.get_label().startswith("teacher") for line in ax.get_lines())


@pytest.mark.parametrize("metric", ["test_bleu", "test_acc"])
def test_strategy_figure_stays_in_range_and_names_its_axes(tmp_path, metric):
    teachers, students = runs(metric)
    fig = strategy_figure(teachers, students, "t", tmp_path / "s.png")
    ax = fig.axes[0]
    assert within_range(ax) and has_teacher_line(ax)
    assert ax.get_ylabel() == ("test BLEU" if metric == "test_bleu" else "test accuracy (%)")
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["none", "forward"]
    assert (tmp_path / "s.png").exists()


def test_curve_figure_draws_bands_epochs_and_the_teacher(tmp_path):
    for s in ("none", "forward"):
        for k in range(2):
            d = tmp_path / "t" / "students" / "random" / s / f"seed{k}" / "live" / "plots" \
                / "metrics" / "val"
            d.mkdir(parents=True)
            pd.DataFrame({"step": [1, 3, 4], "acc": [50.0 + k, 80.0, 99.0]}).to_csv(
                d / "acc.tsv", sep="\t", index=False)
    fig = curve_figure(tmp_path, "t", 97.0, tmp_path / "c.png")
    ax = fig.axes[0]
    assert within_range(ax) and has_teacher_line(ax)
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "validation accuracy (%)"
    mean = [ln for ln in ax.get_lines() if ln.get_label() == "none"][0]
    assert list(mean.get_xdata()) == [2, 4, 5]  # validated epochs, 1-based
    assert len(ax.collections) == 2  # one seed band per strategy


def test_depth_figure_integer_ticks_and_range(tmp_path):
    teachers, students = runs("test_acc")
    ablation = students[students["init"] == "random"].assign(
        variant="depth1", student_depth=1)
    ablation = pd.concat([ablation, ablation.assign(variant="depth3", student_depth=3)])
    fig = depth_figure(ablation, tmp_path / "d.png", teachers)
    ax = fig.axes[0]
    assert within_range(ax) and has_teacher_line(ax)
    assert all(float(t).is_integer() for t in ax.get_xticks())
    assert ax.get_xlabel() == "student depth (blocks)"


def test_init_gain_figure_wraps_tasks_into_rows(tmp_path):
    _, students = runs("test_acc")
    many = pd.concat([students.assign(task=f"t{i}") for i in range(5)])
    fig = init_gain_figure(many, tmp_path / "g.png")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5
    width, height = fig.get_size_inches()
    assert width / height < 3  # a grid, not a strip
    assert all("gain over none" in ax.get_ylabel() for ax in visible)


def angle_report():
    nan = None
    heat = [[[nan, 0.5, 0.2], [nan, nan, 0.9], [nan, nan, nan]]] * 2  # 2 student blocks
    run = {"encoder": {"acute_fraction": 0.75, "null_acute_fraction": 0.5, "mean_cos": 0.3,
                       "hist": [0, 1, 2, 1], "hist_all": [1, 0, 1, 2],
                       "null_hist_all": [1, 1, 1, 1], "heatmap": heat,
                       "distances": [[1.0, 2.0, 3.0, 4.0]] * 3}}
    return {"task": "t", "stacks": ["encoder"], "bins": 4,
            "teacher_distances": {"encoder": [[0.0, 1, 2, 3]] * 4},
            "runs": [{"init": "random", "seed": k, "strategy": s, **run}
                     for s in ("initial", "none", "forward") for k in (0, 1)]}


def test_angle_histogram_names_acute_shares_and_the_null(tmp_path):
    fig = fa.angle_histograms(angle_report(), tmp_path / "h.png")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "forward: 75 % acute" in labels and "null (random directions): 50 % acute" in labels
    assert fig.axes[0].get_xlabel() == "cosine of the angle at the student"
    table = fa.angle_table({"t": angle_report()})
    assert set(table["seeds"]) == {2} and set(table["null acute %"]) == {50.0}


def test_heatmaps_and_distances_have_integer_layer_ticks(tmp_path):
    fa.angle_heatmaps(angle_report(), "encoder", tmp_path / "m.png")
    fig = fa.distance_figure(angle_report(), "encoder", tmp_path / "d.png")
    for ax in [a for a in fig.axes if a.get_xlabel()]:
        assert all(float(t).is_integer() for t in ax.get_xticks())
    assert (tmp_path / "m.png").exists()


def test_angle_findings_quote_the_measured_shares():
    text = fa.angle_findings({"t": angle_report()})
    assert "t encoder: acute angles at initialisation 75.0 %, none 75.0 %, forward 75.0 %" in text
    assert "null baseline 50.0 %" in text
