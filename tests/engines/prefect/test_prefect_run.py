"""`dagshift run -t prefect` on the real Prefect 3 (scripts/engines/prefect.txt), given with
--engine-python: the flow called once against a temporary local API, each task run's state changes
as they happen, a table at the end, the files the harness's own flow run leaves
(test_conformance.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_harness import EXAMPLES, PrefectEngine, compile_pipeline, load_pipeline
from run_harness import assert_ctrl_c_stops_everything, dagshift_run, failing_pipeline, fresh_workdir
from test_conformance import produced, snapshot

from compiler.language.naming import python_name

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_an_example_runs_and_leaves_what_the_harness_run_leaves(prefect_python: Path, prefect_engine: PrefectEngine,
                                                                tmp_path: Path) -> None:
    source = EXAMPLES / "fan_out.yaml"  # shell and python tasks, mapped ones
    compiled = compile_pipeline(source, tmp_path / "flows", target="prefect")
    assert compiled.ok, compiled.output
    pipeline = load_pipeline(source)
    theirs_workdir = fresh_workdir(tmp_path / "theirs")
    before = snapshot(theirs_workdir)
    plan = {"inspect": [], "runs": [{"key": "run", "module": str(compiled.files[0]), "params": {},
                                     "workdir": str(theirs_workdir), "flow": python_name(pipeline.name)}]}
    harness_run = prefect_engine.submit(prefect_engine.runner, plan)  # in the background meanwhile
    workdir = fresh_workdir(tmp_path / "mine")
    run = dagshift_run(str(source), "-t", "prefect", "--engine-python", str(prefect_python), "--format", "json",
                       workdir=workdir)
    assert run.code == 0, run.describe()
    report = run.report
    assert report["succeeded"] is True and report["target"] == "prefect"
    assert list(dict.fromkeys(t["task"] for t in report["tasks"])) == list(pipeline.tasks)
    assert all(t["state"] == "succeeded" and t["tries"] == 1 for t in report["tasks"]), report["tasks"]
    mapped = {t["task"]: [] for t in report["tasks"] if t["instance"] is not None}
    for t in report["tasks"]:
        if t["instance"] is not None:
            mapped[t["task"]].append(t["instance"])
    assert set(mapped) == {task_id for task_id, task in pipeline.tasks.items() if task.foreach is not None}
    assert all(instances == [str(i) for i in range(len(instances))] for instances in mapped.values()), mapped
    # every declared value output of every run (a mapped task's per instance), for `dagshift verify`
    assert set(report["values"]) == {t["task"] + (f"[{t['instance']}]" if t["instance"] is not None else "") + f".{name}"
                                     for t in report["tasks"] for name in pipeline.tasks[t["task"]].outputs}
    flow_run = harness_run.result().flow_run("run")
    assert flow_run.state == "COMPLETED", flow_run.summary()
    mine, theirs = produced(before, workdir), produced(before, theirs_workdir)
    assert sorted(mine) == sorted(theirs) and mine == theirs


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


def test_a_task_its_condition_leaves_out_is_skipped(prefect_python: Path, tmp_path: Path) -> None:
    """Prefect makes no task run for it: in a run that succeeded, that is a skip (as Airflow says)."""
    pipeline = tmp_path / "branch.yaml"
    pipeline.write_text("name: branch\nparams:\n  go: false\ntasks:\n  a:\n    command: echo a > a.txt\n  b:\n"
                        "    command: echo b > b.txt\n    after: [a]\n    when: params.go\n", encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = dagshift_run(str(pipeline), "-t", "prefect", "--engine-python", str(prefect_python), "--format", "json",
                       workdir=workdir)
    assert run.code == 0, run.describe()
    assert [(t["task"], t["state"], t["tries"]) for t in run.report["tasks"]] == [("a", "succeeded", 1),
                                                                                  ("b", "skipped", 0)]
    assert (workdir / "a.txt").is_file() and not (workdir / "b.txt").exists()
