"""``model.backend: transformers``: teachers and students as Hugging Face BERT
(classification), BART (post-norm generation) and T5 (pre-norm generation) behind the native interfaces. Their
hidden states and logits equal the native post-norm models' once the weights
are copied (so strategies, losses, weight copy, cache and angles see the same
layers), BART's greedy decoding equals the native one, weight copy follows the
forward map, each family distils through its engine; pre-norm generation
(numbers_ro) runs T5, whose differences from the native pre-norm model are
shown; the schema refuses a pre-norm classification task (BERT is post-norm)."""


import pytest
import torch
import yaml

transformers = pytest.importorskip("transformers")

from layerkd.config import ConfigError, parse_params  # noqa: E402
from layerkd.families import FAMILIES  # noqa: E402
from layerkd.models import Encoder  # noqa: E402
from layerkd.models.bert import BertClassifier, weight_copy_bert_  # noqa: E402
from layerkd.strategies import forward_targets  # noqa: E402
from test_paper_architectures import copy_bart_stacks, copy_bert_stack  # noqa: E402

from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEADS, DEPTH, VOCAB = 32, 4, 4, 20


def bert_classifier(depth=DEPTH, seed=0, vocab_size=VOCAB):
    torch.manual_seed(seed)
    return BertClassifier(None, 3, 10, depth, WIDTH, HEADS, 2, vocab_size=vocab_size).eval()


def batch():
    g = torch.Generator().manual_seed(1)
    x = torch.randint(1, VOCAB, (5, 10), generator=g)
    mask = torch.ones(5, 10, dtype=torch.bool)
    mask[0, 6:], mask[3, 2:] = False, False
    return x, mask


@torch.no_grad()
def test_hidden_states_and_logits_equal_the_native_encoder():
    model = bert_classifier()
    native = Encoder(None, 3, 10, DEPTH, WIDTH, HEADS, 2, vocab_size=VOCAB, norm="post").eval()
    copy_bert_stack(model.bert, native)  # blocks, positions, embedding LayerNorm
    native.embed.load_state_dict(model.embed.state_dict())  # the inputs' own embedding
    native.cls.copy_(model.cls)
    native.head.load_state_dict(model.head.state_dict())
    x, mask = batch()
    logits, hs = model(x, mask)
    ref_logits, ref = native(x, mask)
    valid = torch.cat([torch.ones(5, 1, dtype=torch.bool), mask], 1)
    assert len(hs) == len(ref) == DEPTH + 1
    for layer, (a, b) in enumerate(zip(hs, ref)):
        torch.testing.assert_close(a[valid], b[valid], rtol=1e-5, atol=1e-5,
                                   msg=f"hidden state {layer}")
    torch.testing.assert_close(logits, ref_logits, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_float_features_go_through_a_linear_embedding():
    torch.manual_seed(0)
    model = BertClassifier(7, 10, 16, 2, WIDTH, HEADS, 2).eval()
    logits, hs = model(torch.randn(3, 16, 7))
    assert logits.shape == (3, 10) and len(hs) == 3 and hs[0].shape == (3, 17, WIDTH)


@torch.no_grad()
def test_weight_copy_takes_the_forward_blocks():
    teacher, student = bert_classifier(DEPTH, 0), bert_classifier(2, 1)
    weight_copy_bert_(student, teacher)
    targets = forward_targets(2, DEPTH)
    for i, t in enumerate(targets):
        for (name, a), b in zip(student.bert.encoder.layer[i].state_dict().items(),
                                teacher.bert.encoder.layer[t - 1].state_dict().values()):
            assert torch.equal(a, b), name
    x, mask = batch()
    assert torch.equal(student(x, mask)[1][0], teacher(x, mask)[1][0])  # same embedding output
    assert not torch.equal(student.head.weight, teacher.head.weight)  # the head stays fresh


def smoke(tasks=None, **model):
    """The smoke profile with model changes; ``tasks``: only those (no ablations)."""
    raw = yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())
    raw["model"].update(model)
    if tasks is not None:
        raw["tasks"] = tasks
        raw["overrides"] = {t: raw["overrides"][t] for t in tasks}
        raw["ablations"]["tasks"] = []
        for kind in ("objective", "a_hid", "transfer"):
            raw["ablations"][kind]["tasks"] = []
    return raw


def test_backend_is_validated_with_the_allowed_values():
    with pytest.raises(ConfigError, match=r"model.backend: 'jax' is not allowed; allowed "
                                          r"values: \['native', 'transformers'\]"):
        parse_params(smoke(backend="jax"))
    # every task: BERT, BART (scan) and T5 (numbers_ro, pre-norm by its override)
    params = parse_params(smoke(backend="transformers"))
    assert params.for_task("numbers_ro").model.norm == "pre"
    assert params.for_task("scan").model.backend == "transformers"
    with pytest.raises(ConfigError, match=r"model.backend=transformers is not allowed for "
                                          r"task 'digits' with model.norm=pre: BERT is "
                                          r"post-norm"):
        parse_params(smoke(["digits", "scan"], backend="transformers", norm="pre"))
    raw = smoke(["digits"], backend="transformers")
    raw["overrides"]["digits"]["model"] = {"norm": "pre"}
    with pytest.raises(ConfigError, match=r"overrides.digits.model"):
        parse_params(raw)


def family_run(task_name: str, raw: dict, root):
    """(params, task, family, teacher, teacher cache) of one task built under ``raw``."""
    from layerkd.data.generate import build_data
    from layerkd.tasks import load_task

    params = parse_params(raw).for_task(task_name)
    build_data(task_name, params, root)
    task = load_task(task_name, params, root)
    family = task.family
    teacher = family.build(task, params.model.teacher_depth, params.model.width, params)
    return params, task, family, teacher, family.cache(teacher.eval(), task.splits["train"])


def test_distillation_runs_through_the_family(tmp_path):
    """A teacher and two students of each init on tiny digits with the BERT backend."""
    from layerkd.distill.run import distill_one

    raw = smoke(["digits"], backend="transformers", teacher_depth=2)
    raw["distill"]["student_depth"] = 1
    params, task, family, teacher, cache = family_run("digits", raw, tmp_path)
    assert family is FAMILIES["classifier_transformers"] and family.together == "threads"
    assert isinstance(teacher, BertClassifier)
    for init in ("random", "weight_copy"):
        for strategy in ("none", "forward"):
            m = distill_one(task, params, teacher, cache, init, strategy, 0, progress=False)
            assert 0 <= m["test_acc"] <= 100
            assert (m["hid_share_last"] > 0) == (strategy == "forward")
    states = family.hidden_states(teacher, task.splits["val"])
    assert states["encoder"][0].shape[0] == 3  # embedding output + two blocks


def bart(enc=2, dec=3, seed=0):
    from layerkd.models.bart import BartSeq2Seq

    torch.manual_seed(seed)
    return BartSeq2Seq(SRC, TGT, 8, 7, enc, dec, WIDTH, HEADS, 2).eval()


SRC, TGT = 11, 9  # two vocabularies, as the generation tasks have


@torch.no_grad()
def test_bart_equals_the_native_encoder_decoder_and_decodes_the_same():
    from layerkd.models import EncoderDecoder

    model = bart()
    native = EncoderDecoder(SRC, TGT, max_src_len=8, max_tgt_len=7, enc_depth=2, dec_depth=3,
                            width=WIDTH, heads=HEADS, mlp_ratio=2, norm="post").eval()
    copy_bart_stacks(model.bart, native)
    table = model.bart.model.shared.weight
    native.src_embed.weight.copy_(table[:SRC])
    native.tgt_embed.weight.copy_(table[SRC:])  # the tied head: the target rows
    g = torch.Generator().manual_seed(2)
    src, tgt = torch.randint(3, SRC, (4, 8), generator=g), torch.randint(3, TGT, (4, 7), generator=g)
    src[1, 5:], tgt[2, 4:] = 0, 0
    src_mask, tgt_mask = src != 0, tgt != 0
    logits, enc, dec = model(src, src_mask, tgt, tgt_mask)
    ref_logits, ref_enc, ref_dec = native(src, src_mask, tgt, tgt_mask)
    for ours, theirs, valid in ((enc, ref_enc, src_mask), (dec, ref_dec, tgt_mask)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a[valid], b[valid], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(logits[tgt_mask], ref_logits[tgt_mask], rtol=1e-5, atol=1e-5)
    assert torch.equal(model.generate(src, src_mask, max_len=6),
                       native.generate(src, src_mask, max_len=6))


@torch.no_grad()
def test_bart_weight_copy_takes_the_forward_blocks():
    from layerkd.models.bart import weight_copy_bart_

    teacher, student = bart(4, 4, 0), bart(2, 2, 1)
    weight_copy_bart_(student, teacher)
    for stack in ("encoder", "decoder"):
        s_layers = getattr(student.bart.model, stack).layers
        t_layers = getattr(teacher.bart.model, stack).layers
        for i, t in enumerate(forward_targets(2, 4)):
            for a, b in zip(s_layers[i].state_dict().values(), t_layers[t - 1].state_dict().values()):
                assert torch.equal(a, b)
    assert torch.equal(student.bart.model.shared.weight, teacher.bart.model.shared.weight)


def test_generation_distils_through_the_bart_family(tmp_path):
    """Teacher and students of both inits on tiny scan with the BART backend."""
    from layerkd.distill.run import distill_one
    from layerkd.models.bart import BartSeq2Seq

    raw = smoke(["scan"], backend="transformers")
    raw["distill"]["epochs"] = 1
    params, task, family, teacher, cache = family_run("scan", raw, tmp_path)
    assert family is FAMILIES["seq2seq_transformers"] and family.together == "threads"
    assert isinstance(teacher, BartSeq2Seq)
    for init in ("random", "weight_copy"):
        m = distill_one(task, params, teacher, cache, init, "forward", 0, progress=False)
        assert 0 <= m["test_bleu"] <= 100 and m["hid_share_last"] > 0
    states = family.hidden_states(teacher, task.splits["val"])
    assert set(states) == {"encoder", "decoder"}


def test_native_models_hash_as_before_the_backend_existed():
    """Checkpoints and finished runs of native models stay valid: their hashes
    leave ``backend`` out; a transformers model's include it."""
    native = parse_params(smoke()).model
    assert "backend" not in native.identity()
    assert native.identity() == native.model_dump(exclude={"backend"})
    bert = parse_params(smoke(["digits"], backend="transformers")).model
    assert bert.identity()["backend"] == "transformers"


def t5(enc=2, dec=3, seed=0):
    from layerkd.models.t5 import T5Seq2Seq

    torch.manual_seed(seed)
    return T5Seq2Seq(SRC, TGT, 8, 7, enc, dec, WIDTH, HEADS, 2).eval()


@torch.no_grad()
def test_t5_hidden_states_and_where_it_differs_from_the_native_pre_norm_model():
    """T5 returns L + 1 states per stack, as the native model; where it differs on
    purpose (models/t5.py): no bias anywhere and RMSNorm (a weight only), no
    absolute positions (a relative table in block 0 only), and its last state
    is after the final norm (unit RMS at initialisation), the others raw."""
    model = t5(2, 3)
    g = torch.Generator().manual_seed(2)
    src, tgt = torch.randint(3, SRC, (4, 8), generator=g), torch.randint(3, TGT, (4, 7), generator=g)
    src[1, 5:], tgt[2, 4:] = 0, 0
    logits, enc, dec = model(src, src != 0, tgt, tgt != 0)
    assert logits.shape == (4, 7, TGT) and len(enc) == 3 and len(dec) == 4
    names = [n for n, _ in model.named_parameters()]
    assert not [n for n in names if n.endswith(".bias")]
    assert not [n for n in names if "position" in n]
    assert [n for n in names if "relative_attention_bias" in n] == [
        "t5.encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
        "t5.decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
    rms = lambda h: h.pow(2).mean(-1).sqrt()  # noqa: E731
    torch.testing.assert_close(rms(enc[-1][src != 0]), torch.ones(int((src != 0).sum())),
                               rtol=1e-3, atol=1e-3)
    assert not torch.allclose(rms(enc[-2][src != 0]), torch.ones(int((src != 0).sum())),
                              atol=1e-2)
    out = t5(2, 2).generate(src, src != 0, max_len=6)  # the tasks' stacks are equally deep
    assert out.shape[0] == 4 and out.shape[1] <= 6 and int(out.max()) < TGT


@torch.no_grad()
def test_t5_weight_copy_takes_the_forward_blocks_and_the_position_table():
    from layerkd.models.t5 import weight_copy_t5_

    teacher, student = t5(4, 4, 0), t5(2, 2, 1)
    weight_copy_t5_(student, teacher)
    for stack in ("encoder", "decoder"):
        s_blocks, t_blocks = getattr(student.t5, stack).block, getattr(teacher.t5, stack).block
        for i, t in enumerate(forward_targets(2, 4)):
            theirs = t_blocks[t - 1].state_dict()
            for key, value in s_blocks[i].state_dict().items():
                source = t_blocks[0].state_dict() if "relative" in key else theirs
                assert torch.equal(value, source[key]), (stack, i, key)
    assert torch.equal(student.t5.shared.weight, teacher.t5.shared.weight)


def test_pre_norm_generation_distils_through_the_t5_family(tmp_path):
    """Teacher and students of both inits on tiny numbers_ro (pre-norm) with the
    transformers backend: T5."""
    from layerkd.distill.run import distill_one
    from layerkd.models.t5 import T5Seq2Seq

    raw = smoke(["numbers_ro"], backend="transformers")
    raw["distill"]["epochs"] = 1
    params, task, family, teacher, cache = family_run("numbers_ro", raw, tmp_path)
    assert family is FAMILIES["seq2seq_transformers"] and isinstance(teacher, T5Seq2Seq)
    for init in ("random", "weight_copy"):
        m = distill_one(task, params, teacher, cache, init, "forward", 0, progress=False)
        assert 0 <= m["test_bleu"] <= 100 and m["hid_share_last"] > 0
        assert m["objective"]["distance"] == "ln_mse"  # the T5 objective of the task's override
