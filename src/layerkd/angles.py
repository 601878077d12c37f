"""The geometry behind the paper's explanation: teacher layers seen from the student.

For a student hidden state h_S[j] and two teacher hidden states h_T[i], h_T[k]
of the same token, the angle at the student between the two teacher layers has

    cos = <h_T[i] - h_S[j], h_T[k] - h_S[j]> / (|h_T[i] - h_S[j]| |h_T[k] - h_S[j]|).

An acute angle (cos > 0) means the two teacher layers lie on the same side of
the student: pulling the student towards either one moves it towards the
other, which is why the choice of layer pairs matters little. Only blocks are
compared (the embedding outputs, layer 0, are excluded) and only valid tokens
count. ``Family.hidden_states`` collects the hidden states of a whole split.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def angle_cosines(teacher: torch.Tensor, student: torch.Tensor) -> torch.Tensor:
    """teacher (L_T, M, d) and one student layer (M, d) -> (L_T, L_T, M) cosines.

    Entry [i, k, m] is the cosine of the angle at student token m between
    teacher layers i and k (1 on the diagonal).
    """
    u = F.normalize(teacher - student, dim=-1, eps=1e-12)
    return torch.einsum("imd,kmd->ikm", u, u)


@dataclass
class AngleSummary:
    """token_mean (M,): per token, the mean cosine over student blocks j and
    teacher pairs i < k (the quantity the authors histogram); heatmap
    (L_S, L_T, L_T): per student block, the mean cosine over tokens of each
    teacher pair (NaN where i >= k); acute_fraction: the share of all
    (j, i < k, token) angles with a positive cosine; hist: counts of all those
    cosines over ``bins`` equal bins of [-1, 1] (the distribution whose acute
    share the claim is about)."""

    token_mean: torch.Tensor
    heatmap: torch.Tensor
    acute_fraction: float
    hist: torch.Tensor | None = None


def valid_tokens(states: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """(L, N, T, d) states and an (N, T) validity mask -> (L, M, d) valid tokens."""
    if mask is None:
        return states.flatten(1, 2)
    return states[:, mask.bool()]


@torch.no_grad()
def angle_summary(teacher_blocks: torch.Tensor, student_blocks: torch.Tensor,
                  mask: torch.Tensor | None = None, bins: int = 60) -> AngleSummary:
    """teacher_blocks (L_T, N, T, d) and student_blocks (L_S, N, T, d), both
    without the embedding layer and in the same (teacher's) space."""
    t, s = valid_tokens(teacher_blocks, mask), valid_tokens(student_blocks, mask)
    n_teacher = t.shape[0]
    if n_teacher < 2:
        raise ValueError("angles need at least two teacher blocks")
    i, k = torch.triu_indices(n_teacher, n_teacher, offset=1)
    heat = torch.full((s.shape[0], n_teacher, n_teacher), float("nan"))
    token_sum = torch.zeros(t.shape[1], dtype=torch.float64)
    acute, hist = 0, torch.zeros(bins, dtype=torch.long)
    for j in range(s.shape[0]):
        upper = angle_cosines(t, s[j])[i, k]  # (pairs, M)
        token_sum += upper.double().sum(0)
        acute += int((upper > 0).sum())
        heat[j, i, k] = upper.mean(1).float()
        # bin b holds [-1 + b w, -1 + (b + 1) w); cos = 1 goes to the last bin
        idx = ((upper.clamp(-1, 1) + 1) * bins / 2).long().clamp(max=bins - 1)
        hist += torch.bincount(idx.flatten(), minlength=bins)
    n_angles = s.shape[0] * len(i)
    return AngleSummary((token_sum / n_angles).float(), heat, acute / (n_angles * t.shape[1]),
                        hist)


def random_directions(states: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The null baseline: every state replaced by a random direction of the same
    norm (Gaussian, seeded). Angles at such points show how acute the teacher
    layers look from an arbitrary point as far from the origin as the student."""
    g = torch.Generator().manual_seed(seed)
    r = torch.randn(states.shape, generator=g, dtype=states.dtype)
    return r * (states.norm(dim=-1, keepdim=True) / r.norm(dim=-1, keepdim=True))


@torch.no_grad()
def mean_distances(a: torch.Tensor, b: torch.Tensor,
                   mask: torch.Tensor | None = None) -> torch.Tensor:
    """(La, N, T, d) and (Lb, N, T, d) -> (La, Lb): the mean over valid tokens of
    the Euclidean distance between layer i of a and layer k of b."""
    a, b = valid_tokens(a, mask), valid_tokens(b, mask)
    return torch.stack([(a[i][None] - b).norm(dim=-1).mean(-1) for i in range(a.shape[0])])


@torch.no_grad()
def to_teacher_space(states: torch.Tensor, projections: nn.ModuleList | None) -> torch.Tensor:
    """Student states (L_S + 1, N, T, d_S) through each layer's projection map
    (the trained ``Distiller.projections``; none when widths are equal)."""
    if not projections:
        return states
    return torch.stack([projections[j](states[j]) for j in range(states.shape[0])])
