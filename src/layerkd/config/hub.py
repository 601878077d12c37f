"""Section ``hub``: the paper's own models and data from the Hugging Face Hub
(``profiles/paper.yaml``): BERT-base fine-tuned on GLUE (classification), BART
on DART and T5 on WMT16 En-Ro (generation), Qwen3-8B on HellaSwag and CoQA
(the decoder-only LLM: ``lm_choice``, ``lm_qa``); empty in the default.

A hub task is a dataset loaded with ``datasets.load_dataset`` (a Hub name, or a
local format such as ``json`` with ``data_files``), tokenised by the checkpoint's
tokenizer, and a teacher that starts from a checkpoint (a Hub name or a local
folder written by ``save_pretrained``): ``hub.model``, or the dataset's own
``model`` (each generation task has its own checkpoint). Its stages (hub_data,
hub_teacher, hub_distill, hub_report) reuse the teacher and distillation
notebooks through ``Params.for_task``, which gives a hub task the same shape of
parameters as an embedded one (``hub_view``): ``model`` read from the
checkpoint's config, ``teacher`` and ``distill`` from this section with the
dataset's own changes applied (``teacher_of``, ``distill_of``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..strategies import STRATEGIES
from .llm import LLM_TASK, LoRA
from .schema import INITS, TASKS, DistillParams, ModelParams, TeacherParams, _check_members, _Strict

KINDS = ("classification", "generation", "lm_choice", "lm_qa")
CHECKPOINT_TYPES = {"classification": ("bert",), "generation": ("bart", "t5"),
                    "lm_choice": ("qwen3",), "lm_qa": ("qwen3",)}
LM_KINDS = ("lm_choice", "lm_qa")


class HubModel(_Strict):
    checkpoint: str = Field(description="the teacher's start: a Hub model (bert-base-uncased) "
                            "or a local save_pretrained folder")
    tokenizer: str | None = Field(description="tokenizer name or folder; null = checkpoint")
    max_length: int = Field(ge=8, description="tokens per example (generation: per source)")
    beams: int = Field(1, ge=1, description="beams of the test decodes (generation; "
                       "checkpoints are selected on greedy decodes)")


class HubDataset(_Strict):
    kind: Literal["classification", "generation", "lm_choice", "lm_qa"] = Field(
        "classification", description="classification (accuracy), generation (BLEU), or a "
        "decoder-only LLM task in the official formats: lm_choice (HellaSwag: accuracy of "
        "the most likely ending), lm_qa (CoQA: exact match of the greedy answer)")
    path: str = Field(description="datasets.load_dataset path: a Hub dataset (nyu-mll/glue) "
                      "or a local builder (json, csv, parquet) with data_files")
    name: str | None = Field(description="the dataset's configuration (mnli), or null")
    data_files: dict[str, str] | None = Field(description="split -> local file (stand-in "
                                              "data), or null for a Hub dataset")
    train_split: str = Field(description="the teacher's fine-tuning and students' transfer set")
    test_split: str = Field(description="scored split (GLUE: the labelled validation split)")
    n_val: int = Field(ge=1, description="examples held out of the training split for "
                       "checkpoint selection (GLUE test labels are hidden)")
    max_train: int | None = Field(ge=1, description="cap on training examples (null = all)")
    max_test: int | None = Field(ge=1, description="cap on test examples (null = all)")
    paper_key: str | None = Field(description="task key of reference/official_results.csv "
                                  "to compare with (mnli_m), or null")
    # classification
    text: list[str] | None = Field(None, min_length=1, max_length=2, description="text "
                                   "column(s): one sentence or a pair (premise, hypothesis)")
    label: str | None = Field(None, description="label column (integers 0..n_classes-1)")
    n_classes: int | None = Field(None, ge=2)
    # generation
    source: str | None = Field(None, description="source column, dotted into nested fields "
                               "(translation.en); a list of (subject, predicate, object) "
                               "triples (DART) is linearised as <H> s <R> p <T> o")
    target: str | None = Field(None, description="target column (translation.ro); a list of "
                               "references (DART annotations.text): one training example "
                               "each, all of them references of a test example")
    prefix: str = Field("", description="text put before every source (T5's task prefix)")
    max_target_length: int | None = Field(None, ge=4, description="target tokens")
    # decoder-only LLM tasks
    max_new_tokens: int | None = Field(None, ge=1, description="lm_qa: tokens of a greedy "
                                       "answer (null = the harness's default, 256)")
    # peft LoRA adapters (null: every weight trains)
    teacher_lora: LoRA | None = Field(None, description="the teacher's adapters "
                                            "(official r 32), merged when it is saved")
    student_lora: LoRA | None = Field(None, description="the students' adapters "
                                            "(official r 128)")
    # this dataset's own checkpoint and settings (null / {}: hub.model, hub.teacher, hub.distill)
    model: HubModel | None = Field(None, description="this task's checkpoint (null = hub.model)")
    teacher: dict = Field({}, description="keys of hub.teacher changed for this task")
    distill: dict = Field({}, description="keys of hub.distill changed for this task")

    @model_validator(mode="after")
    def _check_kind(self):
        needed = {"classification": ("text", "label", "n_classes"),
                  "generation": ("source", "target", "max_target_length")}.get(self.kind, ())
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.kind} dataset needs {missing}")
        return self


class HubParams(_Strict):
    tasks: list[str] = Field(description="hub tasks to run (keys of hub.datasets); [] = none")
    seed: int = Field(0, description="seed of the held-out validation draw")
    datasets: dict[str, HubDataset] = Field({}, description="task -> dataset")
    model: HubModel | None = Field(None, description="the checkpoint of every task without "
                                   "its own (required when one runs)")
    teacher: TeacherParams | None = Field(None, description="fine-tuning of the checkpoint")
    distill: DistillParams | None = Field(None, description="students, as section distill")

    @model_validator(mode="after")
    def _check(self):
        if not self.tasks:
            return self
        _check_members("hub.tasks", self.tasks, tuple(self.datasets))
        taken = [t for t in self.datasets if t in (*TASKS, LLM_TASK)]
        if taken:
            raise ValueError(f"hub.datasets: {taken} not allowed: the embedded tasks' names "
                             f"{[*TASKS, LLM_TASK]} are taken")
        for key in ("teacher", "distill"):
            if getattr(self, key) is None:
                raise ValueError(f"hub.{key} is required when hub.tasks is not empty "
                                 "(profiles/paper.yaml has every key)")
        for task in self.tasks:
            if self.model_of(task) is None:
                raise ValueError(f"hub.model is required: hub.datasets.{task} has no model "
                                 "of its own")
            teacher, d = self.teacher_of(task), self.distill_of(task)
            if teacher.pretrain_epochs:
                raise ValueError(f"hub.teacher.pretrain_epochs={teacher.pretrain_epochs} (task "
                                 f"{task}) is not allowed: a hub teacher starts from its "
                                 "pre-trained checkpoint; use 0")
            _check_members("hub.distill.strategies", d.strategies, STRATEGIES)
            _check_members("hub.distill.inits", d.inits, INITS)
            if len(set(d.seeds)) != len(d.seeds):
                raise ValueError(f"hub.distill.seeds={d.seeds} has duplicates")
        return self

    def model_of(self, task: str) -> HubModel | None:
        return self.datasets[task].model or self.model

    def teacher_of(self, task: str) -> TeacherParams:
        return _changed(self.teacher, self.datasets[task].teacher, f"hub.datasets.{task}.teacher")

    def distill_of(self, task: str) -> DistillParams:
        return _changed(self.distill, self.datasets[task].distill, f"hub.datasets.{task}.distill")

    def identity(self, task: str) -> dict:
        """What a hub task's data and teacher start from (part of its checkpoint hash)."""
        return {"seed": self.seed, "dataset": self.datasets[task].model_dump(),
                "model": self.model_of(task).model_dump()}


def _changed(base, changes: dict, where: str):
    unknown = sorted(set(changes) - set(type(base).model_fields))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; allowed: "
                         f"{sorted(type(base).model_fields)}")
    return type(base).model_validate({**base.model_dump(), **changes})


def checkpoint_model(hub_model: HubModel, kind: str = "classification") -> ModelParams:
    """``model`` of a hub task, read from the checkpoint's config: BERT and BART are
    post-norm, T5 and Qwen3 pre-norm."""
    from transformers import AutoConfig

    c = AutoConfig.from_pretrained(hub_model.checkpoint)
    if c.model_type not in CHECKPOINT_TYPES[kind]:
        raise ValueError(f"a {kind} task needs a checkpoint of model_type "
                         f"{' or '.join(CHECKPOINT_TYPES[kind])}, got {c.model_type!r}")
    width, heads, ffn, depth, norm = {
        "bert": lambda: (c.hidden_size, c.num_attention_heads, c.intermediate_size,
                         c.num_hidden_layers, "post"),
        "qwen3": lambda: (c.hidden_size, c.num_attention_heads, c.intermediate_size,
                          c.num_hidden_layers, "pre"),
        "bart": lambda: (c.d_model, c.encoder_attention_heads, c.encoder_ffn_dim,
                         c.encoder_layers, "post"),
        "t5": lambda: (c.d_model, c.num_heads, c.d_ff, c.num_layers, "pre"),
    }[c.model_type]()
    return ModelParams(width=width, heads=heads, mlp_ratio=max(1, ffn // width),
                       teacher_depth=depth, norm=norm, beams=hub_model.beams,
                       backend="transformers")


def check_against(model: ModelParams, d: DistillParams) -> None:
    """The distill settings a hub checkpoint's depth and width allow."""
    if not 1 <= d.student_depth <= model.teacher_depth:
        raise ValueError(f"hub.distill.student_depth={d.student_depth} is not allowed: use "
                         f"1..{model.teacher_depth} (the checkpoint's depth)")
    t = d.all_to_one_target
    if t is not None and not 1 <= t <= model.teacher_depth:
        raise ValueError(f"hub.distill.all_to_one_target={t} is not allowed: use "
                         f"1..{model.teacher_depth} or null")
    width = d.student_width or model.width
    if width % model.heads:
        raise ValueError(f"hub.distill.student_width={width} must be divisible by the "
                         f"checkpoint's {model.heads} heads")
    if width != model.width and "weight_copy" in d.inits:
        raise ValueError(f"hub.distill.inits contains 'weight_copy', which needs "
                         f"hub.distill.student_width = {model.width} (the checkpoint's); "
                         "use inits: [random]")
