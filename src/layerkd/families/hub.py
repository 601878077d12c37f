"""``HubClassifier``: the classifier family on a Hub BERT checkpoint (``config.hub``,
``hub.model``). Its teacher starts from the checkpoint's weights; students are
built from the checkpoint's config at their own depth (fresh, or weight-copied
by the official map); the teacher runs live on each batch (``LiveTeacher``):
all its hidden states over a GLUE training set would not fit in memory."""

from __future__ import annotations

from ..distill.cache import LiveTeacher
from ..distill.initialisation import initialise
from ..hub.model import HubBert, hub_config, weight_copy_hub_
from .classifier import TransformersClassifier


class HubClassifier(TransformersClassifier):
    name = "classifier_hub"

    def build(self, task, depth, width, params):
        return HubBert(hub_config(task.checkpoint, task.n_classes, depth, width)).to(task.device)

    def start_teacher(self, model, task):
        """The teacher fine-tunes from the checkpoint's pre-trained weights (a new head)."""
        config = model.model.config
        return HubBert(config, checkpoint=task.checkpoint).to(task.device)

    def cache(self, teacher, transfer):
        return LiveTeacher(teacher, transfer)

    def initialise(self, student, init, teacher):
        return initialise(student, init, teacher, weight_copy_hub_)
