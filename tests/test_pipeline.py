"""The whole DVC pipeline, end to end, on the smoke profile in a temporary copy."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerkd.aggregate import LABELS

ROOT = Path(__file__).resolve().parents[1]
# Outputs of the committed default run: left out so the copy starts from scratch.
GENERATED = ("dvc.lock", "data/", "models/", "results/", "metrics/", "paper/tables/",
             "paper/figures/", "notebooks/executed/")


def copy_repository(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.splitlines()
    for f in files:
        if f.startswith(GENERATED) or not (ROOT / f).is_file():
            continue
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest / f)
    shutil.copy(ROOT / "profiles" / "smoke.yaml", dest / "params.yaml")
    git = ["git", "-c", "user.email=smoke@example.invalid", "-c", "user.name=smoke"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "smoke"]):
        subprocess.run(git + cmd, cwd=dest, check=True)


def run_pipeline(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(["dvc", "repro", *args], cwd=repo, env=env, capture_output=True,
                          text=True)


@pytest.fixture(scope="module")
def smoke_repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("smoke")
    copy_repository(repo)
    result = run_pipeline(repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return repo


@pytest.mark.slow
def test_table_has_teacher_and_every_strategy_under_both_inits(smoke_repo):
    table = (smoke_repo / "paper" / "tables" / "results.md").read_text()
    assert "teacher" in table
    for init in ("random init", "weight copy"):
        for label in LABELS.values():
            assert f"{init}: {label}" in table
    latex = (smoke_repo / "paper" / "tables" / "results.tex").read_text()
    assert r"\begin{tabular}" in latex and "in-order random" in latex


@pytest.mark.slow
def test_figure_and_executed_notebooks_exist(smoke_repo):
    figure = smoke_repo / "paper" / "figures" / "strategies_mnist.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for nb in ("01_data", "02_teacher_mnist", "03_distill_mnist_random",
               "03_distill_mnist_weight_copy", "04_aggregate"):
        assert (smoke_repo / "notebooks" / "executed" / f"{nb}.ipynb").stat().st_size > 0


@pytest.mark.slow
def test_second_repro_is_a_no_op(smoke_repo):
    result = run_pipeline(smoke_repo)
    assert result.returncode == 0
    assert "Running stage" not in result.stdout
