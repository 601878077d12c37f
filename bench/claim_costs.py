"""What each claim of the paper costs to regenerate: stages, time, command.

Reads the papermill duration of every committed executed notebook
(`notebooks/executed/*.ipynb`, written by the last `dvc repro` of each stage)
and adds up, per table or figure, the stages it needs from scratch. Prints a
Markdown table for docs/performance.md ("Reproducing each claim").

    python bench/claim_costs.py [--peak-gb 2.5]

`dvc repro -s aggregate` rewrites the tables from whatever runs exist; `dvc repro`
alone would first bring every upstream stage up to date.

Memory is the whole run's peak resident set (``/usr/bin/time -v dvc repro``):
stages run one after another, so no claim needs more.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "notebooks" / "executed"


def durations() -> dict[str, float]:
    """notebook stem -> papermill seconds."""
    return {p.stem: json.loads(p.read_text())["metadata"]["papermill"]["duration"]
            for p in sorted(EXECUTED.glob("*.ipynb"))}


def claims(params: dict) -> list[tuple[str, str, list[str]]]:
    """(claim, command, notebook stems it needs) for the default parameters."""
    tasks = params["tasks"]
    generation = [t for t in tasks if t in ("scan", "numbers_ro")]
    classification = [t for t in tasks if t not in generation]
    ab = params["ablations"]

    def main_runs(ts):
        return ["01_data"] + [f"02_teacher_{t}" for t in ts] + [f"03_distill_{t}" for t in ts]

    last = ["04_aggregate_1_results", "04_aggregate_2_statistics", "04_aggregate_3_ablations",
            "04_aggregate_4_angles"]
    return [
        ("Table 1, classification (+ figures, statistics)",
         "dvc repro " + " ".join(f"distill@{t}" for t in classification) + " && dvc repro -s aggregate",
         main_runs(classification) + last),
        ("Table 2, generation (+ figures, statistics)",
         "dvc repro " + " ".join(f"distill@{t}" for t in generation) + " && dvc repro -s aggregate",
         main_runs(generation) + last),
        ("Angles (table, histograms, heatmaps)", "dvc repro angles",
         main_runs(tasks) + ["05_angles"]),
        ("Depth ablation", "dvc repro " + " ".join(f"ablate@{t}" for t in ab["tasks"]),
         main_runs(ab["tasks"]) + [f"06_ablations_{t}" for t in ab["tasks"]]),
        ("Normalisation ablation",
         "dvc repro " + " ".join(f"ablate_objective@{t}" for t in ab["objective"]["tasks"]),
         main_runs(ab["objective"]["tasks"])
         + [f"06_ablations_objective_{t}" for t in ab["objective"]["tasks"]]),
        ("a_hid sweep", "dvc repro " + " ".join(f"ablate_a_hid@{t}" for t in ab["a_hid"]["tasks"]),
         main_runs(ab["a_hid"]["tasks"])
         + [f"06_ablations_a_hid_{t}" for t in ab["a_hid"]["tasks"]]),
        ("Transfer-set ablation",
         "dvc repro " + " ".join(f"ablate_transfer@{t}" for t in ab["transfer"]["tasks"]),
         main_runs(ab["transfer"]["tasks"])
         + [f"06_ablations_transfer_{t}" for t in ab["transfer"]["tasks"]]),
        ("Everything (paper/, metrics/)", "dvc repro", None),
    ]


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peak-gb", type=float, default=None, help="measured peak RSS of the run")
    args = ap.parse_args(argv)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    took = durations()
    rows = ["| claim | command | stages | time from scratch | peak memory |",
            "|---|---|---:|---:|---:|"]
    for claim, command, stems in claims(params):
        stems = sorted(took) if stems is None else stems
        missing = [s for s in stems if s not in took]
        if missing:
            raise SystemExit(f"no executed notebook for {missing}: run dvc repro first")
        minutes = sum(took[s] for s in stems) / 60
        memory = f"{args.peak_gb:.2f} GB" if args.peak_gb else "n/a"
        rows.append(f"| {claim} | `{command}` | {len(stems)} | {minutes:.1f} min | {memory} |")
    table = "\n".join(rows)
    print(table)
    return table


if __name__ == "__main__":
    main()
