"""Bad parameters fail before anything trains, naming parameter, value and allowed values."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from layerkd.config import ConfigError, load_params, parse_params

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "params.yaml").read_text())


def with_change(path: str, value):
    raw = copy.deepcopy(DEFAULT)
    *parents, leaf = path.split(".")
    node = raw
    for p in parents:
        node = node[p]
    node[leaf] = value
    return raw


@pytest.mark.parametrize("profile", ["params.yaml", "profiles/smoke.yaml"])
def test_shipped_profiles_are_valid(profile):
    load_params(ROOT / profile)


# (key, bad value, fragments the message must hold); tests/test_pipeline.py runs
# some through `dvc repro` as well (_bad_inputs says which)
BAD_VALUES = [
        ("distill.strategies", ["forward", "sideways"], ["distill.strategies", "'sideways'", "in_order_random"]),
        ("distill.inits", ["zeros"], ["distill.inits", "'zeros'", "weight_copy"]),
        ("tasks", ["imagenet"], ["tasks", "'imagenet'", "mnist"]),
        ("runtime.device", "tpu", ["runtime.device", "'tpu'", "cuda"]),
        ("distill.student_depth", 0, ["distill.student_depth", "0"]),
        ("distill.student_depth", 13, ["distill.student_depth=13", "1..12"]),
        ("distill.all_to_one_target", 13, ["distill.all_to_one_target=13", "1..12"]),
        ("distill.all_to_one_target", 0, ["distill.all_to_one_target=0", "1..12"]),
        ("distill.a_hid", -1.0, ["distill.a_hid", "-1.0"]),
        ("distill.seeds", [], ["distill.seeds"]),
        ("model.heads", 5, ["model.width=64", "model.heads=5"]),
        ("distill.student_width", 30, ["distill.student_width=30", "model.heads=4"]),
        ("distill.student_width", 32, ["weight_copy", "distill.student_width"]),
        ("angles.seeds", [7], ["angles.seeds", "[7]", "[0, 1, 2]"]),
        ("ablations.tasks", ["sst2"], ["ablations.tasks", "'sst2'", "'numbers_ro'"]),
        ("ablations.init", "zeros", ["ablations.init", "'zeros'", "weight_copy"]),
        ("ablations.strategies", ["sideways"], ["ablations.strategies", "'sideways'"]),
        ("ablations.depths", [0, 13], ["ablations.depths", "[0, 13]", "1..12"]),
        ("ablations.widths", [30], ["ablations.widths", "[30]", "model.heads=4"]),
        ("ablations.widths", [128], ["ablations.widths", "[128]", "8..64"]),
        ("ablations.seeds", [1, 1], ["ablations.seeds", "[1, 1]"]),
        ("model.norm", "sandwich", ["model.norm", "'sandwich'", "'post'", "'pre'"]),
        ("model.beams", 0, ["model.beams", "0"]),
        ("distill.hidden_distance", "cosine",
         ["distill.hidden_distance", "'cosine'", "'ln_mse'", "'unit_sq'"]),
        ("distill.hidden_pair_reduce", "max", ["distill.hidden_pair_reduce", "'max'", "'sum'"]),
        ("distill.hidden_batch_divide", "sometimes", ["distill.hidden_batch_divide"]),
        ("distill.match_embeddings", "maybe", ["distill.match_embeddings"]),
]


@pytest.mark.parametrize("path, value, expected", BAD_VALUES)
def test_bad_value_names_parameter_value_and_allowed(path, value, expected):
    with pytest.raises(ConfigError) as err:
        parse_params(with_change(path, value))
    for fragment in expected:
        assert fragment in str(err.value), (fragment, str(err.value))


def test_all_loss_weights_zero():
    raw = with_change("distill.a_ce", 0.0)
    raw["distill"]["a_kl"] = 0.0
    raw["distill"]["a_hid"] = 0.0
    with pytest.raises(ConfigError, match="at least one must be > 0"):
        parse_params(raw)


def test_unknown_key_is_rejected():
    raw = with_change("distill.epochz", 3)
    with pytest.raises(ConfigError, match=r"distill\.epochz: unknown parameter"):
        parse_params(raw)


def test_narrow_student_with_random_init_is_valid():
    raw = with_change("distill.student_width", 32)
    raw["distill"]["inits"] = ["random"]
    assert parse_params(raw).student_width == 32


def test_ablation_depths_are_checked_against_each_tasks_own_teacher():
    raw = with_change("tasks", ["mnist", "scan"])
    raw["ablations"]["tasks"] = ["scan"]
    raw["ablations"]["transfer"]["tasks"] = []
    for kind in ("objective", "a_hid"):
        raw["ablations"][kind]["tasks"] = ["scan"]
    raw["ablations"]["depths"] = [3, 9]  # scan's teacher has 6 blocks (overrides)
    with pytest.raises(ConfigError, match=r"ablations.depths: \[9\].*1..6"):
        parse_params(raw)
    raw["ablations"]["depths"] = [9]
    raw["ablations"]["tasks"] = ["mnist", "scan"]
    with pytest.raises(ConfigError, match=r"none of \[9\] fits task 'scan'.*1..6"):
        parse_params(raw)
    # each task runs the depths up to its own teacher's
    raw["ablations"]["depths"] = [3, 9]
    params = parse_params(raw)
    assert params.for_task("mnist").ablations.depths == [3, 9]
    assert params.for_task("scan").ablations.depths == [3]


def test_width_ablation_needs_random_init_and_fixed_projections():
    raw = with_change("ablations.widths", [32])
    raw["ablations"]["init"] = "weight_copy"
    with pytest.raises(ConfigError, match="ablations.init='weight_copy'"):
        parse_params(raw)
    raw = with_change("ablations.widths", [32])
    raw["ablations"]["strategies"] = ["forward", "in_order_random"]
    with pytest.raises(ConfigError, match="'in_order_random' is not allowed with ablations.widths"):
        parse_params(raw)
    raw["ablations"]["widths"] = []
    parse_params(raw)


PROFILES = [yaml.safe_load(p.read_text())
            for p in [ROOT / "params.yaml", *sorted((ROOT / "profiles").glob("*.yaml"))]]


def _walk(model, values: list[dict], path: list[str], out: dict) -> None:
    """out[dotted key] = (field, whether every file carries it), at every level."""
    from pydantic import BaseModel

    for name, field in model.model_fields.items():
        here = [v[name] for v in values if isinstance(v, dict) and name in v]
        key = ".".join(path + [name])
        out[key] = (field, len(here) == len(values))
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel) and here:
            _walk(ann, here, path + [name], out)


def test_keys_every_profile_carries_are_required():
    """One source of values: a key that params.yaml and every profile carry has no
    schema default (so the two cannot disagree); a key some file leaves out keeps
    the schema's default, which is then the only value."""
    from layerkd.config import Params

    fields: dict = {}
    _walk(Params, PROFILES, [], fields)
    carried_with_default = [k for k, (f, always) in fields.items()
                            if always and not f.is_required()]
    assert not carried_with_default, carried_with_default
    optional = sorted(k for k, (f, always) in fields.items() if not always)
    assert all(not fields[k][0].is_required() for k in optional), optional


@pytest.mark.parametrize("key", ["distill.lr", "teacher.val_every", "model.norm", "angles",
                                 "ablations.a_hid.values"])
def test_a_missing_key_is_named(key):
    raw = copy.deepcopy(DEFAULT)
    *parents, leaf = key.split(".")
    node = raw
    for p in parents:
        node = node[p]
    del node[leaf]
    with pytest.raises(ConfigError, match=rf"{re.escape(key)}: Field required"):
        parse_params(raw)


def test_profiles_validate():
    """Every profile is a valid params.yaml (the GPU profile cannot run here)."""
    for profile in sorted((ROOT / "profiles").glob("*.yaml")):
        params = parse_params(yaml.safe_load(profile.read_text()))
        assert params.tasks, profile
    gpu = parse_params(yaml.safe_load((ROOT / "profiles" / "gpu.yaml").read_text()))
    assert gpu.runtime.device == "cuda" and gpu.model.width > 64
    assert all(gpu.for_task(t).distill.transfer_size is None for t in gpu.tasks)  # all of train


def test_a_shared_key_is_named_without_a_task_and_an_override_with_its_task():
    """A bad shared value is the shared key's fault, not the first task override's."""
    with pytest.raises(ConfigError) as err:
        parse_params(with_change("distill.strategies", ["forwrd"]))
    assert "overrides" not in str(err.value) and "distill.strategies" in str(err.value)
    raw = copy.deepcopy(DEFAULT)
    raw["overrides"]["scan"]["distill"]["student_depth"] = 9
    with pytest.raises(ConfigError, match=r"with overrides.scan applied: distill.student_depth=9"):
        parse_params(raw)


def test_a_paper_task_in_tasks_is_pointed_to_the_paper_profile_and_adding_a_task():
    """`tasks: [mnli]`: the message says where MNLI lives and how a task is added,
    and the places it names exist."""
    with pytest.raises(ConfigError) as err:
        parse_params(with_change("tasks", ["mnli"]))
    message = str(err.value)
    assert "'mnli'" in message and "hub.tasks" in message
    root = Path(__file__).resolve().parents[1]
    for path in ("profiles/paper.yaml", "docs/paper-scale.md", "docs/tasks.md"):
        assert path in message and (root / path).exists(), path
    assert "## Adding a task" in (root / "docs" / "tasks.md").read_text()
