"""Every location the pipeline reads or writes, named once (relative to the
repository root, where DVC runs each stage)."""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path("data")
HUB_DATA = Path("data_hub")  # hub tasks' arrays (config.hub): stage hub_data, not data
RESULTS = Path("results")
MODELS = Path("models")  # teachers and the main runs' students (what `angles` reads)
ABLATION_MODELS = Path("ablation_models")  # apart, so that no ablation makes `angles` stale
METRICS = Path("metrics")
TIMINGS = Path("timings")  # wall-clock times of the runs: no stage depends on them
# In a student run's folder: the hash of the settings it finished under, written
# last, once its checkpoint and metrics are saved (so a folder holding it is a
# finished run: stages.students, safeguard); PENDING holds it while it trains.
STAMP = "settings.sha256"
PENDING = "settings.pending"
PAPER = Path("paper")
TABLES = PAPER / "tables"
FIGURES = PAPER / "figures"
MACROS = PAPER / "macros.tex"
REPORT = PAPER / "README.md"
ANGLES = RESULTS / "angles"
HUB_REPORT = PAPER / "hub"  # hub tasks' tables beside the paper's numbers
PAPER_RESULTS = Path("reference/official_results.csv")  # the paper's own numbers


def enter_repository() -> Path:
    """Make the repository root (the folder holding dvc.yaml) the working
    directory, as DVC does for every stage: a notebook opened in JupyterLab
    starts in notebooks/, and every path here is relative to the root."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").exists():
            os.chdir(folder)
            return folder
    raise FileNotFoundError(f"no dvc.yaml in {here} or above: open the notebook inside the "
                            "repository")


def data_file(task: str, root: str | Path = DATA) -> Path:
    """A task's generated arrays (with their checksum card beside them)."""
    return Path(root) / f"{task}.npz"


def teacher_paths(task: str) -> tuple[Path, Path]:
    """(results folder, checkpoint) of a task's teacher."""
    return RESULTS / task / "teacher", MODELS / task / "teacher.pt"


def student_dirs(task: str, init: str) -> tuple[Path, Path]:
    """(results folder, checkpoint folder) of one task's students of one initialisation."""
    return RESULTS / task / "students" / init, MODELS / task / "students" / init


def run_paths(results_dir: Path, models_dir: Path, strategy: str, seed: int) -> tuple[Path, Path]:
    """(results folder, checkpoint) of one run: <strategy>/seed<k>/ and <strategy>_seed<k>.pt."""
    return results_dir / strategy / f"seed{seed}", models_dir / f"{strategy}_seed{seed}.pt"


def timing_file(results_dir: str | Path) -> Path:
    """The wall-clock time of the run whose results are in ``results_dir``.
    ``timings/`` mirrors ``results/`` and no stage depends on it, so a rerun that
    changes only a time leaves every stage after it up to date; a folder outside
    ``results/`` (a test's) keeps its time beside its metrics."""
    try:
        return TIMINGS / Path(results_dir).relative_to(RESULTS) / "timing.json"
    except ValueError:
        return Path(results_dir) / "timing.json"


def variant_dirs(task: str, variant: str, kind: str = "shape") -> tuple[Path, Path]:
    """(results folder, checkpoint folder) of one ablation variant; ``kind`` is
    ``shape`` (depth and width) or a setting ablation (``objective``, ``a_hid``)."""
    if kind == "shape":
        return RESULTS / task / "ablations" / variant, ABLATION_MODELS / "shape" / task / variant
    return (RESULTS / task / f"ablations_{kind}" / variant,
            ABLATION_MODELS / kind / task / variant)


def metrics_file(task: str) -> Path:
    """The headline metrics DVC tracks for a task's distillation stage."""
    return METRICS / f"{task}.json"


def angles_file(task: str) -> Path:
    return ANGLES / f"{task}.json"
