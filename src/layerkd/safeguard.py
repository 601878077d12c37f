"""Nothing lost on failure: a stage's previous outputs stay until it succeeds.

DVC deletes a stage's outputs before running it, so a stage that fails (a bug,
a kill, a full disk) would leave nothing behind. Every output in dvc.yaml is
therefore ``persist: true`` (DVC leaves it alone) and the stage runner
(``layerkd.notebook``, which knows its stage from DVC's ``DVC_STAGE``) does
the removal itself, inside ``kept_until_success``:

* before the stage runs, its outputs move to ``.dvc/tmp/previous-outputs/<stage>``
  (a resumable stage, ``--resume``: they are copied and stay in place, so
  its finished runs are reused);
* on success the saved copy is deleted;
* on failure (an exception, Ctrl-C, SIGTERM) what the stage wrote is put
  aside (its executed notebook under ``notebooks/executed/failed/``) and every
  output is exactly as before the stage started (one it had not written
  before is removed); a resumable stage keeps, whole, the runs it finished
  (a run folder holding its settings stamp, ``STAMP``, and its checkpoint)
  and nothing else: a run it removed or left half-trained is its old self
  again, stamp, metrics, checkpoint and curves together;
* after a SIGKILL nothing runs, but the saved copy remains: the next run of
  the stage restores it before starting, and so does
  ``python -m layerkd.safeguard restore <stage>``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from .paths import MODELS, RESULTS, STAMP

BACKUP = Path(".dvc") / "tmp" / "previous-outputs"
FAILED = Path("notebooks") / "executed" / "failed"
RESUME = ".resume"  # marks the saved outputs of a resumable stage


def stage_outputs(stage: str, dvc_yaml: Path = Path("dvc.yaml")) -> list[Path]:
    """The outs and metrics of one stage of dvc.yaml (``name`` or ``name@item``)."""
    name, _, item = stage.partition("@")
    stages = yaml.safe_load(dvc_yaml.read_text())["stages"]
    if name not in stages:
        raise KeyError(f"stage {name!r} is not in {dvc_yaml}; stages: {list(stages)}")
    body = stages[name].get("do", stages[name])
    entries = body.get("outs", []) + body.get("metrics", [])
    paths = [e if isinstance(e, str) else next(iter(e)) for e in entries]
    return [Path(p.replace("${item}", item)) for p in paths]


def stage_notebook(stage: str, dvc_yaml: Path = Path("dvc.yaml")) -> Path | None:
    """The executed notebook a stage's runner writes: the second path after
    ``layerkd.notebook`` in its command (None for a stage without one)."""
    name, _, item = stage.partition("@")
    body = yaml.safe_load(dvc_yaml.read_text())["stages"][name]
    words = body.get("do", body)["cmd"].split()
    if "layerkd.notebook" not in words:
        return None
    at = words.index("layerkd.notebook")
    return Path(words[at + 2].replace("${item}", item))


def _move(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(dest))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dest)
    else:
        shutil.copy2(src, dest)


def run_checkpoint(run_dir: Path) -> Path:
    """The checkpoint of a student run folder: the inverse of
    ``paths.run_paths(*paths.student_dirs(task, init), strategy, seed)``
    (results/<task>/students/<init>/<strategy>/seed<k> ->
    models/<task>/students/<init>/<strategy>_seed<k>.pt)."""
    *folders, strategy, seed = run_dir.relative_to(RESULTS).parts
    return MODELS.joinpath(*folders, f"{strategy}_{seed}.pt")


def finished_runs(outs: list[Path]) -> list[Path]:
    """The folder and checkpoint of every finished run among the outputs."""
    stamps = [p for out in outs if out.is_dir() for p in sorted(out.rglob(STAMP))]
    return [path for stamp in stamps for path in (stamp.parent, run_checkpoint(stamp.parent))]


def restore(stage: str, outs: list[Path], notebook: Path | None = None) -> bool:
    """Put a stage's saved previous outputs back; False when none are saved.

    Every output becomes exactly what it was before the stage started (removed
    if it did not exist), except, for a resumable stage (it ran with
    ``resume``), the runs it finished: those are kept whole. ``notebook``, the
    executed notebook of the failed run, is kept for reading under ``FAILED``."""
    backup = BACKUP / stage
    if not backup.exists():
        return False
    finished = finished_runs(outs) if (backup / RESUME).exists() else []
    aside = backup / ".finished"
    for path in finished:
        if path.exists():
            _move(path, aside / path)
    for out in outs:
        if out == notebook and out.exists():  # the failed run, for reading
            _move(out, FAILED / out.name)
        _remove(out)
        if (backup / out).exists():
            _move(backup / out, out)
    for path in finished:
        if (aside / path).exists():
            _remove(path)
            _move(aside / path, path)
    shutil.rmtree(backup)
    return True


@contextmanager
def kept_until_success(stage: str, outs: list[Path], resume: bool = False,
                       notebook: Path | None = None) -> Iterator[None]:
    """Run the body with the stage's previous outputs saved; restore them if it
    fails (``notebook``: the executed notebook the body writes, see ``restore``)."""
    if restore(stage, outs, notebook):  # an earlier run of this stage was killed
        print(f"{stage}: restored the outputs saved by an interrupted run", file=sys.stderr)
    backup = BACKUP / stage
    backup.mkdir(parents=True)
    if resume:
        (backup / RESUME).touch()
    for out in outs:
        if out.exists():
            (_copy if resume else _move)(out, backup / out)
    try:
        yield
    except BaseException:
        restore(stage, outs, notebook)
        print(f"{stage} failed: its previous outputs are back in place"
              + (" (with the runs it finished)" if resume else "")
              + f"; the failed notebook is in {FAILED}/", file=sys.stderr)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "restore":
        print("usage: python -m layerkd.safeguard restore <stage>   (e.g. distill@mnist)",
              file=sys.stderr)
        return 2
    stage = args[1]
    if restore(stage, stage_outputs(stage), stage_notebook(stage)):
        print(f"{stage}: previous outputs restored")
        return 0
    print(f"{stage}: no saved outputs (the stage finished, or never ran)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
