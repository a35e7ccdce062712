"""check_graph.no_cycles (E101): one error per strongly connected component, with a real cycle.

Graphs come from networkx generators and become pipelines through `after:` lists, artifacts or
`${{ tasks.X.outputs.Y }}` references (tests.helpers.pipeline_data)."""

from __future__ import annotations

import re

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.diagnostics import Diagnostics, Severity
from compiler.language.graph import build_graph
from compiler.language.source import Reporter
from compiler.passes import PassContext
from compiler.passes.check_graph import no_cycles
from tests.helpers import dag_edges, line_of, load_data, only, pipeline_data, run_pass, task_id

STYLES = ("after", "artifact", "ref")


def cycle_errors(data: dict) -> list:
    loaded = load_data(data)
    diagnostics = Diagnostics()
    no_cycles(PassContext(loaded.pipeline, build_graph(loaded.pipeline), Reporter(loaded.source, diagnostics)))
    return diagnostics.items


def cycle_of(message: str) -> list[str]:
    match = re.fullmatch(r"dependency cycle: (.*)", message)
    assert match, message
    return match.group(1).split(" -> ")


def assert_real_cycle(diagnostic, edges: set[tuple[str, str]], component: set[str]) -> list[str]:
    """The reported path is closed, its steps are real edges, and it stays in `component`."""
    assert (diagnostic.code, diagnostic.severity) == ("E101", Severity.ERROR)
    path = cycle_of(diagnostic.message)
    assert len(path) >= 3 and path[0] == path[-1]
    assert len(set(path[:-1])) == len(path) - 1  # a simple cycle
    for step in zip(path, path[1:]):
        assert step in edges, step
    assert set(path) <= component
    assert diagnostic.path == ("tasks", path[0])  # points at a task on the cycle
    assert diagnostic.help.endswith(". Remove one of these dependencies")
    assert diagnostic.help.count(";") == len(path) - 2  # one step per edge
    return path


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("n", [2, 3, 7])
def test_cycle_graph(style, n):
    graph = nx.cycle_graph(n, create_using=nx.DiGraph)
    data = pipeline_data(graph.nodes, graph.edges, style)
    errors = cycle_errors(data)
    assert len(errors) == 1
    edges = {(task_id(u), task_id(v)) for u, v in graph.edges}
    path = assert_real_cycle(errors[0], edges, {task_id(n) for n in graph})
    assert len(path) == n + 1  # the only cycle goes through every node
    assert path[0] == task_id(0)  # starts at the first-declared task


@pytest.mark.parametrize("n", [2, 4, 6])
def test_complete_graph_is_one_component(n):
    graph = nx.complete_graph(n, create_using=nx.DiGraph)
    errors = cycle_errors(pipeline_data(graph.nodes, graph.edges, "after"))
    edges = {(task_id(u), task_id(v)) for u, v in graph.edges}
    assert len(errors) == 1
    assert_real_cycle(errors[0], edges, {task_id(n) for n in graph})


def test_several_components_each_reported_once():
    cycles = [nx.cycle_graph(k, create_using=nx.DiGraph) for k in (3, 2, 4)]
    graph = nx.disjoint_union_all(cycles)  # nodes 0-2, 3-4, 5-8
    graph.add_edges_from([(0, 3), (4, 5), (1, 8)])  # DAG edges between the cycles: no bigger cycle
    graph.add_edge(9, 0)  # and a node outside every cycle
    errors = cycle_errors(pipeline_data(sorted(graph.nodes), graph.edges, "after"))
    edges = {(task_id(u), task_id(v)) for u, v in graph.edges}
    assert len(errors) == 3
    components = [{0, 1, 2}, {3, 4}, {5, 6, 7, 8}]
    for error, component in zip(errors, components):  # in declaration order of the components
        assert_real_cycle(error, edges, {task_id(n) for n in component})


def test_cycle_message_and_location():
    text = """
    name: p
    artifacts: {model: m.json}
    tasks:
      train: {command: train, after: [prepare], produces: [model]}
      prepare: {command: "echo ${{ tasks.evaluate.outputs.acc }}"}
      evaluate: {command: "echo 1 > ${{ outputs.acc }}", consumes: [model], outputs: {acc: float}}
    """
    d = only(run_pass(no_cycles, text))
    assert d.message == "dependency cycle: train -> evaluate -> prepare -> train"
    assert d.help == (
        "'evaluate' consumes artifact 'model' from 'train'; 'prepare' uses an output of 'evaluate'; "
        "'train' runs after 'prepare'. Remove one of these dependencies"
    )
    assert (d.path, d.loc.line, d.loc.col) == (("tasks", "train"), line_of(text, "train:"), 3)


def test_edge_with_several_reasons_lists_them_all():
    text = """
    name: p
    tasks:
      a: {command: "echo ${{ tasks.b.outputs.x }} > ${{ outputs.y }}", outputs: {y: int}, after: [b]}
      b: {command: "echo 1 > ${{ outputs.x }}", outputs: {x: int}, when: "tasks.a.outputs.y > 1"}
    """
    d = only(run_pass(no_cycles, text))
    assert d.message == "dependency cycle: a -> b -> a"
    assert d.help == (
        "'b' has a condition that reads 'a'; 'a' runs after and uses an output of 'b'. Remove one of these dependencies"
    )


def test_cycle_through_a_condition_and_an_else_branch():
    text = """
    name: p
    tasks:
      check: {command: "echo true > ${{ outputs.ok }}", outputs: {ok: bool}, after: [fallback]}
      deploy: {command: deploy, when: "tasks.check.outputs.ok == true"}
      fallback: {command: rollback, else_of: deploy}
    """
    d = only(run_pass(no_cycles, text))
    assert d.message == "dependency cycle: check -> fallback -> check"
    assert "'fallback' is an else branch that waits for 'check'" in d.help
    assert "'check' runs after 'fallback'" in d.help


def test_reported_cycle_starts_on_the_cycle_not_elsewhere_in_the_component():
    # Component {a, b, c, d}; the search from 'a' first meets the back edge c -> b.
    text = """
    name: p
    tasks:
      a: {after: [d]}
      b: {after: [a, c]}
      c: {after: [b]}
      d: {after: [c]}
    """
    d = only(run_pass(no_cycles, text))
    path = cycle_of(d.message)
    assert d.path == ("tasks", path[0])
    assert path[0] == min(path, key="abcd".index)


def test_no_cycle_no_error():
    text = """
    name: p
    tasks:
      a: {after: [a, ghost]}
      b: {after: [a]}
    """
    assert not run_pass(no_cycles, text).items  # self and unknown references are other passes' business


# ----------------------------------------------------------------------------- random graphs


@st.composite
def random_dags(draw, max_nodes: int = 50):
    n = draw(st.integers(1, max_nodes))
    p = draw(st.floats(0.0, 0.5))
    seed = draw(st.integers(0, 2**32 - 1))
    edges = dag_edges(nx.gnp_random_graph(n, p, seed=seed, directed=True))
    return n, edges


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(), st.sampled_from(STYLES))
def test_no_cycle_in_random_dags(dag, style):
    n, edges = dag
    assert cycle_errors(pipeline_data(range(n), edges, style)) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(), st.data())
def test_random_dag_plus_one_back_edge(dag, data):
    n, edges = dag
    reachable = [(u, v) for u, v in nx.transitive_closure_dag(nx.DiGraph(edges)).edges] if edges else []
    if not reachable:
        return
    u, v = data.draw(st.sampled_from(sorted(reachable)))  # a path u ~> v exists; add v -> u
    style = data.draw(st.sampled_from(("after", "ref")))
    all_edges = set(edges) | {(v, u)}
    errors = cycle_errors(pipeline_data(range(n), all_edges, style))
    assert len(errors) == 1
    dag_graph = nx.DiGraph(edges)
    component = ({u, v} | (nx.descendants(dag_graph, u) & nx.ancestors(dag_graph, v)))
    named = {(task_id(a), task_id(b)) for a, b in all_edges}
    path = assert_real_cycle(errors[0], named, {task_id(x) for x in component})
    assert (task_id(v), task_id(u)) in set(zip(path, path[1:]))  # every cycle uses the back edge
