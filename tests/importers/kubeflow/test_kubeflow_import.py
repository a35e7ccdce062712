"""The Kubeflow importer (compiler/importers/kubeflow/importer.py, bodies.py) on PipelineSpec files
written by kfp 2.17.3 (tests/importers/fixtures/kubeflow/, each saying how it was made): what each
imports to, exactly, and every loss at its file:line.

Every example's own KFP output is compiled by kfp and read back in
tests/engines/kubeflow/test_kubeflow_import_engines.py; dagshift_error_handling.yaml is one of them, kept
here so its helper tasks (final-state probes, alerts tasks, the exit handler's alerts) are read
back without the engine venv.
"""

from __future__ import annotations

from pathlib import Path

from test_round_trip import expected_pipeline

from compiler.api import check_text
from compiler.importers import Grade, get, import_file, pipeline_yaml
from compiler.importers.kubeflow.bodies import decode

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kubeflow"


def imported(name: str):
    (result,) = import_file(FIXTURES / name)  # detected as Kubeflow
    return result


def losses(result) -> list[tuple[str, str, str]]:
    return [(d.code, f"{Path(d.loc.file).name}:{d.loc.line}" if d.loc else "", d.message) for d in result.diagnostics]


def test_container_components() -> None:
    result = imported("container.yaml")
    assert result.grade is Grade.AUTOMATIC, losses(result)
    assert result.data == {
        "name": "container-pipeline",
        "description": "Two container components.",
        "params": {"rows": {"type": "int", "default": 10}},
        "artifacts": {"data": {"path": "data", "kind": "dataset"}},
        "tasks": {
            "count-lines": {
                "outputs": {"total": "int"},
                "consumes": ["data"],
                "image": "alpine:3.20",
                "command": ["sh", "-c", 'wc -l < "$0" > "$1"'],
                "args": ["${{ artifacts.data }}", "${{ outputs.total }}"],
                "env": {"LC_ALL": "C"},
                "cache": True,
            },
            "make-data": {
                "produces": ["data"],
                "image": "alpine:3.20",
                "command": ["sh", "-c"],
                "args": ['seq 1 "$0" > "$1"', "${{ params.rows }}", "${{ artifacts.data }}"],
                "retries": 2,
                "retry_delay": 60,
                "retry_max_delay": 3600,  # kfp's default cap, written into the spec
                "retry_backoff": 2.0,
                "cache": True,
            },
        },
    }


def test_a_python_component_with_code_in_its_body_is_manual() -> None:
    result = imported("python_code.yaml")
    assert result.grade is Grade.MANUAL
    assert losses(result) == [(
        "E602", "python_code.yaml:53",
        ("the python component of task 'summarize' cannot be imported: its body is Python code (line 8 of its "
        "source: 'import statistics'), not a call of an imported function"))]
    assert "python: module:function" in (result.diagnostics.errors[0].help or "")


def test_an_exit_handler_with_a_foreign_exit_task_is_a_loss() -> None:
    result = imported("exit_handler.yaml")
    assert result.grade is Grade.REVIEW
    assert result.data == {"name": "exit-handler", "tasks": {"say": {
        "image": "alpine:3.20", "command": ["echo"], "args": ["working"], "cache": True}}}
    assert losses(result) == [(
        "W601", "exit_handler.yaml:81",
        ("KFP task 'report', the exit handler's exit task acting on the final state of 'exit-handler-1', runs code "
        "that is not dagshift's alerts: not carried"))]


def test_a_condition_with_or_is_carried() -> None:
    """kfp's SDK writes no `||` (dsl.If has no or), but the PipelineSpec allows it, and so does the
    pipeline's `when`: no loss."""
    result = imported("condition_or.yaml")
    assert result.grade is Grade.AUTOMATIC, losses(result)
    assert result.data["tasks"]["say"]["when"] == "tasks.coin.outputs.side == 'heads' or params.mode == 'force'"
    assert result.data["tasks"]["coin"] == {"outputs": {"side": "str"}, "image": "alpine:3.20",
                                            "command": ["sh", "-c", 'echo heads > "$0"'],
                                            "args": ["${{ outputs.side }}"]}  # caching off: no cache


def test_an_importer_node_is_an_external_artifact() -> None:
    result = imported("importer.yaml")
    assert result.grade is Grade.AUTOMATIC, losses(result)
    assert result.data["artifacts"] == {"importer": {"path": "gs://acme/data/customers.csv", "kind": "dataset",
                                                     "external": True}}
    task = result.data["tasks"]["count-lines"]
    assert task["consumes"] == ["importer"] and task["args"][0] == "${{ artifacts.importer }}"
    assert set(result.data["tasks"]) == {"count-lines"}


def test_a_pvc_mount_is_a_loss_at_the_platform_spec() -> None:
    result = imported("pvc_mount.yaml")
    assert result.grade is Grade.REVIEW
    assert result.data["tasks"]["say"]["secrets"] == {"TOKEN": {"name": "creds", "key": "token"}}
    assert losses(result) == [("W601", "pvc_mount.yaml:45",
                               "task 'say': kubernetes pvcMount has no pipeline equivalent: not carried")]


def test_dagshift_helper_tasks_are_read_back() -> None:
    """Final-state probes -> one_failed after the watched task, alerts tasks -> task alerts, the exit
    handler's exit task -> the pipeline's alerts: the pipeline the backend was given, no loss."""
    result = imported("dagshift_error_handling.yaml")
    assert result.grade is Grade.AUTOMATIC, losses(result)
    tasks = result.data["tasks"]
    assert tasks["deploy_fallback"]["trigger_rule"] == "one_failed"
    assert tasks["deploy_fallback"]["after"] == ["deploy_primary"]
    assert tasks["fetch"]["alerts"] == [{"on": "failure", "command": "python3 -m tinyml.notify --file "
                                         "state/alerts.log --message 'fetch failed after all retries'"}]
    assert result.data["alerts"] == [{"on": "failure", "command": "python3 -m tinyml.notify --file state/alerts.log "
                                      "--message 'pipeline error_handling failed'"}]
    back = check_text(pipeline_yaml(result), result.file)
    assert not back.diagnostics.has_errors
    importer = get("kubeflow")
    assert importer.carried(back.pipeline) == importer.carried(expected_pipeline("error_handling", "kubeflow", 1))


def test_argument_groups_rebuilt_by_sh() -> None:
    """dagshift's count-prefixed argument groups, and what is not them."""
    from compiler.backends.kubeflow.backend import EXEC_REBUILT_IN_WORKDIR, JOIN_WITH_ARGS

    command = ["sh", "-c", JOIN_WITH_ARGS.replace("bash", "sh"), "sh"]
    decoded = decode(command, ["3", "cd -- '/srv/a b' || exit\n", "train {", ' "$@"', "2", "1", "--out", "2", "m/",
                               "x.json"])
    assert (decoded.script, decoded.argv, decoded.workdir, decoded.image) == ("train {", ["--out", "m/x.json"],
                                                                              "/srv/a b", True)
    decoded = decode(["sh", "-c", EXEC_REBUILT_IN_WORKDIR, "sh"], ["2", "1", "/w", "2", "a", "b"])
    assert (decoded.argv, decoded.workdir) == (["ab"], "/w")
    assert decode(["sh", "-c", "echo"], []) is None
    for bad in (["2", "1", "/w"], ["1", "3", "a"], ["x"]):
        try:
            decode(["sh", "-c", EXEC_REBUILT_IN_WORKDIR, "sh"], bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} decoded")


# ----------------------------------------------------------------------------- recurring_run.yaml


DAGSHIFT_RECURRING_RUN = """\
# Recurring run of `container-pipeline`, generated by dagshift: pass these as keyword arguments
# to kfp.Client().create_recurring_run(experiment_id=..., **spec) after compiling the pipeline.
# Time zone: Europe/Berlin (the cluster's CRON_SCHEDULE_TIMEZONE decides).
job_name: container-pipeline
pipeline_package_path: container.yaml
cron_expression: "0 30 2 * * 1-5"
no_catchup: false
max_concurrency: 3
start_time: "2025-01-01T00:00:00Z"
"""


def _with_recurring_run(tmp_path: Path, text: str, spec: str = "container.yaml") -> Path:
    (tmp_path / spec).write_bytes((FIXTURES / "container.yaml").read_bytes())
    (tmp_path / "recurring_run.yaml").write_text(text, encoding="utf-8")
    return tmp_path / spec


def test_the_recurring_run_next_to_the_spec_is_the_schedule(tmp_path: Path) -> None:
    (result,) = import_file(_with_recurring_run(tmp_path, DAGSHIFT_RECURRING_RUN))
    assert result.grade is Grade.AUTOMATIC, losses(result)
    assert result.data is not None
    assert result.data["schedule"] == {"cron": "30 2 * * 1-5", "timezone": "Europe/Berlin",
                                       "start_date": __import__("datetime").date(2025, 1, 1), "catchup": True}
    assert result.data["max_active_runs"] == 3
    back = check_text(pipeline_yaml(result), result.file)
    assert not back.diagnostics.has_errors, [str(d) for d in back.diagnostics]
    assert back.pipeline.schedule is not None and back.pipeline.schedule.catchup is True


def test_a_recurring_run_of_another_package_is_not_read(tmp_path: Path) -> None:
    spec = _with_recurring_run(tmp_path, DAGSHIFT_RECURRING_RUN, spec="other.yaml")
    (result,) = import_file(spec)
    assert result.grade is Grade.AUTOMATIC and "schedule" not in result.data and "max_active_runs" not in result.data


def test_a_hand_written_recurring_run_reports_what_it_cannot_carry(tmp_path: Path) -> None:
    text = ("job_name: nightly\npipeline_package_path: build/container.yaml\ncron_expression: '30 0 4 * * *'\n"
            "start_time: '2025-03-01T06:00:00+01:00'\nend_time: '2026-01-01T00:00:00Z'\nparams: {rows: 5}\n"
            "enabled: false\nservice_account: runner\n")
    (result,) = import_file(_with_recurring_run(tmp_path, text))
    assert result.grade is Grade.REVIEW
    schedule = result.data["schedule"]
    assert schedule["cron"] == "0 4 * * *" and "timezone" not in schedule and schedule["catchup"] is True
    assert schedule["start_date"].isoformat() == "2025-03-01T06:00:00+01:00"
    assert result.data["max_active_runs"] == 1  # KFP's default max_concurrency
    assert [(code, where) for code, where, _ in losses(result)] == [
        ("W602", "recurring_run.yaml:3"),  # seconds 30
        ("W602", "recurring_run.yaml:3"),  # the cluster's time zone
        ("W601", "recurring_run.yaml:5"),  # end_time
        ("W601", "recurring_run.yaml:6"),  # params
        ("W601", "recurring_run.yaml:7"),  # enabled: false
        ("W601", "recurring_run.yaml:8"),  # service_account
    ], losses(result)


def test_an_interval_schedule_is_a_loss(tmp_path: Path) -> None:
    text = "pipeline_package_path: container.yaml\ninterval_second: 3600\nmax_concurrency: 2\n"
    (result,) = import_file(_with_recurring_run(tmp_path, text))
    assert "schedule" not in result.data and result.data["max_active_runs"] == 2
    assert [(c, w) for c, w, _ in losses(result)] == [("W601", "recurring_run.yaml:2")], losses(result)


def test_a_cron_with_a_field_out_of_range_is_a_loss(tmp_path: Path) -> None:
    text = "pipeline_package_path: container.yaml\ncron_expression: '0 0 25 * * *'\n"
    (result,) = import_file(_with_recurring_run(tmp_path, text))
    assert result.data is not None and "schedule" not in result.data
    assert losses(result) == [("W601", "recurring_run.yaml:2", (
        "the cron '0 0 25 * * *' is not valid (25 is out of range for the hour field (0-23) in '0 25 * * *'): the "
        "schedule is not carried"))]


def test_carried_counts_max_active_runs_with_the_schedule_only() -> None:
    importer = get("kubeflow")
    scheduled = check_text("name: p\nschedule: '0 3 * * *'\ntasks: {a: {command: 'true'}}\n", "p.yaml").pipeline
    unscheduled = check_text("name: p\nmax_active_runs: 2\ntasks: {a: {command: 'true'}}\n", "p.yaml").pipeline
    assert importer.carried(scheduled)["max_active_runs"] == 1
    assert "max_active_runs" not in importer.carried(unscheduled)


def test_a_start_time_at_the_zones_offset_is_a_local_start(tmp_path: Path) -> None:
    """The backend writes start_time in the schedule's zone (+01:00 in Berlin in January): read
    back as the local date it was; a time at another offset keeps its offset."""
    text = DAGSHIFT_RECURRING_RUN.replace('"2025-01-01T00:00:00Z"', '"2025-01-01T00:00:00+01:00"')
    (result,) = import_file(_with_recurring_run(tmp_path, text))
    assert result.data["schedule"]["start_date"] == __import__("datetime").date(2025, 1, 1)
    text = DAGSHIFT_RECURRING_RUN.replace('"2025-01-01T00:00:00Z"', '"2025-07-01T06:30:00+01:00"')
    (result,) = import_file(_with_recurring_run(tmp_path, text))
    assert str(result.data["schedule"]["start_date"]) == "2025-07-01 06:30:00+01:00"  # Berlin is +02:00 then


# ----------------------------------------------------------------------------- specs whose parts do not agree


def _edited(tmp_path: Path, name: str, old: str, new: str) -> tuple[Path, str]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, text.replace(old, new)


def test_an_artifact_no_task_produces_is_an_error_at_the_task_consuming_it(tmp_path: Path) -> None:
    """count-lines no longer binds its input artifact to the importer's output: it reads an
    artifact of its own input's name, which nothing produces."""
    binding = ("        inputs:\n          artifacts:\n            data:\n              taskOutputArtifact:\n"
               "                outputArtifactKey: artifact\n                producerTask: importer\n")
    path, text = _edited(tmp_path, "importer.yaml", binding, "")
    (result,) = import_file(path)
    consumer = text.splitlines().index("      count-lines:") + 1
    assert result.data is None and losses(result) == [
        ("E602", f"importer.yaml:{consumer}", ("the pipeline read from the file is not valid: E103 artifact 'data' "
                                               "is consumed by 'count-lines' but no task produces it"))]


def test_a_binding_to_null_binds_nothing(tmp_path: Path) -> None:
    """A key holding null stands for an absent one (shapes.py), in a binding too."""
    path, _ = _edited(tmp_path, "container.yaml", "componentInputParameter: rows", "taskOutputParameter: null")
    (result,) = import_file(path)
    assert result.data is not None and not result.diagnostics.has_errors, losses(result)
