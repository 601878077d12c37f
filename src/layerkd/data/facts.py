"""facts: a generated world of people and their attributes, the decoder-only task.

The paper's third setting distils a pre-trained LLM (Qwen3) whose lead over its
students comes from what pre-training put in its weights, and scores it two
ways: multiple choice by the likelihood of each ending (HellaSwag, accuracy)
and generated answers (CommonsenseQA, exact match). This generator gives a
CPU-sized version of the same structure:

* a world: ``n_entities`` people with made-up names (three random syllables),
  each with one value of every attribute in ``ATTRIBUTES``, drawn uniformly;
* the pre-training pool: every fact of every person stated in each of the
  attribute's ``STATEMENTS`` (the "corpus" the teacher learns the world from);
* the fine-tuning (and transfer) set, validation and test: questions in one
  template, ``QUESTIONS`` (``question : where does <name> live ? answer :``
  followed by the value), about disjoint sets of people, one item per
  (person, attribute);
* multiple choice on the same people: the first statement's prefix (``<name>
  lives in``) and ``N_CHOICES`` endings, the true value and distractors of the
  same attribute.

Every person's facts are in the pool, as an LLM's pre-training corpus holds the
knowledge its test questions ask for; no pool sequence is a question or a
multiple-choice item (the formats differ). A student that keeps a quarter of
the teacher's blocks keeps only part of that knowledge: the teacher's lead.

Sequences (``layerkd.data.tokens`` conventions, one vocabulary):
``BOS words EOS PAD ...``; ``prompt_len_<split>`` counts BOS and the prompt, so
the answer is ``ids[prompt_len : first EOS]``.
"""

from __future__ import annotations

import numpy as np

from .tokens import BOS, PAD, SPECIALS, encode, vocab_array

ATTRIBUTES = {
    "city": ("paris", "lima", "oslo", "cairo", "delhi", "tokyo", "quito", "rome", "dakar",
             "hanoi", "seoul", "accra", "minsk", "sofia", "tunis", "perth"),
    "food": ("rice", "bread", "soup", "figs", "beans", "cheese", "plums", "fish", "nuts",
             "corn", "pasta", "honey"),
    "pet": ("cat", "dog", "parrot", "horse", "rabbit", "turtle", "goat", "hamster", "snake",
            "lizard"),
    "job": ("baker", "nurse", "pilot", "farmer", "judge", "tailor", "miner", "singer",
            "doctor", "painter", "teacher", "sailor"),
}
STATEMENTS = {  # the pool states every fact in each of these; the first is the choice prefix
    "city": ("{n} lives in {v}", "the home of {n} is {v}"),
    "food": ("{n} likes to eat {v}", "the favourite food of {n} is {v}"),
    "pet": ("{n} keeps a {v}", "the pet of {n} is a {v}"),
    "job": ("{n} works as a {v}", "the job of {n} is {v}"),
}
QUESTIONS = {
    "city": "question : where does {n} live ? answer :",
    "food": "question : what does {n} like to eat ? answer :",
    "pet": "question : what pet does {n} keep ? answer :",
    "job": "question : what is the job of {n} ? answer :",
}
SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")
N_CHOICES = 4


def make_names(n: int, rng: np.random.Generator) -> list[str]:
    """n distinct three-syllable names (none equal to a word of the templates)."""
    taken = {w for table in (STATEMENTS, QUESTIONS) for t in _flat(table.values())
             for w in t.split()} | {v for vs in ATTRIBUTES.values() for v in vs}
    names: list[str] = []
    while len(names) < n:
        name = "".join(rng.choice(SYLLABLES, 3))
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _flat(values) -> list[str]:
    return [t for v in values for t in ((v,) if isinstance(v, str) else v)]


def build_facts(n_train: int = 200, n_val: int = 100, n_test: int = 200, n_pool: int = 600,
                seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of the task (module docstring).

    People: ``n_pool`` in the world (every one's facts in the pool); the first
    ``n_train`` of a seeded permutation are asked about in the fine-tuning set,
    the next ``n_val`` in validation, the next ``n_test`` in test (and those
    sets' multiple-choice items).
    """
    if min(n_train, n_val, n_test) < 1 or n_train + n_val + n_test > n_pool:
        raise ValueError(f"facts: need 1 <= n_train, n_val, n_test and n_train + n_val + "
                         f"n_test <= n_pool, got {n_train}, {n_val}, {n_test}, {n_pool}")
    rng = np.random.default_rng(seed)
    names = make_names(n_pool, rng)
    values = {a: rng.integers(len(vs), size=n_pool) for a, vs in ATTRIBUTES.items()}
    words = set(_flat(STATEMENTS.values())) | set(QUESTIONS.values())
    vocab = SPECIALS + tuple(sorted({w for t in words for w in t.split()} - {"{n}", "{v}"}
                                    | set(names) | set(_flat(ATTRIBUTES.values()))))
    index = {w: i for i, w in enumerate(vocab)}

    def value(a: str, person: int) -> str:
        return ATTRIBUTES[a][values[a][person]]

    pool = [t.format(n=names[p], v=value(a, p)).split() for p in range(n_pool)
            for a, ts in STATEMENTS.items() for t in ts]
    order = rng.permutation(n_pool)
    people = {"train": order[:n_train], "val": order[n_train:n_train + n_val],
              "test": order[n_train + n_val:n_train + n_val + n_test]}
    out = {"x_pool": _encode(pool, index), "people": np.asarray(names),
           "vocab": vocab_array(vocab)}
    for split, who in people.items():
        prompts = [QUESTIONS[a].format(n=names[p]).split() for p in who for a in ATTRIBUTES]
        answers = [[value(a, p)] for p in who for a in ATTRIBUTES]
        out[f"x_{split}"] = _encode([q + v for q, v in zip(prompts, answers)], index)
        out[f"prompt_len_{split}"] = np.asarray([1 + len(q) for q in prompts])
        out[f"person_{split}"] = np.repeat(who, len(ATTRIBUTES))
        out.update({f"{k}_{split}": v for k, v in
                    _choices(who, names, values, index, rng).items()})
    return out


def _encode(seqs: list[list[str]], index: dict[str, int]) -> np.ndarray:
    """BOS words EOS PAD ..., as long as the longest sequence (``data.tokens.encode``)."""
    return encode(seqs, list(index), 2 + max(map(len, seqs)), bos=True, eos=True)


def _choices(who, names, values, index, rng) -> dict[str, np.ndarray]:
    """Multiple choice: context ids (BOS + the first statement's prefix), the
    endings' ids (one word each, then EOS is not scored) and the true ending."""
    contexts, endings, labels = [], [], []
    for p in who:
        for a, vs in ATTRIBUTES.items():
            prefix = STATEMENTS[a][0].split("{v}")[0].format(n=names[p]).split()
            wrong = rng.choice([i for i in range(len(vs)) if i != values[a][p]],
                               N_CHOICES - 1, replace=False)
            options = np.insert(wrong, label := int(rng.integers(N_CHOICES)), values[a][p])
            contexts.append([BOS, *(index[w] for w in prefix)])
            endings.append([index[vs[i]] for i in options])
            labels.append(label)
    width = max(map(len, contexts))
    ctx = np.full((len(contexts), width), PAD, dtype=np.int64)
    for i, c in enumerate(contexts):
        ctx[i, : len(c)] = c
    return {"mc_context": ctx, "mc_endings": np.asarray(endings, dtype=np.int64),
            "mc_label": np.asarray(labels, dtype=np.int64)}
