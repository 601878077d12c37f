"""lm-evaluation-harness's ``coqa`` task definition, for a harness whose own copy
cannot load: its ``utils.py`` imports ``transformers.data.metrics.squad_metrics``,
which `transformers` 5 no longer has. Same prompt (the story, every earlier turn
with its answer, the last question and ``A:``), same targets (the turn's answer
and its distinct alternatives), same scores (SQuAD exact match and token F1 after
SQuAD's normalisation, each gold left out in turn when there are several, the
prediction cut at its first line). ``tests/test_hub.py`` checks the functions
on worked cases. Loaded by the harness from a copy of this file
(``lm_score.task_yaml``), so it imports nothing of this package.
"""

import re
import string
from collections import Counter
from itertools import zip_longest


def doc_to_text(doc):
    text = doc["story"] + "\n\n"
    questions, answers = doc["questions"]["input_text"], doc["answers"]["input_text"][:-1]
    for q, a in zip_longest(questions, answers):
        text += f"Q: {q}\n\n" + (f"A: {a}\n\n" if a is not None else "A:")
    return text


def doc_to_target(doc):
    turn = len(doc["questions"]["input_text"])
    answers = [doc["answers"]["input_text"][turn - 1]]
    for alternative in (doc.get("additional_answers") or {}).values():
        answer = alternative["input_text"][turn - 1]
        if answer.lower() not in map(str.lower, answers):
            answers.append(answer)
    return answers


def normalise(text):
    """SQuAD's answer normalisation: lower case, no punctuation, no articles,
    single spaces."""
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def exact(gold, pred):
    return int(normalise(gold) == normalise(pred))


def f1(gold, pred):
    g, p = normalise(gold).split(), normalise(pred).split()
    if not g or not p:
        return int(g == p)
    common = sum((Counter(g) & Counter(p)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def scores(golds, pred):
    """Exact match and F1 against the golds: with several, the mean over leaving
    each out of the best-of-the-others."""
    groups = [golds[:i] + golds[i + 1:] for i in range(len(golds))] if len(golds) > 1 else [golds]
    em = sum(max(exact(g, pred) for g in group) for group in groups) / len(groups)
    f = sum(max(f1(g, pred) for g in group) for group in groups) / len(groups)
    return {"em": em, "f1": f}


def process_results(doc, results):
    return scores(doc_to_target(doc), results[0].strip().split("\n")[0])
