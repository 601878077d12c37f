"""A failing stage gets its previous outputs back (layerkd.safeguard)."""

import os
import shutil
from pathlib import Path

import pytest

from layerkd import safeguard
from layerkd.safeguard import BACKUP, FAILED, STAMP, kept_until_success, stage_notebook, stage_outputs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "res" / "a").mkdir(parents=True)
    (tmp_path / "res" / "a" / "m.json").write_text("old a")
    (tmp_path / "res" / "b.json").write_text("old b")
    (tmp_path / "notebooks" / "executed").mkdir(parents=True)
    (tmp_path / "notebooks" / "executed" / "s.ipynb").write_text("old notebook")
    return tmp_path


NOTEBOOK = Path("notebooks/executed/s.ipynb")  # what the stage's runner executes
OUTS = [Path("res"), NOTEBOOK, Path("metrics.json")]


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and ".dvc" not in p.parts and "failed" not in p.parts}


def test_a_failing_stage_gets_its_previous_outputs_back(repo):
    before = tree(repo)
    with pytest.raises(RuntimeError), kept_until_success("s@x", OUTS, notebook=NOTEBOOK):
        assert not Path("res").exists()  # the stage starts from nothing, as under DVC
        Path("res").mkdir()
        Path("res/new.json").write_text("half")
        Path("notebooks/executed/s.ipynb").write_text("failed notebook")
        raise RuntimeError("boom")
    assert tree(repo) == before
    assert (FAILED / "s.ipynb").read_text() == "failed notebook"
    assert not (BACKUP / "s@x").exists()


def test_only_the_runners_own_notebook_is_kept_as_the_failed_run(repo):
    """A notebook among a stage's other outputs is an output like any other: it
    comes back, and is not taken for the failed run's notebook."""
    other = Path("report.ipynb")
    other.write_text("old report")
    with pytest.raises(RuntimeError), kept_until_success("s@x", [*OUTS, other],
                                                         notebook=NOTEBOOK):
        other.write_text("half report")
        NOTEBOOK.write_text("failed notebook")
        raise RuntimeError("boom")
    assert other.read_text() == "old report" and NOTEBOOK.read_text() == "old notebook"
    assert (FAILED / "s.ipynb").read_text() == "failed notebook"
    assert not (FAILED / "report.ipynb").exists()


def test_a_successful_stage_keeps_its_new_outputs_only(repo):
    with kept_until_success("s@x", OUTS):
        Path("res").mkdir()
        Path("res/new.json").write_text("new")
    assert tree(repo) == {"res/new.json": "new"}  # what it did not write again is gone
    assert not (BACKUP / "s@x").exists()


RUNS = Path("results/t/students/random"), Path("models/t/students/random")
RESUMABLE_OUTS = [Path("results/t/students"), Path("models/t/students"), NOTEBOOK]


def write_run(strategy: str, what: str, stamp: str | None) -> None:
    """A student run as the distill stage writes it: folder (metrics, curves,
    stamp last) and checkpoint; ``stamp=None``: still training (pending)."""
    folder, ckpt = RUNS[0] / strategy / "seed0", RUNS[1] / f"{strategy}_seed0.pt"
    (folder / "live").mkdir(parents=True, exist_ok=True)
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    (folder / "live" / "curve.tsv").write_text(f"{what} curve")
    (folder / "metrics.json").write_text(f"{what} metrics")
    ckpt.write_text(f"{what} weights")
    if stamp is None:
        (folder / "settings.pending").write_text("new key")
    else:
        (folder / STAMP).write_text(stamp)


def run_state(strategy: str) -> dict[str, str]:
    folder, ckpt = RUNS[0] / strategy / "seed0", RUNS[1] / f"{strategy}_seed0.pt"
    files = {p.relative_to(folder).as_posix(): p.read_text()
             for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}
    return {**files, "checkpoint": ckpt.read_text() if ckpt.exists() else None}


def test_a_resumable_stage_keeps_whole_finished_runs_and_every_other_run_as_before(repo):
    """Settings changed, then the stage fails: a run it finished under the new
    settings stays whole; a run it had started again (folder removed, partly
    retrained) is exactly its old self again, old stamp included, so the next
    run cannot take old results for new ones; a run it kept is untouched."""
    for strategy in ("none", "forward", "reverse", "random"):
        write_run(strategy, "old", "old key")
    before = {s: run_state(s) for s in ("none", "forward", "reverse", "random")}
    with pytest.raises(KeyboardInterrupt), kept_until_success(
            "distill@t", RESUMABLE_OUTS, resume=True, notebook=NOTEBOOK):
        shutil.rmtree(RUNS[0] / "forward")  # started again and finished: new results
        write_run("forward", "new", "new key")
        shutil.rmtree(RUNS[0] / "reverse")  # started again, killed while training
        (RUNS[1] / "reverse_seed0.pt").unlink()
        write_run("reverse", "partial", None)
        (RUNS[1] / "reverse_seed0.pt").unlink()  # its best weights not saved yet
        shutil.rmtree(RUNS[0] / "random")  # removed to be started again, not yet begun
        (RUNS[1] / "random_seed0.pt").unlink()
        Path("results/t/students/weight_copy").mkdir()  # an output it had not written
        NOTEBOOK.write_text("failed notebook")
        raise KeyboardInterrupt
    assert run_state("none") == before["none"]
    assert run_state("forward") == {"live/curve.tsv": "new curve", "metrics.json":
                                    "new metrics", STAMP: "new key", "checkpoint": "new weights"}
    assert run_state("reverse") == before["reverse"]
    assert run_state("random") == before["random"]
    assert not Path("results/t/students/weight_copy").exists()
    assert NOTEBOOK.read_text() == "old notebook"
    assert (FAILED / "s.ipynb").read_text() == "failed notebook"


def test_a_resumable_stage_killed_outright_is_restored_the_same_way_at_its_next_start(repo):
    write_run("forward", "old", "old key")
    write_run("reverse", "old", "old key")
    before = run_state("reverse")
    backup = BACKUP / "distill@t"
    backup.mkdir(parents=True)
    (backup / safeguard.RESUME).touch()
    for out in RESUMABLE_OUTS:  # what the runner saved when the stage started
        safeguard._copy(out, backup / out)
    shutil.rmtree(RUNS[0] / "forward")
    write_run("forward", "new", "new key")
    shutil.rmtree(RUNS[0] / "reverse")
    write_run("reverse", "partial", None)  # a SIGKILL: nothing ran after this
    with kept_until_success("distill@t", RESUMABLE_OUTS, resume=True, notebook=NOTEBOOK):
        assert run_state("forward")["metrics.json"] == "new metrics"
        assert run_state("reverse") == before
    assert not backup.exists()


def test_run_checkpoint_inverts_the_run_layout():
    from layerkd.paths import run_paths, student_dirs

    for task, init, strategy, seed in [("mnist", "random", "forward", 0),
                                       ("numbers_ro", "weight_copy", "in_order_random", 12)]:
        folder, ckpt = run_paths(*student_dirs(task, init), strategy, seed)
        assert safeguard.run_checkpoint(folder) == ckpt


def test_after_a_kill_the_saved_outputs_come_back(repo):
    # a SIGKILL leaves the saved copy and a half-written output
    BACKUP.joinpath("s@x").mkdir(parents=True)
    os.rename("res", BACKUP / "s@x" / "res")
    Path("res").mkdir()
    Path("res/partial.json").write_text("half")
    assert safeguard.restore("s@x", OUTS)
    assert Path("res/a/m.json").read_text() == "old a" and not Path("res/partial.json").exists()
    assert not safeguard.restore("s@x", OUTS)  # nothing saved any more


def test_restore_command_names_a_stage_without_saved_outputs(repo, capsys):
    (repo / "dvc.yaml").write_text((ROOT / "dvc.yaml").read_text())
    assert safeguard.main(["restore", "teacher@mnist"]) == 1
    assert "no saved outputs" in capsys.readouterr().err
    assert safeguard.main(["restore"]) == 2


def test_stage_outputs_expand_foreach_items():
    outs = stage_outputs("distill@scan", ROOT / "dvc.yaml")
    assert Path("models/scan/students") in outs and Path("metrics/scan.json") in outs
    assert stage_outputs("aggregate", ROOT / "dvc.yaml")[0] == Path("paper/tables")
    with pytest.raises(KeyError, match="distil"):
        stage_outputs("distil@scan", ROOT / "dvc.yaml")


def test_stage_notebook_is_the_runners_output_argument():
    assert stage_notebook("distill@scan", ROOT / "dvc.yaml") == Path(
        "notebooks/executed/03_distill_scan.ipynb")
    assert stage_notebook("aggregate", ROOT / "dvc.yaml") == Path(
        "notebooks/executed/04_aggregate_1_results.ipynb")  # the first of its notebooks
    assert stage_notebook("check", ROOT / "dvc.yaml") is None  # no notebook runner


def test_every_output_in_dvc_yaml_persists():
    """DVC would delete a non-persistent output before the runner could save it (and
    a failed check its stamp, leaving every stage stale)."""
    import yaml

    for name, stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        body = stage.get("do", stage)
        for entry in body.get("outs", []) + body.get("metrics", []):
            assert isinstance(entry, dict) and next(iter(entry.values())).get("persist"), \
                (name, entry)
