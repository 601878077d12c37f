"""Stand-ins for the paper profile's Hub downloads, written offline: tiny random
checkpoint folders of the paper's depths (BERT 12; BART and T5 12 + 12; Qwen3
36) with their tokenizers, and JSON-lines files in the Hub datasets' formats
(MNLI: premise, hypothesis, label; SST-2: sentence, label; DART: tripleset,
annotations with several reference texts; WMT16: translation {en, ro};
HellaSwag: activity_label, ctx_a, ctx_b, endings, label; CoQA: story,
questions, answers).

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

from .model import quiet_transformers

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
    with quiet_transformers():
        BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def write_seq2seq_checkpoint(folder: Path, kind: str, vocab: list[str], width: int = 32,
                             depth: int = 12, heads: int = 2) -> Path:
    """A random BART or T5 of the paper's depth (12 + 12 blocks, narrow) with a
    whitespace word tokenizer using that model's special ids and framing (BART:
    <s> .. </s>, decoding starts with </s>; T5: .. </s>, decoding starts with <pad>)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import (BartConfig, BartForConditionalGeneration,
                              PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration)

    specials = (["<s>", "<pad>", "</s>", "<unk>"] if kind == "bart" else
                ["<pad>", "</s>", "<unk>"])
    words = specials + vocab
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    frame = "<s> $A </s>" if kind == "bart" else "$A </s>"
    tok.post_processor = processors.TemplateProcessing(
        single=frame, special_tokens=[(t, words.index(t)) for t in specials if t in frame])
    folder.mkdir(parents=True, exist_ok=True)
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>",
                            unk_token="<unk>",
                            **({"bos_token": "<s>"} if kind == "bart" else {})
                            ).save_pretrained(folder)
    torch.manual_seed(0)
    if kind == "bart":
        model = BartForConditionalGeneration(BartConfig(
            vocab_size=len(words), d_model=width, encoder_layers=depth, decoder_layers=depth,
            encoder_attention_heads=heads, decoder_attention_heads=heads,
            encoder_ffn_dim=2 * width, decoder_ffn_dim=2 * width, max_position_embeddings=64,
            pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
            forced_bos_token_id=0, forced_eos_token_id=2))
    else:
        model = T5ForConditionalGeneration(T5Config(
            vocab_size=len(words), d_model=width, d_kv=width // heads, d_ff=2 * width,
            num_layers=depth, num_decoder_layers=depth, num_heads=heads, pad_token_id=0,
            eos_token_id=1, decoder_start_token_id=0))
    with quiet_transformers():
        model.save_pretrained(folder)
    return folder


EN = [f"e{i}" for i in range(30)]
RO = [f"r{i}" for i in range(30)]
PREFIX = "translate English to Romanian:"  # T5's task prefix, as the WMT16 profile's


def wmt_rows(n: int, rng) -> list[dict]:
    """A word-for-word "translation": e<i> -> r<i>, the order reversed."""
    rows = []
    for _ in range(n):
        idx = rng.integers(len(EN), size=int(rng.integers(3, 7)))
        rows.append({"translation": {"en": " ".join(EN[i] for i in idx),
                                     "ro": " ".join(RO[i] for i in idx[::-1])}})
    return rows


SUBJECTS, RELATIONS = [f"s{i}" for i in range(12)], [f"p{i}" for i in range(6)]


def dart_rows(n: int, rng) -> list[dict]:
    """One or two triples, two reference texts each (DART's annotations)."""
    rows = []
    for _ in range(n):
        triples = [[str(rng.choice(SUBJECTS)), str(rng.choice(RELATIONS)),
                    str(rng.choice(SUBJECTS))] for _ in range(int(rng.integers(1, 3)))]
        texts = [" and ".join(f"{s} {p} {o}" for s, p, o in triples),
                 " and ".join(f"the {s} {p} {o}" for s, p, o in triples)]
        rows.append({"tripleset": triples, "subtree_was_extended": False,
                     "annotations": {"source": ["standin", "standin"], "text": texts}})
    return rows


def write_causal_lm_checkpoint(folder: Path, vocab: list[str], width: int = 32,
                               depth: int = 36, heads: int = 2) -> Path:
    """A random Qwen3 of Qwen3-8B's depth (36 blocks, narrow, untied head) with a
    whitespace word tokenizer using Qwen3's padding and EOS tokens (no BOS)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    words = ["<|endoftext|>", "<|im_end|>", "<unk>"] + vocab
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    folder.mkdir(parents=True, exist_ok=True)
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<|endoftext|>",
                            eos_token="<|im_end|>", unk_token="<unk>").save_pretrained(folder)
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(Qwen3Config(
        vocab_size=len(words), hidden_size=width, num_hidden_layers=depth,
        num_attention_heads=heads, num_key_value_heads=1, head_dim=width // heads,
        intermediate_size=2 * width, max_position_embeddings=256, tie_word_embeddings=False,
        pad_token_id=0, eos_token_id=1, bos_token_id=None))
    with quiet_transformers():
        model.save_pretrained(folder)
    return folder


ACTIVITIES, CONTEXT = [f"a{i}" for i in range(6)], [f"c{i}" for i in range(20)]


def hellaswag_rows(n: int, rng) -> list[dict]:
    """Four endings; the right one names the activity's own word (x<i> for a<i>)."""
    rows = []
    for i in range(n):
        act, label = int(rng.integers(len(ACTIVITIES))), int(rng.integers(4))
        others = [k for k in range(len(ACTIVITIES)) if k != act]
        wrong = iter(rng.choice(others, 3, replace=False))
        # "end" first: the official pair joins prompt and completion without a space
        endings = [f"end x{act if j == label else next(wrong)}" for j in range(4)]
        ctx_a = " ".join(rng.choice(CONTEXT, 4))
        rows.append({"ind": i, "activity_label": ACTIVITIES[act], "ctx_a": ctx_a, "ctx_b": "",
                     "ctx": ctx_a, "endings": endings, "source_id": "standin",
                     "split": "train", "split_type": "indomain", "label": str(label)})
    return rows


KEYS, VALUES = [f"k{i}" for i in range(8)], [f"v{i}" for i in range(8)]


def coqa_rows(n: int, rng) -> list[dict]:
    """A story of key-value pairs; each question asks a key, the answer is its value."""
    rows = []
    for _ in range(n):
        values = rng.permutation(len(VALUES))
        story = " ".join(f"{k} {VALUES[v]}" for k, v in zip(KEYS, values))
        asked, turns = rng.choice(len(KEYS), 5, replace=False), [1, 2, 3, 4, 5]
        rows.append({"source": "standin", "story": story,
                     "questions": {"input_text": [f"what {KEYS[k]}" for k in asked],
                                   "turn_id": turns},
                     "answers": {"input_text": [VALUES[values[k]] for k in asked],
                                 "turn_id": turns}})
    return rows


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
    """Every stand-in under ``folder``: {"checkpoint": the BERT folder, task: {split:
    file}, "checkpoints": {generation task: its BART / T5 folder}}."""
    folder, rng = Path(folder).resolve(), np.random.default_rng(0)
    mnli, sst2, dart, wmt, hella, coqa = (folder / t for t in (
        "mnli", "sst2", "dart", "wmt16_en_ro", "hellaswag", "coqa"))
    dart_vocab = ["<H>", "<R>", "<T>", "and", "the", *SUBJECTS, *RELATIONS]
    wmt_vocab = [*PREFIX.split(), *EN, *RO]
    lm_vocab = [*(f"{a}:" for a in ACTIVITIES), *CONTEXT, *(f"x{i}" for i in range(6)), "end",
                *KEYS, *VALUES, "what", "Q:", "A:"]
    return {
        "checkpoint": str(write_checkpoint(folder / "bert")),
        "mnli": {"train": write_jsonl(mnli_rows(n_train, rng), mnli / "train.jsonl"),
                 "validation_matched": write_jsonl(mnli_rows(n_test, rng),
                                                   mnli / "validation_matched.jsonl")},
        "sst2": {"train": write_jsonl(sst2_rows(n_train, rng), sst2 / "train.jsonl"),
                 "validation": write_jsonl(sst2_rows(n_test, rng), sst2 / "validation.jsonl")},
        "dart": {"train": write_jsonl(dart_rows(n_train, rng), dart / "train.jsonl"),
                 "test": write_jsonl(dart_rows(n_test, rng), dart / "test.jsonl")},
        "wmt16_en_ro": {"train": write_jsonl(wmt_rows(n_train, rng), wmt / "train.jsonl"),
                        "test": write_jsonl(wmt_rows(n_test, rng), wmt / "test.jsonl")},
        "hellaswag": {"train": write_jsonl(hellaswag_rows(n_train, rng), hella / "train.jsonl"),
                      "validation": write_jsonl(hellaswag_rows(n_test, rng),
                                                hella / "validation.jsonl")},
        "coqa": {"train": write_jsonl(coqa_rows(n_train // 2, rng), coqa / "train.jsonl"),
                 "validation": write_jsonl(coqa_rows(n_test, rng), coqa / "validation.jsonl")},
        "checkpoints": {
            "dart": str(write_seq2seq_checkpoint(folder / "bart", "bart", dart_vocab)),
            "wmt16_en_ro": str(write_seq2seq_checkpoint(folder / "t5", "t5", wmt_vocab)),
            **dict.fromkeys(("hellaswag", "coqa"),
                            str(write_causal_lm_checkpoint(folder / "qwen3", lm_vocab)))},
    }


def point_profile(profile: dict, standins: dict, n_val: int = 32) -> dict:
    """``profile`` (a loaded profiles/paper.yaml) with its checkpoints and datasets
    replaced by the stand-ins (tasks without one are dropped) and shorter token
    budgets (24 source, 16 target, 64 LLM tokens, 4-token answers); nothing else
    changes."""
    hub = profile["hub"]
    hub["model"].update(checkpoint=standins["checkpoint"], tokenizer=None, max_length=24)
    hub["tasks"] = [t for t in hub["tasks"] if t in standins]
    for task in hub["tasks"]:
        spec = hub["datasets"][task]
        spec.update(path="json", name=None, data_files=standins[task], n_val=n_val)
        if task in standins["checkpoints"]:
            spec["model"].update(checkpoint=standins["checkpoints"][task], tokenizer=None,
                                 max_length=24 if spec["kind"] == "generation" else 64)
            if spec["kind"] == "generation":
                spec["max_target_length"] = 16
            if spec["kind"] == "lm_qa":
                spec["max_new_tokens"] = 4
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
