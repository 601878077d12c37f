"""The encoder-decoder side: a seq2seq transformer, its distillation, weight copy and metrics.

The generation tasks (``datasets``: scan, numbers_ro) stand in for the paper's
BART / T5 experiments. Their sequences follow one convention::

    PAD = 0, BOS = 1, EOS = 2
    src[i] = source ids, EOS, PAD ...
    tgt[i] = BOS, target ids, EOS, PAD ...   decoder input tgt[:, :-1], labels tgt[:, 1:]

Model (``EncoderDecoder``): a transformer with either LayerNorm placement of
``models`` (``norm``). Encoder blocks are the classification encoder's
``models.Block`` (self-attention + MLP); decoder blocks (``DecoderBlock``) are
causal self-attention + cross-attention to the encoder output (``memory``) +
MLP. Both stacks return every hidden state: hidden 0 is the stack's embedding
output (token + learned position embedding), hidden i the output of block i,
the layers the strategies index. post (BART): each residual add is followed by
a LayerNorm and each stack's embedding output has its own (BART's
``layernorm_embedding``: ``enc_embed_norm`` / ``dec_embed_norm``), so every
hidden state is a LayerNorm output; memory is the last encoder hidden and the
head reads the last decoder hidden. pre (T5): the hidden states are the raw
residual stream, and final norms (``enc_norm`` / ``dec_norm``) give the memory
and the head's input.

Vocabulary: separate source and target embeddings by default (the generation
tasks ship separate ``src_vocab`` / ``tgt_vocab``); ``tgt_vocab_size=None``
shares one table between the two sides, as BART and T5 do. The output head is
tied to the target embedding (``tie_head=True``, as in BART / T5); untied, it
is a bias-free linear map of its own.

Distillation (``Seq2SeqDistiller``) follows the classification protocol stack
by stack: token-level CE against the reference and KL(teacher || student)
over the non-padding target positions, and the layer-selection strategy
applied to the encoder stack and the decoder stack separately (each with its
own pairs, token mask and projections; decoder states teacher-forced on the
reference). ``hid`` combines the two stack losses like the pairs: their sum
(official BART / T5 code) or mean (``Objective.pair_reduce``); the per-stack
values are logged as ``hid_enc`` / ``hid_dec``.

Weight copy (``weight_copy_seq2seq_``) copies embeddings, positions, the
stack-level norms of the placement and the output head, and per stack student block i <- teacher block
ceil(i * L_T / L_S). Unlike the classification head, the output head is
copied: teacher and student predict the same target vocabulary, and a tied
head is the target embedding anyway (DistilBART copies it the same way).

Decoding (``EncoderDecoder.generate``): greedy, or beam search with
``beams`` > 1 (hypotheses ranked by log-probability / length, Hugging Face's
default length penalty 1.0).

Metrics: corpus BLEU (``sacrebleu.corpus_bleu``, default 13a tokenisation)
and exact match (%) on detokenised word strings of the decodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .losses import Objective, hidden_matching_loss, kl_teacher_student
from .models import PAD_ID, Block, check_norm, token_embedding
from .strategies import Pairs, forward_targets, match_layers

BOS_ID, EOS_ID = 1, 2

Hiddens = list[torch.Tensor] | torch.Tensor | Mapping[int, torch.Tensor]


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    b, t, d = x.shape
    return x.view(b, t, heads, d // heads).transpose(1, 2)  # (b, heads, t, d_head)


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
        self.heads, self.placement = heads, check_norm(norm)
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.cross_proj = nn.Linear(width, width)
        self.ln3 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, mlp_ratio * width), nn.GELU(), nn.Linear(mlp_ratio * width, width)
        )

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
        b, t, d = x.shape
        q, k, v = (z.transpose(1, 2) for z in
                   self.qkv(x).view(b, t, 3, self.heads, d // self.heads).unbind(2))
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=self_mask)
        return self.proj(_merge_heads(y))

    def cross_attention(self, x: torch.Tensor, memory: torch.Tensor,
                        memory_mask: torch.Tensor | None, cache: dict | None) -> torch.Tensor:
        b, _, d = x.shape
        q = _split_heads(self.q(x), self.heads)
        if cache is not None and "mk" in cache:
            mk, mv = cache["mk"], cache["mv"]
        else:
            s = memory.shape[1]
            mk, mv = (z.transpose(1, 2) for z in
                      self.kv(memory).view(b, s, 2, self.heads, d // self.heads).unbind(2))
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
        """Greedy decoding (beams=1) or beam search (``_beam_search``), batched,
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
            out = self._beam_search(memory, src_mask, beams, bos_id, eos_id, max_len, pad_id)
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

    def _beam_search(self, memory: torch.Tensor, src_mask: torch.Tensor, k: int, bos_id: int,
                     eos_id: int, max_len: int, pad_id: int) -> torch.Tensor:
        """Beam search of width k; ``generate``'s output format.

        The k beams of every source row run as one batch of B * k rows (the key/
        value caches reordered by beam after each step). A hypothesis scores the
        sum of its tokens' log-probabilities (whole vocabulary, as greedy); a
        finished one (ended by EOS, or cut at max_len) is ranked by score /
        length, its token count including EOS (length penalty 1.0, Hugging
        Face's default). Each step, every live beam's EOS extension is a
        finished candidate, and the k best other extensions are the next live
        beams. A live hypothesis of sum s < 0 can reach at most s / max_len
        later, so decoding stops once every row holds k finished hypotheses
        scoring at least that for all its live beams (or at max_len); the best
        finished hypothesis of each row is returned.
        """
        b, dev = memory.shape[0], memory.device
        memory, src_mask = memory.repeat_interleave(k, 0), src_mask.repeat_interleave(k, 0)
        caches: list[dict] = [{} for _ in self.dec_blocks]
        first = torch.arange(b, device=dev)[:, None] * k  # each row's first beam
        live = torch.full((b, k), float("-inf"), device=dev)
        live[:, 0] = 0.0  # one start beam per row, so the first step draws k distinct tokens
        seqs = torch.empty(b * k, 0, dtype=torch.long, device=dev)
        fin = torch.full((b, k), float("-inf"), device=dev)  # k best finished, score / length
        fin_seqs = torch.full((b, k, max_len), pad_id, dtype=torch.long, device=dev)

        def keep_best(scores: torch.Tensor, ended: torch.Tensor) -> None:
            """Merge candidates (b, k) scores / (b * k, t) ids into the k best finished."""
            nonlocal fin, fin_seqs
            ended = F.pad(ended, (0, max_len - ended.shape[1]), value=pad_id).view(b, k, -1)
            fin, i = torch.cat([fin, scores], 1).topk(k, dim=1)
            i = i[..., None].expand(-1, -1, max_len)
            fin_seqs = torch.cat([fin_seqs, ended], 1).gather(1, i)

        tok = torch.full((b * k, 1), bos_id, dtype=torch.long, device=dev)
        for step in range(max_len):
            logp = self._next_logits(tok, step, memory, src_mask, caches).log_softmax(-1)
            total = live.view(b * k, 1) + logp  # (b * k, V)
            eos = torch.full((b * k, 1), eos_id, dtype=torch.long, device=dev)
            keep_best(total[:, eos_id].view(b, k) / (step + 1), torch.cat([seqs, eos], 1))
            total[:, eos_id] = float("-inf")
            v = total.shape[1]
            live, idx = total.view(b, k * v).topk(k, dim=1)
            beam = (first + idx // v).view(-1)
            seqs = torch.cat([seqs[beam], (idx % v).view(-1, 1)], 1)
            for cache in caches:  # the cross-attention keys are equal across a row's beams
                cache["k"], cache["v"] = cache["k"][beam], cache["v"][beam]
            if step == max_len - 1:  # cut at max_len: finished without EOS
                keep_best(live / max_len, seqs)
            elif bool((fin[:, -1] >= live.max(1).values / max_len).all()):
                break
            tok = seqs[:, -1:]
        best = fin_seqs[:, 0]
        is_eos = best == eos_id
        lengths = torch.where(is_eos.any(1), is_eos.int().argmax(1) + 1, max_len)
        return best[:, : int(lengths.max())]


# --------------------------------------------------------------------------- distillation


def shift_target(tgt: torch.Tensor, pad_id: int = PAD_ID):
    """Reference (B, T + 1) = BOS .. EOS PAD .. -> decoder input, labels and their masks.

    Returns tgt_in (B, T), labels (B, T), in_mask (tgt_in != pad) and
    label_mask (labels != pad): the non-padding target positions.
    """
    tgt_in, labels = tgt[:, :-1], tgt[:, 1:]
    return tgt_in, labels, tgt_in != pad_id, labels != pad_id


def token_cross_entropy(logits: torch.Tensor, labels: torch.Tensor,
                        pad_id: int = PAD_ID) -> torch.Tensor:
    """Mean CE over the non-padding label positions of (B, T, V) logits."""
    return F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=pad_id)


def seq2seq_pairs(
    strategy: str,
    student_depths: tuple[int, int],
    teacher_depths: tuple[int, int],
    *,
    seed: int = 0,
    epoch: int = 0,
    target: int | None = None,
    embeddings: bool = True,
) -> tuple[Pairs, Pairs]:
    """(encoder pairs, decoder pairs): ``match_layers`` applied to each stack.

    Depths are (encoder, decoder). Both stacks use the same seed and epoch
    (and ``all_to_one`` target, which must then exist in both teachers).
    """
    (se, sd), (te, td) = student_depths, teacher_depths
    kw = dict(seed=seed, epoch=epoch, target=target, embeddings=embeddings)
    return match_layers(strategy, se, te, **kw), match_layers(strategy, sd, td, **kw)


def _projections(student_width: int, teacher_width: int, depth: int) -> nn.ModuleList:
    if teacher_width == student_width:
        return nn.ModuleList()
    return nn.ModuleList(nn.Linear(student_width, teacher_width) for _ in range(depth + 1))


class Seq2SeqDistiller(nn.Module):
    """Owns the student and both stacks' projection maps; returns (logits, losses).

    losses: ``ce`` token CE vs the reference (padding ignored); ``kl``
    token-level KL(teacher || student) at ``temperature`` times T^2, averaged
    over the non-padding target positions; ``hid_enc`` / ``hid_dec`` the
    hidden-matching loss of each stack (``losses.hidden_matching_loss`` with
    that stack's pairs, token mask and projections); ``hid`` their sum or mean
    (``Objective.reduce_pairs``); ``total = Objective.total(ce, kl, hid)``.

    As with ``losses.Distiller`` the teacher is held outside the module tree
    (never in ``parameters()``, the optimizer or the checkpoint); its outputs
    come from a cache (``Seq2SeqTeacherCache.batch``) or a live eval-mode,
    no-grad forward pass on the same reference.
    """

    def __init__(
        self,
        student: EncoderDecoder,
        enc_pairs: Pairs,
        dec_pairs: Pairs,
        teacher: EncoderDecoder | None = None,
        teacher_width: int | None = None,
        objective: Objective = Objective(),
        pad_id: int = PAD_ID,
    ):
        super().__init__()
        self.student = student
        self.__dict__["teacher"] = teacher  # not registered: see class docstring
        if teacher is not None:
            teacher.eval().requires_grad_(False)
            teacher_width = teacher.width
        teacher_width = teacher_width or student.width
        # One map per student layer of each stack (keyed by student layer, so
        # strategies that redraw pairs keep their maps), only when widths differ.
        self.enc_projections = _projections(student.width, teacher_width, student.enc_depth)
        self.dec_projections = _projections(student.width, teacher_width, student.dec_depth)
        self.enc_pairs, self.dec_pairs = list(enc_pairs), list(dec_pairs)
        self.objective = objective
        self.pad_id = pad_id

    def teacher_outputs(self, src: torch.Tensor, tgt: torch.Tensor):
        """The live teacher's (logits, enc_hiddens, dec_hiddens) on the reference ``tgt``."""
        if self.teacher is None:
            raise RuntimeError("no live teacher: pass teacher_logits and both teacher hiddens")
        tgt_in, _, in_mask, _ = shift_target(tgt, self.pad_id)
        self.teacher.eval()
        with torch.no_grad():
            return self.teacher(src, src != self.pad_id, tgt_in, in_mask)

    def forward(
        self,
        src: torch.Tensor,
        tgt: torch.Tensor,
        teacher_logits: torch.Tensor | None = None,
        teacher_enc_hiddens: Hiddens | None = None,
        teacher_dec_hiddens: Hiddens | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """src (B, S) ids; tgt (B, T + 1) reference (BOS .. EOS PAD ..).

        Teacher outputs, when given, are on the decoder input tgt[:, :-1]:
        logits (B, T, V) and hidden states indexed by teacher layer (list,
        stacked tensor or {layer: tensor} dict).
        """
        if teacher_logits is None:
            teacher_logits, teacher_enc_hiddens, teacher_dec_hiddens = \
                self.teacher_outputs(src, tgt)
        src_mask = src != self.pad_id
        tgt_in, labels, in_mask, label_mask = shift_target(tgt, self.pad_id)
        logits, enc_h, dec_h = self.student(src, src_mask, tgt_in, in_mask)
        obj = self.objective
        hid_enc = hidden_matching_loss(enc_h, teacher_enc_hiddens, self.enc_pairs, src_mask,
                                       self.enc_projections, obj)
        hid_dec = hidden_matching_loss(dec_h, teacher_dec_hiddens, self.dec_pairs, in_mask,
                                       self.dec_projections, obj)
        losses = {
            "ce": token_cross_entropy(logits, labels, self.pad_id),
            "kl": kl_teacher_student(logits[label_mask], teacher_logits[label_mask],
                                     obj.temperature),
            "hid_enc": hid_enc,
            "hid_dec": hid_dec,
            # the stacks are combined like the pairs: added (official BART / T5) or averaged
            "hid": obj.reduce_pairs(hid_enc + hid_dec, 2),
        }
        losses["total"] = obj.total(losses["ce"], losses["kl"], losses["hid"])
        return logits, losses


@dataclass
class Seq2SeqTeacherCache:
    """Teacher outputs of one split, teacher-forced on its references.

    logits (N, T, V); enc_hiddens (L_enc + 1, N, S, d); dec_hiddens
    (L_dec + 1, N, T, d). Memory grows with N * T * d per layer: cache the
    transfer set only.
    """

    logits: torch.Tensor
    enc_hiddens: torch.Tensor
    dec_hiddens: torch.Tensor

    @classmethod
    @torch.no_grad()
    def compute(cls, teacher: EncoderDecoder, src: torch.Tensor, tgt: torch.Tensor,
                batch_size: int = 256, pad_id: int = PAD_ID) -> "Seq2SeqTeacherCache":
        teacher.eval()
        logits, enc, dec = [], [], []
        for i in range(0, len(src), batch_size):
            s, t = src[i : i + batch_size], tgt[i : i + batch_size]
            tgt_in, _, in_mask, _ = shift_target(t, pad_id)
            lg, eh, dh = teacher(s, s != pad_id, tgt_in, in_mask)
            logits.append(lg)
            enc.append(torch.stack(eh))
            dec.append(torch.stack(dh))
        return cls(torch.cat(logits), torch.cat(enc, dim=1), torch.cat(dec, dim=1))

    def batch(self, idx: torch.Tensor, enc_layers: list[int] | None = None,
              dec_layers: list[int] | None = None):
        """(logits, enc, dec) of the samples ``idx``; with layers given, enc / dec are
        {teacher layer: tensor} dicts of just those layers (as ``TeacherCache.batch``)."""

        def pick(h: torch.Tensor, layers):
            if layers is None:
                return h[:, idx]
            return {t: h[t, idx] for t in sorted(set(layers))}

        return self.logits[idx], pick(self.enc_hiddens, enc_layers), pick(self.dec_hiddens,
                                                                          dec_layers)


# --------------------------------------------------------------------------- initialisation


def weight_copy_seq2seq_(student: EncoderDecoder, teacher: EncoderDecoder) -> EncoderDecoder:
    """Copy embeddings, positions, stack-level norms, output head and blocks, in place.

    The stack-level norms are those of the placement (``stack_norms``: final
    norms with pre, embedding norms with post). Per stack, student block i
    takes teacher block ceil(i * L_T / L_S) (``strategies.forward_targets``).
    Widths, vocabularies, maximum lengths, the sharing / tying layout and the
    LayerNorm placement must match.
    """
    if student.width != teacher.width:
        raise ValueError(f"weight_copy needs equal widths, got student {student.width} "
                         f"vs teacher {teacher.width}")
    for attr in ("src_vocab_size", "tgt_vocab_size", "shared_vocab", "tie_head",
                 "max_src_len", "max_tgt_len", "placement"):
        if getattr(student, attr) != getattr(teacher, attr):
            raise ValueError(f"weight_copy needs equal {attr}, got student "
                             f"{getattr(student, attr)} vs teacher {getattr(teacher, attr)}")
    with torch.no_grad():
        # tgt_embed is src_embed when shared, and head.weight is tgt_embed.weight when
        # tied: copying an alias twice is harmless.
        for name in ("src_embed", "tgt_embed", *teacher.stack_norms, "head"):
            getattr(student, name).load_state_dict(getattr(teacher, name).state_dict())
        student.src_pos.copy_(teacher.src_pos)
        student.tgt_pos.copy_(teacher.tgt_pos)
        for s_blocks, t_blocks in ((student.enc_blocks, teacher.enc_blocks),
                                   (student.dec_blocks, teacher.dec_blocks)):
            for i, t in enumerate(forward_targets(len(s_blocks), len(t_blocks)), start=1):
                s_blocks[i - 1].load_state_dict(t_blocks[t - 1].state_dict())
    return student


def initialise_seq2seq(student: EncoderDecoder, init: str,
                       teacher: EncoderDecoder | None = None) -> EncoderDecoder:
    """``initialisation.initialise`` for the encoder-decoder."""
    if init == "random":
        return student
    if init == "weight_copy":
        if teacher is None:
            raise ValueError("init='weight_copy' needs the teacher")
        return weight_copy_seq2seq_(student, teacher)
    raise ValueError(f"init must be one of ['random', 'weight_copy'], got {init!r}")


# --------------------------------------------------------------------------- metrics


def ids_to_text(ids, vocab: Sequence[str], bos_id: int = BOS_ID, eos_id: int = EOS_ID,
                pad_id: int = PAD_ID) -> list[str]:
    """(N, T) ids -> N space-joined word strings: read up to the first EOS, drop PAD / BOS."""
    rows = ids.tolist() if hasattr(ids, "tolist") else list(ids)
    words = [str(w) for w in (vocab.tolist() if hasattr(vocab, "tolist") else vocab)]
    out = []
    for row in rows:
        kept = []
        for t in row:
            if t == eos_id:
                break
            if t not in (pad_id, bos_id):
                kept.append(words[t])
        out.append(" ".join(kept))
    return out


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (0-100) of detokenised strings, one reference each (sacrebleu defaults)."""
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses vs {len(references)} references")
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Percentage of hypotheses equal to their reference (whitespace-normalised)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses vs {len(references)} references")
    if not references:
        return 0.0
    same = sum(h.split() == r.split() for h, r in zip(hypotheses, references))
    return 100.0 * same / len(references)


@torch.no_grad()
def evaluate_seq2seq(
    model: EncoderDecoder,
    split,
    bos: int = BOS_ID,
    eos: int = EOS_ID,
    max_len: int | None = None,
    vocab: Sequence[str] | None = None,
    batch_size: int = 500,
    beams: int = 1,
) -> dict[str, float]:
    """Decode ``split.x`` and score it against ``split.y``: {"bleu", "exact_match"}.

    beams: 1 = greedy, else the beam width (``EncoderDecoder.generate``).
    split: anything with ``x`` (N, S) source ids and ``y`` (N, T + 1) references
    (``data.Split``). max_len: decoding steps (default T, room for the longest
    reference and its EOS, capped at the model's ``max_tgt_len``). vocab: the
    target vocabulary, to turn ids into words (required).
    """
    if vocab is None:
        raise ValueError("evaluate_seq2seq needs the target vocabulary")
    if max_len is None:
        max_len = min(split.y.shape[1] - 1, model.max_tgt_len)
    hyps = []
    for i in range(0, len(split.x), batch_size):
        src = split.x[i : i + batch_size]
        out = model.generate(src, src != PAD_ID, bos, eos, max_len, beams=beams)
        hyps += ids_to_text(out, vocab, bos, eos)
    refs = ids_to_text(split.y, vocab, bos, eos)
    return {"bleu": corpus_bleu(hyps, refs), "exact_match": exact_match(hyps, refs)}


# --------------------------------------------------------------------------- training glue


def ce_loss_fn(model: EncoderDecoder, split, pad_id: int = PAD_ID):
    """loss_fn(idx) for ``train.fit``: plain token CE (the teacher, the CE-only baseline)."""

    def loss_fn(idx: torch.Tensor):
        src, tgt = split.x[idx], split.y[idx]
        tgt_in, labels, in_mask, _ = shift_target(tgt, pad_id)
        logits, _, _ = model(src, src != pad_id, tgt_in, in_mask)
        loss = token_cross_entropy(logits, labels, pad_id)
        return loss, {"ce": loss.item()}

    return loss_fn


def distill_loss_fn(distiller: Seq2SeqDistiller, split,
                    cache: Seq2SeqTeacherCache | None = None):
    """loss_fn(idx) for ``train.fit``: the distillation total, from the cache when given
    (only the teacher layers the current pairs use) or from the live teacher."""

    def loss_fn(idx: torch.Tensor):
        teacher = (None, None, None)
        if cache is not None:
            teacher = cache.batch(idx, [t for _, t in distiller.enc_pairs],
                                  [t for _, t in distiller.dec_pairs])
        _, losses = distiller(split.x[idx], split.y[idx], *teacher)
        return losses["total"], {k: v.item() for k, v in losses.items()}

    return loss_fn


__all__ = [
    "BOS_ID", "EOS_ID", "PAD_ID", "DecoderBlock", "EncoderDecoder", "Seq2SeqDistiller",
    "Seq2SeqTeacherCache", "causal_mask", "ce_loss_fn", "corpus_bleu", "distill_loss_fn",
    "evaluate_seq2seq", "exact_match", "ids_to_text", "initialise_seq2seq", "seq2seq_pairs",
    "shift_target", "token_cross_entropy", "weight_copy_seq2seq_",
]
