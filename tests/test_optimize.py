"""The optimizer never changes what a pipeline means (compiler/passes/optimize.py). Hypothesis draws valid
random DAGs of up to a few hundred tasks with order edges, artifacts, value outputs, conditions
(on literals and on params), trigger rules, fan-outs and duplicated tasks; after optimizing at -O1
and at -O2 (with a target's cost model, so chains fuse):
- every pair of remaining tasks keeps its order constraint, and gains none (reachability in the
  graph, with merged tasks read as the task that now does their work);
- every artifact is still produced before it is consumed, every value read after it is made;
- only tasks that can never run are removed (and, with --select, what the selection does not need,
  which is never a task a selected one needs); merged tasks live on in the task they merged into;
- a second run changes nothing (idempotent).
"""

from __future__ import annotations

import subprocess

import networkx as nx
import pytest
from helpers import check_data, load_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.backends.base import TaskCost
from compiler.compile import fold_defaults
from compiler.language.graph import build_graph
from compiler.passes.analysis import critical_path, widest_level
from compiler.passes.optimize import optimize

CONDITIONS = ["1 > 2", "2 >= 1", "true", "not true", "'a' == 'b'", "params.p > 1", "params.p == 3 and 1 < 2"]
RULES = ["all_success", "all_success", "all_success", "all_done", "one_failed", "none_failed", "one_success"]
POD_PER_TASK = TaskCost(5.0, "a pod per task")


@st.composite
def pipelines(draw) -> dict:
    size = draw(st.integers(2, 300))
    tasks: dict[str, dict] = {}
    artifacts: dict[str, str] = {}
    for index in range(size):
        earlier = list(range(index))
        if earlier and draw(st.integers(0, 7)) == 0:  # a duplicate of an earlier task (if it makes nothing)
            twin = dict(tasks[f"t{draw(st.sampled_from(earlier))}"])
            if "produces" not in twin:
                tasks[f"t{index}"] = twin
                continue
        task: dict = {"command": f"echo {index}"}
        if earlier:
            # mostly the task just before: long chains, which -O2 fuses
            after = [index - 1] if draw(st.booleans()) else draw(st.lists(st.sampled_from(earlier), max_size=4,
                                                                          unique=True))
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
        if draw(st.integers(0, 5)) == 0:
            task["outputs"] = {"v": "str"}
            task["command"] += " > ${{ outputs.v }}"
        if draw(st.integers(0, 5)) == 0:
            task["when"] = draw(st.sampled_from(CONDITIONS))
        if draw(st.integers(0, 2)) == 0:
            task["trigger_rule"] = draw(st.sampled_from(RULES))
        if draw(st.integers(0, 8)) == 0 and "outputs" not in task:
            task["foreach"] = [1, 2]
        if draw(st.integers(0, 4)) == 0:
            task["estimate"] = draw(st.sampled_from(["1s", "30s", "2m", "1h"]))
        tasks[f"t{index}"] = task
    return {"name": "random", "params": {"p": 3}, "artifacts": artifacts, "tasks": tasks}


def _reach(graph: nx.DiGraph) -> dict[str, set[str]]:
    return {node: nx.descendants(graph, node) for node in graph}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=pipelines(), select_count=st.integers(0, 2), level=st.sampled_from([1, 2]))
def test_optimizing_keeps_the_meaning(data: dict, select_count: int, level: int) -> None:
    diagnostics = check_data(data)
    assert not diagnostics.has_errors, [d.message for d in diagnostics]
    pipeline = fold_defaults(load_data(data).pipeline)
    select = sorted(pipeline.tasks)[-select_count:] if select_count else []
    result = optimize(pipeline, level, select, POD_PER_TASK)
    after = result.pipeline
    before_graph, after_graph = build_graph(pipeline), build_graph(after)
    stands_for = result.stands_for()

    needed = set(select) | {a for s in select for a in nx.ancestors(before_graph, s)}
    never = {a.task for a in result.actions if a.warning}
    left_out = {a.task for a in result.actions if a.pass_name == "select"}
    merged = {t for t in stands_for if t in pipeline.tasks}
    assert set(pipeline.tasks) - set(after.tasks) == never | left_out | merged
    assert not (left_out & needed) and not (never & merged)
    assert all(stands_for[t] in after.tasks for t in merged)
    if select:
        assert {stands_for.get(t, t) for t in set(pipeline.tasks) - never - left_out} <= set(after.tasks)
        assert not (left_out & needed)
    if level == 1:
        assert not merged

    # Order: each surviving original task is its representative; orders hold both ways.
    kept = [t for t in pipeline.tasks if t not in never | left_out]
    rep = {t: stands_for.get(t, t) for t in kept}
    reach_before, reach_after = _reach(before_graph), _reach(after_graph)
    for u in kept:
        for v in reach_before[u]:
            if v in rep and rep[u] != rep[v]:
                assert rep[v] in reach_after[rep[u]], (u, v)
    groups: dict[str, list[str]] = {}
    for task_id, representative in rep.items():
        groups.setdefault(representative, []).append(task_id)
    # A fused chain starts with its head and ends with its tail; identical tasks are each both.
    heads = {x: [t for t in group if not any(t in reach_before[o] for o in group)] for x, group in groups.items()}
    tails = {x: [t for t in group if not any(o in reach_before[t] for o in group)] for x, group in groups.items()}
    for x in after.tasks:
        for y in reach_after[x]:
            assert any(h in reach_before[t] for t in tails[x] for h in heads[y]), f"new order {x} -> {y}"

    assert all(u in after.tasks for task in after.tasks.values() for u in task.after)
    producers = {a: t for t, task in after.tasks.items() for a in task.produces}
    for task_id, task in after.tasks.items():
        for artifact in task.consumes:
            if artifact in producers:
                assert producers[artifact] in nx.ancestors(after_graph, task_id)
        for ref_task in [r.task for _, r in _refs(task)]:
            assert ref_task in nx.ancestors(after_graph, task_id)

    again = optimize(after, level, cost=POD_PER_TASK)
    assert not again.actions and again.pipeline == after


def _refs(task):
    from compiler.language.references import task_refs

    return [(path, ref) for path, ref in task_refs(task) if ref.kind == "task_output"]


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
  a: {command: "echo a", estimate: 1m}
  b: {command: "echo b", after: [a]}
  c: {command: "echo c", after: [a, b]}
  d: {command: "echo d", when: "1 > 2", after: [c]}
  f: {command: "echo f", after: [d], trigger_rule: all_done, estimate: 30s}
"""


def test_plan_and_select_through_the_cli(cli, tmp_path) -> None:
    source = tmp_path / "o.yaml"
    source.write_text(PLAN_PIPELINE, encoding="utf-8")
    plan = cli("plan", str(source))
    assert plan.exit_code == 0, plan.stderr
    assert "- tasks: 5 -> 4\n- edges: 5 -> 3\n" in plan.stdout
    assert "- critical path: a -> b -> c -> f (estimated 1m30s, 4 tasks)" in plan.stdout
    assert "- widest level: 1 task can run at once (a)" in plan.stdout
    assert "warning: task 'd' can never run" in plan.stdout and "'c' after 'a': implied" in plan.stdout
    assert "'a' gets priority 90" in plan.stdout and "fuse_chains" not in plan.stdout
    assert plan.stdout.count("```mermaid") == 2
    fused = cli("plan", str(source), "-O2", "-t", "argo")
    assert fused.exit_code == 0 and "- tasks: 5 -> 3\n" in fused.stdout, fused.stdout  # f: all_done
    assert "[fuse_chains] b -> c run as one task 'b__c'" in fused.stdout  # a is not small: 1m > 10 x 5 s
    assert cli("plan", str(source), "-t", "nope").exit_code == 2
    compiled = cli("compile", str(source), "-t", "airflow", "-o", str(tmp_path / "out"), "--select", "b")
    assert compiled.exit_code == 0, compiled.stdout
    dag = (tmp_path / "out" / "o.py").read_text(encoding="utf-8")
    assert 'task_id="b"' in dag and 'task_id="c"' not in dag
    unknown = cli("compile", str(source), "-t", "airflow", "-o", str(tmp_path / "x"), "--select", "zz")
    assert unknown.exit_code == 1 and "E501" in unknown.stdout and not (tmp_path / "x").exists()


def _optimized(tasks: dict, level: int = 2, cost: TaskCost = POD_PER_TASK, **pipeline):
    data = {"name": "p", **pipeline, "tasks": tasks}
    assert not check_data(data).has_errors, [d.message for d in check_data(data)]
    return optimize(fold_defaults(load_data(data).pipeline), level, cost=cost)


def test_chains_fuse_only_where_the_target_pays_per_task_and_tasks_are_compatible() -> None:
    tasks = {
        "a": {"command": "echo a", "env": {"X": "1"}},
        "b": {"command": "echo b", "after": ["a"], "env": {"X": "1"}},
        "c": {"command": "echo c", "after": ["b"], "env": {"X": "2"}},  # other env: a chain ends here
        "d": {"command": "echo d", "after": ["c"], "env": {"X": "2"}},
        "e": {"command": "echo e", "after": ["d"], "env": {"X": "2"}, "retries": 2},
        "f": {"python": "m:f", "after": ["e"]},
    }
    result = _optimized(tasks)
    assert list(result.pipeline.tasks) == ["a__b", "c__d", "e", "f"]
    assert result.pipeline.tasks["e"].after == ["c__d"] and result.stands_for()["d"] == "c__d"
    assert _optimized(tasks, cost=TaskCost(0.0, "free")).pipeline.tasks.keys() == tasks.keys()
    assert _optimized(tasks, level=1).pipeline.tasks.keys() == tasks.keys()


@pytest.mark.parametrize("shell", ["sh", "bash"])
@pytest.mark.parametrize("commands, status", [
    (["echo one > log", "cd sub 2>/dev/null || mkdir sub; echo two >> log", "echo three >> log"], 0),
    (["echo one > log", "set -e; false; echo never >> log", "echo never >> log"], 1),
    (["echo one > log; exit 0", "echo two >> log; exit 7", "echo never >> log"], 7),
    (["set -u; echo one > log", "echo \"${UNSET-two}\" >> log", "echo 'it''s' \"$0\" # comment"], 0),
    (["cat > log <<'EOF'\nheredoc $HOME\nEOF", "f() { echo fn >> log; }; f"], 0),
])
def test_a_fused_chain_runs_each_part_as_it_ran_alone(tmp_path, shell: str, commands: list[str],
                                                      status: int) -> None:
    """The fused script leaves the same files and exit status as the parts run one by one, each in
    its own shell, stopping at the first failure (what the engines do with separate tasks)."""
    tasks = {f"t{i}": {"command": c, **({"after": [f"t{i - 1}"]} if i else {})} for i, c in enumerate(commands)}
    (fused,) = _optimized(tasks).pipeline.tasks.values()
    alone, together = tmp_path / "alone", tmp_path / "together"
    alone.mkdir(), together.mkdir()
    expected = 0
    for command in commands:
        expected = subprocess.run([shell, "-c", command], cwd=alone, check=False).returncode
        if expected:
            break
    actual = subprocess.run([shell, "-c", fused.command], cwd=together, capture_output=True, text=True, check=False)
    assert (actual.returncode, expected) == (status, status)
    assert (together / "log").read_bytes() == (alone / "log").read_bytes()
    assert "dagshift: t0 (1 of" in actual.stderr  # the parts' names are in the log


@pytest.mark.parametrize("command, fused", [
    ("cat > log <<EOF\nhello", False),
    ("cat > log <<'END'\nhello\nEND", True),
    ("cat > log <<-END\n\thello\n\tEND", True),
    ("cat > log <<-END\n\thello\n  END", False),
    ("cat <<<word > log", True),
    ("cat > log <<A; cat >> log <<B\na\nA\nb", False),
])
def test_a_heredoc_without_its_end_line_is_not_fused(tmp_path, command: str, fused: bool) -> None:
    """Bash reads an open heredoc to the end of the script: fused, it would swallow the parts after."""
    tasks = {"a": {"command": command}, "b": {"command": "echo b >> log", "after": ["a"]}}
    result = _optimized(tasks).pipeline.tasks
    assert (len(result) == 1) is fused
    if fused:
        (only,) = result.values()
        run = subprocess.run(["bash", "-c", only.command], cwd=tmp_path, capture_output=True, text=True)
        assert run.returncode == 0 and (tmp_path / "log").read_text().endswith("b\n"), run.stderr


def test_identical_tasks_run_once_and_readers_follow() -> None:
    tasks = {
        "a": {"command": "echo ${{ outputs.v }}", "outputs": {"v": "str"}},
        "b": {"command": "echo ${{ outputs.v }}", "outputs": {"v": "str"}, "description": "same"},
        "c": {"command": "echo ${{ tasks.b.outputs.v }} $${{ tasks.b.outputs.v }}", "when": "tasks.b.outputs.v == 'x'"},
        "d": {"command": "echo ${{ tasks.a.outputs.v }} $${{ tasks.b.outputs.v }}", "when": "tasks.a.outputs.v == 'x'"},
        "e": {"command": "echo e", "else_of": "c", "after": ["b"]},
    }
    result = _optimized(tasks, cost=TaskCost(0.0, "free"))
    assert list(result.pipeline.tasks) == ["a", "c", "e"]  # b is a; then c and d are the same too
    c = result.pipeline.tasks["c"]
    assert c.command == "echo ${{ tasks.a.outputs.v }} $${{ tasks.b.outputs.v }}"  # the escape stays literal
    assert c.when == "tasks.a.outputs.v == 'x'"
    assert result.pipeline.tasks["e"].after == ["a"] and result.pipeline.tasks["e"].else_of == "c"
    assert result.stands_for() == {"b": "a", "d": "c"}


def test_critical_path_priorities_and_widest_level() -> None:
    tasks = {
        "load": {"command": "echo", "estimate": "1m"},
        "slow": {"command": "echo", "after": ["load"], "estimate": "10m"},
        "quick": {"command": "echo", "after": ["load"], "estimate": "10s"},
        "other": {"command": "echo", "after": ["load"]},
        "join": {"command": "echo", "after": ["slow", "quick", "other"], "estimate": "5s", "priority": 3},
    }
    result = _optimized(tasks, level=1)
    priorities = {t: task.priority for t, task in result.pipeline.tasks.items()}
    assert priorities == {"load": 665, "slow": 605, "quick": 15, "other": 5, "join": 3}  # join: as written
    assert critical_path(result.pipeline) == (["load", "slow", "join"], 665.0)
    assert widest_level(result.pipeline) == ["slow", "quick", "other"]
    no_estimates = _optimized({"a": {"command": "echo"}}, level=1)
    assert no_estimates.pipeline.tasks["a"].priority is None and not no_estimates.actions


def test_fused_names_never_collide_on_any_target() -> None:
    tasks = {"a": {"command": "echo"}, "b": {"command": "echo", "after": ["a"]},
             "A-B": {"command": "echo ab", "after": ["b"], "retries": 1}}
    assert list(_optimized(tasks).pipeline.tasks) == ["a__b", "A-B"]
    taken = {"a": {"command": "echo"}, "b": {"command": "echo", "after": ["a"]},
             "a--b": {"command": "echo ab", "after": ["b"], "retries": 1}}  # what a__b is on Argo
    assert list(_optimized(taken).pipeline.tasks) == ["a__b_2", "a--b"]
