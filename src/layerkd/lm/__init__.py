"""The decoder-only task (section ``llm``; stages ``llm_teacher``, ``llm_distill``).

    qwen      transformers' Qwen3 from a config; the official layer-reduced weight copy
    task      the facts arrays as tensors, the model config, the two scores
    score     multiple choice by ending log-likelihood, greedy exact match
    harness   the same two scores through lm-evaluation-harness, offline
    distill   the LM loss, the teacher's cached outputs, the unit-vector distiller
    teacher   pre-training on the pool, fine-tuning, the checkpoint
    students  every init x strategy x seed, LoRA adapters (peft), resume
    angles    teacher layers seen from the students (the angle stage's part)
"""

import warnings

# `datasets` and `transformers` import tqdm.auto; in a notebook kernel without
# ipywidgets it warns once per stage that it falls back to text bars (it does)
warnings.filterwarnings("ignore", message="IProgress not found")
