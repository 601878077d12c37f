"""digits: scikit-learn's 1,797 real 8x8 digits -> 16 patch tokens x 4 features."""

from __future__ import annotations

import numpy as np

from .splits import check_sizes, split_dict


def build_digits(n_val: int = 200, n_test: int = 400, seed: int = 0,
                 tokens: str = "patches") -> dict[str, np.ndarray]:
    """scikit-learn's handwritten digits as token sequences (10 classes).

    Data: the 1,797 real 8x8 grey-level digits of the UCI "Optical Recognition
    of Handwritten Digits" test set (Alpaydin & Kaynak 1998), shipped inside
    scikit-learn (``sklearn.datasets.load_digits``, no download). Pixel counts
    0..16 are divided by 16 to lie in [0, 1].

    Tokens: ``"patches"`` (default) = the 16 non-overlapping 2x2 patches in
    row-major order, 4 features each -> x (N, 16, 4); ``"rows"`` = the 8 image
    rows, 8 features each -> x (N, 8, 8). float32.

    Split: one permutation of the 1,797 digits drawn from ``seed``; test = the
    first ``n_test`` (default 400), validation = the next ``n_val`` (200),
    train = the rest (1,197 by default). y is int64 in 0..9; ``index_train``
    etc. give each example's position in ``load_digits()``.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)  # (1797, 8, 8)
    labels = bunch.target.astype(np.int64)
    n = len(labels)
    check_sizes(n_val, n_test, n, "digits")
    if tokens == "patches":
        x = images.reshape(n, 4, 2, 4, 2).transpose(0, 1, 3, 2, 4).reshape(n, 16, 4)
    elif tokens == "rows":
        x = images.copy()
    else:
        raise ValueError(f"tokens must be 'patches' or 'rows', got {tokens!r}")
    order = np.random.default_rng(seed).permutation(n)
    x, y = np.ascontiguousarray(x[order]), labels[order]
    parts = {"test": slice(0, n_test), "val": slice(n_test, n_test + n_val),
             "train": slice(n_test + n_val, n)}
    out = split_dict({k: x[s] for k, s in parts.items()}, {k: y[s] for k, s in parts.items()})
    for k, s in parts.items():
        out[f"index_{k}"] = order[s].astype(np.int64)
    return out
