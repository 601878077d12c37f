"""Scoring a hub LLM task with lm-evaluation-harness, the authors' scorer
(llm/scripts/run_lm_eval.sh: ``--model hf``, zero-shot, greedy), on the
harness's task definitions: ``hellaswag`` (accuracy of the most likely ending)
and ``coqa`` (exact match of the greedy answer up to ``\\nQ:``).

HellaSwag: a local task YAML ``include``-s the installed definition and only
points its data at a JSON-lines file of the split's documents (written beside
it), so prompts, choices and metric are the harness's. CoQA: the installed
definition cannot load under `transformers` 5 (``hub.coqa_harness``), so the
YAML is the harness's own with the same functions from a copy of that module.
Nothing is downloaded (the stand-in test runs it with the network blocked).
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from contextlib import redirect_stderr
from pathlib import Path

import torch

# kind -> (the harness's task, the result key); HellaSwag's installed definition
HARNESS_TASKS = {"lm_choice": ("hellaswag", "acc,none"), "lm_qa": ("coqa", "em,none")}
HELLASWAG_DEFINITION = "tasks/hellaswag/hellaswag.yaml"


def task_yaml(kind: str, docs: Path, name: str, cache: Path) -> str:
    """A task YAML scoring ``docs`` (its folder also gets ``coqa_harness.py``)."""
    import lm_eval

    data = (f"task: {name}\ntag: []\ndataset_path: json\ndataset_name: null\n"
            f"dataset_kwargs:\n  data_files:\n    validation: {docs}\n  cache_dir: {cache}\n"
            "training_split: null\nvalidation_split: validation\ntest_split: null\n")
    if kind == "lm_choice":
        official = Path(lm_eval.__file__).parent / HELLASWAG_DEFINITION
        return f"include: {official}\n" + data
    shutil.copy(Path(__file__).with_name("coqa_harness.py"), docs.parent / "coqa_harness.py")
    return data + (
        "output_type: generate_until\n"
        "doc_to_text: !function coqa_harness.doc_to_text\n"
        "doc_to_target: !function coqa_harness.doc_to_target\n"
        "process_results: !function coqa_harness.process_results\n"
        "generation_kwargs:\n  until:\n    - \"\\nQ:\"\n"
        "metric_list:\n  - metric: em\n    aggregation: mean\n    higher_is_better: true\n"
        "  - metric: f1\n    aggregation: mean\n    higher_is_better: true\n"
        "metadata:\n  version: 3.0\n")


def harness_score(model, tokenizer, docs: list[dict], kind: str, batch_size: int = 16,
                  max_length: int | None = None, max_new_tokens: int | None = None) -> float:
    """The harness's metric (percent) of a `transformers` causal LM on ``docs``
    (``max_new_tokens``: cap on generated tokens; None = the harness's default)."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from .data import quiet_datasets

    quiet_datasets()  # the harness loads the documents through `datasets`
    key = HARNESS_TASKS[kind][1]
    was_training = model.training
    with tempfile.TemporaryDirectory() as tmp, redirect_stderr(io.StringIO()):
        folder = Path(tmp)  # (stderr: the harness's and `datasets`' progress bars, per call)
        data = folder / "docs.jsonl"
        data.write_text("".join(json.dumps(d) + "\n" for d in docs))
        name = f"layerkd_{HARNESS_TASKS[kind][0]}"
        (folder / f"{name}.yaml").write_text(task_yaml(kind, data, name, folder / "cache"))
        lm = HFLM(pretrained=model.eval(), tokenizer=tokenizer, batch_size=batch_size,
                  max_length=max_length)
        rng = torch.get_rng_state()  # simple_evaluate seeds torch globally; put it back
        out = simple_evaluate(model=lm, tasks=[name], num_fewshot=0,
                              task_manager=TaskManager(include_path=str(folder),
                                                       include_defaults=False),
                              gen_kwargs="num_beams=1" + (f",max_gen_toks={max_new_tokens}"
                                                          if max_new_tokens else ""),
                              bootstrap_iters=0, log_samples=False,
                              verbosity="ERROR")
        torch.set_rng_state(rng)
    model.train(was_training)
    return 100.0 * float(out["results"][name][key])
