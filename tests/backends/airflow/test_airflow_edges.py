"""The `>>` lines of a generated DAG say exactly the edges they are given, in a form Airflow accepts."""

import re

from hypothesis import given
from hypothesis import strategies as st

from compiler.backends.airflow.edges import edge_lines, reduce_edges
from compiler.language.ir import TriggerRule

NAMES = [f"t{i}" for i in range(7)]


def _edges_of(line: str) -> set[tuple[str, str]]:
    parts = line.split(" >> ")
    # Airflow's `>>` between two lists raises TypeError at import.
    assert not any(a.startswith("[") and b.startswith("[") for a, b in zip(parts, parts[1:])), line
    links = [re.findall(r"\w+", part) for part in parts]
    return {(u, d) for ups, downs in zip(links, links[1:]) for u in ups for d in downs}


@given(st.sets(st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES)).filter(lambda e: e[0] < e[1])))
def test_lines_say_exactly_the_edges(edges):
    ordered = sorted(edges)
    lines = edge_lines(NAMES, ordered)
    said = set().union(*map(_edges_of, lines)) if lines else set()
    assert said == set(ordered)


def test_two_tasks_feeding_the_same_two_tasks():
    edges = [("a", "c"), ("a", "d"), ("b", "c"), ("b", "d")]
    assert edge_lines(["a", "b", "c", "d"], edges) == ["a >> [c, d]", "b >> [c, d]"]


@given(st.sets(st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES)).filter(lambda e: e[0] < e[1])),
       st.permutations(NAMES))
def test_the_edges_left_out_do_not_depend_on_the_order_tasks_are_defined_in(edges, order):
    """A DAG file may define a helper task (a `__branch`) after a task it leads to."""
    rules = dict.fromkeys(NAMES, TriggerRule.ALL_SUCCESS)
    assert set(reduce_edges(order, edges, rules)) == set(reduce_edges(NAMES, edges, rules))


def test_a_branch_defined_after_the_task_it_leads_to():
    edges = {("publish__branch", "hold"), ("publish__branch", "publish"), ("train", "publish__branch")}
    rules = dict.fromkeys(["hold", "publish", "train", "publish__branch"], TriggerRule.ALL_SUCCESS)
    assert set(reduce_edges(["train", "hold", "publish", "publish__branch"], edges, rules)) == edges
