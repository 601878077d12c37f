"""Validate params.yaml before DVC touches any output:  python -m layerkd.check [FILE]

DVC removes a stage's outputs before it runs the stage, so a bad value that
the stage itself rejects has already cost that stage's results. The first
stage of dvc.yaml (``check``) runs this, and every other stage depends on its
stamp, so ``dvc repro`` and ``dvc exp run`` stop here; ``make check`` runs it
by hand. It checks the schema (every key at every level, every task's
overrides applied: ``config.load_params``) and what DVC
needs of the file itself: an entry under ``data`` and under ``overrides`` for
every task in ``tasks`` (each task's stages list both as parameters). No
notebook imports this module: only the ``check`` stage depends on it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from .config import ConfigError, load_params
from .io import atomic_write_text


def problems(path: str | Path = "params.yaml") -> list[str]:
    """Everything wrong with the parameter file (empty when it is valid)."""
    path = Path(path)
    try:
        params = load_params(path)
    except ConfigError as err:
        return [str(err)]
    raw = yaml.safe_load(path.read_text()) or {}
    found = []
    for section in ("data", "overrides"):
        missing = [t for t in params.tasks if t not in (raw.get(section) or {})]
        if missing:
            found.append(f"{section}: no entry for {missing} (every task in `tasks` needs one; "
                         f"`{{}}` is enough for overrides)")
    # each stage declares only the override sections it reads (teacher@<task>: model
    # and teacher; distill@<task>: model and distill), and DVC needs every one it declares
    for task in params.tasks:
        entry = (raw.get("overrides") or {}).get(task)
        missing = [k for k in OVERRIDE_SECTIONS if not isinstance(entry, dict) or k not in entry]
        if entry is not None and missing:
            found.append(f"overrides.{task}: no {', '.join(missing)} (teacher@{task} and "
                         f"distill@{task} read each one as a parameter; `{{}}` is enough)")
    return found


OVERRIDE_SECTIONS = ("model", "teacher", "distill")


def main(argv: list[str] | None = None) -> int:
    """``python -m layerkd.check [FILE] [--stamp PATH]``: 0 when FILE is valid (then
    PATH, if given, holds a constant line: the ``check`` stage's output)."""
    ap = argparse.ArgumentParser(description="Validate a params file before DVC runs.")
    ap.add_argument("path", nargs="?", default="params.yaml")
    ap.add_argument("--stamp", help="file to write when the parameters are valid")
    args = ap.parse_args(argv)
    found = problems(args.path)
    for line in found:
        print(f"{args.path}: {line}", file=sys.stderr)
    if not found:
        print(f"{args.path}: valid")
        if args.stamp:
            atomic_write_text(args.stamp, "params.yaml passed layerkd.check\n")
    return 1 if found else 0

if __name__ == "__main__":
    raise SystemExit(main())
