"""Validate params.yaml before DVC touches any output:  python -m layerkd.check [FILE]

DVC removes a stage's outputs before it runs the stage, so a bad value that
the stage itself rejects has already cost that stage's results. ``make repro``
and ``make check`` run this first. It checks the schema (every key at every
level, every task's overrides applied: ``config.load_params``) and what DVC
needs of the file itself: an entry under ``data`` and under ``overrides`` for
every task in ``tasks`` (each task's stages list both as parameters). No
stage imports this module, so it is no stage's dependency.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from .config import ConfigError, load_params


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
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else "params.yaml"
    found = problems(path)
    for line in found:
        print(f"{path}: {line}", file=sys.stderr)
    if not found:
        print(f"{path}: valid")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
