import copy
from pathlib import Path

import pytest
import torch
import yaml

from layerkd.models import Encoder

_DEFAULT = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())


def complete(changes: dict | None = None) -> dict:
    """A whole params dict for a unit test: params.yaml without its per-task
    overrides, with no task ablated and the angles of the first seed only,
    ``changes`` merged in section by section
    (nested dicts merged, other values replaced). Every key is required, so a
    test states only what it changes."""
    raw = copy.deepcopy(_DEFAULT)
    raw["overrides"] = {}
    for section in (raw["ablations"], raw["ablations"]["objective"], raw["ablations"]["a_hid"],
                    raw["ablations"]["transfer"]):
        section["tasks"] = []

    def merge(into: dict, new: dict) -> dict:
        for key, value in new.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = copy.deepcopy(value)
        return into

    raw = merge(raw, changes or {})
    if "seeds" not in (changes or {}).get("angles", {}):  # only trained seeds are measured
        raw["angles"]["seeds"] = raw["distill"]["seeds"][:1]
    return raw


def pytest_addoption(parser):
    parser.addoption("--recipes", action="store_true",
                     help="run every README recipe on the smoke profile (tests/test_recipes_run.py)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--recipes"):
        return
    skip = pytest.mark.skip(reason="README recipes on the smoke profile: make recipes")
    for item in items:
        if "recipes" in item.keywords:
            item.add_marker(skip)


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
