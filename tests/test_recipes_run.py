"""Every `dvc exp run -S ...` recipe of the documents (README.md, docs/*.md), run for
real on the smoke profile.

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

# Recipes written for the default profile's sizes (12-block, 64-wide teachers): on
# the smoke profile (4-block, 16-wide teachers) the check refuses them, naming the
# key, before any stage runs. assignment -> the expected message.
DEFAULT_SIZES_ONLY = {
    "distill.all_to_one_target=12": "distill.all_to_one_target=12 is not allowed: use 1..4",
    "ablations.depths=[1,2,3,4,6,9,12]": "ablations.depths: [6, 9, 12] not allowed; allowed "
                                         "values: 1..4",
    "ablations.depths=[1,2,3,4,6]": "ablations.depths: [6] not allowed; allowed values: 1..4",
    "ablations.widths=[16,32,48]": "ablations.widths: [32, 48] not allowed; allowed values: "
                                   "multiples of model.heads=2 in 8..16",
}


@pytest.fixture(scope="module")
def finished_smoke(tmp_path_factory):
    repo = tmp_path_factory.mktemp("recipes_base")
    copy_repository(repo)
    result = run_pipeline(repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return repo


UNIQUE = [list(r) for r in dict.fromkeys(tuple(r) for r in recipes())]  # one run per recipe


@pytest.mark.parametrize("assignments", UNIQUE, ids=lambda a: " ".join(a)[:60])
def test_recipe_runs_on_the_smoke_profile(assignments, finished_smoke, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(finished_smoke, repo, symlinks=True)
    before = {p: p.stat().st_mtime_ns for p in (repo / "paper" / "tables").glob("*.md")}
    cmd = ["dvc", "exp", "run"] + [w for a in assignments for w in ("-S", a)]
    result = subprocess.run(cmd, cwd=repo, env=pipeline_env(), capture_output=True, text=True)
    refused = [DEFAULT_SIZES_ONLY[a] for a in assignments if a in DEFAULT_SIZES_ONLY]
    if refused:
        out = result.stdout + result.stderr
        assert result.returncode != 0 and refused[0] in out, out[-4000:]
        ran = [line for line in result.stdout.splitlines() if line.startswith("Running stage")]
        assert ran == ["Running stage 'check':"], ran
        assert all(p.stat().st_mtime_ns == t for p, t in before.items())
        return
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert problems(repo / "params.yaml") == []  # the recipe's values are what ran
    status = subprocess.run(["dvc", "status", "--quiet"], cwd=repo, env=pipeline_env())
    assert status.returncode == 0, "the experiment left stages out of date"
    tables = sorted((repo / "paper" / "tables").glob("*.md"))
    assert tables and all(p.stat().st_size > 0 for p in tables)
