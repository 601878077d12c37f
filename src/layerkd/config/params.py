"""The whole of params.yaml (``Params``): cross-section checks, per-task
overrides, and loading with readable errors."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from ..strategies import STRATEGIES
from .ablations import AblationParams
from .hub import HubParams, check_against, checkpoint_model
from .llm import LLMParams
from .schema import (
    CLASSIFICATION_TASKS,
    DEVICES,
    HIDDEN_DISTANCES,
    INITS,
    NORMS,
    PAIR_REDUCTIONS,
    POOL_TASKS,
    SETTING_ABLATIONS,
    TASKS,
    AnglesParams,
    ConfigError,
    DataParams,
    DistillParams,
    ModelParams,
    TeacherParams,
    _check_members,
    _Strict,
)


# Where a name missing from the embedded tasks usually belongs, and how to add one.
UNKNOWN_TASK_NOTE = (
    " (the embedded tasks). The paper's own data sets (GLUE's mnli, qqp, qnli, sst2; dart; "
    "wmt16_en_ro; hellaswag; coqa) are tasks of the paper-scale profile: `hub.tasks` in "
    "profiles/paper.yaml (docs/paper-scale.md). A new embedded task: docs/tasks.md, "
    "\"Adding a task\".")

class RuntimeParams(_Strict):
    device: str = Field(description="auto picks CUDA when present")
    threads: int | None = Field(ge=1, description="torch CPU threads; null = all cores")


class TaskOverrides(_Strict):
    """Per-task changes to the shared sections, e.g. a shallower generation teacher
    (each section optional: the only defaults of the schema)."""

    model: dict = Field({}, description="keys of `model` to change for this task")
    teacher: dict = Field({}, description="keys of `teacher` to change for this task")
    distill: dict = Field({}, description="keys of `distill` to change for this task")


class Params(_Strict):
    tasks: list[str] = Field(min_length=1)
    data: DataParams
    model: ModelParams
    teacher: TeacherParams
    distill: DistillParams
    runtime: RuntimeParams
    angles: AnglesParams
    ablations: AblationParams
    overrides: dict[str, TaskOverrides] = Field(description="task -> per-task changes")
    llm: LLMParams = Field(description="the decoder-only task (config.llm)")
    hub: HubParams = Field(description="the paper's models and data from the Hub (config.hub)")

    def for_task(self, task: str) -> Params:
        """These parameters with ``overrides[task]`` applied (and validated); for a
        hub task, its view (``hub_view``)."""
        if task in self.hub.tasks:
            return self.hub_view(task)
        if task not in TASKS:
            raise ConfigError(f"task: {task!r} is not allowed; allowed values: "
                              f"{list(TASKS) + self.hub.tasks}")
        raw = self.model_dump()
        # ablation depths were checked against each task's own teacher above
        raw["ablations"]["tasks"] = [t for t in raw["ablations"]["tasks"] if t == task]
        for kind in (*SETTING_ABLATIONS, "transfer"):
            sweep = raw["ablations"][kind]
            sweep["tasks"] = [t for t in sweep["tasks"] if t == task]
        raw["ablations"]["depths"] = [d for d in raw["ablations"]["depths"]
                                      if d <= self._teacher_depth(task)]
        for section, changes in raw.pop("overrides").get(task, {}).items():
            raw[section] = {**raw[section], **changes}
        raw["overrides"] = {}  # applied
        raw["tasks"] = [task]  # the overrides hold for this task alone
        return parse_params(raw)

    def hub_view(self, task: str) -> Params:
        """A hub task's parameters in the shape the shared stages read: ``model``
        from its checkpoint's config, ``teacher`` and ``distill`` from ``hub`` with
        the dataset's own changes, no ablation (reads the checkpoint's config: a Hub
        name needs the network once)."""
        hub, spec = self.hub, self.hub.datasets[task]
        teacher, distill = hub.teacher_of(task), hub.distill_of(task)
        try:
            model = checkpoint_model(hub.model_of(task), spec.kind)
            check_against(model, distill)
        except (OSError, ValueError) as err:
            raise ConfigError(f"hub task {task!r} (checkpoint "
                              f"{hub.model_of(task).checkpoint!r}): {err}") from None
        ablations = self.ablations.model_dump()
        for section in (ablations, *(ablations[k] for k in (*SETTING_ABLATIONS, "transfer"))):
            section["tasks"] = []
        return self.model_copy(update={
            "tasks": [task], "model": model, "teacher": teacher, "distill": distill,
            "overrides": {}, "ablations": AblationParams.model_validate(ablations),
            "angles": self.angles.model_copy(update={"seeds": distill.seeds[:1]})})

    @model_validator(mode="after")
    def _cross_checks(self):
        _check_members("tasks", self.tasks, TASKS, UNKNOWN_TASK_NOTE)
        _check_members("overrides", list(self.overrides), TASKS)
        self._check_backend()  # before any task's overrides are applied: names every task
        self._check_shared()  # first: an error of a shared key names that key alone
        self._check_analysis()  # before the per-task checks, which see filtered depths
        for task in [t for t in self.overrides if t in self.tasks]:  # the tasks that run
            try:
                self.for_task(task)
            except ConfigError as err:
                detail = str(err).split("\n", 1)[1].strip().replace("\n  ", "; ")
                raise ValueError(f"with overrides.{task} applied: {detail}") from None
        self._check_setting_ablations()  # last: they rely on the checks above
        self._check_transfer_ablation()
        self._check_pretraining()
        return self

    def _check_backend(self) -> None:
        """`transformers` builds BERT for classification (post-norm only), and BART
        (post-norm) or T5 (pre-norm) for generation: a pre-norm classification task
        is refused, naming the task and where its settings come from."""
        for task in self.tasks:
            raw = self.overrides.get(task)
            model = {**self.model.model_dump(), **(raw.model if raw else {})}
            if (model["backend"] == "transformers" and model["norm"] != "post"
                    and task in CLASSIFICATION_TASKS):
                raise ValueError(
                    f"model.backend=transformers is not allowed for task {task!r} with "
                    f"model.norm={model['norm']}: BERT is post-norm (T5 serves pre-norm "
                    f"generation tasks only); use norm post or backend native "
                    f"(overrides.{task}.model)")

    def _check_pretraining(self) -> None:
        """A teacher pre-trains only on a pool its data stage generates."""
        for task in self.tasks:
            raw = self.overrides.get(task)
            epochs = {**self.teacher.model_dump(), **(raw.teacher if raw else {})}[
                "pretrain_epochs"]
            pool = getattr(getattr(self.data, task), "n_pool", None)
            if epochs and not pool:
                where = (f"teacher.pretrain_epochs={epochs}" if not raw or
                         "pretrain_epochs" not in raw.teacher else
                         f"overrides.{task}.teacher.pretrain_epochs={epochs}")
                allowed = (f"set data.{task}.n_pool > 0" if pool is not None else
                           f"task {task!r} has no pre-training pool (tasks with one: "
                           f"{', '.join(POOL_TASKS)}): use 0")
                raise ValueError(f"{where} is not allowed for task {task!r}: {allowed}")

    def _check_shared(self) -> None:
        """The shared sections as written (each task's overrides are checked after)."""
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

    def _check_transfer_ablation(self) -> None:
        a, name = self.ablations.transfer, "ablations.transfer"
        _check_members(f"{name}.tasks", a.tasks, tuple(self.tasks))
        if not a.tasks:  # nothing is ablated: the other settings are unused
            return
        for key in ("tasks", "inits", "strategies", "seeds", "fractions"):
            v = getattr(a, key)
            if v and len(set(v)) != len(v):
                raise ValueError(f"{name}.{key}={v} has duplicates")
        bad = [f for f in a.fractions if not 0 < f < 1]
        if bad:
            raise ValueError(f"{name}.fractions: {bad} not allowed; allowed values: 0 < f < 1 "
                             "(1 = the whole transfer set: the main runs)")
        if a.inits:
            _check_members(f"{name}.inits", a.inits, INITS)
        if a.strategies:
            _check_members(f"{name}.strategies", a.strategies, STRATEGIES)
        for task in a.tasks:
            d = self._distill_of(task)
            # the task's own transfer set is its main runs: they must hold every run
            why = f"(the main runs of task {task!r} are the whole-transfer-set point)"
            _check_members(f"{name}.inits", a.inits or [], tuple(d["inits"]),
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


def read_params_file(path: Path) -> object:
    """The YAML of a parameter file, or a ConfigError naming the file and what is
    wrong with it: bytes that are not UTF-8 (a file saved in another encoding) or
    text that is not YAML. DVC reads params.yaml too and fails on both with its own
    parser error; ``make check`` runs this first."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[:err.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text: byte {path.read_bytes()[err.start]:#04x} "
                          f"on line {line}; save it as UTF-8 (or restore it: git checkout "
                          f"{path})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None


def load_params(path: str | Path = "params.yaml") -> Params:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path} not found: run from the repository root")
    raw = read_params_file(path)
    if not raw:
        raise ConfigError(f"{path} is empty: start from the committed params.yaml or a "
                          "file of profiles/")
    return parse_params(raw)
