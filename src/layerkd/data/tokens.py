"""Token ids and vocabularies of the token-sequence tasks (listops, scan, numbers_ro).

Sequence conventions of the generation tasks (scan and numbers_ro share them)::

    PAD = 0, BOS = 1, EOS = 2; vocabularies start with ["<pad>", "<bos>", "<eos>"]
    x[i] = source words, EOS, PAD ...             (no BOS on the source side)
    y[i] = BOS, target words, EOS, PAD ...        (decoder input y[:, :-1], labels y[:, 1:])

``decode_tokens(ids, vocab)`` turns id arrays back into space-joined strings
(stops at EOS, drops PAD and BOS), e.g. for BLEU with ``sacrebleu``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")


def vocab_array(words: Sequence[str]) -> np.ndarray:
    """A fixed-width unicode array (savez-able without pickle)."""
    return np.asarray(list(words), dtype=str)


def encode(seqs: Sequence[Sequence[str]], vocab: Sequence[str], length: int,
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
