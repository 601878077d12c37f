"""Every `dvc exp run -S ...` recipe of the documents (README.md, docs/*.md) is a
valid parameter set: applied to params.yaml by DVC's own code, it passes
`layerkd.check` (so no recipe fails on a typo, a removed key or a value the
schema refuses). The smoke pipeline runs
the one that once crashed the aggregation (`tests/test_pipeline.py`)."""

import re
import shlex
import shutil
from pathlib import Path

import pytest
from layerkd.check import problems

ROOT = Path(__file__).resolve().parents[1]


def documents() -> list[Path]:
    """README.md and the pages of docs/ (the recipes live in docs/configuration.md)."""
    return [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def recipes() -> list[list[str]]:
    """The -S assignments of each `dvc exp run` in the documents (code blocks and inline)."""
    out = []
    lines = [line for doc in documents() for line in doc.read_text().splitlines()]
    for line in lines:
        for match in re.finditer(r"dvc exp run((?:\s+-S\s+(?:'[^']*'|[^\s`']+))+)", line):
            words = [w for w in shlex.split(match.group(1)) if w != "-S"]
            if all("=" in w for w in words):  # not a placeholder such as `-S ...`
                out.append(words)
    return out


def test_the_documents_have_recipes():
    assert len(recipes()) >= 15


@pytest.mark.parametrize("assignments", recipes(), ids=lambda a: " ".join(a)[:60])
def test_recipe_is_a_valid_parameter_set(assignments, tmp_path):
    from dvc.utils.hydra import apply_overrides

    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    apply_overrides(path, assignments)  # what `dvc exp run -S` does to params.yaml
    assert problems(path) == []
