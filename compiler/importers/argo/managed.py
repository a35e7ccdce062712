"""Files written by dagshift (its label, conventions.MANAGED_BY_LABEL), read with what the backend
encodes in mind: the task ids it listed, the data triggers of its Sensor, artifact and output paths
back to placeholders, `else_of` from the negated condition, `after` without the edges the graph
implies, folded defaults."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from compiler.backends.argo.conventions import (
    EVENT_ANNOTATION_PREFIX,
    OUTPUT_FILE,
    TASK_IDS_ANNOTATION,
    URI_EVENT_PREFIX,
)
from compiler.language.naming import dns_name

from .state import ReadState


def replace_in(value: Any, old: str, new: str) -> bool:
    """Replace `old` where it stands as a whole path in every string of a task (in place)."""
    if "/" in old or "." in old:
        pattern = re.compile(r"(?<![\w./-])" + re.escape(old) + r"(?![\w/-]|\.\w)")
    else:  # a bare word is a path only as a whole argument, never inside quoted text
        pattern = re.compile(r"(?<=[\s=])" + re.escape(old) + r"(?=\s|$)|^" + re.escape(old) + r"$")
    changed = False

    def walk(node: Any) -> Any:
        nonlocal changed
        if isinstance(node, str):
            replaced = pattern.sub(lambda _: new, node)
            changed = changed or replaced != node
            return replaced
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(item) for key, item in node.items()}
        return node

    if isinstance(value, dict):
        for key in ("command", "args", "env", "foreach"):
            if key in value:
                value[key] = walk(value[key])
    return changed


def exact_task_ids(metadata: dict) -> dict[str, str]:
    """Argo task name -> the task's id, for the ids dagshift listed because the name does not give
    them back (an id's Argo name is dns_name(id), one to one within a pipeline)."""
    listed = str((metadata.get("annotations") or {}).get(TASK_IDS_ANNOTATION) or "")
    return {dns_name(task_id): task_id for task_id in (t.strip() for t in listed.split(",")) if task_id}


def sensor_triggers(state: ReadState, name: Any) -> list[dict]:
    """The data triggers of dagshift's Sensor `name`: one event per trigger, its path (an artifact's,
    which joins the pipeline's artifacts when it is not one yet) or URI in an annotation."""
    sensor = state.companions.find("Sensor", name)
    if sensor is None:
        return []
    annotations = (sensor.get("metadata") or {}).get("annotations") or {}
    triggers = []
    for key, value in annotations.items():
        if not key.startswith(EVENT_ANNOTATION_PREFIX):
            continue
        event = key[len(EVENT_ANNOTATION_PREFIX):]
        if re.fullmatch(re.escape(URI_EVENT_PREFIX) + r"\d+", event):
            triggers.append({"type": "data", "uri": str(value)})
            continue
        artifact = event.replace("-", "_")
        if artifact not in state.artifacts:
            state.artifacts[artifact] = {"path": str(value), "external": True}
            _attach_external(state.tasks, artifact, str(value))
        triggers.append({"type": "data", "artifact": artifact})
    return triggers


def _attach_external(tasks: dict[str, dict], name: str, path: str) -> None:
    """An external artifact is only text in the tasks' commands: those tasks consume it."""
    for task in tasks.values():
        changed = replace_in(task, path, f"${{{{ artifacts.{name} }}}}")
        if changed:
            task.setdefault("consumes", []).append(name)


def managed_fixups(state: ReadState) -> None:
    """What dagshift's backend wrote in its own way: paths of the task's artifacts become
    placeholders again, output files `${{ outputs.NAME }}`, typed refs the output's type."""
    for task in state.tasks.values():
        names = list(task.get("consumes", [])) + list(task.get("produces", []))
        names.sort(key=lambda n: -len(state.artifacts[n]["path"]))
        for name in names:
            replace_in(task, state.artifacts[name]["path"], f"${{{{ artifacts.{name} }}}}")
        for name, output in task.get("outputs", {}).items():
            replace_in(task, output.get("path") or OUTPUT_FILE + name, f"${{{{ outputs.{name} }}}}")
    _else_branches(state.tasks)
    _implied_after(state.tasks)
    _fill_folded_defaults(state.tasks)


def _else_branches(tasks: dict[str, dict]) -> None:
    """dagshift writes `else_of: T` as the negation of T's condition."""
    by_condition = {task["when"]: task_id for task_id, task in tasks.items() if "when" in task}
    for task_id, task in tasks.items():
        when = task.get("when", "")
        if not when.startswith("not "):
            continue
        inner = when[len("not "):]
        inner = inner[1:-1] if inner.startswith("(") and inner.endswith(")") else inner
        sibling = by_condition.get(inner)
        if sibling is not None and sibling != task_id:
            del task["when"]
            task["else_of"] = sibling


def _implied_after(tasks: dict[str, dict]) -> None:
    """dagshift's depends lists every upstream; `after` holds only those no artifact,
    reference or condition implies (the graph adds those again)."""
    producers = {a: t for t, task in tasks.items() for a in task.get("produces", [])}
    for task in tasks.values():
        if "after" not in task:
            continue
        implied = {producers[a] for a in task.get("consumes", []) if a in producers}
        implied |= set(re.findall(r"\$\{\{ tasks\.([A-Za-z0-9_-]+)\.outputs\.", json.dumps(task)))
        implied |= set(re.findall(r"tasks\.([A-Za-z0-9_-]+)\.outputs\.", task.get("when", "")))
        sibling = tasks.get(task.get("else_of", ""), {})
        implied |= set(re.findall(r"tasks\.([A-Za-z0-9_-]+)\.outputs\.", sibling.get("when", "")))
        after = [t for t in task["after"] if t not in implied]
        if after:
            task["after"] = after
        else:
            del task["after"]


def _fill_folded_defaults(tasks: dict[str, dict]) -> None:
    """dagshift folds `defaults` into every task and writes no retryStrategy for 0 retries nor
    memoize for a disabled cache: when some tasks have them, the others had them off."""
    strategies = [t for t in tasks.values() if t.get("retries")]
    if strategies:
        shared = Counter(json.dumps({k: t[k] for k in ("retry_delay", "retry_backoff", "retry_max_delay") if k in t},
                                    sort_keys=True) for t in strategies).most_common(1)[0][0]
        for task in tasks.values():
            if "retries" not in task:
                task.update({"retries": 0, **json.loads(shared)})
    if any(t.get("cache") for t in tasks.values()):
        for task in tasks.values():
            task.setdefault("cache", False)
