"""The decoder-only models: `transformers`' Qwen3 built offline from a small
config, and the official layer-reduced, weight-copied student.

The official code (llm/model_utils.py: ``create_student_from_teacher``) builds
the student as a Qwen3 of ``len(LAYER_COPY_MAP[L_T])`` blocks and, for weight
copy, deep-copies the teacher blocks that map lists (0-indexed; 36 -> 9 blocks:
0, 4, 9, 13, 18, 22, 27, 31, 35), the token embedding, the final norm, the
rotary embedding and the LM head. ``copy_map`` returns that map for the depths
it covers and, for any other depth, the same pattern: evenly spaced blocks from
the first to the last.
"""

from __future__ import annotations

import copy

import torch

OFFICIAL_COPY_MAP = {  # llm/model_utils.py: LAYER_COPY_MAP (teacher depth -> blocks copied)
    28: (0, 4, 9, 13, 18, 22, 27),
    36: (0, 4, 9, 13, 18, 22, 27, 31, 35),
    40: (0, 4, 9, 13, 18, 22, 27, 31, 35, 39),
}


def copy_map(teacher_depth: int, student_depth: int) -> tuple[int, ...]:
    """The teacher blocks a weight-copied student starts from (0-indexed, increasing)."""
    if not 1 <= student_depth <= teacher_depth:
        raise ValueError(f"student_depth must be in 1..{teacher_depth}, got {student_depth}")
    official = OFFICIAL_COPY_MAP.get(teacher_depth)
    if official is not None and len(official) == student_depth:
        return official
    if student_depth == 1:
        return (teacher_depth - 1,)
    step = (teacher_depth - 1) / (student_depth - 1)
    return tuple(int(round(i * step)) for i in range(student_depth))


def qwen3_config(vocab_size: int, depth: int, width: int, heads: int, kv_heads: int,
                 mlp_ratio: int, max_len: int, pad_id: int = 0, bos_id: int = 1,
                 eos_id: int = 2):
    """A small ``Qwen3Config`` (pre-norm RMSNorm blocks, rotary positions, grouped
    key/value heads, untied head, eager attention: runs offline on a CPU)."""
    from transformers import Qwen3Config

    if width % heads or heads % kv_heads:
        raise ValueError(f"heads ({heads}) must divide width ({width}) and be a multiple of "
                         f"kv_heads ({kv_heads})")
    return Qwen3Config(vocab_size=vocab_size, hidden_size=width, num_hidden_layers=depth,
                       num_attention_heads=heads, num_key_value_heads=kv_heads,
                       head_dim=width // heads, intermediate_size=mlp_ratio * width,
                       max_position_embeddings=max_len, tie_word_embeddings=False,
                       pad_token_id=pad_id, bos_token_id=bos_id, eos_token_id=eos_id,
                       attn_implementation="eager", use_cache=True)


def build_qwen3(config, seed: int | None = None):
    """A randomly initialised ``Qwen3ForCausalLM`` (seeded when seed is given)."""
    from transformers import Qwen3ForCausalLM

    if seed is not None:
        torch.manual_seed(seed)
    return Qwen3ForCausalLM(config)


def layer_reduced_student(teacher, student_depth: int, init: str, seed: int | None = None):
    """A Qwen3 of ``student_depth`` blocks and the teacher's other sizes: random
    (``init="random"``) or, as the official code, the teacher's blocks of
    ``copy_map`` with its embedding, final norm, rotary embedding and head
    (``init="weight_copy"``)."""
    if init not in ("random", "weight_copy"):
        raise ValueError(f"init must be 'random' or 'weight_copy', got {init!r}")
    config = copy.deepcopy(teacher.config)
    config.num_hidden_layers = student_depth
    config.layer_types = config.layer_types[:student_depth]
    student = build_qwen3(config, seed)
    if init == "weight_copy":
        blocks = copy_map(teacher.config.num_hidden_layers, student_depth)
        state = {k: v for k, v in teacher.state_dict().items() if ".layers." not in k}
        for i, j in enumerate(blocks):
            prefix = f"model.layers.{j}."
            state |= {k.replace(prefix, f"model.layers.{i}.", 1): v
                      for k, v in teacher.state_dict().items() if k.startswith(prefix)}
        student.load_state_dict(state)
    return student


def hidden_states(model, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, list]:
    """Logits (B, T, V) and the L + 1 hidden states as ``transformers`` returns
    them with ``output_hidden_states=True`` (what the official code matches): the
    embedding output, each block's output, the last one through the final norm."""
    out = model(input_ids=ids, attention_mask=mask.long(), output_hidden_states=True)
    return out.logits, list(out.hidden_states)
