"""The sections of params.yaml: data, model, optimisation, distillation and
angles (each field documented here), the allowed values, and the error type."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CLASSIFICATION_TASKS = ("mnist", "digits", "mnist1d", "listops")
GENERATION_TASKS = ("scan", "numbers_ro")
TASKS = CLASSIFICATION_TASKS + GENERATION_TASKS
# the model family of each task (``families.FAMILIES``)
TASK_FAMILIES = {**{t: "classifier" for t in CLASSIFICATION_TASKS},
                 **{t: "seq2seq" for t in GENERATION_TASKS}}
INITS = ("random", "weight_copy")
DEVICES = ("auto", "cpu", "cuda")
NORMS = ("post", "pre")
# where the models come from: this repository (native) or Hugging Face `transformers`
# (BERT for classification, BART / T5 for post- / pre-norm generation);
# families.FAMILIES["<family>_transformers"]
BACKENDS = ("native", "transformers")
# How one matched (student, teacher) pair of hidden states is compared, per token
# (losses.pair_distance): the official choices of each model family.
HIDDEN_DISTANCES = ("sum_sq", "mse", "ln_mse", "unit_sq")
PAIR_REDUCTIONS = ("mean", "sum")
# Ablations of the matching objective (sub-sections of `ablations`, one stage each).
SETTING_ABLATIONS = ("objective", "a_hid")
# Strategies without a hidden term: they do not depend on the objective's settings.
NO_HIDDEN = ("none",)


class ConfigError(ValueError):
    """A parameter in params.yaml is invalid; the message says which and why."""


class _Strict(BaseModel):
    """Unknown keys are errors, and every key is required: params.yaml (or a
    profile) is the one place a value is set; this schema only says what is
    allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MnistData(_Strict):
    n_val: int = Field(ge=1, description="validation digits (checkpoint selection)")
    n_test: int = Field(ge=1, description="test digits (reported accuracy)")
    patch: Literal[4, 7, 14] = Field(description="patch side in pixels; 7 gives 16 tokens")


class DigitsData(_Strict):
    n_val: int = Field(ge=1, description="validation digits of the 1,797")
    n_test: int = Field(ge=1, description="test digits; the rest train")


class Mnist1dData(_Strict):
    n_val: int = Field(ge=1, description="validation slice of the generator's 4,000 train")
    n_train: int | None = Field(ge=1, description=(
        "training examples kept of the other 3,500 (null = all): the teacher's fine-tuning "
        "set and the students' transfer set"))
    seed: int = Field(description="the generator's seed (42 = its published default)")
    n_pool: int = Field(ge=0, description=(
        "examples of the teacher's pre-training pool (0 = none; teacher.pretrain_epochs)"))


class ListopsData(_Strict):
    n_train: int = Field(ge=1)
    n_val: int = Field(ge=1)
    n_test: int = Field(ge=1)
    max_depth: int = Field(ge=1, description="nesting depth of the generator")
    max_args: int = Field(ge=2, description="arguments per operator")
    max_length: int = Field(ge=8, description="tokens per expression")
    operators: list[str] = Field(["[MAX", "[MIN", "[MED", "[SM"], min_length=1,
                                 description="operators of the generator")
    n_pool: int = Field(ge=0, description=(
        "examples of the teacher's pre-training pool (0 = none; teacher.pretrain_epochs)"))


class ScanData(_Strict):
    n_val: int = Field(1000, ge=1, description="validation slice of the simple split's train")
    max_target_len: int | None = Field(ge=1, description="drop longer targets")
    max_train: int | None = Field(ge=1, description="cap on train examples")
    max_val: int | None = Field(ge=1)
    max_test: int | None = Field(ge=1)
    n_pool: int = Field(ge=0, description=(
        "examples of the teacher's pre-training pool (0 = none; teacher.pretrain_epochs)"))


class NumbersRoData(_Strict):
    n_train: int = Field(ge=1)
    n_val: int = Field(ge=1)
    n_test: int = Field(ge=1)
    max_number: int = Field(ge=10, description="numbers drawn from 0..max_number")
    n_pool: int = Field(ge=0, description=(
        "examples of the teacher's pre-training pool (0 = none; teacher.pretrain_epochs)"))


class DataParams(_Strict):
    seed: int = Field(description="seed of every generator and fixed split (but mnist1d's)")
    mnist: MnistData
    digits: DigitsData
    mnist1d: Mnist1dData
    listops: ListopsData
    scan: ScanData
    numbers_ro: NumbersRoData


# the tasks whose data stage can generate a teacher pre-training pool (data.<task>.n_pool)
POOL_TASKS = tuple(name for name, field in DataParams.model_fields.items()
                   if "n_pool" in getattr(field.annotation, "model_fields", {}))


class ModelParams(_Strict):
    width: int = Field(ge=8, description="hidden size of the teacher")
    heads: int = Field(ge=1, description="attention heads (must divide every width)")
    mlp_ratio: int = Field(ge=1, description="MLP hidden size / width")
    teacher_depth: int = Field(ge=1, description="teacher blocks (BERT-base: 12)")
    norm: str = Field(description="LayerNorm placement of every block: post "
                      "(BERT / BART: each returned hidden state is a LayerNorm output) or pre "
                      "(T5 / Qwen3: the hidden states are the raw residual stream)")
    beams: int = Field(ge=1, description="generation tasks: beam width of decoding "
                       "(1 = greedy; the official scripts use 4-6)")
    backend: str = Field(description=(
        "native: this repository's models (fast on a CPU; stacked students); "
        "transformers: Hugging Face BERT (classification, post-norm only), BART (post-norm "
        "generation) or T5 (pre-norm generation) (models.bert, models.bart, models.t5), "
        "students in threads"))

    def identity(self) -> dict:
        """What a checkpoint's or a run's hash records of the model: every field,
        ``backend`` only when it is not ``native`` (so checkpoints made before the
        backend existed, which are native, stay valid)."""
        return self.model_dump(exclude={"backend"} if self.backend == "native" else set())

    @model_validator(mode="after")
    def _heads_divide_width(self):
        _check_members("model.backend", [self.backend], BACKENDS)
        if self.width % self.heads:
            raise ValueError(
                f"model.width={self.width} must be divisible by model.heads={self.heads}"
            )
        return self


class OptimParams(_Strict):
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    lr: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    warmup_frac: float = Field(ge=0, lt=1, description="linear warm-up, then cosine decay")
    val_every: int = Field(ge=1, description=(
        "validate every k-th epoch and at the last one; the best-on-validation weights "
        "are chosen among the validated epochs (greedy decoding is most of a small "
        "generation student's cost)"))


class TeacherParams(OptimParams):
    seed: int = Field(description="teacher initialisation and batch order")
    augment: bool = Field(description="random affine augmentation of the teacher's digits")
    pretrain_epochs: int = Field(ge=0, description=(
        "epochs of supervised pre-training on the task's pool (data.<task>.n_pool) before "
        "the `epochs` of fine-tuning on the training split; 0 = none"))
    finetune_lr: float | None = Field(gt=0, description=(
        "learning rate of the fine-tuning after pre-training (null = lr); pre-training "
        "and a teacher without a pool use lr"))


class DistillParams(OptimParams):
    student_depth: int = Field(ge=1, description="student blocks")
    student_width: int | None = Field(ge=8, description="null = teacher width")
    strategies: list[str] = Field(min_length=1)
    inits: list[str] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)
    transfer_size: int | None = Field(ge=1, description=(
        "first n training examples the students see; null = the whole training split "
        "(the teacher's fine-tuning set: the paper's regime)"))
    a_ce: float = Field(ge=0, description="weight of cross-entropy with the label")
    a_kl: float = Field(ge=0, description="weight of KL(teacher || student)")
    a_hid: float = Field(ge=0, description="weight of hidden-state matching")
    temperature: float = Field(gt=0, description="softmax temperature of the KL term")
    hidden_distance: str = Field(description=(
        "how a matched pair is compared per token: sum_sq (squared L2 summed over the width; BERT classification), mse (divided by the width; BART), "
        "ln_mse (each layer's whole batch tensor layer-normalised first; T5 "
        "--normalize_hidden), unit_sq (unit vectors; the Qwen3 LLM code)"))
    hidden_pair_reduce: str = Field(description=(
        "how the matched pairs (and encoder / decoder stacks) are combined: mean (BERT "
        "classification) or sum (BART, T5)"))
    hidden_batch_divide: bool = Field(description=(
        "divide the token average once more by the batch size, as the official "
        "classification trainer's `.mean(dim=0).sum() / n_valid` does"))
    match_embeddings: bool = Field(
        description="match the embedding output (layer 0); the LLM code does not")
    all_to_one_target: int | None = Field(description=(
        "teacher layer of all_to_one; null = the middle, L_T // 2 (every official script: "
        "--to 6 of 12)"))
    batch_students: int = Field(ge=0, description=(
        "students trained together in one vectorised step (layerkd.distill.together): 0 = "
        "every strategy x seed of a notebook at once, 1 = one at a time (the plain "
        "per-student loop), k = consecutive groups of k; results agree up to "
        "floating-point rounding"))


class AnglesParams(_Strict):
    """The angle analysis (stage `angles`): teacher layers seen from the student."""

    seeds: list[int] = Field(min_length=1, description=(
        "seeds of the trained runs measured (subset of distill.seeds)"))
    max_examples: int = Field(ge=1, description="test examples measured (the first n)")
    bins: int = Field(ge=5, description="histogram bins over cosine -1..1")


def _check_members(name: str, values: list, allowed: tuple, note: str = "",
                   error: type[Exception] = ValueError) -> None:
    for v in values:
        if v not in allowed:
            raise error(f"{name}: {v!r} is not allowed; allowed values: {list(allowed)}{note}")
