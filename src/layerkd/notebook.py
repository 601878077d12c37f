"""Run a jupytext notebook source with papermill: the command of every DVC stage.

    python -m layerkd.notebook notebooks/02_teacher.py notebooks/executed/02_teacher_mnist.ipynb -p task mnist

Sources are plain ``.py`` files (jupytext percent format), so DVC hashes code,
never outputs. The executed notebook is written even when a cell fails, so the
failure can be read in place; the cell's traceback is printed and the exit
status is non-zero. Progress bars are kept in their final state only
(``tidy_streams``), so an executed notebook reads without hundreds of bar
redraws.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml


def run(source: Path, output: Path, parameters: dict, log_output: bool = True) -> None:
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    output.parent.mkdir(parents=True, exist_ok=True)  # papermill does not create it
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / (source.stem + ".ipynb")
        nbformat.write(nb, src)
        try:
            papermill.execute_notebook(
                str(src), str(output), parameters=parameters, cwd=".", kernel_name="python3",
                log_output=log_output, progress_bar=False,
            )
        except PapermillExecutionError as err:
            tidy_file(output)
            print(f"\n{source} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
                  f"{''.join(err.traceback)}\nThe partly executed notebook is kept: {output}",
                  file=sys.stderr)
            raise SystemExit(1) from None
        tidy_file(output)


def resolve_carriage_returns(text: str) -> str:
    """What a terminal shows of ``text``: each line's last carriage-return segment."""
    return "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else
                     line.rstrip("\r") for line in text.split("\n"))


def tidy_streams(nb) -> None:
    """In place: merge each cell's consecutive outputs of one stream (stdout or
    stderr) and keep what a terminal would show of them (progress bars redraw a
    line with carriage returns: only their final state is kept)."""
    for cell in nb.cells:
        merged = []
        for out in cell.get("outputs", []):
            if (out.get("output_type") == "stream" and merged
                    and merged[-1].get("output_type") == "stream"
                    and merged[-1]["name"] == out["name"]):
                merged[-1]["text"] += out["text"]
            else:
                merged.append(out)
        for out in merged:
            if out.get("output_type") == "stream":
                out["text"] = resolve_carriage_returns(out["text"])
        if "outputs" in cell:
            cell["outputs"] = merged


def tidy_file(path: Path) -> None:
    import nbformat

    if path.exists():
        nb = nbformat.read(path, as_version=4)
        tidy_streams(nb)
        nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path, help="notebook source (.py, jupytext percent format)")
    ap.add_argument("output", type=Path, help="executed notebook to write (.ipynb)")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="notebook parameter (value parsed as YAML)")
    args = ap.parse_args(argv)
    if not args.source.exists():
        ap.error(f"notebook source {args.source} not found")
    run(args.source, args.output, {k: yaml.safe_load(v) for k, v in args.p})


if __name__ == "__main__":
    main()
