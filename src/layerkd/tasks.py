"""A task bundles its splits, its model and its teacher augmentation.

Classification tasks (mnist, digits, mnist1d, listops) belong to the encoder
classifier family; generation tasks (scan, numbers_ro) to the encoder-decoder
family, with ``x`` the source ids and ``y`` the target ids (BOS ... EOS,
padded). ``config.TASK_FAMILIES`` maps each task to its family.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from .config import GENERATION_TASKS, TASK_FAMILIES, Params
from .config.hub import LM_KINDS
from .data import Split, load_arrays, mnist_splits, patchify, random_affine, to_images
from .paths import HUB_DATA, data_file
from .train.loop import configure_runtime

SPLITS = ("train", "val", "test")


@dataclass
class Task:
    name: str
    splits: dict  # "train" / "val" / "test" -> Split
    in_features: int | None  # float features per token; None for token ids
    n_classes: int
    max_len: int
    # augment(idx, generator) -> augmented train inputs; None = no augmentation
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None
    vocab_size: int | None = None  # token-id inputs (listops)
    src_vocab: list[str] | None = None  # generation tasks
    tgt_vocab: list[str] | None = None
    # a key of ``families.FAMILIES``; None = the task's own (``config.TASK_FAMILIES``)
    family_name: str | None = None
    checkpoint: str | None = None  # hub tasks: the teacher's pre-trained start (config.hub)
    tokenizer: str | None = None  # hub generation tasks: decodes to text for BLEU
    references: dict | None = None  # hub generation tasks: split -> reference lists
    documents: dict | None = None  # hub LLM tasks: split -> the documents the harness scores
    # hub LLM tasks: teacher_lora, student_lora (LoRA settings or None), max_new_tokens
    lm_settings: dict | None = None

    def __post_init__(self):
        if self.family_name is None:
            if self.name not in TASK_FAMILIES:
                raise ValueError(f"task {self.name!r} is not one of {list(TASK_FAMILIES)}: "
                                 "give its family_name (families.family)")
            self.family_name = TASK_FAMILIES[self.name]

    @property
    def family(self):
        """The model family (``families``) this task's teacher and students belong to."""
        from .families import family

        return family(self.family_name)

    def build_model(self, depth: int, width: int, params: Params):
        """A fresh model of this task's family (depth blocks per stack), on its device."""
        return self.family.build(self, depth, width, params)

    @property
    def metric(self) -> str:
        """The headline metric: accuracy, or corpus BLEU for generation."""
        return self.family.metric

    @property
    def device(self) -> torch.device:
        return self.splits["train"].x.device


def _vocab(arrays, key) -> list[str]:
    return [str(w) for w in arrays[key]]


def load_task(task: str, params: Params, root: str | Path = "data") -> Task:
    """Load a built task onto the device that ``runtime`` selects (CUDA when present),
    with the family of ``model.backend``; a hub task from ``paths.HUB_DATA``."""
    if task in params.hub.tasks:
        return _load_hub_task(task, params)
    loaded = _load_task(task, params, root)
    if params.model.backend == "transformers":
        loaded.family_name = f"{loaded.family_name}_transformers"
    return loaded


def _load_hub_task(task: str, params: Params) -> Task:
    """A hub task (``config.hub``): the family ``classifier_hub`` (token ids and
    types), ``seq2seq_hub`` (native source and target ids, reference texts) or
    ``lm_choice_hub`` / ``lm_qa_hub`` (token ids, loss masks, scored documents)."""
    device = configure_runtime(params.runtime.device, params.runtime.threads)
    arrays = load_arrays(data_file(task, HUB_DATA))
    spec, model = params.hub.datasets[task], params.hub.model_of(task)
    keys = ("x", "y") if spec.kind == "generation" else ("x", "y", "mask")
    splits = {name: Split(*(torch.from_numpy(arrays[f"{k}_{name}"]) for k in keys)).to(device)
              for name in SPLITS}
    if spec.kind == "classification":
        return Task(task, splits, None, spec.n_classes, splits["train"].x.shape[1],
                    vocab_size=int(arrays["vocab_size"]), family_name="classifier_hub",
                    checkpoint=model.checkpoint)
    if spec.kind in LM_KINDS:
        documents = {name: [json.loads(d) for d in arrays[f"docs_{name}"].tolist()]
                     for name in ("val", "test")}
        return Task(task, splits, None, 0, splits["train"].x.shape[1],
                    vocab_size=int(arrays["vocab_size"]), family_name=f"{spec.kind}_hub",
                    checkpoint=model.checkpoint, tokenizer=model.tokenizer or model.checkpoint,
                    documents=documents,
                    lm_settings={"teacher_lora": spec.teacher_lora,
                                 "student_lora": spec.student_lora,
                                 "max_new_tokens": spec.max_new_tokens})
    references = {name: [[r for r in row if r] for row in arrays[f"refs_{name}"].tolist()]
                  for name in ("val", "test")}
    return Task(task, splits, None, 0, splits["train"].x.shape[1],
                vocab_size=int(arrays["vocab_size"]), family_name="seq2seq_hub",
                checkpoint=model.checkpoint, tokenizer=model.tokenizer or model.checkpoint,
                references=references)


def _load_task(task: str, params: Params, root: str | Path) -> Task:
    device = configure_runtime(params.runtime.device, params.runtime.threads)
    arrays = load_arrays(data_file(task, root))
    if task == "mnist":
        patch = params.data.mnist.patch
        splits = {k: v.to(device) for k, v in mnist_splits(arrays, patch).items()}
        images = to_images(arrays["x_train"])

        def augment(idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
            return patchify(random_affine(images[idx.cpu()], gen), patch).to(device)

        return Task("mnist", splits, patch * patch, 10, (28 // patch) ** 2, augment)

    def split(name: str) -> Split:
        x = torch.from_numpy(arrays[f"x_{name}"])
        mask = arrays.get(f"mask_{name}")
        return Split(x if x.dtype == torch.int64 else x.float(),
                     torch.from_numpy(arrays[f"y_{name}"]),
                     None if mask is None else torch.from_numpy(mask)).to(device)

    splits = {name: split(name) for name in SPLITS}
    if "y_pool" in arrays:  # the teacher's pre-training pool (generated tasks)
        splits["pool"] = split("pool")
    x = splits["train"].x
    if task in GENERATION_TASKS:
        return Task(task, splits, None, 0, x.shape[1], src_vocab=_vocab(arrays, "src_vocab"),
                    tgt_vocab=_vocab(arrays, "tgt_vocab"))
    if task == "listops":
        return Task(task, splits, None, 10, x.shape[1], vocab_size=len(arrays["vocab"]))
    return Task(task, splits, x.shape[2], 10, x.shape[1])  # digits, mnist1d
