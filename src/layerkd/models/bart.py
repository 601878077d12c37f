"""BART from Hugging Face `transformers` behind the native ``EncoderDecoder``
interface (``model.backend: transformers`` for a post-norm generation task):
``forward(src, src_mask, tgt_in, tgt_mask) -> (logits, enc_hiddens,
dec_hiddens)`` with the hidden states ``BartForConditionalGeneration``
returns (``encoder_hidden_states``, ``decoder_hidden_states``: the embedding
output after ``layernorm_embedding``, then every block), the states the
official BART code matches; ``generate`` decodes with ``transformers``' own
``generate`` (``models.shared_table``: BART's one token table holds both
vocabularies of a task). No dropout, as the native model.
"""

from __future__ import annotations

import torch

from .encoder import PAD_ID
from .encoder_decoder import BOS_ID, EOS_ID
from .shared_table import SharedTableSeq2Seq, check_same_shapes


class BartSeq2Seq(SharedTableSeq2Seq):
    placement = "post"

    def build(self, heads: int, mlp_ratio: int) -> None:
        from transformers import BartConfig, BartForConditionalGeneration

        width = self.width
        config = BartConfig(
            vocab_size=self.src_vocab_size + self.tgt_vocab_size, d_model=width,
            encoder_layers=self.enc_depth, decoder_layers=self.dec_depth,
            encoder_attention_heads=heads, decoder_attention_heads=heads,
            encoder_ffn_dim=mlp_ratio * width, decoder_ffn_dim=mlp_ratio * width,
            max_position_embeddings=max(self.max_src_len, self.max_tgt_len) + 1,
            activation_function="gelu", dropout=0.0, attention_dropout=0.0,
            activation_dropout=0.0, encoder_layerdrop=0.0, decoder_layerdrop=0.0,
            scale_embedding=False, pad_token_id=PAD_ID, bos_token_id=self.offset + BOS_ID,
            eos_token_id=self.offset + EOS_ID, decoder_start_token_id=self.offset + BOS_ID,
            forced_bos_token_id=None, forced_eos_token_id=None, tie_word_embeddings=True,
            attn_implementation="eager")
        self.bart = BartForConditionalGeneration(config)

    @property
    def hf(self):
        return self.bart

    def generation_ids(self, bos_id: int) -> dict:
        return {"bos_token_id": self.offset + bos_id}


def weight_copy_bart_(student: BartSeq2Seq, teacher: BartSeq2Seq) -> BartSeq2Seq:
    """As ``weight_copy_seq2seq_``: the shared table (and tied head), positions,
    embedding LayerNorms and final-logits bias; per stack student block i <-
    teacher block ceil(i L_T / L_S)."""
    from ..strategies import forward_targets

    check_same_shapes(student, teacher)
    s, t = student.hf.model, teacher.hf.model
    with torch.no_grad():
        s.shared.load_state_dict(t.shared.state_dict())
        student.hf.final_logits_bias.copy_(teacher.hf.final_logits_bias)
        for s_stack, t_stack in ((s.encoder, t.encoder), (s.decoder, t.decoder)):
            s_stack.embed_positions.load_state_dict(t_stack.embed_positions.state_dict())
            s_stack.layernorm_embedding.load_state_dict(t_stack.layernorm_embedding.state_dict())
            targets = forward_targets(len(s_stack.layers), len(t_stack.layers))
            for i, j in enumerate(targets, start=1):
                s_stack.layers[i - 1].load_state_dict(t_stack.layers[j - 1].state_dict())
    return student
