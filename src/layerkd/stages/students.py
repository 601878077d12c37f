"""The distillation stage, for any model family: every strategy x seed of
``params.distill`` from one initialisation, trained together by the family's engine
(``Family.together``, ``distill.engines``).

Resume: a finished run's folder holds ``settings.sha256``, a hash of everything
its result depends on (``settings_key``), written only once its metrics and
checkpoint are saved (``start_run``, ``distill.run.save_run``). A run whose
folder has a matching hash, its metrics.json and its checkpoint is finished and
is not trained again, so a killed stage (its outputs are ``persist: true`` in
dvc.yaml) restarts from its finished students; ``remove_stale`` then drops runs
the parameters no longer ask for.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ..config import Params
from ..distill.engines import ENGINES
from ..distill.run import Run
from ..io import atomic_write_text, read_metrics
from ..paths import PENDING, STAMP, run_paths, student_dirs
from ..tasks import Task
from .teacher import load_teacher


def teacher_cache(task: Task, params: Params, teacher):
    """The teacher's outputs on the transfer set, computed once for every student."""
    return task.family.cache(teacher, task.splits["train"].subset(params.distill.transfer_size))


def distill_all(task: Task, params: Params, teacher, cache, init: str, results_dir: Path,
                models_dir: Path, desc: str | None = None,
                workers: int | None = None) -> list[dict]:
    """Every strategy x seed of ``params.distill`` from one initialisation:
    results_dir/<strategy>/seed<k>/metrics.json and models_dir/<strategy>_seed<k>.pt;
    metrics in run order (strategy, then seed).

    Encoder students train as stacked groups of ``distill.batch_students`` (0 =
    all together); encoder-decoder students in ``workers`` threads, at most
    ``distill.batch_students`` side by side (see the families)."""
    d = params.distill
    runs = [Run(s, seed, *run_paths(results_dir, models_dir, s, seed))
            for s in d.strategies for seed in d.seeds]
    key = settings_key(task, params, init, teacher)
    kept = {r: finished(r, key) for r in runs}
    todo = [r for r in runs if kept[r] is None]
    if len(todo) < len(runs):
        print(f"{task.name}/{init}: {len(runs) - len(todo)} of {len(runs)} students already "
              f"finished with these settings (kept)")
    for r in todo:
        start_run(r, key)
    engine = ENGINES[task.family.together]
    new = iter(engine(task, params, teacher, cache, init, todo, workers=workers, desc=desc)
               if todo else [])
    return [kept[r] if kept[r] is not None else next(new) for r in runs]


def start_run(run: Run, key: str) -> None:
    """A half-written or outdated run starts afresh: its folder and checkpoint
    go, and ``key`` waits in ``PENDING`` until ``save_run`` makes it the
    run's stamp."""
    shutil.rmtree(run.out_dir, ignore_errors=True)
    run.ckpt_path.unlink(missing_ok=True)
    atomic_write_text(run.out_dir / PENDING, key + "\n")


# The layout of a run's metrics.json: raise it when a field is added or changes
# meaning, so that runs written before are trained again instead of being kept
# without it (3: transfer_size and epochs recorded; 4: the wall-clock time kept
# apart, ``io.write_metrics``).
RECORD_VERSION = 4


def settings_key(task: Task, params: Params, init: str, teacher) -> str:
    """A hash of everything a student's result depends on but its strategy and
    seed, and of the layout of its record (``RECORD_VERSION``): the task, the model and distill settings (the run lists and the
    grouping excepted), the initialisation, the transfer, validation and test
    data, and the teacher's weights."""
    d = params.distill.model_dump(exclude={"strategies", "seeds", "inits", "batch_students"})
    h = hashlib.sha256(json.dumps([RECORD_VERSION, task.name, init, params.model.identity(),
                                   d, params.student_width], sort_keys=True).encode())
    transfer = task.splits["train"].subset(params.distill.transfer_size)
    splits = [transfer, task.splits["val"], task.splits["test"]]  # val picks the checkpoint
    tensors = [t for sp in splits for t in (sp.x, sp.y, sp.mask)]
    for t in tensors + list(teacher.state_dict().values()):
        if t is not None:
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def finished(run: Run, key: str) -> dict | None:
    """The run's metrics when it finished under ``key``; None otherwise."""
    stamp, metrics = run.out_dir / STAMP, run.out_dir / "metrics.json"
    if not (stamp.exists() and metrics.exists() and run.ckpt_path.exists()):
        return None
    if stamp.read_text().strip() != key:
        return None
    return read_metrics(run.out_dir)


def remove_stale(task: Task, params: Params) -> list[Path]:
    """Delete the run folders and checkpoints of the distill stage that the
    parameters no longer ask for (another init, strategy or seed); returns them."""
    d = params.distill
    return remove_stale_runs(task.name, d.inits, d.strategies, d.seeds)


def remove_stale_runs(task: str, inits, strategies, seeds) -> list[Path]:
    """``remove_stale`` for any task's students (the decoder-only task's too)."""
    wanted = {p for init in inits for s in strategies for seed in seeds
              for p in run_paths(*student_dirs(task, init), s, seed)}
    results_root, models_root = (p.parent for p in student_dirs(task, "any"))
    found = sorted(results_root.glob("*/*/seed*")) + sorted(models_root.glob("*/*.pt"))
    stale = [p for p in found if p not in wanted]
    for path in stale:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    for root in (results_root, models_root):  # deepest first: emptied folders go too
        if not root.exists():
            continue
        for folder in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    return stale


def run_students(task: Task, params: Params, init: str) -> list[dict]:
    """The distill stage for one initialisation: every strategy x seed."""
    teacher = load_teacher(task, params)
    return distill_all(task, params, teacher, teacher_cache(task, params, teacher), init,
                       *student_dirs(task.name, init))
