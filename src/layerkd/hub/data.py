"""A hub task's arrays: ``datasets.load_dataset`` + the checkpoint's tokenizer.

The training split loses ``n_val`` examples (a seeded draw) to validation, as
GLUE's test labels are hidden; the scored split is ``test_split`` (GLUE: the
labelled validation split). Stored as every task is (``data.save_dataset``:
npz + checksum card), with ``vocab_size``:

* classification: ``x_<split>`` (N, T, 2) ids and token types, ``mask_<split>``
  (N, T - 1) the valid tokens after [CLS], ``y_<split>`` labels;
* generation: ``x_<split>`` (N, S) source ids and ``y_<split>`` (N, T + 1)
  targets ``BOS .. EOS PAD ..``, both in native ids (``hub.seq2seq.IdMap``),
  and ``refs_<split>`` (N, R) the reference texts of validation and test ("" =
  none). A list of references (DART) gives one training example per reference;
* decoder-only LLM (HellaSwag, CoQA): ``hub.lm_data``.
"""

from __future__ import annotations

import numpy as np

from ..config.hub import LM_KINDS, HubDataset, HubModel, HubParams
from ..models.encoder_decoder import BOS_ID


def tokenizer_of(model: HubModel):
    from .model import tokenizer

    return tokenizer(model.tokenizer or model.checkpoint)


def quiet_datasets():
    """`datasets` without progress bars (one per split would flood a notebook) and
    without its download-count ping: it sends a HEAD request to S3 for its packaged
    builders (json, csv) even when every file is local."""
    import datasets

    datasets.disable_progress_bars()
    datasets.config.HF_UPDATE_DOWNLOAD_COUNTS = False
    return datasets


def load_split(spec: HubDataset, task: str, split: str):
    datasets = quiet_datasets()
    ds = datasets.load_dataset(spec.path, spec.name, data_files=spec.data_files, split=split)
    columns = (spec.text or []) + [c.split(".")[0] for c in (spec.label, spec.source,
                                                             spec.target) if c]
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise ValueError(f"hub.datasets.{task}: columns {missing} are not in split {split!r} "
                         f"of {spec.path!r} (it has {ds.column_names})")
    return ds


def column(ds, path: str) -> list:
    """Values of a dotted column path: ``translation.en`` -> row["translation"]["en"]."""
    head, *rest = path.split(".")
    values = list(ds[head])
    for key in rest:  # a list of records (DART's JSON annotations): the key of each
        values = [[r[key] for r in v] if isinstance(v, list) else v[key] for v in values]
    return values


def linearise(value) -> str:
    """A source as text: a string as it is, a list of (subject, predicate, object)
    triples as ``<H> s <R> p <T> o ...`` (the DART baseline's linearisation)."""
    if isinstance(value, str):
        return value
    return " ".join(f"<H> {s} <R> {p} <T> {o}" for s, p, o in value)


def encode(ds, spec: HubDataset, tokenizer, max_length: int) -> dict[str, np.ndarray]:
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


def encode_pairs(ds, spec: HubDataset, tokenizer, ids, max_length: int,
                 expand: bool) -> dict[str, np.ndarray]:
    """Sources and targets in native ids; ``expand``: one example per reference (the
    training split), else the first reference as target and all kept as ``refs``."""
    sources = [spec.prefix + linearise(v) for v in column(ds, spec.source)]
    refs = [[v] if isinstance(v, str) else list(v) for v in column(ds, spec.target)]
    if any(not r for r in refs):
        raise ValueError(f"column {spec.target!r} has an example without a reference")
    pairs = ([(s, r) for s, rs in zip(sources, refs) for r in rs] if expand else
             [(s, rs[0]) for s, rs in zip(sources, refs)])
    src = tokenizer([s for s, _ in pairs], truncation=True, max_length=max_length,
                    padding="max_length")["input_ids"]
    tgt = tokenizer(text_target=[t for _, t in pairs], truncation=True,
                    max_length=spec.max_target_length, padding="max_length")["input_ids"]
    tgt = ids.to_native(np.asarray(tgt))
    out = {"x": ids.to_native(np.asarray(src)).astype(np.int64),
           "y": np.concatenate([np.full((len(tgt), 1), BOS_ID), tgt], 1).astype(np.int64)}
    if not expand:
        width = max(len(r) for r in refs)
        out["refs"] = np.asarray([r + [""] * (width - len(r)) for r in refs], dtype=str)
    return out


def build_hub_task(hub: HubParams, task: str) -> dict[str, np.ndarray]:
    spec, model = hub.datasets[task], hub.model_of(task)
    tokenizer = tokenizer_of(model)
    train, test = load_split(spec, task, spec.train_split), load_split(spec, task, spec.test_split)
    if spec.n_val >= len(train):
        raise ValueError(f"hub.datasets.{task}.n_val={spec.n_val} is not allowed: the training "
                         f"split has {len(train)} examples")
    order = np.random.default_rng(hub.seed).permutation(len(train))
    val_rows, train_rows = order[:spec.n_val], order[spec.n_val:][:spec.max_train]
    test_rows = np.arange(min(len(test), spec.max_test or len(test)))
    if spec.kind == "generation":
        from transformers import AutoConfig

        from .seq2seq import IdMap

        ids = IdMap.of(AutoConfig.from_pretrained(model.checkpoint))
        def enc(ds, name):  # noqa: E306
            return encode_pairs(ds, spec, tokenizer, ids, model.max_length, name == "train")
        vocab_size = ids.size
    elif spec.kind in LM_KINDS:
        from .lm_data import lm_arrays

        def enc(ds, name):  # noqa: E306
            return lm_arrays(ds, spec.kind, tokenizer, model.max_length, name != "train")
        vocab_size = len(tokenizer)
    else:
        def enc(ds, name):  # noqa: E306
            return encode(ds, spec, tokenizer, model.max_length)
        vocab_size = len(tokenizer)
    out: dict[str, np.ndarray] = {}
    for name, ds, rows in (("train", train, train_rows), ("val", train, val_rows),
                           ("test", test, test_rows)):
        for key, value in enc(ds.select(rows), name).items():
            out[f"{key}_{name}"] = value
    out["vocab_size"] = np.asarray(vocab_size)
    return out


def decode_examples(arrays: dict, hub: HubParams, task: str, split: str = "train",
                    n: int = 5) -> list[str]:
    """The first n examples of a split as the model reads them (special tokens kept);
    a generation task's as ``source => target``."""
    model = hub.model_of(task)
    tokenizer = tokenizer_of(model)
    kind = hub.datasets[task].kind
    if kind == "classification":
        ids = arrays[f"x_{split}"][:n, :, 0]
        return [tokenizer.decode(row[row != tokenizer.pad_token_id]) for row in ids]
    if kind in LM_KINDS:  # prompt => completion (the tokens the loss reads)
        x, loss, real = (arrays[f"{k}_{split}"][:n] for k in ("x", "y", "mask"))
        return [f"{tokenizer.decode(r[m & ~c])!r} => {tokenizer.decode(r[c])!r}"
                for r, c, m in zip(x, loss, real)]
    from transformers import AutoConfig

    from .seq2seq import IdMap

    to_text = lambda rows: [tokenizer.decode(ids.to_checkpoint(r[r > 0])) for r in rows]  # noqa
    ids = IdMap.of(AutoConfig.from_pretrained(model.checkpoint))
    return [f"{s} => {t}" for s, t in zip(to_text(arrays[f"x_{split}"][:n]),
                                          to_text(arrays[f"y_{split}"][:n, 1:]))]


def split_summary(arrays: dict, spec: HubDataset):
    """Per split: examples, label counts (classification) or references per example
    (generation), and mean tokens used of the budget."""
    import pandas as pd

    def row(split: str) -> dict:
        y = arrays[f"y_{split}"]
        if spec.kind == "classification":
            return {"examples": len(y),
                    **{f"label {k}": int((y == k).sum()) for k in range(spec.n_classes)},
                    "mean tokens": float(arrays[f"mask_{split}"].sum(1).mean() + 1)}
        if spec.kind in LM_KINDS:
            return {"sequences": len(y), "documents": len(arrays.get(f"docs_{split}", [])),
                    "mean tokens": float(arrays[f"mask_{split}"].sum(1).mean()),
                    "mean loss tokens": float(y.sum(1).mean())}
        refs = arrays.get(f"refs_{split}")  # none for the training split: one each
        per_example = 1.0 if refs is None else float((refs != "").sum(1).mean())
        return {"examples": len(y), "references per example": per_example,
                "mean source tokens": float((arrays[f"x_{split}"] > 0).sum(1).mean()),
                "mean target tokens": float((y[:, 1:] > 0).sum(1).mean())}

    return pd.DataFrame({s: row(s) for s in ("train", "val", "test")}).T
