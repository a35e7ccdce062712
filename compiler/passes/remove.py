"""Removing tasks while keeping every order between the others: what both constant conditions and
--select need."""

from __future__ import annotations

from compiler.language.graph import build_graph
from compiler.language.ir import Pipeline, Task


def without(pipeline: Pipeline, removed: set[str]) -> Pipeline:
    """The pipeline without `removed` tasks. A task that waited for a removed one now waits for
    what that one waited for, so every order between the remaining tasks holds."""
    if not removed:
        return pipeline
    graph = build_graph(pipeline)
    position = {task_id: index for index, task_id in enumerate(pipeline.tasks)}
    tasks: dict[str, Task] = {}
    for task_id, task in pipeline.tasks.items():
        if task_id in removed:
            continue
        after = [t for t in task.after if t not in removed]
        inherited: list[str] = []
        pending = [u for u in graph.predecessors(task_id) if u in removed]
        seen: set[str] = set()
        while pending:
            upstream = pending.pop()
            if upstream in seen:
                continue
            seen.add(upstream)
            for above in graph.predecessors(upstream):
                if above in removed:
                    pending.append(above)
                elif above not in after and not graph.has_edge(above, task_id) and above not in inherited:
                    inherited.append(above)
        after += sorted(inherited, key=position.__getitem__)
        tasks[task_id] = task.model_copy(update={"after": after}) if after != task.after else task
    return pipeline.model_copy(update={"tasks": tasks})
