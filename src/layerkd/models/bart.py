"""BART from Hugging Face `transformers` behind the native ``EncoderDecoder``
interface (``model.backend: transformers`` for a post-norm generation task):
``forward(src, src_mask, tgt_in, tgt_mask) -> (logits, enc_hiddens,
dec_hiddens)`` with the hidden states ``BartForConditionalGeneration``
returns (``encoder_hidden_states``, ``decoder_hidden_states``: the embedding
output after ``layernorm_embedding``, then every block), the states the
official BART code matches; ``generate`` decodes with ``transformers``' own
``generate`` (greedy: the same argmax as the native model; beams: its beam
search, length penalty 1).

BART has one token table for source, target and the tied head; the tasks have
two vocabularies, so the table holds both: source ids as they are, target ids
shifted by the source vocabulary's size (padding stays id 0), and the logits
are the target rows only. No dropout, as the native model.
"""

from __future__ import annotations

import torch
from torch import nn

from .encoder import PAD_ID
from .encoder_decoder import BOS_ID, EOS_ID


class BartSeq2Seq(nn.Module):
    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, max_src_len: int,
                 max_tgt_len: int, enc_depth: int, dec_depth: int, width: int = 64,
                 heads: int = 4, mlp_ratio: int = 2):
        from transformers import BartConfig, BartForConditionalGeneration

        super().__init__()
        self.enc_depth, self.dec_depth, self.width = enc_depth, dec_depth, width
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.max_src_len, self.max_tgt_len, self.placement = max_src_len, max_tgt_len, "post"
        self.offset = src_vocab_size  # target id t is row offset + t of the shared table
        config = BartConfig(
            vocab_size=src_vocab_size + tgt_vocab_size, d_model=width,
            encoder_layers=enc_depth, decoder_layers=dec_depth,
            encoder_attention_heads=heads, decoder_attention_heads=heads,
            encoder_ffn_dim=mlp_ratio * width, decoder_ffn_dim=mlp_ratio * width,
            max_position_embeddings=max(max_src_len, max_tgt_len) + 1,
            activation_function="gelu", dropout=0.0, attention_dropout=0.0,
            activation_dropout=0.0, encoder_layerdrop=0.0, decoder_layerdrop=0.0,
            scale_embedding=False, pad_token_id=PAD_ID, bos_token_id=self.offset + BOS_ID,
            eos_token_id=self.offset + EOS_ID, decoder_start_token_id=self.offset + BOS_ID,
            forced_bos_token_id=None, forced_eos_token_id=None, tie_word_embeddings=True,
            attn_implementation="eager")
        self.bart = BartForConditionalGeneration(config)

    def to_table(self, tgt: torch.Tensor) -> torch.Tensor:
        """Target ids -> rows of the shared table (padding stays PAD_ID)."""
        return torch.where(tgt == PAD_ID, tgt, tgt + self.offset)

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor | None, tgt_in: torch.Tensor,
                tgt_mask: torch.Tensor | None = None):
        src_mask = src != PAD_ID if src_mask is None else src_mask
        tgt_mask = tgt_in != PAD_ID if tgt_mask is None else tgt_mask
        out = self.bart(input_ids=src, attention_mask=src_mask.long(),
                        decoder_input_ids=self.to_table(tgt_in),
                        decoder_attention_mask=tgt_mask.long(), output_hidden_states=True)
        return (out.logits[..., self.offset:], list(out.encoder_hidden_states),
                list(out.decoder_hidden_states))

    @torch.no_grad()
    def generate(self, src: torch.Tensor, src_mask: torch.Tensor | None = None,
                 bos_id: int = BOS_ID, eos_id: int = EOS_ID, max_len: int | None = None,
                 pad_id: int = PAD_ID, beams: int = 1) -> torch.Tensor:
        """(B, n) target ids without the leading BOS, up to and including each row's
        first EOS, then ``pad_id`` (as ``EncoderDecoder.generate``)."""
        from transformers import GenerationConfig

        max_len = self.max_tgt_len if max_len is None else max_len
        was_training = self.training
        self.eval()
        src_mask = src != PAD_ID if src_mask is None else src_mask
        config = GenerationConfig(
            max_new_tokens=max_len, num_beams=beams, do_sample=False, length_penalty=1.0,
            early_stopping=True, decoder_start_token_id=self.offset + bos_id,
            eos_token_id=self.offset + eos_id, pad_token_id=PAD_ID,
            bos_token_id=self.offset + bos_id, suppress_tokens=list(range(self.offset)))
        out = self.bart.generate(input_ids=src, attention_mask=src_mask.long(),
                                 generation_config=config)[:, 1:]
        self.train(was_training)
        return torch.where(out >= self.offset, out - self.offset, torch.full_like(out, pad_id))


def weight_copy_bart_(student: BartSeq2Seq, teacher: BartSeq2Seq) -> BartSeq2Seq:
    """As ``weight_copy_seq2seq_``: the shared table (and tied head), positions,
    embedding LayerNorms and final-logits bias; per stack student block i <-
    teacher block ceil(i L_T / L_S)."""
    from ..strategies import forward_targets

    for attr in ("width", "src_vocab_size", "tgt_vocab_size", "max_src_len", "max_tgt_len"):
        if getattr(student, attr) != getattr(teacher, attr):
            raise ValueError(f"weight_copy needs equal {attr}, got student "
                             f"{getattr(student, attr)} vs teacher {getattr(teacher, attr)}")
    s, t = student.bart.model, teacher.bart.model
    with torch.no_grad():
        s.shared.load_state_dict(t.shared.state_dict())
        student.bart.final_logits_bias.copy_(teacher.bart.final_logits_bias)
        for s_stack, t_stack in ((s.encoder, t.encoder), (s.decoder, t.decoder)):
            s_stack.embed_positions.load_state_dict(t_stack.embed_positions.state_dict())
            s_stack.layernorm_embedding.load_state_dict(t_stack.layernorm_embedding.state_dict())
            targets = forward_targets(len(s_stack.layers), len(t_stack.layers))
            for i, j in enumerate(targets, start=1):
                s_stack.layers[i - 1].load_state_dict(t_stack.layers[j - 1].state_dict())
    return student
