"""TaskFlow results passed from task to task in hand-written DAG files, read as value outputs.

Airflow hands a TaskFlow task's return value (its XComArg) to the tasks that take it as an
argument or are mapped over it (`train.expand(model=list_models())`). dagshift says the same with
a value output: the upstream task declares `outputs: {return_value: TYPE}` (Airflow's XCom key),
a reader passes `${{ tasks.ID.outputs.return_value }}`, and a mapped task has `foreach:` over it.
A python task with one output returns the function's value, checked against TYPE when it runs,
so the type must be known: from the function's return annotation, else from its literal returns;
a list a task is mapped over is a list (Airflow maps over lists and dicts; a dict is a loss).

A `@task.branch` whose function returns, on every path, the id of one of its direct downstream
tasks as a literal string is a condition: the branch stays a python task returning the chosen id
(`return_value: str`), and each downstream task runs `when` it is the one returned (of two, the
second is the first's `else_of`). That is what Airflow does: it skips the ones not returned.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field

from .scan import Found, FoundDag
from .values import dotted

RETURN_VALUE = "return_value"  # Airflow's XCom key of a task's return value
# TaskFlow tasks the importer reads as python tasks calling the function: their return value is
# the function's (a @task.bash returns its command, a @task.short_circuit a flag Airflow acts on).
_PYTHON_TASKFLOW = {"task", "task.python", "task.virtualenv", "task.external_python", "task.branch"}
_VALUE_TYPES = ("str", "int", "float", "bool", "list", "dict")
_TYPING_ALIASES = {"List": "list", "Dict": "dict"}


@dataclass
class Results:
    """The return values a DAG's tasks pass each other, as far as dagshift can carry them."""

    types: dict[str, str] = field(default_factory=dict)  # task id -> type of the value another task reads
    mapped: set[str] = field(default_factory=set)  # ids of mapped tasks (their value is a list of results)
    branches: dict[str, list[str]] = field(default_factory=dict)  # @task.branch id -> the tasks it chooses from

    def maps_over(self, upstream: str) -> bool:
        """Whether a task can be mapped over this task's value: a list, or the results of a mapped task."""
        return upstream in self.types and (self.types[upstream] == "list" or upstream in self.mapped)


def takes_arguments(found: Found) -> bool:
    """TaskFlow tasks imported as python tasks calling the function with the call's arguments."""
    return found.cls.startswith("task") and found.cls != "task.bash"


def output_ref(task_id: str) -> str:
    return f"${{{{ tasks.{task_id}.outputs.{RETURN_VALUE} }}}}"


def read_results(dag: FoundDag) -> Results:
    """Which tasks' return values other tasks read (and their types), and the branches read as conditions."""
    branches = _carried_branches(dag)
    mapped = {task_id for task_id, found in dag.tasks.items() if found.expand is not None}
    results = Results({task_id: "str" for task_id in branches}, mapped, branches)  # str: the id a branch chose
    # (upstream, mapped over): what TaskFlow python tasks take as arguments and what any task maps over
    reads = [
        (upstream, name in (reader.expand or {}))
        for reader in dag.tasks.values()
        for name, upstream in reader.xcoms.items()
        if name in (reader.expand or {}) or takes_arguments(reader)
    ]
    mapped_over = {upstream for upstream, mapped_read in reads if mapped_read}
    for upstream, mapped_read in reads:
        kind = _value_type(dag.tasks.get(upstream), upstream in mapped_over)
        if kind is not None and (not mapped_read or kind == "list" or upstream in mapped):
            results.types.setdefault(upstream, kind)  # otherwise the reader reports the loss
    return results


def branch_condition(branch_id: str, chosen: str) -> str:
    """`when` of a task a @task.branch chose: the branch returned its (Airflow) task id."""
    from compiler.language import conditions
    from compiler.language.placeholders import Ref

    returned = conditions.RefOperand(Ref("task_output", RETURN_VALUE, branch_id), 0)
    return conditions.render(conditions.Compare("==", returned, conditions.Literal(chosen)))


# ----------------------------------------------------------------------------- types


def _value_type(found: Found | None, mapped_over: bool) -> str | None:
    """The type of a TaskFlow task's return value, when static analysis can tell it."""
    if found is None or found.function is None or found.cls not in _PYTHON_TASKFLOW:
        return None
    kind = _annotated_type(found.function.returns) or _literal_return_type(found.function)
    if kind is None and mapped_over and found.expand is None:
        return "list"  # Airflow maps over nothing else but a dict, which an annotation says
    return kind


def _annotated_type(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted annotation
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(node, ast.Subscript):  # list[str], Dict[str, int]
        node = node.value
    name = (dotted(node) or "").rsplit(".", 1)[-1] if node is not None else ""
    name = _TYPING_ALIASES.get(name, name)
    return name if name in _VALUE_TYPES else None


def _literal_return_type(function: ast.FunctionDef) -> str | None:
    """The type every return of the function has, when each returns a literal (`return ["a"]`)."""
    returns = _returns(function)
    if not returns or not _always_returns(function.body):
        return None
    kinds = {_literal_type(node.value) for node in returns}
    if kinds == {"int", "float"}:
        return "float"
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


def _literal_type(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and node.value is not None:
        kind = type(node.value).__name__
        return kind if kind in ("str", "int", "float", "bool") else None
    if isinstance(node, ast.JoinedStr):
        return "str"
    if isinstance(node, (ast.List, ast.ListComp)):
        return "list"
    if isinstance(node, (ast.Dict, ast.DictComp)):
        return "dict"
    return None


def _returns(function: ast.FunctionDef) -> list[ast.Return]:
    """The function's own return statements (not those of functions defined in it)."""
    found: list[ast.Return] = []
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _always_returns(body: list[ast.stmt]) -> bool:
    """No path falls off the end (which would return None). Conservative: if/else, return, raise."""
    last = body[-1] if body else None
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return bool(last.orelse) and _always_returns(last.body) and _always_returns(last.orelse)
    return False


# ----------------------------------------------------------------------------- branches


def _carried_branches(dag: FoundDag) -> dict[str, list[str]]:
    """@task.branch tasks that read as conditions, with the downstream tasks they choose from.
    A task two branches choose from is left to the loss: one `when` cannot say both."""
    chosen = {
        task_id: targets
        for task_id, found in dag.tasks.items()
        if (targets := _branch_targets(dag, task_id, found)) is not None
    }
    claims = Counter(target for targets in chosen.values() for target in targets)
    return {task_id: targets for task_id, targets in chosen.items() if all(claims[t] == 1 for t in targets)}


def _branch_targets(dag: FoundDag, task_id: str, found: Found) -> list[str] | None:
    if found.cls != "task.branch" or found.function is None or found.expand is not None:
        return None
    returned = _returned_ids(found.function)
    downstream = list(dict.fromkeys(down for up, down, _ in dag.edges if up == task_id))
    if returned is None or not returned <= set(downstream):
        return None
    return downstream


def _returned_ids(function: ast.FunctionDef) -> set[str] | None:
    """The task ids the function returns, when every path returns one as a literal string."""
    returns = _returns(function)
    if not returns or not _always_returns(function.body):
        return None
    values = [node.value.value if isinstance(node.value, ast.Constant) else None for node in returns]
    return set(values) if all(isinstance(value, str) for value in values) else None
