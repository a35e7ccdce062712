"""Constant conditions (-O1): a `when` that reads no param and no upstream value is decided now. A task
whose condition is always true loses it; a task whose condition is always false (or the else branch
of an always-true one) can never run and is removed with a warning, and so is what could only run
after it. Params are never folded: they can be overridden at run time."""

from __future__ import annotations

from compiler.backends.base import TaskCost
from compiler.language import conditions
from compiler.language.graph import build_graph, topological_order
from compiler.language.ir import Pipeline, TriggerRule
from compiler.language.references import parsed_when

from .action import Action
from .remove import without


def fold_constant_conditions(pipeline: Pipeline, cost: TaskCost) -> tuple[Pipeline, list[Action]]:
    actions: list[Action] = []
    never: set[str] = set()
    tasks = dict(pipeline.tasks)
    else_branches: dict[str, list[str]] = {}
    for task_id, task in pipeline.tasks.items():
        if task.else_of is not None:
            else_branches.setdefault(task.else_of, []).append(task_id)
    for task_id, task in pipeline.tasks.items():
        expr = parsed_when(task)
        if expr is None or list(conditions.references(expr)):
            continue
        if _constant(expr):
            tasks[task_id] = task.model_copy(update={"when": None})
            actions.append(
                Action(
                    "fold_constant_conditions", f"the condition of '{task_id}' is always true: it always runs", task_id
                )
            )
            never.update(else_branches.get(task_id, ()))
        else:
            never.add(task_id)
    if not never:
        return pipeline.model_copy(update={"tasks": tasks}), actions
    removed = _cannot_run(pipeline, never)
    for task_id in [t for t in pipeline.tasks if t in removed]:
        why = "its condition is always false" if task_id in never else "it could only run after a task that never runs"
        actions.append(
            Action(
                "fold_constant_conditions", f"task '{task_id}' can never run ({why}): removed", task_id, warning=True
            )
        )
    return without(pipeline.model_copy(update={"tasks": tasks}), removed), actions


def _constant(expr: conditions.Expr) -> bool:
    if isinstance(expr, conditions.Literal):
        return bool(expr.value)
    if isinstance(expr, conditions.Not):
        return not _constant(expr.operand)
    if isinstance(expr, conditions.BoolOp):
        values = [_constant(o) for o in expr.operands]
        return all(values) if expr.op == "and" else any(values)
    left, right = expr.left, expr.right
    assert isinstance(left, conditions.Literal) and isinstance(right, conditions.Literal)
    a, b = left.value, right.value
    try:
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[expr.op]
    except TypeError:  # the type check reports comparisons of unrelated types
        return False


def _cannot_run(pipeline: Pipeline, never: set[str]) -> set[str]:
    """The never-running tasks plus the all_success tasks that would only run after one of them."""
    graph = build_graph(pipeline)
    removed = set(never)
    for task_id in topological_order(graph):
        if task_id in removed:
            continue
        task = pipeline.tasks[task_id]
        upstream = set(graph.predecessors(task_id)) & removed
        reads_removed = any(graph.edges[u, task_id]["reasons"] != ("after",) for u in upstream)
        if upstream and (task.trigger_rule is TriggerRule.ALL_SUCCESS or reads_removed):
            removed.add(task_id)  # it would be skipped, or it reads what is never made
        elif task.else_of in removed:
            removed.add(task_id)
    return removed
