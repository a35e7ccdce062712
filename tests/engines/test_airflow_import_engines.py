"""`dagshift import --execute`: Airflow DAG files loaded by the real Airflow 3 of the engine venv
(scripts/engines/airflow.txt), never mocked. A DAG built in a loop, which static analysis grades
manual, imports with its tasks and edges; a file Airflow refuses is an E601 with Airflow's
message; and for the hand-written fixtures static analysis reads, both modes agree on the graph."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compiler.importers import Grade, import_file
from compiler.importers.airflow_execute import import_executed

pytestmark = pytest.mark.engine

FIXTURES = Path(__file__).resolve().parents[1] / "importers" / "fixtures" / "airflow"


def edges_of(tasks: dict) -> set[tuple[str, str]]:
    return {(upstream, task_id) for task_id, task in tasks.items() for upstream in task.get("after", [])}


def losses(imported) -> list[tuple[str, int, str]]:
    return [(d.code, d.loc.line if d.loc else 0, d.message.split(";")[0]) for d in imported.diagnostics.sorted()]


def test_a_dag_built_in_loops_imports_with_execute(airflow_python: Path) -> None:
    path = FIXTURES / "dynamic_factory.py"
    (static,) = import_file(path, "airflow")
    assert static.grade is Grade.MANUAL and "--execute" in static.diagnostics.errors[0].help
    (imported,) = import_executed(path, str(airflow_python))
    assert imported.grade is Grade.REVIEW, losses(imported)
    data = imported.data
    assert data["name"] == "dynamic_factory" and data["tags"] == ["generated"]
    assert data["schedule"] == {"cron": "30 4 * * *", "timezone": "Europe/Paris", "start_date": "2025-02-01"}
    tasks = data["tasks"]
    assert sorted(tasks) == sorted(["start", "extract_eu", "extract_us", "extract_apac", "load_eu", "load_us",
                                    "load_apac", "merge", "end"])
    assert all(t["retries"] == 2 and t["retry_delay"] == 60 for t in tasks.values())  # default_args
    assert tasks["extract_us"]["command"] == "extract.sh us" and tasks["extract_us"]["timeout"] == 600
    assert tasks["load_apac"]["python"] == "dynamic_factory:export"
    assert tasks["load_apac"]["args"] == {"region": "apac", "day": "monday"}
    assert tasks["merge"]["trigger_rule"] == "all_done"
    regions = ("eu", "us", "apac")
    assert edges_of(tasks) == {("start", f"extract_{r}") for r in regions} | {
        (f"extract_{r}", f"load_{r}") for r in regions} | {(f"load_{r}", "merge") for r in regions} | {
        ("merge", "end")}
    # Each loss at the line of the file where Airflow made the task: the loop's PythonOperator call.
    assert losses(imported) == [("W602", 35, "python_callable 'export' is defined in the DAG file")] * 3


def test_fixtures_read_statically_give_the_graph_airflow_loads(airflow_python: Path) -> None:
    # taskflow_legacy.py is Airflow 2 style (schedule_interval), which Airflow 3 refuses.
    for name in ("etl_sdk.py", "groups_nested.py", "continuous.py", "dag_argument.py"):
        (static,) = import_file(FIXTURES / name, "airflow")
        (executed,) = import_executed(FIXTURES / name, str(airflow_python))
        assert executed.data is not None, (name, losses(executed))
        assert list(executed.data["tasks"]) == list(static.data["tasks"]) or \
            sorted(executed.data["tasks"]) == sorted(static.data["tasks"]), name
        assert edges_of(executed.data["tasks"]) == edges_of(static.data["tasks"]), name


def test_the_dag_argument_style_reads_the_same_with_execute(airflow_python: Path) -> None:
    (static,) = import_file(FIXTURES / "dag_argument.py", "airflow")
    (executed,) = import_executed(FIXTURES / "dag_argument.py", str(airflow_python))
    assert executed.data == static.data
    # The same losses; with --execute a task's are at the line its call starts on.
    assert [(code, line) for code, line, _ in losses(executed)] == [
        ("W601", 28), ("W602", 28), ("W602", 35), ("W601", 37), ("W602", 37), ("W602", 37)]


def test_a_file_airflow_refuses_is_e601_with_airflows_message(airflow_python: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\n\n"
                    "with DAG('broken', schedule=None):\n    for _ in range(2):\n"
                    "        BashOperator(task_id='same', bash_command='true')\n")
    process = subprocess.run([sys.executable, "-m", "compiler", "import", "--execute", "--airflow-python",
                              str(airflow_python), str(path), "-o", str(tmp_path / "out.yaml")],
                             capture_output=True, text=True, timeout=600, check=False)
    assert process.returncode == 1, process.stdout + process.stderr
    assert "error[E601]: Airflow 3.3.2 cannot import the file: Task id 'same' has already been added to the Dag" \
        in process.stdout
    assert "Traceback" not in process.stdout + process.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_an_interpreter_without_airflow_is_e601_naming_the_option(tmp_path: Path) -> None:
    (imported,) = import_executed(FIXTURES / "dynamic_loop.py", sys.executable)  # the test venv: no Airflow
    (error,) = imported.diagnostics.errors
    assert error.code == "E601" and "has no Airflow 3" in error.message and "--airflow-python" in error.help


def test_convert_with_execute_compiles_the_loaded_dag(airflow_python: Path, tmp_path: Path) -> None:
    process = subprocess.run([sys.executable, "-m", "compiler", "convert", "--execute", "--airflow-python",
                              str(airflow_python), str(FIXTURES / "dynamic_loop.py"), "--to", "dvc", "-o",
                              str(tmp_path), "--keep-ir"], capture_output=True, text=True, timeout=600, check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    assert (tmp_path / "dynamic.yaml").read_text().count("command: echo") == 3
