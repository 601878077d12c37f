"""The whole DVC pipeline, end to end, on the smoke profile in a temporary copy."""

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from layerkd.config import CLASSIFICATION_TASKS, GENERATION_TASKS, TASKS
from layerkd.demo import GENERATED, copy_sources
from layerkd.strategies import LABELS

ROOT = Path(__file__).resolve().parents[1]


def copy_repository(dest: Path) -> None:
    """The sources with the smoke profile as params.yaml (``make demo``'s copy)."""
    copy_sources(dest, ROOT / "profiles" / "smoke.yaml")


# Imported by every Python process of the pipeline (dvc, papermill, the kernel):
# any connection beyond this machine is recorded and refused.
BLOCK_NETWORK = """
import os, socket
_log = os.environ["NETWORK_ATTEMPTS_LOG"]
def _refuse(what):
    with open(_log, "a") as f:
        f.write(repr(what) + "\\n")
    raise OSError("network access blocked by the offline test: " + repr(what))
def _local(address):
    host = address[0] if isinstance(address, tuple) else address
    return not isinstance(address, tuple) or host in ("127.0.0.1", "::1", "localhost", "")
_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
def connect(self, address):
    return _connect(self, address) if _local(address) else _refuse(address)
def connect_ex(self, address):
    return _connect_ex(self, address) if _local(address) else _refuse(address)
def getaddrinfo(host, *args, **kwargs):
    if host not in (None, "127.0.0.1", "::1", "localhost", b"localhost"):
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)
socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
"""


def pipeline_env(offline_dir: Path | None = None) -> dict:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if offline_dir is not None:
        offline_dir.mkdir(exist_ok=True)
        (offline_dir / "sitecustomize.py").write_text(BLOCK_NETWORK)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(offline_dir),
                                                          env.get("PYTHONPATH")]))
        env["NETWORK_ATTEMPTS_LOG"] = str(offline_dir / "attempts.log")
    return env


def run_pipeline(repo: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["dvc", "repro"], cwd=repo, env=env or pipeline_env(),
                          capture_output=True, text=True)


def student_metrics(repo: Path, task: str = "*") -> dict:
    out = {}
    for p in sorted((repo / "results").glob(f"{task}/students/*/*/seed*/metrics.json")):
        out[str(p.relative_to(repo))] = json.loads(p.read_text())  # no time: timings/
    return out


@pytest.fixture(scope="module")
def smoke_repo(tmp_path_factory):
    """The smoke pipeline from scratch, with the network blocked in every process."""
    repo = tmp_path_factory.mktemp("smoke")
    copy_repository(repo)
    offline = tmp_path_factory.mktemp("offline")
    result = run_pipeline(repo, pipeline_env(offline))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    attempts = offline / "attempts.log"
    repo.joinpath("network_attempts.txt").write_text(
        attempts.read_text() if attempts.exists() else "")
    return repo


@pytest.mark.slow
def test_pipeline_never_reaches_for_the_network(smoke_repo):
    assert (smoke_repo / "network_attempts.txt").read_text() == ""


def smoke_tasks() -> list[str]:
    return yaml.safe_load((ROOT / "profiles" / "smoke.yaml").read_text())["tasks"]


@pytest.mark.slow
def test_smoke_profile_covers_every_task():
    assert sorted(smoke_tasks()) == sorted(TASKS)


@pytest.mark.slow
@pytest.mark.parametrize("table, kinds", [("table1_classification", CLASSIFICATION_TASKS),
                                           ("table2_generation", GENERATION_TASKS)])
def test_tables_have_teacher_and_every_strategy_under_both_inits(smoke_repo, table, kinds):
    text = (smoke_repo / "paper" / "tables" / f"{table}.md").read_text()
    header = text.splitlines()[0]
    assert all(t in header for t in kinds if t in smoke_tasks())
    assert "teacher" in text
    for init in ("random init", "weight copy"):
        for label in LABELS.values():
            assert f"{init}: {label}" in text
    latex = (smoke_repo / "paper" / "tables" / f"{table}.tex").read_text()
    assert r"\begin{tabular}" in latex and "in-order random" in latex


@pytest.mark.slow
def test_comparison_and_statistics_tables(smoke_repo):
    comparison = (smoke_repo / "paper" / "tables" / "comparison.md").read_text()
    assert "paper" in comparison and "this reproduction" in comparison and "mnli_m" in comparison
    for name in ("vs_none", "equivalence"):
        assert (smoke_repo / "paper" / "tables" / f"{name}.tex").stat().st_size > 0


@pytest.mark.slow
def test_figures_and_executed_notebooks_exist(smoke_repo):
    png = b"\x89PNG\r\n\x1a\n"
    assert (smoke_repo / "paper" / "figures" / "strategies.png").read_bytes()[:8] == png
    notebooks = ["01_data", "04_aggregate_1_results", "04_aggregate_2_statistics",
                 "04_aggregate_3_ablations", "04_aggregate_4_angles", "05_angles"]
    for task in smoke_tasks():
        figure = smoke_repo / "paper" / "figures" / f"strategies_{task}.png"
        assert figure.read_bytes()[:8] == png
        notebooks += [f"02_teacher_{task}", f"03_distill_{task}"]
    for nb in notebooks:
        assert (smoke_repo / "notebooks" / "executed" / f"{nb}.ipynb").stat().st_size > 0


@pytest.mark.slow
def test_angles_ablations_and_paper_outputs(smoke_repo):
    paper, params = smoke_repo / "paper", yaml.safe_load((smoke_repo / "params.yaml").read_text())
    for task in smoke_tasks():
        report = json.loads((smoke_repo / "results" / "angles" / f"{task}.json").read_text())
        stacks = {"encoder", "decoder"} if task in GENERATION_TASKS else {"encoder"}
        assert set(report["stacks"]) == stacks
        assert all(stack in run for run in report["runs"] for stack in stacks)
        for stack in stacks:
            assert (paper / "figures" / f"angles_heatmap_{task}_{stack}.png").exists()
        assert (paper / "figures" / f"angles_hist_{task}.png").exists()
    depth = (paper / "tables" / "depth.md").read_text()
    for task in params["ablations"]["tasks"]:
        for d in params["ablations"]["depths"]:
            assert f"{task}: {d} block{'' if d == 1 else 's'}" in depth
    width = (paper / "tables" / "width.md").read_text()
    assert "mnist (width 8)" in width and "mnist (width 16)" in width
    for name in ("depth.png", "init_gain.png"):
        assert (paper / "figures" / name).exists()
    # the objective ablations: every setting, its own stage's runs or the main runs
    a = params["ablations"]
    for kind, name, settings in (("objective", "objective_ablation", "distances"),
                                 ("a_hid", "a_hid_ablation", "values")):
        text = (paper / "tables" / f"{name}.md").read_text()
        assert "spread" in text.splitlines()[0]
        for task in a[kind]["tasks"]:
            for setting in a[kind][settings]:
                label = f"{float(setting):g}" if kind == "a_hid" else setting
                assert f"{task}: {'distance' if kind == 'objective' else 'a_hid'} {label}" in text
            assert (smoke_repo / "notebooks" / "executed" /
                    f"06_ablations_{kind}_{task}.ipynb").stat().st_size > 0
        assert (paper / "figures" / f"{name}.png").exists()
        assert f"](figures/{name}.png)" in (paper / "README.md").read_text()
    # a_hid 3 is the main runs' weight: not trained again, none reused from the main runs
    a_hid_runs = sorted(p.parts[-4] for p in smoke_repo.glob(
        "results/mnist/ablations_a_hid/*/*/seed*/metrics.json"))
    assert set(a_hid_runs) == {"a_hid_1"}
    assert not list(smoke_repo.glob("results/mnist/ablations_a_hid/*/none"))
    # mnist: no distance is the main runs' (sum_sq divided by the batch): none trained
    # once, in the first variant; scan's own distance is mse: those are its main runs
    assert [p.parts[-2] for p in smoke_repo.glob(
        "results/mnist/ablations_objective/*/none")] == ["distance_mse"]
    assert [p.parts[-1] for p in smoke_repo.glob(
        "results/scan/ablations_objective/*")] == ["distance_ln_mse"]
    assert not list(smoke_repo.glob("results/scan/ablations_objective/*/none"))
    macros = (paper / "macros.tex").read_text()
    assert r"\newcommand{\MnistRandomForwardMean}" in macros
    assert r"\newcommand{\MnistEncoderRandomForwardAcute}" in macros
    report_md = (paper / "README.md").read_text()
    assert "table1_classification" in report_md and "](figures/depth.png)" in report_md
    assert (paper / "tables" / "reproducibility.md").exists()


@pytest.mark.slow
def test_second_repro_is_a_no_op(smoke_repo):
    result = run_pipeline(smoke_repo)
    assert result.returncode == 0
    assert "Running stage" not in result.stdout


@pytest.mark.slow
def test_killed_repro_resumes_without_losing_finished_stages(smoke_repo, tmp_path):
    copy_repository(tmp_path)
    proc = subprocess.Popen(["dvc", "repro"], cwd=tmp_path, env=pipeline_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    # Kill it in the middle of the first distillation stage: after one student finished.
    deadline = time.time() + 300
    while not list(tmp_path.glob("results/mnist/students/*/*/seed*/metrics.json")):
        assert proc.poll() is None and time.time() < deadline, "pipeline ended before the kill"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = (tmp_path / "models" / "mnist" / "teacher.pt").read_bytes()
    students = {p: p.stat().st_mtime_ns
                for p in tmp_path.glob("results/mnist/students/*/*/seed*/metrics.json")}

    # resumed up to the killed stage only: the stages after it are the fixture's run
    result = subprocess.run(["dvc", "repro", "distill@mnist"], cwd=tmp_path, env=pipeline_env(),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Running stage 'data'" not in result.stdout
    assert "Running stage 'teacher@mnist'" not in result.stdout
    assert "Running stage 'distill@mnist'" in result.stdout
    assert (tmp_path / "models" / "mnist" / "teacher.pt").read_bytes() == finished
    # the students finished before the kill are kept, not trained again
    assert {p: p.stat().st_mtime_ns for p in students} == students
    # students trained in a smaller stack agree up to floating-point rounding
    resumed, fresh = student_metrics(tmp_path, "mnist"), student_metrics(smoke_repo, "mnist")
    assert resumed.keys() == fresh.keys()
    for key in fresh:
        floats = {k for k, v in fresh[key].items() if isinstance(v, float)}
        assert {k: resumed[key][k] for k in floats} == pytest.approx(
            {k: fresh[key][k] for k in floats}, rel=1e-4, abs=1e-6), key
        assert {k: v for k, v in resumed[key].items() if k not in floats} == \
            {k: v for k, v in fresh[key].items() if k not in floats}, key


def output_files(repo: Path) -> dict[str, bytes]:
    """Every generated file but the check stage's own stamp and the timing records
    (no stage's output: a run's time is kept wherever it ends)."""
    return {str(p.relative_to(repo)): p.read_bytes() for d in GENERATED if d != "timings/"
            for p in sorted((repo / d).rglob("*") if (repo / d).is_dir() else [repo / d])
            if p.is_file() and p.name != "params.ok" and "failed" not in p.parts}


@pytest.mark.slow
def test_readme_recipe_narrow_students_from_random_init_only(smoke_repo, tmp_path):
    """The README's `-S distill.student_width=32 -S 'distill.inits=[random]'`, at the
    smoke profile's width: trains and reports with one initialisation (it once
    crashed in the aggregation's init-gain figure). On two tasks, one of each kind,
    with no ablations (params.yaml's "fewer tasks" recipe), so that it retrains
    two tasks' students; `make recipes` runs the recipe itself on every task."""
    repo = tmp_path / "repo"
    shutil.copytree(smoke_repo, repo, symlinks=True)
    tasks = ["mnist", "numbers_ro"]
    fewer = [f"tasks=[{','.join(tasks)}]"] + [f"ablations.{k}tasks=[]" for k in
                                              ("", "objective.", "a_hid.", "transfer.")]
    changes = ["distill.student_width=8", "distill.inits=[random]", *fewer]
    init_gain = repo / "paper" / "figures" / "init_gain.png"
    before = init_gain.stat().st_mtime_ns  # the smoke run's figure
    result = subprocess.run(["dvc", "exp", "run", *(w for c in changes for w in ("-S", c))],
                            cwd=repo, env=pipeline_env(), capture_output=True, text=True,
                            timeout=1200)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "Running stage 'aggregate'" in result.stdout
    for task in tasks:
        # removed: not asked for
        assert not (repo / "results" / task / "students" / "weight_copy").exists()
        runs = [json.loads(p.read_text())
                for p in repo.glob(f"results/{task}/students/*/*/seed*/metrics.json")]
        assert runs and all(r["student_width"] == 8 and r["init"] == "random" for r in runs)
    assert init_gain.stat().st_mtime_ns > before  # drawn again, from one init


@pytest.mark.slow
def test_a_failing_stage_of_each_kind_leaves_the_previous_outputs(smoke_repo, tmp_path):
    """A cell that raises after the stage wrote its outputs: the stage fails, and
    every output is as before (the failed notebook is kept for reading). Both
    kinds of stage: outputs moved aside while it runs (data: a whole folder;
    aggregate: the paper's files) and kept in place (distill@scan, --resume)."""
    repo = tmp_path / "repo"
    shutil.copytree(smoke_repo, repo, symlinks=True)
    before = output_files(repo)
    for stage, source in [("data", "01_data.py"), ("distill@scan", "03_distill.py"),
                          ("aggregate", "04_aggregate_3_ablations.py")]:
        path = repo / "notebooks" / source
        original = path.read_text()
        path.write_text(original + '\n# %%\nraise RuntimeError("injected failure")\n')
        result = subprocess.run(["dvc", "repro", "-s", stage], cwd=repo, env=pipeline_env(),
                                capture_output=True, text=True, timeout=900)
        path.write_text(original)
        log = result.stdout + result.stderr
        assert result.returncode != 0 and "injected failure" in log, (stage, log[-3000:])
        assert "previous outputs are back" in log, (stage, log[-3000:])
        assert output_files(repo) == before, stage
        assert list((repo / "notebooks" / "executed" / "failed").glob("*.ipynb")), stage


def _bad_inputs():
    """Bad values of tests/test_config.py (which checks every one's message), and
    the bad files a new user wrote. Through DVC: each key that dvc.yaml itself
    reads (``${...}``: DVC expands it before the check stage runs) and the first
    bad value of every other section (DVC only hashes those: any of them stops
    the pipeline the same way, at the check stage)."""
    from test_config import BAD_VALUES, with_change

    read_by_dvc = set(re.findall(r"\$\{([a-z_.]+)\}", (ROOT / "dvc.yaml").read_text()))
    sections, cases = set(), []
    for key, value, expected in BAD_VALUES:
        section = key.split(".")[0]
        if key in read_by_dvc or section not in sections:
            cases.append((f"{key}={value!r}", with_change(key, value), expected[:1]))
        sections.add(section)
    default = yaml.safe_load((ROOT / "params.yaml").read_text())
    typo = {("distil" if k == "distill" else k): v for k, v in default.items()}
    cases += [("misspelled section distil", typo, ["distill"]),
              ("unknown top-level key", {**default, "sedes": [0]}, ["sedes"]),
              ("tasks [mnli]", {**default, "tasks": ["mnli"]}, ["mnli"]),
              ("empty file", None, ["Could not find 'tasks'"])]   # DVC's, reading vars
    return [pytest.param(raw, expected, id=name) for name, raw, expected in cases]


@pytest.fixture(scope="module")
def default_copy(smoke_repo, tmp_path_factory):
    """A finished smoke pipeline whose params.yaml each test replaces."""
    repo = tmp_path_factory.mktemp("bad_inputs") / "repo"
    shutil.copytree(smoke_repo, repo, symlinks=True)
    return repo, output_files(repo), (repo / "params.yaml").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("raw, expected", _bad_inputs())
def test_each_bad_input_stops_dvc_repro_before_any_stage(default_copy, raw, expected, request):
    """Through the real entry point: a named error, no stage but `check` run, no
    output changed."""
    name = request.node.callspec.id
    repo, before, smoke_params = default_copy
    (repo / "params.yaml").write_text("" if raw is None else yaml.safe_dump(raw))
    try:
        result = subprocess.run(["dvc", "repro"], cwd=repo, env=pipeline_env(),
                                capture_output=True, text=True, timeout=300)
    finally:
        (repo / "params.yaml").write_text(smoke_params)
    log = result.stdout + result.stderr
    assert result.returncode != 0, (name, log[-2000:])
    assert all(fragment in log for fragment in expected), (name, expected, log[-2000:])
    ran = [line for line in log.splitlines() if line.startswith("Running stage")]
    assert ran in ([], ["Running stage 'check':"]), (name, ran)
    assert output_files(repo) == before, name


@pytest.mark.slow
@pytest.mark.parametrize("command", [["dvc", "repro"],
                                     ["dvc", "exp", "run", "-S", "distill.lr=-1"]])
def test_a_bad_parameter_stops_the_pipeline_before_any_output_changes(smoke_repo, tmp_path,
                                                                      command):
    repo = tmp_path / "repo"
    shutil.copytree(smoke_repo, repo, symlinks=True)
    before = output_files(repo)
    if command[1] == "repro":
        raw = yaml.safe_load((repo / "params.yaml").read_text())
        raw["distill"]["strategies"] = ["forwrad"]
        (repo / "params.yaml").write_text(yaml.safe_dump(raw))
    result = subprocess.run(command, cwd=repo, env=pipeline_env(), capture_output=True,
                            text=True, timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode != 0, log[-3000:]
    assert ("forwrad" if command[1] == "repro" else "distill.lr") in log, log[-3000:]
    assert [line for line in log.splitlines() if "Running stage" in line] == \
        ["Running stage 'check':"], log[-3000:]
    assert output_files(repo) == before
    # the check's stamp survives its failure: with params.yaml back, nothing is stale
    assert (repo / "results" / "params.ok").exists()
    subprocess.run(["git", "checkout", "params.yaml"], cwd=repo, check=True)
    status = subprocess.run(["dvc", "status"], cwd=repo, env=pipeline_env(),
                            capture_output=True, text=True, timeout=300)
    assert "up to date" in status.stdout, status.stdout[-2000:]


def notebook_commands(repo: Path) -> dict[str, list[str]]:
    """One stage command per notebook source, as DVC resolved it (dvc.lock); a
    command may run several (source, executed copy) pairs, before its options."""
    out = {}
    for stage in yaml.safe_load((repo / "dvc.lock").read_text())["stages"].values():
        words = stage["cmd"].split()
        if "layerkd.notebook" in words:
            at = words.index("layerkd.notebook") + 1
            while at < len(words) and words[at].endswith(".py"):
                out.setdefault(words[at], words)
                at += 2
    return out


NOTEBOOK_SOURCES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("*.py"))


def parameters_and_next_cell(source: str) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """The statements of a notebook source's parameters cell and of the code cell after it."""
    import jupytext

    cells = [c for c in jupytext.reads(source, fmt="py:percent").cells if c.cell_type == "code"]
    at = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    return ast.parse(cells[at].source).body, ast.parse(cells[at + 1].source).body


@pytest.mark.parametrize("source", NOTEBOOK_SOURCES)
def test_each_notebook_enters_the_repository_before_anything_else(source):
    """What makes a notebook run from the notebooks/ folder (JupyterLab's "Run
    all"): its parameters are constants, and the cell after them moves to the
    repository root before any statement but imports (one notebook runs that way
    for real below)."""
    parameters, cell = parameters_and_next_cell((ROOT / source).read_text())
    assert all(isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant)
               for s in parameters), source
    first = next(s for s in cell if not isinstance(s, (ast.Import, ast.ImportFrom)))
    assert ast.unparse(first) == "paths.enter_repository()", source


@pytest.mark.slow
def test_a_notebook_runs_from_the_notebooks_folder(smoke_repo, tmp_path):
    """As "Run all" in JupyterLab does: the kernel starts in notebooks/; the
    notebook (with its stage's parameters) moves to the repository root and runs;
    nothing lands under notebooks/. One stage with a task parameter and resumed
    runs; the test above checks that every notebook starts the same way."""
    source = "notebooks/03_distill.py"
    repo = tmp_path / "repo"
    shutil.copytree(smoke_repo, repo, symlinks=True)
    words = notebook_commands(repo)[source]
    at = words.index("layerkd.notebook")
    args = [Path(source).name, str(tmp_path / "out.ipynb"), *words[at + 3:]]
    result = subprocess.run([sys.executable, "-m", "layerkd.notebook", *args],
                            cwd=repo / "notebooks", env=pipeline_env(), capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (repo / "notebooks").iterdir()) == sorted(
        p.name for p in (smoke_repo / "notebooks").iterdir())


def test_every_notebook_source_is_a_stage():
    assert set(notebook_commands(ROOT)) == set(NOTEBOOK_SOURCES)


def _set_params(repo: Path, change) -> None:
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    change(raw)
    (repo / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def _dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dvc", *args], cwd=repo, env=pipeline_env(), capture_output=True,
                          text=True, timeout=900)


def _interrupt_while_training(repo: Path, command: list[str], sig: int, group: bool) -> None:
    """Start ``command``, wait until distill@digits has removed a run to train it
    again, then send ``sig`` to the dvc process alone (``group``: to its whole
    process group, as Ctrl-C in a terminal does), and wait until every process of
    the stage has ended."""
    import psutil

    proc = subprocess.Popen(command, cwd=repo, env=pipeline_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    first = repo / "results/digits/students/random/none/seed0/metrics.json"
    deadline = time.time() + 300
    while first.exists():
        assert proc.poll() is None and time.time() < deadline, "the stage ended before"
        time.sleep(0.1)
    time.sleep(1.0)  # training
    os.killpg(proc.pid, sig) if group else os.kill(proc.pid, sig)
    proc.wait(timeout=120)
    deadline = time.time() + 120
    while any(p.info["cwd"] == str(repo) for p in psutil.process_iter(["cwd"])):
        assert time.time() < deadline, "the stage's runner outlived dvc"
        time.sleep(0.2)


@pytest.mark.slow
def test_an_interrupted_stage_never_pairs_old_runs_with_new_settings(smoke_repo, tmp_path):
    """A parameter change, then the stage is killed, interrupted or fails while it
    retrains: the next run must give what a clean run of the new parameters gives
    (every metrics.json equal but for its time), and a failure must leave every
    output as it was. Three ways to stop distill@digits: SIGKILL of the dvc
    process (its runner and kernel then stop too), Ctrl-C of `dvc exp run`, and
    a non-finite loss."""
    repo = tmp_path / "repo"
    shutil.copytree(smoke_repo, repo, symlinks=True)
    smoke_params = (repo / "params.yaml").read_text()
    two_epochs = student_metrics(smoke_repo, "digits")  # the fixture's clean run

    def four_epochs(raw):
        raw["distill"]["epochs"] = 4

    _set_params(repo, four_epochs)  # every run's settings change: all trained afresh
    result = _dvc(repo, "repro", "distill@digits")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    clean_four = student_metrics(repo, "digits")
    assert {m["epochs"] for m in clean_four.values()} == {4}

    # 1. back to two epochs, dvc killed mid-stage, then run again
    (repo / "params.yaml").write_text(smoke_params)
    _interrupt_while_training(repo, ["dvc", "repro", "distill@digits"], signal.SIGKILL,
                              group=False)
    result = _dvc(repo, "repro", "distill@digits")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert student_metrics(repo, "digits") == two_epochs, "after a kill of dvc"

    # 2. Ctrl-C of `dvc exp run -S distill.epochs=4`, then the same command again
    command = ["dvc", "exp", "run", "distill@digits", "-S", "distill.epochs=4"]
    _interrupt_while_training(repo, command, signal.SIGINT, group=True)
    result = _dvc(repo, *command[1:])
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert student_metrics(repo, "digits") == clean_four, "after Ctrl-C of dvc exp run"

    # 3. a non-finite loss: the stage fails, every output is as it was, and with
    # the parameters back nothing is stale
    before, params = output_files(repo), (repo / "params.yaml").read_text()
    _set_params(repo, lambda raw: raw["distill"].update(lr=1e6))
    result = _dvc(repo, "repro", "distill@digits")
    assert result.returncode != 0 and "non-finite" in result.stdout + result.stderr, \
        (result.stdout + result.stderr)[-3000:]
    (repo / "params.yaml").write_text(params)
    after = output_files(repo)  # dvc.lock: the check stage passed on lr=1e6 and says so
    assert {k: v for k, v in after.items() if k != "dvc.lock"} == \
        {k: v for k, v in before.items() if k != "dvc.lock"}, "after a non-finite loss"
    status = _dvc(repo, "status", "distill@digits")
    assert "up to date" in status.stdout, status.stdout[-2000:]


@pytest.mark.slow
def test_a_rerun_with_unchanged_parameters_leaves_every_later_stage_up_to_date(smoke_repo,
                                                                             tmp_path):
    """Outputs change only when results change: a teacher trained again with the
    same parameters (its time differs) leaves its students, the angles and the
    aggregate up to date; a change to a task's student settings leaves its
    teacher up to date (each stage declares the parameter keys it reads)."""
    repo = tmp_path / "repo"
    shutil.copytree(smoke_repo, repo, symlinks=True)
    result = _dvc(repo, "repro", "-f", "-s", "teacher@digits")
    assert result.returncode == 0 and "Running stage 'teacher@digits'" in result.stdout, \
        (result.stdout + result.stderr)[-3000:]
    status = _dvc(repo, "status")
    assert "up to date" in status.stdout, status.stdout[-3000:]

    _set_params(repo, lambda raw: raw["overrides"]["digits"]["distill"].update(epochs=3))
    stale = _dvc(repo, "status").stdout
    assert "distill@digits" in stale and "teacher@digits" not in stale, stale[-3000:]
