"""mnist1d: MNIST-1D from the ``mnist1d`` package's own generator -> 10 tokens x 4."""

from __future__ import annotations

import random

import numpy as np

from .splits import POOL, check_sizes, split_dict


def build_mnist1d(n_val: int = 500, seed: int = 42, patch: int = 4,
                  n_pool: int = 0, n_train: int | None = None) -> dict[str, np.ndarray]:
    """MNIST-1D (Greydanus 2020), generated locally by the ``mnist1d`` package.

    Procedure: ``mnist1d.data.make_dataset`` with the package's published
    defaults (``get_dataset_args()``: 5,000 samples, 500 per class, templates of
    length 12, padding 36..60, scale 0.4, max translation 48, correlated noise
    0.25, iid noise 0.02, shear 0.75, no sequence shuffling, final length 40,
    ``train_split`` 0.8), with its ``seed`` replaced by ``seed`` (default 42 =
    the published one). The package's download path is never used. The
    package seeds numpy's and Python's global generators; their states are
    restored afterwards.

    Tokens: each length-40 signal (zero mean, unit std over the dataset, as
    generated) is cut into 40/``patch`` consecutive windows -> x (N, 10, 4)
    float32 for the default ``patch=4``.

    Split: the package's own train/test split (4,000 / 1,000, already shuffled
    by the generator); validation = the last ``n_val`` (default 500) of the
    package's train part, train = the first ``n_train`` of the 3,500 before it
    (None: all of them). y is int64 in 0..9.

    Pre-training pool (``n_pool``, default 0: none): a second run of the same
    generator with seed ``seed + 1`` and enough samples, its train and test
    parts concatenated, the first ``n_pool`` kept (new random draws of the same
    distribution; disjoint from the task's splits, checked by content hash in
    the tests).
    """
    import mnist1d.data as m1d

    args = m1d.get_dataset_args()
    if args.final_seq_length % patch:
        raise ValueError(f"patch must divide {args.final_seq_length}, got {patch}")
    if n_pool < 0:
        raise ValueError(f"mnist1d: n_pool must be >= 0, got {n_pool}")
    raw = _generate(args, seed)
    n_train_all = len(raw["y"])
    check_sizes(n_val, 0, n_train_all, "mnist1d")
    if n_train is not None and not 1 <= n_train <= n_train_all - n_val:
        raise ValueError(f"mnist1d: n_train must be in 1..{n_train_all - n_val} "
                         f"(the generator's train part less n_val), got {n_train}")

    def tok(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a.reshape(len(a), -1, patch).astype(np.float32))

    xtr, ytr = tok(raw["x"]), np.asarray(raw["y"], dtype=np.int64)
    cut = n_train_all - n_val
    keep = cut if n_train is None else n_train
    x = {"train": xtr[:keep], "val": xtr[cut:], "test": tok(raw["x_test"])}
    y = {"train": ytr[:keep], "val": ytr[cut:],
         "test": np.asarray(raw["y_test"], dtype=np.int64)}
    if n_pool:
        args.num_samples = 10 * -(-n_pool // 10)  # train + test parts: all n_pool samples
        extra = _generate(args, seed + 1)
        x[POOL] = tok(np.concatenate([extra["x"], extra["x_test"]])[:n_pool])
        y[POOL] = np.concatenate([extra["y"], extra["y_test"]])[:n_pool].astype(np.int64)
    return split_dict(x, y)


def _generate(args, seed: int) -> dict:
    """``make_dataset`` at ``seed``; the global generators it seeds are restored."""
    import mnist1d.data as m1d

    args.seed = int(seed)
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        return m1d.make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
