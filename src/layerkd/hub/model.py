"""A Hub sequence classifier (BERT) behind the native encoder interface.

``x`` packs the tokenizer's ids and token types, (B, T, 2); ``mask`` marks the
valid tokens after [CLS], (B, T - 1): the native models prepend [CLS] themselves
and ``models.token_mask`` adds it back, so the distiller's token mask covers
the tokenizer's [CLS] the same way. ``hiddens`` are the L + 1 states of
``output_hidden_states=True`` (embedding output first), the states the official
classification trainer matches (classification/trainer.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import torch
from torch import nn

from ..models.encoder import token_mask


def hub_config(checkpoint: str, n_classes: int, depth: int, width: int | None = None):
    """The checkpoint's config with ``depth`` blocks (and ``width``: the FFN scaled alike)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(checkpoint, num_labels=n_classes)
    if config.model_type != "bert":
        raise ValueError(f"hub.model.checkpoint={checkpoint!r} is a {config.model_type!r} "
                         "model; the hub tasks support BERT (model_type 'bert')")
    config.num_hidden_layers = depth
    if width and width != config.hidden_size:
        config.intermediate_size = config.intermediate_size * width // config.hidden_size
        config.hidden_size = width
    return config


@contextmanager
def quiet_transformers():
    """No load report (it lists every fresh head weight) and no progress bar (one per
    load would flood a notebook) while loading or saving a checkpoint."""
    from transformers.utils import logging

    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()


@lru_cache(maxsize=4)
def tokenizer(name: str):
    """A checkpoint's tokenizer (a Hub name or a folder), loaded once per process:
    the hub families decode and score with it on every validation."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name)


class HubBert(nn.Module):
    def __init__(self, config, checkpoint: str | None = None):
        """From ``config`` with fresh weights, or the pre-trained ``checkpoint``'s."""
        from transformers import AutoModelForSequenceClassification as Auto

        super().__init__()
        with quiet_transformers():
            # a head of another size (or none, as bert-base-uncased) starts fresh, as
            # the official per-task heads do
            self.model = (Auto.from_pretrained(checkpoint, config=config,
                                               ignore_mismatched_sizes=True)
                          if checkpoint else Auto.from_config(config))
        self.depth, self.width, self.placement = (config.num_hidden_layers, config.hidden_size,
                                                  "post")

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        attention = None if mask is None else token_mask(mask).long()
        out = self.model(input_ids=x[..., 0], token_type_ids=x[..., 1],
                         attention_mask=attention, output_hidden_states=True)
        return out.logits, list(out.hidden_states)


def weight_copy_hub_(student: HubBert, teacher: HubBert) -> HubBert:
    """The official classification weight copy: embeddings and pooler, and student
    block i <- teacher block ceil(i L_T / L_S); the classifier head stays fresh."""
    from ..strategies import forward_targets

    if student.width != teacher.width:
        raise ValueError(f"weight_copy needs equal width, got student {student.width} vs "
                         f"teacher {teacher.width}")
    s, t = student.model.bert, teacher.model.bert
    with torch.no_grad():
        s.embeddings.load_state_dict(t.embeddings.state_dict())
        if t.pooler is not None:
            s.pooler.load_state_dict(t.pooler.state_dict())
        for i, k in enumerate(forward_targets(student.depth, teacher.depth), start=1):
            s.encoder.layer[i - 1].load_state_dict(t.encoder.layer[k - 1].state_dict())
    return student
