"""BERT from Hugging Face `transformers` behind the native ``Encoder`` interface
(``model.backend: transformers``): ``forward(x, mask) -> (logits, hiddens)``
with the L + 1 hidden states ``BertModel(output_hidden_states=True)`` returns,
the states the official classification code matches.

As the native post-norm encoder (``tests/test_paper_architectures.py`` shows
the two equal to 1e-5 once the weights are copied): the inputs go through the
native ``embed`` (a linear map of float patch features, or an id embedding)
and a learned [CLS] vector is prepended; BERT adds its position (and single
token-type) embeddings and its embedding LayerNorm; the head reads the last
[CLS] state directly (no pooler). No dropout, LayerNorm eps 1e-5, as the native
model. BERT's own word-embedding table is not used (``inputs_embeds``): it has
one row.
"""

from __future__ import annotations

import torch
from torch import nn

from .encoder import input_embedding, token_mask


class BertClassifier(nn.Module):
    def __init__(self, in_features: int | None, n_classes: int, max_len: int, depth: int,
                 width: int = 64, heads: int = 4, mlp_ratio: int = 2,
                 vocab_size: int | None = None):
        from transformers import BertConfig, BertModel

        super().__init__()
        self.depth, self.width, self.vocab_size, self.placement = depth, width, vocab_size, "post"
        self.embed = input_embedding(in_features, vocab_size, width, "BertClassifier")
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        config = BertConfig(vocab_size=1, hidden_size=width, num_hidden_layers=depth,
                            num_attention_heads=heads, intermediate_size=mlp_ratio * width,
                            hidden_act="gelu", hidden_dropout_prob=0.0,
                            attention_probs_dropout_prob=0.0, max_position_embeddings=max_len + 1,
                            type_vocab_size=1, layer_norm_eps=1e-5, attn_implementation="eager")
        self.bert = BertModel(config, add_pooling_layer=False)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        """x: (B, T, F) floats, or (B, T) ids with ``vocab_size``; mask (B, T) bool."""
        h = torch.cat([self.cls.expand(x.shape[0], -1, -1), self.embed(x)], dim=1)
        attention = None if mask is None else token_mask(mask).long()
        out = self.bert(inputs_embeds=h, attention_mask=attention, output_hidden_states=True)
        hiddens = list(out.hidden_states)
        return self.head(hiddens[-1][:, 0]), hiddens


def weight_copy_bert_(student: BertClassifier, teacher: BertClassifier) -> BertClassifier:
    """As ``weight_copy_``: the input embedding, [CLS], BERT's embeddings (positions,
    token type, LayerNorm), and student block i <- teacher block ceil(i L_T / L_S);
    the head stays fresh."""
    from ..strategies import forward_targets

    if student.width != teacher.width:
        raise ValueError(f"weight_copy needs equal width, got student {student.width} vs "
                         f"teacher {teacher.width}")
    with torch.no_grad():
        student.embed.load_state_dict(teacher.embed.state_dict())
        student.cls.copy_(teacher.cls)
        student.bert.embeddings.load_state_dict(teacher.bert.embeddings.state_dict())
        layers_s, layers_t = student.bert.encoder.layer, teacher.bert.encoder.layer
        for i, t in enumerate(forward_targets(student.depth, teacher.depth), start=1):
            layers_s[i - 1].load_state_dict(layers_t[t - 1].state_dict())
    return student
