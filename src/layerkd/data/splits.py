"""The train / val / test splits: the in-memory ``Split`` and the builders' split helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SPLITS = ("train", "val", "test")
POOL = "pool"  # optional extra split: the teacher's pre-training pool (generated tasks only)


@dataclass
class Split:
    x: torch.Tensor  # (N, T, F) float token features
    y: torch.Tensor  # (N,) int64 labels
    mask: torch.Tensor | None = None  # (N, T) bool valid tokens; None = all valid

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device) -> "Split":
        return Split(self.x.to(device), self.y.to(device),
                     None if self.mask is None else self.mask.to(device))

    def subset(self, n: int) -> "Split":
        return Split(self.x[:n], self.y[:n], None if self.mask is None else self.mask[:n])


def split_dict(x: dict[str, np.ndarray], y: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-split x and y -> ``x_train, y_train, x_val, y_val, x_test, y_test``, in that
    order, then any extra split (``x_pool, y_pool``)."""
    out: dict[str, np.ndarray] = {}
    for s in SPLITS + tuple(k for k in x if k not in SPLITS):
        out[f"x_{s}"], out[f"y_{s}"] = x[s], y[s]
    return out


def check_sizes(n_val: int, n_test: int, total: int, what: str, n_train: int | None = None) -> None:
    """Without n_train the training split is the rest, so it must keep >= 1 example."""
    if n_val < 0 or n_test < 0 or (n_train is not None and n_train < 1):
        raise ValueError(f"{what}: split sizes must be non-negative (train >= 1)")
    if n_train is None and n_val + n_test >= total:
        raise ValueError(f"{what}: n_val + n_test must be < {total}, got {n_val + n_test}")
    if n_train is not None and n_train + n_val + n_test > total:
        raise ValueError(f"{what}: n_train + n_val + n_test must be <= {total}, "
                         f"got {n_train + n_val + n_test}")
