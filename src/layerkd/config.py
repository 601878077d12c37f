"""The schema of params.yaml, validated before any stage trains.

Every field is documented here; params.yaml holds the values. Unknown keys are
rejected, and every error names the parameter, the bad value and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .strategies import STRATEGIES

CLASSIFICATION_TASKS = ("mnist", "digits", "mnist1d", "listops")
GENERATION_TASKS = ("scan", "numbers_ro")
TASKS = CLASSIFICATION_TASKS + GENERATION_TASKS
# the model family of each task (``families.FAMILIES``)
TASK_FAMILIES = {**{t: "classifier" for t in CLASSIFICATION_TASKS},
                 **{t: "seq2seq" for t in GENERATION_TASKS}}
INITS = ("random", "weight_copy")
DEVICES = ("auto", "cpu", "cuda")
NORMS = ("post", "pre")
# How one matched (student, teacher) pair of hidden states is compared, per token
# (losses.pair_distance): the official choices of each model family.
HIDDEN_DISTANCES = ("sum_sq", "mse", "ln_mse", "unit_sq")
PAIR_REDUCTIONS = ("mean", "sum")
# Ablations of the matching objective (sub-sections of `ablations`, one stage each).
SETTING_ABLATIONS = ("objective", "a_hid")
# Strategies without a hidden term: they do not depend on the objective's settings.
NO_HIDDEN = ("none",)


class ConfigError(ValueError):
    """A parameter in params.yaml is invalid; the message says which and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MnistData(_Strict):
    n_val: int = Field(500, ge=1, description="validation digits (checkpoint selection)")
    n_test: int = Field(1000, ge=1, description="test digits (reported accuracy)")
    patch: Literal[4, 7, 14] = Field(7, description="patch side in pixels; 7 gives 16 tokens")


class DigitsData(_Strict):
    n_val: int = Field(200, ge=1, description="validation digits of the 1,797")
    n_test: int = Field(400, ge=1, description="test digits; the rest train")


class Mnist1dData(_Strict):
    n_val: int = Field(500, ge=1, description="validation slice of the generator's 4,000 train")
    seed: int = Field(42, description="the generator's seed (42 = its published default)")


class ListopsData(_Strict):
    n_train: int = Field(4000, ge=1)
    n_val: int = Field(500, ge=1)
    n_test: int = Field(1000, ge=1)
    max_depth: int = Field(3, ge=1, description="nesting depth of the generator")
    max_args: int = Field(5, ge=2, description="arguments per operator")
    max_length: int = Field(60, ge=8, description="tokens per expression")
    operators: list[str] = Field(["[MAX", "[MIN", "[MED", "[SM"], min_length=1,
                                 description="operators of the generator")


class ScanData(_Strict):
    n_val: int = Field(1000, ge=1, description="validation slice of the simple split's train")
    max_target_len: Optional[int] = Field(None, ge=1, description="drop longer targets")
    max_train: Optional[int] = Field(None, ge=1, description="cap on train examples")
    max_val: Optional[int] = Field(None, ge=1)
    max_test: Optional[int] = Field(None, ge=1)


class NumbersRoData(_Strict):
    n_train: int = Field(4000, ge=1)
    n_val: int = Field(500, ge=1)
    n_test: int = Field(1000, ge=1)
    max_number: int = Field(9999, ge=10, description="numbers drawn from 0..max_number")


class DataParams(_Strict):
    seed: int = Field(0, description="seed of every generator and fixed split (but mnist1d's)")
    mnist: MnistData = MnistData()
    digits: DigitsData = DigitsData()
    mnist1d: Mnist1dData = Mnist1dData()
    listops: ListopsData = ListopsData()
    scan: ScanData = ScanData()
    numbers_ro: NumbersRoData = NumbersRoData()


class ModelParams(_Strict):
    width: int = Field(64, ge=8, description="hidden size of the teacher")
    heads: int = Field(4, ge=1, description="attention heads (must divide every width)")
    mlp_ratio: int = Field(2, ge=1, description="MLP hidden size / width")
    teacher_depth: int = Field(12, ge=1, description="teacher blocks (BERT-base: 12)")
    norm: str = Field("post", description="LayerNorm placement of every block: post "
                      "(BERT / BART: each returned hidden state is a LayerNorm output) or pre "
                      "(T5 / Qwen3: the hidden states are the raw residual stream)")
    beams: int = Field(1, ge=1, description="generation tasks: beam width of decoding "
                       "(1 = greedy; the official scripts use 4-6)")

    @model_validator(mode="after")
    def _heads_divide_width(self):
        if self.width % self.heads:
            raise ValueError(
                f"model.width={self.width} must be divisible by model.heads={self.heads}"
            )
        return self


class OptimParams(_Strict):
    epochs: int = Field(ge=1)
    batch_size: int = Field(64, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.05, ge=0)
    warmup_frac: float = Field(0.1, ge=0, lt=1, description="linear warm-up, then cosine decay")
    val_every: int = Field(1, ge=1, description=(
        "validate every k-th epoch and at the last one; the best-on-validation weights "
        "are chosen among the validated epochs (greedy decoding is most of a small "
        "generation student's cost)"))


class TeacherParams(OptimParams):
    seed: int = Field(0, description="teacher initialisation and batch order")
    augment: bool = Field(True, description="random affine augmentation of the teacher's digits")


class DistillParams(OptimParams):
    student_depth: int = Field(6, ge=1, description="student blocks")
    student_width: Optional[int] = Field(None, ge=8, description="null = teacher width")
    strategies: list[str] = Field(list(STRATEGIES), min_length=1)
    inits: list[str] = Field(list(INITS), min_length=1)
    seeds: list[int] = Field([0, 1, 2], min_length=1)
    transfer_size: int = Field(500, ge=1, description="labelled digits the students see")
    a_ce: float = Field(1.0, ge=0, description="weight of cross-entropy with the label")
    a_kl: float = Field(1.0, ge=0, description="weight of KL(teacher || student)")
    a_hid: float = Field(3.0, ge=0, description="weight of hidden-state matching")
    temperature: float = Field(1.0, gt=0, description="softmax temperature of the KL term")
    hidden_distance: str = Field(
        "sum_sq", description="how a matched pair is compared per token: sum_sq (squared L2 "
        "summed over the width; BERT classification), mse (divided by the width; BART), "
        "ln_mse (each layer's whole batch tensor layer-normalised first; T5 "
        "--normalize_hidden), unit_sq (unit vectors; the Qwen3 LLM code)")
    hidden_pair_reduce: str = Field(
        "mean", description="how the matched pairs (and encoder / decoder stacks) are "
        "combined: mean (BERT classification) or sum (BART, T5)")
    hidden_batch_divide: bool = Field(
        False, description="divide the token average once more by the batch size, as the "
        "official classification trainer's `.mean(dim=0).sum() / n_valid` does")
    match_embeddings: bool = Field(
        True, description="match the embedding output (layer 0); the LLM code does not")
    all_to_one_target: Optional[int] = Field(
        None, description="teacher layer of all_to_one; null = the middle, L_T // 2 "
        "(every official script: --to 6 of 12)")
    batch_students: int = Field(
        0, ge=0,
        description="students trained together in one vectorised step (layerkd.distill.together): "
                    "0 = every strategy x seed of a notebook at once, 1 = one at a time "
                    "(the plain per-student loop), k = consecutive groups of k; results "
                    "agree up to floating-point rounding",
    )


class AnglesParams(_Strict):
    """The angle analysis (stage `angles`): teacher layers seen from the student."""

    seeds: list[int] = Field([0], min_length=1,
                             description="seeds of the trained runs measured (subset of distill.seeds)")
    max_examples: int = Field(1000, ge=1, description="test examples measured (the first n)")
    bins: int = Field(60, ge=5, description="histogram bins over cosine -1..1")


class _SettingAblation(_Strict):
    """One setting of the matching objective swept over values (stages
    ``ablate_<kind>@<task>``), every other setting `distill`'s (after the task's
    overrides). A value equal to the task's own setting is not trained again: the
    main runs of the distill stage are that variant. ``none`` has no hidden term,
    so it does not depend on the swept setting: it is trained once (or taken from
    the main runs) and serves as the baseline of every value."""

    tasks: list[str] = Field([], description="tasks ablated (each must be in `tasks`); [] = none")
    init: str = Field("random", description="student initialisation of every variant")
    seeds: list[int] = Field([0, 1, 2], min_length=1)

    def settings(self) -> list:
        raise NotImplementedError

    def changes(self, setting) -> dict:
        """The `distill` keys one value of the sweep sets."""
        raise NotImplementedError

    def variant(self, setting) -> str:
        """The variant's folder name, e.g. ``distance_mse`` or ``a_hid_10``."""
        raise NotImplementedError

    def strategies_of(self, distill: "DistillParams") -> list[str]:
        return list(getattr(self, "strategies", None) or distill.strategies)

    def is_main(self, distill: "DistillParams | dict", setting) -> bool:
        """Whether ``setting`` is the task's own (``distill`` after its overrides)."""
        get = distill.get if isinstance(distill, dict) else lambda k: getattr(distill, k)
        return all(get(k) == v for k, v in self.changes(setting).items())


class ObjectiveAblationParams(_SettingAblation):
    """Normalisation of the hidden term: every strategy under each hidden distance."""

    strategies: Optional[list[str]] = Field(None, min_length=1,
                                            description="null = distill.strategies")
    distances: list[str] = Field(["sum_sq", "mse", "ln_mse"], min_length=1,
                                 description="hidden distances (distill.hidden_distance)")
    batch_divide: bool = Field(False, description="distill.hidden_batch_divide of every "
                               "variant (false: sum_sq is the raw squared L2 over the width)")

    def settings(self) -> list[str]:
        return list(self.distances)

    def changes(self, setting) -> dict:
        return {"hidden_distance": setting, "hidden_batch_divide": self.batch_divide}

    def variant(self, setting) -> str:
        return f"distance_{setting}"


class AHidAblationParams(_SettingAblation):
    """Weight of the hidden term: a_hid swept over values."""

    strategies: list[str] = Field(["none", "forward", "reverse"], min_length=1)
    values: list[float] = Field([0.3, 1.0, 3.0, 10.0], min_length=1,
                                description="weights of the hidden term (distill.a_hid), > 0")

    def settings(self) -> list[float]:
        return list(self.values)

    def changes(self, setting) -> dict:
        return {"a_hid": float(setting)}

    def variant(self, setting) -> str:
        return f"a_hid_{float(setting):g}"


class AblationParams(_Strict):
    """Depth and width ablations (stage `ablate@<task>`), each variant trained
    with `distill`'s other settings; `objective` and `a_hid`: the hidden term's
    normalisation and weight (stages `ablate_objective@<task>`, `ablate_a_hid@<task>`)."""

    tasks: list[str] = Field([], description="tasks ablated (each must be in `tasks`); [] = none")
    init: str = Field("random", description="student initialisation of every variant")
    strategies: list[str] = Field(["none", "forward", "reverse", "all_to_one", "random"],
                                  min_length=1)
    seeds: list[int] = Field([0, 1, 2], min_length=1)
    depths: list[int] = Field([1, 2, 3, 4, 6, 9], description="student depths (<= teacher's)")
    widths: list[int] = Field([32], description="student widths (< teacher's, with projections)")
    objective: ObjectiveAblationParams = ObjectiveAblationParams()
    a_hid: AHidAblationParams = AHidAblationParams()

    def sweep(self, kind: str) -> _SettingAblation:
        """The sub-section of one setting ablation (``objective`` or ``a_hid``)."""
        _check_members("ablation kind", [kind], SETTING_ABLATIONS, error=ConfigError)
        return getattr(self, kind)


class RuntimeParams(_Strict):
    device: str = Field("auto", description="auto picks CUDA when present")
    threads: Optional[int] = Field(None, ge=1, description="torch CPU threads; null = all cores")


class TaskOverrides(_Strict):
    """Per-task changes to the shared sections, e.g. a shallower generation teacher."""

    model: dict = Field({}, description="keys of `model` to change for this task")
    teacher: dict = Field({}, description="keys of `teacher` to change for this task")
    distill: dict = Field({}, description="keys of `distill` to change for this task")


class Params(_Strict):
    tasks: list[str] = Field(list(TASKS), min_length=1)
    data: DataParams = DataParams()
    model: ModelParams = ModelParams()
    teacher: TeacherParams
    distill: DistillParams
    runtime: RuntimeParams = RuntimeParams()
    angles: AnglesParams = AnglesParams()
    ablations: AblationParams = AblationParams()
    overrides: dict[str, TaskOverrides] = Field({}, description="task -> per-task changes")

    def for_task(self, task: str) -> "Params":
        """These parameters with ``overrides[task]`` applied (and validated)."""
        if task not in TASKS:
            raise ConfigError(f"task: {task!r} is not allowed; allowed values: {list(TASKS)}")
        raw = self.model_dump()
        # ablation depths were checked against each task's own teacher above
        raw["ablations"]["tasks"] = [t for t in raw["ablations"]["tasks"] if t == task]
        for kind in SETTING_ABLATIONS:
            sweep = raw["ablations"][kind]
            sweep["tasks"] = [t for t in sweep["tasks"] if t == task]
        raw["ablations"]["depths"] = [d for d in raw["ablations"]["depths"]
                                      if d <= self._teacher_depth(task)]
        for section, changes in raw.pop("overrides").get(task, {}).items():
            raw[section] = {**raw[section], **changes}
        return parse_params(raw)

    @model_validator(mode="after")
    def _cross_checks(self):
        _check_members("tasks", self.tasks, TASKS)
        _check_members("overrides", list(self.overrides), TASKS)
        self._check_analysis()  # before the per-task checks, which see filtered depths
        for task in self.overrides:
            try:
                self.for_task(task)
            except ConfigError as err:
                detail = str(err).split("\n", 1)[1].strip().replace("\n  ", "; ")
                raise ValueError(f"with overrides.{task} applied: {detail}") from None
        _check_members("distill.strategies", self.distill.strategies, STRATEGIES)
        _check_members("distill.inits", self.distill.inits, INITS)
        _check_members("runtime.device", [self.runtime.device], DEVICES)
        _check_members("model.norm", [self.model.norm], NORMS)
        _check_members("distill.hidden_distance", [self.distill.hidden_distance],
                       HIDDEN_DISTANCES)
        _check_members("distill.hidden_pair_reduce", [self.distill.hidden_pair_reduce],
                       PAIR_REDUCTIONS)
        d, m = self.distill, self.model
        if not 1 <= d.student_depth <= m.teacher_depth:
            raise ValueError(
                f"distill.student_depth={d.student_depth} is not allowed: "
                f"use 1..{m.teacher_depth} (model.teacher_depth)"
            )
        t = d.all_to_one_target
        if t is not None and not 1 <= t <= m.teacher_depth:
            raise ValueError(
                f"distill.all_to_one_target={t} is not allowed: use 1..{m.teacher_depth} or null"
            )
        if d.a_ce == d.a_kl == d.a_hid == 0:
            raise ValueError("distill.a_ce, a_kl and a_hid are all 0: at least one must be > 0")
        width = self.student_width
        if width % m.heads:
            raise ValueError(
                f"distill.student_width={width} must be divisible by model.heads={m.heads}"
            )
        if width != m.width and "weight_copy" in d.inits:
            raise ValueError(
                f"distill.inits contains 'weight_copy', which needs distill.student_width "
                f"= model.width ({m.width}), got {width}; use inits: [random]"
            )
        if len(set(d.seeds)) != len(d.seeds):
            raise ValueError(f"distill.seeds={d.seeds} has duplicates")
        self._check_setting_ablations()  # last: it relies on the checks above
        return self

    def _check_analysis(self) -> None:
        missing = [s for s in self.angles.seeds if s not in self.distill.seeds]
        if missing:
            raise ValueError(f"angles.seeds: {missing} not allowed; allowed values: "
                             f"{self.distill.seeds} (distill.seeds: only trained runs are measured)")
        a = self.ablations
        _check_members("ablations.tasks", a.tasks, tuple(self.tasks))
        if not a.tasks:  # nothing is ablated: the other settings are unused
            return
        _check_members("ablations.init", [a.init], INITS)
        _check_members("ablations.strategies", a.strategies, STRATEGIES)
        if len(set(a.seeds)) != len(a.seeds):
            raise ValueError(f"ablations.seeds={a.seeds} has duplicates")
        # Each task runs the depths up to its own teacher's (a 6-block generation
        # teacher skips 9); a depth no ablated task can run is an error.
        deepest = max(self._teacher_depth(t) for t in a.tasks)
        bad = [d for d in a.depths if not 1 <= d <= deepest]
        if bad:
            raise ValueError(f"ablations.depths: {bad} not allowed; allowed values: 1..{deepest} "
                             f"(the deepest teacher among ablations.tasks)")
        for task in a.tasks:
            if a.depths and not any(d <= self._teacher_depth(task) for d in a.depths):
                raise ValueError(f"ablations.depths: none of {a.depths} fits task {task!r}; "
                                 f"allowed values: 1..{self._teacher_depth(task)}")
        bad = [w for w in a.widths if w % self.model.heads or not 8 <= w <= self.model.width]
        if bad:
            raise ValueError(f"ablations.widths: {bad} not allowed; allowed values: multiples "
                             f"of model.heads={self.model.heads} in 8..{self.model.width}")
        if a.widths and a.init != "random":
            raise ValueError(f"ablations.init={a.init!r} is not allowed with ablations.widths "
                             f"(weight copy needs the teacher's width); use random or widths: []")
        if a.widths and "in_order_random" in a.strategies:
            raise ValueError("ablations.strategies: 'in_order_random' is not allowed with "
                             "ablations.widths (its projections change from epoch to epoch); "
                             "allowed values: " + str([s for s in STRATEGIES
                                                       if s != "in_order_random"]))

    def _check_setting_ablations(self) -> None:
        for kind in SETTING_ABLATIONS:
            a, name = self.ablations.sweep(kind), f"ablations.{kind}"
            _check_members(f"{name}.tasks", a.tasks, tuple(self.tasks))
            if not a.tasks:  # nothing is ablated: the other settings are unused
                continue
            _check_members(f"{name}.init", [a.init], INITS)
            if getattr(a, "strategies", None):
                _check_members(f"{name}.strategies", a.strategies, STRATEGIES)
            for key in ("seeds", "strategies", "distances", "values"):
                v = getattr(a, key, None)
                if v and len(set(v)) != len(v):
                    raise ValueError(f"{name}.{key}={v} has duplicates")
            if kind == "objective":
                _check_members(f"{name}.distances", a.distances, HIDDEN_DISTANCES)
            if kind == "a_hid":
                bad = [v for v in a.values if not v > 0]
                if bad:
                    raise ValueError(f"{name}.values: {bad} not allowed; allowed values: "
                                     "> 0 (a_hid = 0 is the strategy none)")
            for task in a.tasks:
                d = self._distill_of(task)
                main = [s for s in a.settings() if a.is_main(d, s)]
                if not main:
                    continue
                # the main runs are reused for the task's own setting: they must hold
                # every run of the variant
                why = (f"(the main runs of task {task!r} are reused for its own setting "
                       f"{a.variant(main[0])})")
                _check_members(f"{name}.init", [a.init], tuple(d["inits"]),
                               note=f" (distill.inits) {why}")
                _check_members(f"{name}.strategies", a.strategies_of(self.distill),
                               tuple(d["strategies"]), note=f" (distill.strategies) {why}")
                _check_members(f"{name}.seeds", a.seeds, tuple(d["seeds"]),
                               note=f" (distill.seeds) {why}")

    def _distill_of(self, task: str) -> dict:
        """``distill`` of one task, its overrides applied (a plain dict)."""
        raw = self.overrides.get(task)
        return {**self.distill.model_dump(), **(raw.distill if raw else {})}

    def _teacher_depth(self, task: str) -> int:
        raw = self.overrides.get(task)
        return (raw.model if raw else {}).get("teacher_depth", self.model.teacher_depth)

    @property
    def student_width(self) -> int:
        return self.distill.student_width or self.model.width


def _check_members(name: str, values: list, allowed: tuple, note: str = "",
                   error: type[Exception] = ValueError) -> None:
    for v in values:
        if v not in allowed:
            raise error(f"{name}: {v!r} is not allowed; allowed values: {list(allowed)}{note}")


def _format(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown parameter (check the spelling against params.yaml)"
        where = f"{loc}: " if loc else ""
        value = "" if e["type"] in ("value_error", "missing") else f" (got {e.get('input')!r})"
        lines.append(f"{where}{msg}{value}")
    return "invalid params.yaml:\n  " + "\n  ".join(lines)


def parse_params(raw: dict) -> Params:
    """Validate a params dict; raise ConfigError with a readable message."""
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format(err)) from None


def load_params(path: str | Path = "params.yaml") -> Params:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path} not found: run from the repository root")
    return parse_params(yaml.safe_load(path.read_text()) or {})
