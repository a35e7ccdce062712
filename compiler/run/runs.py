"""One `dagshift run`: check the target and the engine, read the params, then hand the pipeline to
the target's runner (one module per target). Problems are diagnostics; nothing raises."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Severity

from . import airflow, dvc, kubeflow, prefect
from .engine import ENGINES, interpreter, probe
from .events import RunResult, TaskEvent
from .params import read_params
from .prepare import Prepared, load
from .request import RunRequest, TargetRunner

# Per target: its files for a run (the pipeline and the --param values), then the run of those files.
RUNNERS: dict[str, TargetRunner] = {"airflow": airflow, "dvc": dvc, "kubeflow": kubeflow, "prefect": prefect}
# Targets no engine on this machine runs, and why.
NO_LOCAL_RUN = {
    "argo": ("Argo Workflows runs every task as a pod on a Kubernetes cluster: there is no local run",
             ("compile it (`dagshift compile -t argo`) and submit it with `argo submit` to a cluster; to test the "
              "pipeline here, run it with -t airflow, -t prefect or -t dvc")),
}
# A plug-in backend's target (the `dagshift.backends` entry point) brings no runner.
NO_RUNNER = "`dagshift run` has no runner for target '{target}' (a plug-in backend)"
LOGS_FOLDER = Path(".dagshift") / "runs"  # under the working directory, unless --logs says where


def target_problem(target: str) -> Diagnostic | None:
    """Why TARGET cannot be run here, or None."""
    if target in NO_LOCAL_RUN:
        message, help_ = NO_LOCAL_RUN[target]
        return Diagnostic("E803", Severity.ERROR, message, help=help_)
    if target not in RUNNERS:
        return Diagnostic("E804", Severity.ERROR, NO_RUNNER.format(target=target),
                          help=(f"compile it (`dagshift compile -t {target}`) and run the files with its engine; to "
                                "test the pipeline here, run it with -t airflow, -t prefect or -t dvc"))
    return None


def default_logs(workdir: Path, target: str) -> Path:
    """WORKDIR/.dagshift/runs/TARGET-TIME, a new folder even for two runs in one second."""
    base = workdir / LOGS_FOLDER / f"{target}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, number = base, 1
    while path.exists():
        number += 1
        path = base.with_name(f"{base.name}-{number}")
    return path


@dataclass
class Launch:
    """What a run starts from: the pipeline (for its task ids and outputs), the files that run on
    the engine (compiled, or the user's own when NATIVE), and the --param values."""

    target: str
    prepared: Prepared
    files: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    native: bool = False


def run_pipeline(path: str, target: str, pairs: list[tuple[str, str]], *, workdir: Path, logs: Path | None,
                 engine_python: str | None, on_event: Callable[[TaskEvent, int, int], None],
                 on_note: Callable[[str], None],
                 on_start: Callable[[list[Diagnostic]], None] = lambda warnings: None,
                 ) -> tuple[Prepared | None, RunResult | None, list[Diagnostic]]:
    """(the loaded pipeline, the run's result, the diagnostics); the result is None when the
    run did not start: an error is among the diagnostics then. ON_START gets the compile's
    warnings just before the engine starts; ON_NOTE what the run does besides the tasks (also in
    the result's notes)."""
    problem = target_problem(target)
    if problem is not None:
        return None, None, [problem]
    prepared = load(path)
    if prepared.pipeline is None:
        return prepared, None, prepared.diagnostics.sorted()
    params, problems = read_params(pairs, prepared.pipeline)
    if problems.has_errors:
        return prepared, None, [*prepared.diagnostics, *problems]
    files = RUNNERS[target].compile_for_run(prepared, params)  # the compile's problems before the engine's
    if not files:
        return prepared, None, prepared.diagnostics.sorted()
    launch = Launch(target, prepared, files, params)
    result, diagnostics = start_run(launch, workdir=workdir, logs=logs, engine_python=engine_python,
                                    on_event=on_event, on_note=on_note, on_start=on_start)
    return prepared, result, diagnostics


def start_run(launch: Launch, *, workdir: Path, logs: Path | None, engine_python: str | None,
              on_event: Callable[[TaskEvent, int, int], None], on_note: Callable[[str], None],
              on_start: Callable[[list[Diagnostic]], None] = lambda warnings: None, probed: bool = False,
              ) -> tuple[RunResult | None, list[Diagnostic]]:
    """LAUNCH's files run on its target's engine: (the result, the diagnostics), the result None
    when the run did not start (a missing engine, files that cannot be written). PROBED: the
    caller has found the engine in ENGINE_PYTHON already."""
    prepared = launch.prepared
    python = interpreter(engine_python)
    missing = None if probed else probe(ENGINES[launch.target], python)
    if missing is not None:
        return None, [*prepared.diagnostics, missing]
    workdir = workdir.resolve()
    logs = (logs or default_logs(workdir, launch.target)).resolve()
    logs.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []

    def note(text: str) -> None:
        notes.append(text)
        on_note(text)

    on_start(list(prepared.diagnostics))
    request = RunRequest(prepared, launch.params, workdir, logs, python, on_event, note, native=launch.native)
    result = RUNNERS[launch.target].run(request, launch.files)
    if result is not None:
        result.notes = notes
    return result, list(prepared.diagnostics)
