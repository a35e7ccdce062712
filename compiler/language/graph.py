"""IR -> networkx.DiGraph, and deterministic orders over it.

Nodes are task ids (with the declaration index as attribute `index`); an edge u -> v means v
runs after u, with `reasons`: the sorted tuple of why ("after", "artifact:NAME", "ref", "when",
"else_of:ID"). Unknown ids are left out, so the graph can be built from a pipeline that still has
errors; the passes report those.
"""

from __future__ import annotations

import heapq

import networkx as nx

from .ir import Pipeline, Task
from .references import task_refs

# The last graph built and what it was built from. The optimizer and the compile driver ask for the
# graph of the same (frozen) task objects when a pass changed nothing; callers never change a graph.
_last: tuple[str, list[str], list[Task], nx.DiGraph] | None = None


def build_graph(pipeline: Pipeline) -> nx.DiGraph:
    global _last
    tasks = list(pipeline.tasks.values())
    if _last is not None and _last[0] == pipeline.name and len(_last[2]) == len(tasks) \
            and all(a is b for a, b in zip(_last[2], tasks)) and _last[1] == list(pipeline.tasks):
        return _last[3]
    graph = nx.freeze(_graph(pipeline))  # shared: a change would raise, not reach another caller
    _last = (pipeline.name, list(pipeline.tasks), tasks, graph)
    return graph


def _graph(pipeline: Pipeline) -> nx.DiGraph:
    graph = nx.DiGraph(name=pipeline.name)
    for index, (task_id, task) in enumerate(pipeline.tasks.items()):
        graph.add_node(task_id, index=index)

    reasons: dict[tuple[str, str], set[str]] = {}

    def edge(upstream: str, downstream: str, reason: str) -> None:
        if upstream in pipeline.tasks and upstream != downstream:
            reasons.setdefault((upstream, downstream), set()).add(reason)

    producers: dict[str, str] = {}
    for task_id, task in pipeline.tasks.items():
        for artifact in task.produces:
            producers.setdefault(artifact, task_id)

    for task_id, task in pipeline.tasks.items():
        for upstream in task.after:
            edge(upstream, task_id, "after")
        for artifact in task.consumes:
            if artifact in producers:
                edge(producers[artifact], task_id, f"artifact:{artifact}")
        for path, ref in task_refs(task):
            if ref.kind == "task_output" and ref.task:
                edge(ref.task, task_id, "when" if path == ("when",) else "ref")
        if task.else_of in pipeline.tasks:
            # The else branch waits for what the condition reads, like its `when` sibling.
            for path, ref in task_refs(pipeline.tasks[task.else_of]):
                if path == ("when",) and ref.task:
                    edge(ref.task, task_id, f"else_of:{task.else_of}")

    for (upstream, downstream), why in sorted(reasons.items(), key=lambda item: _edge_key(graph, item[0])):
        graph.add_edge(upstream, downstream, reasons=tuple(sorted(why)))
    return graph


def _edge_key(graph: nx.DiGraph, edge: tuple[str, str]) -> tuple[int, int]:
    return graph.nodes[edge[0]]["index"], graph.nodes[edge[1]]["index"]


def topological_order(graph: nx.DiGraph) -> list[str]:
    """Dependencies first; ties broken by declaration order, so output is stable (networkx's
    lexicographical_topological_sort by `index`, without its per-node key calls: backends ask for it
    on 10,000-task graphs)."""
    index = dict(graph.nodes(data="index"))
    waiting = dict(graph.in_degree())
    ready = [(index[node], node) for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    successors = graph.succ
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for child in successors[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (index[child], child))
    if len(order) != len(index):
        raise nx.NetworkXUnfeasible("the graph has a cycle")
    return order


def sorted_edges(graph: nx.DiGraph) -> list[tuple[str, str]]:
    return sorted(graph.edges, key=lambda edge: _edge_key(graph, edge))


def find_cycle(graph: nx.DiGraph) -> list[str] | None:
    """One cycle as a closed path [a, b, ..., a], or None. Deterministic for a given graph."""
    try:
        edges = nx.find_cycle(graph, source=sorted(graph.nodes, key=lambda n: graph.nodes[n]["index"]))
    except nx.NetworkXNoCycle:
        return None
    return [edges[0][0]] + [v for _, v in edges]
