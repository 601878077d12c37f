"""Saving and loading a task's arrays (npz) with a JSON card of sizes and checksum."""

from __future__ import annotations

import hashlib
import json
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


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Load a saved dataset and verify it against its checksum card."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run the data stage first (dvc repro data)")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    expected = json.loads(path.with_suffix(".json").read_text())["checksum"]
    if checksum(arrays) != expected:
        raise ValueError(f"{path}: checksum mismatch, the file was changed; rerun the data stage")
    return arrays
