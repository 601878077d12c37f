"""The distillation objective: one loss formula and its terms.

loss = a_ce * CE(student, label) + a_kl * KL(teacher || student) + a_hid * hidden

``Objective`` is the one record of every setting of that formula; it is built
once from ``distill`` (``Objective.from_params``), used by every engine (one
student, the stacked students, the encoder-decoder) and written into every
run's metrics.json.

hidden: each matched (student layer, teacher layer) pair is compared per token
(``pair_distance``; the official choice differs per model family, see
``config.HIDDEN_DISTANCES``), averaged over the valid tokens (and divided once
more by the batch size with ``batch_divide``, as the official classification
trainer does), then the pairs are averaged or summed (``pair_reduce``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..models import PAD_ID
from ..strategies import Pairs


@dataclass(frozen=True)
class Objective:
    """Loss weights, temperature and how hidden states are matched."""

    a_ce: float = 1.0
    a_kl: float = 1.0
    a_hid: float = 3.0
    temperature: float = 1.0
    distance: str = "sum_sq"
    pair_reduce: str = "mean"
    batch_divide: bool = False
    match_embeddings: bool = True

    @classmethod
    def from_params(cls, d) -> "Objective":
        """From a ``config.DistillParams``."""
        return cls(d.a_ce, d.a_kl, d.a_hid, d.temperature, d.hidden_distance,
                   d.hidden_pair_reduce, d.hidden_batch_divide, d.match_embeddings)

    def total(self, ce, kl, hid):
        """The one loss formula (tensors of any matching shape)."""
        return self.a_ce * ce + self.a_kl * kl + self.a_hid * hid

    def reduce_pairs(self, per_pair_sum, n_pairs):
        """Sum of the pairs' losses -> the pair reduction (mean or sum)."""
        return per_pair_sum if self.pair_reduce == "sum" else per_pair_sum / n_pairs

    def hidden_share(self, hid: float, total: float) -> float:
        """The weighted hidden term's share of the total loss (epoch means)."""
        return float(self.a_hid * hid / total) if total else 0.0

    def record(self) -> dict:
        """What a run's metrics.json records of its objective."""
        return {"objective": asdict(self)}


def pair_distance(h_s: torch.Tensor, h_t: torch.Tensor, distance: str) -> torch.Tensor:
    """Per-token distance of two hidden-state tensors (..., B, T, d) -> (..., B, T).

    sum_sq  squared L2 summed over the width (official BERT classification)
    mse     squared error averaged over the width (official BART generation)
    ln_mse  each tensor's whole (B, T, d) block normalised to zero mean, unit
            variance (a parameter-free layer norm over the batch, padding
            included, as the official T5 ``--normalize_hidden``), then mse
    unit_sq both vectors scaled to unit length, then sum_sq (official LLM code)
    """
    if distance == "sum_sq":
        return (h_s - h_t).pow(2).sum(-1)
    if distance == "mse":
        return (h_s - h_t).pow(2).mean(-1)
    if distance == "ln_mse":
        dims = h_s.shape[-3:]
        return (F.layer_norm(h_s, dims) - F.layer_norm(h_t, dims)).pow(2).mean(-1)
    if distance == "unit_sq":
        return (F.normalize(h_s, dim=-1) - F.normalize(h_t, dim=-1)).pow(2).sum(-1)
    raise ValueError(f"distance must be one of ['sum_sq', 'mse', 'ln_mse', 'unit_sq'], "
                     f"got {distance!r}")


def token_average(per_token: torch.Tensor, valid: torch.Tensor | None,
                  batch_divide: bool = False) -> torch.Tensor:
    """(..., B, T) per-token values -> (...,) mean over the valid tokens (and / B)."""
    if valid is None:
        out = per_token.mean((-2, -1))
    else:
        v = valid.to(per_token.dtype)
        out = (per_token * v).sum((-2, -1)) / v.sum((-2, -1))
    return out / per_token.shape[-2] if batch_divide else out


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
    objective: Objective = Objective(),
) -> torch.Tensor:
    """The hidden term: per pair ``pair_distance`` averaged over valid tokens, then
    the pairs reduced as ``objective`` says.

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
        per_token = pair_distance(h, teacher_hiddens[t], objective.distance)
        total = total + token_average(per_token, mask, objective.batch_divide)
    return objective.reduce_pairs(total, len(pairs))


def shift_target(tgt: torch.Tensor, pad_id: int = PAD_ID):
    """Reference (B, T + 1) = BOS .. EOS PAD .. -> decoder input, labels and their masks.

    Returns tgt_in (B, T), labels (B, T), in_mask (tgt_in != pad) and
    label_mask (labels != pad): the non-padding target positions.
    """
    tgt_in, labels = tgt[:, :-1], tgt[:, 1:]
    return tgt_in, labels, tgt_in != pad_id, labels != pad_id


def token_cross_entropy(logits: torch.Tensor, labels: torch.Tensor,
                        pad_id: int = PAD_ID) -> torch.Tensor:
    """Mean CE over the non-padding label positions of (B, T, V) logits."""
    return F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=pad_id)
