"""The graph optimizer: passes over a validated, defaults-folded pipeline that make it cheaper to
run without changing what it computes. Each pass is a small function in the ordered PASSES tuple;
it returns the new pipeline and records what it did as Actions, which `dagshift plan` shows.

Levels: 0 runs nothing; 1 (the default) runs only what can never change behaviour or task names:
- `drop_redundant_after`: an `after` edge implied by another path is removed (only for tasks with
  the all_success rule, whose upstream failures and skips reach them through that path anyway;
  edges carrying data, conditions or else_of are never touched);
- `fold_constant_conditions`: a `when` that reads no param and no upstream value is decided now;
  a task whose condition is always false (or the else branch of an always-true one) can never run
  and is removed with a warning, and so is what could only run after it.
Selecting tasks (`--select`) keeps those tasks and everything they need, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from . import conditions
from .graph import build_graph, topological_order
from .ir import Pipeline, Task, TriggerRule
from .references import parsed_when, task_refs


@dataclass(frozen=True)
class Action:
    pass_name: str
    message: str
    task: str | None = None
    warning: bool = False


@dataclass
class Optimized:
    pipeline: Pipeline
    actions: list[Action] = field(default_factory=list)


Pass = Callable[[Pipeline], tuple[Pipeline, list[Action]]]
LEVELS = (0, 1)


def optimize(pipeline: Pipeline, level: int = 1, select: Iterable[str] = ()) -> Optimized:
    result = Optimized(pipeline)
    selected = list(select)
    if selected:
        result.pipeline, actions = select_tasks(result.pipeline, selected)
        result.actions += actions
    for optimization_pass in PASSES[:_PASS_COUNT[level]]:
        result.pipeline, actions = optimization_pass(result.pipeline)
        result.actions += actions
    return result


# ----------------------------------------------------------------------------- passes


def fold_constant_conditions(pipeline: Pipeline) -> tuple[Pipeline, list[Action]]:
    actions: list[Action] = []
    never: set[str] = set()
    tasks = dict(pipeline.tasks)
    for task_id, task in pipeline.tasks.items():
        expr = parsed_when(task)
        if expr is None or list(conditions.references(expr)):
            continue
        if _constant(expr):
            tasks[task_id] = task.model_copy(update={"when": None})
            actions.append(Action("fold_constant_conditions", f"the condition of '{task_id}' is always true: "
                                                              "it always runs", task_id))
            never.update(t for t, other in pipeline.tasks.items() if other.else_of == task_id)
        else:
            never.add(task_id)
    if not never:
        return pipeline.model_copy(update={"tasks": tasks}), actions
    removed = _cannot_run(pipeline, never)
    for task_id in sorted(removed, key=list(pipeline.tasks).index):
        why = "its condition is always false" if task_id in never else "it could only run after a task that never runs"
        actions.append(Action("fold_constant_conditions", f"task '{task_id}' can never run ({why}): removed",
                              task_id, warning=True))
    return _without(pipeline.model_copy(update={"tasks": tasks}), removed), actions


def drop_redundant_after(pipeline: Pipeline) -> tuple[Pipeline, list[Action]]:
    graph = build_graph(pipeline)
    order = topological_order(graph)
    bit = {task_id: 1 << index for index, task_id in enumerate(order)}
    ancestors: dict[str, int] = {}
    for task_id in order:
        mask = 0
        for upstream in graph.predecessors(task_id):
            mask |= ancestors[upstream] | bit[upstream]
        ancestors[task_id] = mask
    tasks = dict(pipeline.tasks)
    actions: list[Action] = []
    for task_id, task in pipeline.tasks.items():
        if task.trigger_rule is not TriggerRule.ALL_SUCCESS or not task.after:
            continue
        keep = []
        for upstream in task.after:
            reasons = graph.edges[upstream, task_id]["reasons"] if graph.has_edge(upstream, task_id) else ()
            others = 0
            for other in graph.predecessors(task_id):
                if other != upstream:
                    others |= ancestors[other]
            if reasons == ("after",) and others & bit[upstream]:
                actions.append(Action("drop_redundant_after", f"'{task_id}' after '{upstream}': implied by another "
                                                              "path", task_id))
            else:
                keep.append(upstream)
        if len(keep) != len(task.after):
            tasks[task_id] = task.model_copy(update={"after": keep})
    return pipeline.model_copy(update={"tasks": tasks}), actions


def select_tasks(pipeline: Pipeline, selected: list[str]) -> tuple[Pipeline, list[Action]]:
    """Keep the selected tasks and what they need: their ancestors (and the tasks whose condition
    an else branch mirrors)."""
    graph = build_graph(pipeline)
    needed: set[str] = set()
    pending = [t for t in selected if t in pipeline.tasks]
    while pending:  # each task once: ancestors are added as needed, not searched again
        task_id = pending.pop()
        if task_id in needed:
            continue
        needed.add(task_id)
        pending.extend(graph.predecessors(task_id))
        else_of = pipeline.tasks[task_id].else_of
        if else_of is not None:
            pending.append(else_of)
    removed = set(pipeline.tasks) - needed
    actions = [Action("select", f"task '{t}' is not needed by the selected tasks: left out", t)
               for t in pipeline.tasks if t in removed]
    return _without(pipeline, removed), actions


def unused_outputs(pipeline: Pipeline) -> list[str]:
    """Tasks whose value outputs no task reads (artifacts are results in their own right)."""
    read = {(ref_task, name) for task in pipeline.tasks.values() for ref_task, name in _output_refs(task)}
    return [task_id for task_id, task in pipeline.tasks.items()
            if task.outputs and not any((task_id, name) in read for name in task.outputs)]


PASSES: tuple[Pass, ...] = (fold_constant_conditions, drop_redundant_after)
_PASS_COUNT = {0: 0, 1: 2}


# ----------------------------------------------------------------------------- helpers


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


def _without(pipeline: Pipeline, removed: set[str]) -> Pipeline:
    """The pipeline without `removed` tasks. A task that waited for a removed one now waits for
    what that one waited for, so every order between the remaining tasks holds."""
    if not removed:
        return pipeline
    graph = build_graph(pipeline)
    tasks: dict[str, Task] = {}
    for task_id, task in pipeline.tasks.items():
        if task_id in removed:
            continue
        after = [t for t in task.after if t not in removed]
        inherited: list[str] = []
        pending = [u for u in graph.predecessors(task_id) if u in removed]
        seen: set[str] = set()
        while pending:
            upstream = pending.pop()
            if upstream in seen:
                continue
            seen.add(upstream)
            for above in graph.predecessors(upstream):
                if above in removed:
                    pending.append(above)
                elif above not in after and not graph.has_edge(above, task_id) and above not in inherited:
                    inherited.append(above)
        after += sorted(inherited, key=list(pipeline.tasks).index)
        tasks[task_id] = task.model_copy(update={"after": after}) if after != task.after else task
    return pipeline.model_copy(update={"tasks": tasks})


def _output_refs(task: Task):
    for _, ref in task_refs(task):
        if ref.kind == "task_output":
            yield str(ref.task), str(ref.name)
