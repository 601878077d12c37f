"""A Hub encoder-decoder (BART, T5) behind the native ``EncoderDecoder`` interface.

The native generation pipeline (targets ``BOS .. EOS PAD ..``, ``shift_target``,
the losses, the teacher cache, decoding) uses PAD = 0, BOS = 1, EOS = 2. A
checkpoint's tokenizer has its own ids, and they clash with that convention:
T5 starts decoding with its padding id (0), BART with its EOS (2). ``IdMap``
therefore renumbers: native 0, 1, 2 are the checkpoint's padding, decoder start
and EOS, and every other checkpoint id follows in order. The data stage stores
native ids; ``HubSeq2Seq`` maps them back on the way in and reorders the logits'
columns on the way out, so the model computes exactly what the checkpoint
computes (tested). BOS is only ever an input: its logit column is pinned at
-1e4 (a second column for the start id would split that token's probability).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..models.encoder import PAD_ID
from ..models.encoder_decoder import BOS_ID, EOS_ID
from .model import quiet_transformers

NEVER = -1e4  # logit of the input-only BOS column (finite: KL terms stay 0, not nan)


class IdMap:
    """Native ids <-> a checkpoint's ids (see the module docstring)."""

    def __init__(self, vocab_size: int, pad: int, eos: int, start: int):
        if pad == eos:
            raise ValueError(f"the checkpoint's padding and EOS ids are both {pad}")
        others = [i for i in range(vocab_size) if i not in (pad, eos)]
        native = [PAD_ID, BOS_ID, EOS_ID]
        order = dict(zip(native, (pad, start, eos)))
        self.to_checkpoint_ids = torch.tensor([order[i] for i in native] + others)
        self.to_native_ids = torch.empty(vocab_size, dtype=torch.long)
        self.to_native_ids[torch.tensor(others, dtype=torch.long)] = torch.arange(3, vocab_size + 1)
        self.to_native_ids[pad], self.to_native_ids[eos] = PAD_ID, EOS_ID
        self.size = vocab_size + 1  # native vocabulary: the checkpoint's and BOS

    @classmethod
    def of(cls, config) -> "IdMap":
        """The map of a checkpoint's config (its vocabulary, padding, EOS and start ids)."""
        return cls(config.vocab_size, config.pad_token_id, config.eos_token_id,
                   config.decoder_start_token_id)

    def to_native(self, ids):
        table = self.to_native_ids
        return table.numpy()[np.asarray(ids)] if not torch.is_tensor(ids) else \
            table.to(ids.device)[ids]

    def to_checkpoint(self, ids):
        table = self.to_checkpoint_ids
        return table.numpy()[np.asarray(ids)] if not torch.is_tensor(ids) else \
            table.to(ids.device)[ids]


def seq2seq_config(checkpoint: str, depth: int, width: int | None = None):
    """The checkpoint's config with ``depth`` blocks per stack (and ``width``: the
    feed-forward scaled alike)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(checkpoint)
    if config.model_type not in ("bart", "t5"):
        raise ValueError(f"checkpoint {checkpoint!r} is a {config.model_type!r} model; "
                         "the hub generation tasks support BART and T5")
    if config.model_type == "bart":
        config.encoder_layers = config.decoder_layers = config.num_hidden_layers = depth
        ffn = ("encoder_ffn_dim", "decoder_ffn_dim")
    else:
        config.num_layers = config.num_decoder_layers = depth
        ffn = ("d_ff",)
    if width and width != config.d_model:
        for key in ffn:
            setattr(config, key, getattr(config, key) * width // config.d_model)
        if config.model_type == "t5":
            config.d_kv = width // config.num_heads
        config.d_model = width
    return config


class HubSeq2Seq(nn.Module):
    def __init__(self, config, checkpoint: str | None = None):
        """From ``config`` with fresh weights, or the pre-trained ``checkpoint``'s."""
        from transformers import AutoModelForSeq2SeqLM as Auto

        super().__init__()
        with quiet_transformers():  # a student config loads fewer blocks than stored
            self.model = (Auto.from_pretrained(checkpoint, config=config) if checkpoint
                          else Auto.from_config(config))
        self.ids = IdMap.of(config)
        self.register_buffer("to_checkpoint_ids", self.ids.to_checkpoint_ids, persistent=False)
        self.register_buffer("to_native_ids", self.ids.to_native_ids, persistent=False)
        self.placement = "pre" if config.model_type == "t5" else "post"
        self.enc_depth = self.dec_depth = (config.num_layers if config.model_type == "t5"
                                           else config.encoder_layers)
        self.width = config.d_model
        # what ``check_same_shapes`` compares before a weight copy
        self.src_vocab_size = self.tgt_vocab_size = self.ids.size
        self.max_src_len = self.max_tgt_len = None

    @property
    def hf(self) -> nn.Module:
        return self.model

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor | None, tgt_in: torch.Tensor,
                tgt_mask: torch.Tensor | None = None):
        src_mask = src != PAD_ID if src_mask is None else src_mask
        tgt_mask = tgt_in != PAD_ID if tgt_mask is None else tgt_mask
        out = self.model(input_ids=self.to_checkpoint_ids[src], attention_mask=src_mask.long(),
                         decoder_input_ids=self.to_checkpoint_ids[tgt_in],
                         decoder_attention_mask=tgt_mask.long(), output_hidden_states=True)
        logits = out.logits[..., self.to_checkpoint_ids]
        logits = logits.index_fill(-1, torch.tensor([BOS_ID], device=logits.device), NEVER)
        return logits, list(out.encoder_hidden_states), list(out.decoder_hidden_states)

    @torch.no_grad()
    def generate(self, src: torch.Tensor, src_mask: torch.Tensor | None = None,
                 bos_id: int = BOS_ID, eos_id: int = EOS_ID, max_len: int | None = None,
                 pad_id: int = PAD_ID, beams: int = 1) -> torch.Tensor:
        """(B, n) native ids without the start, up to and including each row's first
        EOS, then padding. Every other setting is the checkpoint's own generation
        config (BART-large: no repeated 3-grams, forced <s>), as the official
        ``run_eval.py`` decodes; length penalty 1 (the scripts' ``--length_penalty``)."""
        if (bos_id, eos_id, pad_id) != (BOS_ID, EOS_ID, PAD_ID):
            raise ValueError("HubSeq2Seq decodes with the native BOS, EOS and PAD ids")
        was_training = self.training
        self.eval()
        src_mask = src != PAD_ID if src_mask is None else src_mask
        config = copy.deepcopy(self.model.generation_config)
        config.update(max_new_tokens=max_len, num_beams=beams,
                      do_sample=False, length_penalty=1.0, early_stopping=beams > 1)
        out = self.model.generate(input_ids=self.to_checkpoint_ids[src],
                                  attention_mask=src_mask.long(), generation_config=config)
        self.train(was_training)
        return self.to_native_ids[out[:, 1:]]
