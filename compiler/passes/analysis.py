"""What `dagshift plan` reports about a pipeline besides the passes' actions: the critical path, the
widest level and the value outputs nobody reads. They change nothing."""

from __future__ import annotations

import networkx as nx

from compiler.language.graph import build_graph, topological_order
from compiler.language.ir import Pipeline, Task
from compiler.language.references import task_refs


def critical_path(pipeline: Pipeline) -> tuple[list[str], float]:
    """The path with the longest estimated duration (tasks without an estimate count 0 s; among
    equally long paths, the one with the most tasks), and that duration in seconds."""
    graph = build_graph(pipeline)
    best: dict[str, tuple[float, int, str | None]] = {}
    for task_id in topological_order(graph):
        own = float(pipeline.tasks[task_id].estimate or 0)
        start = (own, 1, None)
        for upstream in graph.predecessors(task_id):
            seconds, count, _ = best[upstream]
            start = max(start, (seconds + own, count + 1, upstream), key=lambda c: (c[0], c[1]))
        best[task_id] = start
    if not best:
        return [], 0.0
    end = max(best, key=lambda t: (best[t][0], best[t][1], -graph.nodes[t]["index"]))
    path, node = [], end
    while node is not None:
        path.append(node)
        node = best[node][2]
    return path[::-1], best[end][0]


def widest_level(pipeline: Pipeline) -> list[str]:
    """The largest set of tasks at the same depth (longest distance from a start): how many tasks
    can run at once at best."""
    graph = build_graph(pipeline)
    levels = list(nx.topological_generations(graph))
    widest = max(levels, key=len, default=[])
    return sorted(widest, key=lambda t: graph.nodes[t]["index"])


def unused_outputs(pipeline: Pipeline) -> list[str]:
    """Tasks whose value outputs no task reads (artifacts are results in their own right)."""
    read = {(ref_task, name) for task in pipeline.tasks.values() for ref_task, name in _output_refs(task)}
    return [
        task_id
        for task_id, task in pipeline.tasks.items()
        if task.outputs and not any((task_id, name) in read for name in task.outputs)
    ]


def _output_refs(task: Task):
    for _, ref in task_refs(task):
        if ref.kind == "task_output":
            yield str(ref.task), str(ref.name)
