"""The optimizer never changes what a pipeline means (compiler/optimize.py). Hypothesis draws valid
random DAGs of up to a few hundred tasks with order edges, artifacts, value outputs, conditions
(on literals and on params), trigger rules and fan-outs; after optimizing:
- every pair of remaining tasks keeps its order constraint (reachability in the graph);
- every artifact is still produced before it is consumed, every value read after it is made;
- only tasks that can never run are removed (and, with --select, what the selection does not need,
  which is never a task a selected one needs);
- a second run changes nothing (idempotent).
"""

from __future__ import annotations

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.compile import fold_defaults
from compiler.graph import build_graph
from compiler.optimize import optimize
from helpers import check_data, load_data

CONDITIONS = ["1 > 2", "2 >= 1", "true", "not true", "'a' == 'b'", "params.p > 1", "params.p == 3 and 1 < 2"]
RULES = ["all_success", "all_success", "all_success", "all_done", "one_failed", "none_failed", "one_success"]


@st.composite
def pipelines(draw) -> dict:
    size = draw(st.integers(2, 120))
    tasks: dict[str, dict] = {}
    artifacts: dict[str, str] = {}
    for index in range(size):
        task: dict = {"command": f"echo {index}"}
        earlier = list(range(index))
        if earlier:
            after = draw(st.lists(st.sampled_from(earlier), max_size=4, unique=True))
            if after:
                task["after"] = [f"t{i}" for i in after]
            consumes = [a for a in draw(st.lists(st.sampled_from(sorted(artifacts) or ["none"]), max_size=2,
                                                 unique=True)) if a in artifacts]
            if consumes:
                task["consumes"] = consumes
            if draw(st.booleans()) and any("outputs" in tasks[f"t{i}"] for i in earlier):
                source = draw(st.sampled_from([i for i in earlier if "outputs" in tasks[f"t{i}"]]))
                task["command"] += f" ${{{{ tasks.t{source}.outputs.v }}}}"
        if draw(st.integers(0, 3)) == 0:
            artifacts[f"a{index}"] = f"data/a{index}.txt"
            task["produces"] = [f"a{index}"]
        if draw(st.integers(0, 4)) == 0:
            task["outputs"] = {"v": "str"}
            task["command"] += " > ${{ outputs.v }}"
        if draw(st.integers(0, 4)) == 0:
            task["when"] = draw(st.sampled_from(CONDITIONS))
        task["trigger_rule"] = draw(st.sampled_from(RULES))
        if draw(st.integers(0, 6)) == 0 and "outputs" not in task:
            task["foreach"] = [1, 2]
        tasks[f"t{index}"] = task
    return {"name": "random", "params": {"p": 3}, "artifacts": artifacts, "tasks": tasks}


def _reach(graph: nx.DiGraph) -> dict[str, set[str]]:
    return {node: nx.descendants(graph, node) for node in graph}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=pipelines(), select_count=st.integers(0, 2))
def test_optimizing_keeps_the_meaning(data: dict, select_count: int) -> None:
    diagnostics = check_data(data)
    assert not diagnostics.has_errors, [d.message for d in diagnostics]
    pipeline = fold_defaults(load_data(data).pipeline)
    select = sorted(pipeline.tasks)[-select_count:] if select_count else []
    result = optimize(pipeline, 1, select)
    after = result.pipeline
    before_graph, after_graph = build_graph(pipeline), build_graph(after)
    removed = set(pipeline.tasks) - set(after.tasks)

    needed = set(select) | {a for s in select for a in nx.ancestors(before_graph, s)}
    never = {a.task for a in result.actions if a.warning}
    left_out = {a.task for a in result.actions if a.pass_name == "select"}
    assert removed == never | left_out
    assert not (left_out & needed)
    if select:
        assert set(after.tasks) <= needed

    reach_before, reach_after = _reach(before_graph), _reach(after_graph)
    for task_id in after.tasks:
        assert reach_before[task_id] & set(after.tasks) == reach_after[task_id], task_id

    producers = {a: t for t, task in after.tasks.items() for a in task.produces}
    for task_id, task in after.tasks.items():
        for artifact in task.consumes:
            if artifact in producers:
                assert producers[artifact] in nx.ancestors(after_graph, task_id)

    again = optimize(after, 1)
    assert not again.actions and again.pipeline == after


def test_redundant_after_edges_go_and_data_edges_stay() -> None:
    data = {"name": "p", "artifacts": {"x": "x.txt"}, "tasks": {
        "a": {"command": "echo", "produces": ["x"]},
        "b": {"command": "echo", "after": ["a"]},
        "c": {"command": "echo", "after": ["a", "b"], "consumes": ["x"]},
        "d": {"command": "echo", "after": ["a", "b"]},
        "e": {"command": "echo", "after": ["a", "b"], "trigger_rule": "one_failed"},
    }}
    result = optimize(fold_defaults(load_data(data).pipeline))
    tasks = result.pipeline.tasks
    assert tasks["c"].after == ["a", "b"]  # a -> c also carries x: kept (only `after`-only edges go)
    assert tasks["d"].after == ["b"]
    assert tasks["e"].after == ["a", "b"]  # a trigger rule reads each upstream's state: kept
    assert [a.task for a in result.actions] == ["d"]


def test_level_zero_changes_nothing() -> None:
    data = {"name": "p", "tasks": {"a": {"command": "echo"}, "b": {"command": "echo", "after": ["a"]},
                                   "c": {"command": "echo", "after": ["a", "b"], "when": "1 > 2"}}}
    pipeline = fold_defaults(load_data(data).pipeline)
    result = optimize(pipeline, 0)
    assert result.pipeline == pipeline and not result.actions


PLAN_PIPELINE = """\
name: o
params: {n: 1}
tasks:
  a: {command: "echo a"}
  b: {command: "echo b", after: [a]}
  c: {command: "echo c", after: [a, b]}
  d: {command: "echo d", when: "1 > 2", after: [c]}
  f: {command: "echo f", after: [d], trigger_rule: all_done}
"""


def test_plan_and_select_through_the_cli(cli, tmp_path) -> None:
    source = tmp_path / "o.yaml"
    source.write_text(PLAN_PIPELINE, encoding="utf-8")
    plan = cli("plan", str(source))
    assert plan.exit_code == 0, plan.stderr
    assert "tasks: 5 -> 4; edges: 5 -> 3" in plan.stdout
    assert "warning: task 'd' can never run" in plan.stdout and "'c' after 'a': implied" in plan.stdout
    assert plan.stdout.count("```mermaid") == 2
    compiled = cli("compile", str(source), "-t", "airflow", "-o", str(tmp_path / "out"), "--select", "b")
    assert compiled.exit_code == 0, compiled.stdout
    dag = (tmp_path / "out" / "o.py").read_text(encoding="utf-8")
    assert 'task_id="b"' in dag and 'task_id="c"' not in dag
    unknown = cli("compile", str(source), "-t", "airflow", "-o", str(tmp_path / "x"), "--select", "zz")
    assert unknown.exit_code == 1 and "E501" in unknown.stdout and not (tmp_path / "x").exists()
