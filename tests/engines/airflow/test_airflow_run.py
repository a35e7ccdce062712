"""`dagshift run -t airflow` on the real Airflow 3 (scripts/engines/airflow.txt), given with
--engine-python: dag.test() in a throwaway home, each task's state changes as they happen, a
table at the end, the files the harness's own dag.test() run leaves (test_conformance.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_harness import EXAMPLES, AirflowEngine, compile_pipeline, load_pipeline
from run_harness import assert_ctrl_c_stops_everything, dagshift_run, failing_pipeline, fresh_workdir
from test_conformance import produced, snapshot

pytestmark = [pytest.mark.engine, pytest.mark.slow]


@pytest.mark.parametrize("example", ["sequential", "fan_out"])  # shell and python tasks; mapped ones
def test_an_example_runs_and_leaves_what_the_harness_run_leaves(airflow_python: Path, airflow_engine: AirflowEngine,
                                                                tmp_path: Path, example: str) -> None:
    source = EXAMPLES / f"{example}.yaml"
    compiled = compile_pipeline(source, tmp_path / "dags")
    assert compiled.ok, compiled.output
    pipeline = load_pipeline(source)
    harness_run = airflow_engine.submit(compiled.files[0], pipeline.name)  # in the background meanwhile
    workdir = fresh_workdir(tmp_path)
    before = snapshot(workdir)
    run = dagshift_run(str(source), "-t", "airflow", "--engine-python", str(airflow_python), "--format", "json",
                       workdir=workdir)
    assert run.code == 0, run.describe()
    report = run.report
    assert report["succeeded"] is True and report["target"] == "airflow"
    assert list(dict.fromkeys(t["task"] for t in report["tasks"])) == list(pipeline.tasks)
    assert all(t["state"] == "succeeded" and t["tries"] == 1 for t in report["tasks"]), report["tasks"]
    assert all(t["seconds"] is not None and t["seconds"] >= 0 for t in report["tasks"])
    mapped = {t["task"] for t in report["tasks"] if t["instance"] is not None}
    assert mapped == {task_id for task_id, task in pipeline.tasks.items() if task.foreach is not None}
    # every declared value output of every run (a mapped task's per instance), for `dagshift verify`
    assert set(report["values"]) == {t["task"] + (f"[{t['instance']}]" if t["instance"] is not None else "") + f".{name}"
                                     for t in report["tasks"] for name in pipeline.tasks[t["task"]].outputs}
    logs = Path(report["logs"])
    assert logs.parent == workdir / ".dagshift" / "runs" and (logs / "engine.log").stat().st_size > 0
    expected = harness_run.result()
    assert expected.state == "success", expected.summary()
    assert expected.workdir is not None
    mine, theirs = produced(before, workdir), produced(before, expected.workdir)
    assert sorted(mine) == sorted(theirs) and mine == theirs


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
