"""Token-input Encoder, the encoder-decoder, its distillation, weight copy and metrics."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from conftest import assert_layernorm_outputs

from layerkd.data import Split
from layerkd.distill.cache import Seq2SeqTeacherCache
from layerkd.distill.distiller import Distiller, Seq2SeqDistiller, seq2seq_pairs
from layerkd.distill.initialisation import weight_copy_, weight_copy_seq2seq_
from layerkd.distill.objective import Objective, shift_target
from layerkd.families import FAMILIES
from layerkd.models import PAD_ID, Encoder
from layerkd.models.encoder_decoder import BOS_ID, EOS_ID, EncoderDecoder, causal_mask
from layerkd.strategies import forward_targets, match_layers
from layerkd.train.evaluate import (
    corpus_bleu,
    evaluate_seq2seq,
    exact_match,
    ids_to_text,
)

SRC_V, TGT_V = 9, 7


def tiny_seq2seq(enc_depth=2, dec_depth=2, width=16, shared=False, tie_head=True,
                 max_src=8, max_tgt=8, vocab=(SRC_V, TGT_V), norm="pre") -> EncoderDecoder:
    src_v, tgt_v = vocab
    return EncoderDecoder(src_v, None if shared else tgt_v, max_src, max_tgt, enc_depth,
                          dec_depth, width=width, heads=2, tie_head=tie_head, norm=norm)


def random_batch(b=3, s=6, t=5, src_lens=(6, 4, 2), tgt_lens=(5, 3, 2)):
    """src: words + EOS then PAD; tgt: BOS + words + EOS then PAD (length t + 1)."""
    src = torch.full((b, s), PAD_ID)
    tgt = torch.full((b, t + 1), PAD_ID)
    for i in range(b):
        n = src_lens[i]
        src[i, : n - 1] = torch.randint(3, SRC_V, (n - 1,))
        src[i, n - 1] = EOS_ID
        m = tgt_lens[i]
        tgt[i, 0] = BOS_ID
        tgt[i, 1:m] = torch.randint(3, TGT_V, (m - 1,))
        tgt[i, m] = EOS_ID
    return src, tgt


# --------------------------------------------------------------------------- token Encoder


def token_encoder(depth=2, width=16, vocab=11, max_len=6):
    return Encoder(None, n_classes=3, max_len=max_len, depth=depth, width=width, heads=2,
                   vocab_size=vocab)


def test_token_encoder_shapes_and_embedding():
    model = token_encoder(depth=3)
    assert isinstance(model.embed, torch.nn.Embedding) and model.embed.padding_idx == PAD_ID
    assert torch.equal(model.embed.weight[PAD_ID], torch.zeros(16))
    x = torch.randint(1, 11, (2, 6))
    logits, hiddens = model(x, x != PAD_ID)
    assert logits.shape == (2, 3)
    assert len(hiddens) == 4 and all(h.shape == (2, 7, 16) for h in hiddens)


def test_token_encoder_padding_does_not_change_valid_outputs():
    model = token_encoder().eval()
    x = torch.tensor([[4, 5, 6, 0, 0, 0]])
    logits, hiddens = model(x, x != PAD_ID)
    x2 = x.clone()
    x2[:, 3:] = torch.tensor([7, 8, 9])  # other ids in the padded positions
    logits2, hiddens2 = model(x2, x != PAD_ID)
    torch.testing.assert_close(logits, logits2)
    torch.testing.assert_close(hiddens[-1][:, :4], hiddens2[-1][:, :4])


def test_encoder_needs_features_or_vocab():
    with pytest.raises(ValueError, match="in_features"):
        Encoder(None, n_classes=3, max_len=6, depth=1)


def test_token_encoder_weight_copy_and_distiller():
    teacher, student = token_encoder(depth=4), token_encoder(depth=2)
    weight_copy_(student, teacher)
    assert torch.equal(student.embed.weight, teacher.embed.weight)
    d = Distiller(student, match_layers("forward", 2, 4), teacher=teacher)
    x = torch.tensor([[4, 5, 6, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    _, losses = d(x, torch.tensor([0, 2]), x != PAD_ID)
    losses["total"].backward()
    assert torch.isfinite(losses["total"]) and student.embed.weight.grad is not None


# --------------------------------------------------------------------------- EncoderDecoder


def test_forward_returns_logits_and_both_stacks_hidden_states():
    model = tiny_seq2seq(enc_depth=3, dec_depth=2)
    src, tgt = random_batch()
    tgt_in, _, in_mask, _ = shift_target(tgt)
    logits, enc_h, dec_h = model(src, src != PAD_ID, tgt_in, in_mask)
    assert logits.shape == (3, 5, TGT_V)
    assert len(enc_h) == 4 and all(h.shape == (3, 6, 16) for h in enc_h)
    assert len(dec_h) == 3 and all(h.shape == (3, 5, 16) for h in dec_h)
    # hidden 0 is the embedding output of each stack
    torch.testing.assert_close(enc_h[0], model.src_embed(src) + model.src_pos[:, :6])
    torch.testing.assert_close(dec_h[0], model.tgt_embed(tgt_in) + model.tgt_pos[:, :5])
    # None masks are derived from the padding id
    logits2, _, _ = model(src, None, tgt_in, None)
    torch.testing.assert_close(logits, logits2)


def test_post_norm_hidden_states_of_both_stacks_are_layernorm_outputs():
    model = tiny_seq2seq(enc_depth=3, dec_depth=2, norm="post")
    assert not hasattr(model, "enc_norm") and not hasattr(model, "dec_norm")
    with torch.no_grad():  # N(0, 0.02) embeddings have a variance within 30x of LN's eps
        for p in (model.src_embed.weight, model.tgt_embed.weight, model.src_pos, model.tgt_pos):
            p.mul_(50)
    src, tgt = random_batch()
    tgt_in, _, in_mask, _ = shift_target(tgt)
    logits, enc_h, dec_h = model(src, src != PAD_ID, tgt_in, in_mask)
    assert len(enc_h) == 4 and len(dec_h) == 3
    assert_layernorm_outputs(enc_h)
    assert_layernorm_outputs(dec_h)
    # memory is the last encoder hidden; the head reads the last decoder hidden
    memory, _ = model.encode(src)
    assert torch.equal(memory, enc_h[-1])
    torch.testing.assert_close(logits, model.head(dec_h[-1]))


def test_pre_norm_stacks_keep_their_final_norms():
    model = tiny_seq2seq(norm="pre")
    assert not hasattr(model, "enc_embed_norm") and not hasattr(model, "dec_embed_norm")
    src, tgt = random_batch()
    tgt_in, _, in_mask, _ = shift_target(tgt)
    logits, enc_h, dec_h = model(src, None, tgt_in, in_mask)
    torch.testing.assert_close(model.encode(src)[0], model.enc_norm(enc_h[-1]))
    torch.testing.assert_close(logits, model.head(model.dec_norm(dec_h[-1])))


def test_shared_vocab_and_tied_head():
    model = tiny_seq2seq(shared=True)
    assert model.tgt_embed is model.src_embed and model.tgt_vocab_size == SRC_V
    assert model.head.weight is model.src_embed.weight
    untied = tiny_seq2seq(tie_head=False)
    assert untied.head.weight is not untied.tgt_embed.weight


def test_padding_in_source_and_target_does_not_change_valid_outputs():
    model = tiny_seq2seq().eval()
    src, tgt = random_batch()
    tgt_in, _, in_mask, _ = shift_target(tgt)
    src_mask = src != PAD_ID
    logits, enc_h, dec_h = model(src, src_mask, tgt_in, in_mask)
    src2, tgt_in2 = src.clone(), tgt_in.clone()
    src2[~src_mask] = 5  # garbage ids at padded positions, masks unchanged
    tgt_in2[~in_mask] = 4
    logits2, enc_h2, dec_h2 = model(src2, src_mask, tgt_in2, in_mask)
    torch.testing.assert_close(logits[in_mask], logits2[in_mask])
    torch.testing.assert_close(enc_h[-1][src_mask], enc_h2[-1][src_mask])
    torch.testing.assert_close(dec_h[-1][in_mask], dec_h2[-1][in_mask])
    # the shortest example alone, without any padding, gives the same outputs
    n_src, n_tgt = int(src_mask[2].sum()), int(in_mask[2].sum())
    alone, _, _ = model(src[2:, :n_src], None, tgt_in[2:, :n_tgt], None)
    torch.testing.assert_close(alone[0], logits[2, :n_tgt])


def test_decoder_is_causal():
    model = tiny_seq2seq().eval()
    src, tgt = random_batch()
    tgt_in = tgt[:, :-1].clone()
    tgt_in[:, :] = torch.randint(3, TGT_V, tgt_in.shape)
    tgt_in[:, 0] = BOS_ID
    full = torch.ones_like(tgt_in, dtype=torch.bool)
    logits, _, dec_h = model(src, None, tgt_in, full)
    k = 3
    changed = tgt_in.clone()
    changed[:, k] = (changed[:, k] - 2) % (TGT_V - 3) + 3  # a different real token
    assert not torch.equal(changed, tgt_in)
    logits2, _, dec_h2 = model(src, None, changed, full)
    torch.testing.assert_close(logits[:, :k], logits2[:, :k])
    torch.testing.assert_close(dec_h[-1][:, :k], dec_h2[-1][:, :k])
    assert not torch.allclose(logits[:, k], logits2[:, k])


def stepwise_argmax(model, src, steps):
    """Greedy decoding the slow way: full forward on the growing prefix, argmax of the last."""
    tgt = torch.full((src.shape[0], 1), BOS_ID)
    for _ in range(steps):
        logits, _, _ = model(src, None, tgt, torch.ones_like(tgt, dtype=torch.bool))
        tgt = torch.cat([tgt, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return tgt[:, 1:]


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_generate_equals_stepwise_argmax_and_stops_at_eos(norm):
    # a random post-LN decoder barely reads the source: a seed whose rows decode differently
    torch.manual_seed({"pre": 0, "post": 1}[norm])
    model = tiny_seq2seq(tie_head=False, norm=norm).eval()  # untied head: no near-ties
    src, _ = random_batch()
    ref = stepwise_argmax(model, src, 7)
    # without an EOS ever produced, generate runs max_len steps and equals the reference
    torch.testing.assert_close(model.generate(src, None, BOS_ID, eos_id=-1, max_len=7), ref)
    # call each token the reference emits EOS in turn: every row stops at its first
    # EOS and is padded after it; decoding ends once all rows have stopped
    shapes = []
    for eos in ref.unique().tolist():
        out = model.generate(src, None, BOS_ID, eos_id=eos, max_len=7)
        firsts = [(r == eos).nonzero()[0, 0].item() + 1 if (r == eos).any() else 7 for r in ref]
        assert out.shape == (3, max(firsts))
        for row, n in enumerate(firsts):
            assert torch.equal(out[row, :n], ref[row, :n])
            assert (out[row, n:] == PAD_ID).all()
        shapes.append((out.shape[1], len(set(firsts))))
    assert any(n < 7 for n, _ in shapes)  # some EOS stopped every row early
    assert any(k > 1 for _, k in shapes)  # some EOS stopped rows at different steps
    with pytest.raises(ValueError, match="max_len"):
        model.generate(src, max_len=9)


def sequence_scores(model, src, hyps):
    """Length-normalised log-probabilities of the decodes hyps (B, n) (generate's format:
    tokens up to and including the first EOS, then PAD), by a teacher-forced forward."""
    scores = []
    for i, row in enumerate(hyps.tolist()):
        n = row.index(EOS_ID) + 1 if EOS_ID in row else len(row)
        tokens = torch.tensor([row[:n]])
        tgt_in = torch.cat([torch.tensor([[BOS_ID]]), tokens[:, :-1]], 1)
        logits, _, _ = model(src[i : i + 1], None, tgt_in, torch.ones_like(tgt_in, dtype=bool))
        logp = logits.log_softmax(-1).gather(-1, tokens[..., None]).sum()
        scores.append(logp.item() / n)
    return torch.tensor(scores)


def assert_generate_format(out, max_len):
    """ids without BOS, each row padded after its first EOS, as long as the longest row."""
    assert out.dtype == torch.long and out.shape[1] <= max_len
    lengths = []
    for row in out.tolist():
        n = row.index(EOS_ID) + 1 if EOS_ID in row else len(row)
        assert all(t == PAD_ID for t in row[n:])
        lengths.append(n)
    assert max(lengths) == out.shape[1]


def peaked_model(seed, norm, vocab=(SRC_V, TGT_V)):
    """A random model with N(0, 1) output embeddings: peaked, varied next-token
    distributions (the default init gives near-uniform, source-blind ones)."""
    torch.manual_seed(seed)
    model = tiny_seq2seq(vocab=vocab, tie_head=False, norm=norm).eval()
    with torch.no_grad():
        model.head.weight.normal_()
    return model


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_beam_search_scores_at_least_greedy(norm):
    gains = []
    for seed in range(3):
        model = peaked_model(seed, norm)
        src, _ = random_batch()
        src = torch.cat([src, src.flip(0)])
        greedy = model.generate(src, max_len=7)
        assert torch.equal(model.generate(src, max_len=7, beams=1), greedy)
        g_scores = sequence_scores(model, src, greedy)
        for beams in (2, 4):
            out = model.generate(src, max_len=7, beams=beams)
            assert_generate_format(out, 7)
            gains.append(sequence_scores(model, src, out) - g_scores)
    gains = torch.cat(gains)
    assert (gains >= -1e-5).all()
    assert (gains > 1e-3).any()  # beam search found a better decode somewhere
    with pytest.raises(ValueError, match="beams"):
        model.generate(src, beams=0)


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_wide_beam_search_finds_the_best_sequence(norm):
    """Tiny target vocabulary, max_len 3: 16 beams keep every prefix, so beam search is
    exhaustive and must return the brute-force best of all sequences by score / length."""
    v, max_len = 5, 3
    words = [t for t in range(v) if t != EOS_ID]  # every token but EOS, PAD and BOS included
    candidates = [list(p) + [EOS_ID] for n in range(max_len) for p in
                  itertools.product(words, repeat=n)]
    candidates += [list(p) for p in itertools.product(words, repeat=max_len)]
    padded = torch.tensor([c + [PAD_ID] * (max_len - len(c)) for c in candidates])
    best_lengths = set()
    for seed in range(3):
        model = peaked_model(seed, norm, vocab=(SRC_V, v))
        src, _ = random_batch()
        out = model.generate(src, max_len=max_len, beams=(v - 1) ** 2)
        assert_generate_format(out, max_len)
        for i in range(src.shape[0]):
            scores = sequence_scores(model, src[i : i + 1].expand(len(candidates), -1), padded)
            best = candidates[int(scores.argmax())]
            best_lengths.add(len(best))
            assert out[i, : len(best)].tolist() == best, (seed, i)
    assert min(best_lengths) < max_len == max(best_lengths)  # ended by EOS, and cut


def test_evaluate_passes_beams_through():
    model = tiny_seq2seq(tie_head=False).eval()
    src, tgt = random_batch()
    vocab = ["<pad>", "<bos>", "<eos>"] + list("abcd")
    split = Split(src, tgt)
    for beams in (1, 3):
        hyps = ids_to_text(model.generate(src, None, max_len=5, beams=beams), vocab)
        refs = ids_to_text(tgt, vocab)
        assert evaluate_seq2seq(model, split, vocab=vocab, beams=beams) == {
            "bleu": corpus_bleu(hyps, refs), "exact_match": exact_match(hyps, refs)}


REVERSE_V = 8  # pad, bos, eos + 5 symbols, for both sides


def reverse_task(n=48, max_words=5, seed=0):
    """src = words + EOS; tgt = BOS + reversed words + EOS (padded)."""
    g = torch.Generator().manual_seed(seed)
    src = torch.zeros(n, max_words + 1, dtype=torch.long)
    tgt = torch.zeros(n, max_words + 2, dtype=torch.long)
    for i in range(n):
        m = int(torch.randint(2, max_words + 1, (1,), generator=g))
        words = torch.randint(3, REVERSE_V, (m,), generator=g)
        src[i, :m], src[i, m] = words, EOS_ID
        tgt[i, 0], tgt[i, 1 : m + 1], tgt[i, m + 1] = BOS_ID, words.flip(0), EOS_ID
    return Split(src, tgt)


def test_tiny_model_learns_to_reverse():
    split = reverse_task()
    model = EncoderDecoder(REVERSE_V, None, 6, 6, 2, 2, width=32, heads=2)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    tgt_in, labels, in_mask, _ = shift_target(split.y)
    for _ in range(200):  # 100% by about step 100
        logits, _, _ = model(split.x, None, tgt_in, in_mask)
        loss = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=PAD_ID)
        opt.zero_grad()
        loss.backward()
        opt.step()
    vocab = ["<pad>", "<bos>", "<eos>"] + list("abcde")
    scores = evaluate_seq2seq(model, split, BOS_ID, EOS_ID, 6, vocab)
    assert scores["exact_match"] == 100.0
    assert scores["bleu"] == pytest.approx(100.0)


# --------------------------------------------------------------------------- weight copy


def assert_same_module(a, b):
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name


@pytest.mark.parametrize("shared,tie_head,norm", [(False, True, "pre"), (True, True, "pre"),
                                                   (False, False, "pre"), (False, True, "post"),
                                                   (True, False, "post")])
def test_weight_copy_takes_forward_matched_blocks_of_both_stacks(shared, tie_head, norm):
    kw = dict(shared=shared, tie_head=tie_head, norm=norm)
    teacher = tiny_seq2seq(enc_depth=6, dec_depth=4, **kw)
    student = tiny_seq2seq(enc_depth=3, dec_depth=1, **kw)
    FAMILIES["seq2seq"].initialise(student, "weight_copy", teacher)
    for i, t in enumerate(forward_targets(3, 6)):  # 2, 4, 6
        assert_same_module(student.enc_blocks[i], teacher.enc_blocks[t - 1])
    assert_same_module(student.dec_blocks[0], teacher.dec_blocks[3])  # last block
    assert not torch.equal(student.enc_blocks[0].qkv.weight, teacher.enc_blocks[0].qkv.weight)
    norms = ("enc_norm", "dec_norm") if norm == "pre" else ("enc_embed_norm", "dec_embed_norm")
    assert student.stack_norms == norms
    for name in ("src_embed", "tgt_embed", *norms, "head"):
        assert_same_module(getattr(student, name), getattr(teacher, name))
    assert torch.equal(student.src_pos, teacher.src_pos)
    assert torch.equal(student.tgt_pos, teacher.tgt_pos)
    # ties survive the copy
    assert (student.head.weight is student.tgt_embed.weight) == tie_head
    assert (student.tgt_embed is student.src_embed) == shared


def test_weight_copy_seq2seq_rejects_mismatches():
    with pytest.raises(ValueError, match="equal width"):
        weight_copy_seq2seq_(tiny_seq2seq(width=8), tiny_seq2seq(width=16))
    with pytest.raises(ValueError, match="tgt_vocab_size"):
        weight_copy_seq2seq_(tiny_seq2seq(vocab=(9, 5)), tiny_seq2seq())
    with pytest.raises(ValueError, match="placement"):
        weight_copy_seq2seq_(tiny_seq2seq(norm="post"), tiny_seq2seq(norm="pre"))


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_weight_copied_student_reproduces_the_teachers_blocks(norm):
    """Fed the same input, copied blocks give the teacher's block outputs (both stacks)."""
    teacher = tiny_seq2seq(enc_depth=4, dec_depth=2, norm=norm).eval()
    student = weight_copy_seq2seq_(tiny_seq2seq(enc_depth=2, dec_depth=1, norm=norm),
                                   teacher).eval()
    src, tgt = random_batch()
    tgt_in, _, in_mask, _ = shift_target(tgt)
    _, t_enc, t_dec = teacher(src, None, tgt_in, in_mask)
    _, s_enc, s_dec = student(src, None, tgt_in, in_mask)
    torch.testing.assert_close(s_enc[0], t_enc[0])
    torch.testing.assert_close(s_dec[0], t_dec[0])
    src_mask, self_mask = src != PAD_ID, causal_mask(in_mask)
    memory = torch.randn(3, 6, 16)
    for i, t in enumerate(forward_targets(2, 4)):  # 2, 4
        torch.testing.assert_close(student.enc_blocks[i](t_enc[t - 1], src_mask), t_enc[t])
    torch.testing.assert_close(student.dec_blocks[0](t_dec[1], memory, self_mask, src_mask),
                               teacher.dec_blocks[1](t_dec[1], memory, self_mask, src_mask))


def test_random_init_leaves_student_untouched():
    teacher, student = tiny_seq2seq(4, 4), tiny_seq2seq(2, 2)
    before = {k: v.clone() for k, v in student.state_dict().items()}
    FAMILIES["seq2seq"].initialise(student, "random", teacher)
    assert all(torch.equal(before[k], v) for k, v in student.state_dict().items())


# --------------------------------------------------------------------------- distillation


def make_distiller(student_width=16, strategy="forward", **kw):
    teacher = tiny_seq2seq(enc_depth=4, dec_depth=3)
    student = tiny_seq2seq(enc_depth=2, dec_depth=2, width=student_width)
    enc_pairs, dec_pairs = seq2seq_pairs(strategy, (2, 2), (4, 3))
    return Seq2SeqDistiller(student, enc_pairs, dec_pairs, teacher=teacher,
                            objective=Objective(**kw)), teacher


def test_seq2seq_pairs_apply_the_strategy_per_stack():
    enc, dec = seq2seq_pairs("forward", (2, 2), (4, 3))
    assert enc == [(0, 0), (1, 2), (2, 4)] and dec == [(0, 0), (1, 2), (2, 3)]
    assert seq2seq_pairs("none", (2, 2), (4, 3)) == ([], [])


def test_teacher_frozen_outside_module_tree_and_gets_no_gradient():
    d, teacher = make_distiller()
    _, losses = d(*random_batch())
    losses["total"].backward()
    assert not teacher.training
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())
    assert not {id(p) for p in teacher.parameters()} & {id(p) for p in d.parameters()}
    assert not any(k.startswith("teacher") for k in d.state_dict())
    assert len(d.enc_projections) == len(d.dec_projections) == 0  # equal widths


def test_projections_train_and_are_saved_when_widths_differ():
    d, _ = make_distiller(student_width=8)
    assert len(d.enc_projections) == 3 and len(d.dec_projections) == 3  # layers 0..2
    optimizer = torch.optim.AdamW(d.parameters(), lr=1e-2)
    in_optimizer = {id(p) for g in optimizer.param_groups for p in g["params"]}
    for stack in (d.enc_projections, d.dec_projections):
        assert all(id(p) in in_optimizer for p in stack.parameters())
    keys = d.state_dict()
    assert any(k.startswith("enc_projections.") for k in keys)
    assert any(k.startswith("dec_projections.") for k in keys)
    before = [d.enc_projections[1].weight.clone(), d.dec_projections[2].weight.clone()]
    _, losses = d(*random_batch())
    losses["total"].backward()
    assert d.enc_projections[1].weight.grad.abs().sum() > 0
    assert d.dec_projections[2].weight.grad.abs().sum() > 0
    optimizer.step()
    assert not torch.equal(before[0], d.enc_projections[1].weight)
    assert not torch.equal(before[1], d.dec_projections[2].weight)


def test_cached_teacher_gives_same_losses_as_live_teacher():
    d, teacher = make_distiller(student_width=8, temperature=2.0)
    src, tgt = random_batch()
    _, live = d(src, tgt)
    cache = Seq2SeqTeacherCache.compute(teacher, src, tgt, batch_size=2)
    idx = torch.arange(3)
    for layers in [(None, None), ([t for _, t in d.enc_pairs], [t for _, t in d.dec_pairs])]:
        _, cached = d(src, tgt, *cache.batch(idx, *layers))
        for k in live:
            assert live[k].item() == pytest.approx(cached[k].item(), rel=1e-5), k


@pytest.mark.parametrize("pair_reduce", ["mean", "sum"])
def test_losses_match_brute_force(pair_reduce):
    d, teacher = make_distiller(student_width=8, temperature=2.0, a_ce=0.5, a_kl=2.0, a_hid=3.0,
                                pair_reduce=pair_reduce)
    src, tgt = random_batch()
    _, losses = d(src, tgt)
    with torch.no_grad():
        tgt_in = tgt[:, :-1]
        s_logits, s_enc, s_dec = d.student(src, src != 0, tgt_in, tgt_in != 0)
        t_logits, t_enc, t_dec = teacher(src, src != 0, tgt_in, tgt_in != 0)
    T = 2.0
    ce, kl, n = 0.0, 0.0, 0
    for b in range(tgt.shape[0]):
        for t in range(tgt_in.shape[1]):
            label = int(tgt[b, t + 1])
            if label == PAD_ID:
                continue
            n += 1
            ce -= float(F.log_softmax(s_logits[b, t], -1)[label])
            p = F.softmax(t_logits[b, t] / T, -1)
            log_q = F.log_softmax(s_logits[b, t] / T, -1)
            kl += float((p * (p.log() - log_q)).sum()) * T * T
    ce, kl = ce / n, kl / n

    def stack_loss(s_h, t_h, pairs, ids, projections):
        per_pair = []
        for s, t in pairs:
            dists = [float(((projections[s](s_h[s][b, k]) - t_h[t][b, k]) ** 2).sum())
                     for b in range(ids.shape[0]) for k in range(ids.shape[1])
                     if ids[b, k] != PAD_ID]
            per_pair.append(sum(dists) / len(dists))
        return sum(per_pair) / (1 if pair_reduce == "sum" else len(per_pair))

    with torch.no_grad():
        hid_enc = stack_loss(s_enc, t_enc, d.enc_pairs, src, d.enc_projections)
        hid_dec = stack_loss(s_dec, t_dec, d.dec_pairs, tgt_in, d.dec_projections)
    hid = hid_enc + hid_dec if pair_reduce == "sum" else (hid_enc + hid_dec) / 2
    expected = {"ce": ce, "kl": kl, "hid_enc": hid_enc, "hid_dec": hid_dec, "hid": hid,
                "total": 0.5 * ce + 2.0 * kl + 3.0 * hid}
    for k, v in expected.items():
        assert losses[k].item() == pytest.approx(v, rel=1e-4), k


def test_none_strategy_has_zero_hidden_loss():
    d, _ = make_distiller(strategy="none")
    _, losses = d(*random_batch())
    assert losses["hid"].item() == 0


# --------------------------------------------------------------------------- metrics


def test_bleu_of_identical_corpora_is_100_and_exact_match_counts():
    refs = ["the cat sat on the mat", "a b c d e", "one two three four five six"]
    assert corpus_bleu(refs, refs) == pytest.approx(100.0)
    assert corpus_bleu(["x y z"] * 3, refs) < 5
    hyps = ["the cat sat on the mat", "a b c d", "one two  three four five six"]
    assert exact_match(hyps, refs) == pytest.approx(200 / 3)
    assert exact_match(refs, refs) == 100.0


def test_ids_to_text_stops_at_eos_and_drops_pad_and_bos():
    vocab = ["<pad>", "<bos>", "<eos>", "a", "b"]
    ids = torch.tensor([[1, 3, 4, 2, 3], [3, 0, 4, 4, 0], [2, 3, 3, 3, 3]])
    assert ids_to_text(ids, vocab) == ["a b", "a b b", ""]
