"""`dagshift verify` on the real engines: a migration proven by running both sides. An example
compiled for one target and converted to another (`dagshift convert`) leaves the same files and
value outputs on both engines; after one command of the converted file is changed by hand, the
differing files are reported and the exit code is 1. The working directory itself is never
touched: each run has its own copy."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from engine_harness import EXAMPLES
from run_harness import dagshift, empty_folder, fresh_workdir, interrupt_while_sleeping, sleeping_pipeline
from test_conformance import snapshot

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SEQUENTIAL = EXAMPLES / "sequential.yaml"
# What sequential.yaml's tasks write (its header comment): every one is compared.
SEQUENTIAL_FILES = 7


def _engines(**pythons: Path) -> list[str]:
    return [argument for target, python in pythons.items() for argument in ("--engine-python", f"{target}={python}")]


def _ok(*args: str) -> None:
    done = dagshift(*args)
    assert done.code == 0, done.describe()


def test_an_airflow_dag_converted_to_prefect_runs_the_same(tmp_path: Path, airflow_python: Path,
                                                            prefect_python: Path) -> None:
    workdir = fresh_workdir(tmp_path)
    dag, flow = tmp_path / "dags" / "sequential.py", tmp_path / "flows" / "sequential.py"
    _ok("compile", str(SEQUENTIAL), "-t", "airflow", "-o", str(dag.parent), "-q")
    _ok("convert", str(dag), "--to", "prefect", "-o", str(flow.parent), "-q")
    before = snapshot(workdir)
    run = dagshift("verify", str(dag), str(flow), "--workdir", str(workdir), "--format", "json",
                   *_engines(airflow=airflow_python, prefect=prefect_python))
    assert run.code == 0, run.describe()
    report = run.report
    assert report["same"] is True and report["differences"] == [] and report["folder"] is None
    assert [(side["target"], side["native"]) for side in report["sides"]] == [("airflow", True), ("prefect", True)]
    assert report["files_compared"] == SEQUENTIAL_FILES
    source, converted = (side["run"] for side in report["sides"])
    assert source["values"] == converted["values"] and "evaluate.accuracy" in source["values"]
    assert report["values_compared"] == len(source["values"])
    assert snapshot(workdir) == before


def test_dvc_converted_to_airflow_runs_the_same_until_a_command_is_changed_by_hand(
        tmp_path: Path, dvc_python: Path, airflow_python: Path) -> None:
    workdir = fresh_workdir(tmp_path)
    _ok("compile", str(SEQUENTIAL), "-t", "dvc", "-o", str(workdir), "-q")
    dag = tmp_path / "dags" / "sequential.py"
    _ok("convert", str(workdir / "dvc.yaml"), "--to", "airflow", "-o", str(dag.parent), "-q")
    engines = _engines(dvc=dvc_python, airflow=airflow_python)
    same = dagshift("verify", str(workdir / "dvc.yaml"), str(dag), "--workdir", str(workdir), *engines)
    assert same.code == 0, same.describe()
    assert f"no difference: both runs succeeded and left the same {SEQUENTIAL_FILES} file(s)" in same.stdout

    text = dag.read_text(encoding="utf-8")
    assert text.count("--model logreg") == 1
    dag.write_text(text.replace("--model logreg", "--model stump"), encoding="utf-8")
    changed = dagshift("verify", str(workdir / "dvc.yaml"), str(dag), "--workdir", str(workdir), *engines)
    assert changed.code == 1, changed.describe()
    assert "file models/model.json: first differs at line 2\n" in changed.stdout, changed.stdout
    assert "value evaluate.accuracy: the values differ\n" in changed.stdout
    assert "DIFFERENT: 4 of 7 file(s) and 1 of 1 value output(s) differ" in changed.stdout
    kept = changed.stdout.rsplit("copies of the working directory and the logs: ", 1)[1].strip()
    assert (Path(kept) / "converted" / "models" / "model.json").is_file()  # kept to look into
    shutil.rmtree(kept)
    assert not (workdir / "models").exists() and not (workdir / ".git").exists()


def test_ctrl_c_stops_both_runs_and_their_tasks(tmp_path: Path, dvc_python: Path) -> None:
    """The two sides run at once, each in a thread: the interrupt reaches the main thread only,
    which stops both engines; nothing is left running and no traceback shows."""
    marker = f"63.{os.getpid()}"  # `sleep 63.PID`: a process no one else runs
    pipeline = sleeping_pipeline(tmp_path, marker)
    copies = set(Path(tempfile.gettempdir()).glob("dagshift-verify-*"))
    interrupt_while_sleeping(["verify", str(pipeline), str(pipeline), "--source-target", "dvc", "--converted-target",
                              "dvc", "--engine-python", str(dvc_python), "--workdir",
                              str(empty_folder(tmp_path / "work"))], marker, sleepers=2)
    assert set(Path(tempfile.gettempdir()).glob("dagshift-verify-*")) == copies  # removed, as nothing was verified
