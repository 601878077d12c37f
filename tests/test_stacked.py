"""Students trained together (layerkd.distill.together) equal students trained alone."""

import json

import pytest
import torch
from conftest import complete
from torch.func import stack_module_state

from layerkd.config import parse_params
from layerkd.data import Split
from layerkd.distill.cache import TeacherCache
from layerkd.distill.distiller import Distiller
from layerkd.distill.run import Run, build_run, distill_one
from layerkd.distill.stacked import StudentStack
from layerkd.distill.stacked_forward import _check_layout, stacked_encoder_forward
from layerkd.distill.together import distill_runs, distill_together
from layerkd.io import read_metrics
from layerkd.models import Encoder
from layerkd.strategies import STRATEGIES
from layerkd.tasks import Task
from layerkd.train.loop import NonFiniteLoss

TINY = complete({
    "model": {"width": 16, "heads": 2, "teacher_depth": 3},
    # validate every epoch: these tests read one curve point per epoch
    "teacher": {"epochs": 1, "val_every": 1},
    "distill": {"val_every": 1, "epochs": 3, "student_depth": 2, "transfer_size": 32, "batch_size": 8,
                "seeds": [0, 1]},
})
TOL = dict(rtol=1e-4, atol=1e-5)
# Trained weights: grouped and one-at-a-time matmuls round differently, and AdamW's
# normalised step turns a rounding difference in a near-zero gradient into a step
# difference; over a run that reaches 5e-5 on some processors (seen on one of two
# machines of the same kind). A different run would differ by orders of magnitude more.
WEIGHT_TOL = dict(rtol=1e-3, atol=1e-4)


def tiny_task(masked: bool = False) -> Task:
    g = torch.Generator().manual_seed(0)
    splits = {}
    for name, n in [("train", 40), ("val", 16), ("test", 16)]:
        mask = None
        if masked:  # variable-length inputs: 1..4 real tokens
            mask = torch.arange(4) < torch.randint(1, 5, (n, 1), generator=g)
        splits[name] = Split(torch.randn(n, 4, 5, generator=g),
                             torch.randint(0, 3, (n,), generator=g), mask)
    return Task("tiny", splits, in_features=5, n_classes=3, max_len=4,
                family_name="classifier")


def tiny_setup(masked=False, norm="post", **changes):
    raw = json.loads(json.dumps(TINY))
    raw["model"]["norm"] = norm
    raw["distill"].update(changes)
    params = parse_params(raw)
    task = tiny_task(masked)
    torch.manual_seed(123)
    teacher = task.build_model(3, 16, params).eval()
    cache = TeacherCache.compute(teacher, task.splits["train"].subset(32))
    return params, task, teacher, cache


def make_runs(tmp_path, strategies, seeds=(0, 1)):
    return [Run(s, k, tmp_path / s / f"seed{k}", tmp_path / f"{s}_seed{k}.pt")
            for s in strategies for k in seeds]


def check_alone_equals_together(tmp_path, params, task, teacher, cache, strategies,
                                init="random"):
    """Train ``strategies`` x seeds one at a time and all together; assert they agree
    and return the metrics of the runs trained together."""
    alone = distill_runs(task, params, teacher, cache, init,
                         make_runs(tmp_path / "alone", strategies), group_size=1, progress=False)
    together = distill_runs(task, params, teacher, cache, init,
                            make_runs(tmp_path / "together", strategies), progress=False)
    assert_same_runs(tmp_path / "alone", tmp_path / "together", alone, together, params, task)
    return together


def assert_same_runs(alone_dir, together_dir, alone, together, params, task):
    """Same metrics; same weights and outputs up to rounding.

    The key bias is the exception: softmax ignores a constant added to every
    score of a query, so its exact gradient is 0 and AdamW's normalised step
    turns rounding noise (different in a grouped matmul) into steps of up to
    lr each. It cannot change any output; it is only checked against that bound.
    """
    d = params.distill
    key_bias_bound = d.lr * d.epochs * -(-d.transfer_size // d.batch_size)
    assert len(alone) == len(together)
    x_test = task.splits["test"]
    for a, b in zip(alone, together):
        a, b = dict(a), dict(b)
        a.pop("wall_s"), b.pop("wall_s")
        for key in ("hid_share_first", "hid_share_last"):  # loss means: rounding differs
            assert a.pop(key) == pytest.approx(b.pop(key), rel=1e-5), key
        assert a == b
        name = f"{a['strategy']}_seed{a['seed']}.pt"
        sa = torch.load(alone_dir / name)["state_dict"]
        sb = torch.load(together_dir / name)["state_dict"]
        assert list(sa) == list(sb)  # a Distiller's key layout, same order
        for k in sa:
            wa, wb = sa[k], sb[k]
            if k.endswith("qkv.bias"):
                (qa, ka, va), (qb, kb, vb) = wa.chunk(3), wb.chunk(3)
                assert (ka - kb).abs().max() <= key_bias_bound, (name, k)
                wa, wb = torch.cat([qa, va]), torch.cat([qb, vb])
            torch.testing.assert_close(wb, wa, **WEIGHT_TOL, msg=lambda m: f"{name} {k}: {m}")
        outputs = []
        for state in (sa, sb):
            student = task.build_model(d.student_depth, params.student_width, params)
            student.load_state_dict({k.removeprefix("student."): v for k, v in state.items()
                                     if k.startswith("student.")})
            with torch.no_grad():
                outputs.append(student(x_test.x, x_test.mask)[0])
        torch.testing.assert_close(outputs[1], outputs[0], **TOL)


@pytest.mark.parametrize("init,norm", [("random", "post"), ("weight_copy", "post"),
                                       ("weight_copy", "pre")])
def test_together_equals_alone_for_every_strategy(tmp_path, init, norm):
    params, task, teacher, cache = tiny_setup(norm=norm)
    alone = distill_runs(task, params, teacher, cache, init,
                         make_runs(tmp_path / "alone", STRATEGIES), group_size=1, progress=False)
    together = distill_runs(task, params, teacher, cache, init,
                            make_runs(tmp_path / "together", STRATEGIES), progress=False)
    assert_same_runs(tmp_path / "alone", tmp_path / "together", alone, together, params, task)
    # every run writes the same files as distill: metrics, curve, checkpoint
    for r, m in zip(make_runs(tmp_path / "together", STRATEGIES), together):
        saved = read_metrics(r.out_dir)  # metrics.json and, apart, its time
        assert saved == json.loads(json.dumps(m))
        curve = (r.out_dir / "live" / "plots" / "metrics" / "val" / "acc.tsv").read_text()
        assert len(curve.strip().splitlines()) == 1 + 3
        for key in ("ce", "kl", "hid", "total"):
            assert (r.out_dir / "live" / "plots" / "metrics" / "train" / f"{key}.tsv").exists()
        Distiller(build_run(task, params, teacher, init, r.strategy, r.seed).student,
                  []).load_state_dict(torch.load(r.ckpt_path)["state_dict"])


@pytest.mark.parametrize("objective", [
    {"hidden_distance": "ln_mse", "hidden_pair_reduce": "sum"},
    {"hidden_distance": "sum_sq", "hidden_batch_divide": True},
    {"hidden_distance": "unit_sq", "match_embeddings": False, "temperature": 2.0},
])
def test_together_equals_alone_for_every_objective(tmp_path, objective):
    params, task, teacher, cache = tiny_setup(masked=True, inits=["random"], **objective)
    strategies = ["forward", "all_to_one"]
    together = check_alone_equals_together(tmp_path, params, task, teacher, cache, strategies)
    for row in together:  # every run records the objective that trained it
        assert all(row["objective"][k.removeprefix("hidden_")] == v
                   for k, v in objective.items() if k.startswith("hidden_"))
        assert 0 < row["hid_share_first"] < 1 and 0 < row["hid_share_last"] < 1


def test_narrow_students_train_their_projections_and_masks_are_respected(tmp_path):
    params, task, teacher, cache = tiny_setup(masked=True, student_width=8, inits=["random"])
    strategies = ["none", "forward", "in_order_random"]
    alone = distill_runs(task, params, teacher, cache, "random",
                         make_runs(tmp_path / "alone", strategies), group_size=1, progress=False)
    # groups of 4: students 0-3 together, then 4-5
    together = distill_runs(task, params, teacher, cache, "random",
                            make_runs(tmp_path / "together", strategies), group_size=4,
                            progress=False)
    assert_same_runs(tmp_path / "alone", tmp_path / "together", alone, together, params, task)
    init = build_run(task, params, teacher, "random", "forward", 1).state_dict()
    trained = torch.load(tmp_path / "together" / "forward_seed1.pt")["state_dict"]
    assert len([k for k in trained if k.startswith("projections.")]) == 2 * 3
    assert not torch.equal(init["projections.1.weight"], trained["projections.1.weight"])


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_token_id_inputs_train_the_same_together(tmp_path, norm):
    """Token-id inputs (nn.Embedding with a padding row) through the grouped path."""
    params, _, _, _ = tiny_setup(norm=norm, inits=["random"])
    g = torch.Generator().manual_seed(1)
    splits = {}
    for name, n in [("train", 40), ("val", 16), ("test", 16)]:
        ids = torch.randint(1, 7, (n, 5), generator=g)
        ids[torch.arange(5) >= torch.randint(2, 6, (n, 1), generator=g)] = 0  # padding
        splits[name] = Split(ids, torch.randint(0, 3, (n,), generator=g), ids != 0)
    task = Task("ids", splits, in_features=None, n_classes=3, max_len=5, vocab_size=7,
                family_name="classifier")
    torch.manual_seed(123)
    teacher = task.build_model(3, 16, params).eval()
    cache = TeacherCache.compute(teacher, task.splits["train"].subset(32))
    strategies = ["none", "forward"]
    together = check_alone_equals_together(tmp_path, params, task, teacher, cache, strategies)
    trained = torch.load(tmp_path / "together" / "forward_seed0.pt")["state_dict"]
    assert torch.equal(trained["student.embed.weight"][0], torch.zeros(16))  # padding row


def test_same_seeds_give_bit_identical_students(tmp_path):
    params, task, teacher, cache = tiny_setup()
    strategies = ["forward", "in_order_random"]
    a = distill_together(task, params, teacher, cache, "random",
                         make_runs(tmp_path / "a", strategies), progress=False)
    b = distill_together(task, params, teacher, cache, "random",
                         make_runs(tmp_path / "b", strategies), progress=False)
    for x, y in zip(a, b):
        x.pop("wall_s"), y.pop("wall_s")
    assert a == b
    for r in make_runs(tmp_path, strategies):
        sa = torch.load(tmp_path / "a" / r.ckpt_path.name)["state_dict"]
        sb = torch.load(tmp_path / "b" / r.ckpt_path.name)["state_dict"]
        assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_splitting_a_group_over_worker_threads_changes_nothing(tmp_path):
    params, task, teacher, cache = tiny_setup(epochs=2)
    strategies = ["forward", "in_order_random", "none"]
    threads = torch.get_num_threads()
    one = distill_together(task, params, teacher, cache, "random",
                           make_runs(tmp_path / "one", strategies), progress=False, workers=1)
    three = distill_together(task, params, teacher, cache, "random",
                             make_runs(tmp_path / "three", strategies), progress=False,
                             workers=3)
    # two threads, one student per stack: a worker steps two stacks in turn
    two = distill_together(task, params, teacher, cache, "random",
                           make_runs(tmp_path / "two", strategies), progress=False,
                           workers=2, stack_size=1)
    assert torch.get_num_threads() == threads  # restored after the worker threads
    assert_same_runs(tmp_path / "one", tmp_path / "three", one, three, params, task)
    assert_same_runs(tmp_path / "one", tmp_path / "two", one, two, params, task)


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_vmap_backend_agrees_with_grouped_matmuls(norm):
    params, task, teacher, cache = tiny_setup(norm=norm, epochs=1)
    runs = [Run(s, 0) for s in ("forward", "random", "none")]
    bmm = distill_together(task, params, teacher, cache, "random", runs, progress=False)
    vmap = distill_together(task, params, teacher, cache, "random", runs, progress=False,
                            backend="vmap")
    for a, b in zip(bmm, vmap):
        a.pop("wall_s"), b.pop("wall_s")
        for key in ("hid_share_first", "hid_share_last"):  # loss means: rounding differs
            assert a.pop(key) == pytest.approx(b.pop(key), rel=1e-5), key
        assert a == b


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_stack_losses_equal_each_distillers_losses(norm):
    params, task, teacher, cache = tiny_setup(masked=True, norm=norm, student_width=8,
                                              inits=["random"])
    distillers = [build_run(task, params, teacher, "random", s, k)
                  for s, k in [("forward", 0), ("reverse", 1), ("none", 2), ("all_to_one", 0)]]
    stack = StudentStack(distillers)
    train = task.splits["train"]
    idx = torch.stack([torch.randperm(32)[:8] for _ in distillers])
    got = stack.batch_losses(idx, train, cache)
    for i, d in enumerate(distillers):
        t_logits, t_hiddens = cache.batch(idx[i])
        _, want = d(train.x[idx[i]], train.y[idx[i]], train.mask[idx[i]], t_logits, t_hiddens)
        torch.testing.assert_close(got[i], torch.stack(list(want.values())).detach(), **TOL)


@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("ids", [False, True])
def test_stacked_forward_equals_each_students_forward(norm, ids):
    """stacked_encoder_forward == Encoder.forward per student, every hidden state and
    the logits, with per-student inputs and masks and non-trivial LayerNorm affines."""
    n, b, t = 3, 4, 5
    kw = dict(in_features=None, vocab_size=7) if ids else dict(in_features=5)
    students = []
    for i in range(n):
        torch.manual_seed(i)
        s = Encoder(n_classes=3, max_len=t, depth=2, width=16, heads=2, norm=norm, **kw)
        with torch.no_grad():
            for m in s.modules():
                if isinstance(m, torch.nn.LayerNorm):
                    m.weight.uniform_(0.5, 1.5), m.bias.normal_()
        students.append(s)
    params, _ = stack_module_state(students)
    x = torch.randint(1, 7, (n, b, t)) if ids else torch.randn(n, b, t, 5)
    mask = torch.arange(t) < torch.randint(1, t + 1, (n, b, 1))
    _check_layout(students[0])
    logits, hiddens = stacked_encoder_forward(params, students[0], x, mask)
    assert len(hiddens) == 3
    for i, s in enumerate(students):
        want_logits, want = s(x[i], mask[i])
        torch.testing.assert_close(logits[i], want_logits, **TOL)
        for got, h in zip(hiddens, want):
            torch.testing.assert_close(got[i], h, **TOL)
    other = Encoder(n_classes=3, max_len=t, depth=2, width=16, heads=2,
                    norm="pre" if norm == "post" else "post", **kw)
    other.extra = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="layout changed"):
        _check_layout(other)


def test_teacher_cache_gathers_only_requested_layers():
    _, _, _, cache = tiny_setup()
    idx = torch.tensor([3, 1, 7])
    logits, full = cache.batch(idx)
    assert full.shape[0] == 4
    _, some = cache.batch(idx, [3, 0, 3])
    assert sorted(some) == [0, 3]
    assert all(torch.equal(some[t], full[t]) for t in some)
    assert cache.batch(idx, [])[1] == {}
    g_logits, g_hid = cache.gather(torch.stack([idx, idx.flip(0)]), torch.tensor([[2, 0], [1, 3]]))
    assert g_hid.shape == (2, 2, 3, 5, 16)  # slot, run, sample, token, width
    assert torch.equal(g_logits[0], logits) and torch.equal(g_hid[0, 0], full[2])
    assert torch.equal(g_hid[1, 1], cache.hiddens[3][idx.flip(0)])


def test_non_finite_loss_names_the_student_and_step(tmp_path):
    params, task, teacher, cache = tiny_setup()
    cache.hiddens[3] = float("nan")  # only students matched to the last teacher layer break
    runs = [Run("none", 0), Run("forward", 1)]
    with pytest.raises(NonFiniteLoss,
                       match=r"tiny/random/forward/seed1: non-finite .* epoch 0, step 0.*"
                             r"distill\.lr.*distill\.a_ce"):
        distill_together(task, params, teacher, cache, "random", runs, progress=False)
    with pytest.raises(NonFiniteLoss, match=r"tiny/random/forward/seed1: non-finite"):
        distill_one(task, params, teacher, cache, "random", "forward", 1, progress=False)


def test_val_every_together_equals_alone_and_logs_only_validated_epochs(tmp_path):
    params, task, teacher, cache = tiny_setup(inits=["random"], epochs=3, val_every=2)
    together = check_alone_equals_together(tmp_path, params, task, teacher, cache,
                                           ["none", "forward"])
    for r in make_runs(tmp_path / "together", ["none", "forward"]):
        curve = (r.out_dir / "live" / "plots" / "metrics" / "val" / "acc.tsv").read_text()
        steps = [int(line.split("\t")[0]) for line in curve.strip().splitlines()[1:]]
        assert steps == [1, 2]  # epochs 2 and 3 (the last), 0-based dvclive steps
    assert all(row["best_epoch"] in (1, 2) for row in together)
