"""What the `transformers` encoder-decoders (``models.bart``, ``models.t5``) share
behind the native ``EncoderDecoder`` interface: one token table for both
vocabularies (source ids as they are, target ids shifted by the source
vocabulary's size, padding stays id 0; the logits are the target rows only),
the forward pass with every hidden state, and decoding by ``transformers``'
``generate`` (greedy: the native argmax; beams: its beam search, length
penalty 1). A subclass builds its model (``build``, held as ``hf``) and may add
generation ids."""

from __future__ import annotations

import torch
from torch import nn

from .encoder import PAD_ID
from .encoder_decoder import BOS_ID, EOS_ID


class SharedTableSeq2Seq(nn.Module):
    placement = ""

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, max_src_len: int,
                 max_tgt_len: int, enc_depth: int, dec_depth: int, width: int = 64,
                 heads: int = 4, mlp_ratio: int = 2):
        super().__init__()
        self.enc_depth, self.dec_depth, self.width = enc_depth, dec_depth, width
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.max_src_len, self.max_tgt_len = max_src_len, max_tgt_len
        self.offset = src_vocab_size  # target id t is row offset + t of the shared table
        self.build(heads, mlp_ratio)

    def build(self, heads: int, mlp_ratio: int) -> None:
        """Create the `transformers` model (as an attribute ``hf`` returns)."""
        raise NotImplementedError

    @property
    def hf(self) -> nn.Module:
        """The `transformers` model (``...ForConditionalGeneration``)."""
        raise NotImplementedError

    def generation_ids(self, bos_id: int) -> dict:
        """Extra token ids of the model's ``GenerationConfig``."""
        return {}

    def to_table(self, tgt: torch.Tensor) -> torch.Tensor:
        """Target ids -> rows of the shared table (padding stays PAD_ID)."""
        return torch.where(tgt == PAD_ID, tgt, tgt + self.offset)

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor | None, tgt_in: torch.Tensor,
                tgt_mask: torch.Tensor | None = None):
        src_mask = src != PAD_ID if src_mask is None else src_mask
        tgt_mask = tgt_in != PAD_ID if tgt_mask is None else tgt_mask
        out = self.hf(input_ids=src, attention_mask=src_mask.long(),
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
            early_stopping=beams > 1, decoder_start_token_id=self.offset + bos_id,
            eos_token_id=self.offset + eos_id, pad_token_id=PAD_ID,
            suppress_tokens=list(range(self.offset)), **self.generation_ids(bos_id))
        out = self.hf.generate(input_ids=src, attention_mask=src_mask.long(),
                               generation_config=config)[:, 1:]
        self.train(was_training)
        return torch.where(out >= self.offset, out - self.offset, torch.full_like(out, pad_id))


def check_same_shapes(student: SharedTableSeq2Seq, teacher: SharedTableSeq2Seq) -> None:
    for attr in ("width", "src_vocab_size", "tgt_vocab_size", "max_src_len", "max_tgt_len"):
        if getattr(student, attr) != getattr(teacher, attr):
            raise ValueError(f"weight_copy needs equal {attr}, got student "
                             f"{getattr(student, attr)} vs teacher {getattr(teacher, attr)}")
