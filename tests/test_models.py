import torch

from conftest import tiny_encoder
from layerkd.initialisation import initialise, weight_copy_
from layerkd.strategies import forward_targets


def test_forward_returns_logits_and_every_hidden_state():
    model = tiny_encoder(depth=4)
    logits, hiddens = model(torch.randn(2, 6, 5))
    assert logits.shape == (2, 3)
    assert len(hiddens) == 5  # embedding output + 4 blocks
    assert all(h.shape == (2, 7, 16) for h in hiddens)  # 6 tokens + [CLS]


def test_padding_does_not_change_valid_outputs():
    model = tiny_encoder(depth=2).eval()
    x = torch.randn(1, 6, 5)
    mask = torch.tensor([[True, True, True, False, False, False]])
    logits, _ = model(x, mask)
    x2 = x.clone()
    x2[:, 3:] = 100.0  # garbage in padded positions
    logits2, _ = model(x2, mask)
    torch.testing.assert_close(logits, logits2)


def test_weight_copy_takes_forward_matched_blocks():
    teacher, student = tiny_encoder(depth=12), tiny_encoder(depth=4)
    weight_copy_(student, teacher)
    for i, t in enumerate(forward_targets(4, 12)):  # 3, 6, 9, 12
        for (name, ps), pt in zip(student.blocks[i].state_dict().items(),
                                  teacher.blocks[t - 1].state_dict().values()):
            assert torch.equal(ps, pt), name
    assert torch.equal(student.pos, teacher.pos)
    assert torch.equal(student.embed.weight, teacher.embed.weight)
    assert torch.equal(student.norm.weight, teacher.norm.weight)
    assert not torch.equal(student.head.weight, teacher.head.weight)  # fresh head


def test_random_init_leaves_student_untouched():
    teacher, student = tiny_encoder(depth=12), tiny_encoder(depth=4)
    before = {k: v.clone() for k, v in student.state_dict().items()}
    initialise(student, "random", teacher)
    assert all(torch.equal(before[k], v) for k, v in student.state_dict().items())


def test_weight_copy_rejects_other_width():
    import pytest

    with pytest.raises(ValueError, match="equal widths"):
        weight_copy_(tiny_encoder(depth=2, width=8), tiny_encoder(depth=4, width=16))
