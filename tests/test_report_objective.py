"""Objective captions, the hidden term's share, Table 2 with exact match and the
convergence check, on hand-made runs and curves."""

import json

import numpy as np
import pandas as pd
import pytest

from layerkd.report import objective as obr
from layerkd.report.collect import with_score

OBJ = {"a_ce": 1.0, "a_kl": 1.0, "a_hid": 3.0, "temperature": 1.0, "distance": "sum_sq",
       "pair_reduce": "mean", "batch_divide": False, "match_embeddings": True}


def run(task, strategy, seed, init="random", obj=OBJ, **extra):
    r = {"task": task, "init": init, "strategy": strategy, "seed": seed, "student_depth": 2}
    if obj is not None:
        r |= {"objective": dict(obj), "norm": "post", "all_to_one_target": 6,
              "hid_share_first": 0.5 + 0.1 * seed, "hid_share_last": 0.1}
    return r | extra


def test_objective_caption_names_settings_mixed_and_missing():
    df = pd.DataFrame([run("a", "forward", 0), run("a", "none", 1),
                       run("b", "forward", 0, obj=OBJ | {"distance": "mse"}),
                       run("old", "forward", 0, obj=None)])
    caption = obr.objective_caption(df, ["a"])
    assert "distance sum\\_sq" in caption and "a\\_hid 3" in caption
    assert "batch division no" in caption and "norm post" in caption
    assert "distance mixed" in obr.objective_caption(df, ["a", "b"])
    assert "not recorded" in obr.objective_caption(df, ["old"])
    # runs that predate the record, alongside recorded ones: their absence is ignored
    assert "distance sum\\_sq" in obr.objective_caption(df, ["a", "old"])
    # no run has the record at all (the committed results of the previous version)
    legacy = pd.DataFrame([run("old", "forward", 0, obj=None)])
    assert obr.objective_settings(legacy)["distance"] == "n/a"


def test_hidden_share_table_means_over_seeds_and_leaves_out_none():
    df = pd.DataFrame([run("a", "forward", s) for s in (0, 1, 2)]
                      + [run("a", "none", 0), run("a", "reverse", 0, obj=None)])
    table = obr.hidden_share_table(df, ["a"])
    assert list(table["strategy"]) == ["forward", "reverse"]
    fwd = table[table["strategy"] == "forward"].iloc[0]
    assert fwd["first epoch %"] == "60.0" and fwd["last epoch %"] == "10.0" and fwd["seeds"] == 3
    assert table[table["strategy"] == "reverse"].iloc[0]["first epoch %"] == "n/a"
    assert "a: distance sum\\_sq" in obr.hidden_share_caption(df, ["a"])


def test_generation_table_shows_exact_match_beside_bleu():
    teachers = with_score(pd.DataFrame([{"task": "g", "test_bleu": 90.0,
                                          "test_exact_match": 80.0},
                                         {"task": "h", "test_bleu": 50.0}]))
    students = with_score(pd.DataFrame(
        [run("g", "none", s, test_bleu=60.0 + s, test_exact_match=10.0 * s) for s in (0, 1, 2)]
        + [run("h", "none", 0, test_bleu=40.0)]))
    table = obr.generation_table(teachers, students, ["g", "h"])
    assert list(table.columns) == ["g BLEU", "g EM %", "h BLEU", "h EM %"]
    assert table.loc["teacher", "g EM %"] == "80.0" and table.loc["teacher", "h EM %"] == "n/a"
    assert table.loc["random init: none", "g EM %"] == "10.0 ± 10.0"
    assert table.loc["random init: none", "h EM %"] == "n/a"


def test_last_quarter_gain_flat_passes_rising_fails():
    flat = np.r_[np.linspace(10, 80, 30), np.full(10, 80.0)]
    rising = np.linspace(10, 80, 40)
    assert obr.last_quarter_gain(flat) == pytest.approx(0.0)
    assert obr.last_quarter_gain(flat) < obr.CONVERGENCE_THRESHOLD
    assert obr.last_quarter_gain(rising) > obr.CONVERGENCE_THRESHOLD
    assert np.isnan(obr.last_quarter_gain([1.0]))


def test_beats_by_noise():
    assert obr.beats_by_noise([80.0, 81.0, 82.0], [70.0, 71.0, 72.0])
    assert not obr.beats_by_noise([68.0, 75.0, 82.0], [70.0, 71.0, 72.0])
    assert not obr.beats_by_noise([90.0], [70.0, 71.0])


def write_curve(root, task, init, seed, values, metric="acc"):
    d = root / task / "students" / init / "none" / f"seed{seed}" / "live/plots/metrics/val"
    d.mkdir(parents=True)
    pd.DataFrame({"step": range(len(values)), metric: values}).to_csv(
        d / f"{metric}.tsv", sep="\t", index=False)


def test_convergence_table_on_synthetic_curves(tmp_path):
    flat = list(np.r_[np.linspace(10, 80, 12), np.full(4, 80.0)])
    rising = list(np.linspace(10, 80, 16))
    for s in (0, 1):
        write_curve(tmp_path, "a", "random", s, flat)
        write_curve(tmp_path, "a", "weight_copy", s, rising if s else flat)
        write_curve(tmp_path, "g", "random", s, flat, metric="bleu")
    students = with_score(pd.DataFrame(
        [run("a", "none", s, student_depth=4, test_acc=70.0 + s) for s in (0, 1, 2)]))
    for s, acc in enumerate((80.0, 81.0, 82.0)):  # a shallower none student, clearly better
        p = tmp_path / "a/ablations/depth2/none" / f"seed{s}" / "metrics.json"
        p.parent.mkdir(parents=True)
        p.write_text(json.dumps({"task": "a", "init": "random", "strategy": "none",
                                 "seed": s, "student_depth": 2, "test_acc": acc}))
    table = obr.convergence_table(tmp_path, students, ["a", "g"])
    rows = {(t, r["init"]): r for t, r in table.iterrows()}
    assert rows[("a", "random init")]["converged"] == "yes"
    assert rows[("a", "weight copy")]["converged"] == "NO"
    assert rows[("g", "random init")]["converged"] == "yes"
    assert rows[("a", "random init")]["shallower none better"].startswith("yes; depth 2")
    assert rows[("a", "weight copy")]["shallower none better"] == "n/a"
    m = obr.convergence_macros(table)
    assert m["ConvergedCells"] == "2" and m["ConvergenceCells"] == "3"


def test_per_task_objectives_group_tasks_with_one_objective():
    df = pd.DataFrame([run("a", "forward", 0), run("b", "forward", 0),
                       run("c", "forward", 0, obj=OBJ | {"pair_reduce": "sum"})])
    text = obr.per_task_objectives(df, ["a", "b", "c"])
    assert text.startswith("a, b: distance sum\\_sq") and "; c: " in text
    assert "pair reduction sum" in text.split("; c: ")[1]


def test_exact_match_macros():
    from layerkd.report.paper_text import exact_match_macros

    teachers = pd.DataFrame({"task": ["scan", "mnist"], "test_exact_match": [93.0, np.nan]})
    summary = pd.DataFrame({"task": "scan", "init": "weight_copy", "strategy": ["forward"],
                            "mean": [23.08], "std": [0.7], "n": [3]})
    m = exact_match_macros(teachers, summary)
    assert m == {"ScanTeacherEm": "93.0", "ScanWeightCopyForwardEm": "23.1"}
