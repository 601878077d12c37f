"""numbers_ro: numbers in English words -> the same numbers in Romanian words."""

from __future__ import annotations

import re

import numpy as np

from .splits import POOL, SPLITS, check_sizes, split_dict
from .tokens import SPECIALS, encode, vocab_array


def english_words(n: int) -> list[str]:
    """``num2words(n, lang='en')`` as word tokens; ',' and '-' become tokens of their own."""
    from num2words import num2words

    return re.sub(r"([,-])", r" \1 ", num2words(int(n), lang="en")).split()


def romanian_words(n: int) -> list[str]:
    """``num2words(n, lang='ro')`` as word tokens (whitespace split)."""
    from num2words import num2words

    return num2words(int(n), lang="ro").split()


def build_numbers_ro(n_train: int = 4000, n_val: int = 500, n_test: int = 1000, seed: int = 0,
                     max_number: int = 9999, n_pool: int = 0) -> dict[str, np.ndarray]:
    """Numbers in English words -> Romanian words: a small stand-in for En->Ro translation.

    Data: the integers 0..``max_number`` (default 9,999) rendered by
    ``num2words`` (``lang='en'`` source, e.g. "one thousand , two hundred and
    thirty - four"; ``lang='ro'`` target, e.g. "o mie două sute treizeci și
    patru"). Word-level tokens: the target is split on whitespace; the source
    too, after detaching ',' and '-' into tokens of their own.

    Split: one permutation of 0..max_number drawn from ``seed``; train = the
    first ``n_train`` (default 4,000), val = the next ``n_val`` (500), test =
    the next ``n_test`` (1,000); the teacher's pre-training pool = the next
    ``n_pool`` (default 0: none); the remaining numbers are unused, and no
    number is in two splits. ``numbers_train`` etc. hold the integers.

    Encoding (conventions: ``layerkd.data.tokens``): x (N, S) int64 = source words + EOS,
    y (N, T) int64 = BOS + target words + EOS, S and T = the longest such
    sequence over the whole range (10 and 9 for 0..9999). ``src_vocab`` /
    ``tgt_vocab`` = the three specials followed by the sorted words occurring
    anywhere in 0..max_number (independent of the split, so no unknown words).
    """
    if max_number < 0:
        raise ValueError(f"max_number must be >= 0, got {max_number}")
    total = max_number + 1
    check_sizes(n_val, n_test + n_pool, total, "numbers_ro", n_train=n_train)
    if n_pool < 0:
        raise ValueError(f"numbers_ro: n_pool must be >= 0, got {n_pool}")
    src_all = [english_words(k) for k in range(total)]
    tgt_all = [romanian_words(k) for k in range(total)]
    src_vocab = SPECIALS + tuple(sorted({w for s in src_all for w in s}))
    tgt_vocab = SPECIALS + tuple(sorted({w for t in tgt_all for w in t}))
    src_len = max(map(len, src_all)) + 1
    tgt_len = max(map(len, tgt_all)) + 2
    order = np.random.default_rng(seed).permutation(total)
    sizes = {"train": n_train, "val": n_val, "test": n_test, POOL: n_pool}
    x, y, nums = {}, {}, {}
    start = 0
    for s in SPLITS + ((POOL,) if n_pool else ()):
        idx = order[start: start + sizes[s]]
        start += sizes[s]
        nums[s] = idx.astype(np.int64)
        x[s] = encode([src_all[i] for i in idx], src_vocab, src_len, bos=False, eos=True)
        y[s] = encode([tgt_all[i] for i in idx], tgt_vocab, tgt_len, bos=True, eos=True)
    out = split_dict(x, y)
    for s in nums:
        out[f"numbers_{s}"] = nums[s]
    out["src_vocab"] = vocab_array(src_vocab)
    out["tgt_vocab"] = vocab_array(tgt_vocab)
    return out
