"""Calibration probe of the decoder-only task (layerkd.lm): does a small Qwen3
teacher, pre-trained as a language model on the facts pool and fine-tuned on
the questions, lead its quarter-depth `none` students (weight copy and random)?

Teacher and `none` students only (settings are chosen on them, never on a
matching strategy). Prints one JSON line: sizes, times, and multiple-choice
accuracy / exact match on validation and test.

    python bench/probes/facts_calibrate.py '{"pretrain_epochs": 60}'
"""

from __future__ import annotations

import json
import sys
import time

import torch

from layerkd.config import OptimParams
from layerkd.lm.distill import lm_loss_fn
from layerkd.data.facts import build_facts
from layerkd.lm.qwen import build_qwen3, layer_reduced_student, qwen3_config
from layerkd.lm.score import choice_accuracy, exact_match
from layerkd.train.loop import fit

SETTINGS = dict(n_train=200, n_val=100, n_test=200, n_pool=600, seed=0, depth=8,
                student_depth=2, width=64, heads=4, kv_heads=2, mlp_ratio=2,
                pretrain_epochs=60, pretrain_lr=3e-3, finetune_epochs=10, finetune_lr=5e-4,
                student_epochs=40, student_lr=2e-3, batch_size=64, threads=2,
                finetune_mix_pool=False)


def scores(model, a, split):
    return {"mc": choice_accuracy(model, a[f"mc_context_{split}"], a[f"mc_endings_{split}"],
                                  a[f"mc_label_{split}"]),
            "em": exact_match(model, a[f"x_{split}"], a[f"prompt_len_{split}"])}


def train(model, ids, a, epochs, lr, s, name):
    opt = OptimParams(epochs=epochs, batch_size=s["batch_size"], lr=lr, weight_decay=0.01,
                      warmup_frac=0.1, val_every=max(1, epochs // 10))
    result = fit(model, lm_loss_fn(model, ids), len(ids), lambda: scores(model, a, "val")["em"],
                 opt, 0, name, progress=False, metric_name="em")
    return round(result.wall_s, 1)


def main() -> None:
    s = {**SETTINGS, **json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")}
    torch.set_num_threads(s["threads"])
    raw = build_facts(s["n_train"], s["n_val"], s["n_test"], s["n_pool"], s["seed"])
    a = {k: torch.as_tensor(v) for k, v in raw.items() if k not in ("vocab", "people")}
    cfg = qwen3_config(len(raw["vocab"]), s["depth"], s["width"], s["heads"], s["kv_heads"],
                       s["mlp_ratio"], a["x_train"].shape[1])
    teacher = build_qwen3(cfg, seed=0)
    out = {"settings": s, "teacher_params": sum(p.numel() for p in teacher.parameters())}
    start = time.perf_counter()
    pre = OptimParams(epochs=s["pretrain_epochs"], batch_size=s["batch_size"],
                      lr=s["pretrain_lr"], weight_decay=0.01, warmup_frac=0.05,
                      val_every=max(1, s["pretrain_epochs"] // 10))
    fit(teacher, lm_loss_fn(teacher, a["x_pool"]), len(a["x_pool"]),
        lambda: scores(teacher, a, "val")["mc"], pre, 0, "pretrain", progress=False,
        metric_name="mc")
    out["pretrain_s"] = round(time.perf_counter() - start, 1)
    out["pretrained"] = {"val": scores(teacher, a, "val"), "test": scores(teacher, a, "test")}
    tune = a["x_train"]
    if s["finetune_mix_pool"]:  # rehearsal: the pool's statements beside the questions
        pool = torch.nn.functional.pad(a["x_pool"], (0, tune.shape[1] - a["x_pool"].shape[1]))
        tune = torch.cat([tune, pool])
    out["finetune_s"] = train(teacher, tune, a, s["finetune_epochs"], s["finetune_lr"],
                              s, "finetune")
    out["teacher"] = {"val": scores(teacher, a, "val"), "test": scores(teacher, a, "test")}
    for init in ("weight_copy", "random"):
        student = layer_reduced_student(teacher, s["student_depth"], init, seed=0)
        out[f"none_{init}_initial"] = scores(student, a, "test")
        out[f"none_{init}_s"] = train(student, a["x_train"], a, s["student_epochs"],
                                      s["student_lr"], s, f"none {init}")
        out[f"none_{init}"] = {"val": scores(student, a, "val"), "test": scores(student, a, "test")}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
