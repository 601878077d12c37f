"""The documents' copies of the generated tables, kept equal to `paper/tables/`.

A heading of README.md or of a page of docs/ that names a generated table,
``### ... (`paper/tables/NAME.md`)``, is followed (before the next heading) by a
copy of that table; ``sync`` replaces each copy with the current file after
``dvc repro``, ``stale`` lists the copies that differ
(tests/test_committed_results.py fails on any).

    python -m layerkd.readme_tables            # rewrite every document's table copies
    python -m layerkd.readme_tables --check    # exit 1 if a copy is stale
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HEADING = re.compile(r"^#{2,4} .*\(`(paper/tables/[\w-]+\.md)`\)\s*$")


def documents(root: Path) -> list[Path]:
    """The documents that may hold table copies: README.md and docs/*.md."""
    return [root / "README.md"] + sorted((root / "docs").glob("*.md"))


def _blocks(lines: list[str]):
    """(table file, first line, end line) of each table copy under a naming heading."""
    for i, line in enumerate(lines):
        match = HEADING.match(line)
        if not match:
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("|") and not lines[j].startswith("#"):
            j += 1
        if j == len(lines) or lines[j].startswith("#"):
            continue  # a heading without a table copy
        end = j
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        yield match.group(1), j, end


def stale(readme: Path, root: Path) -> list[str]:
    """The tables whose copy in the document ``readme`` differs from the generated file."""
    lines = readme.read_text().splitlines()
    return [name for name, start, end in _blocks(lines)
            if lines[start:end] != (root / name).read_text().strip().splitlines()]


def sync(readme: Path, root: Path) -> list[str]:
    """Replace every stale copy with its generated table; returns their names."""
    lines = readme.read_text().splitlines()
    changed = []
    for name, start, end in reversed(list(_blocks(lines))):
        table = (root / name).read_text().strip().splitlines()
        if lines[start:end] != table:
            lines[start:end] = table
            changed.append(name)
    if changed:  # an up-to-date document is left untouched
        readme.write_text("\n".join(lines) + "\n")
    return changed[::-1]


def stale_everywhere(root: Path) -> list[str]:
    """``document: table`` for every stale copy in README.md and docs/*.md."""
    return [f"{doc.relative_to(root)}: {name}" for doc in documents(root) if doc.exists()
            for name in stale(doc, root)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=".", help="the repository (README.md, docs/, paper/)")
    ap.add_argument("--check", action="store_true", help="only report stale copies")
    args = ap.parse_args(argv)
    root = Path(args.root)
    found = []
    for doc in (d for d in documents(root) if d.exists()):
        names = stale(doc, root) if args.check else sync(doc, root)
        found += [f"{doc.relative_to(root)}: {name}" for name in names]
    for line in found:
        print(("stale: " if args.check else "updated: ") + line)
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
