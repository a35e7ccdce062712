"""`dagshift run -t airflow` on the real Airflow 3 (scripts/engines/airflow.txt), given with
--engine-python: dag.test() in a throwaway home, each task's state changes as they happen, a
table at the end; a failing task retried, and Ctrl-C. Every example's run, its files, values and
report, is in test_conformance.py, which runs them all through `dagshift run`."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_harness import assert_ctrl_c_stops_everything, dagshift_run, failing_pipeline

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_a_failing_task_is_retried_then_fails_and_the_table_says_so(airflow_python: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = dagshift_run(str(failing_pipeline(tmp_path, retries=1)), "-t", "airflow", "--param", "code=3",
                       "--engine-python", str(airflow_python), "--logs", str(tmp_path / "logs"), workdir=workdir)
    assert run.code == 1, run.describe()
    lines = run.stdout.splitlines()
    changes = [line.split("] ", 1)[1] for line in lines if line.startswith("[")]
    assert changes == ["ok started (try 1)", "ok succeeded", "fails started (try 1)", "fails retried (try 1)",
                       "fails started (try 2)", "fails failed (try 2)", "downstream not run"], run.stdout
    table = lines[lines.index(next(line for line in lines if line.startswith("task "))):]
    assert [row.split()[:3] for row in table[2:5]] == [["ok", "succeeded", "1"], ["fails", "failed", "2"],
                                                       ["downstream", "not", "run"]]
    assert "run failed on airflow: fails failed" in run.stdout
    assert f"logs: {tmp_path / 'logs'}" in run.stdout and (tmp_path / "logs" / "engine.log").is_file()
    assert (workdir / "ok.txt").read_text() == "ok\n" and not (workdir / "never.txt").exists()


def test_ctrl_c_stops_airflow_and_its_tasks(airflow_python: Path, tmp_path: Path) -> None:
    """Airflow runs a shell task in a session of its own: the engine script ends it too."""
    assert_ctrl_c_stops_everything(tmp_path, "airflow", airflow_python)
