"""Conditions in a flow body as dagshift `when:` text, and the task references in a task."""

from __future__ import annotations

import ast
import re
from typing import Any

from .. import conditions
from ..backends.specs import condition_code
from ..placeholders import Ref
from .prefect_values import call_name, literal


def parses(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
        return True
    except SyntaxError:
        return False


def generated_ref_code(ref: Ref) -> str:
    if ref.kind == "param":
        return f"_params[{ref.name!r}]"
    return f"_result(_futures, {ref.task!r})[{ref.name!r}]"


def same_condition(text: str, expr: ast.expr) -> bool:
    """Whether the condition text compiles to this lambda body (mapped sources compile to a list
    comprehension: those are compared without the task-kind detail)."""
    try:
        parsed = conditions.parse(text)
    except conditions.ConditionError:
        return False
    expected = ast.dump(ast.parse(condition_code(parsed, generated_ref_code), mode="eval").body)
    found = ast.dump(expr)
    if expected == found:
        return True
    mapped = re.sub(r"ListComp\(.*?generators=\[comprehension\(target=Name\(id='r', ctx=Store\(\)\), iter=",
                    "", found)
    return text_of(expected) == text_of(mapped)


def text_of(dump: str) -> str:
    return re.sub(r"\W", "", dump)


def condition_text(expr: ast.expr) -> str | None:
    """A Python expression over _params / _result (or flow params, for hand-written flows) as
    a dagshift condition, or None when it has no equivalent."""
    if isinstance(expr, ast.BoolOp):
        parts = [condition_text(v) for v in expr.values]
        if None in parts:
            return None
        joined = f" {'and' if isinstance(expr.op, ast.And) else 'or'} ".join(parts)
        return f"({joined})"
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        inner = condition_text(expr.operand)
        return None if inner is None else f"not {inner}"
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        ops = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
        op = ops.get(type(expr.ops[0]))
        left, right = condition_text(expr.left), condition_text(expr.comparators[0])
        if op is None or left is None or right is None:
            return None
        return f"{left} {op} {right}"
    if isinstance(expr, ast.Constant):
        if isinstance(expr.value, bool):
            return "true" if expr.value else "false"
        if isinstance(expr.value, (int, float)):
            return repr(expr.value)
        if isinstance(expr.value, str) and "'" not in expr.value:
            return f"'{expr.value}'"
        return None
    if isinstance(expr, ast.Subscript):
        key = literal(expr.slice)
        base = expr.value
        if isinstance(base, ast.Name) and base.id == "_params" and isinstance(key, str):
            return f"params.{key}"
        if call_name(base) == "_result" and len(base.args) == 2 and isinstance(key, str):
            task = literal(base.args[1])
            return f"tasks.{task}.outputs.{key}" if isinstance(task, str) else None
    if isinstance(expr, ast.ListComp) and call_name(expr.generators[0].iter) == "_result":
        key = literal(expr.elt.slice) if isinstance(expr.elt, ast.Subscript) else None
        task = literal(expr.generators[0].iter.args[1])
        return f"tasks.{task}.outputs.{key}" if isinstance(task, str) and isinstance(key, str) else None
    if isinstance(expr, ast.Name):
        return f"params.{expr.id}"  # hand-written flows: a flow parameter (checked by the caller)
    return None


def refs_in(task: dict[str, Any]) -> list[Ref]:
    from ..backends.specs import refs_in

    found: list[Ref] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.extend(refs_in(value))
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    for key in ("command", "args", "env", "foreach"):
        walk(task.get(key))
    return found



def and_when(left: str | None, right: str | None) -> str | None:
    if left and right:
        return f"({left}) and ({right})"
    return left or right

