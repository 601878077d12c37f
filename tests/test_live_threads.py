"""dvclive writers stepped and ended from parallel threads (as generation runs are)."""
from concurrent.futures import ThreadPoolExecutor

from layerkd.train.loop import open_live


def test_parallel_runs_step_and_end_without_racing_on_the_signal_file(tmp_path, monkeypatch):
    # DVC_ROOT makes dvclive write and delete .dvc/tmp/exps/run/DVCLIVE_STEP_COMPLETED
    # on every step and end, as it does inside `dvc repro`
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))

    def run(i: int) -> int:
        live = open_live(tmp_path / f"run{i}")
        for step in range(40):
            live.log_metric("x", float(step))
            live.next_step()
            if step % 5 == 4:  # ending and reopening stresses exists-then-remove
                live.end()
                live = open_live(tmp_path / f"run{i}" / str(step))
        live.end()
        return i

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(run, range(8))) == list(range(8))
    assert (tmp_path / "run0" / "metrics.json").exists()
