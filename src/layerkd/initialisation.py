"""Student initialisation: fresh weights, or copied from the teacher (DistilBERT style)."""

from __future__ import annotations

import torch

from .models import Encoder
from .strategies import forward_targets


def weight_copy_(student: Encoder, teacher: Encoder) -> Encoder:
    """Copy embeddings, blocks and the stack-level norm from the teacher, in place.

    The stack-level norm is the final ``norm`` (pre) or the embedding's
    ``embed_norm`` (post); both models must have the same placement. Student
    block i takes teacher block ceil(i * L_T / L_S), the block forward
    matching pairs it with. The classification head stays freshly initialised.
    """
    if student.width != teacher.width:
        raise ValueError(
            f"weight_copy needs equal widths, got student {student.width} vs teacher {teacher.width}"
        )
    if student.placement != teacher.placement:
        raise ValueError(f"weight_copy needs one LayerNorm placement, got student "
                         f"{student.placement!r} vs teacher {teacher.placement!r}")
    with torch.no_grad():
        student.embed.load_state_dict(teacher.embed.state_dict())
        student.cls.copy_(teacher.cls)
        student.pos.copy_(teacher.pos)
        norm = "norm" if teacher.placement == "pre" else "embed_norm"
        getattr(student, norm).load_state_dict(getattr(teacher, norm).state_dict())
        for i, t in enumerate(forward_targets(student.depth, teacher.depth), start=1):
            student.blocks[i - 1].load_state_dict(teacher.blocks[t - 1].state_dict())
    return student


def initialise(student: Encoder, init: str, teacher: Encoder | None = None) -> Encoder:
    if init == "random":
        return student
    if init == "weight_copy":
        if teacher is None:
            raise ValueError("init='weight_copy' needs the teacher")
        return weight_copy_(student, teacher)
    raise ValueError(f"init must be one of ['random', 'weight_copy'], got {init!r}")
