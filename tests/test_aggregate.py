"""Table builders of the aggregation stage, on hand-made runs."""

import pandas as pd

from layerkd.aggregate import _with_score, calibration_table, summarise


def _runs():
    teachers = _with_score(pd.DataFrame([{"task": "a", "test_acc": 90.0},
                                         {"task": "g", "test_bleu": 60.0}]))
    rows = [{"task": "a", "init": "random", "strategy": "none", "seed": s, "test_acc": v}
            for s, v in enumerate([80.0, 82.0, 84.0])]
    rows += [{"task": "g", "init": "random", "strategy": "none", "seed": s, "test_bleu": v}
             for s, v in enumerate([57.0, 58.0, 59.0])]
    rows += [{"task": "g", "init": "weight_copy", "strategy": "none", "seed": 0, "test_bleu": 10.0}]
    return teachers, _with_score(pd.DataFrame(rows))


def test_calibration_table_lead_and_verdict():
    teachers, students = _runs()
    table = calibration_table(teachers, summarise(students), min_lead=5)
    assert list(table.index) == ["a", "g"]
    assert table.loc["a", "teacher lead"] == 8.0           # 90 - mean(80, 82, 84)
    assert table.loc["a", "lead at least 5"] == "yes"
    assert table.loc["g", "teacher lead"] == 2.0           # weight copy does not count
    assert table.loc["g", "lead at least 5"] == "NO"
    assert table.loc["g", "metric"] == "BLEU" and table.loc["a", "metric"] == "acc %"
    assert table.loc["a", "none (random init)"] == "82.0 ± 2.0"
    assert table.loc["a", "seeds"] == 3
