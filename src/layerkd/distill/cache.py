"""The frozen teacher's outputs on the transfer set, computed once for every student
(or, for the hub tasks' large checkpoints, on each batch: ``Live*``).

A run gathers only the teacher layers its current pairs use (``batch``);
students trained together gather theirs in one indexing operation (``gather``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data import Split
from ..models import PAD_ID, Encoder, EncoderDecoder
from .objective import shift_target


@dataclass
class TeacherCache:
    """Teacher logits (N, C) and hidden states (L_T + 1, N, T, d) of one split."""

    logits: torch.Tensor
    hiddens: torch.Tensor

    @classmethod
    @torch.no_grad()
    def compute(cls, teacher: Encoder, split: Split, batch_size: int = 500) -> "TeacherCache":
        teacher.eval()
        logits, hiddens = [], []
        for i in range(0, len(split), batch_size):
            mask = None if split.mask is None else split.mask[i : i + batch_size]
            lg, hs = teacher(split.x[i : i + batch_size], mask)
            logits.append(lg)
            hiddens.append(torch.stack(hs))
        return cls(torch.cat(logits), torch.cat(hiddens, dim=1))

    def batch(self, idx: torch.Tensor, layers: list[int] | None = None):
        """Teacher logits (B, C) and hidden states of the samples ``idx``.

        layers=None: every hidden state, one (L_T + 1, B, T, d) tensor.
        layers given: only those teacher layers are gathered, as a dict
        {teacher layer: (B, T, d)}; a run passes the layers its pairs use (none
        at all for strategy ``none``). Both index by teacher layer, as
        ``hidden_matching_loss`` expects.
        """
        if layers is None:
            return self.logits[idx], self.hiddens[:, idx]
        layers = sorted(set(layers))
        if not layers:
            return self.logits[idx], {}
        rows = torch.as_tensor(layers, device=self.hiddens.device)
        picked = self.hiddens[rows[:, None], idx.to(self.hiddens.device)[None, :]]
        return self.logits[idx], dict(zip(layers, picked.unbind(0)))

    def gather(self, idx: torch.Tensor, layers: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Batched form for N runs at once: idx (N, B) samples, layers (N, K) teacher
        layers -> logits (N, B, C) and hidden states (K, N, B, T, d), slot-major."""
        return self.logits[idx], self.hiddens[layers.T[:, :, None], idx[None, :, :]]


class LiveTeacher:
    """``TeacherCache``'s interface, computed on each batch instead of stored: for
    teachers whose hidden states over the transfer set would not fit in memory
    (the hub tasks' BERT-base), as the official trainers run the teacher per step."""

    def __init__(self, teacher: torch.nn.Module, split: Split):
        self.teacher, self.split = teacher.eval(), split

    @torch.no_grad()
    def batch(self, idx: torch.Tensor, layers: list[int] | None = None):
        mask = None if self.split.mask is None else self.split.mask[idx]
        logits, hiddens = self.teacher(self.split.x[idx], mask)
        if layers is None:
            return logits, torch.stack(hiddens)
        return logits, {t: hiddens[t] for t in sorted(set(layers))}


@dataclass
class Seq2SeqTeacherCache:
    """Teacher outputs of one split, teacher-forced on its references.

    logits (N, T, V); enc_hiddens (L_enc + 1, N, S, d); dec_hiddens
    (L_dec + 1, N, T, d). Memory grows with N * T * d per layer: cache the
    transfer set only.
    """

    logits: torch.Tensor
    enc_hiddens: torch.Tensor
    dec_hiddens: torch.Tensor

    @classmethod
    @torch.no_grad()
    def compute(cls, teacher: EncoderDecoder, src: torch.Tensor, tgt: torch.Tensor,
                batch_size: int = 256, pad_id: int = PAD_ID) -> "Seq2SeqTeacherCache":
        teacher.eval()
        logits, enc, dec = [], [], []
        for i in range(0, len(src), batch_size):
            s, t = src[i : i + batch_size], tgt[i : i + batch_size]
            tgt_in, _, in_mask, _ = shift_target(t, pad_id)
            lg, eh, dh = teacher(s, s != pad_id, tgt_in, in_mask)
            logits.append(lg)
            enc.append(torch.stack(eh))
            dec.append(torch.stack(dh))
        return cls(torch.cat(logits), torch.cat(enc, dim=1), torch.cat(dec, dim=1))

    def batch(self, idx: torch.Tensor, enc_layers: list[int] | None = None,
              dec_layers: list[int] | None = None):
        """(logits, enc, dec) of the samples ``idx``; with layers given, enc / dec are
        {teacher layer: tensor} dicts of just those layers (as ``TeacherCache.batch``)."""

        def pick(h: torch.Tensor, layers):
            if layers is None:
                return h[:, idx]
            return {t: h[t, idx] for t in sorted(set(layers))}

        return self.logits[idx], pick(self.enc_hiddens, enc_layers), pick(self.dec_hiddens,
                                                                          dec_layers)


class LiveSeq2SeqTeacher:
    """``Seq2SeqTeacherCache``'s interface, computed on each batch (as ``LiveTeacher``):
    the hub generation tasks' BART / T5 over a whole training set would not fit."""

    def __init__(self, teacher: torch.nn.Module, split: Split, pad_id: int = PAD_ID):
        self.teacher, self.split, self.pad_id = teacher.eval(), split, pad_id

    @torch.no_grad()
    def batch(self, idx: torch.Tensor, enc_layers: list[int] | None = None,
              dec_layers: list[int] | None = None):
        src, tgt = self.split.x[idx], self.split.y[idx]
        tgt_in, _, in_mask, _ = shift_target(tgt, self.pad_id)
        logits, enc, dec = self.teacher(src, src != self.pad_id, tgt_in, in_mask)

        def pick(h: list, layers):
            return torch.stack(h) if layers is None else {t: h[t] for t in sorted(set(layers))}

        return logits, pick(enc, enc_layers), pick(dec, dec_layers)
