"""Conditions in a hand-written flow body as dagshift `when:` text, and the task references in a task."""

from __future__ import annotations

import ast
from typing import Any

from compiler.language.placeholders import Ref

# Python comparison operators as dagshift condition operators.
COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def condition_text(expr: ast.expr) -> str | None:
    """A Python expression over flow params (and, for the caller to map, values of direct calls)
    as a dagshift condition, or None when it has no equivalent."""
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
        op = COMPARISONS.get(type(expr.ops[0]))
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
    if isinstance(expr, ast.Name):
        return f"params.{expr.id}"  # hand-written flows: a flow parameter (checked by the caller)
    return None


def refs_in(task: dict[str, Any]) -> list[Ref]:
    from compiler.backends.specs import refs_in

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

