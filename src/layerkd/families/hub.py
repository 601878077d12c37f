"""The families of the hub tasks (``config.hub``): the paper's own checkpoints.

``HubClassifier`` (``classifier_hub``): a Hub BERT on a GLUE task.
``HubSeq2Seq`` (``seq2seq_hub``): a Hub BART or T5 on DART / WMT16, in native ids
(``hub.seq2seq``), scored by corpus BLEU of detokenised decodes against every
reference. In both the teacher starts from the checkpoint's weights; students are
built from the checkpoint's config at their own depth (fresh, or weight-copied by
the official map); the teacher runs live on each batch (``LiveTeacher``,
``LiveSeq2SeqTeacher``): its hidden states over a whole training set would not
fit in memory.
"""

from __future__ import annotations

import torch

from ..distill.cache import LiveSeq2SeqTeacher, LiveTeacher
from ..distill.initialisation import initialise
from ..hub.model import HubBert, hub_config, tokenizer, weight_copy_hub_
from ..hub.seq2seq import HubSeq2Seq as HubSeq2SeqModel
from ..hub.seq2seq import seq2seq_config
from ..models import PAD_ID
from ..models.bart import weight_copy_bart_
from ..models.t5 import weight_copy_t5_
from ..train.evaluate import exact_match, multi_reference_bleu
from .classifier import TransformersClassifier
from .seq2seq import TransformersSeq2Seq


class HubClassifier(TransformersClassifier):
    name = "classifier_hub"

    def build(self, task, depth, width, params):
        return HubBert(hub_config(task.checkpoint, task.n_classes, depth, width)).to(task.device)

    def start_teacher(self, task, depth, width, params):
        """The checkpoint's pre-trained weights (a new head), fine-tuned as the teacher."""
        config = hub_config(task.checkpoint, task.n_classes, depth, width)
        return HubBert(config, checkpoint=task.checkpoint).to(task.device)

    def cache(self, teacher, transfer):
        return LiveTeacher(teacher, transfer)

    def initialise(self, student, init, teacher):
        return initialise(student, init, teacher, weight_copy_hub_)


class HubSeq2Seq(TransformersSeq2Seq):
    name = "seq2seq_hub"

    def build(self, task, depth, width, params):
        return HubSeq2SeqModel(seq2seq_config(task.checkpoint, depth, width)).to(task.device)

    def start_teacher(self, task, depth, width, params):
        config = seq2seq_config(task.checkpoint, depth, width)
        return HubSeq2SeqModel(config, checkpoint=task.checkpoint).to(task.device)

    @torch.no_grad()
    def evaluate(self, model, task, split, beams=1, batch_size=64):
        """Corpus BLEU of the decodes (detokenised by the checkpoint's tokenizer)
        against every reference, and exact match against the first."""
        s, refs, tok = task.splits[split], task.references[split], tokenizer(task.tokenizer)
        hyps = []
        for i in range(0, len(s), batch_size):
            src = s.x[i : i + batch_size]
            out = model.generate(src, src != PAD_ID, max_len=s.y.shape[1] - 1, beams=beams)
            hyps += [h.strip() for h in tok.batch_decode(
                model.ids.to_checkpoint(out.cpu()), skip_special_tokens=True)]
        return {"bleu": multi_reference_bleu(hyps, refs),
                "exact_match": exact_match(hyps, [r[0] for r in refs])}

    def cache(self, teacher, transfer):
        return LiveSeq2SeqTeacher(teacher, transfer)

    def initialise(self, student, init, teacher):
        copy = weight_copy_t5_ if student.placement == "pre" else weight_copy_bart_
        return initialise(student, init, teacher, copy)


FAMILIES = (HubClassifier(), HubSeq2Seq())
