"""The distillation grid on a cluster, through submitit (Slurm, the scheduler
the authors used), or in local subprocesses.

One job is one DVC stage of a task (by default ``distill@<task>``, every
strategy x seed x initialisation of the task): the job runs the stage's own
command from dvc.yaml in the repository, so it writes every output of the
stage, exactly as ``dvc repro`` would. After the jobs finish, ``dvc commit``
records them as the stages' outputs:

    python -m layerkd.cluster --executor slurm --partition gpu --gpus 1 --time 120
    python -m layerkd.cluster --executor local --stage distill --tasks mnist scan
    dvc commit distill        # then: dvc repro (angles, ablations, aggregate)

Within a job, training is that of an in-process run: students trained in a
job process give the same results, bit for bit, as here (tests/test_cluster.py).

submitit was chosen over Ray because the grid is a set of independent batch
jobs on a scheduler (no shared state, no actors), which is what submitit is
for; its ``LocalExecutor`` runs the same jobs as subprocesses without a
cluster (the default here, and what the tests use).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
from pathlib import Path
from typing import Callable

import yaml

EXECUTORS = ("local", "slurm", "debug")


def stage_command(stage: str, task: str, dvc_file: str | Path = "dvc.yaml") -> str:
    """The command of ``<stage>@<task>`` in dvc.yaml (a ``foreach`` stage)."""
    stages = yaml.safe_load(Path(dvc_file).read_text())["stages"]
    if stage not in stages or "foreach" not in stages[stage]:
        raise ValueError(f"--stage must be a per-task stage of {dvc_file}, one of "
                         f"{sorted(k for k, v in stages.items() if 'foreach' in v)}; "
                         f"got {stage!r}")
    return " ".join(stages[stage]["do"]["cmd"].split()).replace("${item}", task)


def stage_job(command: str, root: str) -> int:
    """One job: a stage's command, run in the repository root; fails if it fails."""
    subprocess.run(shlex.split(command), cwd=root, check=True)
    return 0


def make_executor(kind: str, folder: str | Path, **options):
    """A submitit executor: ``local`` subprocesses, ``slurm`` jobs, or ``debug``
    (this process). options: Slurm settings (``slurm_partition``, ``gpus_per_node``,
    ``timeout_min``, ...; see submitit), ignored by ``debug``."""
    import submitit

    if kind not in EXECUTORS:
        raise ValueError(f"executor must be one of {list(EXECUTORS)}, got {kind!r}")
    if kind == "debug":
        return submitit.DebugExecutor(folder=folder)
    if kind == "local":
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=options.pop("timeout_min", 24 * 60))
        return executor
    executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
    executor.update_parameters(**options)
    return executor


def submit(executor, fn: Callable, calls: list[tuple]) -> list:
    """One job per argument tuple of ``calls`` (a job array where the scheduler
    has them); returns the jobs (``job.result()`` waits for one)."""
    if not calls:
        return []
    return executor.map_array(fn, *zip(*calls))


def grid(params_file: str, stage: str = "distill", tasks: list[str] | None = None,
         root: str | Path = ".") -> list[tuple]:
    """(command, root) of every job: the stage of each chosen task."""
    from .config import load_params

    params = load_params(Path(root) / params_file)
    chosen = tasks or params.tasks
    unknown = sorted(set(chosen) - set(params.tasks))
    if unknown:
        raise ValueError(f"--tasks: {unknown} not in params.yaml's tasks {params.tasks}")
    return [(stage_command(stage, t, Path(root) / "dvc.yaml"), str(Path(root).resolve()))
            for t in chosen]


def main(argv: list[str] | None = None) -> list[int]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--stage", default="distill", help="a per-task stage of dvc.yaml")
    ap.add_argument("--tasks", nargs="*", help="default: every task of params.yaml")
    ap.add_argument("--executor", choices=EXECUTORS, default="local")
    ap.add_argument("--folder", default=".submitit", help="job logs and pickles")
    ap.add_argument("--partition", help="Slurm partition")
    ap.add_argument("--gpus", type=int, default=0, help="GPUs per Slurm job")
    ap.add_argument("--cpus", type=int, default=2, help="CPUs per Slurm job")
    ap.add_argument("--time", type=int, default=120, help="minutes per job")
    args = ap.parse_args(argv)
    options = {"timeout_min": args.time}
    if args.executor == "slurm":
        options.update(slurm_partition=args.partition, gpus_per_node=args.gpus,
                       cpus_per_task=args.cpus)
    jobs = submit(make_executor(args.executor, args.folder, **options), stage_job,
                  grid(args.params, args.stage, args.tasks))
    print(f"{len(jobs)} jobs: " + ", ".join(str(j.job_id) for j in jobs))
    return [job.result() for job in jobs]


if __name__ == "__main__":
    main()
