"""listops: ListOps expressions -> int64 token ids (0 = pad) and a bool mask."""

from __future__ import annotations

import random
from typing import Sequence

import numpy as np

from .splits import POOL, SPLITS
from .tokens import vocab_array

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
                  operators: Sequence[str] = LISTOPS_OPS, n_pool: int = 0) -> dict[str, np.ndarray]:
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
    val (``n_val``, 500), then test (``n_test``, 1,000), then the teacher's
    pre-training pool (``n_pool``, default 0: none); each split is then
    shuffled with the same generator. Expressions are unique over all splits,
    so none occurs in two splits (a pool leaves the other splits unchanged).
    """
    if max_depth < 1 or max_args < 2 or min_length < 4 or max_length < min_length:
        raise ValueError("listops: need max_depth >= 1, max_args >= 2, 4 <= min_length <= max_length")
    ops = tuple(operators)
    if not ops or any(op not in LISTOPS_OPS for op in ops):
        raise ValueError(f"listops: operators must be a non-empty subset of {LISTOPS_OPS}, got {ops}")
    sizes = {"train": n_train, "val": n_val, "test": n_test, POOL: n_pool}
    if n_train < 1 or n_val < 0 or n_test < 0 or n_pool < 0:
        raise ValueError("listops: split sizes (n_val, n_test, n_pool) must be non-negative "
                         "(n_train >= 1)")
    rng = random.Random(seed)
    seen: set[str] = set()
    index = {w: i for i, w in enumerate(LISTOPS_VOCAB)}
    attempts, limit = 0, 1000 * sum(sizes.values()) + 100_000
    out: dict[str, np.ndarray] = {}
    for s in SPLITS + ((POOL,) if n_pool else ()):
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
    out["vocab"] = vocab_array(LISTOPS_VOCAB)
    return out
