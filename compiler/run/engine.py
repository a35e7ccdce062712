"""Which interpreter runs an engine, and whether the engine is installed there.

Engines conflict with each other (Airflow, Prefect, DVC and kfp pin different versions of the same
libraries), so users keep them in separate environments: the engine runs in the current
interpreter, or in the one --engine-python names. A missing engine is a diagnostic that says how
to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic, Severity

PROBE_TIMEOUT = 120  # seconds: importing Airflow the first time compiles its bytecode


@dataclass(frozen=True)
class Engine:
    target: str
    title: str
    module: str  # what `import` must find in the engine's interpreter
    extra: str  # pip install 'dagshift[EXTRA]'


ENGINES = {
    "airflow": Engine("airflow", "Airflow 3", "airflow.sdk", "airflow"),
    "dvc": Engine("dvc", "DVC 3", "dvc.repo", "dvc"),
    "prefect": Engine("prefect", "Prefect 3", "prefect", "prefect"),
    "kubeflow": Engine("kubeflow", "Kubeflow Pipelines (kfp.local)", "kfp.local", "kubeflow"),
}


def interpreter(engine_python: str | None) -> Path:
    """The interpreter to run the engine with: --engine-python (a path, or a name on PATH), else
    this one. Absolute, as the engine runs in the working directory, but not resolved: a virtual
    environment's python is a symlink out of the environment, which it must stay in."""
    if not engine_python:
        return Path(sys.executable)
    if os.sep not in engine_python:
        engine_python = shutil.which(engine_python) or engine_python
    return Path(engine_python).expanduser().absolute()


def probe(engine: Engine, python: Path) -> Diagnostic | None:
    """None when PYTHON imports the engine; else an E801 that says how to install it."""
    install = f"pip install 'dagshift[{engine.extra}]'"
    where = "this interpreter" if python == Path(sys.executable) else f"{python}"
    help_ = (f"install it with `{install}` (in its own virtual environment: engines conflict with each other), "
             f"then pass that environment's python with --engine-python PATH")
    if not os.access(python, os.X_OK) or python.is_dir():
        return Diagnostic("E801", Severity.ERROR, f"--engine-python {python}: no Python interpreter there",
                          help=help_)
    try:
        process = subprocess.run([str(python), "-c", f"import {engine.module}"], check=False, capture_output=True,
                                 text=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL, env=engine_probe_env(),
                                 cwd=Path(python).parent)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Diagnostic("E801", Severity.ERROR, f"{where} did not answer whether it has {engine.title}: {error}",
                          help=help_)
    if process.returncode != 0:
        reason = (process.stderr.strip().splitlines() or ["import failed"])[-1]
        return Diagnostic("E801", Severity.ERROR, f"{engine.title} is not installed in {where} ({reason})",
                          help=help_)
    return None


def engine_probe_env() -> dict[str, str]:
    """The caller's environment without what would point an interpreter at other libraries."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
