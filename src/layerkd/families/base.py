"""What the pipeline needs of a model family: one subclass per family.

A family knows how to build its model for a task, train it as a teacher,
score it, cache the teacher's outputs, initialise a student from the teacher,
pair layers under a strategy, wrap student and projections in a distiller, and
name the engine that trains many students of one task together. The stages call these methods and
never ask which family they hold.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

LossFn = Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]]


class Family:
    name: str = ""
    metric: str = ""  # the validation metric that selects checkpoints, and the headline
    stacks: tuple[str, ...] = ()  # the hidden-state stacks the strategies pair
    # how many students of one task train at once: a key of ``distill.engines.ENGINES``
    # (a name, so that the teacher stage never depends on the student loop)
    together: str = ""

    # --- models
    def build(self, task, depth: int, width: int, params) -> nn.Module:
        """A fresh model of ``depth`` blocks per stack for the task, on its device."""
        raise NotImplementedError

    def start_teacher(self, task, depth: int, width: int, params) -> nn.Module:
        """The teacher as its training starts: built fresh, except in a family that
        fine-tunes a pre-trained checkpoint (``families.hub``)."""
        return self.build(task, depth, width, params)

    def finish_teacher(self, model: nn.Module, task) -> nn.Module:
        """The trained teacher as it is scored and saved: ``model`` itself, except in a
        family that trains adapters (``families.hub_lm``: merged into the weights)."""
        return model

    def teacher_loss(self, model: nn.Module, task, params, split: str = "train") -> LossFn:
        """loss_fn(indices) of the teacher's supervised training on a split
        (``train.loop.fit``): ``train``, or ``pool`` for pre-training."""
        raise NotImplementedError

    def evaluate(self, model: nn.Module, task, split: str, beams: int = 1) -> dict[str, float]:
        """Scores of ``model`` on a split: {metric name: value}, ``self.metric`` first."""
        raise NotImplementedError

    def test_record(self, params) -> dict:
        """Settings of the test evaluation a run's metrics.json records."""
        return {}

    def hidden_states(self, model: nn.Module, split, batch_size: int = 500) -> dict:
        """Every hidden state on a split, stacked: {stack: ((L + 1, N, T, d), mask (N, T))}."""
        raise NotImplementedError

    # --- distillation
    def cache(self, teacher: nn.Module, transfer):
        """The teacher's outputs on the transfer set (``distill.cache``)."""
        raise NotImplementedError

    def initialise(self, student: nn.Module, init: str, teacher: nn.Module) -> nn.Module:
        raise NotImplementedError

    def pairs(self, params, strategy: str, seed: int, epoch: int = 0):
        """The layer pairs a run matches in an epoch."""
        raise NotImplementedError

    def distiller(self, student: nn.Module, pairs, teacher_width: int, objective) -> nn.Module:
        raise NotImplementedError

    def set_pairs(self, distiller: nn.Module, pairs) -> None:
        raise NotImplementedError

    def pairs_record(self, distiller: nn.Module) -> dict:
        """A distiller's current pairs as its metrics.json records them."""
        raise NotImplementedError

    def projections(self, distiller: nn.Module) -> dict:
        """{stack: projection maps into the teacher's width} of a distiller."""
        raise NotImplementedError

    def distill_loss(self, distiller: nn.Module, transfer, cache) -> LossFn:
        """loss_fn(indices) of a student: the distiller's total, teacher from the cache."""
        raise NotImplementedError
