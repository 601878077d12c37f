"""The encoder-decoder of the generation tasks (the paper's BART / T5, small).

Sequences follow one convention::

    PAD = 0, BOS = 1, EOS = 2
    src[i] = source ids, EOS, PAD ...
    tgt[i] = BOS, target ids, EOS, PAD ...   decoder input tgt[:, :-1], labels tgt[:, 1:]

Encoder blocks are the classifier's ``Block`` (self-attention + MLP); decoder
blocks (``DecoderBlock``) are causal self-attention + cross-attention to the
encoder output (``memory``) + MLP. Both stacks return every hidden state:
hidden 0 is the stack's embedding output (token + learned position
embedding), hidden i the output of block i, the layers the strategies index.
post (BART): each residual add is followed by a LayerNorm and each stack's
embedding output has its own (BART's ``layernorm_embedding``: ``enc_embed_norm``
/ ``dec_embed_norm``), so every hidden state is a LayerNorm output; memory is
the last encoder hidden and the head reads the last decoder hidden. pre (T5):
the hidden states are the raw residual stream, and final norms (``enc_norm`` /
``dec_norm``) give the memory and the head's input.

Vocabulary: separate source and target embeddings by default;
``tgt_vocab_size=None`` shares one table, as BART and T5 do. The output head is
tied to the target embedding (``tie_head=True``); untied, it is a bias-free
linear map of its own. Decoding (``generate``): greedy, or beam search
(``beam_search``) with ``beams`` > 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .beam_search import beam_search
from .encoder import (
    PAD_ID,
    Block,
    add_self_attention,
    check_norm,
    mlp,
    split_fused,
    token_embedding,
)

BOS_ID, EOS_ID = 1, 2


def _merge_heads(y: torch.Tensor) -> torch.Tensor:
    b, h, t, dh = y.shape
    return y.transpose(1, 2).reshape(b, t, h * dh)


class DecoderBlock(nn.Module):
    """Decoder block: causal self-attention, cross-attention, MLP, each a residual branch.

    pre: ``x = x + f(ln(x))`` per branch; post: ``x = ln(x + f(x))`` (ln1, ln2,
    ln3 in branch order), as ``models.Block``. Same parameter names in both.
    """

    def __init__(self, width: int, heads: int, mlp_ratio: int, norm: str = "pre"):
        super().__init__()
        add_self_attention(self, width, heads, norm)
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.cross_proj = nn.Linear(width, width)
        self.ln3 = nn.LayerNorm(width)
        self.mlp = mlp(width, mlp_ratio)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        self_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        cache: dict | None = None,
    ) -> torch.Tensor:
        """x: (B, T, d); memory: (B, S, d) encoder output (``EncoderDecoder.encode``).

        self_mask: (B, 1, T, T_keys) bool, True where a query may attend (None:
        every key). memory_mask: (B, S) bool valid source tokens (None: all).
        cache: a dict for incremental decoding; it accumulates this block's
        self-attention keys and values, and keeps the cross-attention ones.
        """
        if self.placement == "pre":
            x = x + self.self_attention(self.ln1(x), self_mask, cache)
            x = x + self.cross_attention(self.ln2(x), memory, memory_mask, cache)
            return x + self.mlp(self.ln3(x))
        x = self.ln1(x + self.self_attention(x, self_mask, cache))
        x = self.ln2(x + self.cross_attention(x, memory, memory_mask, cache))
        return self.ln3(x + self.mlp(x))

    def self_attention(self, x: torch.Tensor, self_mask: torch.Tensor | None,
                       cache: dict | None) -> torch.Tensor:
        q, k, v = split_fused(self.qkv(x), 3, self.heads)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=self_mask)
        return self.proj(_merge_heads(y))

    def cross_attention(self, x: torch.Tensor, memory: torch.Tensor,
                        memory_mask: torch.Tensor | None, cache: dict | None) -> torch.Tensor:
        (q,) = split_fused(self.q(x), 1, self.heads)
        if cache is not None and "mk" in cache:
            mk, mv = cache["mk"], cache["mv"]
        else:
            mk, mv = split_fused(self.kv(memory), 2, self.heads)
            if cache is not None:
                cache["mk"], cache["mv"] = mk, mv
        attn_mask = None if memory_mask is None else memory_mask[:, None, None, :]
        y = F.scaled_dot_product_attention(q, mk, mv, attn_mask=attn_mask)
        return self.cross_proj(_merge_heads(y))


def causal_mask(tgt_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) valid target tokens -> (B, 1, T, T) self-attention mask.

    Query t sees the valid keys 0..t. Each query also always sees itself, so a
    padded query never has an empty row (no NaN); valid queries are unaffected.
    """
    t = tgt_mask.shape[1]
    causal = torch.ones(t, t, dtype=torch.bool, device=tgt_mask.device).tril()
    eye = torch.eye(t, dtype=torch.bool, device=tgt_mask.device)
    return (causal & (tgt_mask[:, None, :] | eye))[:, None]


class EncoderDecoder(nn.Module):
    """Token ids -> next-token logits and the hidden states of both stacks.

    forward(src, src_mask, tgt_in, tgt_mask) -> (logits (B, T_tgt, V_tgt),
    enc_hiddens (enc_depth + 1 tensors (B, S, d)), dec_hiddens (dec_depth + 1
    tensors (B, T_tgt, d))). A None mask is derived from the ids (``!= PAD_ID``).
    norm: the LayerNorm placement (module docstring).
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int | None,
        max_src_len: int,
        max_tgt_len: int,
        enc_depth: int,
        dec_depth: int,
        width: int = 64,
        heads: int = 4,
        mlp_ratio: int = 2,
        tie_head: bool = True,
        norm: str = "pre",
    ):
        super().__init__()
        self.enc_depth, self.dec_depth, self.width = enc_depth, dec_depth, width
        self.placement = check_norm(norm)
        self.shared_vocab = tgt_vocab_size is None
        self.src_vocab_size = src_vocab_size
        self.tgt_vocab_size = src_vocab_size if tgt_vocab_size is None else tgt_vocab_size
        self.max_src_len, self.max_tgt_len, self.tie_head = max_src_len, max_tgt_len, tie_head
        self.src_embed = token_embedding(src_vocab_size, width)
        self.tgt_embed = (self.src_embed if self.shared_vocab
                          else token_embedding(self.tgt_vocab_size, width))
        self.src_pos = nn.Parameter(torch.randn(1, max_src_len, width) * 0.02)
        self.tgt_pos = nn.Parameter(torch.randn(1, max_tgt_len, width) * 0.02)
        self.enc_blocks = nn.ModuleList(
            Block(width, heads, mlp_ratio, norm) for _ in range(enc_depth)
        )
        self.dec_blocks = nn.ModuleList(
            DecoderBlock(width, heads, mlp_ratio, norm) for _ in range(dec_depth)
        )
        if norm == "pre":  # final norms of the pre-LN stacks
            self.enc_norm = nn.LayerNorm(width)
            self.dec_norm = nn.LayerNorm(width)
        else:  # BART's layernorm_embedding, one per stack
            self.enc_embed_norm = nn.LayerNorm(width)
            self.dec_embed_norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, self.tgt_vocab_size, bias=False)
        if tie_head:
            self.head.weight = self.tgt_embed.weight

    @property
    def stack_norms(self) -> tuple[str, str]:
        """Names of the stack-level norms of this placement (encoder, decoder)."""
        if self.placement == "pre":
            return "enc_norm", "dec_norm"
        return "enc_embed_norm", "dec_embed_norm"

    def embed_src(self, src: torch.Tensor) -> torch.Tensor:
        """Encoder hidden 0: token + position embedding (LayerNorm-ed with post)."""
        h = self.src_embed(src) + self.src_pos[:, : src.shape[1]]
        return self.enc_embed_norm(h) if self.placement == "post" else h

    def embed_tgt(self, tgt: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Decoder hidden 0 of the ids ``tgt`` at positions start, start + 1, ..."""
        h = self.tgt_embed(tgt) + self.tgt_pos[:, start : start + tgt.shape[1]]
        return self.dec_embed_norm(h) if self.placement == "post" else h

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Next-token logits of last-block decoder states (through dec_norm with pre)."""
        return self.head(h if self.placement == "post" else self.dec_norm(h))

    def encode(
        self, src: torch.Tensor, src_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """src (B, S) ids -> memory (B, S, d) and the enc_depth + 1 hiddens.

        memory: the last hidden, through ``enc_norm`` with pre."""
        if src_mask is None:
            src_mask = src != PAD_ID
        h = self.embed_src(src)
        hiddens = [h]
        for block in self.enc_blocks:
            h = block(h, src_mask)
            hiddens.append(h)
        return (h if self.placement == "post" else self.enc_norm(h)), hiddens

    def decode(
        self,
        tgt_in: torch.Tensor,
        memory: torch.Tensor,
        src_mask: torch.Tensor,
        tgt_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Teacher-forced decoder: tgt_in (B, T) ids -> logits (B, T, V), dec_depth + 1 hiddens."""
        if tgt_mask is None:
            tgt_mask = tgt_in != PAD_ID
        self_mask = causal_mask(tgt_mask)
        h = self.embed_tgt(tgt_in)
        hiddens = [h]
        for block in self.dec_blocks:
            h = block(h, memory, self_mask, src_mask)
            hiddens.append(h)
        return self.logits(h), hiddens

    def forward(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor | None,
        tgt_in: torch.Tensor,
        tgt_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        if src_mask is None:
            src_mask = src != PAD_ID
        memory, enc_hiddens = self.encode(src, src_mask)
        logits, dec_hiddens = self.decode(tgt_in, memory, src_mask, tgt_mask)
        return logits, enc_hiddens, dec_hiddens

    def _next_logits(self, tok: torch.Tensor, step: int, memory: torch.Tensor,
                     src_mask: torch.Tensor, caches: list[dict]) -> torch.Tensor:
        """Logits (B, V) after the ids tok (B, 1) at position ``step``, given the
        earlier positions through the blocks' key/value caches."""
        h = self.embed_tgt(tok, step)
        for block, cache in zip(self.dec_blocks, caches):
            h = block(h, memory, None, src_mask, cache)
        return self.logits(h[:, -1])

    @torch.no_grad()
    def generate(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        bos_id: int = BOS_ID,
        eos_id: int = EOS_ID,
        max_len: int | None = None,
        pad_id: int = PAD_ID,
        beams: int = 1,
    ) -> torch.Tensor:
        """Greedy decoding (beams=1) or beam search (``models.beam_search``), batched,
        with a key/value cache.

        Returns (B, n) int64 ids without the leading BOS, n <= max_len (default
        ``max_tgt_len``): each row's tokens up to and including its first EOS,
        then ``pad_id``. Decoding stops once every row has emitted EOS. Greedy
        is plain argmax over the whole vocabulary: the result equals feeding the
        growing prefix through ``forward`` (all positions valid) and taking the
        argmax of the last position, step by step.
        """
        max_len = self.max_tgt_len if max_len is None else max_len
        if not 1 <= max_len <= self.max_tgt_len:
            raise ValueError(f"max_len must be in 1..{self.max_tgt_len}, got {max_len}")
        if beams < 1:
            raise ValueError(f"beams must be >= 1, got {beams}")
        if beams > 1 and not 0 <= eos_id < self.tgt_vocab_size:
            raise ValueError(f"beam search needs an EOS id in the vocabulary, got {eos_id}")
        was_training = self.training
        self.eval()
        if src_mask is None:
            src_mask = src != PAD_ID
        memory, _ = self.encode(src, src_mask)
        if beams > 1:
            out = beam_search(self, memory, src_mask, beams, bos_id, eos_id, max_len, pad_id)
            self.train(was_training)
            return out
        b = src.shape[0]
        caches: list[dict] = [{} for _ in self.dec_blocks]
        tok = torch.full((b, 1), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(b, dtype=torch.bool, device=src.device)
        out = []
        for step in range(max_len):
            nxt = self._next_logits(tok, step, memory, src_mask, caches).argmax(-1)
            nxt = nxt.masked_fill(done, pad_id)
            out.append(nxt)
            done = done | (nxt == eos_id)
            if bool(done.all()):
                break
            tok = nxt[:, None]
        self.train(was_training)
        return torch.stack(out, dim=1)
