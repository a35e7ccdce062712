"""`dagshift run -t prefect` on the real Prefect 3 (scripts/engines/prefect.txt), given with
--engine-python: the flow called once against a temporary local API, each task run's state changes
as they happen, a table at the end; a failing task, and Ctrl-C. Every example's run, its files,
values and report, is in test_conformance.py, which runs them all through `dagshift run` (the
conditional example's branch not taken is reported skipped there: Prefect makes no task run for
it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_harness import assert_ctrl_c_stops_everything, dagshift_run, failing_pipeline

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_a_failing_task_fails_the_run_and_the_table_says_so(prefect_python: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = dagshift_run(str(failing_pipeline(tmp_path, retries=1)), "-t", "prefect", "--param", "code=3",
                       "--engine-python", str(prefect_python), workdir=workdir)
    assert run.code == 1, run.describe()
    changes = [line.split("] ", 1)[1] for line in run.stdout.splitlines() if line.startswith("[")]
    assert changes == ["ok started (try 1)", "ok succeeded", "fails started (try 1)", "fails retried (try 1)",
                       "fails started (try 2)", "fails failed (try 2)", "downstream not run"], run.stdout
    lines = run.stdout.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("task "))):]
    assert [row.split()[:3] for row in table[2:5]] == [["ok", "succeeded", "1"], ["fails", "failed", "2"],
                                                       ["downstream", "not", "run"]]
    assert "run failed on prefect: fails failed" in run.stdout
    assert (workdir / "ok.txt").read_text() == "ok\n" and not (workdir / "never.txt").exists()


def test_ctrl_c_stops_prefect_and_its_tasks(prefect_python: Path, tmp_path: Path) -> None:
    assert_ctrl_c_stops_everything(tmp_path, "prefect", prefect_python)
