"""Scores of a trained model: accuracy (classifiers), corpus BLEU and exact
match of decodes (encoder-decoders: ``sacrebleu.corpus_bleu``, default 13a
tokenisation, on detokenised word strings)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..data import Split
from ..models import BOS_ID, EOS_ID, PAD_ID, EncoderDecoder


@torch.no_grad()
def predict(model: nn.Module, split: Split, batch_size: int = 1000) -> torch.Tensor:
    """Class predictions of an Encoder (or anything returning (logits, ...))."""
    model.eval()
    out = []
    for i in range(0, len(split), batch_size):
        mask = None if split.mask is None else split.mask[i : i + batch_size]
        out.append(model(split.x[i : i + batch_size], mask)[0].argmax(-1))
    return torch.cat(out)


def accuracy(model: nn.Module, split: Split) -> float:
    return 100.0 * (predict(model, split) == split.y).float().mean().item()


def ids_to_text(ids, vocab: Sequence[str], bos_id: int = BOS_ID, eos_id: int = EOS_ID,
                pad_id: int = PAD_ID) -> list[str]:
    """(N, T) ids -> N space-joined word strings: read up to the first EOS, drop PAD / BOS."""
    rows = ids.tolist() if hasattr(ids, "tolist") else list(ids)
    words = [str(w) for w in (vocab.tolist() if hasattr(vocab, "tolist") else vocab)]
    out = []
    for row in rows:
        kept = []
        for t in row:
            if t == eos_id:
                break
            if t not in (pad_id, bos_id):
                kept.append(words[t])
        out.append(" ".join(kept))
    return out


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (0-100) of detokenised strings, one reference each (sacrebleu defaults)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses vs {len(references)} references")
    return multi_reference_bleu(hypotheses, [[r] for r in references])


def multi_reference_bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU (0-100) against one or more references per hypothesis (sacrebleu
    defaults; an example with fewer references than the most has its streams
    padded with None, which sacrebleu skips)."""
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses vs {len(references)} reference lists")
    width = max((len(r) for r in references), default=1)
    streams = [[r[k] if k < len(r) else None for r in references] for k in range(width)]
    return float(sacrebleu.corpus_bleu(list(hypotheses), streams).score)


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Percentage of hypotheses equal to their reference (whitespace-normalised)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses vs {len(references)} references")
    if not references:
        return 0.0
    same = sum(h.split() == r.split() for h, r in zip(hypotheses, references))
    return 100.0 * same / len(references)


@torch.no_grad()
def evaluate_seq2seq(
    model: EncoderDecoder,
    split,
    bos: int = BOS_ID,
    eos: int = EOS_ID,
    max_len: int | None = None,
    vocab: Sequence[str] | None = None,
    batch_size: int = 500,
    beams: int = 1,
) -> dict[str, float]:
    """Decode ``split.x`` and score it against ``split.y``: {"bleu", "exact_match"}.

    beams: 1 = greedy, else the beam width (``EncoderDecoder.generate``).
    split: anything with ``x`` (N, S) source ids and ``y`` (N, T + 1) references
    (``data.Split``). max_len: decoding steps (default T, room for the longest
    reference and its EOS, capped at the model's ``max_tgt_len``). vocab: the
    target vocabulary, to turn ids into words (required).
    """
    if vocab is None:
        raise ValueError("evaluate_seq2seq needs the target vocabulary")
    if max_len is None:
        max_len = min(split.y.shape[1] - 1, model.max_tgt_len)
    hyps = []
    for i in range(0, len(split.x), batch_size):
        src = split.x[i : i + batch_size]
        out = model.generate(src, src != PAD_ID, bos, eos, max_len, beams=beams)
        hyps += ids_to_text(out, vocab, bos, eos)
    refs = ids_to_text(split.y, vocab, bos, eos)
    return {"bleu": corpus_bleu(hyps, refs), "exact_match": exact_match(hyps, refs)}
