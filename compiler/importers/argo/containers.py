"""Leaf templates as task commands: container and script templates (a script's source passed
inline to its interpreter), suspend templates, the container's environment, secrets, resources
and working directory, and dagshift's own python tasks: scripts that import and call the function
(python.py), or, as earlier versions wrote them, the call as JSON in an env var (CALL_ENV)."""

from __future__ import annotations

import json
import posixpath
from typing import Any

from compiler.backends.argo.conventions import (
    CALL_ENV,
    DEFAULT_IMAGE,
    EARLIER_SHELL,
    IMAGE_SHELL,
    OUTPUT_FILE,
    PASS_ARGS,
    PYTHON_COMMAND,
    REF_ENV_PREFIX,
    SHELL,
    WORKDIR_VOLUME,
    shell_joiner,
)
from compiler.importers.base import SECRET_NOT_CARRIED, is_env_name, is_portable_secret, line_of, plain

from .python import read_call
from .state import ReadState
from .stop import ImportStop
from .values import as_text, first_key, json_text, pipeline_text

# Interpreters whose script source can be passed as one argument, and the flag that takes it.
_INLINE_FLAGS = {"python": "-c", "python3": "-c", "sh": "-c", "bash": "-c", "node": "-e", "perl": "-e", "ruby": "-e"}
# Template keys read into the task, and keys that only describe it (no effect on what runs).
_TEMPLATE_KEYS = {"name", "inputs", "outputs", "container", "script", "retryStrategy", "activeDeadlineSeconds",
                  "timeout", "memoize", "synchronization", "dag", "steps", "suspend", "metadata", "resource", "http"}
_CONTAINER_KEYS = {"image", "command", "args", "source", "env", "resources", "workingDir", "name"}


# dagshift's shell tasks: `SHELL -c COMMAND`, or the command's pieces joined by `SHELL -c JOIN SHELL
# PIECE...`; SHELL is bash, or sh as earlier versions wrote it.
_SHELLS = (SHELL, EARLIER_SHELL)
_SHELL_RUNS = [[shell, "-c"] for shell in _SHELLS]
_JOINERS = [shell_joiner(shell) for shell in _SHELLS]


def _managed_command(image: str, command: list[str], args: list[str]) -> dict | None:
    """dagshift's shell and container encodings (compiler/backends/argo/backend.py)."""
    if image == DEFAULT_IMAGE:
        if command in _SHELL_RUNS and len(args) == 1:
            return {"command": args[0]}
        if command in _JOINERS and args:
            return {"command": "".join(args)}
        if command and not args and command[:2] != [IMAGE_SHELL, "-c"]:
            return {"command": command}
    if len(command) == 4 and command[:2] == [IMAGE_SHELL, "-c"] and command[3] == IMAGE_SHELL \
            and command[2].endswith(PASS_ARGS):
        task: dict[str, Any] = {"image": image, "command": command[2][:-len(PASS_ARGS)]}
        if args:
            task["args"] = args
        return task
    return None


def _mounts_shared_volume(container: dict) -> bool:
    """Whether the only mount is the volume of --option volume, at the working directory."""
    mounts = plain(container.get("volumeMounts"))
    return mounts == [{"name": WORKDIR_VOLUME, "mountPath": container.get("workingDir")}]


def container_task(state: ReadState, container: dict, scope: dict) -> dict:
    """A container template's task: its command (dagshift's shell and image encodings read back), env and resources."""
    line = line_of(container)
    _container_extras(state, container)
    command = [pipeline_text(state, as_text(plain(c)), scope, line) for c in container.get("command") or []]
    args = [pipeline_text(state, as_text(plain(a)), scope, line) for a in container.get("args") or []]
    image = str(container.get("image") or "")
    task: dict[str, Any] = {}
    if state.managed:
        task = _managed_command(image, command, args) or {}
    if not task:
        if not image:
            raise ImportStop("a container without an image", line)
        task = {"image": image}
        if command:
            task["command"] = command
        if args:
            task["args"] = args
    _runtime(state, container, task, scope)
    return task


def script_task(state: ReadState, script: dict, scope: dict) -> dict:
    """A script template's task: dagshift's python call, else the source passed inline to its interpreter."""
    line = line_of(script)
    _container_extras(state, script)
    image = str(script.get("image") or "")
    command = [str(c) for c in script.get("command") or []]
    env = {str(e.get("name")): e.get("value") for e in script.get("env") or [] if isinstance(e, dict)}
    skip_env: set[str] = set()
    call = _script_call(state, script, env, scope) if state.managed and command == PYTHON_COMMAND else None
    if call is not None:
        task, skip_env = call
        if image != DEFAULT_IMAGE:
            task["image"] = image
    elif state.managed and CALL_ENV in env:
        task = _python_call(state, env, image, scope, line)
        skip_env = {CALL_ENV}
    else:
        source = pipeline_text(state, str(script.get("source") or ""), scope, line_of(script, "source"))
        interpreter = posixpath.basename(command[0]) if command else ""
        flag = _INLINE_FLAGS.get(interpreter)
        if flag is None:
            raise ImportStop(f"a script for '{' '.join(command) or '(no command)'}': dagshift passes the source "
                             "inline only to python, sh, bash, node, perl and ruby", line_of(script, "command"))
        if not image:
            raise ImportStop("a script without an image", line)
        # The source is passed inline instead of as a file: the same program runs.
        task = {"image": image, "command": [*command, flag, source]}
    _runtime(state, script, task, scope, skip_env=skip_env)
    return task


def _script_call(state: ReadState, script: dict, env: dict, scope: dict) -> tuple[dict, set[str]] | None:
    """A python task from dagshift's script (python.py) and the env vars it consumes: the
    values it reads, and PYTHONPATH set to the working directory so that it imports the code."""
    source = str(script.get("source") or "")
    read: list[str] = []
    line = line_of(script, "source")

    def probe(name: str, kind: str) -> str:
        read.append(name)
        return ""

    def ref(name: str, kind: str) -> str:
        text = pipeline_text(state, str(env[name]), scope, line)
        state.ref_kinds.append((text, kind))
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


def suspend_task(state: ReadState, suspend: dict, line: int | None) -> dict:
    """A suspend template: a task that runs nothing (a wait is a loss)."""
    duration = str((suspend or {}).get("duration", "")).strip()
    if duration in ("0", "0s"):
        return {}
    if not duration:
        state.report.loss("a suspend without duration waits for someone to resume the workflow: carried as a "
                          "no-op task", line, approximate=True)
        return {}
    state.report.loss(f"a suspend of {duration} is carried as a no-op task (no wait)", line, approximate=True)
    return {}


def _container_extras(state: ReadState, container: dict) -> None:
    for key in container:
        if key == "volumeMounts" and state.managed and _mounts_shared_volume(container):
            continue  # dagshift's --option volume: reported once, at spec.volumes
        if key not in _CONTAINER_KEYS:
            state.report.loss(f"container {key} is not carried", line_of(container, key))


def template_extras(state: ReadState, template: dict, allowed: tuple[str, ...], what: str) -> None:
    """A loss for each key of the template that no task reads, and for its pod metadata; the `allowed`
    keys are read elsewhere."""
    for key in template:
        if key in _TEMPLATE_KEYS or key in allowed:
            if key == "metadata":
                state.report.loss(f"{what}: pod metadata is not carried", line_of(template, key))
            continue
        state.report.loss(f"{what}: {key} is not carried", line_of(template, key))


def _runtime(state: ReadState, container: dict, task: dict, scope: dict, skip_env: set[str] = frozenset()) -> None:
    env: dict[str, str] = {}
    secrets: dict[str, dict] = {}
    for entry in container.get("env") or []:
        name = str(entry.get("name"))
        if name in skip_env or (state.managed and name.startswith(REF_ENV_PREFIX)):
            continue
        if not is_env_name(name):
            state.report.loss(f"env {name!r} is not a name a shell can set: not carried", line_of(entry))
            continue
        if "value" in entry:
            env[name] = pipeline_text(state, as_text(plain(entry["value"])), scope, line_of(entry))
        elif (entry.get("valueFrom") or {}).get("secretKeyRef"):
            ref = entry["valueFrom"]["secretKeyRef"]
            secret = {"name": str(ref.get("name")), "key": str(ref.get("key"))}
            if is_portable_secret(secret["name"], secret["key"]):
                secrets[name] = secret
            else:
                state.report.loss(f"secret {secret['name']!r} key {secret['key']!r} {SECRET_NOT_CARRIED}",
                                  line_of(entry))
        else:
            state.report.loss(f"env {name} from {first_key(entry.get('valueFrom'))} is not carried",
                              line_of(entry))
    if env:
        task["env"] = env
    if secrets:
        task["secrets"] = secrets
    resources = _resources(state, container.get("resources") or {}, line_of(container, "resources"))
    if resources:
        task["resources"] = resources
    if container.get("workingDir"):
        state.workdirs[str(container["workingDir"])] += 1


def _resources(state: ReadState, resources: dict, line: int | None) -> dict:
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
        state.report.loss(f"the cpu limit {limits['cpu']} is not carried (the pipeline asks for cpu only)", line,
                          approximate=True)
    if "memory" in limits and str(limits["memory"]) != result.get("memory"):
        state.report.loss(f"the memory limit {limits['memory']} is carried as the request", line,
                          approximate=True)
    for key in list(requests) + list(limits):
        if key not in ("cpu", "memory") and not key.endswith("/gpu"):
            state.report.loss(f"resource {key} is not carried", line)
    return result


def _python_call(state: ReadState, env: dict, image: str, scope: dict, line: int | None) -> dict:
    """dagshift's runtime call of earlier versions: CALL_ENV holds the function and its tagged arguments."""
    call = json.loads(str(env[CALL_ENV]))
    refs = {int(k[len(REF_ENV_PREFIX):]): str(v) for k, v in env.items() if k.startswith(REF_ENV_PREFIX)}
    task: dict[str, Any] = {"python": call["target"]}
    if image != DEFAULT_IMAGE:
        task["image"] = image
    kwargs = _decode(state, call.get("kwargs", ["v", {}]), refs, scope, line)
    if kwargs:
        task["args"] = kwargs
    for name, path, *kind in call.get("outputs", []):  # older output has no type: text
        output: dict[str, Any] = {"type": kind[0] if kind else "str"}
        if path != OUTPUT_FILE + name:
            output["path"] = path
        task.setdefault("outputs", {})[name] = output
    return task


def _decode(state: ReadState, spec: list, refs: dict[int, str], scope: dict, line: int | None) -> Any:
    tag = spec[0]
    if tag == "v":
        return spec[1]
    if tag == "r":
        text = pipeline_text(state, refs.get(spec[1], ""), scope, line)
        state.ref_kinds.append((text, spec[2]))
        return text
    if tag == "c":
        return "".join(json_text(_decode(state, part, refs, scope, line)) for part in spec[1:])
    if tag == "l":
        return [_decode(state, item, refs, scope, line) for item in spec[1]]
    return {key: _decode(state, item, refs, scope, line) for key, item in spec[1].items()}
