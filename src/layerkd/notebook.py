"""Run a jupytext notebook source with papermill: the command of every DVC stage.

    python -m layerkd.notebook notebooks/02_teacher.py notebooks/executed/02_teacher_mnist.ipynb -p task mnist

Sources are plain ``.py`` files (jupytext percent format), so DVC hashes code,
never outputs. The executed notebook is written even when a cell fails, so the
failure can be read (run by DVC: in ``notebooks/executed/failed/``); the cell's traceback is printed and the exit
status is non-zero. The kernel talks to the runner over Unix domain sockets
(``ipc``), so stages run with networking fully off (no loopback) and print no
TCP warnings; the runner, and with it its kernel, ends when the process that
started it (``dvc repro``) dies, even when that one is killed. Progress bars
are kept in their final state only (``tidy_streams``), so an executed notebook
reads without hundreds of bar redraws. Run by DVC, the stage's previous
outputs are kept until it succeeds (``layerkd.safeguard``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import yaml


def ipc_kernel_manager(folder: Path):
    """A kernel manager class whose kernels listen on Unix domain sockets in
    ``folder`` instead of TCP ports on 127.0.0.1."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(folder / "kernel")  # sockets are kernel-1, kernel-2, ...

    return IPCKernelManager


def die_with_parent() -> None:
    """Linux: SIGTERM to this runner when the process that started it dies (even
    by SIGKILL). The kernel then exits as well: ipykernel polls its parent."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the request took effect
        raise SystemExit(f"the process that started {sys.argv[0]} has ended")


def skip_iri_grammar() -> None:
    """Leave out jsonschema's optional IRI format checker in this process.

    nbformat imports jsonschema, which builds the IRI grammar of rfc3987-syntax
    (installed beside JupyterLab) at import: 1.5-2 s of every stage on a 2-core
    machine. No notebook schema checks an IRI; a ``None`` entry in ``sys.modules``
    makes that optional import fail as if the package were absent."""
    sys.modules.setdefault("rfc3987_syntax", None)


def run(source: Path, output: Path, parameters: dict, log_output: bool = True) -> None:
    skip_iri_grammar()
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
                kernel_manager_class=ipc_kernel_manager(Path(tmp)),
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
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


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
    ap.add_argument("notebooks", type=Path, nargs="+", metavar="SOURCE OUTPUT",
                    help="notebook source (.py, jupytext percent format) and the executed "
                         "notebook to write (.ipynb); several pairs run in order, as one stage")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="notebook parameter (value parsed as YAML)")
    ap.add_argument("--resume", action="store_true",
                    help="the stage reuses its finished runs: keep its outputs in place "
                         "(layerkd.safeguard)")
    args = ap.parse_args(argv)
    if len(args.notebooks) % 2:
        ap.error("give each notebook source with the executed notebook to write")
    pairs = list(zip(args.notebooks[::2], args.notebooks[1::2]))
    for source, _ in pairs:
        if not source.exists():
            ap.error(f"notebook source {source} not found")
    die_with_parent()
    # SIGTERM (from die_with_parent, or a plain kill) unwinds like Ctrl-C, so the
    # previous outputs come back
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    parameters = {k: yaml.safe_load(v) for k, v in args.p}
    stage = os.environ.get("DVC_STAGE")  # set by DVC for every stage command
    if stage is None:  # by hand: nothing to protect
        for source, output in pairs:
            run(source, output, parameters)
        return
    from .safeguard import FAILED, kept_until_success, stage_outputs

    # One safeguard for the whole sequence: a later notebook must not set aside
    # what an earlier one of the same stage wrote.
    single = pairs[0][1] if len(pairs) == 1 else None
    with kept_until_success(stage, stage_outputs(stage), resume=args.resume, notebook=single):
        for source, output in pairs:
            try:
                run(source, output, parameters)
            except BaseException:
                if single is None and output.exists():  # the failed one, for reading
                    FAILED.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(output, FAILED / output.name)
                raise


if __name__ == "__main__":
    main()
