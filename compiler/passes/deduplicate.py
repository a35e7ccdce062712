"""Deduplication (-O2): identical tasks (same command, inputs, params and settings) run once. It
renames tasks and assumes a task's result depends only on its command, inputs and settings (so
running it once is as good as twice)."""

from __future__ import annotations

import json

from compiler.backends.base import TaskCost
from compiler.language.graph import build_graph, topological_order
from compiler.language.ir import Pipeline, Task

from .action import Action
from .rename import renamed_refs


def deduplicate_tasks(pipeline: Pipeline, cost: TaskCost) -> tuple[Pipeline, list[Action]]:
    """Identical tasks run once: the first in file order stays; what read the others reads it.
    Tasks are compared after their own upstream duplicates are replaced, in dependency order, so
    whole identical branches merge in one pass."""
    graph = build_graph(pipeline)
    replaced: dict[str, str] = {}
    seen: dict[str, str] = {}
    rewritten: dict[str, Task] = {}
    for task_id in topological_order(graph):
        task = renamed_refs(pipeline.tasks[task_id], replaced)
        rewritten[task_id] = task
        key = json.dumps(task.model_dump(mode="json", exclude={"description"}), sort_keys=True)
        if key in seen:
            replaced[task_id] = seen[key]
        else:
            seen[key] = task_id
    if not replaced:
        return pipeline, []
    tasks = {
        task_id: renamed_refs(rewritten[task_id], replaced) for task_id in pipeline.tasks if task_id not in replaced
    }
    actions = [
        Action(
            "deduplicate_tasks",
            f"'{task_id}' is identical to '{kept}': it runs once, as '{kept}'",
            kept,
            merged=(task_id,),
        )
        for task_id, kept in sorted(replaced.items(), key=lambda i: graph.nodes[i[0]]["index"])
    ]
    return pipeline.model_copy(update={"tasks": tasks}), actions
