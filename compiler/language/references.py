"""Where a task mentions other parts of the pipeline: its placeholder-carrying texts and the
references in them. Used by the graph (edges) and by the validation passes (checks)."""

from __future__ import annotations

from typing import Iterator

from compiler.diagnostics import YamlPath

from . import conditions, placeholders
from .ir import Task
from .placeholders import Ref


def task_texts(task: Task) -> Iterator[tuple[YamlPath, str]]:
    """Every text of a task that may hold `${{ }}` placeholders, with its path under the task."""
    if isinstance(task.command, str):
        yield ("command",), task.command
    elif isinstance(task.command, list):
        for index, part in enumerate(task.command):
            yield ("command", index), part
    if task.args is not None:
        for path, text in placeholders.strings_in(task.args):
            yield ("args", *path), text
    for name, value in task.env.items():
        yield ("env", name), value
    if isinstance(task.foreach, str):  # a literal list holds no placeholder (E114)
        yield ("foreach",), task.foreach


def task_refs(task: Task) -> Iterator[tuple[YamlPath, Ref]]:
    """The well-formed references of a task, including those in its `when` condition."""
    for path, text in task_texts(task):
        for ref in placeholders.refs(text):
            yield path, ref
    condition = parsed_when(task)
    if condition is not None:
        for operand in conditions.references(condition):
            yield ("when",), operand.ref


def parsed_when(task: Task) -> conditions.Expr | None:
    if task.when is None:
        return None
    try:
        return conditions.parse(task.when)
    except conditions.ConditionError:
        return None


def upstream_tasks(task: Task) -> list[str]:
    """Ids of the tasks whose outputs this task references (in order, without repeats)."""
    seen: dict[str, None] = {}
    for _, ref in task_refs(task):
        if ref.kind == "task_output" and ref.task:
            seen.setdefault(ref.task)
    return list(seen)
