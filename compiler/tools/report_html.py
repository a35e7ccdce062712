"""The `dagshift compare` report as one self-contained HTML page.

No JavaScript and no external URL: the graph is an inline SVG laid out here (tasks in rows by
topological generation), styles are inline, and every user string goes through Jinja's autoescape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import jinja2
import networkx as nx

from compiler import templates_dir
from compiler.language.graph import build_graph, sorted_edges
from compiler.language.ir import Pipeline

from .compare import LEGEND, Comparison, level_counts, note_text
from .graph_render import to_mermaid

NODE_HEIGHT = 46
GAP_X = 28
GAP_Y = 64
MARGIN = 20
CHAR_WIDTH = 7.6  # an estimate for the 13px monospace label; no font metrics without a browser
MIN_NODE_WIDTH, MAX_NODE_WIDTH = 110, 240


@dataclass(frozen=True)
class SvgNode:
    task: str
    label: str  # the id, shortened to fit the box; the full id is in the node's <title>
    kind_line: str
    kind: str
    conditional: bool
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class SvgEdge:
    upstream: str
    downstream: str
    path: str  # SVG path data


@dataclass(frozen=True)
class SvgGraph:
    width: int
    height: int
    nodes: list[SvgNode]
    edges: list[SvgEdge]


def layout(pipeline: Pipeline, graph: nx.DiGraph) -> SvgGraph:
    """Rows by topological generation; within a row, by the mean position of the upstream tasks
    (fewer crossings), then declaration order (stable)."""
    index = {task: i for i, task in enumerate(pipeline.tasks)}
    # The kind line is 11px against the label's 13px.
    longest = max((max(len(task), len(_kind_line(spec)) * 11 / 13) for task, spec in pipeline.tasks.items()),
                  default=1)
    width = int(min(MAX_NODE_WIDTH, max(MIN_NODE_WIDTH, longest * CHAR_WIDTH + 24)))
    fits = max(4, int((width - 24) / CHAR_WIDTH))
    rows: list[list[str]] = []
    slot: dict[str, float] = {}
    for generation in nx.topological_generations(graph):
        def order(task: str) -> tuple[float, int]:
            parents = [slot[p] for p in graph.predecessors(task)]
            return (sum(parents) / len(parents) if parents else -1.0, index[task])

        row = sorted(generation, key=order)
        for position, task in enumerate(row):
            slot[task] = position - (len(row) - 1) / 2
        rows.append(row)
    row_of = {task: d for d, row in enumerate(rows) for task in row}
    long_edges = any(row_of[v] - row_of[u] > 1 for u, v in graph.edges)
    pad = MARGIN + (_bow(width) if long_edges else 0)  # room for edges that bow around rows
    widest = max((len(row) for row in rows), default=1)
    total_width = 2 * pad + widest * width + (widest - 1) * GAP_X
    nodes: dict[str, SvgNode] = {}
    for depth, row in enumerate(rows):
        row_width = len(row) * width + (len(row) - 1) * GAP_X
        left = (total_width - row_width) // 2
        for position, task in enumerate(row):
            spec = pipeline.tasks[task]
            label = task if len(task) <= fits else task[: fits - 1] + "…"
            nodes[task] = SvgNode(task, label, _kind_line(spec), spec.kind, bool(spec.when or spec.else_of),
                                  left + position * (width + GAP_X), MARGIN + depth * (NODE_HEIGHT + GAP_Y),
                                  width, NODE_HEIGHT)
    middle = total_width // 2
    edges = [SvgEdge(u, v, _edge_path(nodes[u], nodes[v], middle)) for u, v in sorted_edges(graph)]
    total_height = 2 * MARGIN + len(rows) * NODE_HEIGHT + max(len(rows) - 1, 0) * GAP_Y
    ordered = [nodes[task] for task in pipeline.tasks if task in nodes]
    return SvgGraph(total_width, total_height, ordered, edges)


def _bow(node_width: int) -> int:
    return GAP_X + min(node_width, 200) // 2


def _kind_line(task) -> str:
    return task.kind + (" · conditional" if task.when or task.else_of else "")


def _edge_path(upstream: SvgNode, downstream: SvgNode, middle: int) -> str:
    x1, y1 = upstream.x + upstream.width // 2, upstream.y + upstream.height
    x2, y2 = downstream.x + downstream.width // 2, downstream.y - 2  # leave room for the arrowhead
    if y2 - y1 <= GAP_Y:  # adjacent rows: a plain S-curve
        bend = max((y2 - y1) // 2, 20)
        return f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
    # An edge that skips rows would cross the tasks between: it leaves and enters from the side
    # and bows outwards, away from the middle of the drawing.
    side = -1 if (x1 + x2) // 2 < middle or ((x1 + x2) // 2 == middle and x1 > x2) else 1
    sx = upstream.x + (upstream.width if side > 0 else 0)
    tx = downstream.x + (downstream.width if side > 0 else 0) + 2 * side
    sy, ty = upstream.y + upstream.height // 2, downstream.y + downstream.height // 2
    out = side * _bow(upstream.width)
    return f"M{sx},{sy} C{sx + out},{sy} {tx + out},{ty} {tx},{ty}"


def _command_text(task) -> str:
    """What the task runs, as one line of text for the task table."""
    if task.command is not None:
        command = task.command if isinstance(task.command, str) else " ".join(str(p) for p in task.command)
        return command if task.image is None else f"{task.image}: {command}"
    if task.python is not None:
        return f"python {task.python}" + (f" in {task.image}" if task.image else "")
    return task.image or ""


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "compare")),
        autoescape=True,  # every value is user text unless marked otherwise; nothing is marked
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(comparison: Comparison, pipeline: Pipeline) -> str:
    graph = build_graph(pipeline)
    tasks = [{"id": task_id, "kind": task.kind, "description": task.description or "",
              "runs": _command_text(task)} for task_id, task in pipeline.tasks.items()]
    notes = [{"number": note.number, "level": note.level.value, "text": note_text(note)} for note in comparison.notes]
    page = _environment().get_template("report.html.j2").render(
        comparison=comparison,
        pipeline=pipeline,
        svg=layout(pipeline, graph),
        mermaid=to_mermaid(pipeline, graph),
        tasks=tasks,
        notes=notes,
        counts=level_counts(comparison),
        legend=LEGEND,
    )
    # Lone surrogates (from YAML escapes) cannot be UTF-8: show them as escapes instead of failing.
    return page.encode("utf-8", "backslashreplace").decode("utf-8")
