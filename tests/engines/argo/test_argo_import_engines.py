"""Argo workflows that `dagshift import --assess` grades automatic convert faithfully: every one of
them, converted to Airflow, imports in real Airflow with no import error and the task graph of
the Argo workflow (as the importer read it), and each task's trigger rule, retries and timeout
(depends, retryStrategy and template timeouts, passed ones included, as the importer read them),
and its limit of running tasks (spec.parallelism, or the entrypoint template's) as the DAG file
sets it. Containers cannot run here (no Docker/Kubernetes), so the check is the loaded DAG, not a
run."""

from __future__ import annotations

import ast
from pathlib import Path

import external_corpus
import pytest
from engine_harness import inspected_graphs

from compiler.api import check_text
from compiler.backends.airflow.backend import TRIGGER_RULES
from compiler.compile import compile_loaded
from compiler.importers import import_file, pipeline_yaml
from compiler.importers.base import Grade
from compiler.language.graph import build_graph

pytestmark = pytest.mark.engine


def automatic_pipelines():
    found = []
    for path in sorted(external_corpus.path("argo", "examples").rglob("*.yaml")):
        found += [r for r in import_file(path, "argo") if r.grade is Grade.AUTOMATIC]
    return found


def dag_keyword(source: str, name: str):
    """The value of keyword `name` in the DAG(...) call of a generated DAG file (None if absent)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "DAG":
            for keyword in node.keywords:
                if keyword.arg == name:
                    return ast.literal_eval(keyword.value)
    return None


@pytest.mark.corpus
def test_automatic_argo_files_load_in_airflow_with_their_graph(airflow_engine, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    expected: dict[str, tuple[set[str], set[tuple[str, str]]]] = {}
    policies: dict[str, dict[str, tuple[str, int, float | None]]] = {}
    limits: dict[str, tuple[int | None, int | None]] = {}  # pipeline: (its max_active_tasks, the DAG file's)
    for index, result in enumerate(automatic_pipelines()):
        loaded = check_text(pipeline_yaml(result), f"{result.file} (imported)")
        compiled = compile_loaded(loaded, ["airflow"], strict=["airflow"], per_target_dirs=False)
        assert not compiled.diagnostics.has_errors, (result.file, [str(d) for d in compiled.diagnostics])
        if loaded.pipeline.name in expected:  # the same pipeline in two files (a CronWorkflow and its Workflow)
            continue
        folder = dags / f"p{index}"
        for relative, text in compiled.files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
        dag_files = [text for relative, text in compiled.files.items() if relative.endswith(".py")]
        limits[loaded.pipeline.name] = (loaded.pipeline.max_active_tasks,
                                        next((v for v in (dag_keyword(t, "max_active_tasks") for t in dag_files)
                                              if v is not None), None))
        graph = build_graph(loaded.pipeline)
        expected[loaded.pipeline.name] = (set(graph.nodes), set(graph.edges))
        policies[loaded.pipeline.name] = {
            task_id: (TRIGGER_RULES[task.trigger_rule].lower(), task.retries or 0,
                      float(task.timeout) if task.timeout is not None else None)
            for task_id, task in loaded.pipeline.tasks.items()}
    assert len(expected) >= 15
    assert {name: limit for name, (limit, _) in limits.items() if limit is not None} == {
        "backfill-v2": 1, "parallelism-limit": 2, "parallelism-template-limit": 2}  # spec.parallelism; the entrypoint's
    assert [name for name, (limit, written) in limits.items() if limit != written] == []
    output = airflow_engine.inspect(dags)
    wrong = inspected_graphs(output, expected, "Argo")
    for dag_id in expected:
        tasks = output.data["dags"][dag_id]["tasks"]
        for task_id, policy in policies[dag_id].items():
            facts = tasks.get(task_id, {})
            got_policy = (facts.get("trigger_rule"), facts.get("retries"), facts.get("execution_timeout"))
            if got_policy != policy:
                wrong.append(f"{dag_id}.{task_id}: Airflow (rule, retries, timeout) {got_policy}, Argo {policy}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.corpus
def test_argo_templates_run_as_kubectl_curl_or_container_tasks_load_in_airflow(airflow_engine, tmp_path: Path) -> None:
    """The resource, http and containerSet examples (graded review: importers/argo/emulated.py) convert to DAG
    files real Airflow imports with the graph the importer read."""
    marks = ("runs as a task: kubectl", "runs as a task: curl", "containerSet '")
    dags = tmp_path / "dags"
    expected: dict[str, tuple[set[str], set[tuple[str, str]]]] = {}
    for path in sorted(external_corpus.path("argo", "examples").rglob("*.yaml")):
        for result in import_file(path, "argo"):
            if result.grade is not Grade.REVIEW or not any(m in d.message for d in result.diagnostics for m in marks):
                continue
            loaded = check_text(pipeline_yaml(result), f"{result.file} (imported)")
            compiled = compile_loaded(loaded, ["airflow"], per_target_dirs=False)
            assert not compiled.diagnostics.has_errors, (result.file, [str(d) for d in compiled.diagnostics])
            for relative, text in compiled.files.items():
                (dags / path.stem / relative).parent.mkdir(parents=True, exist_ok=True)
                (dags / path.stem / relative).write_text(text)
            graph = build_graph(loaded.pipeline)
            expected[loaded.pipeline.name] = (set(graph.nodes), set(graph.edges))
    assert len(expected) >= 14
    assert inspected_graphs(airflow_engine.inspect(dags), expected, "Argo") == []


def test_a_run_time_with_sequence_runs_in_airflow_over_the_added_tasks_output(airflow_engine, tmp_path: Path) -> None:
    """The task importers/argo/graph.py adds for a withSequence known only at run time prints the sequence,
    and real Airflow maps the loop over it. The loop's container is run as a shell task here (no
    Docker): the sequence task and the mapping are what is under test."""
    source = tmp_path / "wf.yaml"
    source.write_text("""\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sequence-at-run-time}
spec:
  entrypoint: main
  arguments: {parameters: [{name: first, value: "9"}, {name: n, value: "3"}]}
  templates:
  - name: main
    steps:
    - - name: each
        template: write
        arguments: {parameters: [{name: m, value: "{{item}}"}]}
        withSequence: {start: "{{workflow.parameters.first}}", count: "{{workflow.parameters.n}}", format: "u%02X"}
  - name: write
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, command: [sh, -c, "echo {{inputs.parameters.m}} > seq-{{inputs.parameters.m}}.txt"]}
""", encoding="utf-8")
    (result,) = import_file(source, "argo")
    assert result.grade is Grade.REVIEW
    del result.data["tasks"]["each"]["image"]
    loaded = check_text(pipeline_yaml(result), "imported")
    compiled = compile_loaded(loaded, ["airflow"], strict=["airflow"], per_target_dirs=False)
    assert not compiled.diagnostics.has_errors, [str(d) for d in compiled.diagnostics]
    dags = tmp_path / "dags"
    for relative, text in compiled.files.items():
        (dags / relative).parent.mkdir(parents=True, exist_ok=True)
        (dags / relative).write_text(text, encoding="utf-8")
    (dag_file,) = [dags / relative for relative in compiled.files if relative.endswith(".py")]
    run = airflow_engine.dag_test(dag_file, "sequence-at-run-time", {"first": 9, "n": 3})
    assert run.state == "success", run.summary()
    assert sorted(ti["map_index"] for ti in run.instances("each")) == [0, 1, 2], run.summary()
    assert sorted(p.name for p in run.workdir.rglob("seq-*.txt")) == ["seq-u09.txt", "seq-u0A.txt", "seq-u0B.txt"]
