"""T5 from Hugging Face `transformers` behind the native ``EncoderDecoder``
interface (``model.backend: transformers`` for a pre-norm generation task,
``numbers_ro``): ``forward(src, src_mask, tgt_in, tgt_mask) -> (logits,
enc_hiddens, dec_hiddens)`` with the hidden states
``T5ForConditionalGeneration(output_hidden_states=True)`` returns, the states the
official T5 / WMT16 code matches; decoding by ``transformers``' ``generate``.

Where T5 differs from the native pre-norm model on purpose (it is the paper's
architecture; ``tests/test_transformers_backend.py`` shows each point):
RMSNorm without mean subtraction or bias (native: LayerNorm); relative
position buckets added to the attention scores of the first block, shared by
the others (native: learned absolute positions); no bias in any linear map;
a ReLU feed-forward; and the last returned state of each stack is after the
stack's final norm (native: the raw residual stream), the others the raw
residual stream. The tied head scales by width^-1/2, as T5 does. As BART here,
one token table holds both vocabularies (target ids shifted past the source
ones); no dropout.
"""

from __future__ import annotations

import torch
from torch import nn

from .encoder import PAD_ID
from .encoder_decoder import BOS_ID, EOS_ID


class T5Seq2Seq(nn.Module):
    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, max_src_len: int,
                 max_tgt_len: int, enc_depth: int, dec_depth: int, width: int = 64,
                 heads: int = 4, mlp_ratio: int = 2):
        from transformers import T5Config, T5ForConditionalGeneration

        super().__init__()
        self.enc_depth, self.dec_depth, self.width = enc_depth, dec_depth, width
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.max_src_len, self.max_tgt_len, self.placement = max_src_len, max_tgt_len, "pre"
        self.offset = src_vocab_size  # target id t is row offset + t of the shared table
        config = T5Config(
            vocab_size=src_vocab_size + tgt_vocab_size, d_model=width, d_kv=width // heads,
            d_ff=mlp_ratio * width, num_layers=enc_depth, num_decoder_layers=dec_depth,
            num_heads=heads, dropout_rate=0.0, feed_forward_proj="relu",
            tie_word_embeddings=True, pad_token_id=PAD_ID, eos_token_id=self.offset + EOS_ID,
            decoder_start_token_id=self.offset + BOS_ID, attn_implementation="eager")
        self.t5 = T5ForConditionalGeneration(config)

    def to_table(self, tgt: torch.Tensor) -> torch.Tensor:
        """Target ids -> rows of the shared table (padding stays PAD_ID)."""
        return torch.where(tgt == PAD_ID, tgt, tgt + self.offset)

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor | None, tgt_in: torch.Tensor,
                tgt_mask: torch.Tensor | None = None):
        src_mask = src != PAD_ID if src_mask is None else src_mask
        tgt_mask = tgt_in != PAD_ID if tgt_mask is None else tgt_mask
        out = self.t5(input_ids=src, attention_mask=src_mask.long(),
                      decoder_input_ids=self.to_table(tgt_in),
                      decoder_attention_mask=tgt_mask.long(), output_hidden_states=True)
        return (out.logits[..., self.offset:], list(out.encoder_hidden_states),
                list(out.decoder_hidden_states))

    @torch.no_grad()
    def generate(self, src: torch.Tensor, src_mask: torch.Tensor | None = None,
                 bos_id: int = BOS_ID, eos_id: int = EOS_ID, max_len: int | None = None,
                 pad_id: int = PAD_ID, beams: int = 1) -> torch.Tensor:
        """(B, n) target ids without the leading BOS, up to and including each row's
        first EOS, then ``pad_id`` (as ``EncoderDecoder.generate``). Needs equally deep
        stacks (as every task's model): `transformers` sizes T5's decoding cache by
        the encoder's depth."""
        from transformers import GenerationConfig

        if self.enc_depth != self.dec_depth:
            raise ValueError(f"T5 decoding needs enc_depth == dec_depth, got {self.enc_depth} "
                             f"and {self.dec_depth}")
        max_len = self.max_tgt_len if max_len is None else max_len
        was_training = self.training
        self.eval()
        src_mask = src != PAD_ID if src_mask is None else src_mask
        config = GenerationConfig(
            max_new_tokens=max_len, num_beams=beams, do_sample=False, length_penalty=1.0,
            early_stopping=beams > 1, decoder_start_token_id=self.offset + bos_id,
            eos_token_id=self.offset + eos_id, pad_token_id=PAD_ID,
            suppress_tokens=list(range(self.offset)))
        out = self.t5.generate(input_ids=src, attention_mask=src_mask.long(),
                               generation_config=config)[:, 1:]
        self.train(was_training)
        return torch.where(out >= self.offset, out - self.offset, torch.full_like(out, pad_id))


def weight_copy_t5_(student: T5Seq2Seq, teacher: T5Seq2Seq) -> T5Seq2Seq:
    """As ``weight_copy_seq2seq_``: the shared table (and tied head) and each stack's
    final norm; per stack student block i <- teacher block ceil(i L_T / L_S). The
    relative position table lives in block 0 of each stack: it is copied from the
    teacher's block 0, whichever block fills the student's first place."""
    from ..strategies import forward_targets

    for attr in ("width", "src_vocab_size", "tgt_vocab_size", "max_src_len", "max_tgt_len"):
        if getattr(student, attr) != getattr(teacher, attr):
            raise ValueError(f"weight_copy needs equal {attr}, got student "
                             f"{getattr(student, attr)} vs teacher {getattr(teacher, attr)}")
    s, t = student.t5, teacher.t5
    with torch.no_grad():
        s.shared.load_state_dict(t.shared.state_dict())
        for s_stack, t_stack in ((s.encoder, t.encoder), (s.decoder, t.decoder)):
            s_stack.final_layer_norm.load_state_dict(t_stack.final_layer_norm.state_dict())
            targets = forward_targets(len(s_stack.block), len(t_stack.block))
            for i, j in enumerate(targets, start=1):
                state = {k: v for k, v in t_stack.block[j - 1].state_dict().items()
                         if "relative_attention_bias" not in k}
                s_stack.block[i - 1].load_state_dict(state, strict=False)
            bias = "layer.0.SelfAttention.relative_attention_bias.weight"
            s_stack.block[0].state_dict()[bias].copy_(t_stack.block[0].state_dict()[bias])
    return student
