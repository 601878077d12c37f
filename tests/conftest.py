import pytest
import torch

from layerkd.models import Encoder


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def tiny_encoder(depth: int, width: int = 16, in_features: int = 5, max_len: int = 6) -> Encoder:
    return Encoder(in_features, n_classes=3, max_len=max_len, depth=depth, width=width, heads=2)
