"""The stage runner keeps executed notebooks readable: progress bars in their
final state, one output per stream."""

import nbformat

from layerkd.notebook import resolve_carriage_returns, tidy_streams


def test_carriage_returns_keep_the_last_redraw_of_each_line():
    assert resolve_carriage_returns("\rbar 0%\rbar 50%\rbar 100%\ndone\n") == "bar 100%\ndone\n"
    assert resolve_carriage_returns("plain\nlines\n") == "plain\nlines\n"
    assert resolve_carriage_returns("windows line\r\nnext") == "windows line\nnext"


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
