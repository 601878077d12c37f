"""Every stage of dvc.yaml lists, as deps, the package code its notebook runs
(each module it imports, directly or through other modules, lazy imports
included: a file, or a folder holding it), so any code change reruns that
stage; and the stages stay narrow: a figure change reruns only the report
stages, a change to the student loop never reruns a teacher."""

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "layerkd"
# the runner every stage starts through, and the package's docstring-only root
NOT_RUN = {"layerkd.notebook", "layerkd"}


def module_file(module: str) -> Path | None:
    path = PKG.joinpath(*module.split(".")[1:])
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """layerkd modules (dotted) that the import statements of one file load."""
    if path.is_relative_to(PKG):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    else:
        package = "layerkd"  # a notebook: absolute imports only
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                full = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("layerkd"):
                full = node.module
            else:
                continue
            out.add(full)
            out.update(f"{full}.{a.name}" for a in node.names)  # submodules named
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("layerkd"))
    found = {m for m in out if module_file(m)}
    # importing a.b.c runs the packages a.b and a too
    return found | {".".join(m.split(".")[:i]) for m in found
                    for i in range(2, m.count(".") + 1)}


def closure(start: set[str]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += imported_modules(module_file(m))
    return seen - NOT_RUN


def stages():
    """(name, a file the stage runs: a notebook source or a module, its deps); a
    stage that runs several notebooks in sequence (aggregate) once per notebook."""
    for name, stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        body = stage.get("do", stage)
        notebooks = re.findall(r"notebooks/\S+\.py", body["cmd"])
        entries = notebooks or [str(module_file(
            re.search(r"-m (layerkd\.\S+)", body["cmd"]).group(1)).relative_to(ROOT))]
        for entry in entries:
            yield name, entry, body["deps"]


def covered(path: Path, deps) -> bool:
    rel = path.relative_to(ROOT)
    return any(rel == Path(d) or Path(d) in rel.parents for d in deps)


def code_of(notebook: str) -> set[Path]:
    return {module_file(m) for m in closure(imported_modules(ROOT / notebook))}


@pytest.mark.parametrize("name,notebook,deps", list(stages()), ids=lambda v: str(v)[:20])
def test_stage_deps_cover_the_code_it_runs(name, notebook, deps):
    missing = sorted(str(p.relative_to(ROOT)) for p in code_of(notebook) if not covered(p, deps))
    assert not missing, f"stage {name}: add {missing} to its deps"
    assert notebook in deps


STUDENT_LOOP = ["distill/run.py", "distill/together.py", "distill/stacked.py",
                "distill/stacked_forward.py", "distill/threads.py", "distill/engines.py"]
FIGURES = ["report/figures.py", "report/style.py", "report/tables.py"]


@pytest.mark.parametrize("name,notebook,deps", list(stages()), ids=lambda v: str(v)[:20])
def test_stages_stay_narrow(name, notebook, deps):
    if name in ("data", "teacher"):
        assert not [f for f in STUDENT_LOOP if covered(PKG / f, deps)], name
        assert not [f for f in STUDENT_LOOP if PKG / f in code_of(notebook)], name
    if name not in ("aggregate", "angles"):
        assert not [f for f in FIGURES if covered(PKG / f, deps)], name


@pytest.mark.parametrize("name,notebook,deps", list(stages()), ids=lambda v: str(v)[:20])
def test_every_stage_waits_for_the_parameter_check(name, notebook, deps):
    """A bad params.yaml stops the pipeline at `check`, before DVC removes any output."""
    assert (name == "check") != ("results/params.ok" in deps), name


def test_closure_follows_lazy_and_relative_imports():
    assert "layerkd.families" in closure({"layerkd.tasks"})  # imported inside a method
    assert {"layerkd.config", "layerkd.io", "layerkd.distill.objective"} <= closure(
        {"layerkd.distill.run"})
    assert "layerkd.models.beam_search" in closure({"layerkd.models"})


HUB_FAMILY_MODULES = {"layerkd.families.hub", "layerkd.families.hub_lm"}


def test_the_hub_families_are_loaded_on_demand_and_their_stages_list_them():
    """``families.family`` imports the hub families by name (importlib), so the
    import analysis above does not see them: the embedded stages do not run them,
    the hub stages that build models must list their code."""
    from layerkd.families import HUB_FAMILIES

    assert {f"layerkd.families.{m}" for m in HUB_FAMILIES.values()} == HUB_FAMILY_MODULES
    hub_code = closure(HUB_FAMILY_MODULES)
    for name, _, deps in stages():
        if name in ("hub_teacher", "hub_distill"):
            missing = sorted(m for m in hub_code if not covered(module_file(m), deps))
            assert not missing, f"stage {name}: add {missing} to its deps"
