"""The Airflow importer: dagshift's own output read back in full, and hand-written DAG files
(tests/importers/fixtures/airflow/) read to exactly the pipeline and losses pinned here."""

from __future__ import annotations

import re
from pathlib import Path

from compiler.api import check_text
from compiler.importers import Grade, import_file, pipeline_yaml
from compiler.language.graph import build_graph

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parents[1] / "fixtures" / "airflow"
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
    # poll's value reaches handle: `return 1` says it is an int
    assert data["tasks"] == {"poll": {"python": "continuous:poll", "outputs": {"return_value": "int"}},
                             "handle": {"python": "continuous:handle",
                                        "args": {"value": "${{ tasks.poll.outputs.return_value }}"}}}
    assert [(code, line) for code, line, _ in losses(imported)] == [("W601", 8), ("W602", 11), ("W602", 15)]


# ----------------------------------------------------------------------------- TaskFlow results


def graph_of(imported) -> tuple[list[str], set[tuple[str, str]]]:
    """The imported pipeline's task ids and every edge it makes (after, references, conditions)."""
    loaded = check_text(pipeline_yaml(imported), "imported")
    assert loaded.pipeline is not None and not loaded.diagnostics.has_errors, [str(d) for d in loaded.diagnostics]
    return list(loaded.pipeline.tasks), set(build_graph(loaded.pipeline).edges)


def read_text(tmp_path: Path, source: str):
    path = tmp_path / "flow.py"
    path.write_text(source)
    (imported,) = import_file(path, "airflow")
    return imported


def result_of(task_id: str) -> str:
    return "${{ tasks." + task_id + ".outputs.return_value }}"


def test_tasks_mapped_over_other_tasks_results() -> None:
    imported = read("taskflow_mapping.py")
    assert imported.grade is Grade.REVIEW
    tasks = imported.data["tasks"]
    ids, edges = graph_of(imported)
    assert ids == ["load_features", "list_models", "train", "report", "list_regions", "export", "archive_commands",
                   "archive"]  # each task once: a call inside .partial() / .expand() makes it where it is written
    assert edges == {("load_features", "train"), ("list_models", "train"), ("train", "report"),
                     ("list_regions", "export"), ("list_regions", "archive_commands"), ("archive_commands", "archive"),
                     ("export", "archive")}
    # train.partial(features=load_features("customers"), epochs=20).expand(model=list_models())
    assert tasks["train"]["foreach"] == result_of("list_models")
    assert tasks["train"]["args"] == {"model": "${{ item }}", "features": result_of("load_features"), "epochs": 20}
    assert tasks["list_models"]["outputs"] == {"return_value": "list"}  # from `-> list[str]`
    assert tasks["load_features"]["outputs"] == {"return_value": "str"}
    assert tasks["train"]["outputs"] == {"return_value": "float"}  # report reads the list of the mapped values
    assert tasks["report"]["args"] == {"scores": result_of("train")}
    # export.expand(region=regions), regions also passed to archive_commands
    assert tasks["export"]["foreach"] == result_of("list_regions") and tasks["export"]["args"] == {
        "region": "${{ item }}"}
    assert tasks["archive_commands"]["args"] == {"regions": result_of("list_regions")}
    # BashOperator.partial(...).expand(bash_command=archive_commands(regions)): each item is a command
    assert tasks["archive"]["command"] == "${{ item }}" and tasks["archive"]["foreach"] == result_of(
        "archive_commands")
    assert "outputs" not in tasks["export"] and "outputs" not in tasks["report"]  # nobody reads their values
    settings = {task_id: (task.get("retries"), task.get("trigger_rule", "all_success"), task.get("max_parallel"))
                for task_id, task in tasks.items()}
    assert settings == {"load_features": (2, "all_success", None), "list_models": (2, "all_success", None),
                        "train": (4, "all_success", 2), "report": (2, "all_done", None),
                        "list_regions": (2, "all_success", None), "export": (0, "all_success", None),
                        "archive_commands": (2, "all_success", None), "archive": (1, "all_success", None)}
    assert "retry_delay" not in tasks["export"]  # retries=0: default_args' delay does nothing
    assert tasks["train"]["retry_delay"] == 30 and tasks["archive"]["retry_delay"] == 300
    assert {message for _, _, message in losses(imported)} == {
        f"@task function '{name}' is defined in the DAG file" for name in ids if name != "archive"}


def test_nested_calls_a_chain_and_a_branch_chosen_by_id() -> None:
    imported = read("taskflow_branch.py")
    assert imported.grade is Grade.REVIEW
    tasks = imported.data["tasks"]
    ids, edges = graph_of(imported)
    assert sorted(ids) == ["best", "candidates", "deploy", "evaluate", "gate", "keep_current", "notify"]
    # gate(best(scores)) >> [deploy(), keep_current()] >> notify
    assert edges == {("candidates", "evaluate"), ("evaluate", "best"), ("best", "gate"), ("gate", "deploy"),
                     ("gate", "keep_current"), ("deploy", "notify"), ("keep_current", "notify")}
    assert tasks["evaluate"]["foreach"] == result_of("candidates")
    assert tasks["best"]["args"] == {"scores": result_of("evaluate")}
    assert tasks["gate"]["args"] == {"score": result_of("best")}
    # @task.branch returning "deploy" or "keep_current": gate returns the id, the two run on it
    assert tasks["gate"]["python"] == "taskflow_branch:gate" and tasks["gate"]["outputs"] == {"return_value": "str"}
    assert tasks["deploy"]["when"] == "tasks.gate.outputs.return_value == 'deploy'"
    assert tasks["keep_current"]["else_of"] == "deploy"
    assert "after" not in tasks["deploy"] and "after" not in tasks["keep_current"]  # the condition makes the edge
    settings = {task_id: (task.get("retries", 0), task.get("trigger_rule", "all_success"))
                for task_id, task in tasks.items()}
    assert settings == {"notify": (0, "none_failed"), "candidates": (0, "all_success"),
                        "evaluate": (3, "all_success"), "best": (0, "all_success"), "gate": (0, "all_success"),
                        "deploy": (2, "all_success"), "keep_current": (0, "all_success")}
    assert not any("chooses at run time" in message for _, _, message in losses(imported))


def test_the_task_a_call_in_expand_makes_is_made_once(tmp_path: Path) -> None:
    imported = read_text(tmp_path, """\
from airflow.sdk import dag, task


@dag(schedule=None)
def sweep():
    @task
    def list_models():
        return ["a", "b"]

    @task
    def train(model):
        print(model)

    train.expand(model=list_models())


sweep()
""")
    assert not imported.diagnostics.errors, [str(d) for d in imported.diagnostics]
    tasks = imported.data["tasks"]
    assert tasks["list_models"]["outputs"] == {"return_value": "list"}  # `return [...]`
    assert tasks["train"]["foreach"] == result_of("list_models") and tasks["train"]["args"] == {
        "model": "${{ item }}"}


TWO_BRANCHES = """\
from airflow.sdk import dag, task


@dag(schedule=None)
def branches():
    @task.branch
    def pick_list():
        return ["a", "b"]

    @task.branch
    def pick_other(flag: bool):
        if flag:
            return "c"
        return "not_downstream"

    @task.branch
    def pick_maybe():
        if True:
            return "e"

    @task
    def work():
        print("work")

    pick_list() >> [work.override(task_id="a")(), work.override(task_id="b")()]
    pick_other(True) >> [work.override(task_id="c")(), work.override(task_id="d")()]
    pick_maybe() >> work.override(task_id="e")()


branches()
"""


def test_a_branch_that_does_not_return_one_downstream_id_is_a_loss(tmp_path: Path) -> None:
    imported = read_text(tmp_path, TWO_BRANCHES)
    assert imported.grade is Grade.REVIEW
    tasks = imported.data["tasks"]
    assert not any("when" in task or "else_of" in task for task in tasks.values())
    assert not any("outputs" in task for task in tasks.values())
    control = [line for _, line, message in losses(imported) if message.startswith("@task.branch chooses at run time")]
    assert control == [7, 11, 17]  # a list; an id of no downstream task; None when the if is false


def test_results_whose_type_is_unknown_or_unmappable_are_losses(tmp_path: Path) -> None:
    imported = read_text(tmp_path, """\
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag, task


@dag(schedule=None)
def unknown():
    @task
    def settings() -> dict:
        return {"a": 1}

    @task
    def score():
        return compute()

    @task
    def use(value, limit=3):
        print(value, limit)

    @task(max_active_tis_per_dagrun=2)
    def each(item):
        print(item)

    @task
    def load(table, day):
        print(table, day)

    use(score())
    each.expand(item=settings())
    load.expand_kwargs([{"table": "a", "day": 1}])
    listing = BashOperator(task_id="listing", bash_command="ls")
    BashOperator.partial(task_id="run_each").expand(bash_command=listing.output)


unknown()
""")
    assert not imported.diagnostics.errors, [str(d) for d in imported.diagnostics]
    tasks = imported.data["tasks"]
    assert "foreach" not in tasks["each"] and "max_parallel" not in tasks["each"]
    assert "args" not in tasks["each"] and "args" not in tasks["load"]  # no ${{ item }}, nor the list of items
    assert "outputs" not in tasks["settings"] and "outputs" not in tasks["score"]
    assert tasks["run_each"] == {"after": ["listing"]}  # a no-op: its commands are the items it is not mapped over
    _, edges = graph_of(imported)
    assert edges == {("score", "use"), ("settings", "each"), ("listing", "run_each")}  # the edges stay
    assert [(code, line, message) for code, line, message in losses(imported) if code == "W601"] == [
        ("W601", 27, ("argument 'value' is the return value of task 'score', which dagshift passes on only from a "
                      "TaskFlow python task whose return type is known (annotate the function)")),
        ("W601", 28, (".expand(item=...) maps over the return value of task 'settings', which dagshift maps over "
                      "only when it is a list returned by a TaskFlow python task (annotate it `-> list`)")),
        ("W601", 29, "expand_kwargs (a mapping of arguments per instance) is not carried over"),
        ("W601", 31, "the BashOperator's command is each item it is mapped over, which is not carried"),
        ("W601", 31, (".expand(bash_command=...) maps over the return value of task 'listing', which dagshift maps "
                      "over only when it is a list returned by a TaskFlow python task (annotate it `-> list`)")),
    ]


# ----------------------------------------------------------------------------- files whose parts do not agree


def errors(imported) -> list[tuple[str, int, str]]:
    return [(d.code, d.loc.line if d.loc else 0, d.message) for d in imported.diagnostics.errors]


def test_parts_of_a_dag_that_do_not_agree_are_errors_at_their_lines(tmp_path: Path) -> None:
    """Each part reads well on its own; together they make no valid pipeline. The problem is
    reported at the line the part was read from, not as an importer bug (E603)."""
    imported = read_text(tmp_path, """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("disagree", schedule="@daily",
         catchup=True,
         params={"rows": 5,
                 "class": 1}):
    count = BashOperator(task_id="count", bash_command="wc -l {{ params.limit }}")
    a = BashOperator(task_id="a", bash_command="true")
    b = BashOperator(task_id="b", bash_command="true")
    a >> b >> a
""")
    invalid = "the pipeline read from the file is not valid: "
    assert imported.data is None and sorted(errors(imported)) == [
        ("E602", 5, invalid + "E210 catchup needs a start_date to catch up from"),
        ("E602", 7, invalid + "E112 param name 'class' is a Python keyword"),
        ("E602", 8, invalid + "E106 task 'count': unknown param 'limit'"),
        ("E602", 9, invalid + "E101 dependency cycle: a -> b -> a"),
    ]


def test_values_python_refuses_to_build_are_computed_when_the_file_runs(tmp_path: Path) -> None:
    imported = read_text(tmp_path, """\
from datetime import datetime
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("refused", schedule="@daily", start_date=datetime(2024, 13, 1), params={[1]: 2}):
    BashOperator(task_id="a", bash_command="true")
""")
    assert imported.data is not None and "params" not in imported.data, errors(imported)
    assert losses(imported) == [  # Python raises on month 13 and on a list as a key, as the file runs
        ("W601", 5, "start_date is computed when the file runs (`datetime(2024, 13, 1)`)"),
        ("W601", 5, "params `{[1]: 2}` is computed when the file runs"),
    ]


def test_pod_secrets_and_resources_that_are_not_text_or_numbers_are_losses(tmp_path: Path) -> None:
    imported = read_text(tmp_path, """\
from airflow.sdk import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from kubernetes.client import models as k8s

with DAG("pods", schedule=None):
    KubernetesPodOperator(task_id="train", image="img", cmds=["train"],
                          secrets=[Secret("env", "TOKEN", ("a", "b"), "key")],
                          container_resources=k8s.V1ResourceRequirements(
                              requests=["cpu"], limits={"memory": ("1Gi",), "nvidia.com/gpu": "many"}))
""")
    assert imported.data["tasks"]["train"] == {"image": "img", "command": ["train"]}
    assert losses(imported) == [
        ("W601", 8, "a pod secret that is not an environment variable (Secret('env', ...)) is left out"),
        ("W601", 9, "the memory resource is not a quantity (text or a number)"),
        ("W601", 9, "the nvidia.com/gpu limit is not a whole number of devices"),
    ]


def test_an_edited_task_of_dagshift_output_whose_output_another_reads_is_an_error_there(tmp_path: Path) -> None:
    """A literal dagshift never writes (bytes) in a task's code: the task cannot be read back (a
    loss), and the task reading its output reads an output the pipeline no longer has."""
    source = (ROOT / "golden/event_triggered/airflow/event_triggered.py").read_text(encoding="utf-8")
    source = source.replace('main(src="incoming/batch.csv"', 'main(src=b"incoming"')
    lines = source.splitlines()
    edited = lines.index("    clean_batch = clean_batch()") + 1
    reader = lines.index("    notify = BashOperator(") + 1
    imported = read_text(tmp_path, source)
    assert ("W601", edited, "task clean_batch: dagshift's code was edited and cannot be read back") in losses(imported)
    invalid = "the pipeline read from the file is not valid: "
    assert errors(imported) == [
        ("E602", reader, invalid + "E106 task 'notify': task 'clean_batch' has no output 'rows' (declared: none)")]
