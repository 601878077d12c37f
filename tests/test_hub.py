"""The paper profile's hub tasks (section hub, profiles/paper.yaml): schema, data
builder, models (BERT; BART and T5 through the id map), weight copy, live
teachers, and the whole hub pipeline end to end on offline stand-ins (tiny
random BERT / BART / T5 folders, Hub-format JSON-lines files)."""

import copy
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from test_pipeline import copy_repository, pipeline_env

from layerkd.config import ConfigError, load_params, parse_params
from layerkd.hub.report import paper_rows
from layerkd.hub.standin import point_profile, write_standins

ROOT = Path(__file__).resolve().parents[1]
PAPER = yaml.safe_load((ROOT / "profiles" / "paper.yaml").read_text())


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    return write_standins(tmp_path_factory.mktemp("standins"))


@pytest.fixture(scope="module")
def pointed(standins):
    """profiles/paper.yaml pointed at the stand-ins (nothing else changed)."""
    return parse_params(point_profile(copy.deepcopy(PAPER), standins))


def test_paper_profile_is_valid_and_has_the_official_settings():
    p = load_params(ROOT / "profiles" / "paper.yaml")
    assert p.hub.tasks == ["mnli", "qqp", "qnli", "sst2", "dart", "wmt16_en_ro", "hellaswag",
                           "coqa"]
    assert p.hub.model.checkpoint == "bert-base-uncased" and p.hub.model.max_length == 128
    d = p.hub.distill
    assert (d.student_depth, d.epochs, d.batch_size, d.lr, d.all_to_one_target) == (3, 10, 32,
                                                                                     1e-5, 6)
    assert (d.a_ce, d.a_kl, d.a_hid, d.hidden_distance) == (1, 1, 3, "sum_sq")
    assert (p.hub.teacher.epochs, p.hub.teacher.lr) == (3, 2e-5)
    dart, wmt = p.hub.distill_of("dart"), p.hub.distill_of("wmt16_en_ro")
    assert p.hub.model_of("dart").checkpoint == "facebook/bart-large"
    assert (dart.epochs, dart.batch_size, dart.lr, dart.hidden_distance,
            dart.hidden_pair_reduce, dart.student_depth) == (18, 8, 1e-4, "mse", "sum", 3)
    assert p.hub.model_of("wmt16_en_ro").checkpoint == "t5-base"
    assert (wmt.epochs, wmt.temperature, wmt.hidden_distance, p.hub.teacher_of("wmt16_en_ro").lr,
            p.hub.datasets["wmt16_en_ro"].max_train) == (40, 2.0, "ln_mse", 5e-4, 100000)
    for task in ("hellaswag", "coqa"):
        spec, d = p.hub.datasets[task], p.hub.distill_of(task)
        assert spec.model.checkpoint == "Qwen/Qwen3-8B"
        assert (spec.teacher_lora.r, spec.student_lora.r, spec.student_lora.alpha) == (32, 128, 32)
        assert (d.student_depth, d.hidden_distance, d.match_embeddings, d.all_to_one_target,
                d.hidden_pair_reduce, d.a_hid) == (9, "unit_sq", False, 18, "mean", 3)
    assert (p.hub.distill_of("hellaswag").epochs, p.hub.distill_of("coqa").lr) == (160, 1e-4)


@pytest.mark.parametrize("change, words", [
    ({"tasks": ["mnli", "cola"]}, ["hub.tasks", "'cola'"]),
    ({"datasets": {"scan": PAPER["hub"]["datasets"]["sst2"]}, "tasks": ["scan"]},
     ["hub.datasets", "scan"]),
    ({"teacher": None}, ["hub.teacher is required"]),
    ({"teacher": {**PAPER["hub"]["teacher"], "pretrain_epochs": 2}}, ["pretrain_epochs"]),
    ({"distill": {**PAPER["hub"]["distill"], "strategies": ["forwards"]}},
     ["hub.distill.strategies", "forwards"]),
    ({"datasets": {**PAPER["hub"]["datasets"], "dart": {**PAPER["hub"]["datasets"]["dart"],
                                                         "source": None}}},
     ["generation dataset needs", "source"]),
    ({"datasets": {**PAPER["hub"]["datasets"], "dart": {**PAPER["hub"]["datasets"]["dart"],
                                                         "distill": {"epoch": 3}}}},
     ["hub.datasets.dart.distill", "epoch"]),
])
def test_hub_schema_errors_name_the_key(change, words):
    raw = copy.deepcopy(PAPER)
    raw["hub"].update(change)
    with pytest.raises(ConfigError) as err:
        parse_params(raw)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_hub_view_reads_the_checkpoint_and_checks_depths(pointed):
    view = pointed.for_task("mnli")
    m = view.model
    assert (m.width, m.heads, m.teacher_depth, m.norm, m.backend) == (32, 2, 12, "post",
                                                                       "transformers")
    assert view.distill == pointed.hub.distill and view.teacher == pointed.hub.teacher
    deep = pointed.model_copy(update={"hub": pointed.hub.model_copy(update={
        "distill": pointed.hub.distill.model_copy(update={"student_depth": 13})})})
    with pytest.raises(ConfigError, match="student_depth=13 is not allowed: use 1..12"):
        deep.for_task("mnli")


def test_a_generation_task_needs_a_generation_checkpoint(pointed):
    wrong = pointed.hub.datasets["dart"].model.model_copy(update={
        "checkpoint": pointed.hub.model.checkpoint})  # the BERT folder
    spec = pointed.hub.datasets["dart"].model_copy(update={"model": wrong})
    p = pointed.model_copy(update={"hub": pointed.hub.model_copy(update={
        "datasets": {**pointed.hub.datasets, "dart": spec}})})
    with pytest.raises(ConfigError, match="model_type bart or t5, got 'bert'"):
        p.for_task("dart")
    view = pointed.for_task("wmt16_en_ro")
    assert (view.model.norm, view.model.teacher_depth, view.model.beams) == ("pre", 12, 4)
    assert view.distill == pointed.hub.distill_of("wmt16_en_ro")
    assert view.distill.temperature == 2.0 and pointed.hub.distill.temperature == 1.0


@pytest.mark.parametrize("task, n_text", [("mnli", 2), ("sst2", 1)])
def test_hub_data_is_tokenised_in_the_stored_format(pointed, task, n_text):
    from layerkd.hub.data import build_hub_task, tokenizer_of

    arrays = build_hub_task(pointed.hub, task)
    spec, tok = pointed.hub.datasets[task], tokenizer_of(pointed.hub.model)
    assert len(arrays["y_val"]) == spec.n_val and len(arrays["y_test"]) == 60
    assert len(arrays["y_train"]) == 160 - spec.n_val
    x, mask = arrays["x_train"], arrays["mask_train"]
    assert x.shape[1:] == (24, 2) and mask.shape[1] == 23
    assert (x[:, 0, 0] == tok.cls_token_id).all()  # [CLS] first; the mask covers the rest
    assert ((x[:, 1:, 0] != tok.pad_token_id) == mask).all()
    assert (x[..., 1].max(1) == (n_text - 1)).all()  # a second segment only for pairs
    assert (x[:, :, 0] != tok.unk_token_id).all()


def test_hub_model_weight_copy_and_live_teacher(pointed, tmp_path, monkeypatch):
    from layerkd.data import Split
    from layerkd.distill.cache import LiveTeacher, TeacherCache
    from layerkd.hub.model import HubBert, hub_config, weight_copy_hub_
    from layerkd.strategies import forward_targets

    ckpt = pointed.hub.model.checkpoint
    teacher = HubBert(hub_config(ckpt, 3, 12), checkpoint=ckpt).eval()
    student = weight_copy_hub_(HubBert(hub_config(ckpt, 3, 3)), teacher).eval()
    x = torch.randint(5, 40, (4, 10, 2))
    x[..., 1] = 0
    mask = torch.ones(4, 9, dtype=torch.bool)
    mask[0, 6:] = False
    logits, hiddens = teacher(x, mask)
    assert logits.shape == (4, 3) and len(hiddens) == 13 and hiddens[0].shape == (4, 10, 32)
    s, t = student.model.bert, teacher.model.bert
    for i, k in enumerate(forward_targets(3, 12)):
        assert torch.equal(s.encoder.layer[i].output.dense.weight,
                           t.encoder.layer[k - 1].output.dense.weight)
    assert torch.equal(s.embeddings.word_embeddings.weight, t.embeddings.word_embeddings.weight)
    assert not torch.equal(student.model.classifier.weight, teacher.model.classifier.weight)
    split = Split(x, torch.zeros(4, dtype=torch.long), mask)
    live, cached = LiveTeacher(teacher, split), TeacherCache.compute(teacher, split)
    idx = torch.tensor([2, 0])
    (l1, h1), (l2, h2) = live.batch(idx, [6, 12]), cached.batch(idx, [6, 12])
    assert torch.allclose(l1, l2, atol=1e-5)
    assert all(torch.allclose(h1[k], h2[k], atol=1e-5) for k in (6, 12))


def run_hub_report(standins, tmp_path, tasks: list[str], epochs: int | None = None,
                   changes=None):
    """`dvc repro hub_report` in a copy of the repository, with profiles/paper.yaml
    pointed at the stand-ins, ``tasks`` only, one seed (the CI budget), and each
    task's teacher and students trained ``epochs`` epochs when given; the network
    is blocked in every process. Returns (repository, profile, dvc's stdout)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    copy_repository(repo)
    profile = point_profile(copy.deepcopy(PAPER), standins)
    profile["hub"]["tasks"] = tasks
    profile["hub"]["distill"]["seeds"] = [0]
    for task in tasks if epochs else []:
        profile["hub"]["datasets"][task]["teacher"]["epochs"] = epochs
        profile["hub"]["datasets"][task]["distill"]["epochs"] = epochs
    if changes:
        changes(profile)
    (repo / "params.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    offline = tmp_path / "offline"
    result = subprocess.run(["dvc", "repro", "hub_report"], cwd=repo,
                            env=pipeline_env(offline), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    attempts = offline / "attempts.log"
    assert not attempts.exists() or attempts.read_text() == ""
    return repo, profile, result.stdout


@pytest.mark.slow
def test_paper_profile_runs_end_to_end_on_standins(standins, tmp_path):
    """`dvc repro hub_report` with profiles/paper.yaml pointed at the stand-ins (one
    task, one seed: the CI budget), the network blocked in every process."""
    repo, profile, stdout = run_hub_report(standins, tmp_path, ["mnli"])
    ran = [line for line in stdout.splitlines() if line.startswith("Running stage")]
    assert ran == [f"Running stage '{s}':" for s in (
        "check", "hub_data@mnli", "hub_teacher@mnli", "hub_distill@mnli", "hub_report@mnli")]
    d = profile["hub"]["distill"]
    runs = sorted((repo / "results" / "mnli" / "students").glob("*/*/seed*/metrics.json"))
    assert len(runs) == len(d["inits"]) * len(d["strategies"])
    first = json.loads(runs[0].read_text())
    assert (first["student_depth"], first["objective"]["distance"],
            first["all_to_one_target"]) == (3, "sum_sq", 6)
    report = (repo / "paper" / "hub" / "mnli.md").read_text()
    paper_teacher = paper_rows("mnli_m").query("model == 'teacher' and init == 'replication'")
    assert "paper (mnli_m)" in report and f"{paper_teacher.value.iloc[0]:.1f}" in report
    teacher = json.loads((repo / "results" / "mnli" / "teacher" / "metrics.json").read_text())
    assert teacher["n_train"] == 160 - 32 and np.isfinite(teacher["test_acc"])
    assert (repo / "notebooks" / "executed" / "hub_data_mnli.ipynb").exists()


@pytest.mark.slow
def test_paper_profile_generation_runs_end_to_end_on_standins(standins, tmp_path):
    """`dvc repro hub_report` on the generation stand-ins (BART on DART-format, T5 on
    WMT16-format data), one seed and one epoch each (the CI budget), network blocked."""
    repo, profile, _ = run_hub_report(standins, tmp_path, ["dart", "wmt16_en_ro"], epochs=1)
    d = profile["hub"]["distill"]
    for task, distance, temperature in (("dart", "mse", 1.0), ("wmt16_en_ro", "ln_mse", 2.0)):
        runs = sorted((repo / "results" / task / "students").glob("*/*/seed*/metrics.json"))
        assert len(runs) == len(d["inits"]) * len(d["strategies"])
        for run in map(json.loads, (r.read_text() for r in runs)):
            objective = run["objective"]
            assert (objective["distance"], objective["temperature"], run["beams"]) == (
                distance, temperature, profile["hub"]["datasets"][task]["model"]["beams"])
            assert run["dec_pairs"] is not None and np.isfinite(run["test_bleu"])
        teacher = json.loads((repo / "results" / task / "teacher" / "metrics.json").read_text())
        assert 0 <= teacher["test_bleu"] <= 100
        report = (repo / "paper" / "hub" / f"{task}.md").read_text()
        paper = paper_rows(task, kind="generation")
        teacher_row = paper.query("model == 'teacher' and init == 'replication'")
        assert "test BLEU" in report and f"{teacher_row.value.iloc[0]:.1f}" in report


@pytest.mark.slow
def test_paper_profile_llm_runs_end_to_end_on_standins(standins, tmp_path):
    """`dvc repro hub_report` on the LLM stand-ins (a 36-block Qwen3 with LoRA on
    HellaSwag- and CoQA-format data, scored by the harness), one seed and one epoch
    each (the CI budget), the network blocked."""
    def fewer_stories(profile):
        profile["hub"]["datasets"]["coqa"]["max_train"] = 16  # 80 turns

    repo, profile, _ = run_hub_report(standins, tmp_path, ["hellaswag", "coqa"], epochs=1,
                                      changes=fewer_stories)
    for task, metric in (("hellaswag", "acc"), ("coqa", "em")):
        d = profile["hub"]["datasets"][task]["distill"]
        runs = sorted((repo / "results" / task / "students").glob("*/*/seed*/metrics.json"))
        assert len(runs) == len(d["inits"]) * len(profile["hub"]["distill"]["strategies"])
        for run in map(json.loads, (r.read_text() for r in runs)):
            assert (run["objective"]["distance"], run["student_depth"], run["init"]) == (
                "unit_sq", 9, "weight_copy")
            assert 0 <= run[f"test_{metric}"] <= 100
            if run["strategy"] == "all_to_one":
                assert {t for _, t in run["pairs"]} == {18}
            if run["strategy"] == "forward":
                assert run["pairs"] == [[i, 4 * i] for i in range(1, 10)]  # blocks only
        teacher = json.loads((repo / "results" / task / "teacher" / "metrics.json").read_text())
        assert 0 <= teacher[f"test_{metric}"] <= 100 and teacher["n_params"] > 0
        report = (repo / "paper" / "hub" / f"{task}.md").read_text()
        spec = profile["hub"]["datasets"][task]
        paper_teacher = paper_rows(spec["paper_key"], kind=spec["kind"]).query(
            "model == 'teacher'")
        assert f"{paper_teacher.value.iloc[0]:.1f}" in report


def test_standin_command_writes_a_valid_pointed_profile(tmp_path):
    import sys

    result = subprocess.run([sys.executable, "-m", "layerkd.hub.standin", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "paper_standin.yaml" in result.stdout
    p = load_params(tmp_path / "paper_standin.yaml")
    assert p.hub.tasks == ["mnli", "sst2", "dart", "wmt16_en_ro", "hellaswag", "coqa"]
    assert p.hub.model.checkpoint == str((tmp_path / "bert").resolve())
    assert p.hub.datasets["sst2"].data_files["validation"].endswith("sst2/validation.jsonl")
    assert p.hub.distill == load_params(ROOT / "profiles" / "paper.yaml").hub.distill


def test_generation_data_expands_references_and_keeps_them_for_scoring(pointed):
    from layerkd.hub.data import build_hub_task, linearise
    from layerkd.models import BOS_ID, EOS_ID, PAD_ID

    dart = build_hub_task(pointed.hub, "dart")
    n_val = pointed.hub.datasets["dart"].n_val
    assert len(dart["y_train"]) == 2 * (160 - n_val)  # two references each: two pairs
    assert dart["refs_test"].shape == (60, 2) and dart["refs_val"].shape == (n_val, 2)
    assert len(dart["y_test"]) == 60 and "refs_train" not in dart
    y = dart["y_train"]
    assert y.shape[1] == 16 + 1 and (y[:, 0] == BOS_ID).all()
    assert ((y == EOS_ID).sum(1) == 1).all() and (y[:, 1:] != BOS_ID).all()
    assert (dart["x_train"][:, -1] == PAD_ID).any()
    assert linearise([["a", "b", "c"], ["d", "e", "f"]]) == "<H> a <R> b <T> c <H> d <R> e <T> f"
    wmt = build_hub_task(pointed.hub, "wmt16_en_ro")
    assert len(wmt["y_train"]) == 160 - n_val and wmt["refs_test"].shape == (60, 1)


def test_id_map_renumbers_and_hub_seq2seq_computes_what_the_checkpoint_computes(pointed):
    """Loss, hidden states and beam decodes of HubSeq2Seq (native ids) equal those of
    the checkpoint's own model on its own ids, for BART (start = EOS) and T5 (start =
    padding): the clashes the id map resolves."""
    from transformers import AutoModelForSeq2SeqLM

    from layerkd.distill.objective import shift_target
    from layerkd.hub.seq2seq import NEVER, HubSeq2Seq, IdMap, seq2seq_config
    from layerkd.models import BOS_ID

    ids = IdMap(10, pad=0, eos=1, start=0)  # T5's ids
    assert ids.to_checkpoint_ids.tolist()[:4] == [0, 0, 1, 2]
    assert torch.equal(ids.to_checkpoint(ids.to_native(torch.arange(10))), torch.arange(10))
    for task in ("dart", "wmt16_en_ro"):
        ckpt = pointed.hub.model_of(task).checkpoint
        ours = HubSeq2Seq(seq2seq_config(ckpt, 12), checkpoint=ckpt).eval()
        theirs = AutoModelForSeq2SeqLM.from_pretrained(ckpt).eval()
        torch.manual_seed(0)
        vocab = theirs.config.vocab_size
        src_hf, tgt_hf = torch.randint(3, vocab, (3, 7)), torch.randint(3, vocab, (3, 5))
        tgt_hf[:, -1] = theirs.config.eos_token_id
        src = ours.ids.to_native(src_hf)
        tgt = torch.cat([torch.full((3, 1), BOS_ID), ours.ids.to_native(tgt_hf)], 1)
        tgt_in, labels, in_mask, _ = shift_target(tgt, 0)
        with torch.no_grad():
            logits, enc, dec = ours(src, src != 0, tgt_in, in_mask)
            out = theirs(input_ids=src_hf, labels=tgt_hf, output_hidden_states=True)
        ce = -torch.log_softmax(logits, -1).gather(-1, labels[..., None]).mean()
        assert torch.allclose(ce, out.loss, atol=1e-5)
        assert (logits[..., BOS_ID] == NEVER).all()
        assert all(torch.allclose(a, b) for a, b in zip(dec, out.decoder_hidden_states))
        assert len(enc) == 13
        decoded = ours.generate(src, max_len=6, beams=2)
        expected = theirs.generate(input_ids=src_hf, max_new_tokens=6, num_beams=2,
                                   length_penalty=1.0, early_stopping=True, do_sample=False)
        assert torch.equal(ours.ids.to_checkpoint(decoded), expected[:, 1:])


def test_hub_seq2seq_weight_copy_and_live_teacher(pointed):
    from layerkd.data import Split
    from layerkd.distill.cache import LiveSeq2SeqTeacher, Seq2SeqTeacherCache
    from layerkd.families.hub import HubSeq2Seq as Family
    from layerkd.hub.seq2seq import HubSeq2Seq, seq2seq_config
    from layerkd.strategies import forward_targets

    for task, layers in (("dart", "layers"), ("wmt16_en_ro", "block")):
        ckpt = pointed.hub.model_of(task).checkpoint
        teacher = HubSeq2Seq(seq2seq_config(ckpt, 12), checkpoint=ckpt).eval()
        student = Family().initialise(HubSeq2Seq(seq2seq_config(ckpt, 3)), "weight_copy",
                                      teacher).eval()
        for stack in ("encoder", "decoder"):
            s = getattr(student.hf.get_encoder() if stack == "encoder" else
                        student.hf.get_decoder(), layers)
            t = getattr(teacher.hf.get_encoder() if stack == "encoder" else
                        teacher.hf.get_decoder(), layers)
            for i, k in enumerate(forward_targets(3, 12)):
                a, b = next(iter(s[i].parameters())), list(t[k - 1].parameters())
                assert any(torch.equal(a, w) for w in b)
        src = torch.randint(3, 20, (4, 8))
        tgt = torch.cat([torch.ones(4, 1, dtype=torch.long), torch.randint(3, 20, (4, 5)),
                         torch.full((4, 1), 2)], 1)
        split = Split(src, tgt)
        live, cached = LiveSeq2SeqTeacher(teacher, split), Seq2SeqTeacherCache.compute(
            teacher, src, tgt)
        idx = torch.tensor([3, 1])
        (l1, e1, d1), (l2, e2, d2) = live.batch(idx, [4, 12], [8]), cached.batch(idx, [4, 12], [8])
        assert torch.allclose(l1, l2, atol=1e-5) and torch.allclose(d1[8], d2[8], atol=1e-5)
        assert all(torch.allclose(e1[k], e2[k], atol=1e-5) for k in (4, 12))


def test_multi_reference_bleu_scores_against_any_reference():
    from layerkd.train.evaluate import corpus_bleu, multi_reference_bleu

    hyps = ["the cat sat on the mat", "a dog ran in the park today"]
    one = [["the cat sat on the mat"], ["a dog walked in a park"]]
    two = [["the cat sat on the mat"], ["a dog walked in a park", "a dog ran in the park today"]]
    assert multi_reference_bleu(hyps, one) == pytest.approx(
        corpus_bleu(hyps, [r[0] for r in one]))
    assert multi_reference_bleu(hyps, two) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="2 hypotheses vs 1"):
        multi_reference_bleu(hyps, one[:1])


def fit_steps(model, loss_fn, n: int, steps: int = 300, lr: float = 3e-3) -> None:
    """``steps`` AdamW steps on seeded batches of 16 of ``n`` examples."""
    optimiser, gen = torch.optim.AdamW(model.parameters(), lr=lr), torch.Generator().manual_seed(0)
    for _ in range(steps):
        loss, _ = loss_fn(torch.randint(n, (16,), generator=gen))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


def test_a_hub_seq2seq_model_learns_through_the_id_map(pointed):
    """Data -> native ids -> BART -> decodes -> detokenised multi-reference BLEU: a
    fresh 2 + 2-block model of the stand-in BART config fitted on the DART-format
    pairs (300 steps) writes the test references (untrained: near 0)."""
    from types import SimpleNamespace

    from layerkd.data import Split
    from layerkd.families.hub import HubSeq2Seq as Family
    from layerkd.families.seq2seq import ce_loss_fn
    from layerkd.hub.data import build_hub_task
    from layerkd.hub.seq2seq import HubSeq2Seq, seq2seq_config

    arrays = build_hub_task(pointed.hub, "dart")
    ckpt = pointed.hub.model_of("dart").checkpoint
    split = lambda name: Split(*(torch.from_numpy(arrays[f"{k}_{name}"]) for k in "xy"))  # noqa
    task = SimpleNamespace(splits={"test": split("test")}, tokenizer=ckpt, references={
        "test": [[r for r in row if r] for row in arrays["refs_test"].tolist()]})
    torch.manual_seed(0)
    model, train = HubSeq2Seq(seq2seq_config(ckpt, 2)), split("train")
    before = Family().evaluate(model, task, "test")["bleu"]
    fit_steps(model, ce_loss_fn(model, train), len(train))
    after = Family().evaluate(model, task, "test")
    assert before < 10 and after["bleu"] > 80, (before, after)


def test_lm_data_reads_the_completion_only_as_the_official_pairs(pointed):
    from layerkd.hub.data import build_hub_task, tokenizer_of
    from layerkd.hub.lm_data import coqa_pairs, encode_sft, hellaswag_pairs

    doc = {"activity_label": "Roof shingle removal", "ctx_a": "A man sits on a roof.",
           "ctx_b": "he", "endings": ["is using wrap.", "starts [title] pulling up roofing."],
           "label": "1"}
    assert hellaswag_pairs(doc) == [("Roof shingle removal: A man sits on a roof. He",
                                     "starts. pulling up roofing.")]
    story = {"story": "S", "questions": {"input_text": ["q1", "q2"]},
             "answers": {"input_text": ["a1", "a2"]}}
    assert coqa_pairs(story) == [("S\n\nQ: q1\n\n", "A: a1\n\n"), ("S\n\nQ: q2\n\n", "A:")]
    tok = tokenizer_of(pointed.hub.model_of("coqa"))
    arrays = encode_sft([("Q: k0\n\n", "A: v1"),  # prompt + completion, as TRL
                         ("k2 v3 k4 v5 k6 v7 Q: what k4\n\n", "A: v5")],
                        tok, max_length=6)
    x, real, loss = arrays["x"], arrays["mask"], arrays["y"]
    assert tok.decode(x[0][loss[0]]) == "A: v1 <|im_end|>"   # completion and EOS only
    assert tok.decode(x[1][loss[1]]) == "A: v5 <|im_end|>"   # the first tokens were cut
    assert real[1].all() and real[0].sum() == 5 and not real[0, -1]  # right-padded
    built = build_hub_task(pointed.hub, "coqa")
    assert len(built["docs_test"]) == 60 and len(built["x_train"]) == 5 * (80 - 32)


def test_coqa_harness_functions_follow_the_harness_definition():
    from layerkd.hub.coqa_harness import doc_to_target, doc_to_text, normalise, scores

    doc = {"story": "Ann had a red cat.", "questions": {"input_text": ["Who?", "What colour?"]},
           "answers": {"input_text": ["Ann", "red"]},
           "additional_answers": {"0": {"input_text": ["Ann", "Red"]},
                                  "1": {"input_text": ["Ann", "a red one"]}}}
    assert doc_to_text(doc) == "Ann had a red cat.\n\nQ: Who?\n\nA: Ann\n\nQ: What colour?\n\nA:"
    assert doc_to_target(doc) == ["red", "a red one"]  # "Red" repeats "red" (case-blind)
    assert normalise("The  Red, cat!") == "red cat"
    assert scores(["red"], "Red.") == {"em": 1, "f1": 1.0}
    # two golds: each left out in turn, the best of the other counts
    assert scores(["red", "a red one"], "red")["em"] == 0.5
    assert scores(["red cat"], "red dog")["f1"] == 0.5


def test_hub_lm_weight_copy_lora_and_live_teacher(pointed):
    from layerkd.data import Split
    from layerkd.distill.cache import LiveTeacher
    from layerkd.families.hub_lm import HubLM
    from layerkd.hub.causal_lm import HubCausalLM, causal_lm_config
    from layerkd.lm.qwen import OFFICIAL_COPY_MAP

    ckpt = pointed.hub.model_of("hellaswag").checkpoint
    teacher = HubCausalLM(causal_lm_config(ckpt, 36), checkpoint=ckpt).eval()
    student = HubCausalLM(causal_lm_config(ckpt, 9))
    student.pending_lora = pointed.hub.datasets["hellaswag"].student_lora
    student = HubLM().initialise(student, "weight_copy", teacher).eval()
    assert student.lora
    for i, k in enumerate(OFFICIAL_COPY_MAP[36]):  # 0, 4, 9, ..., 35
        torch.testing.assert_close(student.hf.model.layers[i].mlp.down_proj.base_layer.weight,
                                   teacher.hf.model.layers[k].mlp.down_proj.weight)
    assert torch.equal(student.hf.lm_head.weight, teacher.hf.lm_head.weight)  # no adapter
    trainable = {n for n, q in student.named_parameters() if q.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    x = torch.randint(3, 40, (2, 6))
    mask = torch.ones_like(x, dtype=torch.bool)
    with torch.no_grad():
        for q in student.parameters():  # adapters that change the output
            if q.requires_grad:
                q.add_(0.05)
        before = student(x, mask)[0]
        after = student.merge()(x, mask)[0]
    assert not student.lora and torch.allclose(before, after, atol=1e-5)
    logits, hiddens = teacher(x, mask)
    assert logits.shape == (2, 6, teacher.hf.config.vocab_size) and len(hiddens) == 37
    live = LiveTeacher(teacher, Split(x, mask, mask))
    l1, h1 = live.batch(torch.tensor([1]), [18, 36])
    assert torch.allclose(l1, logits[1:], atol=1e-5) and torch.allclose(h1[18], hiddens[18][1:])


def test_a_hub_lm_learns_hellaswag_scored_by_the_harness(pointed):
    """Data -> SFT pairs -> Qwen3 -> lm-eval's hellaswag definition on local documents:
    a fresh 2-block model of the stand-in config fitted on the HellaSwag-format pairs
    (300 steps) picks the right ending (untrained: near chance, 25 %)."""
    import json
    from types import SimpleNamespace

    from layerkd.data import Split
    from layerkd.families.hub_lm import HubLM, sft_loss_fn
    from layerkd.hub.causal_lm import HubCausalLM, causal_lm_config
    from layerkd.hub.data import build_hub_task

    arrays = build_hub_task(pointed.hub, "hellaswag")
    ckpt = pointed.hub.model_of("hellaswag").checkpoint
    train = Split(*(torch.from_numpy(arrays[f"{k}_train"]) for k in ("x", "y", "mask")))
    task = SimpleNamespace(tokenizer=ckpt, max_len=64, lm_settings={"max_new_tokens": None},
                           documents={"test": [json.loads(d) for d in arrays["docs_test"]]})
    torch.manual_seed(0)
    model = HubCausalLM(causal_lm_config(ckpt, 2))
    before = HubLM().evaluate(model, task, "test")["acc"]
    fit_steps(model, sft_loss_fn(model, train), len(train))
    after = HubLM().evaluate(model, task, "test")["acc"]
    assert before < 50 and after > 80, (before, after)
