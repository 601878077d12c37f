"""Distillers: modules that own a student and its projection maps and return
(logits, losses) for one batch, for each model family.

``Distiller`` wraps an ``Encoder`` classifier; ``Seq2SeqDistiller`` an
``EncoderDecoder``, with the strategy applied to the encoder and the decoder
stacks separately (each with its own pairs, token mask and projections;
decoder states teacher-forced on the reference). Both compute
``Objective.total(ce, kl, hid)``, the one loss formula.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..models import PAD_ID, Encoder, EncoderDecoder, token_mask
from ..strategies import Pairs, match_layers
from .objective import (
    Objective,
    hidden_matching_loss,
    kl_teacher_student,
    shift_target,
    token_cross_entropy,
)

Hiddens = list[torch.Tensor] | torch.Tensor | Mapping[int, torch.Tensor]


def _hold(distiller: nn.Module, student: nn.Module, teacher: nn.Module | None,
          teacher_width: int | None) -> int:
    """Register the student; keep the teacher (frozen, eval mode) outside the
    module tree. Returns the teacher's width (the student's when neither is given)."""
    distiller.student = student
    distiller.__dict__["teacher"] = teacher  # not registered: see ``Distiller``
    if teacher is not None:
        teacher.eval().requires_grad_(False)
        teacher_width = teacher.width
    return teacher_width or student.width


def _projections(student_width: int, teacher_width: int, depth: int) -> nn.ModuleList:
    """One trainable map per student layer (0..depth) when the widths differ, none
    when they are equal. Keyed by student layer, so strategies that redraw pairs
    keep their maps."""
    if teacher_width == student_width:
        return nn.ModuleList()
    return nn.ModuleList(nn.Linear(student_width, teacher_width) for _ in range(depth + 1))


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
        objective: Objective = Objective(),
    ):
        super().__init__()
        teacher_width = _hold(self, student, teacher, teacher_width)
        self.projections = _projections(student.width, teacher_width, student.depth)
        self.pairs = list(pairs)
        self.objective = objective

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
            "kl": kl_teacher_student(logits, teacher_logits, self.objective.temperature),
            "hid": hidden_matching_loss(hiddens, teacher_hiddens, self.pairs, valid,
                                        self.projections, self.objective),
        }
        losses["total"] = self.objective.total(losses["ce"], losses["kl"], losses["hid"])
        return logits, losses


def seq2seq_pairs(
    strategy: str,
    student_depths: tuple[int, int],
    teacher_depths: tuple[int, int],
    *,
    seed: int = 0,
    epoch: int = 0,
    target: int | None = None,
    embeddings: bool = True,
) -> tuple[Pairs, Pairs]:
    """(encoder pairs, decoder pairs): ``match_layers`` applied to each stack.

    Depths are (encoder, decoder). Both stacks use the same seed and epoch
    (and ``all_to_one`` target, which must then exist in both teachers).
    """
    (se, sd), (te, td) = student_depths, teacher_depths
    kw = dict(seed=seed, epoch=epoch, target=target, embeddings=embeddings)
    return match_layers(strategy, se, te, **kw), match_layers(strategy, sd, td, **kw)


class Seq2SeqDistiller(nn.Module):
    """Owns the student and both stacks' projection maps; returns (logits, losses).

    losses: ``ce`` token CE vs the reference (padding ignored); ``kl``
    token-level KL(teacher || student) at ``temperature`` times T^2, averaged
    over the non-padding target positions; ``hid_enc`` / ``hid_dec`` the
    hidden-matching loss of each stack (``losses.hidden_matching_loss`` with
    that stack's pairs, token mask and projections); ``hid`` their sum or mean
    (``Objective.reduce_pairs``); ``total = Objective.total(ce, kl, hid)``.

    As with ``losses.Distiller`` the teacher is held outside the module tree
    (never in ``parameters()``, the optimizer or the checkpoint); its outputs
    come from a cache (``Seq2SeqTeacherCache.batch``) or a live eval-mode,
    no-grad forward pass on the same reference.
    """

    def __init__(
        self,
        student: EncoderDecoder,
        enc_pairs: Pairs,
        dec_pairs: Pairs,
        teacher: EncoderDecoder | None = None,
        teacher_width: int | None = None,
        objective: Objective = Objective(),
        pad_id: int = PAD_ID,
    ):
        super().__init__()
        teacher_width = _hold(self, student, teacher, teacher_width)
        self.enc_projections = _projections(student.width, teacher_width, student.enc_depth)
        self.dec_projections = _projections(student.width, teacher_width, student.dec_depth)
        self.enc_pairs, self.dec_pairs = list(enc_pairs), list(dec_pairs)
        self.objective = objective
        self.pad_id = pad_id

    def teacher_outputs(self, src: torch.Tensor, tgt: torch.Tensor):
        """The live teacher's (logits, enc_hiddens, dec_hiddens) on the reference ``tgt``."""
        if self.teacher is None:
            raise RuntimeError("no live teacher: pass teacher_logits and both teacher hiddens")
        tgt_in, _, in_mask, _ = shift_target(tgt, self.pad_id)
        self.teacher.eval()
        with torch.no_grad():
            return self.teacher(src, src != self.pad_id, tgt_in, in_mask)

    def forward(
        self,
        src: torch.Tensor,
        tgt: torch.Tensor,
        teacher_logits: torch.Tensor | None = None,
        teacher_enc_hiddens: Hiddens | None = None,
        teacher_dec_hiddens: Hiddens | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """src (B, S) ids; tgt (B, T + 1) reference (BOS .. EOS PAD ..).

        Teacher outputs, when given, are on the decoder input tgt[:, :-1]:
        logits (B, T, V) and hidden states indexed by teacher layer (list,
        stacked tensor or {layer: tensor} dict).
        """
        if teacher_logits is None:
            teacher_logits, teacher_enc_hiddens, teacher_dec_hiddens = \
                self.teacher_outputs(src, tgt)
        src_mask = src != self.pad_id
        tgt_in, labels, in_mask, label_mask = shift_target(tgt, self.pad_id)
        logits, enc_h, dec_h = self.student(src, src_mask, tgt_in, in_mask)
        obj = self.objective
        hid_enc = hidden_matching_loss(enc_h, teacher_enc_hiddens, self.enc_pairs, src_mask,
                                       self.enc_projections, obj)
        hid_dec = hidden_matching_loss(dec_h, teacher_dec_hiddens, self.dec_pairs, in_mask,
                                       self.dec_projections, obj)
        losses = {
            "ce": token_cross_entropy(logits, labels, self.pad_id),
            "kl": kl_teacher_student(logits[label_mask], teacher_logits[label_mask],
                                     obj.temperature),
            "hid_enc": hid_enc,
            "hid_dec": hid_dec,
            # the stacks are combined like the pairs: added (official BART / T5) or averaged
            "hid": obj.reduce_pairs(hid_enc + hid_dec, 2),
        }
        losses["total"] = obj.total(losses["ce"], losses["kl"], losses["hid"])
        return logits, losses
