"""The stage runner keeps executed notebooks readable: progress bars in their
final state, one output per stream."""

import nbformat

from layerkd.notebook import resolve_carriage_returns, tidy_streams


def test_carriage_returns_keep_the_last_redraw_of_each_line():
    assert resolve_carriage_returns("\rbar 0%\rbar 50%\rbar 100%\ndone\n") == "bar 100%\ndone\n"
    assert resolve_carriage_returns("plain\nlines\n") == "plain\nlines\n"
    assert resolve_carriage_returns("windows line\r\nnext") == "windows line\nnext"
    # a bar that ends its last redraw with a carriage return keeps that redraw
    assert resolve_carriage_returns("\rbar 0%\rbar 100%\r\ndone") == "bar 100%\ndone"


def test_consecutive_stream_outputs_merge_and_bars_collapse():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="pairs\n"),
        *[nbformat.v4.new_output("stream", name="stderr", text=f"\rtask: {i}/3")
          for i in range(4)],
        nbformat.v4.new_output("stream", name="stderr", text="\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "table"}),
        nbformat.v4.new_output("stream", name="stdout", text="after\n"),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell("text")])
    tidy_streams(nb)
    kinds = [(o["output_type"], o.get("name")) for o in cell.outputs]
    assert kinds == [("stream", "stdout"), ("stream", "stderr"), ("display_data", None),
                     ("stream", "stdout")]
    assert cell.outputs[1]["text"] == "task: 3/3\n"
    nbformat.validate(nb)


def test_notebooks_enter_the_repository_root(tmp_path, monkeypatch):
    from layerkd.paths import enter_repository

    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # where JupyterLab starts a notebook's kernel
    assert enter_repository() == tmp_path
    import os
    assert os.getcwd() == str(tmp_path)


def test_every_stage_notebook_enters_the_root_before_reading_params():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for source in sorted((root / "notebooks").glob("0*.py")):
        text = source.read_text()
        assert text.index("paths.enter_repository()") < text.index("load_params(params_file)")


def _runner(tmp_path, code: str) -> list[str]:
    import sys

    (tmp_path / "nb.py").write_text(f"# %%\n{code}\n")
    return [sys.executable, "-m", "layerkd.notebook", str(tmp_path / "nb.py"),
            str(tmp_path / "out.ipynb")]


def _no_network() -> list[str] | None:
    import shutil
    import subprocess

    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"]).returncode == 0:
        return ["unshare", "-n"]
    return None


def test_a_stage_runs_with_networking_fully_off(tmp_path):
    """The kernel uses IPC sockets: no TCP, no loopback (`unshare -n` drops both)."""
    import subprocess

    import pytest

    prefix = _no_network()
    if prefix is None:
        pytest.skip("cannot create a network namespace here (needs unshare -n)")
    done = subprocess.run(prefix + _runner(tmp_path, "print(6 * 7)"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "42" in (tmp_path / "out.ipynb").read_text()
    assert "without encryption" not in done.stderr


def test_killing_the_starting_process_ends_runner_and_kernel(tmp_path):
    """As when `dvc repro` is killed: nothing keeps running and writing."""
    import subprocess
    import sys
    import time

    import psutil

    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys; "
                               f"subprocess.run({_runner(tmp_path, 'import time; time.sleep(300)')!r})"],
                              cwd=tmp_path)
    try:
        deadline = time.time() + 60
        family = []
        while time.time() < deadline and len(family) < 2:  # runner and kernel started
            family = psutil.Process(parent.pid).children(recursive=True)
            time.sleep(0.5)
        assert len(family) >= 2, "runner or kernel did not start"
        parent.kill()
        parent.wait()
        gone, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, f"still running after their parent was killed: {alive}"
    finally:
        for p in psutil.Process().children(recursive=True):
            p.kill()
