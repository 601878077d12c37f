"""Benchmark: one distillation step of each of the paper's own settings, at their sizes.

`profiles/paper.yaml` runs BERT-base on GLUE, BART-large on DART, T5-base on
WMT16 En-Ro and Qwen3-8B (LoRA) on HellaSwag and CoQA. Their cost could only be
estimated on a CPU; this script measures it on a GPU: the architectures at
their published sizes are built from their configurations with random weights
(no download: step time and memory do not depend on the weights), and one
student step is timed as the pipeline trains it: a live teacher forward pass
(no gradients), the student's forward pass with every hidden state, the
objective of the setting (`distill.objective`: cross-entropy, KL and the
hidden term with the official distance over the forward strategy's pairs),
backward and AdamW. Batch sizes, lengths, distances and LoRA settings are the
paper profile's (`profiles/paper.yaml`, section hub).

    python bench/paper_scale.py --out DIR          # on a GPU: DIR/paper_scale.{json,md}
    python bench/paper_scale.py --tiny --out DIR   # the same code at toy sizes (CPU check)

Steps per student run come from each dataset's training-set size, the
profile's epochs and batch size (the table's `steps / run`); multiplied by the
measured time they give the GPU-hours of the profile's 30 students per task.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from layerkd.config.llm import LoRA
from layerkd.distill.objective import Objective, hidden_matching_loss, kl_teacher_student
from layerkd.hub.causal_lm import lora_adapters
from layerkd.lm.qwen import layer_reduced_student
from layerkd.strategies import match_layers

# (train examples, epochs, batch) of a student run in profiles/paper.yaml; train
# sizes: GLUE MNLI 392,702 pairs; DART 62,659 reference pairs; WMT16 ro-en: the
# first 100k; HellaSwag 39,905 contexts; CoQA 7,199 stories x about 15 questions.
RUNS = {
    "bert_mnli": (392_702, 10, 32),
    "bart_dart": (62_659, 18, 8),
    "t5_wmt16": (100_000, 40, 8),
    "qwen3_hellaswag": (39_905, 160, 6),
    "qwen3_coqa": (108_647, 15, 2),
}
# the teacher's fine-tuning run: (epochs, batch); the LLM teacher trains LoRA r 32
TEACHER_RUNS = {"bert_mnli": (3, 32), "bart_dart": (16, 16), "t5_wmt16": (9, 8),
                "qwen3_hellaswag": (10, 6), "qwen3_coqa": (2, 4)}
STUDENTS_PER_TASK = 30  # 5 strategies x 2 inits x 3 seeds (LLM: 5 x 1 x 3 = 15)


def settings(tiny: bool) -> dict:
    """name -> what to build and how to feed it (tiny: the same shapes, toy widths)."""
    from transformers import BartConfig, BertConfig, Qwen3Config, T5Config

    def size(full, small):
        return small if tiny else full

    toy_vocab = dict(vocab_size=1000) if tiny else {}
    bert = BertConfig(num_labels=3, **toy_vocab, **({} if not tiny else dict(
        hidden_size=32, num_hidden_layers=12, num_attention_heads=2, intermediate_size=64)))
    bart = BartConfig(**toy_vocab, **(dict(d_model=1024, encoder_layers=12, decoder_layers=12,
                              encoder_attention_heads=16, decoder_attention_heads=16,
                              encoder_ffn_dim=4096, decoder_ffn_dim=4096) if not tiny else dict(
        d_model=32, encoder_layers=12, decoder_layers=12, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64)))
    t5 = T5Config(**toy_vocab, **(dict(d_model=768, d_ff=3072, num_layers=12, num_decoder_layers=12,
                          num_heads=12, d_kv=64) if not tiny else dict(
        d_model=32, d_ff=64, num_layers=12, num_decoder_layers=12, num_heads=2, d_kv=16)))
    qwen = Qwen3Config(**(dict(vocab_size=151_936, hidden_size=4096, intermediate_size=12_288,
                               num_hidden_layers=36, num_attention_heads=32,
                               num_key_value_heads=8, head_dim=128) if not tiny else dict(
        vocab_size=1000, hidden_size=32, intermediate_size=64, num_hidden_layers=36,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8)),
        max_position_embeddings=2048, tie_word_embeddings=False)
    lora = {"teacher": LoRA(r=32, alpha=32, dropout=0.1),      # llm/finetune.py
            "student": LoRA(r=128, alpha=32, dropout=0.1)}     # llm/distillation.py
    return {
        "bert_mnli": dict(kind="cls", config=bert, student_depth=3, batch=32, src=128,
                          objective=Objective(distance="sum_sq", batch_divide=True),
                          dtype=torch.float32),
        "bart_dart": dict(kind="s2s", config=bart, student_depth=3, batch=8, src=128, tgt=128,
                          objective=Objective(distance="mse", pair_reduce="sum"),
                          dtype=torch.float32),
        "t5_wmt16": dict(kind="s2s", config=t5, student_depth=3, batch=8, src=128, tgt=128,
                         objective=Objective(temperature=2.0, distance="ln_mse",
                                             pair_reduce="sum"), dtype=torch.float32),
        "qwen3_hellaswag": dict(kind="lm", config=qwen, student_depth=9, batch=6,
                                src=size(256, 64), lora=lora, dtype=torch.bfloat16,
                                objective=Objective(distance="unit_sq", match_embeddings=False)),
        "qwen3_coqa": dict(kind="lm", config=qwen, student_depth=9, batch=2,
                           src=size(1024, 128), lora=lora, dtype=torch.bfloat16,
                           objective=Objective(distance="unit_sq", match_embeddings=False)),
    }


def shallower(config, depth: int):
    """The same configuration with ``depth`` blocks per stack."""
    c = config.__class__.from_dict(config.to_dict())
    for key in ("num_hidden_layers", "encoder_layers", "decoder_layers", "num_layers",
                "num_decoder_layers"):
        if hasattr(c, key) and getattr(c, key, None) is not None:
            setattr(c, key, depth)
    return c


def model_class(s: dict):
    from transformers import (BartForConditionalGeneration, BertForSequenceClassification,
                              Qwen3ForCausalLM, T5ForConditionalGeneration)

    if s["kind"] == "s2s":
        return (BartForConditionalGeneration if s["config"].model_type == "bart"
                else T5ForConditionalGeneration)
    return {"cls": BertForSequenceClassification, "lm": Qwen3ForCausalLM}[s["kind"]]


@contextlib.contextmanager
def built_as(s: dict, device: str):
    """Modules created inside are on ``device`` in the setting's precision (no
    float32 copy of 8B parameters first), from the same seed."""
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(s["dtype"])
    try:
        with torch.device(device):
            yield
    finally:
        torch.set_default_dtype(default)


def trainable(model) -> list:
    return [p for p in model.parameters() if p.requires_grad]


def build(s: dict, device: str):
    """(teacher, student, trainable parameters) of one setting, on ``device``."""
    cls = model_class(s)
    with built_as(s, device):
        teacher = cls(s["config"]).eval().requires_grad_(False)
        if s["kind"] != "lm":
            student = cls(shallower(s["config"], s["student_depth"]))
        else:
            # official: the teacher's LoRA (r 32) is merged before distillation, so its
            # forward pass is the plain model's; the student is the weight-copied
            # 9-block model with its own adapters (r 128)
            student = layer_reduced_student(teacher, s["student_depth"], "weight_copy", seed=0)
            student = lora_adapters(student, s["lora"]["student"])
    return teacher, student.train(), trainable(student)


def build_teacher(s: dict, device: str):
    """The teacher alone, as it fine-tunes (the LLM: LoRA r 32 on every linear layer)."""
    with built_as(s, device):
        teacher = model_class(s)(s["config"])
        if s["kind"] == "lm":
            teacher = lora_adapters(teacher, s["lora"]["teacher"])
    return teacher.train(), trainable(teacher)


def flat_logits_and_labels(s: dict, logits: torch.Tensor, batch: dict):
    """(N, V) logits and (N,) labels: one label per example (classification, class 0)
    or per token (decoder / language model: the random ids themselves)."""
    if s["kind"] == "cls":
        return logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device)
    labels = batch.get("decoder_input_ids", batch["input_ids"])
    return logits.flatten(0, 1), labels.flatten()


def teacher_loss(s: dict, teacher, batch: dict) -> torch.Tensor:
    return F.cross_entropy(*flat_logits_and_labels(s, teacher(**batch).logits.float(), batch))


def batch_of(s: dict, vocab: int, device: str) -> dict:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (s["batch"], s["src"]), generator=g).to(device)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if s["kind"] == "s2s":
        tgt = torch.randint(5, vocab, (s["batch"], s["tgt"]), generator=g).to(device)
        batch |= {"decoder_input_ids": tgt, "decoder_attention_mask": torch.ones_like(tgt)}
    return batch


def stacks(out, kind: str) -> list[tuple[list, str]]:
    """(hidden states, mask key) per stack of a model output."""
    if kind == "s2s":
        return [(out.encoder_hidden_states, "attention_mask"),
                (out.decoder_hidden_states, "decoder_attention_mask")]
    return [(out.hidden_states, "attention_mask")]


def step_loss(s: dict, teacher, student, batch: dict) -> torch.Tensor:
    """The setting's objective on one batch: CE + KL + hidden over forward pairs."""
    obj = s["objective"]
    with torch.no_grad():
        t_out = teacher(**batch, output_hidden_states=True)
    s_out = student(**batch, output_hidden_states=True)
    logits, labels = flat_logits_and_labels(s, s_out.logits.float(), batch)
    t_logits, _ = flat_logits_and_labels(s, t_out.logits.float(), batch)
    ce = F.cross_entropy(logits, labels)
    kl = kl_teacher_student(logits, t_logits, obj.temperature)
    hid = 0.0
    for (h_s, key), (h_t, _) in zip(stacks(s_out, s["kind"]), stacks(t_out, s["kind"])):
        pairs = match_layers("forward", len(h_s) - 1, len(h_t) - 1,
                             embeddings=obj.match_embeddings)
        part = hidden_matching_loss([h.float() for h in h_s], [h.float() for h in h_t], pairs,
                                    batch[key].bool(), objective=obj)
        hid = hid + part
    return obj.total(ce, kl, hid)


def timed_steps(loss_fn, params, cuda: bool, steps: int, warmup: int) -> tuple[float, float]:
    """Median milliseconds of a training step (loss, backward, AdamW) and the last loss."""
    opt = torch.optim.AdamW(params, lr=1e-5, fused=cuda)
    times = []
    for i in range(warmup + steps):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = loss_fn()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), loss.item()


def peak_gib(cuda: bool):
    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None


def measure(name: str, s: dict, device: str, steps: int, warmup: int) -> dict:
    """One student step (live teacher) and one teacher fine-tuning step."""
    cuda = device == "cuda"
    batch = batch_of(s, s["config"].vocab_size, device)
    teacher, student, params = build(s, device)
    if cuda:  # the step's peak: weights, activations, gradients, optimiser state
        torch.cuda.reset_peak_memory_stats()
    ms, loss = timed_steps(lambda: step_loss(s, teacher, student, batch), params, cuda,
                           steps, warmup)
    n_train, epochs, batch_size = RUNS[name]
    steps_per_run = -(-n_train // batch_size) * epochs
    students = 15 if s["kind"] == "lm" else STUDENTS_PER_TASK
    row = {"setting": name, "dtype": str(s["dtype"]).removeprefix("torch."),
           "batch": s["batch"], "tokens": s["src"] + s.get("tgt", 0),
           "teacher_params_M": round(sum(p.numel() for p in teacher.parameters()) / 1e6, 1),
           "student_trainable_M": round(sum(p.numel() for p in params) / 1e6, 1),
           "ms_per_step": round(ms, 2), "peak_memory_GiB": peak_gib(cuda),
           "steps_per_run": steps_per_run,
           "gpu_hours_per_run": round(ms * steps_per_run / 3.6e6, 2),
           "students": students,
           "gpu_hours_all_students": round(ms * steps_per_run * students / 3.6e6, 1),
           "loss": round(loss, 4)}
    del teacher, student, params
    if cuda:
        torch.cuda.empty_cache()
    # the teacher's own fine-tuning, at its batch size
    t_epochs, t_batch = TEACHER_RUNS[name]
    t_setting = s | {"batch": t_batch}
    batch = batch_of(t_setting, s["config"].vocab_size, device)
    teacher, params = build_teacher(s, device)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t_ms, _ = timed_steps(lambda: teacher_loss(s, teacher, batch), params, cuda, steps, warmup)
    t_steps = -(-n_train // t_batch) * t_epochs
    row |= {"teacher_batch": t_batch, "teacher_trainable_M":
            round(sum(p.numel() for p in params) / 1e6, 1), "teacher_ms_per_step": round(t_ms, 2),
            "teacher_peak_memory_GiB": peak_gib(cuda), "teacher_steps": t_steps,
            "teacher_gpu_hours": round(t_ms * t_steps / 3.6e6, 2)}
    del teacher, params
    if cuda:
        torch.cuda.empty_cache()
    return row


def markdown(rows: list[dict], meta: dict) -> str:
    head = ["setting", "dtype", "tokens", "teacher_params_M", "batch", "student_trainable_M",
            "ms_per_step", "peak_memory_GiB", "steps_per_run", "gpu_hours_per_run",
            "students", "gpu_hours_all_students", "teacher_batch", "teacher_trainable_M",
            "teacher_ms_per_step", "teacher_peak_memory_GiB", "teacher_steps",
            "teacher_gpu_hours"]
    lines = ["# Benchmark: the paper's own settings, one distillation step at their sizes", "",
             f"Generated by `python bench/paper_scale.py` on {meta['device']} "
             f"(torch {meta['torch']}, transformers {meta['transformers']}); median of "
             f"{meta['steps']} steps after {meta['warmup']} warm-up steps; random weights "
             "(the architectures' published sizes, built from their configurations).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("bench"))
    ap.add_argument("--tiny", action="store_true", help="toy widths (a CPU check of the code)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="settings to run (default: all)")
    args = ap.parse_args()
    import transformers

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # float32 products on tensor cores
    meta = {"device": torch.cuda.get_device_name() if device == "cuda" else platform.processor(),
            "torch": torch.__version__, "transformers": transformers.__version__,
            "steps": args.steps, "warmup": args.warmup, "tiny": args.tiny}
    rows = []
    for name, s in settings(args.tiny).items():
        if args.only and name not in args.only:
            continue
        rows.append(measure(name, s, device, args.steps, args.warmup))
        print(json.dumps(rows[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "paper_scale_tiny" if args.tiny else "paper_scale"
    (args.out / f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (args.out / f"{stem}.md").write_text(markdown(rows, meta))


if __name__ == "__main__":
    main()
