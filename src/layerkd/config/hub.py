"""Section ``hub``: the paper's own classification setting from the Hugging Face
Hub (BERT-base fine-tuned on GLUE, ``profiles/paper.yaml``); empty in the default.

A hub task is a dataset loaded with ``datasets.load_dataset`` (a Hub name, or a
local format such as ``json`` with ``data_files``), tokenised by the checkpoint's
tokenizer, and a teacher that starts from ``hub.model.checkpoint`` (a Hub name
or a local folder written by ``save_pretrained``). Its stages (hub_data,
hub_teacher, hub_distill, hub_report) reuse the teacher and distillation
notebooks through ``Params.for_task``, which gives a hub task the same shape of
parameters as an embedded one (``hub_view``): ``model`` read from the
checkpoint's config, ``teacher`` and ``distill`` from this section.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ..strategies import STRATEGIES
from .llm import LLM_TASK
from .schema import INITS, TASKS, DistillParams, ModelParams, TeacherParams, _check_members, _Strict


class HubDataset(_Strict):
    path: str = Field(description="datasets.load_dataset path: a Hub dataset (nyu-mll/glue) "
                      "or a local builder (json, csv, parquet) with data_files")
    name: str | None = Field(description="the dataset's configuration (mnli), or null")
    data_files: dict[str, str] | None = Field(description="split -> local file (stand-in "
                                              "data), or null for a Hub dataset")
    train_split: str = Field(description="the teacher's fine-tuning and students' transfer set")
    test_split: str = Field(description="scored split (GLUE: the labelled validation split)")
    n_val: int = Field(ge=1, description="examples held out of the training split for "
                       "checkpoint selection (GLUE test labels are hidden)")
    text: list[str] = Field(min_length=1, max_length=2, description="text column(s): one "
                            "sentence or a pair (premise, hypothesis)")
    label: str = Field(description="label column (integers 0..n_classes-1)")
    n_classes: int = Field(ge=2)
    max_train: int | None = Field(ge=1, description="cap on training examples (null = all)")
    max_test: int | None = Field(ge=1, description="cap on test examples (null = all)")
    paper_key: str | None = Field(description="task key of reference/official_results.csv "
                                  "to compare with (mnli_m), or null")


class HubModel(_Strict):
    checkpoint: str = Field(description="the teacher's start: a Hub model (bert-base-uncased) "
                            "or a local save_pretrained folder")
    tokenizer: str | None = Field(description="tokenizer name or folder; null = checkpoint")
    max_length: int = Field(ge=8, description="tokens per example (official: 128)")


class HubParams(_Strict):
    tasks: list[str] = Field(description="hub tasks to run (keys of hub.datasets); [] = none")
    seed: int = Field(0, description="seed of the held-out validation draw")
    datasets: dict[str, HubDataset] = Field({}, description="task -> dataset")
    model: HubModel | None = Field(None, description="required when tasks is not empty")
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
        for key in ("model", "teacher", "distill"):
            if getattr(self, key) is None:
                raise ValueError(f"hub.{key} is required when hub.tasks is not empty "
                                 "(profiles/paper.yaml has every key)")
        if self.teacher.pretrain_epochs:
            raise ValueError(f"hub.teacher.pretrain_epochs={self.teacher.pretrain_epochs} is not "
                             "allowed: a hub teacher starts from its pre-trained checkpoint; use 0")
        d = self.distill
        _check_members("hub.distill.strategies", d.strategies, STRATEGIES)
        _check_members("hub.distill.inits", d.inits, INITS)
        if len(set(d.seeds)) != len(d.seeds):
            raise ValueError(f"hub.distill.seeds={d.seeds} has duplicates")
        return self

    def identity(self, task: str) -> dict:
        """What a hub task's data and teacher start from (part of its checkpoint hash)."""
        return {"seed": self.seed, "dataset": self.datasets[task].model_dump(),
                "model": self.model.model_dump()}


def checkpoint_model(hub: HubParams) -> ModelParams:
    """``model`` of a hub task, read from the checkpoint's config (BERT: post-norm)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(hub.model.checkpoint)
    return ModelParams(width=config.hidden_size, heads=config.num_attention_heads,
                       mlp_ratio=max(1, config.intermediate_size // config.hidden_size),
                       teacher_depth=config.num_hidden_layers, norm="post", beams=1,
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
