"""`python -m layerkd.check`: a bad params.yaml is named before DVC runs anything."""

import subprocess
import sys
from pathlib import Path

import yaml

from layerkd.check import main, problems

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, change) -> Path:
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    change(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_the_default_is_valid():
    assert problems(ROOT / "params.yaml") == []
    assert main([str(ROOT / "params.yaml")]) == 0


def test_bad_values_are_named(tmp_path, capsys):
    path = write(tmp_path, lambda r: r["distill"].update(strategies=["forwrad"]))
    assert main([str(path)]) == 1
    err = capsys.readouterr().err
    assert "forwrad" in err and "strategies" in err


def test_unknown_section_is_named(tmp_path):
    path = write(tmp_path, lambda r: r.update(distil={"epochs": 3}))
    assert any("distil" in p for p in problems(path))


def test_a_task_without_its_dvc_entries_is_named(tmp_path):
    path = write(tmp_path, lambda r: r["overrides"].pop("digits"))
    found = problems(path)
    assert found and "overrides" in found[0] and "digits" in found[0]


def test_an_override_without_a_section_its_stages_read_is_named(tmp_path):
    """teacher@<task> declares overrides.<task>.model and .teacher, distill@<task>
    .model and .distill: DVC would stop on the missing key with its own message."""
    path = write(tmp_path, lambda r: r["overrides"]["scan"].pop("teacher"))
    found = problems(path)
    assert found and "overrides.scan" in found[0] and "teacher" in found[0]
    assert "{}" in found[0]  # the fix


def test_every_task_stage_declares_the_override_sections_the_check_requires():
    from layerkd.check import OVERRIDE_SECTIONS

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    declared = {f"overrides.${{item}}.{s}" for name in ("teacher", "distill")
                for s in OVERRIDE_SECTIONS if f"overrides.${{item}}.{s}" in stages[name]["do"]["params"]}
    assert declared == {f"overrides.${{item}}.{s}" for s in OVERRIDE_SECTIONS}
    assert "overrides.${item}.distill" not in stages["teacher"]["do"]["params"]
    assert "distill" not in stages["teacher"]["do"]["params"]


def test_module_entry_point_exits_non_zero(tmp_path):
    path = write(tmp_path, lambda r: r["model"].update(width=-1))
    run = subprocess.run([sys.executable, "-m", "layerkd.check", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "width" in run.stderr


def test_an_empty_file_is_named(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("\n")
    assert any("is empty" in p for p in problems(path))


def test_stamp_is_written_only_for_valid_parameters(tmp_path):
    stamp = tmp_path / "params.ok"
    bad = write(tmp_path, lambda r: r["distill"].update(lr=-1))
    assert main([str(bad), "--stamp", str(stamp)]) == 1 and not stamp.exists()
    assert main([str(ROOT / "params.yaml"), "--stamp", str(stamp)]) == 0
    assert stamp.read_text() == "params.yaml passed layerkd.check\n"
