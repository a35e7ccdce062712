"""Critical-path priorities (-O1): with `estimate:` durations, every task without its own priority
gets one: the estimated length of the longest path from it to the end (critical-path tasks come
first)."""

from __future__ import annotations

import networkx as nx

from compiler.backends.base import TaskCost
from compiler.language.graph import build_graph, topological_order
from compiler.language.ir import Pipeline

from .action import Action


def prioritize_critical_path(pipeline: Pipeline, cost: TaskCost) -> tuple[Pipeline, list[Action]]:
    """With estimates, each task's priority is the estimated length (whole seconds, at least 1) of
    the longest path from it to the end: when slots are scarce, the critical path goes first."""
    if not any(task.estimate for task in pipeline.tasks.values()):
        return pipeline, []
    graph = build_graph(pipeline)
    remaining = _remaining_seconds(pipeline, graph)
    tasks = dict(pipeline.tasks)
    actions = []
    for task_id, task in pipeline.tasks.items():
        priority = max(1, round(remaining[task_id]))
        if task.priority is None:
            tasks[task_id] = task.model_copy(update={"priority": priority})
            actions.append(
                Action(
                    "prioritize_critical_path",
                    f"'{task_id}' gets priority {priority} (the estimated time from its start to the end)",
                    task_id,
                )
            )
    return pipeline.model_copy(update={"tasks": tasks}), actions


def _remaining_seconds(pipeline: Pipeline, graph: nx.DiGraph) -> dict[str, float]:
    """For each task, the estimated length of the longest path from its start to the end."""
    remaining: dict[str, float] = {}
    for task_id in reversed(topological_order(graph)):
        after = max((remaining[s] for s in graph.successors(task_id)), default=0.0)
        remaining[task_id] = float(pipeline.tasks[task_id].estimate or 0) + after
    return remaining
