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

from .events import RunResult
from .prepare import Prepared, compile_files
from .request import RunRequest
from .scripted import SCRIPTS, install_script, run_script

SCRIPT = SCRIPTS / "airflow_run.py"


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
        # Alone in its folder: `import airflow` must find Airflow, not a module named like it.
        script = install_script(SCRIPT, home / "script", "dagshift_airflow_run.py")
        return _run_dag(request, script, dag_file, "" if request.native else pipeline.name, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run_dag(request: RunRequest, script: Path, dag_file: Path, dag_id: str, home: Path) -> RunResult:
    argv = [str(request.python), str(script), str(dag_file), dag_id, json.dumps(request.params),
            str(request.engine_log)]
    return run_script(request, "airflow", "Airflow", argv, airflow_env(home, dag_file.parent, request))


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
