"""Encoder-decoder teacher and students through the same training protocol."""

import json

import torch

from layerkd.config import parse_params
from layerkd.data import Split
from layerkd.generation import (distill_generation, teacher_cache_generation,
                                train_teacher_generation)
from layerkd.tasks import Task

TINY = {"model": {"width": 16, "heads": 2, "teacher_depth": 2},
        "teacher": {"epochs": 2, "batch_size": 16},
        "distill": {"epochs": 2, "student_depth": 1, "transfer_size": 24, "batch_size": 8,
                    "seeds": [0]}}
VOCAB = ["<pad>", "<bos>", "<eos>"] + [f"w{i}" for i in range(6)]


def copy_task() -> Task:
    """Copy a sequence of 4 words: source w.. EOS, target BOS w.. EOS."""
    g = torch.Generator().manual_seed(0)

    def split(n):
        words = torch.randint(3, len(VOCAB), (n, 4), generator=g)
        src = torch.cat([words, torch.full((n, 1), 2)], 1)
        tgt = torch.cat([torch.full((n, 1), 1), words, torch.full((n, 1), 2)], 1)
        return Split(src, tgt)

    return Task("scan", {"train": split(32), "val": split(8), "test": split(8)}, None, 0, 5,
                src_vocab=VOCAB, tgt_vocab=VOCAB)


def test_teacher_then_students_are_deterministic(tmp_path):
    raw = json.loads(json.dumps(TINY))
    raw["model"]["beams"] = 2  # test scores by beam search (validation stays greedy)
    params, task = parse_params(raw), copy_task()
    m = train_teacher_generation(task, params, tmp_path / "t", tmp_path / "t.pt", "h", False)
    assert 0 <= m["test_bleu"] <= 100 and 0 <= m["test_exact_match"] <= 100
    assert m["beams"] == 2
    teacher = task.encoder(2, 16, params)
    teacher.load_state_dict(torch.load(tmp_path / "t.pt")["state_dict"])
    cache = teacher_cache_generation(teacher, task, params)
    runs = [distill_generation(task, params, teacher, cache, "weight_copy", "in_order_random", 0,
                               tmp_path / f"s{i}", tmp_path / f"s{i}.pt", False)
            for i in range(2)]
    for r in runs:
        r.pop("wall_s")
    assert runs[0] == runs[1]
    assert runs[0]["beams"] == 2 and runs[0]["norm"] == "post"
    saved = json.loads((tmp_path / "s0" / "metrics.json").read_text())
    assert saved["pairs"] == [[0, 0], [1, saved["pairs"][1][1]]]
    assert (tmp_path / "s0" / "live" / "plots" / "metrics" / "val" / "bleu.tsv").exists()


def test_narrow_student_trains_and_saves_both_stacks_projections(tmp_path):
    raw = json.loads(json.dumps(TINY))
    raw["distill"].update(student_width=8, inits=["random"])
    params, task = parse_params(raw), copy_task()
    teacher = task.encoder(2, 16, params).eval()
    cache = teacher_cache_generation(teacher, task, params)
    distill_generation(task, params, teacher, cache, "random", "forward", 0,
                       ckpt_path=tmp_path / "s.pt", progress=False)
    state = torch.load(tmp_path / "s.pt")["state_dict"]
    assert state["enc_projections.0.weight"].shape == (16, 8)
    assert state["dec_projections.1.weight"].shape == (16, 8)


def test_generation_task_reports_bleu():
    task = copy_task()
    assert task.kind == "generate" and task.metric == "bleu"
