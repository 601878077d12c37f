"""Wrong inputs fail loudly; failures and interruptions lose no finished result."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import complete

from layerkd import io
from layerkd.config import parse_params
from layerkd.data import load_arrays, save_dataset
from layerkd.stages.teacher import load_teacher
from layerkd.tasks import Task

TINY = complete({"model": {"width": 16, "heads": 2, "teacher_depth": 3}, "teacher": {"epochs": 1},
        "distill": {"epochs": 1, "student_depth": 2}})


def tiny_task():
    from layerkd.data import Split

    split = Split(torch.randn(4, 4, 5), torch.zeros(4, dtype=torch.long))
    return Task("mnist", {"train": split, "val": split, "test": split}, 5, 3, 4)


def test_changed_dataset_fails_checksum(tmp_path):
    arrays = {"x_train": np.arange(12, dtype=np.uint8).reshape(3, 4), "y_train": np.arange(3)}
    save_dataset(arrays, tmp_path / "d.npz")
    assert load_arrays(tmp_path / "d.npz")["x_train"].sum() == 66
    arrays["x_train"][0, 0] = 99
    np.savez_compressed(tmp_path / "d.npz", **arrays)  # changed behind the card's back
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_arrays(tmp_path / "d.npz")


def test_missing_dataset_names_the_stage(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the data stage"):
        load_arrays(tmp_path / "nope.npz")


def test_missing_teacher_checkpoint_names_the_stage(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the teacher stage"):
        load_teacher(tiny_task(), parse_params(TINY), tmp_path / "teacher.pt")


def test_teacher_from_other_configuration_is_refused(tmp_path):
    from layerkd.stages.teacher import config_hash, teacher_config

    params = parse_params(TINY)
    task = tiny_task()
    model = task.build_model(3, 16, params)
    other = parse_params(complete({**TINY, "teacher": {"epochs": 2}}))
    io.atomic_torch_save({"state_dict": model.state_dict(),
                          "config_hash": config_hash(teacher_config(other, "mnist"))},
                         tmp_path / "teacher.pt")
    with pytest.raises(ValueError, match="trained with other parameters"):
        load_teacher(task, params, tmp_path / "teacher.pt")
    io.atomic_torch_save({"state_dict": model.state_dict(),
                          "config_hash": config_hash(teacher_config(params, "mnist"))},
                         tmp_path / "teacher.pt")
    assert load_teacher(task, params, tmp_path / "teacher.pt").depth == 3


def test_atomic_write_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    io.atomic_write_json(target, {"acc": 1})

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(io.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        io.atomic_write_json(target, {"acc": 2})
    assert json.loads(target.read_text()) == {"acc": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temp file left


def test_written_files_get_the_mode_of_any_new_file(tmp_path):
    """Results are readable by others (tempfile alone would leave them 0600)."""
    # in a fresh process, as a stage writes (other tests' libraries may change this
    # process's umask after layerkd.io read it)
    code = ("import os, pathlib, sys; os.umask(0o022); from layerkd import io; "
            "d = pathlib.Path(sys.argv[1]); (d / 'plain').write_text('x'); "
            "io.atomic_write_json(d / 'r.json', {'a': 1})")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    plain = (tmp_path / "plain").stat().st_mode & 0o777
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == plain == 0o644


def test_task_outside_the_registry_needs_its_family():
    from layerkd.data import Split

    split = Split(torch.randn(4, 4, 5), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="family_name"):
        Task("tiny", {"train": split}, 5, 3, 4)
    assert Task("scan", {"train": split}, None, 0, 4).family_name == "seq2seq"
    assert Task("listops", {"train": split}, None, 10, 4).family_name == "classifier"


def test_failing_cell_fails_the_stage_and_keeps_the_notebook(tmp_path):
    source = tmp_path / "broken.py"
    source.write_text('# %% tags=["parameters"]\nx = 1\n\n# %%\nprint("first cell ran")\n\n'
                      '# %%\nraise RuntimeError("bad value of x")\n')
    out = tmp_path / "out" / "broken.ipynb"  # the folder does not exist yet
    result = subprocess.run([sys.executable, "-m", "layerkd.notebook", str(source), str(out),
                             "-p", "x", "2"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert "RuntimeError" in result.stderr and "bad value of x" in result.stderr
    assert "partly executed notebook is kept" in result.stderr
    nb = json.loads(out.read_text())
    text = json.dumps(nb)
    assert "first cell ran" in text and "x = 2" in text  # injected parameter, executed cells
