import math

import numpy as np
import pytest
import torch
from torch import nn

from layerkd.angles import (
    angle_cosines,
    angle_summary,
    mean_distances,
    random_directions,
    to_teacher_space,
)
from layerkd.data import Split
from layerkd.families import FAMILIES
from layerkd.models import Encoder
from layerkd.models.encoder_decoder import EncoderDecoder


def brute_force(teacher, student, mask):
    """The definition, one angle at a time."""
    n_s, n_t = student.shape[0], teacher.shape[0]
    per_token, heat, acute, total = [], torch.full((n_s, n_t, n_t), float("nan")), 0, 0
    sums = {}
    for n in range(teacher.shape[1]):
        for t in range(teacher.shape[2]):
            if not mask[n, t]:
                continue
            values = []
            for j in range(n_s):
                for i in range(n_t):
                    for k in range(i + 1, n_t):
                        a = teacher[i, n, t] - student[j, n, t]
                        b = teacher[k, n, t] - student[j, n, t]
                        c = float(a @ b / (a.norm() * b.norm()))
                        values.append(c)
                        sums.setdefault((j, i, k), []).append(c)
                        acute += c > 0
                        total += 1
            per_token.append(sum(values) / len(values))
    for (j, i, k), v in sums.items():
        heat[j, i, k] = sum(v) / len(v)
    return torch.tensor(per_token), heat, acute / total


def test_summary_matches_brute_force_loop():
    g = torch.Generator().manual_seed(0)
    teacher, student = torch.randn(4, 3, 5, 6, generator=g), torch.randn(2, 3, 5, 6, generator=g)
    mask = torch.rand(3, 5, generator=g) > 0.3
    got = angle_summary(teacher, student, mask)
    token_mean, heat, acute = brute_force(teacher, student, mask)
    torch.testing.assert_close(got.token_mean, token_mean, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got.heatmap, heat, atol=1e-5, rtol=1e-5, equal_nan=True)
    assert got.acute_fraction == pytest.approx(acute)


def test_known_geometry():
    # student at the origin; teacher layers on orthogonal axes: right angles
    e = torch.eye(3)
    teacher = e[:, None, None, :]  # (3 layers, 1 sample, 1 token, d=3)
    student = torch.zeros(1, 1, 1, 3)
    s = angle_summary(teacher, student)
    assert s.token_mean.abs().max() < 1e-6
    # both teacher layers on the same ray: angle 0; on opposite rays: angle pi
    same = torch.stack([e[0], 2 * e[0]])[:, None, None, :]
    opposite = torch.stack([e[0], -e[0]])[:, None, None, :]
    assert angle_summary(same, student).token_mean.item() == pytest.approx(1.0)
    assert angle_summary(same, student).acute_fraction == 1.0
    assert angle_summary(opposite, student).token_mean.item() == pytest.approx(-1.0)
    assert angle_summary(opposite, student).acute_fraction == 0.0
    # 60 degrees: the student at one corner of an equilateral triangle
    tri = torch.tensor([[1.0, 0, 0], [0.5, math.sqrt(3) / 2, 0]])[:, None, None, :]
    assert angle_summary(tri, student).token_mean.item() == pytest.approx(0.5, abs=1e-6)


def test_cosines_shape_and_diagonal():
    c = angle_cosines(torch.randn(5, 7, 4), torch.randn(7, 4))
    assert c.shape == (5, 5, 7)
    torch.testing.assert_close(c[range(5), range(5)], torch.ones(5, 7))
    torch.testing.assert_close(c, c.transpose(0, 1))


def test_distances_against_loop():
    a, b = torch.randn(3, 2, 4, 5), torch.randn(2, 2, 4, 5)
    mask = torch.tensor([[True, True, False, True], [True, False, False, False]])
    d = mean_distances(a, b, mask)
    for i in range(3):
        for k in range(2):
            expect = (a[i] - b[k]).norm(dim=-1)[mask].mean()
            assert d[i, k].item() == pytest.approx(expect.item(), rel=1e-5)


def test_projection_maps_each_layer_to_teacher_width():
    states = torch.randn(3, 2, 4, 8)
    maps = nn.ModuleList(nn.Linear(8, 16) for _ in range(3))
    out = to_teacher_space(states, maps)
    assert out.shape == (3, 2, 4, 16)
    torch.testing.assert_close(out[2], maps[2](states[2]))
    assert to_teacher_space(states, nn.ModuleList()) is states


def test_family_hidden_states_encoder_and_encoder_decoder():
    enc = Encoder(in_features=5, n_classes=3, max_len=6, depth=2, width=16, heads=2)
    x, mask = torch.randn(7, 6, 5), torch.ones(7, 6, dtype=torch.bool)
    mask[0, 4:] = False
    states = FAMILIES["classifier"].hidden_states(enc, Split(x, torch.zeros(7, dtype=torch.long), mask), batch_size=3)
    h, m = states["encoder"]
    assert h.shape == (3, 7, 7, 16) and m.shape == (7, 7)
    assert m[:, 0].all() and not m[0, 5:].any()  # [CLS] always valid, padding masked
    model = EncoderDecoder(src_vocab_size=9, tgt_vocab_size=11, max_src_len=6, max_tgt_len=5,
                           enc_depth=2, dec_depth=3, width=16, heads=2)
    src = torch.randint(3, 9, (4, 6))
    tgt = torch.randint(3, 11, (4, 6))
    tgt[:, -2:] = 0
    states = FAMILIES["seq2seq"].hidden_states(model, Split(src, tgt, None))
    assert states["encoder"][0].shape == (3, 4, 6, 16)
    assert states["decoder"][0].shape == (4, 4, 5, 16)
    assert not states["decoder"][1][:, -1].any()


def test_histogram_of_every_angle_matches_brute_force_counts():
    g = torch.Generator().manual_seed(1)
    teacher, student = torch.randn(4, 3, 5, 6, generator=g), torch.randn(2, 3, 5, 6, generator=g)
    mask = torch.rand(3, 5, generator=g) > 0.3
    got = angle_summary(teacher, student, mask, bins=8)
    t, s = teacher[:, mask], student[:, mask]
    cosines = torch.cat([angle_cosines(t, s[j])[i, k].flatten() for j in range(2)
                         for i in range(4) for k in range(i + 1, 4)])
    expected, _ = np.histogram(cosines.numpy(), bins=np.linspace(-1, 1, 9))
    assert got.hist.tolist() == expected.tolist()
    assert got.hist[4:].sum() / got.hist.sum() == pytest.approx(got.acute_fraction)


def test_random_directions_keep_norms_and_are_seeded():
    states = torch.randn(2, 3, 4, 16) * 5
    r = random_directions(states, seed=3)
    torch.testing.assert_close(r.norm(dim=-1), states.norm(dim=-1))
    assert torch.equal(r, random_directions(states, seed=3))
    cos = torch.nn.functional.cosine_similarity(r, states, dim=-1)
    assert cos.abs().mean() < 0.5  # directions unrelated to the states
