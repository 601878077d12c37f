"""A Hub decoder-only LLM (Qwen3) behind the native ``forward(x, mask) -> (logits,
hiddens)`` interface, with the official layer-reduced weight copy and LoRA.

``x`` holds the tokenizer's ids (B, T), right-padded; ``mask`` marks the real
tokens. ``hiddens`` are the L + 1 states of ``output_hidden_states=True``: the
embedding output, then every block (the last after the final norm), the states
the official LLM trainer matches (llm/sft_trainer.py). The weight copy is
``llm/model_utils.py::create_student_from_teacher``: the token embedding, final
norm and LM head, and the blocks of ``LAYER_COPY_MAP`` (36 -> 9: 0, 4, 9, ..., 35;
``lm.qwen.copy_map``). LoRA adapters (peft, every linear layer) are added by
``add_lora`` and folded back into the weights by ``merge``: the official teacher
(r 32) and students (r 128) train adapters only.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from .model import quiet_transformers


def causal_lm_config(checkpoint: str, depth: int, width: int | None = None):
    """The checkpoint's config with ``depth`` blocks (``width``: the MLP scaled alike)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(checkpoint)
    if config.model_type != "qwen3":
        raise ValueError(f"checkpoint {checkpoint!r} is a {config.model_type!r} model; the "
                         "hub LLM tasks support Qwen3")
    config.num_hidden_layers = depth
    if getattr(config, "layer_types", None):  # one attention type per block
        config.layer_types = config.layer_types[:depth]
    if width and width != config.hidden_size:
        config.intermediate_size = config.intermediate_size * width // config.hidden_size
        config.head_dim = width // config.num_attention_heads
        config.hidden_size = width
    return config


def lora_adapters(model: nn.Module, lora) -> nn.Module:
    """``model`` with peft LoRA adapters of ``lora`` (``config.llm.LoRA``: r, alpha,
    dropout) on every linear layer, as the official LLM scripts train."""
    from peft import LoraConfig, TaskType, get_peft_model

    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=lora.r, lora_alpha=lora.alpha,
                        lora_dropout=lora.dropout, target_modules="all-linear")
    with warnings.catch_warnings():  # peft asks transformers a deprecated question
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing` is deprecated")
        return get_peft_model(model, config)


class HubCausalLM(nn.Module):
    placement = "pre"

    def __init__(self, config, checkpoint: str | None = None):
        """From ``config`` with fresh weights, or the pre-trained ``checkpoint``'s."""
        from transformers import AutoModelForCausalLM as Auto

        super().__init__()
        with quiet_transformers():
            self.model = (Auto.from_pretrained(checkpoint, config=config) if checkpoint
                          else Auto.from_config(config))
        self.depth, self.width = config.num_hidden_layers, config.hidden_size
        self.lora = False

    @property
    def hf(self) -> nn.Module:
        """The `transformers` model (adapters, if any, injected into its layers)."""
        return self.model.get_base_model() if self.lora else self.model

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        out = self.model(input_ids=x, attention_mask=None if mask is None else mask.long(),
                         output_hidden_states=True)
        return out.logits, list(out.hidden_states)

    def add_lora(self, lora) -> "HubCausalLM":
        """Train peft LoRA adapters on every linear layer instead of every weight."""
        if lora is None or not lora.r:
            return self
        self.model, self.lora = lora_adapters(self.model, lora), True
        return self

    def merge(self) -> "HubCausalLM":
        """The adapters folded into the weights (a plain model again)."""
        if self.lora:
            self.model, self.lora = self.model.merge_and_unload(), False
        return self


def weight_copy_causal_lm_(student: HubCausalLM, teacher: HubCausalLM) -> HubCausalLM:
    """The official layer-reduced copy (module docstring); student block i <- teacher
    block ``copy_map(L_T, L_S)[i]``."""
    from ..lm.qwen import copy_map

    if student.width != teacher.width:
        raise ValueError(f"weight_copy needs equal width, got student {student.width} vs "
                         f"teacher {teacher.width}")
    s, t = student.hf, teacher.hf
    with torch.no_grad():
        for name in ("model.embed_tokens", "model.norm", "lm_head"):
            s.get_submodule(name).load_state_dict(t.get_submodule(name).state_dict())
        for i, k in enumerate(copy_map(teacher.depth, student.depth)):
            s.model.layers[i].load_state_dict(t.model.layers[k].state_dict())
    return student
