"""The decoder-only task as the stages see it: the facts arrays of the data
stage (checksum verified) as tensors, the models' configuration, and the two
scores of a model on a split."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import LLM_SCORES, LLM_TASK, LLMParams
from ..data.store import load_arrays
from ..paths import data_file
from .qwen import qwen3_config
from .score import choice_accuracy, exact_match


@dataclass
class Facts:
    """Every array of ``data/facts.npz`` as a tensor, and the vocabulary."""

    arrays: dict[str, torch.Tensor]
    vocab: list[str]

    @classmethod
    def load(cls, root=None) -> "Facts":
        raw = load_arrays(data_file(LLM_TASK) if root is None else data_file(LLM_TASK, root))
        return cls({k: torch.as_tensor(v) for k, v in raw.items() if k not in ("vocab", "people")},
                   [str(w) for w in raw["vocab"]])

    def __getitem__(self, key: str) -> torch.Tensor:
        return self.arrays[key]

    @property
    def max_len(self) -> int:
        return max(self["x_pool"].shape[1], self["x_train"].shape[1])

    def rehearsal_set(self) -> torch.Tensor:
        """The fine-tuning questions followed by the pool's statements, padded to
        one length (``llm.teacher.rehearse_pool``)."""
        train, pool = self["x_train"], self["x_pool"]
        width = max(train.shape[1], pool.shape[1])
        pad = lambda x: torch.nn.functional.pad(x, (0, width - x.shape[1]))  # noqa: E731 (PAD = 0)
        return torch.cat([pad(train), pad(pool)])

    def scores(self, model, split: str) -> dict[str, float]:
        """{"mc": multiple-choice accuracy, "em": exact match} (percent) on a split."""
        return {"mc": choice_accuracy(model, self[f"mc_context_{split}"],
                                      self[f"mc_endings_{split}"], self[f"mc_label_{split}"]),
                "em": exact_match(model, self[f"x_{split}"], self[f"prompt_len_{split}"])}


def model_config(llm: LLMParams, facts: Facts, depth: int | None = None):
    """The Qwen3 configuration of the teacher (or of ``depth`` blocks)."""
    m = llm.model
    return qwen3_config(len(facts.vocab), depth or m.teacher_depth, m.width, m.heads,
                        m.kv_heads, m.mlp_ratio, facts.max_len)


def selection_score(scores: dict[str, float]) -> float:
    """What picks a checkpoint on validation: the mean of the two scores."""
    return sum(scores[k] for k in LLM_SCORES) / len(LLM_SCORES)
