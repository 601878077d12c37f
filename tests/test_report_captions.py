"""Every ablation table's caption names, per task, the objective its runs
recorded (not the parameters' defaults: a task's overrides change it), and
the paper's generated phrases agree in number."""

import re

import pandas as pd
from test_report_ablations import synthetic

from layerkd.config import parse_params
from layerkd.report import ablations as ar
from layerkd.report import objective as obr
from layerkd.report import paper_text
from layerkd.report.tables import depth_table, display_labels
from test_objective_ablations import raw_with

# two tasks with different recorded objectives, as mnist1d and numbers_ro have
RECORDED = {"mnist1d": {"distance": "sum_sq", "pair_reduce": "mean", "batch_divide": True,
                        "a_hid": 3.0, "temperature": 1.0},
            "numbers_ro": {"distance": "ln_mse", "pair_reduce": "sum", "batch_divide": False,
                           "a_hid": 3.0, "temperature": 2.0}}
NORM = {"mnist1d": "post", "numbers_ro": "pre"}


def two_task_runs():
    """The a_hid ablation of mnist1d and numbers_ro: main runs at a_hid 3 and
    variants at 1 and 10, each run with the objective it recorded."""
    raw = raw_with(a_hid={"tasks": ["mnist1d", "numbers_ro"], "values": [1, 3, 10],
                          "seeds": [0, 1]})
    raw["ablations"]["objective"]["tasks"] = []
    params = parse_params(raw)
    _, main, var = synthetic()
    main = pd.concat([main, main.assign(task="numbers_ro", metric="BLEU")], ignore_index=True)
    var = pd.concat([var, var.assign(task="numbers_ro", metric="BLEU")], ignore_index=True)

    def record(df):
        a_hid = df.get("variant", pd.Series("a_hid_3", df.index)).str.removeprefix("a_hid_")
        return df.assign(
            objective=[RECORDED[t] | {"a_hid": float(a)} for t, a in zip(df["task"], a_hid)],
            norm=df["task"].map(NORM))

    return params, ar.setting_runs(record(var), record(main), params, "a_hid")


def caption_settings(caption: str) -> dict[str, dict[str, str]]:
    """{task: {setting: value}} parsed back from 'task: setting value, ...; task: ...'."""
    per_task = caption.split("per task: ", 1)[1].rstrip(".")
    out = {}
    for group in per_task.split("; "):
        names, phrase = group.split(": ", 1)
        settings = dict(re.match(r"(.+) (\S+)$", s).groups() for s in phrase.split(", "))
        for name in names.split(", "):
            out[name.replace("\\_", "_")] = {k.replace("\\_", "_"): v.replace("\\_", "_")
                                             for k, v in settings.items()}
    return out


def test_every_caption_objective_equals_what_its_runs_recorded():
    params, runs = two_task_runs()
    caption = ar.caption(runs, params, "a_hid", "Weight of the hidden term")
    said = caption_settings(caption)
    assert set(said) == {"mnist1d", "numbers_ro"}
    for task, rec in RECORDED.items():
        assert said[task] == {"distance": rec["distance"], "pair reduction": rec["pair_reduce"],
                              "batch division": "yes" if rec["batch_divide"] else "no",
                              "temperature": f"{rec['temperature']:g}", "norm": NORM[task]}
    # the swept setting is named once, as swept, never as one task's value
    assert "a_hid" not in said["mnist1d"] and "a\\_hid in 1, 3, 10" in caption


def test_a_task_whose_runs_disagree_reads_mixed():
    params, runs = two_task_runs()
    records = runs["objective"].tolist()
    records[0] = records[0] | {"temperature": 4.0}
    said = caption_settings(obr.ablation_objective_caption(runs.assign(objective=records),
                                                           "a_hid"))
    assert said[runs["task"].iloc[0]]["temperature"] == "mixed"


def test_generated_phrases_agree_in_number():
    assert paper_text.counted(1, "seed") == "1 seed" and paper_text.counted(3, "seed") == "3 seeds"
    assert paper_text.and_list([1, 3]) == "1 and 3"
    assert paper_text.and_list([1, 3, 5]) == "1, 3 and 5"
    assert paper_text.width_sentence([], 64) == ""  # no width ablation, no sentence about one
    assert "width 32;" in paper_text.width_sentence([32], 64)
    raw = raw_with()
    raw["model"]["beams"], raw["ablations"]["depths"], raw["ablations"]["widths"] = 1, [1, 3], []
    m = paper_text.param_macros(parse_params(raw))
    assert m["Decoding"] == "greedy search" and m["WidthAblationSentence"] == ""
    raw["model"]["beams"] = 4
    assert paper_text.param_macros(parse_params(raw))["Decoding"] == "beam search (4 beams)"
    assert m["AblationDepthsBlocks"] == "1 and 3 blocks"
    raw["ablations"]["depths"] = [1]
    assert paper_text.param_macros(parse_params(raw))["AblationDepthsBlocks"] == "1 block"
    table = depth_table(pd.DataFrame({"task": "t", "student_depth": [1, 3], "strategy": "none",
                                      "score": [50.0, 60.0], "variant": ["depth1", "depth3"]}))
    assert table.index.tolist() == ["t: 1 block", "t: 3 blocks"]


def test_one_label_per_strategy_in_every_table():
    table = pd.DataFrame({"init": ["random", "weight_copy"], "run": ["all_to_one", "forward"],
                          "set by": ["reverse - in_order_random", "x"]}).set_index("run")
    out = display_labels(table)
    assert out.index.tolist() == ["all-to-one", "forward"]
    assert out["init"].tolist() == ["random init", "weight copy"]
    assert out["set by"].tolist()[0] == "reverse - in-order random (RAIL-KD)"
