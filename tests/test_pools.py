"""The teachers' pre-training pools: disjoint from every split by content,
checksummed with the rest of the data, and leaving the splits unchanged."""

import hashlib

import numpy as np
import pytest

from layerkd import data as D
from layerkd.data import load_arrays, save_dataset
from layerkd.data.splits import SPLITS

SMALL = {
    "mnist1d": dict(n_val=100),
    "listops": dict(n_train=200, n_val=50, n_test=50, max_depth=2, max_args=4, max_length=30),
    "scan": dict(n_val=100, max_target_len=12, max_train=200, max_val=50, max_test=50),
    "numbers_ro": dict(n_train=200, n_val=50, n_test=50, max_number=9999),
}
N_POOL = 300


def row_hashes(arrays: dict, split: str) -> set[str]:
    """Content hash of every example (its input row; the target is a function of it
    for the generated tasks but mnist1d, whose inputs are continuous)."""
    x = arrays[f"x_{split}"]
    return {hashlib.sha256(np.ascontiguousarray(row).tobytes()).hexdigest() for row in x}


@pytest.fixture(scope="module", params=sorted(SMALL))
def pooled(request):
    task = request.param
    return task, D.build(task, **SMALL[task], n_pool=N_POOL), D.build(task, **SMALL[task])


def test_pool_size_and_shapes(pooled):
    task, with_pool, _ = pooled
    assert len(with_pool["y_pool"]) == N_POOL
    assert with_pool["x_pool"].shape[1:] == with_pool["x_train"].shape[1:]
    assert with_pool["x_pool"].dtype == with_pool["x_train"].dtype


def test_pool_is_disjoint_from_every_split_by_content(pooled):
    task, arrays, _ = pooled
    pool = row_hashes(arrays, "pool")
    assert len(pool) == N_POOL or task == "mnist1d"  # unique examples (mnist1d: random draws)
    for split in SPLITS:
        assert not pool & row_hashes(arrays, split), (task, split)


def test_a_pool_leaves_the_splits_unchanged(pooled):
    task, with_pool, without = pooled
    assert "x_pool" not in without
    for key, value in without.items():
        np.testing.assert_array_equal(with_pool[key], value, err_msg=f"{task}: {key}")


def test_pool_is_checksummed(pooled, tmp_path):
    task, arrays, _ = pooled
    path = tmp_path / f"{task}.npz"
    card = save_dataset(arrays, path)
    assert card["sizes"]["pool"] == N_POOL
    assert load_arrays(path)["x_pool"].shape == arrays["x_pool"].shape
    changed = dict(arrays, y_pool=np.roll(arrays["y_pool"], 1))
    save_dataset(changed, tmp_path / "other.npz")
    (tmp_path / "other.json").write_text((tmp_path / f"{task}.json").read_text())
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_arrays(tmp_path / "other.npz")


def test_pool_is_deterministic(pooled):
    task, arrays, _ = pooled
    again = D.build(task, **SMALL[task], n_pool=N_POOL)
    np.testing.assert_array_equal(arrays["x_pool"], again["x_pool"])


@pytest.mark.parametrize("task", sorted(SMALL))
def test_negative_pool_is_refused(task):
    with pytest.raises(ValueError, match="n_pool"):
        D.build(task, **SMALL[task], n_pool=-1)


def test_scan_pool_too_large_names_the_limit():
    with pytest.raises(ValueError, match=r"scan: n_pool must be <= \d+"):
        D.build("scan", **SMALL["scan"], n_pool=100_000)


def test_mnist1d_n_train_keeps_a_prefix_and_the_same_val_and_test():
    full = D.build("mnist1d", n_val=100)
    small = D.build("mnist1d", n_val=100, n_train=50)
    np.testing.assert_array_equal(small["x_train"], full["x_train"][:50])
    for key in ("x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(small[key], full[key])
    with pytest.raises(ValueError, match=r"mnist1d: n_train must be in 1..3900"):
        D.build("mnist1d", n_val=100, n_train=4000)
