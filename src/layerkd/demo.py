"""A quick look in one command: the whole pipeline on a profile, in a scratch copy.

    python -m layerkd.demo [DEST] [--profile profiles/smoke.yaml]    (make demo)

Copies the repository's sources (what git tracks or would track, without the
committed outputs) to DEST, puts the profile in place of ``params.yaml``, makes
the copy a git repository of its own (DVC needs one) and runs ``dvc repro``
there with this environment's Python: no second virtual environment, and the
committed results here are never touched. Prints where the copy's paper,
notebooks and tables are.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Outputs of a pipeline run: left out, so the copy starts from scratch.
GENERATED = ("dvc.lock", "data/", "models/", "ablation_models/", "results/", "metrics/",
             "paper/tables/", "paper/figures/", "paper/macros.tex", "paper/README.md",
             "paper/main.pdf", "notebooks/executed/", "timings/")


def copy_sources(dest: Path, profile: Path, root: Path = ROOT) -> None:
    """The repository's sources in ``dest`` with ``profile`` as its params.yaml,
    committed to a git repository of its own."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root,
                           check=True, capture_output=True, text=True).stdout.splitlines()
    for f in files:
        if f.startswith(GENERATED) or not (root / f).is_file():
            continue
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / f, dest / f)
    shutil.copy(profile, dest / "params.yaml")
    git = ["git", "-c", "user.email=demo@example.invalid", "-c", "user.name=demo"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", f"{profile.name} copy"]):
        subprocess.run(git + cmd, cwd=dest, check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest", nargs="?", default="tmp/demo", help="scratch folder (replaced)")
    ap.add_argument("--profile", default="profiles/smoke.yaml", help="the params file to run")
    args = ap.parse_args(argv)
    dest, profile = Path(args.dest).resolve(), Path(args.profile).resolve()
    if not profile.is_file():
        print(f"--profile {args.profile}: no such file (profiles/: "
              f"{sorted(p.name for p in (ROOT / 'profiles').glob('*.yaml'))})", file=sys.stderr)
        return 2
    if dest == ROOT or ROOT.is_relative_to(dest):
        print(f"{dest}: would replace the repository itself; name a scratch folder",
              file=sys.stderr)
        return 2
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    copy_sources(dest, profile)
    print(f"{profile.name} in {dest}: dvc repro ...", flush=True)
    start = time.perf_counter()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(["dvc", "repro"], cwd=dest, env=env)
    minutes = (time.perf_counter() - start) / 60
    if result.returncode:
        print(f"dvc repro failed after {minutes:.1f} min (its output is above; the copy "
              f"stays in {dest})", file=sys.stderr)
        return result.returncode
    print(f"\nDone in {minutes:.1f} min. Read, in {dest}:\n"
          f"  notebooks/executed/  every stage's executed notebook (01_data ... 06_ablations)\n"
          f"  paper/tables/, paper/figures/, paper/macros.tex  what the paper uses\n"
          f"  paper/README.md  the generated summary\n"
          f"  (the PDF: make -C {dest} paper, with LaTeX installed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
