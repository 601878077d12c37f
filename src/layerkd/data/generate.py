"""A task's data from ``params.yaml``: the builder of each task called with its
``data.<task>`` settings, saved once with its checksum card (the data stage)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import LLM_TASK, TASKS, Params
from ..paths import DATA, data_file
from . import build
from .mnist import build_mnist
from .mnist1d import build_mnist1d
from .facts import build_facts
from .store import save_dataset


def build_arrays(task: str, params: Params) -> dict[str, np.ndarray]:
    d = params.data
    if task == "mnist":
        return build_mnist(d.mnist.n_val, d.mnist.n_test, d.seed)
    if task == "mnist1d":
        return build_mnist1d(**d.mnist1d.model_dump())
    if task == LLM_TASK:
        return build_facts(**params.llm.data.model_dump())
    if task in TASKS:
        return build(task, seed=d.seed, **getattr(d, task).model_dump())
    raise ValueError(f"task must be one of {[*TASKS, LLM_TASK]}, got {task!r}")


def build_data(task: str, params: Params, root: str | Path = DATA) -> dict:
    """Generate a task's arrays once and save them with their checksum card."""
    return save_dataset(build_arrays(task, params), data_file(task, root))
