"""Static values of a Prefect flow module: literals read from the AST (never executed), the
names of decorators and calls, durations in seconds."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from typing import Any

TYPE_NAMES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "list": "list", "dict": "dict",
              "List": "list", "Dict": "dict", "tuple": "list", "Tuple": "list", "set": "list", "Sequence": "list",
              "Mapping": "dict"}


def decorator_name(node: ast.expr) -> str:
    """`flow`, `task`, `prefect.flow`, `task(...)`, `task.with_options` -> the last plain name."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def decorator_kwargs(node: ast.expr) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in node.keywords if k.arg} if isinstance(node, ast.Call) else {}


NOT_LITERAL = object()


def literal(node: ast.expr | None) -> Any:
    """The value of a literal expression (`float('0.5')` included) that a pipeline can hold, as
    pipeline data (tuples as lists), or NOT_LITERAL."""
    if node is None:
        return None
    try:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float" \
                and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
            value = float(node.args[0].value)
        else:
            value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NOT_LITERAL
    return _as_data(value)


def _as_data(value: Any) -> Any:
    """A literal as pipeline data, or NOT_LITERAL: YAML has no tuple (a list), set, bytes, complex
    number nor a mapping key that is not a single value, and no pipeline holds `1e309` or NaN."""
    if isinstance(value, (list, tuple)):
        items = [_as_data(item) for item in value]
        return NOT_LITERAL if NOT_LITERAL in items else items
    if isinstance(value, dict):
        entries = {key: _as_data(item) for key, item in value.items()}
        fits = all(map(is_single, entries)) and NOT_LITERAL not in entries.values()
        return entries if fits else NOT_LITERAL
    return value if is_single(value) else NOT_LITERAL


def literal_keys(node: ast.Dict) -> list | None:
    """The keys of a dict display, or None unless each is a single value (`{**x}`, `{(1, 2): y}`)."""
    if None in node.keys:
        return None
    keys = [literal(key) for key in node.keys]
    return keys if all(map(is_single, keys)) else None


def is_single(value: Any) -> bool:
    """A single value a pipeline can hold (a mapping's key must be one)."""
    if isinstance(value, float):
        return math.isfinite(value)  # `1e309`, `float('inf')`: no pipeline holds them
    return value is None or isinstance(value, (bool, int, str))


def call_name(node: ast.expr) -> str:
    return node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else ""


def strings(node: ast.expr) -> list[str] | None:
    value = literal(node)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def attribute_path(node: ast.expr) -> tuple[ast.expr, list[str]]:
    """`name.a.b` -> (`name`, ["a", "b"]): what the attributes are read from, and their names."""
    path: list[str] = []
    while isinstance(node, ast.Attribute):
        path.insert(0, node.attr)
        node = node.value
    return node, path


def whole(value: float) -> Any:
    return int(value) if float(value).is_integer() else value


def seconds(node: ast.expr) -> int | None:
    """A literal number of seconds, or timedelta(...) of literals."""
    value = literal(node)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # no number of seconds: the option is reported as not understood
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(value)
    if isinstance(node, ast.Call) and decorator_name(node) == "timedelta":
        units = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "weeks": 604800}
        total = 0.0
        for keyword in node.keywords:
            amount = literal(keyword.value)
            if keyword.arg not in units or not isinstance(amount, (int, float)):
                return None
            total += amount * units[keyword.arg]
        if node.args:
            amount = literal(node.args[0])
            if not isinstance(amount, (int, float)):
                return None
            total += amount * 86400
        return round(total) if math.isfinite(total) else None
    return None



def module_name(path: Path) -> str:
    return re.sub(r"\W", "_", path.stem) or "flow"

