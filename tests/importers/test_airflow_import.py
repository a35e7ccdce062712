"""The Airflow importer: dagshift's own output read back in full, and hand-written DAG files
(tests/importers/fixtures/airflow/) read to exactly the pipeline and losses pinned here."""

from __future__ import annotations

import re
from pathlib import Path

from compiler.importers import Grade, import_file

FIXTURES = Path(__file__).parent / "fixtures" / "airflow"
_ARTIFACT = re.compile(r"\$\{\{\s*artifacts\.(\w+)\s*\}\}")


def read(name: str):
    results = import_file(FIXTURES / name, "airflow")
    assert len(results) == 1
    return results[0]


def losses(imported) -> list[tuple[str, int, str]]:
    return [(d.code, d.loc.line if d.loc else 0, d.message.split(";")[0]) for d in imported.diagnostics.sorted()]


def test_airflow_3_dag_with_operators_groups_and_every_edge_syntax() -> None:
    imported = read("etl_sdk.py")
    assert imported.grade is Grade.REVIEW
    data = imported.data
    assert data["name"] == "etl_sdk" and data["description"] == "Nightly ETL" and data["owner"] == "data-team"
    assert data["schedule"] == {"cron": "0 2 * * *", "timezone": "Europe/Berlin", "start_date": "2025-01-01"}
    assert data["params"] == {"table": {"default": "events", "type": "str", "enum": ["events", "users"]},
                              "limit": 10}
    assert data["tags"] == ["etl"] and data["max_active_runs"] == 1 and data["timeout"] == 7200
    assert data["alerts"] == [{"on": "failure", "python": "etl_sdk:notify"}]
    tasks = data["tasks"]
    assert list(tasks) == ["wait_for_file", "extract", "transform", "checks__rows", "checks__nulls", "train",
                           "report", "cleanup", "publish_a", "publish_b", "trigger_downstream"]
    assert all(t["retries"] == 2 and t["retry_delay"] == 300 for t in tasks.values())  # default_args
    assert tasks["extract"]["command"] == "extract.py --table ${{ params.table }} --day {{ ds }}"
    assert tasks["transform"]["python"] == "etl_sdk:load" and tasks["transform"]["args"] == {"table": "events"}
    assert tasks["transform"]["timeout"] == 1800
    assert tasks["train"]["image"] == "ghcr.io/acme/train:1" and tasks["train"]["command"] == ["python"]
    assert tasks["train"]["args"] == ["train.py"] and tasks["train"]["env"] == {"MODE": "fast"}
    assert tasks["report"]["trigger_rule"] == "all_done" and tasks["cleanup"]["trigger_rule"] == "none_failed"
    assert tasks["trigger_downstream"]["command"] == "airflow dags trigger reporting"
    edges = {(u, d) for d, t in tasks.items() for u in t.get("after", [])}
    assert edges == {
        ("wait_for_file", "extract"), ("extract", "transform"),  # a >> b >> c
        ("transform", "checks__rows"),  # group << task: to the group's root
        ("checks__rows", "checks__nulls"),  # inside the group
        ("checks__nulls", "train"), ("train", "report"),  # chain(group, ...): from the group's leaf
        ("report", "publish_a"), ("report", "publish_b"),  # cross_downstream
        ("report", "cleanup"),  # set_upstream
        ("publish_a", "trigger_downstream"),  # set_downstream
    }
    assert losses(imported) == [
        ("W601", 15, "default_args 'email' has no dagshift equal"),
        ("W602", 37, "callback 'notify' is called with Airflow's context"),
        ("W601", 39, "FileSensor waits for something outside the pipeline"),
        ("W602", 40, "bash_command uses Airflow Jinja with no dagshift placeholder ({{ ds }})"),
        ("W602", 41, "python_callable 'load' is defined in the DAG file"),
        ("W602", 44, "task id 'checks.rows' is imported as 'checks__rows' (TaskGroup ids are flattened"),
        ("W602", 45, "task id 'checks.nulls' is imported as 'checks__nulls' (TaskGroup ids are flattened"),
        ("W601", 48, "KubernetesPodOperator argument 'namespace' has no dagshift equal"),
        ("W602", 50, "trigger rule 'none_failed_min_one_success' has no dagshift equal"),
        ("W602", 53, "TriggerDagRunOperator has no dagshift equal"),
    ]


def test_taskflow_dag_with_branch_expand_and_legacy_imports() -> None:
    imported = read("taskflow_legacy.py")
    data = imported.data
    assert data["name"] == "train_models" and data["description"] == "Train a model per region."
    assert data["schedule"] == {"cron": "0 */6 * * *", "start_date": "2024-06-01", "catchup": True}
    tasks = data["tasks"]
    assert tasks["prepare"] == {"retries": 1, "python": "taskflow_legacy:prepare",
                                "args": {"source": "s3://bucket/in"}}
    assert tasks["train"] == {"python": "taskflow_legacy:train", "args": {"region": "${{ item }}"},
                              "foreach": ["eu", "us", "apac"], "after": ["prepare"]}
    assert tasks["choose"] == {"python": "taskflow_legacy:choose", "after": ["train"]}
    assert tasks["gate"] == {"python": "taskflow_legacy:is_weekday", "after": ["choose"]}
    assert tasks["package"] == {"image": "acme/pack:2", "command": "pack --all", "resources": {"cpu": "500m"},
                                "after": ["gate"]}
    assert [(code, line) for code, line, _ in losses(imported)] == [
        ("W602", 14), ("W602", 19), ("W602", 23), ("W602", 27), ("W602", 27), ("W602", 30), ("W602", 30)]
    messages = [message for _, _, message in losses(imported)]
    assert messages[0].startswith("schedule every 21600s (a timedelta, counted from start_date)")
    assert any(m.startswith("@task.branch chooses at run time") for m in messages)
    assert any(m.startswith("ShortCircuitOperator chooses at run time") for m in messages)


def test_tasks_built_in_a_loop_are_graded_manual_with_the_reason() -> None:
    imported = read("dynamic_loop.py")
    assert imported.grade is Grade.MANUAL and imported.data is None
    (error,) = imported.diagnostics.errors
    assert error.code == "E602" and error.loc.line == 8 and "loop" in error.message
    assert "--execute" in error.help


def test_python_files_without_a_dag_are_not_airflow(tmp_path: Path) -> None:
    path = tmp_path / "helpers.py"
    path.write_text("import os\n\ndef f():\n    return 1\n")
    (imported,) = import_file(path, "airflow")
    assert imported.grade is Grade.MANUAL and imported.diagnostics.errors[0].code == "E601"


def edges_of(tasks: dict) -> set[tuple[str, str]]:
    return {(upstream, task_id) for task_id, task in tasks.items() for upstream in task.get("after", [])}


def test_task_group_function_nested_groups_and_list_edges() -> None:
    imported = read("groups_nested.py")
    assert imported.grade is Grade.REVIEW
    tasks = imported.data["tasks"]
    assert list(tasks) == ["start", "load", "outer__prep", "outer__inner__left", "outer__inner__right",
                           "evaluate__score_a", "evaluate__score_b", "publish_a", "publish_b", "notify_a", "notify_b",
                           "done", "audit", "archive"]
    assert tasks["outer__inner__left"] == {"command": "left.sh", "after": ["outer__prep"]}
    assert tasks["evaluate__score_a"]["python"] == "groups_nested:score"
    assert tasks["evaluate__score_a"]["args"] == {"model": "a"}
    assert edges_of(tasks) == {
        ("start", "load"),  # load << start
        ("load", "outer__prep"),  # to the outer group's only root: prep >> inner ran before
        ("outer__prep", "outer__inner__left"), ("outer__prep", "outer__inner__right"),  # task >> nested group
        ("outer__inner__left", "evaluate__score_a"),  # from the outer group's leaves to the @task_group's root
        ("outer__inner__right", "evaluate__score_a"),
        ("evaluate__score_a", "evaluate__score_b"),  # inside the @task_group
        ("evaluate__score_b", "publish_a"), ("evaluate__score_b", "publish_b"),
        ("publish_a", "notify_a"), ("publish_a", "notify_b"),  # cross_downstream
        ("publish_b", "notify_a"), ("publish_b", "notify_b"),
        ("notify_a", "done"), ("notify_b", "done"),  # set_upstream([...])
        ("start", "audit"), ("start", "archive"),  # set_downstream([...])
    }
    assert losses(imported) == [
        ("W602", 10, "@task function 'score' is defined in the DAG file"),  # once per task made from it
        ("W602", 10, "@task function 'score' is defined in the DAG file"),
        ("W602", 16, "task id 'evaluate.score_a' is imported as 'evaluate__score_a' (TaskGroup ids are flattened"),
        ("W602", 17, "task id 'evaluate.score_b' is imported as 'evaluate__score_b' (TaskGroup ids are flattened"),
        ("W602", 26, "task id 'outer.prep' is imported as 'outer__prep' (TaskGroup ids are flattened"),
        ("W602", 28, "task id 'outer.inner.left' is imported as 'outer__inner__left' (TaskGroup ids are flattened"),
        ("W602", 29, "task id 'outer.inner.right' is imported as 'outer__inner__right' (TaskGroup ids are flattened"),
    ]


START_DATE_LOSS = ("start_date of a DAG run by assets or @continuous is not carried over (a dagshift start_date "
                   "belongs to a cron schedule)")


def test_dag_argument_style_asset_schedule_and_callbacks() -> None:
    imported = read("dag_argument.py")
    assert imported.grade is Grade.REVIEW
    data = imported.data
    assert data["name"] == "asset_driven" and "schedule" not in data
    assert data["triggers"] == [{"type": "data", "artifact": "raw_events"},
                                {"type": "data", "uri": "s3://lake/ref/countries.csv"}]
    assert data["artifacts"] == {"raw_events": "s3://lake/raw/events.parquet"}
    assert data["alerts"] == [{"on": "success", "python": "dag_argument:on_success"}]
    assert data["tasks"] == {
        "fetch": {"command": "fetch.sh", "retries": 3, "retry_delay": 30,
                  "alerts": [{"on": "retry", "python": "dag_argument:on_retry"}]},
        "build": {"python": "dag_argument:build", "args": {"day": "today"}, "after": ["fetch"],
                  "alerts": [{"on": "success", "python": "dag_argument:on_success"}]},
    }
    assert losses(imported) == [
        ("W601", 31, START_DATE_LOSS),
        ("W602", 32, "callback 'on_success' is called with Airflow's context"),
        ("W602", 36, "callback 'on_retry' is called with Airflow's context"),
        ("W602", 37, "python_callable 'build' is defined in the DAG file"),
        ("W602", 38, "callback 'on_success' is called with Airflow's context"),
        ("W601", 38, "on_execute_callback has no dagshift equal"),
    ]


def test_continuous_schedule_is_a_continuous_trigger() -> None:
    imported = read("continuous.py")
    data = imported.data
    assert data["triggers"] == [{"type": "continuous"}]
    assert "schedule" not in data and "max_active_runs" not in data  # Airflow requires 1 for @continuous
    assert data["tasks"] == {"poll": {"python": "continuous:poll"},
                             "handle": {"python": "continuous:handle", "after": ["poll"]}}
    assert [(code, line) for code, line, _ in losses(imported)] == [("W601", 8), ("W602", 11), ("W602", 15),
                                                                     ("W601", 18)]
    assert losses(imported)[3][2] == "argument 'value' is another task's return value (XCom) or computed at run time"
