import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_encoder
from layerkd.losses import Distiller, hidden_matching_loss, kl_teacher_student
from layerkd.strategies import match_layers


def brute_force_hidden(s_h, t_h, pairs, mask):
    """Loop over pairs, samples and tokens: the definition, written plainly."""
    per_pair = []
    for s, t in pairs:
        dists = []
        for b in range(s_h[0].shape[0]):
            for k in range(s_h[0].shape[1]):
                if mask[b, k]:
                    dists.append(float(((s_h[s][b, k] - t_h[t][b, k]) ** 2).sum()))
        per_pair.append(sum(dists) / len(dists))
    return sum(per_pair) / len(per_pair)


def test_hidden_loss_matches_brute_force_and_ignores_padding():
    s_h = [torch.randn(3, 5, 4) for _ in range(3)]
    t_h = [torch.randn(3, 5, 4) for _ in range(7)]
    mask = torch.rand(3, 5) > 0.3
    mask[:, 0] = True
    pairs = [(0, 0), (1, 6), (2, 3)]
    got = hidden_matching_loss(s_h, t_h, pairs, mask)
    assert got.item() == pytest.approx(brute_force_hidden(s_h, t_h, pairs, mask), rel=1e-5)
    # changing a padded position changes nothing
    s_h[1][~mask] = 1e3
    assert hidden_matching_loss(s_h, t_h, pairs, mask).item() == pytest.approx(got.item(), rel=1e-5)


def test_hidden_loss_zero_without_pairs():
    assert hidden_matching_loss([torch.randn(2, 3, 4)], [torch.randn(2, 3, 4)], []).item() == 0


def test_kl_is_zero_for_equal_logits_and_matches_definition():
    logits = torch.randn(4, 3)
    assert kl_teacher_student(logits, logits).item() == pytest.approx(0, abs=1e-6)
    s, t = torch.randn(4, 3), torch.randn(4, 3)
    p = F.softmax(t / 2, -1)
    expected = (p * (p.log() - F.log_softmax(s / 2, -1))).sum(-1).mean() * 4
    assert kl_teacher_student(s, t, 2.0).item() == pytest.approx(expected.item(), rel=1e-5)


def make_distiller(student_width=16, strategy="forward"):
    teacher = tiny_encoder(depth=4)
    student = tiny_encoder(depth=2, width=student_width)
    return Distiller(student, match_layers(strategy, 2, 4), teacher=teacher), teacher


def test_total_loss_combines_weights():
    d, _ = make_distiller()
    d.a_ce, d.a_kl, d.a_hid = 0.5, 2.0, 3.0
    _, losses = d(torch.randn(4, 6, 5), torch.tensor([0, 1, 2, 0]))
    expected = 0.5 * losses["ce"] + 2.0 * losses["kl"] + 3.0 * losses["hid"]
    assert losses["total"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_teacher_frozen_outside_module_tree_and_gets_no_gradient():
    d, teacher = make_distiller()
    _, losses = d(torch.randn(4, 6, 5), torch.tensor([0, 1, 2, 0]))
    losses["total"].backward()
    assert not teacher.training
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())
    teacher_ids = {id(p) for p in teacher.parameters()}
    assert not teacher_ids & {id(p) for p in d.parameters()}
    assert not any(k.startswith("teacher") for k in d.state_dict())


def test_projections_train_and_are_saved_when_widths_differ():
    d, _ = make_distiller(student_width=8)
    assert len(d.projections) == 3  # one per student layer 0..2
    optimizer = torch.optim.AdamW(d.parameters(), lr=1e-2)
    in_optimizer = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert all(id(p) in in_optimizer for p in d.projections.parameters())
    assert any(k.startswith("projections.") for k in d.state_dict())
    before = d.projections[1].weight.clone()
    _, losses = d(torch.randn(4, 6, 5), torch.tensor([0, 1, 2, 0]))
    losses["total"].backward()
    assert d.projections[1].weight.grad.abs().sum() > 0
    optimizer.step()
    assert not torch.equal(before, d.projections[1].weight)


def test_no_projections_at_equal_width():
    d, _ = make_distiller()
    assert len(d.projections) == 0


def test_cached_teacher_gives_same_losses_as_live_teacher():
    d, teacher = make_distiller()
    x, y = torch.randn(4, 6, 5), torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        t_logits, t_hiddens = teacher(x)
    _, live = d(x, y)
    _, cached = d(x, y, teacher_logits=t_logits, teacher_hiddens=torch.stack(t_hiddens))
    for k in live:
        assert live[k].item() == pytest.approx(cached[k].item(), rel=1e-6)
