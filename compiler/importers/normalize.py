"""Pipelines as plain data for comparison: what a round trip (compile, then import the output)
must give back, and what `dagshift diff` compares.

Normalizing applies `defaults` to every task, writes every field as plain JSON data (so a
value's spelling, `5m` or `300s`, does not count), leaves out what equals the default, and sorts
the lists whose order means nothing (after, consumes, produces, tags). `without` removes fields a
comparison should not look at: "description" (the pipeline's), "tasks.*.estimate" (every task's),
"params.*.description" (every param's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from compiler.compile import fold_defaults
from compiler.language.graph import build_graph
from compiler.language.ir import Pipeline

_UNORDERED = ("after", "consumes", "produces")


def normalized(pipeline: Pipeline, without: Iterable[str] = ()) -> dict[str, Any]:
    data = fold_defaults(pipeline).model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    data.pop("defaults", None)
    if "tags" in data:
        data["tags"] = sorted(data["tags"])
    for task in data.get("tasks", {}).values():
        for name in _UNORDERED:
            if name in task:
                task[name] = sorted(task[name])
    for path in without:
        drop_field(data, path.split("."))
    return data


def drop_field(data: Any, parts: list[str]) -> None:
    """Remove the field at `parts` (a `*` part: every key, or every item of a list, at that level)."""
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    if isinstance(data, list) and head == "*" and rest:
        for item in data:
            drop_field(item, rest)
        return
    if not isinstance(data, dict):
        return
    keys = list(data) if head == "*" else [head]
    for key in keys:
        if key not in data:
            continue
        if rest:
            drop_field(data[key], rest)
        else:
            del data[key]


_ARTIFACT_REF = re.compile(r"(?<!\$)\$\{\{\s*artifacts\.([A-Za-z0-9_.-]+?)\s*\}\}")


def _with_paths(value: Any, paths: dict[str, str]) -> Any:
    """`${{ artifacts.X }}` written as X's path, for the artifacts in `paths`, in every text."""
    if isinstance(value, str):
        return _ARTIFACT_REF.sub(lambda m: paths.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_with_paths(v, paths) for v in value]
    if isinstance(value, dict):
        return {k: _with_paths(v, paths) for k, v in value.items()}
    return value


def artifacts_as_paths(data: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """Normalized data as a format holds it when it writes these artifacts' paths into the texts
    and keeps no artifact of that name: `${{ artifacts.X }}` becomes X's path, and X leaves the
    artifacts and every task's produces / consumes."""
    artifacts = data.get("artifacts", {})
    paths = {name: artifacts[name]["path"] for name in names if name in artifacts}
    for task in data.get("tasks", {}).values():
        for key in list(task):
            if key in ("produces", "consumes"):
                task[key] = [name for name in task[key] if name not in paths]
                if not task[key]:
                    del task[key]
            else:
                task[key] = _with_paths(task[key], paths)
    for name in paths:
        del artifacts[name]
    if not artifacts:
        data.pop("artifacts", None)
    return data


def artifacts_named_by_path(data: dict[str, Any]) -> dict[str, Any]:
    """Normalized data as a format holds it when an artifact is known by its path only (DVC's deps
    and outs): every artifact is renamed to its path, in `artifacts`, produces / consumes and
    `${{ artifacts.X }}` (which reads as the path)."""
    artifacts = data.get("artifacts", {})
    paths = {name: artifact["path"] for name, artifact in artifacts.items()}
    for task in data.get("tasks", {}).values():
        for key in list(task):
            if key in ("produces", "consumes"):
                task[key] = sorted(paths.get(name, name) for name in task[key])
            else:
                task[key] = _with_paths(task[key], paths)
    if artifacts:
        data["artifacts"] = {paths[name]: artifact for name, artifact in artifacts.items()}
    return data


def order_edges_as_after(data: dict[str, Any], pipeline: Pipeline) -> dict[str, Any]:
    """Normalized data as a format holds it when it keeps the graph but not why an edge is there:
    every edge no reference of the task makes (an `after`, an artifact read) is an `after`."""
    graph = build_graph(pipeline)
    for task_id, task in data.get("tasks", {}).items():
        after = sorted(u for u in graph.predecessors(task_id) if _only_order(graph.edges[u, task_id]["reasons"]))
        task.pop("after", None)
        if after:
            task["after"] = after
    return data


def _only_order(reasons: tuple[str, ...]) -> bool:
    implied = any(r in ("ref", "when") or r.startswith("else_of:") for r in reasons)
    return not implied and any(r == "after" or r.startswith("artifact:") for r in reasons)


def without_idle_retry_settings(data: dict[str, Any]) -> dict[str, Any]:
    """A task that does not retry has no retry settings a format would write."""
    for task in data.get("tasks", {}).values():
        if not task.get("retries"):
            for key in ("retries", "retry_delay", "retry_backoff", "retry_max_delay"):
                task.pop(key, None)
    return data
