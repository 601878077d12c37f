"""The documents (README.md, docs/*.md) name only what exists, and the commands
they show work.

A name goes stale when the thing it names is renamed, moved or removed while the
text stays: a test (`tests/<file>.py::<name>` or a bare backticked `test_...`), a
pytest marker (`-m slow`, `pytest.mark.<name>`), a repository path in backticks
or a relative link (with its `#anchor`), a `params.yaml` key in backticks
(`distill.transfer_size`, `data.<task>.n_pool`). Each is resolved here against
the repository, the package and the parameter schema; a paragraph that calls a
named test an expected failure (`xfail`) must name one that is marked so.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "layerkd"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Outputs that exist only after a run (not in git): a path under them is not
# checked unless it is package code (.py).
GENERATED = ("data/", "models/", "data_hub/", "tmp/", ".dvc/", ".submitit/",
             "notebooks/executed/failed/", "paper/hub/", "notebooks/executed/hub_")
BUILTIN_MARKERS = {"xfail", "skip", "skipif", "parametrize", "usefixtures", "filterwarnings"}
SUFFIXES = r"\.(py|md|yaml|yml|json|tex|png|csv|toml|txt|ipynb|cff|pdf|tsv|npz|pt|sh|lock)$"


def prose(text: str) -> str:
    """The text without fenced code blocks (commands and listings, not names)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def backticked(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", prose(text))


def top_level() -> set[str]:
    """First components of the repository's tracked paths and of the package."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    return ({p.split("/")[0] for p in tracked} | {p.name for p in PACKAGE.iterdir()}
            | {g.split("/")[0] for g in GENERATED})


def expansions(path: str) -> list[str]:
    """A path with placeholders as globs: `<task>` -> `*`, `{a,b}` -> both."""
    path = re.sub(r"<[^>]+>", "*", path)
    parts = re.split(r"\{([^}]*)\}", path)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def path_exists(path: str, roots=(ROOT, PACKAGE)) -> bool:
    for pattern in expansions(path.rstrip("/")):
        for root in roots:
            if any(True for _ in root.glob(pattern)) if "*" in pattern else (root / pattern).exists():
                return True
    return False


def stale_paths(text: str, tops: set[str]) -> list[str]:
    found = []
    for token in backticked(text):
        if " " in token or "/" not in token or "://" in token or "::" in token:
            continue  # a command, a bare file name, an address or a test (stale_tests)
        first = token.split("/")[0]
        if first not in tops:
            continue  # another repository's path (the authors' code, a Hub name)
        if token.startswith(GENERATED) and not token.endswith(".py"):
            continue
        if not path_exists(token):
            found.append(f"path `{token}`")
    return found


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def stale_links(text: str, doc: Path) -> list[str]:
    found = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(text)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        dest = (doc.parent / file).resolve() if file else doc
        if not dest.exists():
            found.append(f"link `{target}`")
        elif anchor and dest.suffix == ".md":
            headings = re.findall(r"^#+ (.*)$", prose(dest.read_text()), flags=re.M)
            if anchor not in {slug(h) for h in headings}:
                found.append(f"link `{target}` (no such heading)")
    return found


def record_keys() -> set[str]:
    """The keys of committed run records (`test_acc`, `test_exact_match`): scores
    named like tests, but not tests."""
    keys = set()
    for record in ROOT.glob("results/*/students/*/*/seed0/metrics.json"):
        keys |= set(json.loads(record.read_text()))
    return keys


def defined_tests() -> dict[str, str]:
    """test name -> the source of its file, for every test module."""
    out = {}
    for file in sorted((ROOT / "tests").glob("test_*.py")):
        source = file.read_text()
        for name in re.findall(r"^(?:async )?def (test_\w+)", source, flags=re.M):
            out[name] = f"tests/{file.name}"
    return out


def is_xfail(name: str, file: str) -> bool:
    """Whether the test's decorators (the lines just above its def) mark it xfail."""
    source = (ROOT / file).read_text()
    head = source[:source.index(f"def {name}(")]
    decorators = re.split(r"\n(?:def|class) |\n\n\n", head)[-1]
    return "xfail" in decorators


def stale_tests(text: str, tests: dict[str, str]) -> list[str]:
    found, scores = [], record_keys()
    for token in backticked(text):
        match = re.fullmatch(r"(tests/\w+\.py)::(\w+)", token)
        if match and tests.get(match.group(2)) != match.group(1):
            found.append(f"test `{token}`")
        elif re.fullmatch(r"test_\w+", token) and token not in tests and token not in scores:
            found.append(f"test `{token}`")
    sentences = re.split(r"(?<=\.)\s+(?=[A-Z`(*])|\n\n", prose(text))
    for sentence in sentences:
        if "xfail" not in sentence:
            continue
        for name in re.findall(r"`(?:tests/\w+\.py::)?(test_\w+)`", sentence):
            if name in tests and not is_xfail(name, tests[name]):
                found.append(f"test `{name}` is called an expected failure but has no xfail")
    return found


def registered_markers() -> set[str]:
    import tomllib

    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    return {m.split(":")[0].strip() for m in ini.get("markers", [])} | BUILTIN_MARKERS


def stale_markers(text: str, markers: set[str]) -> list[str]:
    named = re.findall(r"pytest\.mark\.(\w+)", text)
    named += [w for expr in re.findall(r"pytest\b[^\n`]*?\s-m\s+(\"[^\"]+\"|'[^']+'|\w+)", text)
              for w in re.findall(r"\w+", expr) if w not in ("not", "and", "or")]
    return [f"marker `{m}`" for m in named if m not in markers]


def key_resolves(tp, parts: list[str]) -> bool:
    """Whether the dotted key `parts` names a field under the schema type `tp`."""
    if not parts:
        return True
    origin = typing.get_origin(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(key_resolves(t, parts) for t in typing.get_args(tp) if t is not type(None))
    if origin is dict:
        return key_resolves(typing.get_args(tp)[1], parts[1:])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        head, rest = parts[0], parts[1:]
        if head.startswith("<"):  # a placeholder: any field will do
            return any(key_resolves(f.annotation, rest) for f in tp.model_fields.values())
        fields = {f.alias or n: f for n, f in tp.model_fields.items()} | tp.model_fields
        return head in fields and key_resolves(fields[head].annotation, rest)
    return False


def names_code(parts: list[str]) -> bool:
    """Whether `a.b...` is a package module or something one defines (`distill.threads`,
    `hub.point_profile`), not a parameter."""
    base = PACKAGE.joinpath(*parts[:1])
    if PACKAGE.joinpath(*parts[:2]).with_suffix(".py").exists() or \
            PACKAGE.joinpath(*parts[:2]).is_dir():
        return True
    sources = list(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
    pattern = re.compile(rf"^\s*(?:def |class )?{re.escape(parts[1])}\b", re.M)
    return any(pattern.search(s.read_text()) for s in sources if s.exists())


def stale_keys(text: str) -> list[str]:
    from layerkd.config.params import Params

    found = []
    for token in backticked(text):
        key = token.split("=")[0].lstrip("+")
        if not re.fullmatch(r"[a-z_]+(\.(<\w+>|\w+))+", key) or re.search(SUFFIXES, key):
            continue
        parts = key.split(".")
        if parts[0] not in Params.model_fields:
            continue  # not a parameter (a module, an attribute)
        if not key_resolves(Params, parts) and not names_code(parts):
            found.append(f"parameter `{key}`")
    return found


def stale_names(doc: Path, text: str | None = None) -> list[str]:
    """Everything the document names that does not exist."""
    text = doc.read_text() if text is None else text
    return (stale_tests(text, defined_tests()) + stale_markers(text, registered_markers())
            + stale_paths(text, top_level()) + stale_links(text, doc) + stale_keys(text))


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_a_document_names_only_what_exists(doc):
    found = stale_names(doc)
    assert not found, f"{doc.name} names what does not exist:\n" + "\n".join(found)


def test_the_checks_find_planted_stale_names():
    """Each kind of name, planted stale in a copy of README.md, is reported."""
    readme = ROOT / "README.md"
    planted = readme.read_text() + "\n".join([
        "", "Planted: `tests/test_docs.py::test_that_was_renamed`, `test_no_such_test`,",
        "`pytest -m nightly`, `src/layerkd/report/gone.py`, `stages/old.py`,",
        "[a link](docs/nowhere.md), [an anchor](docs/results.md#no-such-heading),",
        "`distill.no_such_key`, `data.<task>.n_pools`.", "",
        "`tests/test_docs.py::test_a_document_names_only_what_exists` is an xfail.", ""])
    found = stale_names(readme, planted)
    assert found == [
        "test `tests/test_docs.py::test_that_was_renamed`", "test `test_no_such_test`",
        "test `test_a_document_names_only_what_exists` is called an expected failure but "
        "has no xfail",
        "marker `nightly`", "path `src/layerkd/report/gone.py`", "path `stages/old.py`",
        "link `docs/nowhere.md`", "link `docs/results.md#no-such-heading` (no such heading)",
        "parameter `distill.no_such_key`", "parameter `data.<task>.n_pools`"], found


def test_names_that_exist_pass():
    text = ("`tests/test_docs.py::test_names_that_exist_pass`, `pytest -m \"not slow\"`, "
            "`src/layerkd/report/curves.py`, `distill/run.py`, `results/<task>/students/`, "
            "`notebooks/executed/03_distill_<task>.ipynb`, `distill.transfer_size`, "
            "`data.<task>.n_pool`, `overrides.<task>`, `hub.datasets.<task>.max_train`, "
            "`distill.threads` (a module), `llm/sft_trainer.py` (the authors' code), "
            "[results](docs/results.md#what-the-numbers-say)")
    assert stale_names(ROOT / "README.md", text) == []


def papermill_line() -> str:
    """The one-line jupytext + papermill command that docs/development.md shows."""
    lines = [line.strip() for line in (ROOT / "docs" / "development.md").read_text().splitlines()
             if line.strip().startswith("jupytext ") and "| papermill" in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_the_documented_papermill_line_runs_a_notebook_source(tmp_path):
    """`papermill notebooks/02_teacher.py ...` fails (papermill reads only .ipynb); the
    documented line converts the source on the way in. Run as written, on the smoke
    profile's `digits` with its data built, in a scratch repository."""
    from layerkd.config import load_params
    from layerkd.data.generate import build_data

    line = papermill_line()
    (tmp_path / "notebooks").mkdir()
    source = shlex.split(line.split("|")[0])[-1]
    (tmp_path / source).write_text((ROOT / source).read_text())
    (tmp_path / "params.yaml").write_text((ROOT / "profiles" / "smoke.yaml").read_text())
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")  # marks the repository root
    task = shlex.split(line)[-1]
    build_data(task, load_params(tmp_path / "params.yaml"), tmp_path / "data")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = yaml.safe_load((tmp_path / "out.ipynb").read_text())  # JSON is YAML
    assert out["metadata"]["papermill"]["parameters"] == {"task_name": task}
    assert (tmp_path / "results" / task / "teacher" / "metrics.json").exists()
