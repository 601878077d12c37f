"""Saving and loading a task's arrays (npz) with a JSON card of sizes and checksum."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..io import atomic_write_bytes, atomic_write_text


def checksum(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over names, dtypes, shapes and bytes of the arrays, in sorted order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_dataset(arrays: dict[str, np.ndarray], path: Path) -> dict:
    """Write arrays (npz) and a JSON card with sizes and checksum, atomically."""
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    card = {
        "checksum": checksum(arrays),
        # examples per split: the labels' lengths (the decoder-only task has none: its sequences')
        "sizes": {k[2:]: int(len(v)) for k, v in arrays.items()
                  if k.startswith("y_" if "y_train" in arrays else "x_")},
    }
    atomic_write_text(path.with_suffix(".json"), json.dumps(card, indent=2))
    return card


class DataFileError(ValueError):
    """A task's data file that is missing a readable card, cannot be read or does
    not match its checksum; the message names the file and the command that
    rebuilds it (a ValueError, as the checksum mismatch always was)."""


def rebuild_command(path: Path) -> str:
    """The command that writes ``path`` again: the hub data stage of that task for
    data_hub/, the data stage (every task, deterministic) otherwise."""
    path = Path(path)
    if path.parent.name == "data_hub":
        return f"dvc repro -f -s hub_data@{path.stem}"
    return "dvc repro -f -s data"


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Load a saved dataset and verify it against its checksum card."""
    path = Path(path)
    rebuild = rebuild_command(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run the data stage first ({rebuild})")
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
    # a file cut short (a full disk, an interrupted copy) fails inside numpy's zip
    # reader with a message that names neither the file nor the way out
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        raise DataFileError(f"{path} cannot be read ({type(err).__name__}: {err}): the file "
                            f"is truncated or damaged; rebuild it with `{rebuild}`") from None
    card = path.with_suffix(".json")
    try:
        expected = json.loads(card.read_text())["checksum"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataFileError(f"{card} (the checksum card of {path}) cannot be read "
                            f"({type(err).__name__}: {err}); rebuild both with "
                            f"`{rebuild}`") from None
    if checksum(arrays) != expected:
        raise DataFileError(f"{path}: checksum mismatch, the file was changed; rebuild it "
                            f"with `{rebuild}`")
    return arrays
