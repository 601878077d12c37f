"""A transformer encoder classifier that returns every hidden state.

Teacher and student are the same class at different depths (and, optionally,
widths). ``hiddens[0]`` is the embedding output, ``hiddens[i]`` the output of
block i: exactly the layers the strategies in ``strategies`` index.

LayerNorm placement (``norm``, ``config.ModelParams.norm``):

* ``"post"`` (BERT / BART): each residual add is followed by a LayerNorm, and
  the embedding output has its own (``embed_norm``), so every returned hidden
  state is a LayerNorm output; the head reads the last [CLS] state as is.
* ``"pre"`` (T5 / GPT-2 / Qwen3): each branch reads a LayerNorm of the
  residual stream, the returned states are the raw stream, and a final
  ``norm`` precedes the head.

A module one placement does not use does not exist in it (no dead parameters
in the optimizer, weight decay or checkpoints).

Inputs are either float token features (B, T, F), read through a linear
embedding, or, with ``vocab_size`` set, int64 token ids (B, T), read through
an ``nn.Embedding`` whose id ``PAD_ID`` (0) is padding. The encoder-decoder
of the generation tasks lives in ``seq2seq``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import NORMS  # LayerNorm placements

PAD_ID = 0  # padding id of token inputs (and of the generation tasks' sequences)


def check_norm(norm: str) -> str:
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {list(NORMS)}, got {norm!r}")
    return norm


def add_self_attention(block: nn.Module, width: int, heads: int, norm: str) -> None:
    """The modules every block starts with, created in this order (the order the
    random initialisation draws them in): ln1, the fused qkv map, proj, ln2."""
    block.heads, block.placement = heads, check_norm(norm)
    block.ln1 = nn.LayerNorm(width)
    block.qkv = nn.Linear(width, 3 * width)
    block.proj = nn.Linear(width, width)
    block.ln2 = nn.LayerNorm(width)


def mlp(width: int, mlp_ratio: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(width, mlp_ratio * width), nn.GELU(), nn.Linear(mlp_ratio * width, width)
    )


def split_fused(z: torch.Tensor, parts: int, heads: int) -> tuple[torch.Tensor, ...]:
    """(B, T, parts * d) output of a fused map -> ``parts`` tensors (B, heads, T, d_head)."""
    b, t, pd = z.shape
    return tuple(y.transpose(1, 2) for y in
                 z.view(b, t, parts, heads, pd // (parts * heads)).unbind(2))


class Block(nn.Module):
    """Self-attention and MLP, each a residual branch.

    pre: ``x = x + attn(ln1(x)); x = x + mlp(ln2(x))``; post:
    ``x = ln1(x + attn(x)); x = ln2(x + mlp(x))``. Same parameter names in both
    placements, so weight copy and the stacked layout (``batched``) do not depend on it.
    """

    def __init__(self, width: int, heads: int, mlp_ratio: int, norm: str = "pre"):
        super().__init__()
        add_self_attention(self, width, heads, norm)
        self.mlp = mlp(width, mlp_ratio)

    def attention(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = split_fused(self.qkv(x), 3, self.heads)
        attn_mask = None if mask is None else mask[:, None, None, :]  # keys that may be seen
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.placement == "pre":
            x = x + self.attention(self.ln1(x), mask)
            return x + self.mlp(self.ln2(x))
        x = self.ln1(x + self.attention(x, mask))
        return self.ln2(x + self.mlp(x))


class Encoder(nn.Module):
    """Token features (B, T, F) or token ids (B, T) -> class logits and the L + 1 hidden states.

    A learned [CLS] token is prepended; the head reads its last state (through
    the final ``norm`` with ``norm="pre"``; see the module docstring).

    vocab_size=None (default): x holds float features and ``embed`` is an
    ``nn.Linear(in_features, width)``. vocab_size=V: x holds int ids in
    0..V-1 and ``embed`` is an ``nn.Embedding(V, width, padding_idx=PAD_ID)``
    (N(0, 0.02) init, the padding row zero); ``in_features`` is then unused
    (pass None). Either way the mask is explicit: a None mask means every
    token is real, so pass ``x != PAD_ID`` for padded id sequences.
    """

    def __init__(
        self,
        in_features: int | None,
        n_classes: int,
        max_len: int,
        depth: int,
        width: int = 64,
        heads: int = 4,
        mlp_ratio: int = 2,
        vocab_size: int | None = None,
        norm: str = "pre",
    ):
        super().__init__()
        self.depth, self.width, self.vocab_size = depth, width, vocab_size
        self.placement = check_norm(norm)
        self.embed = input_embedding(in_features, vocab_size, width, "Encoder")
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, max_len + 1, width) * 0.02)
        if norm == "post":
            self.embed_norm = nn.LayerNorm(width)  # BERT's embedding LayerNorm
        self.blocks = nn.ModuleList(Block(width, heads, mlp_ratio, norm) for _ in range(depth))
        if norm == "pre":
            self.norm = nn.LayerNorm(width)  # the final norm of a pre-LN stack
        self.head = nn.Linear(width, n_classes)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """x: (B, T, F) floats, or (B, T) int ids with ``vocab_size``;
        mask: (B, T) bool, True for real tokens (None = all real)."""
        h = torch.cat([self.cls.expand(x.shape[0], -1, -1), self.embed(x)], dim=1)
        h = h + self.pos[:, : h.shape[1]]
        if self.placement == "post":
            h = self.embed_norm(h)
        if mask is not None:
            mask = token_mask(mask)
        hiddens = [h]
        for block in self.blocks:
            h = block(h, mask)
            hiddens.append(h)
        cls = h[:, 0] if self.placement == "post" else self.norm(h[:, 0])
        return self.head(cls), hiddens


def input_embedding(in_features: int | None, vocab_size: int | None, width: int,
                    owner: str) -> nn.Module:
    """The map from the inputs to the width: linear for float features (vocab_size
    None), ``token_embedding`` for ids."""
    if vocab_size is not None:
        return token_embedding(vocab_size, width)
    if in_features is None:
        raise ValueError(f"{owner} needs in_features (float inputs) or vocab_size (ids)")
    return nn.Linear(in_features, width)


def token_embedding(vocab_size: int, width: int) -> nn.Embedding:
    """Id embedding with PAD_ID as padding: N(0, 0.02) init (GPT-2 style), pad row zero."""
    embed = nn.Embedding(vocab_size, width, padding_idx=PAD_ID)
    with torch.no_grad():
        nn.init.normal_(embed.weight, std=0.02)
        embed.weight[PAD_ID].zero_()
    return embed


def token_mask(mask: torch.Tensor | None, batch: int = 0, length: int = 0) -> torch.Tensor:
    """The (B, T + 1) validity mask of the hidden states: [CLS] is always valid."""
    if mask is None:
        return torch.ones(batch, length + 1, dtype=torch.bool)
    cls = torch.ones(mask.shape[0], 1, dtype=torch.bool, device=mask.device)
    return torch.cat([cls, mask.bool()], dim=1)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
