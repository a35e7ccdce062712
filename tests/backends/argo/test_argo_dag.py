"""The emitted Argo DAG means what the pipeline means: for every example, the tasks, the `depends`
expressions (graph and trigger rules), the `when` conditions and the fan-outs of the compiled
workflow, read the way Argo reads them (argo_model.py), equal the IR's."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from argo_model import dag_tasks, depends_holds, depends_names, evaluate_when, load, main_spec, templates

from compiler.api import check_file
from compiler.backends.specs import as_text
from compiler.compile import fold_defaults
from compiler.language.conditions import BoolOp, Compare, Literal, Not, RefOperand, references
from compiler.language.graph import build_graph
from compiler.language.ir import TriggerRule, ValueType
from compiler.language.naming import dns_name
from compiler.language.references import parsed_when

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def compiled(cli, example: Path, tmp_path: Path) -> list[dict]:
    # -O0: the backend against the pipeline as written (the optimizer has its own tests)
    result = cli("compile", str(example), "-t", "argo", "-O0", "-o", str(tmp_path), "-q")
    assert result.exit_code == 0, result.stdout + result.stderr
    return [doc for path in sorted(tmp_path.glob("*.yaml")) for doc in load(path.read_text(encoding="utf-8"))]


def pipeline_of(example: Path):
    checked = check_file(example)
    assert checked.pipeline is not None
    return fold_defaults(checked.pipeline)


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_dag_equals_the_pipeline(cli, example: Path, tmp_path: Path) -> None:
    check_dag(cli, example, tmp_path)


RULES = """
name: rules
params: {n: 3, mode: fast, on: true, ratio: 0.5}
tasks:
  a: {command: "echo 3 > ${{ outputs.x }}", outputs: {x: int}}
  b: {command: "echo b", when: "tasks.a.outputs.x > params.n and not params.on"}
  c: {command: "echo c", else_of: b}
  d: {command: "echo d", when: "params.mode == '{{x}} }}' or params.ratio <= 0.25"}
  all_success: {command: "echo", after: [a, b, d]}
  all_done: {command: "echo", after: [a, b], trigger_rule: all_done}
  all_failed: {command: "echo", after: [a, b, c], trigger_rule: all_failed}
  one_failed: {command: "echo", after: [b, d], trigger_rule: one_failed}
  one_success: {command: "echo", after: [a, c], trigger_rule: one_success}
  none_failed: {command: "echo", after: [a, b, c, d], trigger_rule: none_failed}
"""


def test_every_trigger_rule_after_branches(cli, tmp_path: Path) -> None:
    source = tmp_path / "rules.yaml"
    source.write_text(RULES, encoding="utf-8")
    check_dag(cli, source, tmp_path / "out")


def check_dag(cli, example: Path, tmp_path: Path) -> None:
    pipeline = pipeline_of(example)
    graph = build_graph(pipeline)
    spec = main_spec(compiled(cli, example, tmp_path))
    tasks = dag_tasks(spec)
    by_name = {dns_name(task_id): task_id for task_id in pipeline.tasks}
    assert set(tasks) == set(by_name)
    for name, dag_task in tasks.items():
        task_id = by_name[name]
        task = pipeline.tasks[task_id]
        assert dag_task["template"] in templates(spec)
        upstream = {dns_name(u) for u in graph.predecessors(task_id)}
        assert depends_names(dag_task.get("depends", "")) == upstream, task_id
        if upstream:
            _check_trigger_rule(dag_task["depends"], task.trigger_rule, upstream,
                                skippable={dns_name(u) for u in graph.predecessors(task_id)
                                           if pipeline.tasks[u].when or pipeline.tasks[u].else_of})
        _check_fan_out(dag_task, task)
        _check_condition(dag_task, pipeline, task_id)


def _check_trigger_rule(depends: str, rule: TriggerRule, upstream: set[str], skippable: set[str]) -> None:
    """Every combination of direct upstream outcomes: Argo runs the task exactly when the rule
    (docs/pipeline-syntax.md "Trigger rules") says so. A task can be Skipped only by its own `when`."""
    names = sorted(upstream)
    choices = [("Succeeded", "Failed", "Skipped") if n in skippable else ("Succeeded", "Failed") for n in names]
    for outcome in itertools.product(*choices):
        states = dict(zip(names, outcome))
        values = list(states.values())
        expected = {
            TriggerRule.ALL_SUCCESS: all(v == "Succeeded" for v in values),
            TriggerRule.ALL_DONE: True,
            TriggerRule.ALL_FAILED: all(v == "Failed" for v in values),
            TriggerRule.ONE_FAILED: any(v == "Failed" for v in values),
            TriggerRule.ONE_SUCCESS: any(v == "Succeeded" for v in values),
            TriggerRule.NONE_FAILED: not any(v == "Failed" for v in values),
        }[rule]
        assert depends_holds(depends, states) == expected, (depends, rule, states)


def _check_fan_out(dag_task: dict, task) -> None:
    if task.foreach is None:
        assert "withItems" not in dag_task and "withParam" not in dag_task
    elif isinstance(task.foreach, list):
        assert dag_task["withItems"] == task.foreach
    else:
        inner = task.foreach.strip()[3:-2].strip()  # ${{ X }} -> X
        if inner.startswith("params."):
            assert dag_task["withParam"] == "{{workflow.parameters.%s}}" % inner.split(".", 1)[1]
        else:
            _, upstream, _, output = inner.split(".")
            assert dag_task["withParam"] == "{{tasks.%s.outputs.parameters.%s}}" % (dns_name(upstream), output)


def _check_condition(dag_task: dict, pipeline, task_id: str) -> None:
    task = pipeline.tasks[task_id]
    source = task if task.when else pipeline.tasks[task.else_of] if task.else_of else None
    if source is None:
        assert "when" not in dag_task
        return
    expr = parsed_when(source)
    rng = random.Random(task_id)
    for _ in range(200):
        values = {}
        for operand in references(expr):
            ref = operand.ref
            value_type = (pipeline.params[ref.name].value_type if ref.kind == "param"
                          else pipeline.tasks[ref.task].outputs[ref.name].type)
            values[str(ref)] = _draw(rng, value_type, expr)
        meant = _evaluate(expr, values)
        if task.else_of:
            meant = not meant

        def lookup(path: tuple[str, ...]) -> str:
            if path[:2] == ("workflow", "parameters"):
                return as_text(values[f"params.{path[2]}"])
            assert path[0] == "tasks" and path[2:4] == ("outputs", "parameters"), path
            original = next(t for t in pipeline.tasks if dns_name(t) == path[1])
            return as_text(values[f"tasks.{original}.outputs.{path[4]}"])

        assert evaluate_when(dag_task["when"], lookup) == meant, (dag_task["when"], values)


def _literals(expr):
    if isinstance(expr, Literal):
        yield expr.value
    elif isinstance(expr, Compare):
        yield from _literals(expr.left)
        yield from _literals(expr.right)
    elif isinstance(expr, Not):
        yield from _literals(expr.operand)
    elif isinstance(expr, BoolOp):
        for operand in expr.operands:
            yield from _literals(operand)


def _draw(rng: random.Random, value_type: ValueType, expr):
    """A value of the type, often equal or close to a literal of the condition (the edges matter)."""
    literals = list(_literals(expr))
    if value_type is ValueType.BOOL:
        return rng.random() < 0.5
    if value_type is ValueType.STR:
        pool = [v for v in literals if isinstance(v, str)] + ["", "x", "it's", "{{a}}"]
        return rng.choice(pool)
    numbers = [v for v in literals if isinstance(v, (int, float)) and not isinstance(v, bool)] or [0]
    base = rng.choice(numbers)
    if value_type is ValueType.INT:
        return int(base) + rng.choice([-1, 0, 0, 1])
    return round(base + rng.choice([-0.01, 0, 0, 0.01, rng.uniform(-1, 1)]), 6)


def _evaluate(expr, values):
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, RefOperand):
        return values[str(expr.ref)]
    if isinstance(expr, Not):
        return not _evaluate(expr.operand, values)
    if isinstance(expr, BoolOp):
        results = [_evaluate(o, values) for o in expr.operands]
        return all(results) if expr.op == "and" else any(results)
    left, right = _evaluate(expr.left, values), _evaluate(expr.right, values)
    return {"==": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
            ">": left > right, ">=": left >= right}[expr.op]


def test_model_reads_a_misplaced_dependency(cli, tmp_path: Path) -> None:
    """The check can fail: a depends naming the wrong task is seen as a different graph."""
    assert depends_names("a && b.Succeeded") == {"a", "b"}
    assert depends_holds("a", {"a": "Skipped"}) and not depends_holds("a.Succeeded", {"a": "Skipped"})
    assert json.dumps(sorted(depends_names("(x.Failed || x.Errored) && y"))) == '["x", "y"]'


@pytest.mark.parametrize("level", ["-O1", "-O2"])
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_template_a_workflow_names_is_in_it(cli, example: Path, tmp_path: Path, level: str) -> None:
    """Every `template:` a dag task or step names, and the entrypoint and onExit, is defined in
    the same spec (Argo fails the run on a missing one; the schema cannot tell)."""
    result = cli("compile", str(example), "-t", "argo", level, "-o", str(tmp_path), "-q")
    if result.exit_code != 0:
        return  # the backend cannot express it (golden diagnostics.txt pins why)
    for path in sorted(tmp_path.glob("*.yaml")):
        for doc in load(path.read_text(encoding="utf-8")):
            spec = (doc.get("spec") or {}).get("workflowSpec") or doc.get("spec") or {}
            if "templates" not in spec:
                continue
            defined = {template["name"] for template in spec["templates"]}
            named = {spec.get("entrypoint"), spec.get("onExit")} - {None}
            for template in spec["templates"]:
                named |= {task["template"] for task in (template.get("dag") or {}).get("tasks", [])}
                named |= {step["template"] for group in template.get("steps") or [] for step in group}
            assert named <= defined, f"{path.name}: undefined templates {sorted(named - defined)}"
