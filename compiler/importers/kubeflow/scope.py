"""Kubeflow importer: where a task sits in the PipelineSpec (its enclosing condition, loop and
probe groups), its input bindings as dagshift references, and the names dagshift gives things."""

from __future__ import annotations

import re
from typing import Any


def _strip(name: str, dagshift: bool) -> str:
    """dagshift prefixes names in components (p_ params, a_ artifacts, o_ outputs, k_ item keys):
    all of them before issue 19, since then only those that would clash or look prefixed."""
    return name[2:] if dagshift and re.match(r"[paok]_", name) else name


def _task_id(name: str) -> str:
    from compiler.language.naming import id_problem, suggest_id

    task_id = re.sub(r"[^A-Za-z0-9_-]", "_", name) or "task"
    return task_id if id_problem(task_id) is None else suggest_id(task_id)  # '____', '0_5': no target's id



class _Scope:
    """Where a task sits: the enclosing group's condition, loop and the group task itself; the
    final-state probes it runs on (fallback, watched task key, state); whether it is the Else of
    a dsl.If (in_else) and whether the group holds a dsl.If / dsl.Else pair (branches)."""

    def __init__(self, task: Any, parent: _Scope | None, when: str | None, foreach: Any):
        self.parent_task = task if parent is not None else None
        self.parent = parent
        self.when = when
        self.foreach = foreach
        self.item: str | None = None
        self.limit: int | None = None
        self.watch: list[tuple[str, str, str]] = []
        self.in_else = False
        self.branches = False

    def child(self, task: Any) -> _Scope:
        inner = _Scope(task, self, self.when, self.foreach)
        inner.item, inner.limit, inner.watch = self.item, self.limit, self.watch
        return inner


class _Inputs:
    """A task's input bindings, as dagshift references."""

    def __init__(self, reader: Any, task: Any, scope: _Scope):
        self.reader = reader
        self.task = task
        self.scope = scope
        inputs = task.get("inputs") or {}
        self.parameters = inputs.get("parameters") or {}
        self.artifacts = inputs.get("artifacts") or {}

    def parameter(self, key: str, bare: bool = False) -> str | None:
        binding = self.parameters.get(key)
        if binding is None:
            return None
        return self.reader._binding_ref(binding, self.scope, bare)

    def result_artifact(self, key: str) -> str:
        upstream = (self.artifacts.get(key) or {}).get("taskOutputArtifact") or {}
        if str(upstream.get("producerTask")) in self.reader.importers:
            return self.reader.importers[str(upstream.get("producerTask"))]
        if upstream.get("outputArtifactKey"):
            return _strip(str(upstream["outputArtifactKey"]), self.reader.dagshift)
        channel = str((self.artifacts.get(key) or {}).get("componentInputArtifact") or "")
        found = re.match(r"pipelinechannel--.+?-(a_\w+|\w+)$", channel)
        return _strip(found.group(1) if found else key, self.reader.dagshift)


def _duration(text: str) -> int:
    found = re.fullmatch(r"(\d+(?:\.\d+)?)s", text.strip())
    return int(float(found.group(1))) if found else 0


def _and(left: str | None, right: str | None) -> str | None:
    """Both conditions (KFP nests a dsl.If for each part of an `and`)."""
    if left and right:
        return " and ".join(f"({part})" if " or " in part else part for part in (left, right))
    return left or right
