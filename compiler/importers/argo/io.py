"""A task's inputs and outputs: input artifacts (passed from a producer, or fetched by Argo),
output parameters and artifacts, and the outputs read downstream (`outputs.result`, Argo's
captured standard output, written to the output file)."""

from __future__ import annotations

import re
from typing import Any

from compiler.importers.base import line_of

from .shared import DAGSHIFT_WORKDIR, OUTPUT_FILE, ImportStop
from .values import first_key, identifier

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


class InputsOutputsMixin:
    """Input and output parameters and artifacts of a task. A part of document.DocumentReader."""

    def _template_inputs(self, template: dict, scope: dict, task: dict, task_id: str) -> None:
        inputs = template.get("inputs") or {}
        for entry in inputs.get("artifacts") or []:
            name = str(entry.get("name"))
            line = line_of(entry)
            argument = scope.get(("artifact", name))
            source = (argument or {}).get("from") if argument else None
            if source:
                self._consume(task, task_id, str(source), entry, line)
            else:
                self._external_input(task, entry, argument, line)

    def _consume(self, task: dict, task_id: str, source: str, entry: dict, line: int | None) -> None:
        match = re.fullmatch(r"\{\{\s*(tasks|steps)\.([^.]+)\.outputs\.artifacts\.([^.}\s]+)\s*\}\}", source)
        if not match:
            self.report.loss(f"input artifact '{entry.get('name')}' from {source} is not carried", line)
            return
        producer = self.argo_ids.get(match.group(2)) or self._scoped_id(match.group(2))
        artifact = self.artifact_source.get((producer or "", match.group(3)))
        if artifact is None:
            self.report.loss(f"input artifact '{entry.get('name')}' comes from an output this importer did not "
                             "read", line)
            return
        task.setdefault("consumes", []).append(artifact)
        path = self.artifacts[artifact]["path"]
        if entry.get("path") and self._relative(str(entry["path"])) != path:
            self.report.loss(f"input artifact '{entry.get('name')}' is read at {entry['path']}, the producer writes "
                             f"it at {path}: the pipeline has one path per artifact", line, approximate=True)

    def _external_input(self, task: dict, entry: dict, argument: Any, line: int | None) -> None:
        source = argument or entry
        location = _artifact_location(source)
        name = str(entry.get("name"))
        if location is None:
            self.report.loss(f"input artifact '{name}' ({first_key(source)}) is not carried", line)
            return
        artifact = self._artifact_name(name)
        self.artifacts[artifact] = {"path": location, "external": True}
        task.setdefault("consumes", []).append(artifact)
        self.report.loss(f"input artifact '{name}' is fetched by Argo from {location} to {entry.get('path')}; "
                         "the task receives the location instead and must fetch it", line, approximate=True)

    def _template_outputs(self, template: dict, task: dict, task_id: str) -> None:
        outputs = template.get("outputs") or {}
        for entry in outputs.get("parameters") or []:
            name = str(entry.get("name"))
            value_from = entry.get("valueFrom") or {}
            output: dict[str, Any] = {"type": "str"}
            if self.managed and entry.get("description") in _OUTPUT_TYPES:
                output["type"] = entry["description"]  # dagshift writes a python output's type there
            if "resource" in template and ("jsonPath" in value_from or "jqFilter" in value_from):
                continue  # read by the kubectl task (emulated.py)
            if value_from.get("path"):
                path = str(value_from["path"])
                if not (self.managed and path == OUTPUT_FILE + name):
                    output["path"] = self._relative(path) if self.managed else path
            else:
                self.report.loss(f"output parameter '{name}' from {first_key(value_from)} is not carried",
                                 line_of(entry))
                continue
            for key in value_from:
                if key == "default":
                    self.report.loss(f"output parameter '{name}': the default {value_from[key]!r} (Argo's value when "
                                     "the task writes no file, or is skipped) is not carried", line_of(value_from, key),
                                     approximate=True)
                elif key != "path":
                    self.report.loss(f"output parameter '{name}': valueFrom {key} is not carried",
                                     line_of(value_from, key))
            if "globalName" in entry:
                self.report.loss(f"output parameter '{name}': globalName is not carried", line_of(entry, "globalName"))
            if "suspend" in template:
                self.report.loss(f"output parameter '{name}' of a suspend template (set when someone resumes "
                                 "the workflow) is not carried", line_of(entry))
                continue
            task.setdefault("outputs", {}).setdefault(identifier(name), output)
        for entry in outputs.get("artifacts") or []:
            name = str(entry.get("name"))
            if not entry.get("path"):
                self.report.loss(f"output artifact '{name}' has no path: not carried", line_of(entry))
                continue
            artifact = self._artifact_name(name)
            self.artifacts[artifact] = {"path": self._relative(str(entry["path"]))}
            self.artifact_source[(task_id, name)] = artifact
            task.setdefault("produces", []).append(artifact)
            for key in entry:
                if key not in ("name", "path"):
                    self.report.loss(f"output artifact '{name}': {key} is not carried (the pipeline's artifact "
                                     "store decides)", line_of(entry, key))
        if outputs.get("result") is not None or outputs.get("exitCode") is not None:
            self.report.loss("template outputs result/exitCode are not carried", line_of(outputs))

    def _artifact_name(self, name: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if not base or not base[0].isalpha():
            base = "a_" + base
        candidate, counter = base, self.name_counters.get(("artifact", base), 2)
        while candidate in self.artifacts:  # artifacts are never removed: the names tried before are still taken
            candidate, counter = f"{base}_{counter}", counter + 1
        self.name_counters[("artifact", base)] = counter
        return candidate

    def _relative(self, path: str) -> str:
        """dagshift writes artifact paths under the working directory; others stay as written."""
        if not self.managed:
            return path
        workdir = self.workdirs.most_common(1)[0][0] if self.workdirs else DAGSHIFT_WORKDIR
        if path.startswith(workdir.rstrip("/") + "/"):
            return path[len(workdir.rstrip("/")) + 1:]
        return path

    def _finish_outputs(self) -> None:
        """Outputs read downstream must exist on the producer; stdout (`result`) is not a file."""
        for task_id, name, line in self.pending_outputs:
            task = self.tasks.get(task_id)
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
                    self.report.loss(f"task '{task_id}': Argo captures its standard output as outputs.result; a "
                                     "pipeline task writes an output to ${{ outputs.result }}: change the command",
                                     line, approximate=True)
                else:
                    self.report.loss(f"task '{task_id}' has no output parameter '{name}'", line, approximate=True)
        for (task_id, name), uses in self.outputs_used.items():
            output = self.tasks.get(task_id, {}).get("outputs", {}).get(name)
            if output is not None and "list" in uses:
                output["type"] = "list"
        for text, kind in self.ref_kinds:
            match = re.fullmatch(r"\$\{\{ tasks\.([^.]+)\.outputs\.([^ ]+) \}\}", text)
            output = self.tasks.get(match.group(1), {}).get("outputs", {}).get(match.group(2)) if match else None
            value_type = _KIND_TYPES.get(kind.removeprefix("list:"))
            if output is not None and value_type and output.get("type") == "str":
                output["type"] = value_type
        for (task_id, name), uses in self.outputs_used.items():
            output = self.tasks.get(task_id, {}).get("outputs", {}).get(name)
            if output is not None and "float" in uses and output.get("type") == "str":
                output["type"] = "float"
        for task_id, task in self.tasks.items():
            if not self.managed and "result" in task.get("outputs", {}) and \
                    task["outputs"]["result"].get("path") is None:
                self._capture_stdout(task_id, task)

    def _capture_stdout(self, task_id: str, task: dict) -> None:
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
