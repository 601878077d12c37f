"""The README's copies of the generated tables, kept equal to `paper/tables/`.

A README heading that names a generated table, ``### ... (`paper/tables/NAME.md`)``,
is followed (before the next heading) by a copy of that table; ``sync`` replaces
each copy with the current file after ``dvc repro``, ``stale`` lists the copies
that differ (tests/test_committed_results.py fails on any).

    python -m layerkd.readme_tables            # rewrite README.md's table copies
    python -m layerkd.readme_tables --check    # exit 1 if a copy is stale
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HEADING = re.compile(r"^#{2,4} .*\(`(paper/tables/[\w-]+\.md)`\)\s*$")


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
    """The tables whose README copy differs from the generated file."""
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
    readme.write_text("\n".join(lines) + "\n")
    return changed[::-1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme", default="README.md")
    ap.add_argument("--check", action="store_true", help="only report stale copies")
    args = ap.parse_args(argv)
    readme = Path(args.readme)
    names = stale(readme, readme.parent) if args.check else sync(readme, readme.parent)
    for name in names:
        print(("stale: " if args.check else "updated: ") + name)
    return 1 if args.check and names else 0


if __name__ == "__main__":
    sys.exit(main())
