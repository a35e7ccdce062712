"""Redundant `after` edges (-O1): an `after` edge implied by another path is removed. Only for tasks
with the all_success rule, whose upstream failures and skips reach them through that path anyway (a
trigger rule reads each upstream's state); edges carrying data, conditions or else_of are never
touched."""

from __future__ import annotations

from compiler.backends.base import TaskCost
from compiler.language.graph import build_graph, topological_order
from compiler.language.ir import Pipeline, TriggerRule

from .action import Action


def drop_redundant_after(pipeline: Pipeline, cost: TaskCost) -> tuple[Pipeline, list[Action]]:
    graph = build_graph(pipeline)
    order = topological_order(graph)
    bit = {task_id: 1 << index for index, task_id in enumerate(order)}
    ancestors: dict[str, int] = {}
    for task_id in order:
        mask = 0
        for upstream in graph.predecessors(task_id):
            mask |= ancestors[upstream] | bit[upstream]
        ancestors[task_id] = mask
    tasks = dict(pipeline.tasks)
    actions: list[Action] = []
    for task_id, task in pipeline.tasks.items():
        if task.trigger_rule is not TriggerRule.ALL_SUCCESS or not task.after:
            continue
        keep = []
        for upstream in task.after:
            reasons = graph.edges[upstream, task_id]["reasons"] if graph.has_edge(upstream, task_id) else ()
            others = 0
            for other in graph.predecessors(task_id):
                if other != upstream:
                    others |= ancestors[other]
            if reasons == ("after",) and others & bit[upstream]:
                actions.append(
                    Action("drop_redundant_after", f"'{task_id}' after '{upstream}': implied by another path", task_id)
                )
            else:
                keep.append(upstream)
        if len(keep) != len(task.after):
            tasks[task_id] = task.model_copy(update={"after": keep})
    return pipeline.model_copy(update={"tasks": tasks}), actions
