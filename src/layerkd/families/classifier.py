"""The encoder classifier family (the paper's BERT): mnist, digits, mnist1d, listops;
``TransformersClassifier``: the same on `transformers` BERT (``model.backend``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..distill.cache import TeacherCache
from ..distill.distiller import Distiller
from ..distill.initialisation import initialise
from ..models import Encoder, token_mask
from ..models.bert import BertClassifier, weight_copy_bert_
from ..strategies import match_layers
from ..train.evaluate import accuracy
from .base import Family, LossFn


def classification_loss(model: nn.Module, split, augment=None) -> LossFn:
    """loss_fn for plain supervised training (the teacher, and the CE-only baseline)."""

    def loss_fn(idx: torch.Tensor):
        x = split.x[idx] if augment is None else augment(idx)
        mask = None if split.mask is None else split.mask[idx]
        loss = F.cross_entropy(model(x, mask)[0], split.y[idx])
        return loss, {"ce": loss.item()}

    return loss_fn


def one_stack_pairs(params, strategy: str, seed: int, epoch: int = 0):
    """The pairs of a one-stack model (encoder, decoder-only) under ``params.distill``."""
    d = params.distill
    return match_layers(strategy, d.student_depth, params.model.teacher_depth, seed=seed,
                        epoch=epoch, target=d.all_to_one_target, embeddings=d.match_embeddings)


class Classifier(Family):
    name, metric, stacks = "classifier", "acc", ("encoder",)
    together = "stacked"  # students as stacked tensors, one grouped step for all

    def build(self, task, depth, width, params):
        m = params.model
        return Encoder(task.in_features, task.n_classes, task.max_len, depth, width, m.heads,
                       m.mlp_ratio, vocab_size=task.vocab_size, norm=m.norm).to(task.device)

    def teacher_loss(self, model, task, params, split="train"):
        p = params.teacher
        gen = torch.Generator().manual_seed(p.seed + 1)
        augment = None  # augmentation is of the training split's images only
        if p.augment and task.augment and split == "train":
            augment = lambda idx: task.augment(idx, gen)  # noqa: E731
        return classification_loss(model, task.splits[split], augment)

    def evaluate(self, model, task, split, beams=1):
        return {"acc": accuracy(model, task.splits[split])}

    @torch.no_grad()
    def hidden_states(self, model, split, batch_size=500):
        model.eval()
        states, masks = [], []
        for start in range(0, len(split), batch_size):
            rows = slice(start, start + batch_size)
            mask = None if split.mask is None else split.mask[rows]
            x = split.x[rows]
            _, hs = model(x, mask)
            states.append(torch.stack(hs))
            masks.append(token_mask(mask, x.shape[0], x.shape[1]))
        return {"encoder": (torch.cat(states, dim=1), torch.cat(masks))}

    def cache(self, teacher, transfer):
        return TeacherCache.compute(teacher, transfer)

    def initialise(self, student, init, teacher):
        return initialise(student, init, teacher)

    def pairs(self, params, strategy, seed, epoch=0):
        return one_stack_pairs(params, strategy, seed, epoch)

    def distiller(self, student, pairs, teacher_width, objective):
        return Distiller(student, pairs, teacher_width=teacher_width, objective=objective)

    def set_pairs(self, distiller, pairs):
        distiller.pairs = pairs

    def pairs_record(self, distiller):
        return {"pairs": list(distiller.pairs)}

    def projections(self, distiller):
        return {"encoder": distiller.projections}

    def distill_loss(self, distiller, transfer, cache):
        def loss_fn(idx):
            # only the teacher layers the current pairs use (none for strategy 'none')
            t_logits, t_hiddens = cache.batch(idx, [t for _, t in distiller.pairs])
            mask = None if transfer.mask is None else transfer.mask[idx]
            _, losses = distiller(transfer.x[idx], transfer.y[idx], mask, t_logits, t_hiddens)
            return losses["total"], {k: v.item() for k, v in losses.items()}

        return loss_fn


class TransformersClassifier(Classifier):
    """The same family on `transformers` BERT (``model.backend: transformers``,
    ``models.bert``): the same losses, cache, pairs and distiller; students train
    side by side in threads (the stacked engine vectorises the native encoder only)."""

    name, together = "classifier_transformers", "threads"

    def build(self, task, depth, width, params):
        m = params.model
        return BertClassifier(task.in_features, task.n_classes, task.max_len, depth, width,
                              m.heads, m.mlp_ratio, vocab_size=task.vocab_size).to(task.device)

    def initialise(self, student, init, teacher):
        return initialise(student, init, teacher, weight_copy_bert_)
