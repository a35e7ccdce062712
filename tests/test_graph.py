"""compiler.language.graph (edges, reasons, deterministic orders, cycles) and compiler.tools.graph_render
(Mermaid, DOT, JSON), with graphs from networkx generators."""

from __future__ import annotations

import heapq
import json
import re

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.language.graph import build_graph, find_cycle, sorted_edges, topological_order
from compiler.tools.graph_render import FORMATS, to_dot, to_json, to_mermaid
from tests.helpers import dag_edges, load, pipeline_data, pipeline_from, task_id

STYLE_REASON = {"after": lambda u: "after", "artifact": lambda u: f"artifact:out_{u}", "ref": lambda u: "ref"}


@st.composite
def random_dags(draw, max_nodes: int = 50):
    """(n, DAG edges low -> high, a declaration order) from nx.gnp_random_graph."""
    n = draw(st.integers(1, max_nodes))
    p = draw(st.floats(0.0, 0.6))
    seed = draw(st.integers(0, 2**32 - 1))
    edges = dag_edges(nx.gnp_random_graph(n, p, seed=seed, directed=True))
    order = draw(st.permutations(range(n)))
    return n, edges, list(order)


def reference_order(nodes_in_declaration_order: list[str], edges: set[tuple[str, str]]) -> list[str]:
    """Kahn's algorithm, always taking the ready task declared first (independent of networkx)."""
    index = {node: i for i, node in enumerate(nodes_in_declaration_order)}
    indegree = {node: 0 for node in index}
    successors: dict[str, list[str]] = {node: [] for node in index}
    for u, v in edges:
        indegree[v] += 1
        successors[u].append(v)
    ready = [index[n] for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        node = nodes_in_declaration_order[heapq.heappop(ready)]
        out.append(node)
        for succ in successors[node]:
            indegree[succ] -= 1
            if indegree[succ] == 0:
                heapq.heappush(ready, index[succ])
    assert len(out) == len(index)
    return out


# ----------------------------------------------------------------------------- build_graph


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(), st.sampled_from(sorted(STYLE_REASON)))
def test_edges_are_exactly_the_generated_ones(dag, style):
    n, edges, order = dag
    pipeline = pipeline_from(pipeline_data(range(n), edges, style, order))
    graph = build_graph(pipeline)
    assert list(graph.nodes) == [task_id(i) for i in order]
    assert [graph.nodes[task_id(i)]["index"] for i in order] == list(range(n))
    assert set(graph.edges) == {(task_id(u), task_id(v)) for u, v in edges}
    for u, v in edges:
        assert graph.edges[task_id(u), task_id(v)]["reasons"] == (STYLE_REASON[style](u),)
    assert nx.is_directed_acyclic_graph(graph)
    assert find_cycle(graph) is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags())
def test_topological_order_is_deterministic_and_breaks_ties_by_declaration(dag):
    n, edges, order = dag
    data = pipeline_data(range(n), edges, "after", order)
    result = topological_order(build_graph(pipeline_from(data)))
    # respects every edge
    position = {node: i for i, node in enumerate(result)}
    assert sorted(result) == sorted(task_id(i) for i in range(n))
    assert all(position[task_id(u)] < position[task_id(v)] for u, v in edges)
    # the same for a rebuild, and exactly the declared-first-when-ready order
    assert topological_order(build_graph(pipeline_from(data))) == result
    named = {(task_id(u), task_id(v)) for u, v in edges}
    assert result == reference_order([task_id(i) for i in order], named)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(max_nodes=30), st.randoms(use_true_random=False))
def test_same_edges_in_shuffled_declaration_order(dag, rnd):
    n, edges, order = dag
    shuffled = list(order)
    rnd.shuffle(shuffled)
    first = build_graph(pipeline_from(pipeline_data(range(n), edges, "ref", order)))
    second = build_graph(pipeline_from(pipeline_data(range(n), edges, "ref", shuffled)))
    assert set(first.edges) == set(second.edges)
    assert topological_order(second) == reference_order([task_id(i) for i in shuffled], set(second.edges))
    # sorted_edges: by (declaration index of upstream, of downstream)
    for graph, decl in ((first, order), (second, shuffled)):
        index = {task_id(node): i for i, node in enumerate(decl)}
        assert sorted_edges(graph) == sorted(graph.edges, key=lambda e: (index[e[0]], index[e[1]]))


def test_topological_order_of_independent_tasks_is_declaration_order():
    ids = ["zeta", "alpha", "mid", "beta"]
    pipeline = pipeline_from({"name": "p", "tasks": {i: {} for i in ids}})
    assert topological_order(build_graph(pipeline)) == ids


def test_reasons_are_merged_and_sorted():
    pipeline = load(
        """
        name: p
        params: {go: true}
        artifacts: {raw: r.csv, other: o.csv}
        tasks:
          up:
            command: "echo > ${{ outputs.ok }}"
            produces: [raw, other]
            outputs: {ok: bool}
          down:
            command: "echo ${{ tasks.up.outputs.ok }}"
            env: {OK: "${{ tasks.up.outputs.ok }}"}
            after: [up]
            consumes: [raw, other]
            when: tasks.up.outputs.ok == true
          otherwise:
            command: echo
            else_of: down
          gate:
            command: "echo ${{ tasks.up.outputs.ok }}"
            when: "${{ tasks.up.outputs.ok }}"
        """
    ).pipeline
    graph = build_graph(pipeline)
    assert graph.edges["up", "down"]["reasons"] == ("after", "artifact:other", "artifact:raw", "ref", "when")
    assert graph.edges["up", "otherwise"]["reasons"] == ("else_of:down",)
    assert graph.edges["up", "gate"]["reasons"] == ("ref", "when")
    assert set(graph.edges) == {("up", "down"), ("up", "otherwise"), ("up", "gate")}
    assert graph.graph["name"] == "p"


def test_unknown_and_self_references_make_no_edge():
    pipeline = pipeline_from(
        {
            "name": "p",
            "artifacts": {"x": "x.csv", "y": "y.csv"},
            "tasks": {
                "a": {"after": ["a", "ghost"], "produces": ["x"], "consumes": ["x", "nobody_makes_this"]},
                "b": {"command": "echo ${{ tasks.ghost.outputs.v }} ${{ tasks.b.outputs.v }}",
                      "when": "tasks.nope.outputs.v == 1", "else_of": "ghost"},
                "c": {"else_of": "b", "when": "((("},  # unparsable when: no edges from it
                "d": {"command": "echo ${{ bad placeholder }}", "produces": ["y"]},
                "e": {"consumes": ["y"]},
            },
        }
    )
    graph = build_graph(pipeline)
    assert set(graph.nodes) == {"a", "b", "c", "d", "e"}
    assert set(graph.edges) == {("d", "e")}


def test_first_producer_wins_for_edges():
    pipeline = pipeline_from(
        {"name": "p", "artifacts": {"x": "x"}, "tasks": {"p1": {"produces": ["x"]}, "p2": {"produces": ["x"]},
                                                         "c": {"consumes": ["x"]}}}
    )
    assert set(build_graph(pipeline).edges) == {("p1", "c")}


@pytest.mark.parametrize("make", [lambda n: nx.cycle_graph(n, create_using=nx.DiGraph),
                                  lambda n: nx.complete_graph(n, create_using=nx.DiGraph)])
@pytest.mark.parametrize("n", [2, 5])
def test_find_cycle_returns_a_closed_path_of_real_edges(make, n):
    generated = make(n)
    graph = build_graph(pipeline_from(pipeline_data(generated.nodes, generated.edges, "after")))
    cycle = find_cycle(graph)
    assert cycle[0] == cycle[-1] and len(cycle) >= 3
    assert all(graph.has_edge(u, v) for u, v in zip(cycle, cycle[1:]))
    assert find_cycle(graph) == cycle  # deterministic


# ----------------------------------------------------------------------------- rendering

RENDER_SOURCE = """
name: render-me
params: {mode: fast, n: 1}
artifacts: {raw: r.csv, "reference": ref.csv}
tasks:
  start: {command: "echo > ${{ outputs.ok }}", outputs: {ok: bool}, produces: [raw, reference]}
  end:
    command: echo
    consumes: [raw, reference]
    when: tasks.start.outputs.ok == true and params.mode != 'a "quoted" <b> & c\\\\d'
  graph: {command: echo, else_of: end, trigger_rule: all_done}
  subgraph-x: {foreach: [1, 2], command: echo, after: [end]}
  class: {python: m:f, after: [graph, subgraph-x]}
"""


def rendered():
    pipeline = load(RENDER_SOURCE).pipeline
    return pipeline, build_graph(pipeline)


_MERMAID_NODE = re.compile(r'^    (t_[A-Za-z0-9_]+)(\[|\{\{)"([^"]*)"(\]|\}\})$')
_MERMAID_EDGE = re.compile(r'^    (t_[A-Za-z0-9_]+) (?:-->|-- "([^"]*)" -->) (t_[A-Za-z0-9_]+)$')


def test_mermaid_lists_every_node_and_edge_with_safe_ids_and_escaped_text():
    pipeline, graph = rendered()
    lines = to_mermaid(pipeline, graph).splitlines()
    assert lines[0] == "flowchart TD"
    nodes, edges = {}, []
    for line in lines[1:]:
        node, edge = _MERMAID_NODE.match(line), _MERMAID_EDGE.match(line)
        assert node or edge, line  # every line parses; no stray quotes inside labels
        if node:
            nodes[node.group(1)] = node.group(3)
        else:
            edges.append((edge.group(1), edge.group(3), edge.group(2)))
    ids = {task: f"t_{task.replace('-', '_') + ('_' if task == 'class' else '')}" for task in pipeline.tasks}
    assert set(nodes) == set(ids.values())
    assert all(node_id not in ("end", "graph", "subgraph", "class") for node_id in nodes)
    assert sorted((u, v) for u, v, _ in edges) == sorted((ids[u], ids[v]) for u, v in graph.edges)
    when_label = nodes["t_end"]
    assert when_label.startswith("end<br/>")
    assert "#quot;quoted#quot;" in when_label and "#lt;b#gt;" in when_label and "#amp;" in when_label
    assert "<b>" not in when_label
    assert "else of end" in nodes["t_graph"] and "all_done" in nodes["t_graph"]
    labels = {(u, v): label for u, v, label in edges}
    assert labels[("t_start", "t_end")].startswith("raw, ") and labels[("t_start", "t_end")].endswith(", when")
    assert labels[("t_end", "t_subgraph_x")] is None  # `after` only: a plain arrow


def test_mermaid_edge_label_keeps_artifact_names():
    pipeline, graph = rendered()
    edge_line = next(line for line in to_mermaid(pipeline, graph).splitlines() if "t_start --" in line)
    assert '"raw, reference, when"' in edge_line


_DOT_STRING = r'"(?:[^"\\]|\\.)*"'
_DOT_NODE = re.compile(rf"^    ({_DOT_STRING}) \[label=({_DOT_STRING})( shape=diamond)?\];$")
_DOT_EDGE = re.compile(rf"^    ({_DOT_STRING}) -> ({_DOT_STRING})(?: \[label=({_DOT_STRING})\])?;$")


def _dot_unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text[1:-1])


def test_dot_lists_every_node_and_edge_with_escaped_strings():
    pipeline, graph = rendered()
    lines = to_dot(pipeline, graph).splitlines()
    assert lines[0] == 'digraph "render-me" {' and lines[-1] == "}"
    nodes, edges = {}, set()
    for line in lines[3:-1]:
        node, edge = _DOT_NODE.match(line), _DOT_EDGE.match(line)
        assert node or edge, line
        if node:
            nodes[_dot_unquote(node.group(1))] = (_dot_unquote(node.group(2)), bool(node.group(3)))
        else:
            edges.add((_dot_unquote(edge.group(1)), _dot_unquote(edge.group(2))))
    assert set(nodes) == set(pipeline.tasks)
    assert edges == set(graph.edges)
    label, diamond = nodes["end"]
    assert diamond and label == "end\nshell\nwhen " + pipeline.tasks["end"].when
    assert '"quoted"' in label and "\\d" in label  # quotes and backslashes survive the round trip


def test_json_lists_every_node_and_edge():
    pipeline, graph = rendered()
    data = json.loads(to_json(pipeline, graph))
    assert data["name"] == "render-me"
    assert [t["id"] for t in data["tasks"]] == list(pipeline.tasks)
    end = next(t for t in data["tasks"] if t["id"] == "end")
    assert end["when"] == pipeline.tasks["end"].when and end["kind"] == "shell"
    assert next(t for t in data["tasks"] if t["id"] == "subgraph-x")["mapped"] is True
    assert [(e["from"], e["to"]) for e in data["edges"]] == sorted_edges(graph)
    assert all(tuple(e["reasons"]) == graph.edges[e["from"], e["to"]]["reasons"] for e in data["edges"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(max_nodes=25))
def test_every_format_shows_every_generated_edge(dag):
    n, edges, order = dag
    pipeline = pipeline_from(pipeline_data(range(n), edges, "artifact", order))
    graph = build_graph(pipeline)
    mermaid = to_mermaid(pipeline, graph)
    dot = to_dot(pipeline, graph)
    data = json.loads(to_json(pipeline, graph))
    for u, v in edges:
        a, b = task_id(u), task_id(v)
        assert f't_{a.replace("-", "_")} -- "out_{u}" --> t_{b.replace("-", "_")}' in mermaid
        assert f'"{a}" -> "{b}" [label="out_{u}"];' in dot
    assert {(e["from"], e["to"]) for e in data["edges"]} == {(task_id(u), task_id(v)) for u, v in edges}
    assert len(data["tasks"]) == n
    assert set(FORMATS) == {"mermaid", "dot", "json"}
