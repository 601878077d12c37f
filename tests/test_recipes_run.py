"""Every `dvc exp run -S ...` recipe of the README, run for real on the smoke profile.

Each recipe runs through the user's own entry point (`dvc exp run -S ...`) in its
own copy of a finished smoke repository, so DVC reruns exactly the stages the
recipe changes. About half an hour in all: not part of `make test`; run with
`make recipes` (or `pytest --recipes -m recipes`).
"""

import shutil
import subprocess

import pytest
from test_pipeline import copy_repository, pipeline_env, run_pipeline
from test_readme_recipes import recipes

from layerkd.check import problems

pytestmark = pytest.mark.recipes


@pytest.fixture(scope="module")
def finished_smoke(tmp_path_factory):
    repo = tmp_path_factory.mktemp("recipes_base")
    copy_repository(repo)
    result = run_pipeline(repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return repo


@pytest.mark.parametrize("assignments", recipes(), ids=lambda a: " ".join(a)[:60])
def test_recipe_runs_on_the_smoke_profile(assignments, finished_smoke, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(finished_smoke, repo, symlinks=True)
    before = {p: p.stat().st_mtime_ns for p in (repo / "paper" / "tables").glob("*.md")}
    cmd = ["dvc", "exp", "run"] + [w for a in assignments for w in ("-S", a)]
    result = subprocess.run(cmd, cwd=repo, env=pipeline_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert problems(repo / "params.yaml") == []  # the recipe's values are what ran
    status = subprocess.run(["dvc", "status", "--quiet"], cwd=repo, env=pipeline_env())
    assert status.returncode == 0, "the experiment left stages out of date"
    tables = sorted((repo / "paper" / "tables").glob("*.md"))
    assert tables and all(p.stat().st_size > 0 for p in tables)
    # the aggregation ran again on the experiment's results
    assert any(p.stat().st_mtime_ns != before.get(p) for p in tables)
