"""The encoder-decoder family (the paper's BART / T5): scan, numbers_ro.

The strategy pairs the encoder stack and the decoder stack separately, each
with the same seed and epoch. Checkpoints are selected on validation BLEU of
greedy decodes; test BLEU and exact match use ``model.beams`` beams (recorded
as ``beams``). ``TransformersSeq2Seq``: the same on `transformers` BART
(``model.backend``).
"""

from __future__ import annotations

import torch

from ..distill.cache import Seq2SeqTeacherCache
from ..distill.distiller import Seq2SeqDistiller, seq2seq_pairs
from ..distill.initialisation import initialise, weight_copy_seq2seq_
from ..distill.objective import shift_target, token_cross_entropy
from ..models import PAD_ID, EncoderDecoder
from ..models.bart import BartSeq2Seq, weight_copy_bart_
from ..models.t5 import T5Seq2Seq, weight_copy_t5_
from ..train.evaluate import evaluate_seq2seq
from .base import Family, LossFn


def ce_loss_fn(model: EncoderDecoder, split, pad_id: int = PAD_ID) -> LossFn:
    """loss_fn(idx) for ``fit``: plain token CE (the teacher, the CE-only baseline)."""

    def loss_fn(idx: torch.Tensor):
        src, tgt = split.x[idx], split.y[idx]
        tgt_in, labels, in_mask, _ = shift_target(tgt, pad_id)
        logits, _, _ = model(src, src != pad_id, tgt_in, in_mask)
        loss = token_cross_entropy(logits, labels, pad_id)
        return loss, {"ce": loss.item()}

    return loss_fn


def distill_loss_fn(distiller: Seq2SeqDistiller, split,
                    cache: Seq2SeqTeacherCache | None = None) -> LossFn:
    """loss_fn(idx) for ``fit``: the distillation total, from the cache when given
    (only the teacher layers the current pairs use) or from the live teacher."""

    def loss_fn(idx: torch.Tensor):
        teacher = (None, None, None)
        if cache is not None:
            teacher = cache.batch(idx, [t for _, t in distiller.enc_pairs],
                                  [t for _, t in distiller.dec_pairs])
        _, losses = distiller(split.x[idx], split.y[idx], *teacher)
        return losses["total"], {k: v.item() for k, v in losses.items()}

    return loss_fn


class Seq2Seq(Family):
    name, metric, stacks = "seq2seq", "bleu", ("encoder", "decoder")
    together = "threads"  # students side by side in worker threads

    def build(self, task, depth, width, params):
        m, train = params.model, task.splits["train"]
        return EncoderDecoder(len(task.src_vocab), len(task.tgt_vocab), train.x.shape[1],
                              train.y.shape[1] - 1, depth, depth, width, m.heads, m.mlp_ratio,
                              norm=m.norm).to(task.device)

    def teacher_loss(self, model, task, params, split="train"):
        return ce_loss_fn(model, task.splits[split])

    def evaluate(self, model, task, split, beams=1):
        return evaluate_seq2seq(model, task.splits[split], vocab=task.tgt_vocab, beams=beams)

    def test_record(self, params):
        return {"beams": params.model.beams}

    @torch.no_grad()
    def hidden_states(self, model, split, batch_size=500):
        """Encoder and decoder states (decoder teacher-forced on the reference),
        each with its own mask of real tokens."""
        model.eval()
        parts = {"encoder": [], "decoder": []}
        for start in range(0, len(split), batch_size):
            src, tgt = split.x[start : start + batch_size], split.y[start : start + batch_size]
            tgt_in = tgt[:, :-1]
            _, enc, dec = model(src, src != PAD_ID, tgt_in, tgt_in != PAD_ID)
            parts["encoder"].append((torch.stack(enc), src != PAD_ID))
            parts["decoder"].append((torch.stack(dec), tgt_in != PAD_ID))
        return {name: (torch.cat([h for h, _ in p], dim=1), torch.cat([m for _, m in p]))
                for name, p in parts.items()}

    def cache(self, teacher, transfer):
        return Seq2SeqTeacherCache.compute(teacher, transfer.x, transfer.y)

    def initialise(self, student, init, teacher):
        return initialise(student, init, teacher, weight_copy_seq2seq_)

    def pairs(self, params, strategy, seed, epoch=0):
        d, m = params.distill, params.model
        return seq2seq_pairs(strategy, (d.student_depth, d.student_depth),
                             (m.teacher_depth, m.teacher_depth), seed=seed, epoch=epoch,
                             target=d.all_to_one_target, embeddings=d.match_embeddings)

    def distiller(self, student, pairs, teacher_width, objective):
        return Seq2SeqDistiller(student, *pairs, teacher_width=teacher_width,
                                objective=objective)

    def set_pairs(self, distiller, pairs):
        distiller.enc_pairs, distiller.dec_pairs = pairs

    def pairs_record(self, distiller):
        return {"pairs": list(distiller.enc_pairs), "dec_pairs": list(distiller.dec_pairs)}

    def projections(self, distiller):
        return {"encoder": distiller.enc_projections, "decoder": distiller.dec_projections}

    def distill_loss(self, distiller, transfer, cache):
        return distill_loss_fn(distiller, transfer, cache)


class TransformersSeq2Seq(Seq2Seq):
    """The same family on `transformers` (``model.backend: transformers``): BART for a
    post-norm task (``models.bart``), T5 for a pre-norm one (``models.t5``); the same
    losses, cache, pairs, distiller and threads engine."""

    name = "seq2seq_transformers"

    def build(self, task, depth, width, params):
        m, train = params.model, task.splits["train"]
        model = BartSeq2Seq if m.norm == "post" else T5Seq2Seq
        return model(len(task.src_vocab), len(task.tgt_vocab), train.x.shape[1],
                     train.y.shape[1] - 1, depth, depth, width, m.heads,
                     m.mlp_ratio).to(task.device)

    def initialise(self, student, init, teacher):
        copy = weight_copy_bart_ if isinstance(student, BartSeq2Seq) else weight_copy_t5_
        return initialise(student, init, teacher, copy)
