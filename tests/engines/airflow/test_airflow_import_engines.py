"""Airflow DAG files imported by dagshift, checked on the real Airflow 3 of the engine venv
(scripts/engines/airflow.txt), never mocked.

`dagshift import --execute`: a DAG built in a loop, which static analysis grades manual, imports
with its tasks and edges; a file Airflow refuses is an E601 with Airflow's message; and for the
hand-written fixtures static analysis reads, both modes agree on the graph.

The TaskFlow fixtures (tasks mapped over other tasks' results, nested calls in a chain, a
@task.branch): what static analysis reads is the DAG Airflow loads (tasks, edges, mapped tasks,
retries, trigger rules), and `dagshift convert FIXTURE --to airflow` gives a DAG Airflow loads with
the same, the backend's documented helper tasks aside."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engine_harness import inspected_graphs
from test_airflow_engine import expected_task_ids

from compiler.api import check_text
from compiler.importers import Grade, import_file, pipeline_yaml
from compiler.importers.airflow.execute import import_executed
from compiler.language.graph import build_graph
from compiler.language.ir import Pipeline

pytestmark = pytest.mark.engine

FIXTURES = Path(__file__).resolve().parents[2] / "importers" / "fixtures" / "airflow"
TASKFLOW_FIXTURES = {"taskflow_mapping.py": "model_sweep", "taskflow_branch.py": "promote_model"}  # file: DAG id


def pipeline_of(imported) -> Pipeline:
    loaded = check_text(pipeline_yaml(imported), f"{imported.file} (imported)")
    assert loaded.pipeline is not None and not loaded.diagnostics.has_errors, [str(d) for d in loaded.diagnostics]
    return loaded.pipeline


def edges_of(imported) -> set[tuple[str, str]]:
    """Every edge of the imported pipeline: `after`, references and conditions."""
    return set(build_graph(pipeline_of(imported)).edges)


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
    assert edges_of(imported) == {("start", f"extract_{r}") for r in regions} | {
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
        assert edges_of(executed) == edges_of(static), name


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


# ----------------------------------------------------------------------------- TaskFlow fixtures


def settings_of(facts: dict) -> dict[str, tuple[bool, int, str]]:
    """Per task, as Airflow loaded it: mapped or not, retries, trigger rule."""
    return {task_id: (task["mapped"], task["retries"], task["trigger_rule"]) for task_id, task in facts.items()}


def settings_of_pipeline(pipeline: Pipeline) -> dict[str, tuple[bool, int, str]]:
    return {task_id: (task.is_mapped, task.retries or 0, task.trigger_rule.value)
            for task_id, task in pipeline.tasks.items()}


def without_helpers(facts: dict, helpers: set[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """The loaded DAG's tasks and edges with the helper tasks taken out: each edge through a
    helper becomes an edge from its upstream to its downstream tasks."""
    edges = {(upstream, task_id) for task_id, task in facts.items() for upstream in task["upstream"]}
    for helper in helpers:
        ups = {up for up, down in edges if down == helper}
        downs = {down for up, down in edges if up == helper}
        edges = {(up, down) for up, down in edges if helper not in (up, down)} | {(u, d) for u in ups for d in downs}
    return set(facts) - helpers, edges


def branch_choices(facts: dict, helpers: set[str] = frozenset()) -> set[tuple[str, str]]:
    """(what decides, a task it may skip) for each @task.branch of a loaded DAG and its downstream
    tasks; for dagshift's `<task>__branch` helper, what decides is the task its condition reads."""
    choices = set()
    for task_id, task in facts.items():
        if task["class"] == "@task.branch":
            downs = [down for down, other in facts.items() if task_id in other["upstream"]]
            deciders = task["upstream"] if task_id in helpers else [task_id]
            choices |= {(decider, down) for decider in deciders for down in downs}
    return choices


def inspect_fixtures(airflow_engine, folder: Path):
    """The TaskFlow fixtures as real Airflow loads them (one BundleDagBag import of the folder)."""
    folder.mkdir()
    for name in TASKFLOW_FIXTURES:
        shutil.copy(FIXTURES / name, folder / name)
    output = airflow_engine.inspect(folder)
    assert output.data.get("import_errors") == {}, output.tail()
    return output


def test_taskflow_fixtures_import_as_the_dag_airflow_loads(airflow_engine, tmp_path: Path) -> None:
    """The import has Airflow's tasks and edges (XCom arguments and .expand sources included),
    maps the tasks Airflow maps, and has Airflow's retries and trigger rules."""
    expected, settings = {}, {}
    for name, dag_id in TASKFLOW_FIXTURES.items():
        (imported,) = import_file(FIXTURES / name, "airflow")
        assert imported.grade is Grade.REVIEW, losses(imported)
        pipeline = pipeline_of(imported)
        assert pipeline.name == dag_id
        expected[dag_id] = (set(pipeline.tasks), set(build_graph(pipeline).edges))
        settings[dag_id] = settings_of_pipeline(pipeline)
    output = inspect_fixtures(airflow_engine, tmp_path / "fixtures")
    assert inspected_graphs(output, expected, "import") == []
    for dag_id, imported_settings in settings.items():
        assert settings_of(output.data["dags"][dag_id]["tasks"]) == imported_settings, dag_id


def test_taskflow_fixtures_convert_back_to_the_dag_airflow_loads(airflow_engine, tmp_path: Path) -> None:
    """`dagshift convert FIXTURE --to airflow`: real Airflow loads the converted DAG with the
    fixture's tasks, edges, mapped tasks, retries and trigger rules; the only other tasks are the
    helpers docs/backends/airflow.md names (`<task>__branch` for a condition; a map over a task's
    result needs none)."""
    converted, pipelines = tmp_path / "converted", {}
    for name, dag_id in TASKFLOW_FIXTURES.items():
        process = subprocess.run([sys.executable, "-m", "compiler", "convert", str(FIXTURES / name), "--to", "airflow",
                                  "-o", str(converted), "--keep-ir"], capture_output=True, text=True, timeout=600,
                                 check=False)
        assert process.returncode == 0, process.stdout + process.stderr
        loaded = check_text((converted / f"{dag_id}.yaml").read_text(encoding="utf-8"), f"{dag_id}.yaml")
        assert loaded.pipeline is not None and not loaded.diagnostics.has_errors
        pipelines[dag_id] = loaded.pipeline
    original = inspect_fixtures(airflow_engine, tmp_path / "fixtures").data["dags"]
    output = airflow_engine.inspect(converted)
    assert output.data.get("import_errors") == {}, output.tail()
    assert sorted(output.data["dags"]) == sorted(TASKFLOW_FIXTURES.values())
    for dag_id, pipeline in pipelines.items():
        tasks = output.data["dags"][dag_id]["tasks"]
        assert set(tasks) == expected_task_ids(pipeline), dag_id  # the pipeline's tasks and documented helpers
        helpers = set(tasks) - set(pipeline.tasks)
        assert all(h.endswith("__branch") for h in helpers), helpers  # Airflow maps over task results itself
        fixture = original[dag_id]["tasks"]
        assert without_helpers(tasks, helpers) == without_helpers(fixture, set()), dag_id
        assert settings_of({t: tasks[t] for t in fixture}) == settings_of(fixture), dag_id
        assert branch_choices(tasks, helpers) == branch_choices(fixture), dag_id  # the same task still decides
    assert branch_choices(original["promote_model"]["tasks"]) == {("gate", "deploy"), ("gate", "keep_current")}
