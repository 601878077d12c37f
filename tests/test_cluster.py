"""The grid through submitit: jobs run in other processes and write the same
results, bit for bit, as an in-process run."""

import torch
from test_stacked import tiny_setup

from layerkd import cluster
from layerkd.stages.students import distill_all


def tiny_students(root: str) -> list[dict]:
    """A small distill stage: two strategies x two seeds of one task and init."""
    from pathlib import Path

    params, task, teacher, cache = tiny_setup(strategies=["none", "forward"], seeds=[0, 1])
    return distill_all(task, params, teacher, cache, "random", Path(root) / "r",
                       Path(root) / "m")


def without_wall_time(rows):
    return [{k: v for k, v in row.items() if k != "wall_s"} for row in rows]


def test_local_executor_jobs_equal_an_in_process_run(tmp_path, monkeypatch):
    import os

    # the job process unpickles tiny_students from this test module
    here = os.path.dirname(__file__)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get(
        "PYTHONPATH")])))
    alone = tiny_students(str(tmp_path / "here"))
    executor = cluster.make_executor("local", tmp_path / "logs")
    jobs = cluster.submit(executor, tiny_students, [(str(tmp_path / "job"),)])
    (remote,) = [job.result() for job in jobs]
    assert without_wall_time(remote) == without_wall_time(alone)
    for name in ("forward_seed1.pt", "none_seed0.pt"):
        a = torch.load(tmp_path / "here" / "m" / name)["state_dict"]
        b = torch.load(tmp_path / "job" / "m" / name)["state_dict"]
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_grid_runs_each_task_stage_command_and_checks_choices(tmp_path):
    import pytest

    (command, root), = cluster.grid("params.yaml", "distill", ["mnist"])
    assert command == ("python -m layerkd.notebook notebooks/03_distill.py "
                       "notebooks/executed/03_distill_mnist.ipynb -p task_name mnist --resume")
    assert len(cluster.grid("params.yaml")) == 6  # the distill stage of every task
    with pytest.raises(ValueError, match="--tasks"):
        cluster.grid("params.yaml", "distill", ["mnli"])
    with pytest.raises(ValueError, match="--stage must be"):
        cluster.grid("params.yaml", "aggregate")
    with pytest.raises(ValueError, match="executor must be one of"):
        cluster.make_executor("ray", tmp_path)
    assert cluster.submit(cluster.make_executor("debug", tmp_path), print, []) == []


def test_a_failing_stage_job_fails(tmp_path):
    import subprocess

    import pytest

    with pytest.raises(subprocess.CalledProcessError):
        cluster.stage_job("python -c 'raise SystemExit(3)'", str(tmp_path))
    assert cluster.stage_job("python -c 'print(1)'", str(tmp_path)) == 0
