import pytest
import torch

from layerkd.models import Encoder


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def tiny_encoder(depth: int, width: int = 16, in_features: int = 5, max_len: int = 6,
                 norm: str = "pre") -> Encoder:
    return Encoder(in_features, n_classes=3, max_len=max_len, depth=depth, width=width, heads=2,
                   norm=norm)


def assert_layernorm_outputs(hiddens, tol: float = 1e-3) -> None:
    """Every state (..., d) has per-token mean 0 and variance 1: a LayerNorm output with
    the identity affine of a fresh LayerNorm (variance d-normalised, minus LN's eps)."""
    for i, h in enumerate(hiddens):
        torch.testing.assert_close(h.mean(-1), torch.zeros(h.shape[:-1]), atol=tol, rtol=0,
                                   msg=lambda m: f"hidden {i} mean: {m}")
        torch.testing.assert_close(h.var(-1, unbiased=False), torch.ones(h.shape[:-1]),
                                   atol=tol, rtol=0, msg=lambda m: f"hidden {i} variance: {m}")
