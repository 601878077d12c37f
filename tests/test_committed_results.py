"""The committed outputs of the default run agree with its parameters.

These read what `dvc repro` wrote and committed (metrics/summary.json), not a
fresh run: they fail when params.yaml lists a task whose results were never
committed, or when the committed default breaks the calibration rule (the
teacher must lead the random-init `none` student by >= 5 points on average).
"""

import json
from pathlib import Path

import pytest

from layerkd.config import load_params

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = ROOT / "metrics" / "summary.json"


@pytest.fixture(scope="module")
def committed():
    if not SUMMARY.exists():
        pytest.skip("metrics/summary.json not generated yet (run dvc repro)")
    return json.loads(SUMMARY.read_text()), load_params(ROOT / "params.yaml")


def test_every_default_task_has_committed_results(committed):
    summary, params = committed
    assert set(summary["calibration"]) == set(params.tasks)
    for task in params.tasks:
        for init in params.distill.inits:
            for strategy in params.distill.strategies:
                cell = summary["students"][f"{task}/{init}/{strategy}"]
                assert cell["n"] == len(params.distill.seeds), (task, init, strategy)


def test_headline_spread_has_every_task_and_matches_the_cells(committed):
    """metrics/spread.json (the `dvc exp show` columns): per task, best minus worst
    random-init mean of the paper's matching strategies, from the same cells."""
    from layerkd.report.stats import MATCHING

    summary, params = committed
    spread = json.loads((ROOT / "metrics" / "spread.json").read_text())
    assert set(spread) == set(params.tasks)
    for task, value in spread.items():
        means = [summary["students"][f"{task}/random/{s}"]["mean"] for s in MATCHING
                 if f"{task}/random/{s}" in summary["students"]]
        assert value == pytest.approx(max(means) - min(means)), task


def test_calibration_holds_for_every_default_task(committed):
    summary, _ = committed
    leads = {t: c["teacher_lead"] for t, c in summary["calibration"].items()}
    assert all(lead >= 5 for lead in leads.values()), leads


def test_committed_none_students_converged():
    """Committed results: every `none` run's validation curve gains less than 0.5
    points over the last quarter of its epochs (layerkd.report.objective)."""
    from layerkd.report.objective import CONVERGENCE_THRESHOLD, none_gains

    params = load_params(ROOT / "params.yaml")
    gains = none_gains(ROOT / "results", params.tasks)
    if gains.empty:
        pytest.skip("no committed none curves")
    late = gains[~(gains["gain"] < CONVERGENCE_THRESHOLD)]
    assert late.empty, late.to_string()


@pytest.mark.xfail(reason="committed results: on numbers_ro the 1-block none student "
                   "(93.4 +- 2.5 BLEU) beats the 3-block default (88.1 +- 1.7) on the 100 "
                   "fine-tuning pairs, as it did in every recipe probed on 100 and 150 pairs "
                   "(docs/results.md, 'Convergence check'); an open item", strict=True)
def test_committed_default_depth_none_not_beaten_by_a_shallower_one():
    """Committed results: no shallower `none` student of the depth ablation beats the
    default-depth one by more than seed noise (report.objective.beats_by_noise)."""
    from layerkd.report.collect import collect
    from layerkd.report.objective import shallower_verdict

    params = load_params(ROOT / "params.yaml")
    if not list((ROOT / "results").glob("*/ablations/depth*")):
        pytest.skip("no committed depth ablation")
    _, students = collect(ROOT / "results")
    verdicts = {(t, i): shallower_verdict(ROOT / "results", students, t, i)
                for t in params.ablations.tasks for i in params.distill.inits}
    beaten = {k: v for k, v in verdicts.items() if v.startswith("yes")}
    assert not beaten, beaten


def test_readme_tables_are_the_generated_ones():
    """Every table of README.md or docs/*.md under a heading naming
    `paper/tables/<name>.md` equals that file (after `dvc repro`: python -m
    layerkd.readme_tables)."""
    from layerkd.readme_tables import documents, stale_everywhere

    assert any("(`paper/tables/" in d.read_text() for d in documents(ROOT) if d.exists())
    assert stale_everywhere(ROOT) == []


def test_committed_decoder_only_runs_are_complete_and_calibrated():
    """Every `llm` run the parameters ask for is committed; lm-eval's scores equal
    the native scorer's on each; the teacher leads the weight-copied `none`
    student by >= 5 points on both scores (the calibration rule)."""
    from layerkd.report.llm import collect_llm

    params = load_params(ROOT / "params.yaml")
    if not (ROOT / "results" / "facts" / "teacher" / "metrics.json").exists():
        pytest.skip("the decoder-only task's results are not committed")
    teacher, students = collect_llm(ROOT / "results", params.llm)
    d = params.llm.distill
    assert len(students) == len(d.inits) * len(d.strategies) * len(d.seeds)
    for _, run in [*teacher.iterrows(), *students.iterrows()]:
        for score in ("mc", "em"):
            assert run[f"test_{score}"] == pytest.approx(run[f"test_{score}_native"], abs=1e-4)
    none = students[(students["strategy"] == "none") & (students["init"] == "weight_copy")]
    for score in ("test_mc", "test_em"):
        assert teacher[score].iloc[0] - none[score].mean() >= 5, score
