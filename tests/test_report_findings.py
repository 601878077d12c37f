"""The interpretation cells: numbers computed from the runs, in words."""

import pandas as pd

from layerkd.report.findings import ablation_findings, distill_findings


def runs(init="random"):
    rows = []
    for strategy, base in [("none", 80.0), ("forward", 84.0), ("reverse", 82.0)]:
        for seed, noise in enumerate([-1.0, 0.0, 1.0]):
            rows.append({"init": init, "strategy": strategy, "seed": seed,
                         "variant": "depth1", "test_acc": base + noise})
    return pd.DataFrame(rows)


def test_distill_findings_state_spread_gain_and_teacher_lead():
    text = distill_findings(pd.concat([runs(), runs("weight_copy")]), "test_acc", 90.0)
    assert "**random**" in text and "**weight_copy**" in text
    assert "span 4.00 points" in text and "median seed standard deviation of 1.00" in text
    assert "10.00 below the teacher (90.00)" in text
    assert "+2.00 to +4.00" in text and "3 seeds" in text


def test_ablation_findings_per_variant_and_when_nothing_trained():
    assert "`depth1`: the strategy means span 4.00 points" in ablation_findings(runs(),
                                                                                 "test_acc")
    assert "main runs" in ablation_findings(pd.DataFrame(), "test_acc")
