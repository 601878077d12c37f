"""Offline builders for five further tasks: three classification, two generation.

Every builder is a pure function of its arguments (a fixed seed gives the same
arrays, byte for byte), touches no network and no global random state, and
returns a dict of numpy arrays with the keys ``x_train, y_train, x_val, y_val,
x_test, y_test`` plus task extras (masks, vocabularies), ready for
``layerkd.data.save_dataset``.

Classification (``y`` = int64 class):

* ``digits``   scikit-learn's 1,797 real 8x8 digits -> 16 patch tokens x 4 features.
* ``mnist1d``  MNIST-1D from the ``mnist1d`` package's own generator -> 10 tokens x 4.
* ``listops``  ListOps expressions -> int64 token ids (0 = pad) and a bool mask.

Generation (``x`` = source ids, ``y`` = target ids, int64, padded with 0):

* ``scan``        SCAN commands -> action sequences (all 20,910 commands).
* ``numbers_ro``  numbers in English words -> the same numbers in Romanian words.

Sequence conventions of the generation tasks (both share them)::

    PAD = 0, BOS = 1, EOS = 2; vocabularies start with ["<pad>", "<bos>", "<eos>"]
    x[i] = source words, EOS, PAD ...             (no BOS on the source side)
    y[i] = BOS, target words, EOS, PAD ...        (decoder input y[:, :-1], labels y[:, 1:])

``decode_tokens(ids, vocab)`` turns id arrays back into space-joined strings
(stops at EOS, drops PAD and BOS), e.g. for BLEU with ``sacrebleu``.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Sequence

import numpy as np

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")

SPLITS = ("train", "val", "test")


# --------------------------------------------------------------------------- helpers


def _split_dict(x: dict[str, np.ndarray], y: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for s in SPLITS:
        out[f"x_{s}"], out[f"y_{s}"] = x[s], y[s]
    return out


def _check_sizes(n_val: int, n_test: int, total: int, what: str, n_train: int | None = None) -> None:
    """Without n_train the training split is the rest, so it must keep >= 1 example."""
    if n_val < 0 or n_test < 0 or (n_train is not None and n_train < 1):
        raise ValueError(f"{what}: split sizes must be non-negative (train >= 1)")
    if n_train is None and n_val + n_test >= total:
        raise ValueError(f"{what}: n_val + n_test must be < {total}, got {n_val + n_test}")
    if n_train is not None and n_train + n_val + n_test > total:
        raise ValueError(f"{what}: n_train + n_val + n_test must be <= {total}, "
                         f"got {n_train + n_val + n_test}")


def _vocab_array(words: Sequence[str]) -> np.ndarray:
    """A fixed-width unicode array (savez-able without pickle)."""
    return np.asarray(list(words), dtype=str)


def _encode(seqs: Sequence[Sequence[str]], vocab: Sequence[str], length: int,
            bos: bool, eos: bool) -> np.ndarray:
    """Word lists -> (N, length) int64 ids, padded with PAD."""
    index = {w: i for i, w in enumerate(vocab)}
    out = np.full((len(seqs), length), PAD, dtype=np.int64)
    for i, words in enumerate(seqs):
        ids = ([BOS] if bos else []) + [index[w] for w in words] + ([EOS] if eos else [])
        if len(ids) > length:
            raise ValueError(f"sequence of {len(ids)} ids does not fit length {length}")
        out[i, : len(ids)] = ids
    return out


def decode_tokens(ids, vocab) -> str | list[str]:
    """Token ids -> space-joined words; a 2-D array gives one string per row.

    Reading stops at the first ``<eos>``; ``<pad>`` and ``<bos>`` are dropped
    (so decoded model outputs and references compare as plain text, e.g. for
    sacrebleu). Specials are recognised by their vocabulary entry, so the same
    helper also decodes ListOps ids (whose only special is ``<pad>``).
    """
    ids = np.asarray(ids)
    vocab = [str(w) for w in np.asarray(vocab).tolist()]
    if ids.ndim == 2:
        return [decode_tokens(row, vocab) for row in ids]
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D or 2-D, got shape {ids.shape}")
    words = []
    for t in ids.tolist():
        w = vocab[t]
        if w == "<eos>":
            break
        if w not in ("<pad>", "<bos>"):
            words.append(w)
    return " ".join(words)


def one_hot_tokens(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """(N, T) int ids -> (N, T, vocab_size) float32 one-hot; PAD (0) maps to all zeros.

    Lets a token-feature encoder (``layerkd.models.Encoder``) read id sequences
    through its linear embedding.
    """
    ids = np.asarray(ids)
    out = np.zeros(ids.shape + (vocab_size,), dtype=np.float32)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    out[..., PAD] = 0.0
    return out


# --------------------------------------------------------------------------- digits


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
    _check_sizes(n_val, n_test, n, "digits")
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
    out = _split_dict({k: x[s] for k, s in parts.items()}, {k: y[s] for k, s in parts.items()})
    for k, s in parts.items():
        out[f"index_{k}"] = order[s].astype(np.int64)
    return out


# --------------------------------------------------------------------------- MNIST-1D


def build_mnist1d(n_val: int = 500, seed: int = 42, patch: int = 4) -> dict[str, np.ndarray]:
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
    package's train part, train = the first 3,500. y is int64 in 0..9.
    """
    import mnist1d.data as m1d

    args = m1d.get_dataset_args()
    if args.final_seq_length % patch:
        raise ValueError(f"patch must divide {args.final_seq_length}, got {patch}")
    args.seed = int(seed)
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        raw = m1d.make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    n_train_all = len(raw["y"])
    _check_sizes(n_val, 0, n_train_all, "mnist1d")

    def tok(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a.reshape(len(a), -1, patch).astype(np.float32))

    xtr, ytr = tok(raw["x"]), np.asarray(raw["y"], dtype=np.int64)
    cut = n_train_all - n_val
    x = {"train": xtr[:cut], "val": xtr[cut:], "test": tok(raw["x_test"])}
    y = {"train": ytr[:cut], "val": ytr[cut:],
         "test": np.asarray(raw["y_test"], dtype=np.int64)}
    return _split_dict(x, y)


# --------------------------------------------------------------------------- ListOps

LISTOPS_OPS = ("[MAX", "[MIN", "[MED", "[SM")
LISTOPS_VOCAB = ("<pad>",) + tuple(str(d) for d in range(10)) + LISTOPS_OPS + ("]",)


def listops_evaluate(expression: str | Sequence[str]) -> int:
    """Value (0..9) of a ListOps expression such as ``"[MAX 2 9 [MIN 4 7 ] 0 ]"``.

    MAX, MIN; MED = int(median) (the mean of the two middle values, truncated,
    for an even count, as in the original generator's ``np.median``);
    SM = sum modulo 10. Round brackets (the original tree notation) are ignored.
    """
    words = expression.split() if isinstance(expression, str) else list(expression)
    stack: list[list] = [[]]
    for w in words:
        if w in ("(", ")"):
            continue
        if w.startswith("["):
            if w not in LISTOPS_OPS:
                raise ValueError(f"unknown operator {w!r}")
            stack.append([w])
        elif w == "]":
            if len(stack) < 2:
                raise ValueError("unbalanced ']'")
            op, *args = stack.pop()
            if not args:
                raise ValueError(f"{op} without arguments")
            if op == "[MAX":
                v = max(args)
            elif op == "[MIN":
                v = min(args)
            elif op == "[MED":
                v = int(np.median(args))
            else:
                v = sum(args) % 10
            stack[-1].append(v)
        else:
            d = int(w)
            if not 0 <= d <= 9:
                raise ValueError(f"digit out of range: {w!r}")
            stack[-1].append(d)
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ValueError(f"malformed expression: {expression!r}")
    return int(stack[0][0])


def _listops_tree(rng: random.Random, depth: int, gen_max_depth: int, max_args: int,
                  value_p: float, operators: tuple[str, ...]) -> list[str]:
    """Nangia & Bowman's recursive generator, emitted as a flat token list."""
    r = rng.random() if depth < gen_max_depth else 1.0
    if r > value_p:
        return [str(rng.choice(range(10)))]
    n_args = rng.randint(2, max_args)
    out = []
    for _ in range(n_args):
        out += _listops_tree(rng, depth + 1, gen_max_depth, max_args, value_p, operators)
    return [rng.choice(operators)] + out + ["]"]


def build_listops(n_train: int = 4000, n_val: int = 500, n_test: int = 1000, seed: int = 0,
                  max_depth: int = 3, max_args: int = 5, min_length: int = 4,
                  max_length: int = 60, value_p: float = 0.25, balance: bool = True,
                  operators: Sequence[str] = LISTOPS_OPS) -> dict[str, np.ndarray]:
    """ListOps (Nangia & Bowman 2018) at short lengths (10 classes: the value 0..9).

    Procedure (their ``data_generation.py``, also used by Long Range Arena):
    a node at generator depth d < MAX_DEPTH is an operator with probability
    ``value_p`` (0.25), otherwise a digit 0..9 drawn uniformly; an operator
    node draws one of MAX, MIN, MED, SM (sum mod 10) uniformly and 2..``max_args``
    children recursively; the root is generated at depth 1 and examples are kept
    when ``min_length <= tokens <= max_length`` (a bare digit root is rejected),
    and only unique expressions are kept. Here ``max_depth`` counts operator
    nesting levels (generator MAX_DEPTH = max_depth + 1), so the defaults give
    at most 3 nested brackets, 2..5 arguments and at most 60 tokens. Round
    brackets of the original tree notation are dropped (as in LRA).
    ``operators`` may restrict the operator set (default: all four, as
    published; SM is by far the hardest for a small model to learn from a few
    thousand examples); the vocabulary and ids stay the same.

    Class balance: with ``balance=True`` (default) an expression is also
    rejected once its value's class already holds ceil(n / 10) of the n
    examples of the split being filled, so each split is (near) exactly
    balanced, 10% per class. The original filters by length only; its value
    distribution is already close to uniform (about 9-11% per class at these
    settings, 0 and 9 the most frequent), this only evens it out.

    Encoding: vocabulary ``LISTOPS_VOCAB`` (returned as ``vocab``): 0 = pad,
    digit d = id d + 1, ``[MAX``=11, ``[MIN``=12, ``[MED``=13, ``[SM``=14,
    ``]``=15. x (N, max_length) int64, left-aligned, padded with 0;
    mask (N, max_length) bool, True on real tokens (``mask_train`` etc.); y int64.

    Split: expressions are generated in one stream from ``seed`` (Python's
    ``random.Random``), which fills train (``n_train``, default 4,000), then
    val (``n_val``, 500), then test (``n_test``, 1,000); each split is then
    shuffled with the same generator. Expressions are unique over all splits,
    so none occurs in two splits.
    """
    if max_depth < 1 or max_args < 2 or min_length < 4 or max_length < min_length:
        raise ValueError("listops: need max_depth >= 1, max_args >= 2, 4 <= min_length <= max_length")
    ops = tuple(operators)
    if not ops or any(op not in LISTOPS_OPS for op in ops):
        raise ValueError(f"listops: operators must be a non-empty subset of {LISTOPS_OPS}, got {ops}")
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    if n_train < 1 or n_val < 0 or n_test < 0:
        raise ValueError("listops: split sizes must be non-negative (train >= 1)")
    rng = random.Random(seed)
    seen: set[str] = set()
    index = {w: i for i, w in enumerate(LISTOPS_VOCAB)}
    attempts, limit = 0, 1000 * sum(sizes.values()) + 100_000
    out: dict[str, np.ndarray] = {}
    for s in SPLITS:
        n, quota = sizes[s], -(-sizes[s] // 10)
        counts = [0] * 10
        exprs: list[list[str]] = []
        labels: list[int] = []
        while len(exprs) < n:
            attempts += 1
            if attempts > limit:
                raise RuntimeError("listops: too few unique expressions of the requested "
                                   "lengths; relax the length/depth limits")
            tokens = _listops_tree(rng, 1, max_depth + 1, max_args, value_p, ops)
            if not min_length <= len(tokens) <= max_length:
                continue
            key = " ".join(tokens)
            if key in seen:
                continue
            value = listops_evaluate(tokens)
            if balance and counts[value] >= quota:
                continue
            seen.add(key)
            counts[value] += 1
            exprs.append(tokens)
            labels.append(value)
        # quota filling leaves the frequent classes early in the stream: reshuffle
        order = list(range(n))
        rng.shuffle(order)
        x = np.zeros((n, max_length), dtype=np.int64)
        for row, i in enumerate(order):
            x[row, : len(exprs[i])] = [index[w] for w in exprs[i]]
        out[f"x_{s}"] = x
        out[f"y_{s}"] = np.asarray([labels[i] for i in order], dtype=np.int64)
        out[f"mask_{s}"] = x != 0
    out["vocab"] = _vocab_array(LISTOPS_VOCAB)
    return out


# --------------------------------------------------------------------------- SCAN

SCAN_PRIMITIVES = ("walk", "look", "run", "jump")
SCAN_ACTIONS = {"walk": "I_WALK", "look": "I_LOOK", "run": "I_RUN", "jump": "I_JUMP",
                "left": "I_TURN_LEFT", "right": "I_TURN_RIGHT"}
SCAN_SRC_VOCAB = SPECIALS + ("walk", "look", "run", "jump", "turn", "left", "right",
                             "opposite", "around", "twice", "thrice", "and", "after")
SCAN_TGT_VOCAB = SPECIALS + ("I_WALK", "I_LOOK", "I_RUN", "I_JUMP", "I_TURN_LEFT", "I_TURN_RIGHT")
SCAN_N_COMMANDS = 20_910


def scan_commands() -> list[str]:
    """All commands of SCAN's phrase-structure grammar (Lake & Baroni 2018, Fig. 6).

    C -> S and S | S after S | S;  S -> V twice | V thrice | V;
    V -> D[1] opposite D[2] | D[1] around D[2] | D | U;
    D -> U left | U right | turn left | turn right;  U -> walk | look | run | jump.
    34 V, 102 S, 102 + 2 * 102^2 = 20,910 C, in this deterministic order.
    """
    movers = SCAN_PRIMITIVES + ("turn",)
    d = [f"{u} {side}" for u in movers for side in ("left", "right")]
    v = ([f"{u} {mod} {side}" for mod in ("opposite", "around") for u in movers
          for side in ("left", "right")] + d + list(SCAN_PRIMITIVES))
    s = [f"{x}{rep}" for x in v for rep in ("", " twice", " thrice")]
    c = list(s) + [f"{a} {conj} {b}" for conj in ("and", "after") for a in s for b in s]
    return c


def _scan_v(words: list[str]) -> list[str]:
    if not words:
        raise ValueError("empty SCAN phrase")
    u = words[0]
    if u not in SCAN_PRIMITIVES and u != "turn":
        raise ValueError(f"not a SCAN verb: {u!r}")
    act = [] if u == "turn" else [SCAN_ACTIONS[u]]
    if len(words) == 1:
        if u == "turn":
            raise ValueError("'turn' needs a direction")
        return act
    *mods, side = words[1:]
    if side not in ("left", "right") or len(mods) > 1:
        raise ValueError(f"not a SCAN phrase: {' '.join(words)!r}")
    turn = [SCAN_ACTIONS[side]]
    if not mods:  # u left / turn left
        return turn + act
    if mods[0] == "opposite":
        return turn * 2 + act
    if mods[0] == "around":
        return (turn + act) * 4
    raise ValueError(f"not a SCAN modifier: {mods[0]!r}")


def _scan_s(words: list[str]) -> list[str]:
    if words and words[-1] in ("twice", "thrice"):
        return _scan_v(words[:-1]) * (2 if words[-1] == "twice" else 3)
    return _scan_v(words)


def scan_interpret(command: str) -> str:
    """SCAN's interpretation function: command -> space-joined action sequence.

    [[x1 and x2]] = [[x1]] [[x2]]; [[x1 after x2]] = [[x2]] [[x1]];
    [[x twice]] / [[x thrice]] repeat 2 / 3 times; [[u left]] = LTURN [[u]];
    [[u opposite left]] = LTURN LTURN [[u]]; [[u around left]] = (LTURN [[u]]) x 4;
    'turn' contributes no action of its own (likewise for right).
    """
    words = command.split()
    for conj in ("and", "after"):
        if conj in words:
            i = words.index(conj)
            a, b = _scan_s(words[:i]), _scan_s(words[i + 1:])
            return " ".join(a + b if conj == "and" else b + a)
    return " ".join(_scan_s(words))


def build_scan(n_val: int = 1000, seed: int = 0, test_frac: float = 0.2,
               max_target_len: int | None = None, max_train: int | None = None,
               max_val: int | None = None, max_test: int | None = None) -> dict[str, np.ndarray]:
    """SCAN (Lake & Baroni 2018), "simple" (random) split, generated from its grammar.

    Procedure: all 20,910 commands of the grammar (``scan_commands``, asserted
    unique) with targets from the interpretation function (``scan_interpret``).
    One permutation drawn from ``seed`` puts round(test_frac * 20,910) = 4,182
    commands in test and the other 16,728 in train (the published simple
    split's 80/20 sizes; the partition itself is our own random draw, not the
    released files); validation = the first ``n_val`` (default 1,000) of those
    train commands, leaving 15,728 for training.

    Optional reductions for CPU budgets, applied in this order after the split
    (so they never move a command between splits): ``max_target_len`` keeps
    only examples whose action sequence has at most that many actions (the full
    data go up to 48); ``max_train`` / ``max_val`` / ``max_test`` keep the first
    that many of each split (a fixed random subsample; smaller caps give
    prefixes of larger ones). Defaults (None) keep the full split.

    Encoding (see the module docstring): x (N, 10) int64 = command words + EOS
    (commands have at most 9 words); y (N, L + 2) int64 = BOS + actions + EOS,
    L = ``max_target_len`` or 48. Vocabularies ``src_vocab`` (16 entries) and
    ``tgt_vocab`` (9 entries) are returned; ids 0/1/2 are PAD/BOS/EOS.
    """
    commands = scan_commands()
    if len(commands) != SCAN_N_COMMANDS or len(set(commands)) != SCAN_N_COMMANDS:
        raise AssertionError(f"SCAN grammar gave {len(set(commands))} unique commands, "
                             f"expected {SCAN_N_COMMANDS}")
    if not 0 < test_frac < 1:
        raise ValueError(f"test_frac must be in (0, 1), got {test_frac}")
    n_test = int(round(test_frac * SCAN_N_COMMANDS))
    _check_sizes(n_val, n_test, SCAN_N_COMMANDS, "scan")
    order = np.random.default_rng(seed).permutation(SCAN_N_COMMANDS)
    parts = {"test": order[:n_test], "val": order[n_test: n_test + n_val],
             "train": order[n_test + n_val:]}
    caps = {"train": max_train, "val": max_val, "test": max_test}
    tgt_len = 48 if max_target_len is None else int(max_target_len)
    if tgt_len < 1:
        raise ValueError(f"max_target_len must be >= 1, got {max_target_len}")
    x, y = {}, {}
    for s in SPLITS:
        src = [commands[i].split() for i in parts[s]]
        tgt = [scan_interpret(commands[i]).split() for i in parts[s]]
        keep = [i for i, t in enumerate(tgt) if len(t) <= tgt_len]
        if caps[s] is not None:
            keep = keep[: int(caps[s])]
        x[s] = _encode([src[i] for i in keep], SCAN_SRC_VOCAB, 10, bos=False, eos=True)
        y[s] = _encode([tgt[i] for i in keep], SCAN_TGT_VOCAB, tgt_len + 2, bos=True, eos=True)
    out = _split_dict(x, y)
    out["src_vocab"] = _vocab_array(SCAN_SRC_VOCAB)
    out["tgt_vocab"] = _vocab_array(SCAN_TGT_VOCAB)
    return out


# --------------------------------------------------------------------------- numbers En -> Ro


def english_words(n: int) -> list[str]:
    """``num2words(n, lang='en')`` as word tokens; ',' and '-' become tokens of their own."""
    from num2words import num2words

    return re.sub(r"([,-])", r" \1 ", num2words(int(n), lang="en")).split()


def romanian_words(n: int) -> list[str]:
    """``num2words(n, lang='ro')`` as word tokens (whitespace split)."""
    from num2words import num2words

    return num2words(int(n), lang="ro").split()


def build_numbers_ro(n_train: int = 4000, n_val: int = 500, n_test: int = 1000, seed: int = 0,
                     max_number: int = 9999) -> dict[str, np.ndarray]:
    """Numbers in English words -> Romanian words: a small stand-in for En->Ro translation.

    Data: the integers 0..``max_number`` (default 9,999) rendered by
    ``num2words`` (``lang='en'`` source, e.g. "one thousand , two hundred and
    thirty - four"; ``lang='ro'`` target, e.g. "o mie două sute treizeci și
    patru"). Word-level tokens: the target is split on whitespace; the source
    too, after detaching ',' and '-' into tokens of their own.

    Split: one permutation of 0..max_number drawn from ``seed``; train = the
    first ``n_train`` (default 4,000), val = the next ``n_val`` (500), test =
    the next ``n_test`` (1,000); the remaining numbers are unused, and no
    number is in two splits. ``numbers_train`` etc. hold the integers.

    Encoding (see the module docstring): x (N, S) int64 = source words + EOS,
    y (N, T) int64 = BOS + target words + EOS, S and T = the longest such
    sequence over the whole range (10 and 9 for 0..9999). ``src_vocab`` /
    ``tgt_vocab`` = the three specials followed by the sorted words occurring
    anywhere in 0..max_number (independent of the split, so no unknown words).
    """
    if max_number < 0:
        raise ValueError(f"max_number must be >= 0, got {max_number}")
    total = max_number + 1
    _check_sizes(n_val, n_test, total, "numbers_ro", n_train=n_train)
    src_all = [english_words(k) for k in range(total)]
    tgt_all = [romanian_words(k) for k in range(total)]
    src_vocab = SPECIALS + tuple(sorted({w for s in src_all for w in s}))
    tgt_vocab = SPECIALS + tuple(sorted({w for t in tgt_all for w in t}))
    src_len = max(map(len, src_all)) + 1
    tgt_len = max(map(len, tgt_all)) + 2
    order = np.random.default_rng(seed).permutation(total)
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    x, y, nums = {}, {}, {}
    start = 0
    for s in SPLITS:
        idx = order[start: start + sizes[s]]
        start += sizes[s]
        nums[s] = idx.astype(np.int64)
        x[s] = _encode([src_all[i] for i in idx], src_vocab, src_len, bos=False, eos=True)
        y[s] = _encode([tgt_all[i] for i in idx], tgt_vocab, tgt_len, bos=True, eos=True)
    out = _split_dict(x, y)
    for s in SPLITS:
        out[f"numbers_{s}"] = nums[s]
    out["src_vocab"] = _vocab_array(src_vocab)
    out["tgt_vocab"] = _vocab_array(tgt_vocab)
    return out


# --------------------------------------------------------------------------- registry

BUILDERS: dict[str, Callable[..., dict[str, np.ndarray]]] = {
    "digits": build_digits,
    "mnist1d": build_mnist1d,
    "listops": build_listops,
    "scan": build_scan,
    "numbers_ro": build_numbers_ro,
}
CLASSIFICATION = ("digits", "mnist1d", "listops")
GENERATION = ("scan", "numbers_ro")


def build(task: str, **kwargs) -> dict[str, np.ndarray]:
    """``BUILDERS[task](**kwargs)`` with a clear error for an unknown task."""
    if task not in BUILDERS:
        raise ValueError(f"task must be one of {sorted(BUILDERS)}, got {task!r}")
    return BUILDERS[task](**kwargs)
