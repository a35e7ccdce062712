"""Properties of the dependency graph as a whole."""

from __future__ import annotations

import networkx as nx

from ..graph import find_cycle
from . import PassContext

_REASON_WORDS = {"after": "after", "ref": "uses an output of", "when": "its condition reads"}


def no_cycles(ctx: PassContext) -> None:
    """Every cycle is reported once (one per strongly connected component), with its path."""
    graph = ctx.graph
    order = {node: graph.nodes[node]["index"] for node in graph}
    components = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    for component in sorted(components, key=lambda c: min(order[n] for n in c)):
        cycle = find_cycle(graph.subgraph(component)) or sorted(component, key=order.get)
        steps = []
        for upstream, downstream in zip(cycle, cycle[1:]):
            reasons = graph.edges[upstream, downstream]["reasons"]
            steps.append(f"'{downstream}' {_describe(reasons)} '{upstream}'")
        first = min(component, key=order.get)
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
            words.append("is an else branch reading")
        else:
            words.append(_REASON_WORDS.get(reason, reason))
    return " and ".join(words)
