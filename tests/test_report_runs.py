"""A distill stage's runs read back for its notebook (layerkd.report.runs): trained and
kept runs told apart, every run's curves drawn, tables rounded, and the spread of
the interpretation the one of report.stats."""

import json
import os

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from layerkd.report import runs  # noqa: E402
from layerkd.report.stats import spread  # noqa: E402

INITS, STRATEGIES, SEEDS = ["random", "weight_copy"], ["none", "forward", "reverse",
                                                       "in_order_random"], [0, 1]
# test accuracy per (init, strategy): `none` far below, in-order random far above, so
# a spread over all strategies would differ from the paper's matching strategies'
MEANS = {"none": 60.0, "forward": 80.0, "reverse": 78.5, "in_order_random": 95.0}


def write_run(task, init, strategy, seed, acc, epochs=8, best=6):
    folder = runs.run_folders(task, [init], [strategy], [seed])[0][3]
    curves = folder / "live" / "plots" / "metrics"
    for key, values in {"train/total": [2.0 / (e + 1) for e in range(epochs)],
                        "val/acc": [acc - epochs + e for e in range(epochs)]}.items():
        path = curves / f"{key}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        name = key.split("/")[1]
        path.write_text(f"step\t{name}\n" + "".join(f"{e}\t{v}\n" for e, v in enumerate(values)))
    (folder / "metrics.json").write_text(json.dumps({
        "test_acc": acc, "val_acc": acc + 0.5, "best_epoch": best, "epochs": epochs,
        "hid_share_last": 0.0 if strategy == "none" else 0.4}))
    return folder


@pytest.fixture
def task_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the package's result paths are relative to the repository
    for init in INITS:
        for strategy in STRATEGIES:
            for seed in SEEDS:
                write_run("toy", init, strategy, seed, MEANS[strategy] + seed
                          + (5 if init == "weight_copy" else 0))
    return runs.record_times("toy", INITS, STRATEGIES, SEEDS)


def table(before):
    return runs.run_table("toy", INITS, STRATEGIES, SEEDS, "acc", before)


def test_runs_whose_record_is_rewritten_count_as_trained(task_runs):
    rewritten = write_run("toy", "random", "forward", 1, 81.0)
    os.utime(rewritten / "metrics.json", ns=(1, task_runs[rewritten] + 10**9))
    missing_before = dict(task_runs)
    missing_before[runs.run_folders("toy", ["weight_copy"], ["none"], [0])[0][3]] = None
    t = table(missing_before)
    trained = t[t["run"] == "trained"][["init", "strategy", "seed"]].values.tolist()
    assert trained == [["random", "forward", 1], ["weight_copy", "none", 0]]
    assert len(t) == len(INITS) * len(STRATEGIES) * len(SEEDS)
    assert t["best epoch"].eq(7).all()  # 1-based: the record's best_epoch is an index


def test_every_run_has_its_loss_and_validation_curve(task_runs):
    t = table(task_runs)
    fig = runs.plot_curves("toy", t, "acc", teacher=99.0)
    axes = fig.axes
    assert len(axes) == 2 * len(INITS) * len(STRATEGIES)
    loss_axes = [ax for ax in axes if ax.get_yscale() == "log"]
    assert len(loss_axes) == len(INITS) * len(STRATEGIES)
    for ax in axes:
        assert len([ln for ln in ax.get_lines() if ln.get_label().startswith("seed")]) == \
            len(SEEDS)
    val_axes = [ax for ax in axes if ax.get_yscale() == "linear"]
    assert all(any(ln.get_label() == "teacher" for ln in ax.get_lines()) for ax in val_axes)
    assert {ax.get_title() for ax in loss_axes} >= {"random init: forward",
                                                    "weight copy: in-order random (RAIL-KD)"}


def test_tables_render_rounded_with_labels(task_runs):
    html = runs.styled(runs.summary(table(task_runs), "acc")).to_html()
    assert "<table" in html and "in-order random (RAIL-KD)" in html
    assert "80.50" in html and "80.500" not in html  # forward, random init: mean of 80, 81


def test_the_interpretation_uses_the_matching_strategies_spread(task_runs):
    t = table(task_runs)
    text = runs.interpretation(t, "acc", 99.0, "toy")
    means = runs.summary(t, "acc").query("init == 'random'").set_index("strategy")["mean"]
    assert spread(means) == pytest.approx(1.5)  # forward vs reverse only
    assert "span 1.50 accuracy points (best forward 80.50, worst reverse 79.00)" in text
    assert "Every strategy is above `none` (60.50): +18.50 to +35.00." in text
    assert text.startswith("**Runs.** All 16 runs were kept")
    assert "Weight copy changes the mean by +5.00 to +5.00" in text
    assert "**Checkpoints.** 16 of 16 runs kept weights from the last quarter" in text


def test_the_interpretation_counts_trained_runs_and_strategies_below_none(task_runs):
    t = table({})  # nothing existed before: all trained
    t.loc[(t["strategy"] == "reverse") & (t["init"] == "random"), "test acc"] = 50.0
    text = runs.interpretation(t, "acc", None, "toy")
    assert text.startswith("**Runs.** 16 of 16 runs were trained in this execution.")
    assert "below it: reverse." in text and "teacher" not in text


def test_one_seed_and_one_initialisation_read_without_noise_claims(tmp_path, monkeypatch):
    """The paper profile's stand-in runs: one seed, no std to compare with."""
    monkeypatch.chdir(tmp_path)
    for strategy in ["none", "forward", "reverse"]:
        write_run("toy", "random", strategy, 0, MEANS[strategy])
    t = runs.run_table("toy", ["random"], ["none", "forward", "reverse"], [0], "acc", {})
    text = runs.interpretation(t, "acc", 90.0, "toy")
    assert "span 1.50 accuracy points (best forward 80.00, worst reverse 78.50)." in text
    assert "seed std" not in text and "Seed noise" not in text and "Initialisation" not in text
    assert len(runs.plot_curves("toy", t, "acc").axes) == 2 * 3
