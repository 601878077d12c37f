"""The decoder-only task's parts (layerkd.lm): the generated facts world, the
Qwen3 models and the official layer-reduced weight copy, and the two scorers
(multiple-choice log-likelihood against a brute-force loop, exact match)."""

import hashlib

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

from layerkd.data.tokens import EOS, PAD  # noqa: E402
from layerkd.data.facts import ATTRIBUTES, QUESTIONS, STATEMENTS, build_facts  # noqa: E402
from layerkd.lm.qwen import (  # noqa: E402
    OFFICIAL_COPY_MAP,
    build_qwen3,
    copy_map,
    hidden_states,
    layer_reduced_student,
    qwen3_config,
)
from layerkd.lm.score import (  # noqa: E402
    choice_loglik,
    exact_match,
    generate_answers,
    reference_answers,
)

SMALL = dict(n_train=10, n_val=5, n_test=10, n_pool=40, seed=3)


def rows(a: np.ndarray) -> set[str]:
    return {hashlib.sha256(np.trim_zeros(r, "b").tobytes()).hexdigest() for r in a}


def words(arrays, ids) -> list[str]:
    return [str(arrays["vocab"][i]) for i in ids if i != PAD]


def test_facts_are_deterministic_and_the_splits_ask_about_different_people():
    a, b = build_facts(**SMALL), build_facts(**SMALL)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    people = [set(a[f"person_{s}"].tolist()) for s in ("train", "val", "test")]
    assert not (people[0] & people[1] or people[0] & people[2] or people[1] & people[2])
    assert len(people[0]) == 10 and len(a["x_train"]) == 10 * len(ATTRIBUTES)
    assert not build_facts(**{**SMALL, "seed": 4})["x_pool"].tolist() == a["x_pool"].tolist()


def test_no_pool_sequence_is_a_question_and_the_pool_states_every_fact():
    a = build_facts(**SMALL)
    pool = rows(a["x_pool"])
    assert not pool & rows(a["x_test"]) and not pool & rows(a["x_val"])
    sentences = {" ".join(words(a, r)) for r in a["x_pool"]}
    assert len(a["x_pool"]) == SMALL["n_pool"] * sum(len(t) for t in STATEMENTS.values())
    for seq, plen in zip(a["x_test"], a["prompt_len_test"]):
        w = words(a, seq)  # <bos> question ... <name> ... answer : <value> <eos>
        name, value = next(x for x in w if x in set(a["people"].tolist())), w[plen]
        assert any(name in s.split() and s.split()[-2] == value for s in sentences)


def test_multiple_choice_items_hold_the_true_value_once():
    a = build_facts(**SMALL)
    answers = [words(a, r)[p] for r, p in zip(a["x_test"], a["prompt_len_test"])]
    for ends, label, true in zip(a["mc_endings_test"], a["mc_label_test"], answers):
        options = [str(a["vocab"][i]) for i in ends]
        assert options[label] == true and options.count(true) == 1 and len(set(options)) == 4


def test_question_templates_end_before_the_answer():
    a = build_facts(**SMALL)
    for seq, plen in zip(a["x_train"], a["prompt_len_train"]):
        w = [str(a["vocab"][i]) for i in seq]
        assert w[plen - 1] == ":" and w[plen + 1] == "<eos>"
    assert set(QUESTIONS) == set(STATEMENTS) == set(ATTRIBUTES)


def test_facts_reject_sizes_that_do_not_fit():
    with pytest.raises(ValueError, match="n_train \\+ n_val \\+ n_test <= n_pool"):
        build_facts(n_train=30, n_val=10, n_test=10, n_pool=40)


def test_copy_map_is_official_where_the_official_code_has_one():
    for depth, blocks in OFFICIAL_COPY_MAP.items():
        assert copy_map(depth, len(blocks)) == blocks
    assert copy_map(8, 2) == (0, 7) and copy_map(12, 4) == (0, 4, 7, 11)
    assert copy_map(12, 1) == (11,)
    with pytest.raises(ValueError, match="student_depth must be in 1..8"):
        copy_map(8, 9)


@pytest.fixture(scope="module")
def teacher():
    return build_qwen3(qwen3_config(40, 8, 32, 4, 2, 2, 24), seed=0).eval()


def test_weight_copy_takes_the_mapped_blocks_embedding_norm_and_head(teacher):
    student = layer_reduced_student(teacher, 2, "weight_copy", seed=1)
    t, s = teacher.state_dict(), student.state_dict()
    for i, j in enumerate(copy_map(8, 2)):
        for k in (k for k in s if k.startswith(f"model.layers.{i}.")):
            assert torch.equal(s[k], t[k.replace(f"layers.{i}.", f"layers.{j}.", 1)])
    for k in ("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"):
        assert torch.equal(s[k], t[k])
    random = layer_reduced_student(teacher, 2, "random", seed=1)
    assert not torch.equal(random.state_dict()["lm_head.weight"], t["lm_head.weight"])
    assert random.config.num_hidden_layers == 2 and teacher.config.num_hidden_layers == 8
    with pytest.raises(ValueError, match="init must be"):
        layer_reduced_student(teacher, 2, "copy")


def test_hidden_states_are_the_embedding_then_every_block(teacher):
    ids = torch.randint(3, 40, (2, 6))
    logits, hs = hidden_states(teacher, ids, torch.ones_like(ids, dtype=torch.bool))
    assert len(hs) == 9 and logits.shape == (2, 6, 40)
    assert torch.allclose(hs[0], teacher.model.embed_tokens(ids))
    assert torch.allclose(teacher.lm_head(hs[-1]), logits, atol=1e-5)  # the last: final-normed


def test_choice_loglik_equals_scoring_each_sequence_alone(teacher):
    g = torch.Generator().manual_seed(0)
    context = torch.randint(3, 40, (3, 4), generator=g)
    context[0, 3] = PAD  # a shorter context
    endings = torch.randint(3, 40, (3, 2, 2), generator=g)
    endings[1, 0, 1] = PAD  # a one-token ending
    got = choice_loglik(teacher, context, endings)
    for i in range(3):
        ctx = context[i][context[i] != PAD]
        for c in range(2):
            end = endings[i, c][endings[i, c] != PAD]
            seq = torch.cat([ctx, end])[None]
            logp = torch.log_softmax(teacher(input_ids=seq).logits[0], -1)
            want = sum(logp[len(ctx) - 1 + k, t] for k, t in enumerate(end.tolist()))
            assert abs(got[i, c].item() - want.item()) < 1e-4


class Parrot:
    """A stand-in model that answers every prompt with fixed ids."""

    def __init__(self, answer):
        self.answer = answer

    def eval(self):
        return self

    def generate(self, input_ids, max_new_tokens, **kw):
        tail = torch.tensor(self.answer)[:max_new_tokens].expand(len(input_ids), -1)
        return torch.cat([input_ids, tail], 1)


def test_exact_match_compares_the_answer_up_to_eos():
    ids = torch.tensor([[1, 5, 6, 9, EOS, PAD], [1, 5, 6, 7, 9, EOS]])
    plen = torch.tensor([3, 3])
    assert reference_answers(ids, plen) == [[9], [7, 9]]
    assert generate_answers(Parrot([9, EOS, 4]), ids, plen, 3) == [[9], [9]]
    assert exact_match(Parrot([9, EOS, 4]), ids, plen) == 50.0
    assert exact_match(Parrot([7, 9, EOS]), ids, plen) == 50.0


# --- training: LM loss, teacher cache, distiller (layerkd.lm.distill)

from layerkd.distill.objective import Objective  # noqa: E402
from layerkd.lm.distill import LMDistiller, LMTeacherCache, distill_loss_fn, lm_loss_fn  # noqa: E402
from layerkd.strategies import match_layers  # noqa: E402

UNIT = Objective(a_ce=1.0, a_kl=1.0, a_hid=3.0, distance="unit_sq", pair_reduce="mean",
                 match_embeddings=False)


def test_language_model_loss_learns_a_small_corpus():
    a = build_facts(**SMALL)
    ids = torch.as_tensor(a["x_pool"][:64])
    model = build_qwen3(qwen3_config(len(a["vocab"]), 2, 32, 4, 2, 2, ids.shape[1]), seed=0)
    loss_fn = lm_loss_fn(model, ids)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = loss_fn(torch.arange(64))[0].item()
    for _ in range(30):
        loss, _ = loss_fn(torch.arange(64))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first


def test_distiller_terms_equal_a_brute_force_loop(teacher):
    ids = torch.randint(3, 40, (3, 7), generator=torch.Generator().manual_seed(1))
    ids[0, 5:] = PAD
    student = layer_reduced_student(teacher, 2, "weight_copy", seed=0)
    pairs = match_layers("forward", 2, 8, embeddings=False)
    assert pairs == [(1, 4), (2, 8)]  # llm/sft_trainer.py: select_forward_matching
    cache = LMTeacherCache.compute(teacher, ids)
    distiller = LMDistiller(student, pairs, UNIT)
    _, losses = distiller(ids, *cache.batch(torch.arange(3), [4, 8]))
    mask = ids != PAD
    with torch.no_grad():
        s = student(input_ids=ids, attention_mask=mask.long(), output_hidden_states=True)
        t = teacher(input_ids=ids, attention_mask=mask.long(), output_hidden_states=True)
    want = []
    for si, ti in pairs:
        per_token = []
        for b in range(3):
            for p in range(7):
                if mask[b, p]:
                    u = s.hidden_states[si][b, p] / s.hidden_states[si][b, p].norm()
                    v = t.hidden_states[ti][b, p] / t.hidden_states[ti][b, p].norm()
                    per_token.append(((u - v) ** 2).sum())
        want.append(torch.stack(per_token).mean())
    assert torch.allclose(losses["hid"], torch.stack(want).mean(), atol=1e-5)
    total = losses["ce"] + losses["kl"] + 3.0 * losses["hid"]
    assert torch.allclose(losses["total"], total)


def test_a_student_equal_to_its_teacher_has_no_kl_and_no_hidden_term(teacher):
    ids = torch.randint(3, 40, (2, 6), generator=torch.Generator().manual_seed(2))
    cache = LMTeacherCache.compute(teacher, ids)
    distiller = LMDistiller(teacher, match_layers("forward", 8, 8, embeddings=False), UNIT)
    _, losses = distiller(ids, *cache.batch(torch.arange(2), list(range(1, 9))))
    assert losses["kl"].abs().item() < 1e-5 and losses["hid"].item() < 1e-6
    none = LMDistiller(teacher, [], UNIT)
    value, logs = distill_loss_fn(none, ids, cache)(torch.arange(2))
    assert logs["hid"] == 0.0 and value.item() == pytest.approx(logs["ce"] + logs["kl"])
