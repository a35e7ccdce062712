"""The dependency graph as text: Mermaid (renders on GitHub), Graphviz DOT, or JSON."""

from __future__ import annotations

import json

import networkx as nx

from compiler.language.graph import sorted_edges
from compiler.language.ir import Pipeline
from compiler.language.naming import python_name

_KIND_LABEL = {"shell": "shell", "python": "python", "container": "container", "noop": "no-op"}


def _edge_label(reasons: tuple[str, ...]) -> str:
    artifacts = [r.split(":", 1)[1] for r in reasons if r.startswith("artifact:")]
    words = artifacts + [{"ref": "value", "when": "when"}[r] for r in reasons if r in ("ref", "when")]
    return ", ".join(words)


def _node_notes(pipeline: Pipeline, task_id: str) -> list[str]:
    task = pipeline.tasks[task_id]
    notes = [_KIND_LABEL[task.kind]]
    if task.foreach is not None:
        notes.append("foreach")
    if task.when is not None:
        notes.append(f"when {task.when}")
    if task.else_of is not None:
        notes.append(f"else of {task.else_of}")
    if task.trigger_rule.value != "all_success":
        notes.append(task.trigger_rule.value)
    return notes


def to_mermaid(pipeline: Pipeline, graph: nx.DiGraph) -> str:
    def node_id(task_id: str) -> str:
        return "t_" + python_name(task_id)  # mermaid ids: no '-', and never a keyword such as `end`

    def label(text: str) -> str:
        return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")

    lines = ["flowchart TD"]
    for task_id in pipeline.tasks:
        notes = " · ".join(_node_notes(pipeline, task_id))
        text = label(f"{task_id}<br/>{notes}".replace("<br/>", "\n")).replace("\n", "<br/>")
        open_, close = ("{{", "}}") if pipeline.tasks[task_id].when or pipeline.tasks[task_id].else_of else ("[", "]")
        lines.append(f'    {node_id(task_id)}{open_}"{text}"{close}')
    for upstream, downstream in sorted_edges(graph):
        edge_text = _edge_label(graph.edges[upstream, downstream]["reasons"])
        arrow = f'-- "{label(edge_text)}" -->' if edge_text else "-->"
        lines.append(f"    {node_id(upstream)} {arrow} {node_id(downstream)}")
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(pipeline: Pipeline, graph: nx.DiGraph) -> str:
    lines = [f"digraph {_dot_string(pipeline.name)} {{", "    rankdir=LR;", "    node [shape=box];"]
    for task_id in pipeline.tasks:
        shape = ' shape=diamond' if pipeline.tasks[task_id].when or pipeline.tasks[task_id].else_of else ""
        text = "\n".join([task_id, *_node_notes(pipeline, task_id)])
        lines.append(f"    {_dot_string(task_id)} [label={_dot_string(text)}{shape}];")
    for upstream, downstream in sorted_edges(graph):
        edge_text = _edge_label(graph.edges[upstream, downstream]["reasons"])
        attrs = f" [label={_dot_string(edge_text)}]" if edge_text else ""
        lines.append(f"    {_dot_string(upstream)} -> {_dot_string(downstream)}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(pipeline: Pipeline, graph: nx.DiGraph) -> str:
    data = {
        "name": pipeline.name,
        "tasks": [
            {
                "id": task_id,
                "kind": task.kind,
                "mapped": task.is_mapped,
                "when": task.when,
                "else_of": task.else_of,
                "trigger_rule": task.trigger_rule.value,
            }
            for task_id, task in pipeline.tasks.items()
        ],
        "edges": [
            {"from": u, "to": v, "reasons": list(graph.edges[u, v]["reasons"])} for u, v in sorted_edges(graph)
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


FORMATS = {"mermaid": to_mermaid, "dot": to_dot, "json": to_json}
