"""Properties of the dependency graph as a whole."""

from __future__ import annotations

import networkx as nx

from compiler.language.graph import find_cycle

from .context import PassContext

_REASON_WORDS = {"after": "runs after", "ref": "uses an output of", "when": "has a condition that reads"}


def no_cycles(ctx: PassContext) -> None:
    """Every cycle is reported once (one per strongly connected component), with its path."""
    graph = ctx.graph
    if nx.is_directed_acyclic_graph(graph):  # the usual case, and linear; components are not
        return
    order = {node: graph.nodes[node]["index"] for node in graph}
    components = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    for component in sorted(components, key=lambda c: min(order[n] for n in c)):
        cycle = find_cycle(graph.subgraph(component)) or sorted(component, key=order.get)
        # Start at the cycle's first-declared task and point there: the component may hold
        # tasks that are not on this particular cycle.
        start = cycle.index(min(cycle[:-1], key=order.get))
        cycle = cycle[start:-1] + cycle[:start] + [cycle[start]]
        steps = []
        for upstream, downstream in zip(cycle, cycle[1:]):
            reasons = graph.edges[upstream, downstream]["reasons"]
            steps.append(f"'{downstream}' {_describe(reasons)} '{upstream}'")
        first = cycle[0]
        ctx.report.error(
            "E101",
            f"dependency cycle: {' -> '.join(cycle)}",
            ("tasks", first),
            at_key=True,
            help="; ".join(steps) + ". Remove one of these dependencies",
        )


def _describe(reasons: tuple[str, ...]) -> str:
    words = []
    for reason in reasons:
        if reason.startswith("artifact:"):
            words.append(f"consumes artifact '{reason.split(':', 1)[1]}' from")
        elif reason.startswith("else_of:"):
            words.append("is an else branch that waits for")
        else:
            words.append(_REASON_WORDS.get(reason, reason))
    return " and ".join(words)
