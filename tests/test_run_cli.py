"""`dagshift run` without an engine: its arguments, the problems it reports before any engine
starts (each a diagnostic, exit 1; a usage error exit 2), and how it shows a run. The runs on the
real engines are in tests/engines/<target>/test_<target>_run.py (airflow, prefect, dvc, kubeflow)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli.main import main
from compiler.language.ir import Pipeline
from compiler.run.dvc import StageParser
from compiler.run.events import RunResult, TaskEvent, TaskResult, TaskState, event_from_protocol, parse_protocol_line
from compiler.run.params import read_params, split_pair
from compiler.run.render import event_line, json_report, table, text_report
from compiler.run.tracker import Tracker

ROOT = Path(__file__).resolve().parent.parent
SEQUENTIAL = ROOT / "examples" / "sequential.yaml"
PYTHON_TASKS = ROOT / "examples" / "python_tasks.yaml"
# An interpreter with neither Airflow nor DVC: the one running the tests (dagshift's own venv).
NO_ENGINE = sys.executable


def invoke(*args: str):
    return CliRunner().invoke(main, ["run", *args], catch_exceptions=False)


# ----------------------------------------------------------------------------- the command line


def test_an_unknown_target_is_a_usage_error() -> None:
    result = invoke(str(SEQUENTIAL), "-t", "luigi")
    assert result.exit_code == 2 and "luigi" in result.output


def test_a_param_without_a_value_is_a_usage_error() -> None:
    result = invoke(str(SEQUENTIAL), "-t", "dvc", "--param", "epochs")
    assert result.exit_code == 2 and "expected NAME=VALUE" in result.output


def test_argo_has_no_local_run() -> None:
    result = invoke(str(SEQUENTIAL), "-t", "argo")
    assert result.exit_code == 1 and "error[E803]" in result.output and "Kubernetes" in result.output


def test_a_plug_in_target_has_no_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.backends import registry

    monkeypatch.setattr(registry, "_plugins", lambda: {"luigi": "luigi_dagshift:LuigiBackend"})
    result = invoke(str(SEQUENTIAL), "-t", "luigi")
    assert result.exit_code == 1 and "error[E804]" in result.output and "no runner for target 'luigi'" in result.output


def test_kubeflow_refuses_a_pipeline_with_a_shell_task_before_running(tmp_path: Path) -> None:
    """kfp.local runs shell, container and no-op tasks only with Docker: E805 for each, no engine
    asked (this interpreter has no kfp), nothing written."""
    result = invoke(str(SEQUENTIAL), "-t", "kubeflow", "--engine-python", NO_ENGINE, "--workdir", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert "error[E805]: kfp.local cannot run task 'ingest' without Docker: it is a shell task" in result.output
    refused = [line.split("'")[1] for line in result.output.splitlines() if line.startswith("error[E805]")]
    assert refused == ["ingest", "validate", "train", "deploy"]  # transform and evaluate are python tasks
    assert f"{SEQUENTIAL}:37:3  (tasks.ingest)" in result.output
    assert "run it with -t airflow, -t prefect or -t dvc" in result.output
    assert "E801" not in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_undeclared_param_is_a_diagnostic(tmp_path: Path) -> None:
    result = invoke(str(SEQUENTIAL), "-t", "dvc", "--param", "epoch=3", "--workdir", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert "error[E802]: --param epoch: the pipeline declares no param 'epoch'" in result.output
    assert "did you mean 'epochs'?" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing run


def test_a_param_of_the_wrong_type_is_a_diagnostic(tmp_path: Path) -> None:
    result = invoke(str(SEQUENTIAL), "-t", "airflow", "--param", "epochs=many", "--param", "epochs=500",
                    "--workdir", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["succeeded"] is False and report["tasks"] == []
    messages = [d["message"] for d in report["diagnostics"]]
    assert messages == ["--param epochs=many: not an int", "--param epochs=500: above the maximum 200"]


def test_a_pipeline_that_does_not_compile_shows_the_compile_diagnostics(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntasks:\n  a:\n    command: echo a\n    after: [b]\n", encoding="utf-8")
    result = invoke(str(bad), "-t", "airflow", "--engine-python", NO_ENGINE, "--workdir", str(tmp_path))
    assert result.exit_code == 1
    assert "error[E100]" in result.output and f"{bad}:5:" in result.output
    assert "Traceback" not in result.output


def test_a_pipeline_the_target_cannot_express_is_a_diagnostic(tmp_path: Path) -> None:
    """The compile's problems come first, engine or not: DVC has no conditions (E301)."""
    result = invoke(str(ROOT / "examples" / "conditional.yaml"), "-t", "dvc", "--engine-python",
                    str(tmp_path / "nowhere" / "python"), "--workdir", str(tmp_path))
    assert result.exit_code == 1 and "error[E301]" in result.output and "E801" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_interpreter_that_is_not_there(tmp_path: Path) -> None:
    result = invoke(str(SEQUENTIAL), "-t", "airflow", "--engine-python", str(tmp_path / "nowhere" / "python"),
                    "--workdir", str(tmp_path))
    assert result.exit_code == 1 and "error[E801]" in result.output and "no Python interpreter there" in result.output


@pytest.mark.parametrize(("target", "extra"), [("airflow", "airflow"), ("dvc", "dvc"), ("prefect", "prefect"),
                                             ("kubeflow", "kubeflow")])
def test_a_missing_engine_says_how_to_install_it(tmp_path: Path, target: str, extra: str) -> None:
    pipeline = PYTHON_TASKS if target == "kubeflow" else SEQUENTIAL  # kfp.local runs python tasks only
    result = invoke(str(pipeline), "-t", target, "--engine-python", NO_ENGINE, "--workdir", str(tmp_path))
    assert result.exit_code == 1
    assert "error[E801]" in result.output and "is not installed in" in result.output
    assert f"pip install 'dagshift[{extra}]'" in result.output
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- params


def _pipeline() -> Pipeline:
    return Pipeline.model_validate({
        "name": "p",
        "params": {"n": {"type": "int", "default": 1, "min": 1}, "rate": 0.5, "on": True, "mode": {"default": "a",
                   "enum": ["a", "b"]}, "tags": {"type": "list", "default": []}, "who": {"type": "str"}},
        "tasks": {"a": {"command": "echo"}},
    })


def test_param_values_are_read_as_their_declared_types() -> None:
    pairs = [split_pair(p) for p in ["n=3", "rate=2", "on=false", "mode=b", 'tags=["x"]', "who=a=b"]]
    values, problems = read_params(pairs, _pipeline())
    assert not problems.items
    assert values == {"n": 3, "rate": 2, "on": False, "mode": "b", "tags": ["x"], "who": "a=b"}
    assert split_pair("=1") is None and split_pair("x") is None


def test_bad_param_values_and_missing_required_ones() -> None:
    pairs = [split_pair(p) for p in ["n=0", "rate=fast", "on=maybe", "mode=c", "tags={}"]]
    _, problems = read_params(pairs, _pipeline())
    assert [d.message for d in problems] == [
        "--param n=0: below the minimum 1", "--param rate=fast: not a number",
        "--param on=maybe: not a bool (true or false)",
        '--param mode=c: not one of "a", "b"', "--param tags={}: not a list written as JSON",
        "param 'who' has no default and no --param gives it"]
    assert {d.code for d in problems} == {"E802"}


# ----------------------------------------------------------------------------- events and rendering


def test_the_protocol_lines() -> None:
    kind, data = parse_protocol_line('DAGSHIFT-EVENT {"task": "t", "map_index": 2, "state": "retried", "try": 1}')
    assert kind == "event"
    assert event_from_protocol(data) == TaskEvent("t", TaskState.RETRIED, 1, 0.0, "2")
    assert parse_protocol_line("DAGSHIFT-SUMMARY {\"state\": \"success\"}") == ("summary", {"state": "success"})
    assert parse_protocol_line("INFO - DAGSHIFT-EVENT {}") is None
    assert parse_protocol_line("DAGSHIFT-EVENT {broken") is None
    assert event_from_protocol({"task": "t", "state": "exploded"}) is None


def test_the_tracker_orders_results_as_the_pipeline_and_fills_in_what_never_ran() -> None:
    tracker = Tracker(["a", "b", "c"])
    assert not tracker.add(TaskEvent("a__items", TaskState.STARTED))  # an engine's helper task
    for event in [TaskEvent("b", TaskState.STARTED, 1, 10.0), TaskEvent("b", TaskState.RETRIED, 1, 11.0),
                  TaskEvent("b", TaskState.STARTED, 2, 12.0), TaskEvent("b", TaskState.FAILED, 2, 13.5),
                  TaskEvent("a", TaskState.STARTED, 1, 1.0, "1"), TaskEvent("a", TaskState.SUCCEEDED, 1, 2.0, "1"),
                  TaskEvent("a", TaskState.SUCCEEDED, 1, 2.0, "0")]:
        assert tracker.add(event)
    results = tracker.final_results()
    assert [(r.label, r.state, r.tries, r.seconds) for r in results] == [
        ("a[0]", TaskState.SUCCEEDED, 1, None), ("a[1]", TaskState.SUCCEEDED, 1, 1.0),
        ("b", TaskState.FAILED, 2, 3.5), ("c", TaskState.NOT_RUN, 0, None)]


def test_dvc_output_becomes_events() -> None:
    events: list[TaskEvent] = []
    parser = StageParser(events.append)
    for line in ["Stage 'ingest' didn't change, skipping", "Running stage 'train@lr':", "> python3 -m train",
                 "Updating lock file 'dvc.lock'", "", "Running stage 'eval':", "> exit 3",
                 "ERROR: failed to reproduce 'eval': failed to run: exit 3, exited with 3"]:
        parser.feed(line)
    parser.finish(255)
    assert [(e.label, e.state) for e in events] == [
        ("ingest", TaskState.SKIPPED), ("train[lr]", TaskState.STARTED), ("train[lr]", TaskState.SUCCEEDED),
        ("eval", TaskState.STARTED), ("eval", TaskState.FAILED)]


def _result() -> RunResult:
    return RunResult("airflow", False, [TaskResult("ingest", TaskState.SUCCEEDED, 1, 2.25),
                                        TaskResult("train", TaskState.FAILED, 3, 75.0),
                                        TaskResult("deploy", TaskState.NOT_RUN)], Path("/logs/run"), Path("/work"))


def test_the_text_report() -> None:
    assert event_line(TaskEvent("train", TaskState.STARTED, 2), 3, 7) == "[3/7] train started (try 2)"
    assert event_line(TaskEvent("x", TaskState.SKIPPED, 1, 0, "0"), 4, 7) == "[4/7] x[0] skipped"
    assert table(_result()).splitlines() == [
        "task    state      tries  duration",
        "------  ---------  -----  --------",
        "ingest  succeeded      1      2.2s",
        "train   failed         3     1m15s",
        "deploy  not run        0         -",
    ]
    assert text_report(_result()).endswith("run failed on airflow: train failed\nlogs: /logs/run\n")


def test_the_json_report() -> None:
    report = json.loads(json_report(_result(), []))
    assert report["succeeded"] is False and report["logs"] == "/logs/run" and report["diagnostics"] == []
    assert report["notes"] == []
    assert report["tasks"][1] == {"task": "train", "instance": None, "state": "failed", "tries": 3, "seconds": 75.0}


# ----------------------------------------------------------------------------- the extras


def test_each_engine_extra_pins_what_the_engine_tests_run() -> None:
    """pip install 'dagshift[TARGET]' gives the versions of scripts/engines/TARGET.txt."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    from compiler.run.engine import ENGINES

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for engine in ENGINES.values():
        pins = {line.strip() for line in (ROOT / "scripts" / "engines" / f"{engine.extra}.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
        assert extras[engine.extra], engine.extra
        for requirement in extras[engine.extra]:
            assert "==" in requirement and requirement in pins, (engine.extra, requirement)


def test_the_engine_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--engine-python as given (absolute, symlinks kept: a venv's python links out of the venv),
    a bare name looked up on PATH, and this interpreter without it."""
    from compiler.run.engine import interpreter

    link = tmp_path / "venv" / "bin" / "python"
    link.parent.mkdir(parents=True)
    link.symlink_to(sys.executable)
    monkeypatch.chdir(tmp_path)
    assert interpreter("venv/bin/python") == link
    monkeypatch.setenv("PATH", str(link.parent))
    assert interpreter("python") == link
    assert interpreter(None) == Path(sys.executable)


def test_each_run_gets_its_own_logs_folder(tmp_path: Path) -> None:
    from compiler.run.runs import default_logs

    first = default_logs(tmp_path, "dvc")
    first.mkdir(parents=True)
    second = default_logs(tmp_path, "dvc")
    assert first.parent == second.parent == tmp_path / ".dagshift" / "runs"
    assert first.name.startswith("dvc-") and second != first


def test_tasks_that_never_reported_end_skipped_or_not_run() -> None:
    for succeeded, state in ((True, TaskState.SKIPPED), (False, TaskState.NOT_RUN)):
        tracker = Tracker(["a", "b"])
        tracker.add(TaskEvent("a", TaskState.SUCCEEDED))
        assert [(e.task, e.state) for e in tracker.close(succeeded)] == [("b", state)]
        assert tracker.close(succeeded) == [] and tracker.finished == 2


# ----------------------------------------------------------------------------- kubeflow's artifacts


def test_kfp_local_artifacts_go_back_to_their_pipeline_paths(tmp_path: Path) -> None:
    """The output `NAME` (or `a_NAME`, the backend's prefix) of the task that produces artifact NAME
    is copied to NAME's path, a folder as a folder; anything else kfp.local stored stays there."""
    from compiler.run.kubeflow import copy_artifacts

    pipeline = Pipeline.model_validate({
        "name": "p", "artifacts": {"table": "data/table.csv", "a_b": "ab.txt", "pages": {"path": "site",
                                                                                          "kind": "directory"}},
        "tasks": {"make": {"python": "m:f", "produces": ["table", "a_b", "pages"]}, "use": {"python": "m:g"}},
    })
    store = tmp_path / "store"
    (store / "pages").mkdir(parents=True)
    for name, text in (("a_table", "t"), ("a_a_b", "ab"), ("pages/index.html", "<p>"), ("other", "o")):
        (store / name).write_text(text, encoding="utf-8")
    stored = {name: store / name for name in ("a_table", "a_a_b", "pages", "other")}
    tasks = [{"task": "make", "artifacts": {key: str(path) for key, path in stored.items()}},
             {"task": "use", "artifacts": {"table": str(store / "other")}}, {"task": "dagshift-alerts"}]
    workdir = tmp_path / "work"
    assert sorted(copy_artifacts(pipeline, tasks, workdir)) == ["ab.txt", "data/table.csv", "site"]
    assert sorted(str(path.relative_to(workdir)) for path in workdir.rglob("*") if path.is_file()) == [
        "ab.txt", "data/table.csv", "site/index.html"]
    assert (workdir / "data" / "table.csv").read_text() == "t" and (workdir / "ab.txt").read_text() == "ab"
