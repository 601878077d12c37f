"""Training the decoder-only models: the language-model loss (teacher
pre-training on the pool, fine-tuning on the task), the teacher's cached
outputs, and the distiller of a layer-reduced student.

The official LLM trainer (llm/sft_trainer.py: ``DistillTrainer``) adds to the
student's SFT loss ``kl_alpha`` x KL(teacher || student) over the positions and
``hidden_alpha`` x the hidden term: each matched pair's states divided by their
norms (unit vectors), the squared distance summed over the width, averaged;
the embedding output is never matched (``select_forward_matching``: student
layers 1..L_S to teacher layers L_T/L_S, 2 L_T/L_S, ..., L_T; all-to-one: teacher
layer L_T // 2). Here the same terms come from ``distill.objective`` with
``hidden_distance: unit_sq`` and ``match_embeddings: false``; one difference,
kept on purpose: every term is averaged over the real (non-padding) tokens,
where the official code averages over every position of the padded batch and
rescales by the share of real tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..data.tokens import PAD
from ..distill.objective import (
    Objective,
    hidden_matching_loss,
    kl_teacher_student,
    token_cross_entropy,
)
from ..strategies import Pairs
from .qwen import hidden_states


def lm_loss_fn(model, ids: torch.Tensor):
    """loss_fn(idx) for ``train.loop.fit``: next-token cross-entropy over the real
    tokens of the sequences ``ids[idx]`` (pre-training on the pool, and the
    teacher's and the ``none`` student's fine-tuning on the task)."""

    def loss_fn(idx: torch.Tensor):
        batch = ids[idx]
        logits = model(input_ids=batch, attention_mask=(batch != PAD).long()).logits
        loss = token_cross_entropy(logits[:, :-1], batch[:, 1:], PAD)
        return loss, {"ce": loss.item()}

    return loss_fn


@dataclass
class LMTeacherCache:
    """The teacher's logits (N, T, V) and hidden states (L_T + 1, N, T, d) on a set."""

    logits: torch.Tensor
    hiddens: torch.Tensor

    @classmethod
    @torch.no_grad()
    def compute(cls, teacher, ids: torch.Tensor, batch_size: int = 256) -> "LMTeacherCache":
        teacher.eval()
        logits, hiddens = [], []
        for i in range(0, len(ids), batch_size):
            batch = ids[i:i + batch_size]
            lg, hs = hidden_states(teacher, batch, batch != PAD)
            logits.append(lg)
            hiddens.append(torch.stack(hs))
        return cls(torch.cat(logits), torch.cat(hiddens, 1))

    def batch(self, idx: torch.Tensor, layers: list[int]):
        """Logits of the samples idx and {teacher layer: (B, T, d)} of the layers used."""
        return self.logits[idx], {t: self.hiddens[t, idx] for t in sorted(set(layers))}


class LMDistiller(nn.Module):
    """A layer-reduced student and its pairs; forward returns (logits, losses):
    ``ce`` next-token CE over the real tokens, ``kl`` KL(teacher || student) at
    ``objective.temperature`` over the same positions, ``hid`` the hidden term
    (``hidden_matching_loss``), ``total`` = ``Objective.total``. Teacher and
    student have the same width, so there are no projections (as the official
    layer-reduced student)."""

    def __init__(self, student, pairs: Pairs, objective: Objective = Objective()):
        super().__init__()
        self.student, self.pairs, self.objective = student, list(pairs), objective

    def forward(self, ids: torch.Tensor, teacher_logits: torch.Tensor, teacher_hiddens):
        mask = ids != PAD
        logits, hs = hidden_states(self.student, ids, mask)
        labels, label_mask = ids[:, 1:], mask[:, 1:]
        obj = self.objective
        losses = {
            "ce": token_cross_entropy(logits[:, :-1], labels, PAD),
            "kl": kl_teacher_student(logits[:, :-1][label_mask],
                                     teacher_logits[:, :-1][label_mask], obj.temperature),
            "hid": hidden_matching_loss(hs, teacher_hiddens, self.pairs, mask, None, obj),
        }
        losses["total"] = obj.total(losses["ce"], losses["kl"], losses["hid"])
        return logits, losses


def distill_loss_fn(distiller: LMDistiller, ids: torch.Tensor, cache: LMTeacherCache):
    """loss_fn(idx) for ``train.loop.fit``: the distiller's total on ``ids[idx]``."""

    def loss_fn(idx: torch.Tensor):
        logits, hiddens = cache.batch(idx, [t for _, t in distiller.pairs])
        _, losses = distiller(ids[idx], logits, hiddens)
        return losses["total"], {k: v.item() for k, v in losses.items()}

    return loss_fn
