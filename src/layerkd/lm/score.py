"""The two evaluations of the decoder-only task, mirroring the paper's scorers
(lm-evaluation-harness): multiple choice by the log-likelihood of each ending
given the context (HellaSwag ``acc``: the summed log-probability of the
ending's tokens, highest wins) and greedy generation scored by exact match
(CommonsenseQA-style: the generated answer up to EOS equals the reference)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data.tokens import EOS, PAD


@torch.no_grad()
def choice_loglik(model, context: torch.Tensor, endings: torch.Tensor,
                  batch_size: int = 256) -> torch.Tensor:
    """(N, C) summed log-probabilities of each ending given its context.

    context: (N, Lc) ids, right-padded with PAD; endings: (N, C) one id each or
    (N, C, Le) ids right-padded with PAD (padding is not scored)."""
    model.eval()
    if endings.dim() == 2:
        endings = endings[..., None]
    n, c, le = endings.shape
    lengths = (context != PAD).sum(1)
    out = torch.empty(n, c)
    for start in range(0, n, batch_size):
        ctx, ends = context[start:start + batch_size], endings[start:start + batch_size]
        lens = lengths[start:start + batch_size]
        b = len(ctx)
        # one sequence per (item, choice): the context, then the ending right after it
        seq = torch.full((b, c, ctx.shape[1] + le), PAD, dtype=torch.long)
        seq[:, :, : ctx.shape[1]] = ctx[:, None]
        pos = lens[:, None, None] + torch.arange(le)  # (b, 1, le) where the ending goes
        seq.scatter_(2, pos.expand(b, c, le), ends)
        seq = seq.view(b * c, -1)
        mask = seq != PAD
        logp = F.log_softmax(model(input_ids=seq, attention_mask=mask.long()).logits.float(), -1)
        # the token at position p is predicted at position p - 1
        at = (pos - 1).expand(b, c, le).reshape(b * c, le)
        picked = logp.gather(1, at[..., None].expand(-1, -1, logp.shape[-1]))
        token_logp = picked.gather(2, ends.reshape(b * c, le, 1))[..., 0]
        valid = ends.reshape(b * c, le) != PAD
        out[start:start + b] = (token_logp * valid).sum(1).view(b, c)
    return out


def choice_accuracy(model, context, endings, label) -> float:
    """Percentage of items whose true ending has the highest log-likelihood."""
    return 100.0 * (choice_loglik(model, context, endings).argmax(1) == label).float().mean().item()


@torch.no_grad()
def generate_answers(model, ids: torch.Tensor, prompt_len: torch.Tensor,
                     max_new: int) -> list[list[int]]:
    """Greedy answers (ids up to, not including, the first EOS) to each prompt
    ``ids[i, :prompt_len[i]]``; prompts of one length are decoded as one batch."""
    model.eval()
    answers: list[list[int]] = [[] for _ in range(len(ids))]
    for length in prompt_len.unique().tolist():
        rows = (prompt_len == length).nonzero()[:, 0]
        prompts = ids[rows, :length]
        out = model.generate(input_ids=prompts, attention_mask=torch.ones_like(prompts),
                             max_new_tokens=max_new, do_sample=False, eos_token_id=EOS,
                             pad_token_id=PAD)[:, length:]
        for r, row in zip(rows.tolist(), out.tolist()):
            answers[r] = row[: row.index(EOS)] if EOS in row else row
    return answers


def reference_answers(ids: torch.Tensor, prompt_len: torch.Tensor) -> list[list[int]]:
    """The reference answer of each sequence: after the prompt, up to EOS."""
    refs = []
    for row, length in zip(ids.tolist(), prompt_len.tolist()):
        rest = row[length:]
        refs.append(rest[: rest.index(EOS)] if EOS in rest else [t for t in rest if t != PAD])
    return refs


def exact_match(model, ids: torch.Tensor, prompt_len: torch.Tensor) -> float:
    """Percentage of prompts whose greedy answer equals the reference answer."""
    refs = reference_answers(ids, prompt_len)
    hyps = generate_answers(model, ids, prompt_len, max(map(len, refs)) + 1)
    return 100.0 * sum(h == r for h, r in zip(hyps, refs)) / len(refs)
