"""Selecting tasks (`--select`): keep those tasks and everything they need, and nothing else. It runs
once, before the passes, and only when tasks are selected."""

from __future__ import annotations

from compiler.language.graph import build_graph
from compiler.language.ir import Pipeline

from .action import Action
from .remove import without


def select_tasks(pipeline: Pipeline, selected: list[str]) -> tuple[Pipeline, list[Action]]:
    """Keep the selected tasks and what they need: their ancestors (and the tasks whose condition
    an else branch mirrors)."""
    graph = build_graph(pipeline)
    needed: set[str] = set()
    pending = [t for t in selected if t in pipeline.tasks]
    while pending:  # each task once: ancestors are added as needed, not searched again
        task_id = pending.pop()
        if task_id in needed:
            continue
        needed.add(task_id)
        pending.extend(graph.predecessors(task_id))
        else_of = pipeline.tasks[task_id].else_of
        if else_of is not None:
            pending.append(else_of)
    removed = set(pipeline.tasks) - needed
    actions = [
        Action("select", f"task '{t}' is not needed by the selected tasks: left out", t)
        for t in pipeline.tasks
        if t in removed
    ]
    return without(pipeline, removed), actions
