import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_encoder

from layerkd.distill.distiller import Distiller
from layerkd.distill.objective import (
    Objective,
    hidden_matching_loss,
    kl_teacher_student,
)
from layerkd.strategies import match_layers


def _whole_tensor_norm(h):
    """Zero mean, unit (biased) variance over every element of one layer's batch tensor."""
    flat = [float(v) for v in h.flatten()]
    mean = sum(flat) / len(flat)
    var = sum((v - mean) ** 2 for v in flat) / len(flat)
    return (h - mean) / (var + 1e-5) ** 0.5


def brute_force_hidden(s_h, t_h, pairs, mask, distance="sum_sq", pair_reduce="mean",
                       batch_divide=False):
    """Loop over pairs, samples, tokens and features: the definitions, written plainly."""
    per_pair = []
    for s, t in pairs:
        a, b_ = s_h[s], t_h[t]
        if distance == "ln_mse":
            a, b_ = _whole_tensor_norm(a), _whole_tensor_norm(b_)
        dists = []
        for b in range(a.shape[0]):
            for k in range(a.shape[1]):
                if not mask[b, k]:
                    continue
                u, v = a[b, k], b_[b, k]
                if distance == "unit_sq":
                    u, v = u / float((u ** 2).sum()) ** 0.5, v / float((v ** 2).sum()) ** 0.5
                sq = [float(x - y) ** 2 for x, y in zip(u, v)]
                dists.append(sum(sq) / (len(sq) if distance in ("mse", "ln_mse") else 1))
        per_pair.append(sum(dists) / len(dists) / (a.shape[0] if batch_divide else 1))
    return sum(per_pair) / (1 if pair_reduce == "sum" else len(per_pair))


@pytest.mark.parametrize("distance", ["sum_sq", "mse", "ln_mse", "unit_sq"])
@pytest.mark.parametrize("pair_reduce", ["mean", "sum"])
@pytest.mark.parametrize("batch_divide", [False, True])
def test_hidden_loss_matches_brute_force_and_ignores_padding(distance, pair_reduce,
                                                             batch_divide):
    s_h = [torch.randn(3, 5, 4) * 3 for _ in range(3)]
    t_h = [torch.randn(3, 5, 4) + 1 for _ in range(7)]
    mask = torch.rand(3, 5) > 0.3
    mask[:, 0] = True
    pairs = [(0, 0), (1, 6), (2, 3)]
    obj = Objective(distance=distance, pair_reduce=pair_reduce, batch_divide=batch_divide)
    got = hidden_matching_loss(s_h, t_h, pairs, mask, objective=obj)
    expected = brute_force_hidden(s_h, t_h, pairs, mask, distance, pair_reduce, batch_divide)
    assert got.item() == pytest.approx(expected, rel=1e-4)
    if distance != "ln_mse":  # ln_mse normalises over the whole tensor, padding included
        s_h[1][~mask] = 1e3  # changing a padded position changes nothing
        again = hidden_matching_loss(s_h, t_h, pairs, mask, objective=obj)
        assert again.item() == pytest.approx(got.item(), rel=1e-5)


def test_normalised_distances_do_not_grow_with_the_scale_of_hidden_states():
    s_h, t_h = [torch.randn(2, 3, 8)], [torch.randn(2, 3, 8)]
    for distance, grows in [("sum_sq", True), ("mse", True), ("ln_mse", False),
                            ("unit_sq", False)]:
        obj = Objective(distance=distance)
        small = hidden_matching_loss(s_h, t_h, [(0, 0)], objective=obj)
        large = hidden_matching_loss([10 * s_h[0]], [10 * t_h[0]], [(0, 0)], objective=obj)
        assert (large.item() > 50 * small.item()) == grows, distance


def test_mse_is_sum_sq_over_the_width():
    s_h, t_h = [torch.randn(2, 3, 8)], [torch.randn(2, 3, 8)]
    sum_sq = hidden_matching_loss(s_h, t_h, [(0, 0)], objective=Objective(distance="sum_sq"))
    mse = hidden_matching_loss(s_h, t_h, [(0, 0)], objective=Objective(distance="mse"))
    assert mse.item() == pytest.approx(sum_sq.item() / 8, rel=1e-6)


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
    d.objective = Objective(a_ce=0.5, a_kl=2.0, a_hid=3.0)
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
