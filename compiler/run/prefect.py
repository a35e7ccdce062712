"""`dagshift run -t prefect`: the compiled flow called once against a temporary local Prefect API
(a throwaway PREFECT_HOME with its own SQLite database, deleted afterwards), the way Prefect users
test a flow locally. scripts/prefect_run.py runs inside the engine's interpreter and reports each
task run's state changes (events.py's protocol); everything else goes to the run's engine.log."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from compiler.language.naming import python_name

from .events import RunResult
from .prepare import Prepared, compile_files
from .request import RunRequest
from .scripted import SCRIPTS, install_script, run_script

SCRIPT = SCRIPTS / "prefect_run.py"


def compile_for_run(prepared: Prepared, params: dict[str, Any]) -> dict[str, str]:
    """The flow module; the params are the flow call's arguments ({} after a compile error)."""
    return compile_files(prepared, "prefect")


def run(request: RunRequest, files: dict[str, str]) -> RunResult | None:
    """The run's result (FILES: compile_for_run's)."""
    pipeline = request.prepared.pipeline
    assert pipeline is not None
    home = Path(tempfile.mkdtemp(prefix="dagshift-prefect-home-"))
    try:
        flows = home / "flows"
        for relative, text in files.items():
            (flows / relative).parent.mkdir(parents=True, exist_ok=True)
            (flows / relative).write_text(text, encoding="utf-8")
        module = next(flows / relative for relative in files if relative.endswith(".py"))
        # Alone in its folder: `import prefect` must find Prefect, not a module named like it.
        script = install_script(SCRIPT, home / "script", "dagshift_prefect_run.py")
        flow = "" if request.native else python_name(pipeline.name)
        argv = [str(request.python), str(script), str(module), flow,
                json.dumps(request.params), str(request.engine_log)]
        return run_script(request, "prefect", "Prefect", argv, prefect_env(home, request))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def prefect_env(home: Path, request: RunRequest) -> dict[str, str]:
    """The user's environment without their Prefect settings (a PREFECT_API_URL would send the run
    to a real server) or Python settings, with the throwaway home and its local API."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PREFECT", "PYTHON", "VIRTUAL_ENV", "DAGSHIFT_WORKDIR"))}
    env.update({
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # telemetry writes to SQLite while the server starts
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # a busy machine starts it slowly
        "DAGSHIFT_WORKDIR": str(request.workdir),  # where the generated flow runs its tasks
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env
