"""A task's inputs and outputs: input artifacts (passed from a producer, or fetched by Argo),
output parameters and artifacts, and the outputs read downstream (`outputs.result`, Argo's
captured standard output, written to the output file)."""

from __future__ import annotations

import re
from typing import Any

from compiler.backends.argo.conventions import DEFAULT_WORKDIR, OUTPUT_FILE
from compiler.importers.base import line_of

from .state import ReadState
from .stop import ImportStop
from .values import first_key, identifier, scoped_id

# dagshift's python value kinds (compiler/backends/argo/script.py) as output types.
_KIND_TYPES = {"int": "int", "float": "float", "bool": "bool", "json": "dict"}
_OUTPUT_TYPES = {"str", "int", "float", "bool", "list", "dict"}


def _artifact_location(source: Any) -> str | None:
    if not isinstance(source, dict):
        return None
    if source.get("http"):
        return str(source["http"].get("url"))
    if source.get("s3") and source["s3"].get("key"):
        bucket = source["s3"].get("bucket")
        return f"s3://{bucket}/{source['s3']['key']}" if bucket else None
    if source.get("gcs") and source["gcs"].get("key"):
        bucket = source["gcs"].get("bucket")
        return f"gs://{bucket}/{source['gcs']['key']}" if bucket else None
    if source.get("git"):
        return str(source["git"].get("repo"))
    return None


def template_inputs(state: ReadState, template: dict, scope: dict, task: dict, task_id: str) -> None:
    """The template's input artifacts: consumed from their producer, or fetched from their location."""
    inputs = template.get("inputs") or {}
    for entry in inputs.get("artifacts") or []:
        name = str(entry.get("name"))
        line = line_of(entry)
        argument = scope.get(("artifact", name))
        source = (argument or {}).get("from") if argument else None
        if source:
            _consume(state, task, task_id, str(source), entry, line)
        else:
            _external_input(state, task, entry, argument, line)


def _consume(state: ReadState, task: dict, task_id: str, source: str, entry: dict, line: int | None) -> None:
    match = re.fullmatch(r"\{\{\s*(tasks|steps)\.([^.]+)\.outputs\.artifacts\.([^.}\s]+)\s*\}\}", source)
    if not match:
        state.report.loss(f"input artifact '{entry.get('name')}' from {source} is not carried", line)
        return
    producer = state.argo_ids.get(match.group(2)) or scoped_id(state, match.group(2))
    artifact = state.artifact_source.get((producer or "", match.group(3)))
    if artifact is None:
        state.report.loss(f"input artifact '{entry.get('name')}' comes from an output this importer did not "
                          "read", line)
        return
    task.setdefault("consumes", []).append(artifact)
    path = state.artifacts[artifact]["path"]
    if entry.get("path") and relative(state, str(entry["path"])) != path:
        state.report.loss(f"input artifact '{entry.get('name')}' is read at {entry['path']}, the producer writes "
                          f"it at {path}: the pipeline has one path per artifact", line, approximate=True)


def _external_input(state: ReadState, task: dict, entry: dict, argument: Any, line: int | None) -> None:
    source = argument or entry
    location = _artifact_location(source)
    name = str(entry.get("name"))
    if location is None:
        state.report.loss(f"input artifact '{name}' ({first_key(source)}) is not carried", line)
        return
    artifact = artifact_name(state, name)
    state.artifacts[artifact] = {"path": location, "external": True}
    task.setdefault("consumes", []).append(artifact)
    state.report.loss(f"input artifact '{name}' is fetched by Argo from {location} to {entry.get('path')}; "
                      "the task receives the location instead and must fetch it", line, approximate=True)


def template_outputs(state: ReadState, template: dict, task: dict, task_id: str) -> None:
    """The template's output parameters and artifacts, as the task's outputs and produced artifacts."""
    outputs = template.get("outputs") or {}
    for entry in outputs.get("parameters") or []:
        name = str(entry.get("name"))
        value_from = entry.get("valueFrom") or {}
        output: dict[str, Any] = {"type": "str"}
        if state.managed and entry.get("description") in _OUTPUT_TYPES:
            output["type"] = entry["description"]  # dagshift writes a python output's type there
        if "resource" in template and ("jsonPath" in value_from or "jqFilter" in value_from):
            continue  # read by the kubectl task (emulated.py)
        if value_from.get("path"):
            path = str(value_from["path"])
            if not (state.managed and path == OUTPUT_FILE + name):
                output["path"] = relative(state, path) if state.managed else path
        else:
            state.report.loss(f"output parameter '{name}' from {first_key(value_from)} is not carried",
                              line_of(entry))
            continue
        for key in value_from:
            if key == "default":
                state.report.loss(f"output parameter '{name}': the default {value_from[key]!r} (Argo's value when "
                                  "the task writes no file, or is skipped) is not carried", line_of(value_from, key),
                                  approximate=True)
            elif key != "path":
                state.report.loss(f"output parameter '{name}': valueFrom {key} is not carried",
                                  line_of(value_from, key))
        if "globalName" in entry:
            state.report.loss(f"output parameter '{name}': globalName is not carried", line_of(entry, "globalName"))
        if "suspend" in template:
            state.report.loss(f"output parameter '{name}' of a suspend template (set when someone resumes "
                              "the workflow) is not carried", line_of(entry))
            continue
        task.setdefault("outputs", {}).setdefault(identifier(name), output)
    for entry in outputs.get("artifacts") or []:
        name = str(entry.get("name"))
        if not entry.get("path"):
            state.report.loss(f"output artifact '{name}' has no path: not carried", line_of(entry))
            continue
        artifact = artifact_name(state, name)
        state.artifacts[artifact] = {"path": relative(state, str(entry["path"]))}
        state.artifact_source[(task_id, name)] = artifact
        task.setdefault("produces", []).append(artifact)
        for key in entry:
            if key not in ("name", "path"):
                state.report.loss(f"output artifact '{name}': {key} is not carried (the pipeline's artifact "
                                  "store decides)", line_of(entry, key))
    if outputs.get("result") is not None or outputs.get("exitCode") is not None:
        state.report.loss("template outputs result/exitCode are not carried", line_of(outputs))


def artifact_name(state: ReadState, name: str) -> str:
    """A new artifact name for Argo artifact `name` (an identifier, not taken yet)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not base or not base[0].isalpha():
        base = "a_" + base
    candidate, counter = base, state.name_counters.get(("artifact", base), 2)
    while candidate in state.artifacts:  # artifacts are never removed: the names tried before are still taken
        candidate, counter = f"{base}_{counter}", counter + 1
    state.name_counters[("artifact", base)] = counter
    return candidate


def relative(state: ReadState, path: str) -> str:
    """dagshift writes artifact paths under the working directory; others stay as written."""
    if not state.managed:
        return path
    workdir = state.workdirs.most_common(1)[0][0] if state.workdirs else DEFAULT_WORKDIR
    if path.startswith(workdir.rstrip("/") + "/"):
        return path[len(workdir.rstrip("/")) + 1:]
    return path


def finish_outputs(state: ReadState) -> None:
    """Outputs read downstream must exist on the producer; stdout (`result`) is not a file."""
    for task_id, name, line in state.pending_outputs:
        task = state.tasks.get(task_id)
        if task is None:
            continue
        if not any(key in task for key in ("command", "python", "image")):
            raise ImportStop(f"'{name}' is read from task '{task_id}', which runs nothing (a suspend: Argo takes "
                             "its outputs from whoever resumes the workflow)", line,
                             help="give the value as a pipeline param instead")
        outputs = task.setdefault("outputs", {})
        if name not in outputs:
            outputs[name] = {"type": "str"}
            if name == "result":
                state.report.loss(f"task '{task_id}': Argo captures its standard output as outputs.result; a "
                                  "pipeline task writes an output to ${{ outputs.result }}: change the command",
                                  line, approximate=True)
            else:
                state.report.loss(f"task '{task_id}' has no output parameter '{name}'", line, approximate=True)
    for (task_id, name), uses in state.outputs_used.items():
        output = state.tasks.get(task_id, {}).get("outputs", {}).get(name)
        if output is not None and "list" in uses:
            output["type"] = "list"
    for text, kind in state.ref_kinds:
        match = re.fullmatch(r"\$\{\{ tasks\.([^.]+)\.outputs\.([^ ]+) \}\}", text)
        output = state.tasks.get(match.group(1), {}).get("outputs", {}).get(match.group(2)) if match else None
        value_type = _KIND_TYPES.get(kind.removeprefix("list:"))
        if output is not None and value_type and output.get("type") == "str":
            output["type"] = value_type
    for (task_id, name), uses in state.outputs_used.items():
        output = state.tasks.get(task_id, {}).get("outputs", {}).get(name)
        if output is not None and "float" in uses and output.get("type") == "str":
            output["type"] = "float"
    for task_id, task in state.tasks.items():
        if not state.managed and "result" in task.get("outputs", {}) and \
                task["outputs"]["result"].get("path") is None:
            _capture_stdout(state, task_id, task)


def _capture_stdout(state: ReadState, task_id: str, task: dict) -> None:
    """Argo's outputs.result is the task's standard output: run the command so that it is also
    written to the output file (and still printed)."""
    argv = list(task.get("command") or []) + list(task.get("args") or [])
    if "image" not in task or not argv:
        raise ImportStop(f"task '{task_id}': its standard output is read downstream (outputs.result), and "
                         "it runs its image's entrypoint, which dagshift cannot wrap",
                         help="give the container a command")
    script = 'out=$0; "$@" > "$out"; status=$?; cat "$out"; exit $status'
    task["command"] = ["sh", "-c", script, "${{ outputs.result }}", *argv]
    task.pop("args", None)
