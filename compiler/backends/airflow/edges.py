"""The `>>` lines of a generated DAG: the dependency graph without the edges Airflow does not need.

An edge u -> v is left out when another path u -> w ... -> v already orders them and leaving it
out cannot change whether v runs: every task w on that path runs only when all its upstream tasks
succeeded (so a failed or skipped u reaches v through w as it would directly), and v's own rule
reads its upstream states in a way such a path keeps (all succeeded, none failed, all done, one
failed). A fallback or a join on the path, or an `all_failed` / `one_success` task, keeps its edges.
Edges Airflow makes from a task's arguments (TaskFlow XCom arguments, `.expand` sources) are not
written either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

from compiler.language.graph import topological_order
from compiler.language.ir import TriggerRule

# Rules whose outcome a path of all_success tasks from u keeps, with or without the edge u -> v.
_PATH_SAFE_RULES = {TriggerRule.ALL_SUCCESS, TriggerRule.NONE_FAILED, TriggerRule.ALL_DONE, TriggerRule.ONE_FAILED}


def reduce_edges(order: list[str], edges: Iterable[tuple[str, str]], rules: Mapping[str, TriggerRule]) -> list[tuple[str, str]]:
    """`edges` (between names in `order`, the order the DAG file defines them in) without those
    another path makes redundant (see the module docstring), in a stable order."""
    edges = set(edges)
    order = _topological(order, edges)  # a helper task may be defined after a task it leads to
    index = {name: position for position, name in enumerate(order)}
    edges = sorted(edges, key=lambda edge: (index[edge[0]], index[edge[1]]))
    successors: dict[str, list[str]] = {name: [] for name in order}
    predecessors: dict[str, list[str]] = {name: [] for name in order}
    for upstream, downstream in edges:
        successors[upstream].append(downstream)
        predecessors[downstream].append(upstream)
    through = _reachable_through_all_success(order, successors, rules, index)
    kept = []
    for upstream, downstream in edges:
        others = [p for p in predecessors[downstream] if p != upstream]
        redundant = rules[downstream] in _PATH_SAFE_RULES and any(through[upstream] >> index[p] & 1 for p in others)
        if not redundant:
            kept.append((upstream, downstream))
    return kept


def _topological(order: list[str], edges: set[tuple[str, str]]) -> list[str]:
    """`order` rearranged so that every edge goes forward, taking the earliest ready name first."""
    graph = nx.DiGraph()
    graph.add_nodes_from((name, {"index": index}) for index, name in enumerate(order))
    graph.add_edges_from(edges)
    return topological_order(graph)


def _reachable_through_all_success(order: list[str], successors: Mapping[str, list[str]],
                                   rules: Mapping[str, TriggerRule], index: Mapping[str, int]) -> dict[str, int]:
    """name -> bit set (by topological index) of the all_success tasks reachable from it through
    all_success tasks only. One pass in reverse topological order, linear in the edges."""
    through: dict[str, int] = {}
    for name in reversed(order):
        bits = 0
        for successor in successors[name]:
            if rules[successor] is TriggerRule.ALL_SUCCESS:
                bits |= (1 << index[successor]) | through[successor]
        through[name] = bits
    return through


def edge_lines(order: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """`a >> b >> [c, d]` lines: each upstream's downstream tasks in one line, continued as a chain
    through a task whose only written upstream is the previous one; upstream tasks with the same
    downstream tasks (and nothing else) share a line: `[a, b] >> c`."""
    downstream: dict[str, list[str]] = {}
    upstream_of: dict[str, list[str]] = {}
    for upstream, target in edges:
        downstream.setdefault(upstream, []).append(target)
        upstream_of.setdefault(target, []).append(upstream)

    def links_on(name: str) -> bool:
        """`name` is the next link of its only upstream's chain (and has downstream tasks of its own)."""
        ups = upstream_of.get(name, [])
        return len(ups) == 1 and downstream[ups[0]] == [name] and name in downstream

    lines: list[list[str]] = []  # each: the links of one line, the last one a task or a list
    for name in order:
        if name not in downstream or links_on(name):
            continue
        links, current = [name], name
        while len(downstream[current]) == 1 and links_on(downstream[current][0]):
            current = downstream[current][0]
            links.append(current)
        targets = downstream[current]
        links.append(targets[0] if len(targets) == 1 else f"[{', '.join(targets)}]")
        lines.append(links)
    return [" >> ".join(links) for links in _shared_targets(lines)]


def _shared_targets(lines: list[list[str]]) -> list[list[str]]:
    """`a >> c` and `b >> c` as `[a, b] >> c` (at the first one's place). A list never meets a list:
    Airflow has no `[a, b] >> [c, d]`."""
    merged: list[list[str]] = []
    by_target: dict[str, list[str]] = {}
    for links in lines:
        if len(links) != 2 or links[1].startswith("["):
            merged.append(links)
            continue
        if links[1] in by_target:
            by_target[links[1]].append(links[0])
            continue
        by_target[links[1]] = [links[0]]
        merged.append(links)
    for links in merged:
        if len(links) == 2 and len(by_target.get(links[1], [])) > 1:
            links[0] = f"[{', '.join(by_target[links[1]])}]"
    return merged
