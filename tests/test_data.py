"""The offline builders of layerkd.data: sizes, contents, splits, determinism."""

import numpy as np
import pytest

from layerkd import data as D
from layerkd.config import CLASSIFICATION_TASKS, GENERATION_TASKS
from layerkd.data import checksum, load_arrays, save_dataset

SPLITS = ("train", "val", "test")


def _sizes(a):
    return {s: len(a[f"y_{s}"]) for s in SPLITS}


def _rows(x):
    return {r.tobytes() for r in np.ascontiguousarray(x)}


@pytest.fixture(scope="module")
def digits():
    return D.build_digits()


@pytest.fixture(scope="module")
def mnist1d():
    return D.build_mnist1d()


@pytest.fixture(scope="module")
def listops():
    return D.build_listops()


@pytest.fixture(scope="module")
def scan():
    return D.build_scan()


@pytest.fixture(scope="module")
def numbers():
    return D.build_numbers_ro()


# --------------------------------------------------------------------------- digits


def test_digits_shapes_and_split(digits):
    from sklearn.datasets import load_digits

    assert _sizes(digits) == {"train": 1197, "val": 200, "test": 400}
    for s in SPLITS:
        x, y = digits[f"x_{s}"], digits[f"y_{s}"]
        assert x.shape == (len(y), 16, 4) and x.dtype == np.float32
        assert y.dtype == np.int64 and y.min() >= 0 and y.max() <= 9
        assert 0.0 <= x.min() and x.max() <= 1.0
    idx = np.concatenate([digits[f"index_{s}"] for s in SPLITS])
    assert sorted(idx.tolist()) == list(range(1797))  # a partition: no overlap
    bunch = load_digits()
    i = digits["index_test"][0]
    image = digits["x_test"][0].reshape(4, 4, 2, 2).transpose(0, 2, 1, 3).reshape(8, 8)
    np.testing.assert_allclose(image, bunch.images[i] / 16.0, rtol=1e-6)
    assert digits["y_test"][0] == bunch.target[i]


def test_digits_rows_and_determinism(digits):
    rows = D.build_digits(tokens="rows")
    assert rows["x_train"].shape == (1197, 8, 8)
    assert checksum(D.build_digits()) == checksum(digits)
    assert checksum(D.build_digits(seed=1)) != checksum(digits)
    with pytest.raises(ValueError):
        D.build_digits(n_val=1000, n_test=1000)


# --------------------------------------------------------------------------- MNIST-1D


def test_mnist1d_shapes_and_labels(mnist1d):
    assert _sizes(mnist1d) == {"train": 3500, "val": 500, "test": 1000}
    for s in SPLITS:
        x, y = mnist1d[f"x_{s}"], mnist1d[f"y_{s}"]
        assert x.shape == (len(y), 10, 4) and x.dtype == np.float32
        assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    all_y = np.concatenate([mnist1d[f"y_{s}"] for s in SPLITS])
    assert np.bincount(all_y).tolist() == [500] * 10  # the generator's 500 per class
    assert not _rows(mnist1d["x_train"]) & _rows(mnist1d["x_test"])
    assert not _rows(mnist1d["x_train"]) & _rows(mnist1d["x_val"])


def test_mnist1d_determinism_and_global_rng(mnist1d):
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    again = D.build_mnist1d()
    assert np.array_equal(np.random.get_state()[1], state)  # global state restored
    assert checksum(again) == checksum(mnist1d)
    assert checksum(D.build_mnist1d(seed=0)) != checksum(mnist1d)


# --------------------------------------------------------------------------- ListOps


@pytest.mark.parametrize("expr, value", [
    ("[MAX 2 9 [MIN 4 7 ] 0 ]", 9),  # the example of Nangia & Bowman (2018)
    ("[MIN 3 8 ]", 3),
    ("[MED 1 3 5 ]", 3),
    ("[MED 1 2 ]", 1),  # mean of the middle pair, truncated
    ("[MED 4 9 2 7 ]", 5),
    ("[SM 5 6 7 ]", 8),
    ("[MIN [MAX 3 8 ] [SM 4 4 ] 6 ]", 6),
    ("[SM [MED 1 9 5 ] [MAX 0 0 ] 9 ]", 4),
    ("( ( [MAX 2 ) 9 ) ]", 9),  # original tree notation
])
def test_listops_evaluate(expr, value):
    assert D.listops_evaluate(expr) == value


@pytest.mark.parametrize("bad", ["[MAX 1 2", "[MAX ]", "1 2", "[FOO 1 ]", "]"])
def test_listops_evaluate_rejects_malformed(bad):
    with pytest.raises(ValueError):
        D.listops_evaluate(bad)


def test_listops_dataset(listops):
    vocab = listops["vocab"]
    assert vocab.tolist() == list(D.LISTOPS_VOCAB) and len(vocab) == 16
    assert _sizes(listops) == {"train": 4000, "val": 500, "test": 1000}
    seen = []
    for s in SPLITS:
        x, y, mask = listops[f"x_{s}"], listops[f"y_{s}"], listops[f"mask_{s}"]
        assert x.shape == mask.shape == (len(y), 60) and x.dtype == np.int64
        assert mask.dtype == bool and np.array_equal(mask, x != 0)
        lengths = mask.sum(1)
        assert lengths.min() >= 4 and lengths.max() <= 60
        # left-aligned: no padding before a real token
        assert all(mask[i, :n].all() for i, n in enumerate(lengths))
        assert np.bincount(y, minlength=10).tolist() == [len(y) // 10] * 10  # balanced
        texts = D.decode_tokens(x, vocab)
        assert [D.listops_evaluate(t) for t in texts] == y.tolist()
        assert all(t.split()[0] in D.LISTOPS_OPS for t in texts)
        seen.append(set(texts))
        assert len(seen[-1]) == len(y)  # unique within the split
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])


def test_listops_determinism_and_options(listops):
    small = dict(n_train=200, n_val=50, n_test=50)
    assert checksum(D.build_listops(**small)) == checksum(D.build_listops(**small))
    assert checksum(D.build_listops(**small, seed=1)) != checksum(D.build_listops(**small))
    shallow = D.build_listops(**small, max_depth=1, max_args=3, operators=["[MAX", "[MIN"])
    texts = D.decode_tokens(shallow["x_train"], shallow["vocab"])
    assert all(t.count("[") == 1 and len(t.split()) <= 5 and t[:4] in ("[MAX", "[MIN")
               for t in texts)
    with pytest.raises(ValueError):
        D.build_listops(operators=["[FIRST"])


# --------------------------------------------------------------------------- SCAN


def test_scan_grammar_count():
    commands = D.scan_commands()
    assert len(commands) == len(set(commands)) == D.SCAN_N_COMMANDS == 20_910
    assert max(len(c.split()) for c in commands) == 9
    assert max(len(D.scan_interpret(c).split()) for c in commands) == 48


@pytest.mark.parametrize("command, actions", [
    ("jump", "I_JUMP"),
    ("jump twice", "I_JUMP I_JUMP"),
    ("turn left", "I_TURN_LEFT"),
    ("walk left", "I_TURN_LEFT I_WALK"),
    ("walk opposite left", "I_TURN_LEFT I_TURN_LEFT I_WALK"),
    ("turn opposite right", "I_TURN_RIGHT I_TURN_RIGHT"),
    ("turn around left", " ".join(["I_TURN_LEFT"] * 4)),
    ("look around right", " ".join(["I_TURN_RIGHT I_LOOK"] * 4)),
    ("run after walk", "I_WALK I_RUN"),
    ("run and walk", "I_RUN I_WALK"),
    ("jump thrice after turn left twice", "I_TURN_LEFT I_TURN_LEFT I_JUMP I_JUMP I_JUMP"),
    ("walk opposite right thrice and look", " ".join(["I_TURN_RIGHT I_TURN_RIGHT I_WALK"] * 3)
     + " I_LOOK"),
])
def test_scan_interpretation(command, actions):
    assert D.scan_interpret(command) == actions


def test_scan_interpretation_lengths():
    assert len(D.scan_interpret("look around right thrice").split()) == 24
    with pytest.raises(ValueError):
        D.scan_interpret("turn twice")


def test_scan_dataset(scan):
    assert _sizes(scan) == {"train": 15728, "val": 1000, "test": 4182}
    src_vocab, tgt_vocab = scan["src_vocab"], scan["tgt_vocab"]
    assert src_vocab[:3].tolist() == tgt_vocab[:3].tolist() == ["<pad>", "<bos>", "<eos>"]
    commands = []
    for s in SPLITS:
        x, y = scan[f"x_{s}"], scan[f"y_{s}"]
        assert x.shape == (len(y), 10) and y.shape == (len(y), 50)
        assert x.dtype == y.dtype == np.int64
        assert (y[:, 0] == D.BOS).all() and (x != D.BOS).all()
        assert ((x == D.EOS).sum(1) == 1).all() and ((y == D.EOS).sum(1) == 1).all()
        src = D.decode_tokens(x, src_vocab)
        assert D.decode_tokens(y, tgt_vocab) == [D.scan_interpret(c) for c in src]
        commands.append(set(src))
        assert len(commands[-1]) == len(y)
    assert set.union(*commands) == set(D.scan_commands())  # a partition of all 20,910
    assert sum(map(len, commands)) == 20_910


def test_scan_filters_and_determinism(scan):
    short = D.build_scan(max_target_len=8, max_train=1000, max_val=100, max_test=200)
    assert _sizes(short) == {"train": 1000, "val": 100, "test": 200}
    assert short["y_train"].shape == (1000, 10)
    assert ((short["y_train"] != 0).sum(1) - 2).max() <= 8
    full = set(D.decode_tokens(scan["x_test"], scan["src_vocab"]))
    assert set(D.decode_tokens(short["x_test"], short["src_vocab"])) <= full  # no split moves
    capped = D.build_scan(max_train=500)
    np.testing.assert_array_equal(capped["x_train"], scan["x_train"][:500])
    assert checksum(D.build_scan()) == checksum(scan)
    assert checksum(D.build_scan(seed=1)) != checksum(scan)


# --------------------------------------------------------------------------- numbers En -> Ro


@pytest.mark.parametrize("n, en, ro", [
    (0, "zero", "zero"),
    (7, "seven", "șapte"),
    (12, "twelve", "doisprezece"),
    (21, "twenty - one", "douăzeci și unu"),
    (100, "one hundred", "o sută"),
    (1234, "one thousand , two hundred and thirty - four", "o mie două sute treizeci și patru"),
    (2000, "two thousand", "două mii"),
])
def test_numbers_words(n, en, ro):
    assert " ".join(D.english_words(n)) == en
    assert " ".join(D.romanian_words(n)) == ro


def test_numbers_dataset(numbers):
    assert _sizes(numbers) == {"train": 4000, "val": 500, "test": 1000}
    nums = [numbers[f"numbers_{s}"] for s in SPLITS]
    everything = np.concatenate(nums)
    assert len(set(everything.tolist())) == len(everything)  # no number in two splits
    assert everything.min() >= 0 and everything.max() <= 9999
    for s, ns in zip(SPLITS, nums):
        x, y = numbers[f"x_{s}"], numbers[f"y_{s}"]
        assert x.shape == (len(ns), 10) and y.shape == (len(ns), 9)
        assert x.dtype == y.dtype == np.int64 and (y[:, 0] == D.BOS).all()
        for row in range(0, len(ns), 97):
            n = int(ns[row])
            assert D.decode_tokens(x[row], numbers["src_vocab"]) == " ".join(D.english_words(n))
            assert D.decode_tokens(y[row], numbers["tgt_vocab"]) == " ".join(D.romanian_words(n))


def test_numbers_determinism():
    small = dict(n_train=300, n_val=50, n_test=50, max_number=999)
    a = D.build_numbers_ro(**small)
    assert checksum(a) == checksum(D.build_numbers_ro(**small))
    assert checksum(D.build_numbers_ro(**small, seed=1)) != checksum(a)
    with pytest.raises(ValueError):
        D.build_numbers_ro(n_train=900, n_val=50, n_test=51, max_number=999)


# --------------------------------------------------------------------------- helpers


def test_decode_tokens_and_one_hot():
    vocab = np.array(["<pad>", "<bos>", "<eos>", "a", "b"])
    ids = np.array([[1, 3, 4, 2, 3, 0], [3, 0, 0, 0, 0, 0]])
    assert D.decode_tokens(ids, vocab) == ["a b", "a"]
    assert D.decode_tokens(ids[0], vocab) == "a b"
    oh = D.one_hot_tokens(np.array([[3, 0]]), 5)
    assert oh.shape == (1, 2, 5) and oh.dtype == np.float32
    assert oh[0, 0].tolist() == [0, 0, 0, 1, 0] and not oh[0, 1].any()


def test_save_and_load_roundtrip(tmp_path, scan):
    path = tmp_path / "scan.npz"
    card = save_dataset(scan, path)
    assert card["sizes"] == {"train": 15728, "val": 1000, "test": 4182}
    loaded = load_arrays(path)
    assert checksum(loaded) == card["checksum"] == checksum(scan)
    assert loaded["src_vocab"].tolist() == scan["src_vocab"].tolist()


def test_build_registry():
    assert set(D.BUILDERS) == set(D.CLASSIFICATION) | set(D.GENERATION)
    assert (D.CLASSIFICATION, D.GENERATION) == (CLASSIFICATION_TASKS, GENERATION_TASKS)
    assert _sizes(D.build("mnist", n_val=500, n_test=1000, seed=0))["train"] == 3500
    assert _sizes(D.build("digits", n_val=100, n_test=100))["train"] == 1597
    with pytest.raises(ValueError):
        D.build("imagenet")


@pytest.mark.parametrize("cut", ["half", "empty", "no card"])
def test_a_damaged_data_file_names_itself_and_the_command_that_rebuilds_it(tmp_path, cut):
    """A truncated or empty npz (or a lost card) stops with the file's name and the
    rebuild command, not numpy's zip error; load_task, what every notebook calls
    first, passes it on."""
    from pathlib import Path

    import yaml
    from layerkd.config import parse_params
    from layerkd.data.store import DataFileError
    from layerkd.tasks import load_task

    smoke = Path(__file__).resolve().parents[1] / "profiles" / "smoke.yaml"
    params = parse_params(yaml.safe_load(smoke.read_text()))
    path = tmp_path / "digits.npz"
    save_dataset(D.build_digits(), path)
    whole = path.read_bytes()
    if cut == "no card":
        path.with_suffix(".json").unlink()
    else:
        path.write_bytes(whole[:len(whole) // 2] if cut == "half" else b"")
    with pytest.raises(DataFileError) as err:
        load_task("digits", params, tmp_path)
    assert str(tmp_path / "digits") in str(err.value)
    assert "`dvc repro -f -s data`" in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_a_hub_data_file_names_its_own_stage(tmp_path):
    from layerkd.data.store import DataFileError

    path = tmp_path / "data_hub" / "mnli.npz"
    path.parent.mkdir()
    path.write_bytes(b"PK\x03\x04 cut")
    with pytest.raises(DataFileError, match=r"data_hub/mnli\.npz cannot be read.*"
                                            r"`dvc repro -f -s hub_data@mnli`"):
        load_arrays(path)
