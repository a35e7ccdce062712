"""`dagshift run -t airflow`: the compiled DAG file run with dag.test() in a throwaway AIRFLOW_HOME
(a fresh SQLite database, deleted afterwards), the way Airflow users test a DAG locally.
scripts/airflow_run.py runs inside the engine's interpreter and reports each task instance's state
changes (events.py's protocol); everything else Airflow and the tasks print goes to the run's
engine.log."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .events import RunResult, TaskState, event_from_protocol, parse_protocol_line
from .prepare import Prepared, compile_files
from .process import stream
from .request import RunRequest
from .tracker import Tracker

SCRIPT = Path(__file__).with_name("scripts") / "airflow_run.py"


def compile_for_run(prepared: Prepared, params: dict[str, Any]) -> dict[str, str]:
    """The DAG file; the params go to the run as its conf ({} after a compile error)."""
    return compile_files(prepared, "airflow")


def run(request: RunRequest, files: dict[str, str]) -> RunResult | None:
    """The run's result (FILES: compile_for_run's)."""
    pipeline = request.prepared.pipeline
    assert pipeline is not None
    home = Path(tempfile.mkdtemp(prefix="dagshift-airflow-home-"))
    try:
        dags = home / "dags"
        dags.mkdir()
        for relative, text in files.items():
            (dags / relative).parent.mkdir(parents=True, exist_ok=True)
            (dags / relative).write_text(text, encoding="utf-8")
        dag_file = next(dags / relative for relative in files if relative.endswith(".py"))
        # A copy alone in its folder: run by path, its folder leads sys.path, and `import airflow`
        # must find Airflow, not a module of the user's or dagshift's named like it.
        script = home / "dagshift_airflow_run.py"
        shutil.copy2(SCRIPT, script)
        return _run_dag(request, script, dag_file, pipeline.name, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run_dag(request: RunRequest, script: Path, dag_file: Path, dag_id: str, home: Path) -> RunResult:
    tracker = Tracker(request.task_ids)
    summary: dict = {}
    log = request.engine_log

    def on_line(line: str) -> None:
        parsed = parse_protocol_line(line)
        if parsed is None:
            with open(log, "a", encoding="utf-8") as stream_:
                stream_.write(line + "\n")
        elif parsed[0] == "summary":
            summary.update(parsed[1])
        else:
            event = event_from_protocol(parsed[1])
            if event is not None and tracker.add(event):
                request.on_event(event, tracker.finished, tracker.total)

    argv = [str(request.python), str(script), str(dag_file), dag_id, json.dumps(request.params), str(log)]
    code = stream(argv, cwd=request.workdir, env=airflow_env(home, dag_file.parent, request), on_line=on_line,
                  merge_stderr=False, stderr_log=log)
    _apply_summary(tracker, summary)
    error = summary.get("error") or (None if summary else f"the Airflow process ended (exit {code}) without a result")
    state = summary.get("state")
    results = tracker.final_results()
    succeeded = code == 0 and state == "success" and not error
    return RunResult("airflow", succeeded, results, request.logs, request.workdir,
                     error if error or state not in ("success", "failed") else None)


def _apply_summary(tracker: Tracker, summary: dict) -> None:
    """Airflow's own tries and durations win over what the polls saw."""
    for data in summary.get("tasks", []):
        event = event_from_protocol({**data, "try": data.get("tries") or 1})
        if event is None or event.task not in tracker.task_ids:
            continue
        key = (event.task, event.instance)
        if key not in tracker.results:
            tracker.add(event)
        result = tracker.results[key]
        result.state = event.state
        result.tries = int(data.get("tries") or 0) if event.state is not TaskState.NOT_RUN else 0
        if data.get("seconds") is not None and event.state in (TaskState.SUCCEEDED, TaskState.FAILED):
            result.seconds = float(data["seconds"])


def airflow_env(home: Path, dags_folder: Path, request: RunRequest) -> dict[str, str]:
    """The user's environment (connections and variables given as AIRFLOW_CONN_* / AIRFLOW_VAR_*
    stay) without their Airflow configuration or Python settings, with the throwaway home."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AIRFLOW__", "AIRFLOW_HOME", "AIRFLOW_CONFIG", "PYTHON", "VIRTUAL_ENV",
                                  "DAGSHIFT_WORKDIR"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),  # dag.test() needs the file inside it
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),  # empty: dag.test() logs to engine.log
        "DAGSHIFT_WORKDIR": str(request.workdir),  # where the generated DAG runs its tasks
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env
