import pytest
import torch
from conftest import assert_layernorm_outputs, tiny_encoder

from layerkd.distill.initialisation import initialise, weight_copy_
from layerkd.models import Block
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
    with pytest.raises(ValueError, match="equal width"):
        weight_copy_(tiny_encoder(depth=2, width=8), tiny_encoder(depth=4, width=16))


# --------------------------------------------------------------------------- LayerNorm placement


def reference_block(block, x):
    """Block.forward written out: explicit attention, then the placement's residual form."""
    def attn(z):
        b, t, d = z.shape
        q, k, v = block.qkv(z).view(b, t, 3, block.heads, d // block.heads).permute(2, 0, 3, 1, 4)
        w = (q @ k.transpose(-1, -2) / (d // block.heads) ** 0.5).softmax(-1)
        return block.proj((w @ v).transpose(1, 2).reshape(b, t, d))

    if block.placement == "pre":
        x = x + attn(block.ln1(x))
        return x + block.mlp(block.ln2(x))
    x = block.ln1(x + attn(x))
    return block.ln2(x + block.mlp(x))


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_block_computes_its_placement(norm):
    block = Block(16, 2, 2, norm)
    with torch.no_grad():  # non-trivial LayerNorm affines
        for ln in (block.ln1, block.ln2):
            ln.weight.uniform_(0.5, 1.5), ln.bias.normal_()
    x = torch.randn(3, 7, 16)
    torch.testing.assert_close(block(x), reference_block(block, x))


def test_post_norm_hidden_states_are_layernorm_outputs():
    model = tiny_encoder(depth=3, norm="post")
    with torch.no_grad():  # the zero-init [CLS] + positions has variance ~ LN's eps
        model.cls.normal_()
    logits, hiddens = model(torch.randn(2, 6, 5) * 3 + 1)
    assert len(hiddens) == 4
    assert_layernorm_outputs(hiddens)
    # the head reads the last [CLS] state as is
    torch.testing.assert_close(logits, model.head(hiddens[-1][:, 0]))


def test_pre_norm_is_unchanged_and_each_layout_has_only_its_norms():
    pre, post = tiny_encoder(depth=2), tiny_encoder(depth=2, norm="post")
    assert pre.placement == "pre" and hasattr(pre, "norm") and not hasattr(pre, "embed_norm")
    assert hasattr(post, "embed_norm") and not hasattr(post, "norm")
    assert {k for k, _ in pre.named_parameters()} - {k for k, _ in post.named_parameters()} \
        == {"norm.weight", "norm.bias"}
    x = torch.randn(2, 6, 5)
    logits, hiddens = pre(x)
    # pre: hidden 0 is the raw embedding output, the head reads the final-normed [CLS]
    h0 = torch.cat([pre.cls.expand(2, -1, -1), pre.embed(x)], 1) + pre.pos
    torch.testing.assert_close(hiddens[0], h0)
    torch.testing.assert_close(logits, pre.head(pre.norm(hiddens[-1][:, 0])))
    with pytest.raises(ValueError, match="norm must be one of"):
        tiny_encoder(depth=1, norm="sandwich")


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_weight_copied_student_reproduces_the_teachers_blocks(norm):
    teacher, student = tiny_encoder(depth=6, norm=norm), tiny_encoder(depth=3, norm=norm)
    weight_copy_(student, teacher)
    x = torch.randn(2, 6, 5)
    _, t_hiddens = teacher(x)
    _, s_hiddens = student(x)
    torch.testing.assert_close(s_hiddens[0], t_hiddens[0])  # embeddings (and embed_norm)
    h = torch.randn(2, 7, 16)
    for i, t in enumerate(forward_targets(3, 6)):  # 2, 4, 6
        torch.testing.assert_close(student.blocks[i](h), teacher.blocks[t - 1](h))
    if norm == "pre":
        assert torch.equal(student.norm.weight, teacher.norm.weight)
    with pytest.raises(ValueError, match="placement"):
        weight_copy_(tiny_encoder(depth=2, norm=norm),
                     tiny_encoder(depth=4, norm="post" if norm == "pre" else "pre"))
