"""Every stage of dvc.yaml lists, as deps, each package module its notebook
imports (directly or through other modules, lazy imports included): a change
to any code a stage runs must rerun that stage."""

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "layerkd"


def imported_modules(path: Path) -> set[str]:
    """layerkd modules named by the import statements of one file (any depth)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1 or module.startswith("layerkd"):
                base = module.removeprefix("layerkd").lstrip(".")
                if base:
                    out.add(base.split(".")[0])
                else:  # from layerkd import a, b / from . import a
                    out.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names
                       if a.name.startswith("layerkd."))
    return {m for m in out if (PKG / f"{m}.py").exists()}


def closure(start: set[str]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += imported_modules(PKG / f"{m}.py")
    return seen


def stages():
    for name, stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        body = stage.get("do", stage)
        yield name, re.search(r"notebooks/\S+\.py", body["cmd"]).group(), body["deps"]


@pytest.mark.parametrize("name,notebook,deps", list(stages()), ids=lambda v: str(v)[:20])
def test_stage_deps_cover_the_code_it_runs(name, notebook, deps):
    needed = closure(imported_modules(ROOT / notebook) - {"notebook"})
    listed = {Path(d).stem for d in deps if str(d).startswith("src/layerkd/")}
    missing = sorted(needed - listed)
    assert not missing, f"stage {name}: add src/layerkd/{{{','.join(missing)}}}.py to its deps"
    assert notebook in deps


def test_closure_follows_lazy_imports():
    assert "generation" in closure({"stages"})  # imported inside a function
    assert {"config", "io"} <= closure({"experiment"})
