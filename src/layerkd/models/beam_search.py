"""Beam search for ``EncoderDecoder.generate`` (beams > 1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def beam_search(model, memory: torch.Tensor, src_mask: torch.Tensor, k: int, bos_id: int,
                eos_id: int, max_len: int, pad_id: int) -> torch.Tensor:
    """Beam search of width k over an ``EncoderDecoder``; its ``generate``'s output format.

    The k beams of every source row run as one batch of B * k rows (the key/
    value caches reordered by beam after each step). A hypothesis scores the
    sum of its tokens' log-probabilities (whole vocabulary, as greedy); a
    finished one (ended by EOS, or cut at max_len) is ranked by score /
    length, its token count including EOS (length penalty 1.0, Hugging
    Face's default). Each step, every live beam's EOS extension is a
    finished candidate, and the k best other extensions are the next live
    beams. A live hypothesis of sum s < 0 can reach at most s / max_len
    later, so decoding stops once every row holds k finished hypotheses
    scoring at least that for all its live beams (or at max_len); the best
    finished hypothesis of each row is returned.
    """
    b, dev = memory.shape[0], memory.device
    memory, src_mask = memory.repeat_interleave(k, 0), src_mask.repeat_interleave(k, 0)
    caches: list[dict] = [{} for _ in model.dec_blocks]
    first = torch.arange(b, device=dev)[:, None] * k  # each row's first beam
    live = torch.full((b, k), float("-inf"), device=dev)
    live[:, 0] = 0.0  # one start beam per row, so the first step draws k distinct tokens
    seqs = torch.empty(b * k, 0, dtype=torch.long, device=dev)
    fin = torch.full((b, k), float("-inf"), device=dev)  # k best finished, score / length
    fin_seqs = torch.full((b, k, max_len), pad_id, dtype=torch.long, device=dev)

    def keep_best(scores: torch.Tensor, ended: torch.Tensor) -> None:
        """Merge candidates (b, k) scores / (b * k, t) ids into the k best finished."""
        nonlocal fin, fin_seqs
        ended = F.pad(ended, (0, max_len - ended.shape[1]), value=pad_id).view(b, k, -1)
        fin, i = torch.cat([fin, scores], 1).topk(k, dim=1)
        i = i[..., None].expand(-1, -1, max_len)
        fin_seqs = torch.cat([fin_seqs, ended], 1).gather(1, i)

    tok = torch.full((b * k, 1), bos_id, dtype=torch.long, device=dev)
    for step in range(max_len):
        logp = model._next_logits(tok, step, memory, src_mask, caches).log_softmax(-1)
        total = live.view(b * k, 1) + logp  # (b * k, V)
        eos = torch.full((b * k, 1), eos_id, dtype=torch.long, device=dev)
        keep_best(total[:, eos_id].view(b, k) / (step + 1), torch.cat([seqs, eos], 1))
        total[:, eos_id] = float("-inf")
        v = total.shape[1]
        live, idx = total.view(b, k * v).topk(k, dim=1)
        beam = (first + idx // v).view(-1)
        seqs = torch.cat([seqs[beam], (idx % v).view(-1, 1)], 1)
        for cache in caches:  # the cross-attention keys are equal across a row's beams
            cache["k"], cache["v"] = cache["k"][beam], cache["v"][beam]
        if step == max_len - 1:  # cut at max_len: finished without EOS
            keep_best(live / max_len, seqs)
        elif bool((fin[:, -1] >= live.max(1).values / max_len).all()):
            break
        tok = seqs[:, -1:]
    best = fin_seqs[:, 0]
    is_eos = best == eos_id
    lengths = torch.where(is_eos.any(1), is_eos.int().argmax(1) + 1, max_len)
    return best[:, : int(lengths.max())]
