"""The distillation objective and the Distiller that owns student and projections.

loss = a_ce * CE(student, label) + a_kl * KL(teacher || student) + a_hid * hidden

hidden: for each matched (student layer, teacher layer) pair, the squared L2
distance between the two hidden states per valid token, averaged over tokens
and then over pairs (as in the official code).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from .models import Encoder, token_mask
from .strategies import Pairs


def kl_teacher_student(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """KL(teacher || student) at a temperature, scaled by T^2 (identity at T = 1)."""
    t = temperature
    log_p_s = F.log_softmax(student_logits / t, dim=-1)
    log_p_t = F.log_softmax(teacher_logits / t, dim=-1)
    return F.kl_div(log_p_s, log_p_t, log_target=True, reduction="batchmean") * t * t


def hidden_matching_loss(
    student_hiddens: list[torch.Tensor],
    teacher_hiddens: list[torch.Tensor] | torch.Tensor | Mapping[int, torch.Tensor],
    pairs: Pairs,
    mask: torch.Tensor | None = None,
    projections: nn.ModuleList | None = None,
) -> torch.Tensor:
    """Mean over pairs of the per-token squared L2 distance, averaged over valid tokens.

    teacher_hiddens[t] is teacher layer t: a list, a stacked tensor, or a dict
    holding only the layers the pairs use (``TeacherCache.batch(idx, layers)``).
    mask: (B, T) bool of valid tokens (None = all). projections[s] maps student
    layer s into the teacher's width (empty or None = same width).
    """
    if not pairs:
        return student_hiddens[0].new_zeros(())
    total = 0.0
    for s, t in pairs:
        h = student_hiddens[s]
        if projections:
            h = projections[s](h)
        sq = (h - teacher_hiddens[t]).pow(2).sum(-1)  # (B, T)
        total = total + (sq.mean() if mask is None else sq[mask].mean())
    return total / len(pairs)


class Distiller(nn.Module):
    """Owns the student and the projection maps; returns (logits, losses).

    The teacher is held outside the module tree on purpose: its parameters are
    then never in ``parameters()``, the optimizer or the checkpoint. Teacher
    outputs come either precomputed (a cache, the fast path) or from a live
    forward pass in eval mode under ``no_grad``.
    """

    def __init__(
        self,
        student: Encoder,
        pairs: Pairs,
        teacher: Encoder | None = None,
        teacher_width: int | None = None,
        a_ce: float = 1.0,
        a_kl: float = 1.0,
        a_hid: float = 3.0,
        temperature: float = 1.0,
    ):
        super().__init__()
        self.student = student
        self.__dict__["teacher"] = teacher  # not registered: see class docstring
        if teacher is not None:
            teacher.eval().requires_grad_(False)
            teacher_width = teacher.width
        teacher_width = teacher_width or student.width
        # One trainable map per student layer (0..L_S) when widths differ. Keyed
        # by student layer so strategies that redraw pairs keep their maps.
        self.projections = nn.ModuleList(
            nn.Linear(student.width, teacher_width) for _ in range(student.depth + 1)
        ) if teacher_width != student.width else nn.ModuleList()
        self.pairs = list(pairs)
        self.a_ce, self.a_kl, self.a_hid, self.temperature = a_ce, a_kl, a_hid, temperature

    def teacher_outputs(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        if self.teacher is None:
            raise RuntimeError("no live teacher: pass teacher_logits and teacher_hiddens")
        self.teacher.eval()
        with torch.no_grad():
            return self.teacher(x, mask)

    def forward(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        mask: torch.Tensor | None = None,
        teacher_logits: torch.Tensor | None = None,
        teacher_hiddens: list[torch.Tensor] | torch.Tensor | Mapping[int, torch.Tensor]
        | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if teacher_logits is None:
            teacher_logits, teacher_hiddens = self.teacher_outputs(x, mask)
        logits, hiddens = self.student(x, mask)
        valid = None if mask is None else token_mask(mask)
        losses = {
            "ce": F.cross_entropy(logits, y),
            "kl": kl_teacher_student(logits, teacher_logits, self.temperature),
            "hid": hidden_matching_loss(
                hiddens, teacher_hiddens, self.pairs, valid, self.projections
            ),
        }
        losses["total"] = (
            self.a_ce * losses["ce"] + self.a_kl * losses["kl"] + self.a_hid * losses["hid"]
        )
        return logits, losses
