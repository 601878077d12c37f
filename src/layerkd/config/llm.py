"""The decoder-only task (section ``llm`` of params.yaml): the generated facts
world, a small Qwen3 teacher and its layer-reduced students.

The paper's third setting (Qwen3-8B, 36 blocks, into 9 weight-copied blocks) is
its own pipeline branch here, as in the authors' code (llm/ beside
classification/ and generation/): stages ``llm_teacher`` and ``llm_distill``,
the data in the data stage, the angles in the angle stage. Defaults of the
official LLM trainer (llm/distillation.py): ce, kl and hidden weights 1, 1, 3,
temperature 1, unit-vector hidden matching without the embedding output;
strategies forward, reverse, all-to-one, shuffle (``random``) and none.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ..strategies import STRATEGIES
from .schema import HIDDEN_DISTANCES, INITS, OptimParams, _check_members, _Strict

LLM_TASK = "facts"  # the decoder-only task's name in paths, tables and figures
# its two test scores: multiple choice accuracy (HellaSwag-style), exact match (CSQA-style)
LLM_SCORES = {"mc": "multiple choice acc.", "em": "exact match"}


class FactsData(_Strict):
    n_pool: int = Field(ge=3, description=(
        "people in the world; every fact of every one is stated in the pre-training pool"))
    n_train: int = Field(ge=1, description="people asked about in the fine-tuning (transfer) set")
    n_val: int = Field(ge=1, description="people of validation (checkpoint selection)")
    n_test: int = Field(ge=1, description="people of the test questions and choices")
    seed: int = Field(description="draws names, facts, splits and distractors")

    @model_validator(mode="after")
    def _fits(self):
        if self.n_train + self.n_val + self.n_test > self.n_pool:
            raise ValueError(f"llm.data: n_train + n_val + n_test = "
                             f"{self.n_train + self.n_val + self.n_test} is not allowed: at "
                             f"most n_pool ({self.n_pool}); the question splits ask about "
                             "disjoint people of the world")
        return self


class QwenModel(_Strict):
    width: int = Field(ge=8, description="hidden size of teacher and students")
    heads: int = Field(ge=1, description="query heads (width // heads per head)")
    kv_heads: int = Field(ge=1, description="key/value heads (grouped-query attention)")
    mlp_ratio: int = Field(ge=1, description="MLP size over width")
    teacher_depth: int = Field(ge=2, description="teacher blocks (Qwen3-8B: 36)")

    @model_validator(mode="after")
    def _heads(self):
        if self.width % self.heads or self.heads % self.kv_heads:
            raise ValueError(f"llm.model: heads={self.heads}, kv_heads={self.kv_heads} not "
                             f"allowed with width={self.width}: heads must divide width and "
                             "kv_heads must divide heads")
        return self


class LLMTeacher(OptimParams):
    """Fine-tuning on the questions (epochs, lr, ...) after pre-training on the pool."""

    seed: int = Field(description="teacher initialisation and batch order")
    pretrain_epochs: int = Field(ge=0, description="language-model epochs on the pool first")
    pretrain_lr: float = Field(gt=0, description="learning rate of pre-training")
    rehearse_pool: bool = Field(description=(
        "fine-tune on the questions and the pool's statements together (without: "
        "the teacher forgets the facts of the people it is not asked about)"))


class LoRA(_Strict):
    """LoRA adapters on every linear layer of the student (peft), as the
    official scripts can train theirs (r 128, alpha 32, dropout 0.1)."""

    r: int = Field(ge=0, description="adapter rank; 0 = full fine-tuning (no adapters)")
    alpha: float = Field(gt=0, description="LoRA scaling numerator (lora_alpha)")
    dropout: float = Field(ge=0, lt=1, description="dropout on the adapters' input")


class LLMDistill(OptimParams):
    student_depth: int = Field(ge=1, description="student blocks (official: 9 of 36)")
    strategies: list[str] = Field(min_length=1)
    inits: list[str] = Field(min_length=1, description=(
        "weight_copy: the teacher's blocks of the official copy map (the paper's LLM "
        "students); random: a fresh Qwen3 (it knows no test person: chance level)"))
    seeds: list[int] = Field(min_length=1)
    a_ce: float = Field(ge=0, description="weight of the next-token cross-entropy")
    a_kl: float = Field(ge=0, description="weight of KL(teacher || student) per token")
    a_hid: float = Field(ge=0, description="weight of hidden-state matching")
    temperature: float = Field(gt=0)
    hidden_distance: str = Field(description=(
        "unit_sq = the official LLM matching (unit vectors, squared distance)"))
    lora: LoRA


class LLMParams(_Strict):
    data: FactsData
    model: QwenModel
    teacher: LLMTeacher
    distill: LLMDistill

    @model_validator(mode="after")
    def _checks(self):
        d, depth = self.distill, self.model.teacher_depth
        _check_members("llm.distill.strategies", d.strategies, STRATEGIES)
        _check_members("llm.distill.inits", d.inits, INITS)
        _check_members("llm.distill.hidden_distance", [d.hidden_distance], HIDDEN_DISTANCES)
        if not 1 <= d.student_depth <= depth:
            raise ValueError(f"llm.distill.student_depth={d.student_depth} is not allowed: "
                             f"use 1..{depth} (llm.model.teacher_depth)")
        return self
