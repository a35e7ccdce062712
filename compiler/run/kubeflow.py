"""`dagshift run -t kubeflow`: the compiled pipeline module called once on kfp.local with the
SubprocessRunner, the way KFP users test a pipeline without a cluster. That runner runs only
lightweight python components, which the Kubeflow backend makes of `python:` tasks; shell,
container and no-op tasks need Docker there, so a pipeline with one is refused before anything
runs (E805). scripts/kubeflow_run.py runs inside the engine's interpreter and reports each task's
state changes (events.py's protocol); everything else goes to the run's engine.log.

kfp.local keeps every declared artifact in its store (the pipeline root, in the logs folder);
after the run each one is copied to its path in the working directory, where the other targets'
tasks write it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from compiler.backends.kubeflow.backend import pipeline_function
from compiler.backends.kubeflow.conventions import ARTIFACT_PREFIX, OUTPUT_PREFIX
from compiler.diagnostics import Severity
from compiler.language.ir import Pipeline

from .events import RunResult
from .prepare import Prepared, compile_files
from .request import RunRequest
from .scripted import SCRIPTS, install_script, run_script

SCRIPT = SCRIPTS / "kubeflow_run.py"
PIPELINE_ROOT = "pipeline-root"  # kfp.local's artifact store, in the run's logs folder
KINDS = {"shell": "a shell task (`command:`)", "container": "a container task (`image:`)",
         "noop": "a no-op task (no command, python or image)"}


def compile_for_run(prepared: Prepared, params: dict[str, Any]) -> dict[str, str]:
    """The pipeline module; the params are the pipeline call's arguments ({} after a compile
    error, or an E805 for each task kfp.local cannot run without Docker)."""
    pipeline = prepared.pipeline
    assert pipeline is not None
    refused = [(task_id, task.kind) for task_id, task in pipeline.tasks.items() if task.kind != "python"]
    for task_id, kind in refused:
        prepared.diagnostics.add(prepared.loaded.source.diagnostic(
            "E805", Severity.ERROR, f"kfp.local cannot run task '{task_id}' without Docker: it is {KINDS[kind]}, "
            "and its SubprocessRunner runs only python tasks (lightweight python components)", ("tasks", task_id),
            at_key=True, help="run it with -t airflow, -t prefect or -t dvc"))
    return {} if refused else compile_files(prepared, "kubeflow")


def run(request: RunRequest, files: dict[str, str]) -> RunResult | None:
    """The run's result (FILES: compile_for_run's)."""
    pipeline = request.prepared.pipeline
    assert pipeline is not None
    root = request.logs / PIPELINE_ROOT
    scratch = Path(tempfile.mkdtemp(prefix="dagshift-kubeflow-"))
    try:
        module = scratch / "pipeline" / next(relative for relative in files if relative.endswith(".py"))
        module.parent.mkdir()
        module.write_text(files[module.name], encoding="utf-8")
        script = install_script(SCRIPT, scratch / "script", "dagshift_kubeflow_run.py")  # alone: `import kfp` is kfp
        argv = [str(request.python), str(script), str(module), pipeline_function(pipeline),
                json.dumps(request.params), str(request.engine_log), str(root)]
        stored: list[dict] = []

        def read_summary(summary: dict) -> None:
            stored.extend(summary.get("tasks", []))
            for entry in summary.get("returned", []):
                task = pipeline.tasks.get(str(entry.get("task")))
                if task is not None and len(task.outputs) > 1:  # one output is kfp's `Output`, its value as is
                    entry["value"] = declared_outputs(entry.get("value"))

        result = run_script(request, "kubeflow", "kfp.local", argv, kubeflow_env(request), on_summary=read_summary,
                            doubles=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    copied = copy_artifacts(pipeline, stored, request.workdir)
    if copied:
        request.on_note(f"kfp.local stored the pipeline's artifacts under {root}: copied {len(copied)} to their "
                        f"paths in {request.workdir}")
    return result


def copy_artifacts(pipeline: Pipeline, tasks: list[dict], workdir: Path) -> list[str]:
    """Each artifact the pipeline's tasks stored as a KFP artifact, copied from kfp.local's store
    to its pipeline path under WORKDIR (a file, or a folder for `kind: directory`); the paths.

    A task's output artifact is named after the pipeline's artifact, with the backend's prefix
    where that name would clash or looks prefixed (conventions.ARTIFACT_PREFIX): one prefix off."""
    base = workdir / (pipeline.workdir or "")
    copied = []
    for task in tasks:
        made = pipeline.tasks[task["task"]].produces if task.get("task") in pipeline.tasks else []
        for output, uri in sorted((task.get("artifacts") or {}).items()):
            name, stored = output.removeprefix(ARTIFACT_PREFIX), Path(uri)
            if name not in made or not stored.exists():
                continue
            path = pipeline.artifacts[name].path
            destination = base / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            if stored.is_dir():
                shutil.copytree(stored, destination, dirs_exist_ok=True)
            else:
                shutil.copyfile(stored, destination)
            copied.append(str(path))
    return copied


def declared_outputs(value: Any) -> Any:
    """A component's return value with the pipeline's output names: a NamedTuple field is an
    output's name, or (where it would clash or looks prefixed) that name with
    conventions.OUTPUT_PREFIX, once."""
    if not isinstance(value, dict):
        return value
    return {name.removeprefix(OUTPUT_PREFIX): item for name, item in value.items()}


def kubeflow_env(request: RunRequest) -> dict[str, str]:
    """The user's environment without Python settings or a KFP endpoint, with pip kept from
    installing into the engine's environment (every lightweight component starts with
    `pip install kfp`: already there, it passes; a missing package fails the task instead)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "VIRTUAL_ENV", "KF_PIPELINES", "DAGSHIFT_WORKDIR"))}
    env.update({"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    return env
