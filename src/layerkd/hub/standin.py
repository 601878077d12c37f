"""Stand-ins for the paper profile's Hub downloads, written offline: a tiny random
BERT checkpoint folder (config, weights, WordPiece tokenizer) and GLUE-format
JSON-lines files (MNLI: premise, hypothesis, label; SST-2: sentence, label).

``python -m layerkd.hub.standin FOLDER`` writes them and
``FOLDER/paper_standin.yaml``: ``profiles/paper.yaml`` pointed at them and
nothing else changed (``point_profile``; tests/test_hub.py runs the whole hub
pipeline so). The labels follow simple word rules, so a teacher
has something to learn; the numbers mean nothing beyond that.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [f"w{i}" for i in range(40)] + ["good", "bad", "not"]


def write_checkpoint(folder: Path, width: int = 32, depth: int = 12, heads: int = 2) -> Path:
    """A random BERT of bert-base-uncased's depth (12 blocks, narrow) and its tokenizer,
    written by save_pretrained."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(SPECIALS + WORDS) + "\n")
    BertTokenizerFast(vocab=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(SPECIALS + WORDS), hidden_size=width,
                        num_hidden_layers=depth, num_attention_heads=heads,
                        intermediate_size=2 * width, max_position_embeddings=64)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def _sentence(rng, n: int) -> list[str]:
    return list(rng.choice(WORDS[:40], size=n))


def mnli_rows(n: int, rng) -> list[dict]:
    """label 0 (entailment): the hypothesis repeats premise words; 2 (contradiction):
    it adds "not"; 1 (neutral): new words."""
    rows = []
    for i in range(n):
        premise, label = _sentence(rng, 6), int(rng.integers(3))
        hyp = (list(rng.choice(premise, 3)) if label == 0 else
               _sentence(rng, 3) if label == 1 else ["not", *rng.choice(premise, 2)])
        rows.append({"premise": " ".join(premise), "hypothesis": " ".join(hyp),
                     "label": label, "idx": i})
    return rows


def sst2_rows(n: int, rng) -> list[dict]:
    rows = []
    for i in range(n):
        label = int(rng.integers(2))
        words = _sentence(rng, 5) + ["good" if label else "bad"]
        rng.shuffle(words)
        rows.append({"sentence": " ".join(words), "label": label, "idx": i})
    return rows


def write_jsonl(rows: list[dict], path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def write_standins(folder: Path, n_train: int = 160, n_test: int = 60) -> dict:
    """Every stand-in under ``folder``: {"checkpoint": folder, task: {split: file}}."""
    folder, rng = Path(folder).resolve(), np.random.default_rng(0)
    mnli, sst2 = folder / "mnli", folder / "sst2"
    return {
        "checkpoint": str(write_checkpoint(folder / "bert")),
        "mnli": {"train": write_jsonl(mnli_rows(n_train, rng), mnli / "train.jsonl"),
                 "validation_matched": write_jsonl(mnli_rows(n_test, rng),
                                                   mnli / "validation_matched.jsonl")},
        "sst2": {"train": write_jsonl(sst2_rows(n_train, rng), sst2 / "train.jsonl"),
                 "validation": write_jsonl(sst2_rows(n_test, rng), sst2 / "validation.jsonl")},
    }


def point_profile(profile: dict, standins: dict, n_val: int = 32) -> dict:
    """``profile`` (a loaded profiles/paper.yaml) with its checkpoint and datasets
    replaced by the stand-ins (tasks without one are dropped); nothing else changes."""
    hub = profile["hub"]
    hub["model"].update(checkpoint=standins["checkpoint"], tokenizer=None, max_length=24)
    hub["tasks"] = [t for t in hub["tasks"] if t in standins]
    for task in hub["tasks"]:
        hub["datasets"][task].update(path="json", name=None, data_files=standins[task],
                                     n_val=n_val)
    return profile


if __name__ == "__main__":
    import yaml

    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m layerkd.hub.standin FOLDER [PROFILE (profiles/paper.yaml)]")
    folder = Path(sys.argv[1])
    profile = yaml.safe_load(Path(sys.argv[2] if len(sys.argv) == 3 else
                                  "profiles/paper.yaml").read_text())
    out = folder / "paper_standin.yaml"
    out.write_text(yaml.safe_dump(point_profile(profile, write_standins(folder)),
                                  sort_keys=False))
    print(f"wrote {out}: cp {out} params.yaml && dvc repro hub_report")
