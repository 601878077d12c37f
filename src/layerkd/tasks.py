"""A task bundles its splits, its model input shape and its teacher augmentation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .config import Params
from .data import build_mnist, load_arrays, mnist_splits, patchify, random_affine, save_dataset, to_images
from .models import Encoder
from .train import configure_runtime


@dataclass
class Task:
    name: str
    splits: dict  # "train" / "val" / "test" -> Split
    in_features: int
    n_classes: int
    max_len: int
    # augment(idx, generator) -> augmented train inputs; None = no augmentation
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None

    @property
    def device(self) -> torch.device:
        return self.splits["train"].x.device

    def encoder(self, depth: int, width: int, params: Params) -> Encoder:
        """A fresh Encoder for this task's inputs, on the task's device."""
        m = params.model
        return Encoder(self.in_features, self.n_classes, self.max_len, depth, width,
                       m.heads, m.mlp_ratio).to(self.device)


def data_path(task: str, root: str | Path = "data") -> Path:
    return Path(root) / f"{task}.npz"


def build_data(task: str, params: Params, root: str | Path = "data") -> dict:
    """Generate a task's arrays once and save them with their checksum card."""
    if task == "mnist":
        c = params.data.mnist
        arrays = build_mnist(c.n_val, c.n_test, params.data.seed)
    else:
        raise ValueError(f"task must be one of ['mnist'], got {task!r}")
    return save_dataset(arrays, data_path(task, root))


def load_task(task: str, params: Params, root: str | Path = "data") -> Task:
    """Load a built task onto the device that ``runtime`` selects (CUDA when present)."""
    device = configure_runtime(params.runtime.device, params.runtime.threads)
    arrays = load_arrays(data_path(task, root))
    if task == "mnist":
        patch = params.data.mnist.patch
        splits = {k: v.to(device) for k, v in mnist_splits(arrays, patch).items()}
        images = to_images(arrays["x_train"])

        def augment(idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
            return patchify(random_affine(images[idx.cpu()], gen), patch).to(device)

        return Task("mnist", splits, patch * patch, 10, (28 // patch) ** 2, augment)
    raise ValueError(f"task must be one of ['mnist'], got {task!r}")
