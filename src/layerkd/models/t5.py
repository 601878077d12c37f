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
one token table holds both vocabularies (``models.shared_table``); no dropout.
"""

from __future__ import annotations

import torch

from .encoder import PAD_ID
from .encoder_decoder import BOS_ID, EOS_ID
from .shared_table import SharedTableSeq2Seq, check_same_shapes


class T5Seq2Seq(SharedTableSeq2Seq):
    placement = "pre"

    def build(self, heads: int, mlp_ratio: int) -> None:
        from transformers import T5Config, T5ForConditionalGeneration

        width = self.width
        config = T5Config(
            vocab_size=self.src_vocab_size + self.tgt_vocab_size, d_model=width,
            d_kv=width // heads, d_ff=mlp_ratio * width, num_layers=self.enc_depth,
            num_decoder_layers=self.dec_depth, num_heads=heads, dropout_rate=0.0,
            feed_forward_proj="relu", tie_word_embeddings=True, pad_token_id=PAD_ID,
            eos_token_id=self.offset + EOS_ID, decoder_start_token_id=self.offset + BOS_ID,
            attn_implementation="eager")
        self.t5 = T5ForConditionalGeneration(config)

    @property
    def hf(self):
        return self.t5

    def generate(self, src, src_mask=None, bos_id=BOS_ID, eos_id=EOS_ID, max_len=None,
                 pad_id=PAD_ID, beams=1):
        """As ``SharedTableSeq2Seq.generate``, for equally deep stacks (every task's):
        `transformers` sizes T5's decoding cache by the encoder's depth."""
        if self.enc_depth != self.dec_depth:
            raise ValueError(f"T5 decoding needs enc_depth == dec_depth, got {self.enc_depth} "
                             f"and {self.dec_depth}")
        return super().generate(src, src_mask, bos_id, eos_id, max_len, pad_id, beams)


def weight_copy_t5_(student: T5Seq2Seq, teacher: T5Seq2Seq) -> T5Seq2Seq:
    """As ``weight_copy_seq2seq_``: the shared table (and tied head) and each stack's
    final norm; per stack student block i <- teacher block ceil(i L_T / L_S). The
    relative position table lives in block 0 of each stack: it is copied from the
    teacher's block 0, whichever block fills the student's first place."""
    from ..strategies import forward_targets

    check_same_shapes(student, teacher)
    s, t = student.hf, teacher.hf
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
