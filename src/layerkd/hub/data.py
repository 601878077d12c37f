"""A hub task's arrays: ``datasets.load_dataset`` + the checkpoint's tokenizer.

The training split loses ``n_val`` examples (a seeded draw) to validation, as
GLUE's test labels are hidden; the scored split is ``test_split`` (GLUE: the
labelled validation split). Stored as every task is (``data.save_dataset``:
npz + checksum card): ``x_<split>`` (N, T, 2) ids and token types,
``mask_<split>`` (N, T - 1) the valid tokens after [CLS] (``hub.model``),
``y_<split>`` labels, and ``vocab_size``.
"""

from __future__ import annotations

import numpy as np

from ..config.hub import HubParams


def tokenizer_of(hub: HubParams):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(hub.model.tokenizer or hub.model.checkpoint)


def load_split(hub: HubParams, task: str, split: str):
    import datasets

    datasets.disable_progress_bars()  # one bar per split would flood the notebook
    # no download-count ping: `datasets` sends a HEAD request to S3 for its packaged
    # builders (json, csv) even when every file is local
    datasets.config.HF_UPDATE_DOWNLOAD_COUNTS = False
    spec = hub.datasets[task]
    ds = datasets.load_dataset(spec.path, spec.name, data_files=spec.data_files, split=split)
    missing = [c for c in (*spec.text, spec.label) if c not in ds.column_names]
    if missing:
        raise ValueError(f"hub.datasets.{task}: columns {missing} are not in split {split!r} "
                         f"of {spec.path!r} (it has {ds.column_names})")
    return ds


def encode(ds, spec, tokenizer, max_length: int) -> dict[str, np.ndarray]:
    enc = tokenizer(*[list(ds[c]) for c in spec.text], truncation=True, max_length=max_length,
                    padding="max_length", return_token_type_ids=True,
                    return_attention_mask=True)
    y = np.asarray(list(ds[spec.label]), dtype=np.int64)
    bad = sorted(set(y[(y < 0) | (y >= spec.n_classes)].tolist()))
    if bad:
        raise ValueError(f"labels {bad[:5]} of column {spec.label!r} are outside 0.."
                         f"{spec.n_classes - 1} (n_classes): an unlabelled split?")
    x = np.stack([np.asarray(enc["input_ids"]), np.asarray(enc["token_type_ids"])], -1)
    return {"x": x.astype(np.int64), "mask": np.asarray(enc["attention_mask"])[:, 1:] > 0,
            "y": y}


def build_hub_task(hub: HubParams, task: str) -> dict[str, np.ndarray]:
    spec, tokenizer = hub.datasets[task], tokenizer_of(hub)
    train, test = load_split(hub, task, spec.train_split), load_split(hub, task, spec.test_split)
    if spec.n_val >= len(train):
        raise ValueError(f"hub.datasets.{task}.n_val={spec.n_val} is not allowed: the training "
                         f"split has {len(train)} examples")
    order = np.random.default_rng(hub.seed).permutation(len(train))
    val_rows, train_rows = order[:spec.n_val], order[spec.n_val:][:spec.max_train]
    test_rows = np.arange(min(len(test), spec.max_test or len(test)))
    out: dict[str, np.ndarray] = {}
    for name, ds, rows in (("train", train, train_rows), ("val", train, val_rows),
                           ("test", test, test_rows)):
        for key, value in encode(ds.select(rows), spec, tokenizer, hub.model.max_length).items():
            out[f"{key}_{name}"] = value
    out["vocab_size"] = np.asarray(len(tokenizer))
    return out


def decode_examples(arrays: dict, hub: HubParams, split: str = "train", n: int = 5) -> list[str]:
    """The first n examples of a split as the model reads them (special tokens kept)."""
    tokenizer = tokenizer_of(hub)
    ids = arrays[f"x_{split}"][:n, :, 0]
    return [tokenizer.decode(row[row != tokenizer.pad_token_id]) for row in ids]
