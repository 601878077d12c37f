"""Encoder-decoder teacher and students through the same training protocol."""

import json

import pytest
import torch
from conftest import complete

from layerkd.config import parse_params
from layerkd.data import Split
from layerkd.distill import engines
from layerkd.distill import threads as thread_pool
from layerkd.distill.run import distill_one
from layerkd.stages.students import distill_all, teacher_cache
from layerkd.stages.teacher import train_teacher
from layerkd.tasks import Task
from layerkd.train.loop import NonFiniteLoss

TINY = complete({"model": {"width": 16, "heads": 2, "teacher_depth": 2},
        "teacher": {"epochs": 2, "batch_size": 16},
        "distill": {"epochs": 2, "student_depth": 1, "transfer_size": 24, "batch_size": 8,
                    "seeds": [0]}})
VOCAB = ["<pad>", "<bos>", "<eos>"] + [f"w{i}" for i in range(6)]


def copy_task() -> Task:
    """Copy a sequence of 4 words: source w.. EOS, target BOS w.. EOS."""
    g = torch.Generator().manual_seed(0)

    def split(n):
        words = torch.randint(3, len(VOCAB), (n, 4), generator=g)
        src = torch.cat([words, torch.full((n, 1), 2)], 1)
        tgt = torch.cat([torch.full((n, 1), 1), words, torch.full((n, 1), 2)], 1)
        return Split(src, tgt)

    return Task("scan", {"train": split(32), "val": split(8), "test": split(8)}, None, 0, 5,
                src_vocab=VOCAB, tgt_vocab=VOCAB, family_name="seq2seq")


def test_teacher_then_students_are_deterministic(tmp_path):
    raw = json.loads(json.dumps(TINY))
    raw["model"]["beams"] = 2  # test scores by beam search (validation stays greedy)
    params, task = parse_params(raw), copy_task()
    m = train_teacher(task, params, tmp_path / "t", tmp_path / "t.pt", False)
    assert 0 <= m["test_bleu"] <= 100 and 0 <= m["test_exact_match"] <= 100
    assert m["beams"] == 2
    teacher = task.build_model(2, 16, params)
    teacher.load_state_dict(torch.load(tmp_path / "t.pt")["state_dict"])
    cache = teacher_cache(task, params, teacher)
    runs = [distill_one(task, params, teacher, cache, "weight_copy", "in_order_random", 0,
                               tmp_path / f"s{i}", tmp_path / f"s{i}.pt", False)
            for i in range(2)]
    for r in runs:
        r.pop("wall_s")
    assert runs[0] == runs[1]
    assert runs[0]["beams"] == 2 and runs[0]["norm"] == "post"
    saved = json.loads((tmp_path / "s0" / "metrics.json").read_text())
    assert saved["pairs"] == [[0, 0], [1, saved["pairs"][1][1]]]
    assert (tmp_path / "s0" / "live" / "plots" / "metrics" / "val" / "bleu.tsv").exists()


def test_narrow_student_trains_and_saves_both_stacks_projections(tmp_path):
    raw = json.loads(json.dumps(TINY))
    raw["distill"].update(student_width=8, inits=["random"])
    params, task = parse_params(raw), copy_task()
    teacher = task.build_model(2, 16, params).eval()
    cache = teacher_cache(task, params, teacher)
    distill_one(task, params, teacher, cache, "random", "forward", 0,
                       ckpt_path=tmp_path / "s.pt", progress=False)
    state = torch.load(tmp_path / "s.pt")["state_dict"]
    assert state["enc_projections.0.weight"].shape == (16, 8)
    assert state["dec_projections.1.weight"].shape == (16, 8)


def test_generation_task_reports_bleu():
    task = copy_task()
    assert task.family.name == "seq2seq" and task.metric == "bleu"


def small_setup(**distill):
    raw = json.loads(json.dumps(TINY))
    raw["distill"].update(seeds=[0, 1], strategies=["forward", "in_order_random"], **distill)
    params, task = parse_params(raw), copy_task()
    teacher = task.build_model(2, 16, params).eval()
    return params, task, teacher, teacher_cache(task, params, teacher)


def test_pool_of_workers_equals_sequential_training_at_one_thread(tmp_path):
    params, task, teacher, cache = small_setup()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = distill_all(task, params, teacher, cache, "weight_copy", tmp_path / "r1",
                          tmp_path / "m1", workers=1)
    finally:
        torch.set_num_threads(threads)
    pool = distill_all(task, params, teacher, cache, "weight_copy", tmp_path / "r2",
                       tmp_path / "m2", workers=2)
    assert torch.get_num_threads() == threads  # restored after the pool
    assert [(r["strategy"], r["seed"]) for r in pool] == [
        ("forward", 0), ("forward", 1), ("in_order_random", 0), ("in_order_random", 1)]
    for a, b in zip(one, pool):
        a, b = dict(a), dict(b)
        assert a.pop("wall_s") > 0 and b.pop("wall_s") > 0
        assert a == b
        name = f"{a['strategy']}_seed{a['seed']}.pt"
        sa, sb = (torch.load(tmp_path / m / name)["state_dict"] for m in ("m1", "m2"))
        assert sa.keys() == sb.keys()
        for k in sa:
            torch.testing.assert_close(sa[k], sb[k], rtol=1e-5, atol=1e-6)
        run = tmp_path / "r2" / a["strategy"] / f"seed{a['seed']}"
        saved = json.loads((run / "metrics.json").read_text())
        assert saved == json.loads(json.dumps(b))  # the time is kept apart
        assert json.loads((run / "timing.json").read_text())["wall_s"] > 0
        assert (run / "live" / "plots" / "metrics" / "val" / "bleu.tsv").exists()
    # the pool trains exactly what distill_one trains alone (at one thread)
    try:
        torch.set_num_threads(1)
        alone = distill_one(task, params, teacher, cache, "weight_copy",
                                   "in_order_random", 1, progress=False)
    finally:
        torch.set_num_threads(threads)
    alone.pop("wall_s")
    assert alone == {k: v for k, v in pool[3].items() if k != "wall_s"}


def test_batch_students_one_means_one_at_a_time(tmp_path, monkeypatch):
    params, task, teacher, cache = small_setup(batch_students=1)
    seen = []
    real = engines.train_in_threads
    monkeypatch.setattr(engines, "train_in_threads",
                        lambda *a, workers=None, **k: seen.append(workers) or real(
                            *a, workers=workers, **k))
    distill_all(task, params, teacher, cache, "random", tmp_path / "r", tmp_path / "m",
                workers=2)
    assert seen == [1]


def test_worker_error_names_its_run(tmp_path, monkeypatch):
    params, task, teacher, cache = small_setup()
    real = thread_pool.train_run

    def failing(task, params, distiller, cache, init, strategy, seed, *a, **k):
        if (strategy, seed) == ("forward", 1):
            raise NonFiniteLoss("non-finite loss (nan) at epoch 0, step 0")
        return real(task, params, distiller, cache, init, strategy, seed, *a, **k)

    monkeypatch.setattr(thread_pool, "train_run", failing)
    threads = torch.get_num_threads()
    with pytest.raises(NonFiniteLoss) as info:
        distill_all(task, params, teacher, cache, "random", tmp_path / "r", tmp_path / "m",
                    workers=2)
    assert "in run scan/random/forward/seed1" in info.value.__notes__
    assert torch.get_num_threads() == threads
    # the failure stops the other runs: a later run never finishes
    assert not (tmp_path / "r" / "in_order_random" / "seed1" / "metrics.json").exists()


def pooled_copy_task() -> Task:
    task = copy_task()
    g = torch.Generator().manual_seed(1)
    words = torch.randint(3, len(VOCAB), (64, 4), generator=g)
    task.splits["pool"] = Split(torch.cat([words, torch.full((64, 1), 2)], 1),
                                torch.cat([torch.full((64, 1), 1), words,
                                           torch.full((64, 1), 2)], 1))
    return task


def test_teacher_pretrains_on_the_pool_then_fine_tunes(tmp_path, monkeypatch):
    from layerkd.stages import teacher as stage

    seen = []
    real_fit = stage.fit

    def recording_fit(model, loss_fn, n_train, evaluate, opt, *args, **kw):
        seen.append((n_train, opt.epochs, opt.lr))
        return real_fit(model, loss_fn, n_train, evaluate, opt, *args, **kw)

    monkeypatch.setattr(stage, "fit", recording_fit)
    raw = json.loads(json.dumps(TINY))
    raw["teacher"].update(pretrain_epochs=3, finetune_lr=0.0001)
    raw["tasks"] = ["scan"]
    raw["data"]["scan"]["n_pool"] = 64
    params = parse_params(raw)
    m = train_teacher(pooled_copy_task(), params, tmp_path / "t", tmp_path / "t.pt", False)
    assert seen == [(64, 3, params.teacher.lr), (32, 2, 0.0001)]  # pool, then training split
    assert m["n_pool"] == 64 and m["pretrain_epochs"] == 3
    assert (tmp_path / "t" / "pretrain" / "plots" / "metrics" / "val" / "bleu.tsv").exists()
    # model selection covers the pre-trained weights: never below them on validation
    assert m["val_bleu"] >= m["pretrain_val_bleu"]
    assert isinstance(m["kept_pretrained"], bool)


def test_pretraining_without_a_pool_names_the_parameter(tmp_path):
    raw = json.loads(json.dumps(TINY))
    raw["teacher"]["pretrain_epochs"] = 2
    raw["tasks"] = ["scan"]
    raw["data"]["scan"]["n_pool"] = 10
    with pytest.raises(ValueError, match=r"teacher.pretrain_epochs=2 needs a pre-training pool"):
        train_teacher(copy_task(), parse_params(raw), tmp_path / "t", tmp_path / "t.pt", False)
