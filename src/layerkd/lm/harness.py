"""Scoring through lm-evaluation-harness, the authors' scorer
(llm/scripts/run_lm_eval.sh), fully offline.

Two local task definitions, written at run time beside a JSON-lines file of
the split's items (``dataset_path: json``: nothing comes from the Hub):

* ``facts_mc``: ``output_type: multiple_choice``, metric ``acc``, as HellaSwag:
  the context is the statement prefix (``<name> lives in``), the choices the
  four endings; the harness asks for the log-likelihood of ``" " + ending``;
* ``facts_qa``: ``output_type: generate_until``, metric ``exact_match``, as the
  paper's CommonsenseQA generation: the question, the greedy answer.

``WordLM`` is the harness's model interface over a Qwen3 of this repository: the
words of a request are its token ids (the facts vocabulary, split on spaces),
each context starts with BOS, generation stops at EOS. ``score.py`` computes the
same two numbers directly; tests check that both agree run by run.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from contextlib import redirect_stderr
from pathlib import Path

import torch
import torch.nn.functional as F

from ..data.tokens import BOS, EOS, PAD
from .score import generate_answers

# no network: the harness and `datasets` read only the files written here
for _flag in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_flag, "1")

TASKS = {"mc": "facts_mc", "em": "facts_qa"}
METRICS = {"mc": "acc,none", "em": "exact_match,strip"}


def _task_yaml(name: str, data: Path, cache: Path, max_new: int) -> str:
    common = (f"task: {name}\ndataset_path: json\ndataset_name: null\n"
              f"dataset_kwargs:\n  data_files:\n    test: {data}\n  cache_dir: {cache}\n"
              "test_split: test\n")
    if name == TASKS["mc"]:
        return common + ("output_type: multiple_choice\ndoc_to_text: \"{{context}}\"\n"
                         "doc_to_choice: choices\ndoc_to_target: label\n"
                         "metric_list:\n  - metric: acc\n    aggregation: mean\n"
                         "    higher_is_better: true\nmetadata:\n  version: 1.0\n")
    return common + ("output_type: generate_until\ndoc_to_text: \"{{question}}\"\n"
                     "doc_to_target: \"{{answer}}\"\ngeneration_kwargs:\n"
                     f"  until: [\"<eos>\"]\n  max_gen_toks: {max_new}\n  do_sample: false\n"
                     "filter_list:\n  - name: strip\n    filter:\n"
                     "      - function: remove_whitespace\n      - function: take_first\n"
                     "metric_list:\n  - metric: exact_match\n    aggregation: mean\n"
                     "    higher_is_better: true\nmetadata:\n  version: 1.0\n")


def split_items(facts, split: str) -> dict[str, list[dict]]:
    """The split's multiple-choice and question items as text (JSON lines)."""
    words = lambda ids: [facts.vocab[i] for i in ids if i not in (PAD, BOS, EOS)]  # noqa: E731
    mc = [{"context": " ".join(words(c.tolist())), "choices": words(e.tolist()), "label": int(y)}
          for c, e, y in zip(facts[f"mc_context_{split}"], facts[f"mc_endings_{split}"],
                             facts[f"mc_label_{split}"])]
    qa = []
    for ids, n in zip(facts[f"x_{split}"].tolist(), facts[f"prompt_len_{split}"].tolist()):
        qa.append({"question": " ".join(words(ids[:n])), "answer": " ".join(words(ids[n:]))})
    return {"mc": mc, "em": qa}


def word_lm(model, vocab: list[str]):
    """An lm-eval ``LM`` over ``model`` (imported here: the harness is heavy)."""
    from lm_eval.api.model import LM

    index = {w: i for i, w in enumerate(vocab)}

    class WordLM(LM):
        def ids(self, text: str) -> list[int]:
            return [index[w] for w in text.split()]

        @torch.no_grad()
        def loglikelihood(self, requests, disable_tqdm: bool = False):
            model.eval()
            out = []
            pairs = [([BOS, *self.ids(c)], self.ids(x)) for c, x in (r.args for r in requests)]
            for start in range(0, len(pairs), 256):
                chunk = pairs[start:start + 256]
                width = max(len(c) + len(x) for c, x in chunk)
                seq = torch.full((len(chunk), width), PAD, dtype=torch.long)
                for i, (c, x) in enumerate(chunk):
                    seq[i, : len(c) + len(x)] = torch.tensor(c + x)
                logp = F.log_softmax(model(input_ids=seq, attention_mask=(seq != PAD).long())
                                     .logits.float(), -1)
                for i, (c, x) in enumerate(chunk):
                    at = torch.arange(len(c) - 1, len(c) + len(x) - 1)
                    token = logp[i, at].gather(1, torch.tensor(x)[:, None])[:, 0]
                    greedy = bool((logp[i, at].argmax(-1) == torch.tensor(x)).all())
                    out.append((float(token.sum()), greedy))
            return out

        def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
            raise NotImplementedError("the facts tasks score endings and answers only")

        def generate_until(self, requests, disable_tqdm: bool = False):
            prompts = [[BOS, *self.ids(r.args[0])] for r in requests]
            width = max(map(len, prompts))
            ids = torch.full((len(prompts), width), PAD, dtype=torch.long)
            for i, p in enumerate(prompts):
                ids[i, : len(p)] = torch.tensor(p)
            lengths = torch.tensor([len(p) for p in prompts])
            max_new = max(int(r.args[1]["max_gen_toks"]) for r in requests)
            answers = generate_answers(model, ids, lengths, max_new)
            return [" ".join(vocab[i] for i in a) for a in answers]

    return WordLM()


def harness_scores(model, facts, split: str = "test") -> dict[str, float]:
    """{"mc": acc, "em": exact_match} in percent, as lm-eval computes them."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    items = split_items(facts, split)
    # as score.exact_match: the longest reference answer and EOS
    max_new = 1 + max(len(item["answer"].split()) for item in items["em"])
    with tempfile.TemporaryDirectory() as tmp, redirect_stderr(io.StringIO()):
        folder = Path(tmp)  # (stderr: the harness's and `datasets`' progress bars, per call)
        for key, rows in items.items():
            data = folder / f"{TASKS[key]}.jsonl"
            data.write_text("".join(json.dumps(row) + "\n" for row in rows))
            (folder / f"{TASKS[key]}.yaml").write_text(_task_yaml(TASKS[key], data,
                                                                  folder / "cache", max_new))
        rng = torch.get_rng_state()  # simple_evaluate seeds torch globally; put it back
        results = simple_evaluate(model=word_lm(model, facts.vocab), tasks=list(TASKS.values()),
                                  task_manager=TaskManager(include_path=str(folder),
                                                           include_defaults=False),
                                  bootstrap_iters=0, verbosity="ERROR")["results"]
        torch.set_rng_state(rng)
    return {key: 100.0 * float(results[TASKS[key]][METRICS[key]]) for key in TASKS}
