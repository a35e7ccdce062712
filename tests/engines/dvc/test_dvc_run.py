"""`dagshift run -t dvc` on the real DVC 3 (scripts/engines/dvc.txt), given with --engine-python:
the pipeline compiled into the working directory, a git + DVC repository made there, `dvc repro`
read stage by stage; the files the harness's own `dvc repro` leaves (test_conformance.py), params
from --param, a failing stage, and Ctrl-C leaving nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dvc_harness import DvcEngine, compile_dvc
from engine_harness import EXAMPLES, ROOT
from run_harness import dagshift_run, failing_pipeline, fresh_workdir
from test_conformance import produced, snapshot

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SEQUENTIAL = EXAMPLES / "sequential.yaml"
GENERATED = {"dvc.yaml", "params.yaml"}  # the harness's repository starts with them


def test_an_example_runs_leaves_what_the_harness_run_leaves_and_reruns_what_a_param_changes(
        dvc_python: Path, dvc_engine: DvcEngine, tmp_path: Path) -> None:
    compiled = compile_dvc(SEQUENTIAL, tmp_path / "generated")
    assert compiled.ok, compiled.output
    repo = dvc_engine.repo(compiled.files[0].parent)
    repo_before = snapshot(repo.path)
    assert repo.repro(check=False).ok
    workdir = fresh_workdir(tmp_path / "mine")
    before = snapshot(workdir)
    run = dagshift_run(str(SEQUENTIAL), "-t", "dvc", "--engine-python", str(dvc_python), "-q", workdir=workdir)
    assert run.code == 0, run.describe()
    assert "is not a git repository: running git init and dvc init there" in run.stderr
    assert "warning" not in run.stderr  # -q
    rows = _table(run.stdout)
    assert rows == [[task, "succeeded", "1"] for task in ("ingest", "transform", "validate", "train", "evaluate",
                                                           "deploy")], run.stdout
    mine = {path: data for path, data in produced(before, workdir).items() if path not in GENERATED}
    assert mine == produced(repo_before, repo.path)

    again = dagshift_run(str(SEQUENTIAL), "-t", "dvc", "--engine-python", str(dvc_python), "-q", "--param",
                         "epochs=5", workdir=workdir)
    assert again.code == 0, again.describe()
    assert '"epochs": 5' in (workdir / "params.yaml").read_text()
    assert _table(again.stdout) == [["ingest", "skipped", "0"], ["transform", "skipped", "0"],
                                    ["validate", "skipped", "0"], ["train", "succeeded", "1"],
                                    ["evaluate", "succeeded", "1"], ["deploy", "succeeded", "1"]], again.stdout
    assert "[1/6] ingest skipped" in again.stdout.splitlines()


def test_a_failing_stage_fails_the_run_and_the_rest_is_not_run(dvc_python: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    run = dagshift_run(str(failing_pipeline(tmp_path)), "-t", "dvc", "--engine-python", str(dvc_python),
                       "--format", "json", workdir=workdir)
    assert run.code == 1, run.describe()
    report = run.report
    assert report["succeeded"] is False and report["error"] is None
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


def test_ctrl_c_stops_the_engine_and_its_tasks(dvc_python: Path, tmp_path: Path) -> None:
    marker = "61.4321"  # `sleep 61.4321`: a process no one else runs
    pipeline = tmp_path / "slow.yaml"
    pipeline.write_text(f"name: slow\ntasks:\n  wait:\n    command: sleep {marker}\n", encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    process = subprocess.Popen([sys.executable, "-m", "compiler", "run", str(pipeline), "-t", "dvc", "--engine-python",
                                str(dvc_python), "--workdir", str(workdir)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "[0/1] wait started (try 1)"
        deadline = time.monotonic() + 30
        while not _running(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _running(marker), "the stage never started"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1 and "interrupted" in err, err
    assert "Traceback" not in err
    assert not _running(marker), "the stage's process outlived the run"


def _running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if entry.name.isdigit() and f"sleep {marker}" in command:
            found.append(int(entry.name))
    return found


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
