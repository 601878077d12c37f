"""Student initialisation (``initialise``): fresh weights, or copied from the
teacher (DistilBERT style) by the family's copy function: ``weight_copy_`` for
the encoder classifier, ``weight_copy_seq2seq_`` for the encoder-decoder."""

from __future__ import annotations

import torch

from ..models import Encoder, EncoderDecoder
from ..strategies import forward_targets


def weight_copy_(student: Encoder, teacher: Encoder) -> Encoder:
    """Copy embeddings, blocks and the stack-level norm from the teacher, in place.

    The stack-level norm is the final ``norm`` (pre) or the embedding's
    ``embed_norm`` (post); both models must have the same placement. Student
    block i takes teacher block ceil(i * L_T / L_S), the block forward
    matching pairs it with. The classification head stays freshly initialised.
    """
    _check_same(student, teacher, ("width", "placement"))
    with torch.no_grad():
        student.embed.load_state_dict(teacher.embed.state_dict())
        student.cls.copy_(teacher.cls)
        student.pos.copy_(teacher.pos)
        norm = "norm" if teacher.placement == "pre" else "embed_norm"
        getattr(student, norm).load_state_dict(getattr(teacher, norm).state_dict())
        for i, t in enumerate(forward_targets(student.depth, teacher.depth), start=1):
            student.blocks[i - 1].load_state_dict(teacher.blocks[t - 1].state_dict())
    return student


def initialise(student, init: str, teacher=None, copy=None):
    """The student as it starts: fresh (``random``) or with the teacher's weights
    copied in (``weight_copy``) by ``copy``, the family's copy function
    (default ``weight_copy_``, the encoder classifier's)."""
    if init == "random":
        return student
    if init == "weight_copy":
        if teacher is None:
            raise ValueError("init='weight_copy' needs the teacher")
        return (copy or weight_copy_)(student, teacher)
    raise ValueError(f"init must be one of ['random', 'weight_copy'], got {init!r}")


def _check_same(student, teacher, attrs: tuple[str, ...]) -> None:
    for attr in attrs:
        if getattr(student, attr) != getattr(teacher, attr):
            raise ValueError(f"weight_copy needs equal {attr}, got student "
                             f"{getattr(student, attr)} vs teacher {getattr(teacher, attr)}")


def weight_copy_seq2seq_(student: EncoderDecoder, teacher: EncoderDecoder) -> EncoderDecoder:
    """Copy embeddings, positions, stack-level norms, output head and blocks, in place.

    The stack-level norms are those of the placement (``stack_norms``: final
    norms with pre, embedding norms with post). Per stack, student block i
    takes teacher block ceil(i * L_T / L_S) (``strategies.forward_targets``).
    Widths, vocabularies, maximum lengths, the sharing / tying layout and the
    LayerNorm placement must match.
    """
    _check_same(student, teacher, ("width", "src_vocab_size", "tgt_vocab_size", "shared_vocab",
                                   "tie_head", "max_src_len", "max_tgt_len", "placement"))
    with torch.no_grad():
        # tgt_embed is src_embed when shared, and head.weight is tgt_embed.weight when
        # tied: copying an alias twice is harmless.
        for name in ("src_embed", "tgt_embed", *teacher.stack_norms, "head"):
            getattr(student, name).load_state_dict(getattr(teacher, name).state_dict())
        student.src_pos.copy_(teacher.src_pos)
        student.tgt_pos.copy_(teacher.tgt_pos)
        for s_blocks, t_blocks in ((student.enc_blocks, teacher.enc_blocks),
                                   (student.dec_blocks, teacher.dec_blocks)):
            for i, t in enumerate(forward_targets(len(s_blocks), len(t_blocks)), start=1):
                s_blocks[i - 1].load_state_dict(t_blocks[t - 1].state_dict())
    return student

