"""A hub LLM task's arrays (HellaSwag, CoQA), as the official LLM code builds them.

Training pairs follow llm/tasks/hellaswag.py (``process_docs``: prompt =
``activity_label: ctx_a Ctx_b``, completion = the gold ending, both through
lm-eval's ``preprocess``) and llm/tasks/coqa.py (``doc_to_text``: per turn,
prompt = the story and the question, completion = ``A: answer``; the last
turn's completion is ``A:`` alone, as the official zip_longest leaves it).
Tokenised as TRL's ``SFTTrainer`` does a prompt-completion pair: the ids of
prompt + completion and EOS, the loss on the completion and EOS only; sequences
longer than ``max_length`` lose their first tokens (the completion is kept).

Stored per split: ``x`` (N, T) ids right-padded with the tokenizer's padding,
``mask`` (N, T) the real tokens, ``y`` (N, T) the tokens the loss reads, and,
for validation and test, ``docs`` (one JSON string per document): what the
harness scores (``hub.lm_score``).
"""

from __future__ import annotations

import json
import re
from itertools import zip_longest

import numpy as np


def preprocess(text: str) -> str:
    """lm-eval's HellaSwag cleaning (WikiHow bracket artefacts, double spaces)."""
    text = text.strip().replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


def hellaswag_pairs(doc: dict) -> list[tuple[str, str]]:
    ctx = doc["ctx_a"] + " " + doc["ctx_b"].capitalize()
    gold = int(doc["label"])
    return [(preprocess(doc["activity_label"] + ": " + ctx), preprocess(doc["endings"][gold]))]


def coqa_pairs(doc: dict) -> list[tuple[str, str]]:
    story = doc["story"] + "\n\n"
    return [(story + f"Q: {q}\n\n", f"A: {a}\n\n" if a is not None else "A:")
            for q, a in zip_longest(doc["questions"]["input_text"],
                                    doc["answers"]["input_text"][:-1])]


PAIRS = {"lm_choice": hellaswag_pairs, "lm_qa": coqa_pairs}


def encode_sft(pairs: list[tuple[str, str]], tokenizer, max_length: int) -> dict[str, np.ndarray]:
    rows, masks = [], []
    for prompt, completion in pairs:
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        ids = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
        ids = ids + [tokenizer.eos_token_id]
        n_prompt = min(n_prompt, len(ids) - 1)  # EOS at least is read
        loss = [False] * n_prompt + [True] * (len(ids) - n_prompt)
        rows.append(ids[-max_length:])
        masks.append(loss[-max_length:])
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id
    x = np.full((len(rows), width), pad, dtype=np.int64)
    real, y = np.zeros(x.shape, dtype=bool), np.zeros(x.shape, dtype=bool)
    for i, (r, m) in enumerate(zip(rows, masks)):
        x[i, :len(r)], real[i, :len(r)], y[i, :len(m)] = r, True, m
    return {"x": x, "mask": real, "y": y}


def lm_arrays(ds, kind: str, tokenizer, max_length: int, keep_docs: bool) -> dict:
    docs = [dict(d) for d in ds]
    pairs = [p for d in docs for p in PAIRS[kind](d)]
    out = encode_sft(pairs, tokenizer, max_length)
    if keep_docs:
        out["docs"] = np.asarray([json.dumps(d) for d in docs], dtype=str)
    return out
