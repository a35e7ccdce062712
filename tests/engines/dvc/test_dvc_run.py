"""`dagshift run -t dvc` on the real DVC 3 (scripts/engines/dvc.txt), given with --engine-python:
the pipeline compiled into the working directory, a git + DVC repository made there, `dvc repro`
read stage by stage; params from --param, a failing stage, and Ctrl-C or a task's background
process leaving nothing running. Every example's run, its files, values and report, is in
test_conformance.py, which runs them all through `dagshift run`."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from engine_harness import EXAMPLES
from run_harness import assert_ctrl_c_stops_everything, dagshift_run, failing_pipeline, fresh_workdir, running

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SEQUENTIAL = EXAMPLES / "sequential.yaml"


def test_an_example_runs_in_a_new_repository_and_reruns_what_a_param_changes(dvc_python: Path,
                                                                            tmp_path: Path) -> None:
    """Its files, values and report are test_conformance.py's: here, what is DVC's own."""
    workdir = fresh_workdir(tmp_path / "mine")
    run = dagshift_run(str(SEQUENTIAL), "-t", "dvc", "--engine-python", str(dvc_python), "-q", workdir=workdir)
    assert run.code == 0, run.describe()
    assert "is not a git repository: running git init and dvc init there" in run.stderr
    assert "warning" not in run.stderr  # -q
    rows = _table(run.stdout)
    assert rows == [[task, "succeeded", "1"] for task in ("ingest", "transform", "validate", "train", "evaluate",
                                                           "deploy")], run.stdout

    again = dagshift_run(str(SEQUENTIAL), "-t", "dvc", "--engine-python", str(dvc_python), "--param", "epochs=5",
                         workdir=workdir)
    assert again.code == 0, again.describe()
    assert "warning[W301]: DVC cannot express owner" in again.stderr  # what DVC leaves out, without -q
    assert "git init" not in again.stderr  # a repository now
    assert '"epochs": 5' in (workdir / "params.yaml").read_text()
    assert _table(again.stdout) == [["ingest", "skipped", "0"], ["transform", "skipped", "0"],
                                    ["validate", "skipped", "0"], ["train", "succeeded", "1"],
                                    ["evaluate", "succeeded", "1"], ["deploy", "succeeded", "1"]], again.stdout
    assert "[1/6] ingest skipped" in again.stdout.splitlines()


def test_a_failing_stage_fails_the_run_and_the_rest_is_not_run(dvc_python: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = dagshift_run(str(failing_pipeline(tmp_path)), "-t", "dvc", "--param", "code=3", "--engine-python",
                       str(dvc_python), "--format", "json", workdir=workdir)
    assert run.code == 1, run.describe()
    report = run.report
    assert report["succeeded"] is False and report["error"] is None
    assert report["notes"] == [f"{workdir} is not a git repository: running git init and dvc init there"]
    assert [(t["task"], t["state"]) for t in report["tasks"]] == [("ok", "succeeded"), ("fails", "failed"),
                                                                   ("downstream", "not_run")]
    assert "failed to reproduce 'fails'" in (Path(report["logs"]) / "engine.log").read_text()


def test_a_params_file_dagshift_did_not_write_is_left_alone(dvc_python: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "params.yaml").write_text("mine: 1\n")
    run = dagshift_run(str(failing_pipeline(tmp_path)), "-t", "dvc", "--engine-python", str(dvc_python),
                       workdir=workdir)
    assert run.code == 1 and "error[E403]" in run.stderr, run.describe()
    assert (workdir / "params.yaml").read_text() == "mine: 1\n" and not (workdir / "dvc.yaml").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_the_engine_and_its_tasks(dvc_python: Path, tmp_path: Path, sig: signal.Signals) -> None:
    """With --format json once: the document still comes, saying the run was interrupted."""
    assert_ctrl_c_stops_everything(tmp_path, "dvc", dvc_python, sig, json_output=sig is signal.SIGTERM)


def _table(stdout: str) -> list[list[str]]:
    """The rows of the result table: task, state, tries."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("task "))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        cells = line.split()
        rows.append([cells[0], " ".join(cells[1:-2]).replace("not run", "not_run"), cells[-2]])
    return rows


def test_a_fan_out_over_a_list_param_reports_each_run(dvc_python: Path, tmp_path: Path) -> None:
    """A foreach stage runs as `make@x`: task `make`, instance `x`; the list comes from --param."""
    pipeline = tmp_path / "fan.yaml"
    pipeline.write_text("name: fan\nparams:\n  sizes: {type: list, default: [a]}\ntasks:\n  make:\n"
                        "    foreach: ${{ params.sizes }}\n    command: echo ${{ item }} > out-${{ item }}.txt\n",
                        encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = dagshift_run(str(pipeline), "-t", "dvc", "--param", 'sizes=["x", "y"]', "--engine-python", str(dvc_python),
                       workdir=workdir)
    assert run.code == 0, run.describe()
    assert _table(run.stdout) == [["make[x]", "succeeded", "1"], ["make[y]", "succeeded", "1"]]
    assert "[2/2] make[y] succeeded" in run.stdout.splitlines()
    assert sorted(p.name for p in workdir.glob("out-*.txt")) == ["out-x.txt", "out-y.txt"]


def test_what_a_task_leaves_in_the_background_ends_with_the_run(dvc_python: Path, tmp_path: Path) -> None:
    # `sleep 600.PID`, a process no one else runs, outlives the harness's timeout: a run that waits
    # for it (holding the output it inherited open) fails the test, as one that leaves it running
    marker = f"600.{os.getpid()}"
    pipeline = tmp_path / "background.yaml"
    pipeline.write_text(f"name: background\ntasks:\n  start:\n    command: (sleep {marker} &) ; echo started > s.txt\n",
                        encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = dagshift_run(str(pipeline), "-t", "dvc", "--engine-python", str(dvc_python), workdir=workdir)
    assert run.code == 0, run.describe()
    assert (workdir / "s.txt").read_text() == "started\n"
    assert not running(marker), "a task's background process outlived the run"
