"""Ablations: the distillation runs again with one setting changed.

Depth and width (stage ``ablate``): each variant is ``distill`` with
``student_depth`` (or ``student_width``) replaced and the strategies, seeds and
initialisation of ``ablations``; results/<task>/ablations/<variant>/...

The transfer-set size (stage ``ablate_transfer``): each variant is ``distill``
on the first fraction f of the transfer set from one initialisation (``frac<f>_<init>``),
for the main runs' number of optimiser steps; results/<task>/ablations_transfer/...

The matching objective (stages ``ablate_objective`` and ``ablate_a_hid``): each
variant is ``distill`` with the hidden distance (``distance_<d>``) or the
hidden weight (``a_hid_<v>``) replaced; results/<task>/ablations_<kind>/<variant>/...
(a folder per stage: DVC outputs may not overlap). The task's own setting is
the main runs (not trained again); ``none`` has no hidden term and is trained
once (or not at all when the main runs are reused) and is every value's baseline.

Every variant trains through the same ``stages.distill_all`` as the main runs
and writes <results>/<variant>/<strategy>/seed<k>/metrics.json (the variant is
the folder name; each run records its student depth, width and objective).
"""

from __future__ import annotations

from ..config import NO_HIDDEN, SETTING_ABLATIONS, Params, parse_params
from ..paths import variant_dirs
from ..tasks import Task
from .students import distill_all, teacher_cache
from .teacher import load_teacher


def variants(params: Params) -> dict[str, Params]:
    """{"depth3": params with 3-block students, ..., "width32": ...}: the
    ablation runs of one task (pass ``params.for_task(task)``). The task's
    default depth is left out: its runs are the main runs of the distill stage
    (``report.tables.depth_runs`` puts them back beside the variants)."""
    a = params.ablations
    base = _base(params, a.strategies, a.seeds, a.init)
    out = {}
    for depth in a.depths:
        if depth == params.distill.student_depth:
            continue  # the main runs (distill stage) are this variant: not trained twice
        raw = {**base, "distill": {**base["distill"], "student_depth": depth}}
        out[f"depth{depth}"] = parse_params(raw)
    for width in a.widths:
        raw = {**base, "distill": {**base["distill"], "student_width": width}}
        out[f"width{width}"] = parse_params(raw)
    return out


def _base(params: Params, strategies: list[str], seeds: list[int], init: str) -> dict:
    """``params`` as a dict with the ablation's runs in ``distill``; the variants
    ablate nothing themselves (their own checks would see the changed runs)."""
    base = params.model_dump()
    base["distill"] |= {"strategies": list(strategies), "seeds": list(seeds), "inits": [init]}
    base["angles"]["seeds"] = list(seeds[:1])  # angles are not measured on variants
    base["ablations"]["tasks"] = []
    for kind in (*SETTING_ABLATIONS, "transfer"):
        base["ablations"][kind]["tasks"] = []
    return base


def setting_variants(params: Params, kind: str) -> dict[str, Params]:
    """{"distance_mse": ..., "distance_ln_mse": ...} (kind ``objective``) or
    {"a_hid_0.3": ..., "a_hid_1": ..., "a_hid_10": ...} (kind ``a_hid``): the
    runs to train for one task (pass ``params.for_task(task)``).

    A value equal to the task's own setting is left out: the main runs are that
    variant (``report.ablations.setting_runs`` puts them back). Strategies without
    a hidden term (``none``) do not depend on the value: they are trained in the
    first variant only, and not at all when the main runs are reused."""
    a = params.ablations.sweep(kind)
    strategies = a.strategies_of(params.distill)
    base = _base(params, strategies, a.seeds, a.init)
    baseline_done = any(a.is_main(params.distill, s) for s in a.settings())
    out = {}
    for setting in a.settings():
        if a.is_main(params.distill, setting):
            continue  # the main runs (distill stage) are this variant: not trained twice
        runs = [s for s in strategies if not (baseline_done and s in NO_HIDDEN)]
        baseline_done = baseline_done or any(s in NO_HIDDEN for s in runs)
        if not runs:
            continue
        raw = {**base, "distill": {**base["distill"], **a.changes(setting),
                                   "strategies": runs}}
        out[a.variant(setting)] = parse_params(raw)
    return out


def transfer_variants(params: Params, n_full: int) -> dict[str, Params]:
    """{"frac0.1_random": ..., "frac0.1_weight_copy": ..., ...}: the runs of the
    transfer-set-size ablation of one task (pass ``params.for_task(task)``), whose
    own transfer set has ``n_full`` examples (its main runs, not trained again).

    A fraction f distils on the first round(f * n_full) examples (at least one
    example) for the main runs' number of optimiser steps: epochs and the
    validation interval are scaled by n_full / size (rounded), so a smaller set is
    seen more often and only the amount of data changes."""
    a, d = params.ablations.transfer, params.distill
    inits = a.inits_of(d)
    base = _base(params, a.strategies_of(d), a.seeds, inits[0])
    out = {}
    for fraction in a.fractions:
        size = max(1, round(fraction * n_full))
        scale = n_full / size
        for init in inits:
            raw = {**base, "distill": {**base["distill"], "transfer_size": size,
                                       "epochs": max(1, round(d.epochs * scale)),
                                       "val_every": max(1, round(d.val_every * scale)),
                                       "inits": [init]}}
            out[a.variant(fraction, init)] = parse_params(raw)
    return out


def train_variant(task: Task, params: Params, teacher, variant: str, cache,
                  kind: str = "shape") -> list[dict]:
    """Every strategy x seed of one variant (``params`` from ``variants`` or
    ``setting_variants``); each run's metrics.json records its student depth,
    width and objective."""
    return distill_all(task, params, teacher, cache, params.distill.inits[0],
                       *variant_dirs(task.name, variant, kind), desc=f"{task.name}/{variant}")


def ablation_variants(params: Params, kind: str = "shape",
                      task: Task | None = None) -> dict[str, Params]:
    """The variants of one ablation kind: ``shape`` (depth and width),
    ``objective``, ``a_hid`` or ``transfer`` (which needs the task, for the size
    of its transfer set)."""
    if kind == "shape":
        return variants(params)
    if kind == "transfer":
        return transfer_variants(params, len(task.splits["train"].subset(
            params.distill.transfer_size)))
    return setting_variants(params, kind)


def run_ablations(task: Task, params: Params, kind: str = "shape") -> list[dict]:
    """Every variant of one task and ablation kind; the teacher cache is computed
    once on the task's transfer set and shared (a variant's transfer set is the
    same or a prefix of it)."""
    todo = ablation_variants(params, kind, task)
    for folder in variant_dirs(task.name, "-", kind):  # the stage's outputs, even if empty
        folder.parent.mkdir(parents=True, exist_ok=True)
    if not todo:
        return []
    teacher = load_teacher(task, params)
    cache = teacher_cache(task, params, teacher)
    rows = []
    for name, p in todo.items():
        rows += [dict(row, variant=name)
                 for row in train_variant(task, p, teacher, name, cache, kind)]
    return rows
