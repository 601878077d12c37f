"""Atomic file writes: a killed run never leaves a half-written result."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates 0600 files; results get the mode any new file gets (0644 under umask 022).
# The umask is read once, here: reading it means setting it, which must not happen
# while worker threads (distill.threads) create files.
_FILE_MODE = 0o666 & ~_umask()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_torch_save(obj, path: str | Path) -> None:
    import io

    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


TIMING_KEYS = ("wall_s",)  # measured, not results: kept out of what stages depend on


def write_metrics(out_dir: str | Path, metrics: dict) -> None:
    """A run's ``metrics.json`` without its wall-clock times, which go to its
    timing record (``paths.timing_file``): rerun with the same settings, a run
    writes the same bytes, so nothing downstream goes stale."""
    from .paths import timing_file

    times = {k: metrics[k] for k in TIMING_KEYS if k in metrics}
    atomic_write_json(Path(out_dir) / "metrics.json",
                      {k: v for k, v in metrics.items() if k not in TIMING_KEYS})
    if times:
        atomic_write_json(timing_file(out_dir), times)


def without_timings(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in TIMING_KEYS}


def read_metrics(out_dir: str | Path) -> dict:
    """A run's ``metrics.json`` with its wall-clock times, where recorded."""
    from .paths import timing_file

    metrics = json.loads((Path(out_dir) / "metrics.json").read_text())
    times = timing_file(out_dir)
    return {**metrics, **(json.loads(times.read_text()) if times.exists() else {})}
