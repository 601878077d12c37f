"""The stacked students' forward pass: every layer of N encoder students as one
grouped matrix product (``torch.baddbmm`` over the student axis)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..models import Encoder, token_mask


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """x (N, ..., i) @ w (N, o, i)^T + b (N, o): one nn.Linear per student."""
    n, o = w.shape[0], w.shape[1]
    y = torch.baddbmm(b.unsqueeze(1), x.reshape(n, -1, x.shape[-1]), w.transpose(1, 2))
    return y.view(*x.shape[:-1], o)


def _linear_parts(x, w, b, parts: int = 1):
    """_linear, or with parts > 1 the output features in that many equal chunks,
    each its own product (a list)."""
    if parts == 1:
        return _linear(x, w, b)
    return [_linear(x, wi, bi) for wi, bi in zip(w.chunk(parts, 1), b.chunk(parts, 1))]


def _norm_linear(x, ln_w, ln_b, eps, w, b, parts: int = 1):
    """Linear(LayerNorm(x)) per student (pre-LN), the norm's affine folded into the
    linear: W (g * z + beta) + c = (W diag(g)) z + (W beta + c). Same function, but
    one pass over the activations less (forward and backward)."""
    w_fold = w * ln_w.unsqueeze(1)
    b_fold = torch.baddbmm(b.unsqueeze(-1), w, ln_b.unsqueeze(-1)).squeeze(-1)
    return _linear_parts(F.layer_norm(x, x.shape[-1:], eps=eps), w_fold, b_fold, parts)


def _layer_norm(x, w, b, eps):
    """LayerNorm per student: x (N, ..., d), affine w, b (N, d). Post-LN normalises the
    residual sum itself (a hidden state), so there is no following linear to fold into."""
    shape = (w.shape[0],) + (1,) * (x.dim() - 2) + (w.shape[1],)
    return torch.addcmul(b.view(shape), F.layer_norm(x, x.shape[-1:], eps=eps), w.view(shape))


MATH_ATTENTION_MAX_LEN = 64  # short sequences: explicit attention beat the CPU flash kernel (17 tokens)


def _attention(q, k, v, mask: torch.Tensor | None) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over (batch, heads, T, d_head); mask: (batch, 1, 1, T)
    bool keys that may be seen. ``F.scaled_dot_product_attention`` up to rounding."""
    if q.device.type != "cpu" or q.shape[-2] > MATH_ATTENTION_MAX_LEN:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = torch.matmul(q, k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.matmul(scores.softmax(-1), v)


def _embed(p: dict[str, torch.Tensor], template: Encoder, x: torch.Tensor) -> torch.Tensor:
    """The students' input embeddings: x (N, B, T, F) features or (N, B, T) token ids."""
    if getattr(template, "vocab_size", None) is None:
        return _linear(x, p["embed.weight"], p["embed.bias"])
    table = p["embed.weight"]  # (N, V, d); nn.Embedding's padding row gets no gradient
    n, v = table.shape[0], table.shape[1]
    ids = x + v * torch.arange(n, device=x.device).view(n, *([1] * (x.dim() - 1)))
    out = F.embedding(ids, table.reshape(n * v, -1))
    pad = template.embed.padding_idx
    if pad is not None:
        out = torch.where((x == pad).unsqueeze(-1), out.detach(), out)
    return out


def _check_layout(student: Encoder) -> None:
    """stacked_encoder_forward re-implements Encoder.forward (either LayerNorm
    placement): refuse any other layout."""
    norm = "norm" if student.placement == "pre" else "embed_norm"
    names = {"cls", "pos", "embed.weight", f"{norm}.weight", f"{norm}.bias", "head.weight",
             "head.bias"}
    if getattr(student, "vocab_size", None) is None:
        names.add("embed.bias")
    for i in range(student.depth):
        names |= {f"blocks.{i}.{m}.{w}" for m in ("ln1", "qkv", "proj", "ln2", "mlp.0", "mlp.2")
                  for w in ("weight", "bias")}
    got = {k for k, _ in student.named_parameters()}
    extra = {k for k, _ in student.named_buffers()}
    gelu = [m for m in student.modules() if isinstance(m, torch.nn.GELU)]
    if got != names or extra or any(m.approximate != "none" for m in gelu):
        raise ValueError("the Encoder's layout changed: update stacked_encoder_forward "
                         f"(unexpected {sorted(got ^ names) or sorted(extra)}), or use "
                         "backend='vmap'")


def stacked_encoder_forward(
    p: dict[str, torch.Tensor], template: Encoder, x: torch.Tensor,
    mask: torch.Tensor | None = None, hiddens: bool = True,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``Encoder.forward`` of N students at once (equal up to rounding), either
    LayerNorm placement (``template.placement``).

    p: the students' stacked parameters under Encoder's names (leading axis N);
    template: an Encoder of the same architecture (only its hyper-parameters are
    read); x: (N, B, T, F) features or (N, B, T) ids, or the same without N when
    shared by all; mask: (N, B, T), (B, T) or None. Returns logits (N, B, C) and
    the L + 1 hidden states (N, B, T + 1, d) (an empty list when hiddens=False).
    """
    n, d = p["embed.weight"].shape[0], template.width
    ids = getattr(template, "vocab_size", None) is not None
    if x.dim() == (2 if ids else 3):
        x = x.expand(n, *x.shape)
    b, t = x.shape[1], x.shape[2] + 1
    h = torch.cat([p["cls"].expand(n, b, 1, d), _embed(p, template, x)], dim=2)
    h = h + p["pos"][:, :, :t]
    post = template.placement == "post"
    if post:
        h = _layer_norm(h, p["embed_norm.weight"], p["embed_norm.bias"], template.embed_norm.eps)
    attn_mask = None
    if mask is not None:
        mask = mask.expand(n, *mask.shape[-2:])
        attn_mask = token_mask(mask.reshape(n * b, t - 1))[:, None, None, :]
    out = [h] if hiddens else []
    for i, block in enumerate(template.blocks):
        q = f"blocks.{i}."
        heads = block.heads
        ln1, ln2 = ((p[q + f"{m}.weight"], p[q + f"{m}.bias"], getattr(block, m).eps)
                    for m in ("ln1", "ln2"))
        # q, k and v as three products: no (3, heads) re-layout of one big output,
        # whose backward is a costly strided copy
        qkv = p[q + "qkv.weight"], p[q + "qkv.bias"]
        qkv = _linear_parts(h, *qkv, parts=3) if post else _norm_linear(h, *ln1, *qkv, parts=3)
        qs, ks, vs = (z.view(n * b, t, heads, d // heads).transpose(1, 2) for z in qkv)
        y = _attention(qs, ks, vs, attn_mask)  # (N * B, heads, T, d_head)
        h = h + _linear(y.transpose(1, 2).reshape(n, b, t, d), p[q + "proj.weight"],
                        p[q + "proj.bias"])
        mlp0 = p[q + "mlp.0.weight"], p[q + "mlp.0.bias"]
        if post:
            h = _layer_norm(h, *ln1)
            z = F.gelu(_linear(h, *mlp0))
        else:
            z = F.gelu(_norm_linear(h, *ln2, *mlp0))
        h = h + _linear(z, p[q + "mlp.2.weight"], p[q + "mlp.2.bias"])
        if post:
            h = _layer_norm(h, *ln2)
        if hiddens:
            out.append(h)
    head = p["head.weight"], p["head.bias"]
    if post:
        logits = _linear(h[:, :, 0], *head)
    else:
        logits = _norm_linear(h[:, :, 0], p["norm.weight"], p["norm.bias"], template.norm.eps,
                              *head)
    return logits, out
