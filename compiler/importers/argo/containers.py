"""Leaf templates as task commands: container and script templates (a script's source passed
inline to its interpreter), suspend templates, the container's environment, secrets, resources
and working directory, and dagshift's own python tasks: scripts that import and call the function
(python.py), or, as earlier versions wrote them, the call as JSON in DAGSHIFT_CALL."""

from __future__ import annotations

import json
import posixpath
from typing import Any

from compiler.importers.base import SECRET_NOT_CARRIED, is_env_name, is_portable_secret, line_of, plain

from .python import read_call
from .shared import DAGSHIFT_IMAGE, DAGSHIFT_VOLUME, OUTPUT_FILE, ImportStop
from .values import as_text, first_key, json_text

# Interpreters whose script source can be passed as one argument, and the flag that takes it.
_INLINE_FLAGS = {"python": "-c", "python3": "-c", "sh": "-c", "bash": "-c", "node": "-e", "perl": "-e", "ruby": "-e"}
# Template keys read into the task, and keys that only describe it (no effect on what runs).
_TEMPLATE_KEYS = {"name", "inputs", "outputs", "container", "script", "retryStrategy", "activeDeadlineSeconds",
                  "timeout", "memoize", "synchronization", "dag", "steps", "suspend", "metadata", "resource", "http"}
_CONTAINER_KEYS = {"image", "command", "args", "source", "env", "resources", "workingDir", "name"}


# dagshift's shell tasks: `SHELL -c COMMAND`, or the command's pieces joined by `SHELL -c JOIN SHELL
# PIECE...`; SHELL is bash, or sh as earlier versions wrote it.
_SHELLS = ("bash", "sh")
_SHELL_RUNS = [[shell, "-c"] for shell in _SHELLS]
_JOINERS = [[shell, "-c", f'IFS=; exec {shell} -c "$*"', shell] for shell in _SHELLS]


def _managed_command(image: str, command: list[str], args: list[str]) -> dict | None:
    """dagshift's shell and container encodings (compiler/backends/argo/backend.py)."""
    if image == DAGSHIFT_IMAGE:
        if command in _SHELL_RUNS and len(args) == 1:
            return {"command": args[0]}
        if command in _JOINERS and args:
            return {"command": "".join(args)}
        if command and not args and command[:2] != ["sh", "-c"]:
            return {"command": command}
    if len(command) == 4 and command[:2] == ["sh", "-c"] and command[3] == "sh" and command[2].endswith(' "$@"'):
        task: dict[str, Any] = {"image": image, "command": command[2][:-len(' "$@"')]}
        if args:
            task["args"] = args
        return task
    return None


def _mounts_shared_volume(container: dict) -> bool:
    """Whether the only mount is the volume of --option volume, at the working directory."""
    mounts = plain(container.get("volumeMounts"))
    return mounts == [{"name": DAGSHIFT_VOLUME, "mountPath": container.get("workingDir")}]


class ContainersMixin:
    """Container, script and suspend templates as tasks. A part of document.DocumentReader."""

    def _leaf(self, template: dict, scope: dict, task_id: str, node: dict) -> dict:
        line = line_of(template)
        name = template.get("name")
        if "container" in template:
            task = self._container(template["container"], scope, task_id)
        elif "script" in template:
            task = self._script(template["script"], scope, task_id)
        elif "suspend" in template:
            task = self._suspend(template["suspend"], line)
        elif "resource" in template:
            task = self._resource(template, scope)
        elif "http" in template:
            task = self._http(template, scope)
        else:
            kind = next((k for k in ("containerSet", "data", "plugin") if k in template), None)
            raise ImportStop(f"template '{name}' is a {kind or 'kind of'} template, which no pipeline task can run",
                             line, help="port it to a container task by hand")
        self._template_extras(template, (), f"template '{name}'")
        self._template_inputs(template, scope, task, task_id)
        self._template_outputs(template, task, task_id)
        self._policies(template, task, scope)
        return task

    def _container(self, container: dict, scope: dict, task_id: str) -> dict:
        line = line_of(container)
        self._container_extras(container)
        command = [self._text(as_text(plain(c)), scope, line) for c in container.get("command") or []]
        args = [self._text(as_text(plain(a)), scope, line) for a in container.get("args") or []]
        image = str(container.get("image") or "")
        task: dict[str, Any] = {}
        if self.managed:
            task = _managed_command(image, command, args) or {}
        if not task:
            if not image:
                raise ImportStop("a container without an image", line)
            task = {"image": image}
            if command:
                task["command"] = command
            if args:
                task["args"] = args
        self._runtime(container, task, scope)
        return task

    def _script(self, script: dict, scope: dict, task_id: str) -> dict:
        line = line_of(script)
        self._container_extras(script)
        image = str(script.get("image") or "")
        command = [str(c) for c in script.get("command") or []]
        env = {str(e.get("name")): e.get("value") for e in script.get("env") or [] if isinstance(e, dict)}
        skip_env: set[str] = set()
        call = self._script_call(script, env, scope) if self.managed and command == ["python3"] else None
        if call is not None:
            task, skip_env = call
            if image != DAGSHIFT_IMAGE:
                task["image"] = image
        elif self.managed and "DAGSHIFT_CALL" in env:
            self.current_scope = scope
            task = self._python_call(env, image, task_id, line)
            skip_env = {"DAGSHIFT_CALL"}
        else:
            source = self._text(str(script.get("source") or ""), scope, line_of(script, "source"))
            interpreter = posixpath.basename(command[0]) if command else ""
            flag = _INLINE_FLAGS.get(interpreter)
            if flag is None:
                raise ImportStop(f"a script for '{' '.join(command) or '(no command)'}': dagshift passes the source "
                                 "inline only to python, sh, bash, node, perl and ruby", line_of(script, "command"))
            if not image:
                raise ImportStop("a script without an image", line)
            # The source is passed inline instead of as a file: the same program runs.
            task = {"image": image, "command": [*command, flag, source]}
        self._runtime(script, task, scope, skip_env=skip_env)
        return task

    def _script_call(self, script: dict, env: dict, scope: dict) -> tuple[dict, set[str]] | None:
        """A python task from dagshift's script (python.py) and the env vars it consumes: the
        values it reads, and PYTHONPATH set to the working directory so that it imports the code."""
        source = str(script.get("source") or "")
        read: list[str] = []
        line = line_of(script, "source")

        def probe(name: str, kind: str) -> str:
            read.append(name)
            return ""

        def ref(name: str, kind: str) -> str:
            text = self._text(str(env[name]), scope, line)
            self.ref_kinds.append((text, kind))
            return text

        def literal(text: str) -> str:
            return text.replace("${{", "$${{")

        # A first reading without side effects: is it ours, and are its values all in env?
        if read_call(source, probe, literal) is None or any(name not in env for name in read):
            return None
        target, kwargs = read_call(source, ref, literal) or ("", {})
        task: dict[str, Any] = {"python": target}
        if kwargs:
            task["args"] = kwargs
        skip = set(read)
        if env.get("PYTHONPATH") == script.get("workingDir"):
            skip.add("PYTHONPATH")
        return task, skip

    def _suspend(self, suspend: dict, line: int | None) -> dict:
        duration = str((suspend or {}).get("duration", "")).strip()
        if duration in ("0", "0s"):
            return {}
        if not duration:
            self.report.loss("a suspend without duration waits for someone to resume the workflow: carried as a "
                             "no-op task", line, approximate=True)
            return {}
        self.report.loss(f"a suspend of {duration} is carried as a no-op task (no wait)", line, approximate=True)
        return {}

    def _container_extras(self, container: dict) -> None:
        for key in container:
            if key == "volumeMounts" and self.managed and _mounts_shared_volume(container):
                continue  # dagshift's --option volume: reported once, at spec.volumes
            if key not in _CONTAINER_KEYS:
                self.report.loss(f"container {key} is not carried", line_of(container, key))

    def _template_extras(self, template: dict, allowed: tuple[str, ...], what: str) -> None:
        for key in template:
            if key in _TEMPLATE_KEYS or key in allowed:
                if key == "metadata":
                    self.report.loss(f"{what}: pod metadata is not carried", line_of(template, key))
                continue
            self.report.loss(f"{what}: {key} is not carried", line_of(template, key))

    def _runtime(self, container: dict, task: dict, scope: dict, skip_env: set[str] = frozenset()) -> None:
        env: dict[str, str] = {}
        secrets: dict[str, dict] = {}
        for entry in container.get("env") or []:
            name = str(entry.get("name"))
            if name in skip_env or (self.managed and name.startswith("DAGSHIFT_REF_")):
                continue
            if not is_env_name(name):
                self.report.loss(f"env {name!r} is not a name a shell can set: not carried", line_of(entry))
                continue
            if "value" in entry:
                env[name] = self._text(as_text(plain(entry["value"])), scope, line_of(entry))
            elif (entry.get("valueFrom") or {}).get("secretKeyRef"):
                ref = entry["valueFrom"]["secretKeyRef"]
                secret = {"name": str(ref.get("name")), "key": str(ref.get("key"))}
                if is_portable_secret(secret["name"], secret["key"]):
                    secrets[name] = secret
                else:
                    self.report.loss(f"secret {secret['name']!r} key {secret['key']!r} {SECRET_NOT_CARRIED}",
                                     line_of(entry))
            else:
                self.report.loss(f"env {name} from {first_key(entry.get('valueFrom'))} is not carried",
                                 line_of(entry))
        if env:
            task["env"] = env
        if secrets:
            task["secrets"] = secrets
        resources = self._resources(container.get("resources") or {}, line_of(container, "resources"))
        if resources:
            task["resources"] = resources
        if container.get("workingDir"):
            self.workdirs[str(container["workingDir"])] += 1

    def _resources(self, resources: dict, line: int | None) -> dict:
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        result: dict[str, Any] = {}
        if "cpu" in requests or "cpu" in limits:
            result["cpu"] = str(requests.get("cpu", limits.get("cpu")))
        if "memory" in requests or "memory" in limits:
            result["memory"] = str(requests.get("memory", limits.get("memory")))
        for key, value in limits.items():
            if key.endswith("/gpu"):
                result["gpu"] = int(str(value))
                result["gpu_type"] = str(key)
        if "cpu" in limits and str(limits["cpu"]) != result.get("cpu"):
            self.report.loss(f"the cpu limit {limits['cpu']} is not carried (the pipeline asks for cpu only)", line,
                             approximate=True)
        if "memory" in limits and str(limits["memory"]) != result.get("memory"):
            self.report.loss(f"the memory limit {limits['memory']} is carried as the request", line,
                             approximate=True)
        for key in list(requests) + list(limits):
            if key not in ("cpu", "memory") and not key.endswith("/gpu"):
                self.report.loss(f"resource {key} is not carried", line)
        return result

    def _python_call(self, env: dict, image: str, task_id: str, line: int | None) -> dict:
        """dagshift's runtime call: DAGSHIFT_CALL holds the function and its tagged arguments."""
        call = json.loads(str(env["DAGSHIFT_CALL"]))
        refs = {int(k[len("DAGSHIFT_REF_"):]): str(v) for k, v in env.items() if k.startswith("DAGSHIFT_REF_")}
        task: dict[str, Any] = {"python": call["target"]}
        if image != DAGSHIFT_IMAGE:
            task["image"] = image
        kwargs = self._decode(call.get("kwargs", ["v", {}]), refs, line)
        if kwargs:
            task["args"] = kwargs
        for name, path, *kind in call.get("outputs", []):  # older output has no type: text
            output: dict[str, Any] = {"type": kind[0] if kind else "str"}
            if path != OUTPUT_FILE + name:
                output["path"] = path
            task.setdefault("outputs", {})[name] = output
        return task

    def _decode(self, spec: list, refs: dict[int, str], line: int | None) -> Any:
        tag = spec[0]
        if tag == "v":
            return spec[1]
        if tag == "r":
            text = self._text(refs.get(spec[1], ""), self.current_scope, line)
            self.ref_kinds.append((text, spec[2]))
            return text
        if tag == "c":
            return "".join(json_text(self._decode(part, refs, line)) for part in spec[1:])
        if tag == "l":
            return [self._decode(item, refs, line) for item in spec[1]]
        return {key: self._decode(item, refs, line) for key, item in spec[1].items()}
