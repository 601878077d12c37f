"""The decoder-only task as the pipeline runs it: its parameters, the teacher and
student stages (resume, LoRA), the official LLM objective and pairs, the angle
report and Table 3. Tiny sizes (the smoke profile's ``llm`` section)."""

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml

pytest.importorskip("transformers")

from layerkd.config import LLM_TASK, ConfigError, parse_params  # noqa: E402
from layerkd.data.generate import build_data  # noqa: E402
from layerkd.lm import students as ls  # noqa: E402
from layerkd.lm.task import Facts, selection_score  # noqa: E402
from layerkd.lm.teacher import load_teacher, train_teacher  # noqa: E402
from layerkd.paths import teacher_paths  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def smoke_raw() -> dict:
    return yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())


def smoke_llm(**distill):
    raw = smoke_raw()
    raw["llm"]["distill"].update(distill)
    return parse_params(raw)


@pytest.mark.parametrize("section, key, value, expected", [
    ("distill", "strategies", ["forward", "sideways"], "llm.distill.strategies: 'sideways'"),
    ("distill", "student_depth", 9, "llm.distill.student_depth=9 is not allowed: use 1..4"),
    ("distill", "hidden_distance", "cosine", "llm.distill.hidden_distance: 'cosine'"),
    ("model", "kv_heads", 3, "kv_heads must divide heads"),
    ("data", "n_train", 55, "at most n_pool (60)"),
    ("teacher", "warmup", 0.1, "llm.teacher.warmup: unknown parameter"),
])
def test_bad_llm_parameters_are_named(section, key, value, expected):
    raw = smoke_raw()
    raw["llm"][section][key] = value
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        parse_params(raw)


def test_pairs_follow_the_official_llm_code():
    params = parse_params(smoke_raw())  # teacher 4 blocks, student 2
    llm = params.llm
    assert ls.pairs(llm, "forward", 0) == [(1, 2), (2, 4)]  # blocks only, no embedding pair
    assert ls.pairs(llm, "reverse", 0) == [(1, 4), (2, 2)]
    assert ls.pairs(llm, "all_to_one", 0) == [(1, 2), (2, 2)]  # L_T // 2
    assert ls.pairs(llm, "random", 0) == ls.pairs(llm, "random", 0, epoch=5)  # a fixed shuffle
    objective = ls.objective(llm)
    assert (objective.distance, objective.match_embeddings, objective.pair_reduce) == (
        "unit_sq", False, "mean")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Data, teacher and every smoke student, in a temporary repository root."""
    root = tmp_path_factory.mktemp("llm")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        params = smoke_llm(strategies=["none", "forward", "in_order_random"])  # 12 runs
        card = build_data(LLM_TASK, params)
        facts = Facts.load()
        metrics = train_teacher(params.llm, facts, *teacher_paths(LLM_TASK), progress=False)
        teacher = load_teacher(params.llm, facts)
        runs = ls.run_students(params.llm, facts, teacher, progress=False)
        yield {"root": root, "params": params, "facts": facts, "card": card,
               "teacher_metrics": metrics, "teacher": teacher, "runs": runs}


def test_data_card_counts_every_split(trained):
    d = trained["params"].llm.data
    sizes = trained["card"]["sizes"]
    assert sizes == {"pool": 8 * d.n_pool, "train": 4 * d.n_train, "val": 4 * d.n_val,
                     "test": 4 * d.n_test}


def test_rehearsal_set_is_the_questions_then_the_pool(trained):
    facts = trained["facts"]
    both = facts.rehearsal_set()
    assert len(both) == len(facts["x_train"]) + len(facts["x_pool"])
    n, w = facts["x_train"].shape
    assert torch.equal(both[:n, :w], facts["x_train"])
    assert (both[:n, w:] == 0).all()


def test_every_run_records_its_settings(trained):
    llm = trained["params"].llm
    runs = trained["runs"]
    assert len(runs) == len(llm.distill.inits) * len(llm.distill.strategies) * len(llm.distill.seeds)
    for r in runs:
        assert 0 <= r["test_mc"] <= 100 and 0 <= r["test_em"] <= 100
        assert r["objective"]["distance"] == "unit_sq" and r["lora"]["r"] == 4
        assert (r["hid_share_last"] == 0) == (r["strategy"] == "none")
        assert 0 < r["n_trainable"] < r["n_params"]  # LoRA: adapters only
        assert r["copied_blocks"] == ([0, 3] if r["init"] == "weight_copy" else None)


def test_the_harness_and_the_native_scorer_agree_on_every_run(trained):
    """lm-eval's acc and exact_match (the authors' scorer, offline) equal
    ``score.choice_accuracy`` and ``score.exact_match`` for teacher and students."""
    for r in [trained["teacher_metrics"], *trained["runs"]]:
        assert r["test_mc"] == pytest.approx(r["test_mc_native"], abs=1e-4)
        assert r["test_em"] == pytest.approx(r["test_em_native"], abs=1e-4)


def test_harness_items_are_the_split_as_text(trained):
    from layerkd.lm.harness import split_items

    facts = trained["facts"]
    items = split_items(facts, "val")
    n = len(facts["x_val"])
    assert len(items["mc"]) == len(items["em"]) == n
    first = items["em"][0]
    assert first["question"].startswith("question :") and first["question"].endswith("answer :")
    assert first["answer"] in {w for w in facts.vocab}
    mc = items["mc"][0]
    assert len(mc["choices"]) == 4 and 0 <= mc["label"] < 4


def test_a_second_run_keeps_every_finished_student(trained, monkeypatch):
    monkeypatch.chdir(trained["root"])
    trained_again = []
    monkeypatch.setattr(ls, "train_student", lambda *a, **k: trained_again.append(a))
    again = ls.run_students(trained["params"].llm, trained["facts"], trained["teacher"],
                            progress=False)
    assert trained_again == [] and again == trained["runs"]


def test_other_settings_train_again(trained, monkeypatch, tmp_path):
    # in a copy: a run started again loses its folder and checkpoint until it finishes
    shutil.copytree(trained["root"], tmp_path / "root")
    monkeypatch.chdir(tmp_path / "root")
    llm = smoke_llm(lr=0.001, strategies=["none"], seeds=[0], inits=["weight_copy"]).llm
    calls = []
    monkeypatch.setattr(ls, "train_student", lambda *a, **k: calls.append(a[5:7]) or {})
    ls.run_students(llm, trained["facts"], trained["teacher"], progress=False)
    assert calls == [("none", 0)]


def test_teacher_of_other_parameters_is_refused(trained, monkeypatch):
    monkeypatch.chdir(trained["root"])
    raw = smoke_raw()
    raw["llm"]["teacher"]["lr"] = 0.01
    with pytest.raises(ValueError, match="rerun llm_teacher"):
        load_teacher(parse_params(raw).llm, trained["facts"])


def test_lora_student_starts_as_its_base_model(trained):
    llm = trained["params"].llm
    teacher = trained["teacher"]
    base = ls.layer_reduced_student(teacher, 2, "weight_copy", seed=0).eval()
    with torch.no_grad():
        ids = trained["facts"]["x_val"][:8]
        before = base(input_ids=ids).logits
        adapted = ls.with_lora(base, llm).eval()
        after = adapted(input_ids=ids).logits
    assert torch.allclose(before, after, atol=1e-6)  # LoRA's B starts at zero
    trainable = {n for n, p in adapted.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)


def test_saved_students_load_back_with_their_scores(trained, monkeypatch):
    monkeypatch.chdir(trained["root"])
    llm, facts = trained["params"].llm, trained["facts"]
    run = trained["runs"][-1]
    student = ls.load_student(llm, trained["teacher"], run["init"], run["strategy"], run["seed"])
    assert facts.scores(student, "test") == {"mc": run["test_mc_native"], "em": run["test_em_native"]}
    assert selection_score({"mc": 50.0, "em": 20.0}) == 35.0


def test_angle_report_covers_every_run(trained, monkeypatch):
    from layerkd.lm.angles import angle_report

    monkeypatch.chdir(trained["root"])
    params = trained["params"]
    report = angle_report(params.llm, params.angles, trained["facts"], trained["teacher"],
                          progress=False)
    d = params.llm.distill
    seeds = [s for s in params.angles.seeds if s in d.seeds]
    assert len(report["runs"]) == len(d.inits) * len(seeds) * (1 + len(d.strategies))
    depth = params.llm.model.teacher_depth
    assert len(report["teacher_distances"]["decoder"]) == depth + 1
    for run in report["runs"]:
        assert 0 <= run["decoder"]["acute_fraction"] <= 1
        assert len(run["decoder"]["heatmap"]) == d.student_depth
    json.dumps(report)  # written as JSON by the angle stage


def test_table3_and_comparison_rows(trained, monkeypatch):
    from layerkd.report import llm as rl

    monkeypatch.chdir(trained["root"])
    teacher, students = rl.collect_llm("results", trained["params"].llm)
    table = rl.table3(teacher, students)
    d = trained["params"].llm.distill
    assert list(table.columns) == list(rl.COLUMNS.values())
    assert len(table) == 1 + len(d.inits) * len(d.strategies)
    assert table.iloc[0, 0] == f"{trained['teacher_metrics']['test_mc']:.1f}"
    rows = rl.comparison_rows(students)
    assert set(rows["task"]) == set(rl.COMPARISON_TASKS.values())
    assert set(rows["n"]) == {len(d.seeds)}
    macros = rl.llm_macros(teacher, students)
    none = students[(students["init"] == "weight_copy") & (students["strategy"] == "none")]
    assert macros["LlmNoneEm"] == f"{none['test_em'].mean():.1f}"
