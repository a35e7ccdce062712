"""Static values of an Airflow DAG file: Python literals read from the AST (never executed), and
Airflow's Jinja templates as dagshift placeholders."""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from compiler.language.placeholders import escaped as escape  # re-exported: the readers write literal text with it


class NotStatic(Exception):
    """The expression's value is only known when the file runs."""

    def __init__(self, node: ast.AST):
        super().__init__(ast.unparse(node) if isinstance(node, ast.AST) else str(node))
        self.node = node


@dataclass(frozen=True)
class Seconds:
    """A timedelta, in seconds."""

    value: float


@dataclass(frozen=True)
class Named:
    """A name the file refers to but that is not a literal (a function, a module constant we
    keep by name: WORKDIR, TriggerRule.X)."""

    dotted: str


@dataclass(frozen=True)
class CallValue:
    """A call whose arguments are static: Param(...), Asset(...), Secret(...), k8s models."""

    func: str
    args: tuple
    kwargs: dict


_TIMEDELTA_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1,
                    "milliseconds": 0.001, "microseconds": 0.000001}


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def finite(value: Any, node: ast.AST) -> Any:
    """A constant a pipeline can hold: `1e309` (infinity), NaN, bytes, complex numbers and `...`
    are not static values."""
    if isinstance(value, float) and not math.isfinite(value) or isinstance(value, (bytes, complex)) \
            or value is Ellipsis:
        raise NotStatic(node)
    return value


class Evaluator:
    """Evaluates expressions against module-level constants (name -> AST node)."""

    def __init__(self, constants: dict[str, ast.expr] | None = None):
        self.constants = constants or {}
        self._resolving: set[str] = set()

    def value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return finite(node.value, node)
        if isinstance(node, ast.Tuple):
            return tuple(self.value(e) for e in node.elts)
        if isinstance(node, (ast.List, ast.Set)):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.Dict):
            return self._dict(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand)
            if isinstance(operand, (int, float)):
                return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self._binop(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Attribute):
            name = dotted(node)
            if name:
                return Named(name)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise NotStatic(node)

    def _dict(self, node: ast.Dict) -> dict:
        pairs: list[tuple[Any, Any]] = []
        for key, value in zip(node.keys, node.values):
            if key is None:  # {**spread}
                spread = self.value(value)
                if not isinstance(spread, dict):
                    raise NotStatic(value)
                pairs += spread.items()
            else:
                pairs.append((self.value(key), self.value(value)))
        return _built(node, dict, pairs)

    def _binop(self, node: ast.BinOp) -> Any:
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.Add) and isinstance(left, (str, list, int, float)) and type(left) is type(right):
            return left + right
        if isinstance(node.op, ast.Add) and isinstance(left, Seconds) and isinstance(right, Seconds):
            return Seconds(left.value + right.value)
        if isinstance(node.op, ast.Mult) and isinstance(left, (int, float)) and isinstance(right, (int, float)):
            return finite(left * right, node)
        if isinstance(node.op, ast.BitOr) and isinstance(left, dict) and isinstance(right, dict):
            return {**left, **right}
        if isinstance(node.op, ast.BitOr) and all(isinstance(v, (CallValue, list)) for v in (left, right)):
            return [*_listed(left), *_listed(right)]  # assets: `a | b` runs on either
        raise NotStatic(node)

    def _name(self, node: ast.Name) -> Any:
        if node.id in self.constants and node.id not in self._resolving:
            self._resolving.add(node.id)
            try:
                return self.value(self.constants[node.id])
            except NotStatic:
                return Named(node.id)
            finally:
                self._resolving.discard(node.id)
        return Named(node.id)

    def _call(self, node: ast.Call) -> Any:
        func = dotted(node.func) or ""
        last = func.rsplit(".", 1)[-1]
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise NotStatic(node)
        args = tuple(self.value(a) for a in node.args)
        kwargs = {k.arg: self.value(k.value) for k in node.keywords}
        if last == "timedelta" or func == "duration" or func.endswith("pendulum.duration"):
            return _timedelta(node, args, kwargs)
        if last == "datetime" and (func.startswith(("pendulum", "datetime")) or func == "datetime"):
            return _datetime(node, args, kwargs)
        if last in ("date",) and len(args) == 3:
            return _built(node, date, *args)
        if func in ("dict",) and not args:
            return kwargs
        if func in ("list", "tuple") and len(args) == 1:
            return _built(node, list, args[0])
        return CallValue(func, args, kwargs)


def _built(node: ast.AST, build: Any, *args: Any) -> Any:
    """What Python builds from the file's values; not static where building raises when the file
    runs (an unhashable dict key, month 13, `list(5)`)."""
    try:
        return build(*args)
    except (TypeError, ValueError, OverflowError):
        raise NotStatic(node) from None


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _timedelta(node: ast.AST, args: tuple, kwargs: dict) -> Seconds:
    names = ("days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks")
    total = 0.0
    for name, amount in [*zip(names, args), *kwargs.items()]:
        if name not in _TIMEDELTA_UNITS or not isinstance(amount, (int, float)):
            raise NotStatic(node)
        total += amount * _TIMEDELTA_UNITS[name]
    return Seconds(total)


@dataclass(frozen=True)
class When:
    """A start date with the time zone it was written in."""

    moment: datetime | date
    timezone: str | None


def _datetime(node: ast.AST, args: tuple, kwargs: dict) -> When:
    tz = kwargs.pop("tz", None) or kwargs.pop("tzinfo", None)
    parts = list(args) + [kwargs.pop(k) for k in ("year", "month", "day", "hour", "minute", "second") if k in kwargs]
    if kwargs or len(parts) < 3 or not all(isinstance(p, int) for p in parts):
        raise NotStatic(node)
    timezone = tz if isinstance(tz, str) else None
    if isinstance(tz, CallValue) and tz.args and isinstance(tz.args[0], str):  # pendulum.timezone("...")
        timezone = tz.args[0]
    elif isinstance(tz, Named) and tz.dotted.endswith("UTC"):
        timezone = "UTC"
    return When(_built(node, date if len(parts) == 3 else datetime, *parts), timezone)


# ----------------------------------------------------------------------------- text


_JINJA = re.compile(r"\{\{(.*?)\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_PARAM = re.compile(r"^params(?:\[\s*(['\"])(\w+)\1\s*\]|\.(\w+))$")
_PULL = re.compile(r"^(?:ti|task_instance)\.xcom_pull\(\s*task_ids\s*=\s*(['\"])([\w.-]+)\1"
                   r"(?:\s*,\s*key\s*=\s*(['\"])(\w+)\3)?\s*\)(?:\[\s*(['\"])(\w+)\5\s*\])?$")
_PICK = re.compile(r"^map\(\s*attribute\s*=\s*(['\"])(\w+)\1\s*\)$")  # one value of each mapped result
# Filters that only print the value (as dagshift's text rule does, for the types dagshift gives them).
_FILTERS = ("string", "tojson", "json_text", "list")


@dataclass
class Template:
    """A Jinja template read as dagshift text, and the Jinja it could not map."""

    text: str
    unmapped: list[str]


def jinja_text(template: str, outputs: dict[str, str] | None = None) -> Template:
    """Airflow's Jinja as dagshift text: params and XCom pulls become placeholders, the
    backend's escapes (`{{ '{' }}`) their character; any other Jinja stays as literal text.
    `outputs`: the value output a task's XCom holds (dagshift's output: a task with one value
    returns it as is)."""
    out: list[str] = []
    unmapped: list[str] = []
    position = 0
    for match in _JINJA.finditer(template):
        out.append(escape(template[position:match.start()]))
        position = match.end()
        expression = match.group(1)
        mapped = _jinja_expression(expression.strip(), outputs or {}) if expression is not None else None
        if mapped is None:
            unmapped.append(match.group(0))
            out.append(escape(match.group(0)))
        else:
            out.append(mapped)
    out.append(escape(template[position:]))
    return Template("".join(out), unmapped)


def _jinja_expression(expression: str, outputs: dict[str, str]) -> str | None:
    try:  # the backend's escapes: a quoted literal printed by an expression
        value = ast.literal_eval(expression)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, str):
        return escape(value)
    parts = [p.strip() for p in _split_filters(expression)]
    head, filters = parts[0], parts[1:]
    picked = [match.group(2) for f in filters if (match := _PICK.match(f))]
    if any(f not in _FILTERS and not _PICK.match(f) for f in filters):
        return None
    param = _PARAM.match(head)
    if param and not picked:
        return f"${{{{ params.{param.group(2) or param.group(3)} }}}}"
    pull = _PULL.match(head)
    if pull:
        task = pull.group(2)
        name = pull.group(4) or pull.group(6) or (picked[0] if picked else outputs.get(task))
        return f"${{{{ tasks.{task}.outputs.{name} }}}}" if name else None
    return None


def _split_filters(expression: str) -> list[str]:
    """`a | f(x) | g` at the top level (not inside brackets or quotes)."""
    parts, depth, quote, current = [], 0, "", ""
    for char in expression:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def template_value(value: Any, outputs: dict[str, str] | None = None) -> tuple[Any, list[str]]:
    """Every string of a literal value read as a Jinja template."""
    if isinstance(value, str):
        read = jinja_text(value, outputs)
        return read.text, read.unmapped
    if isinstance(value, list):
        pairs = [template_value(v, outputs) for v in value]
        return [p[0] for p in pairs], [u for p in pairs for u in p[1]]
    if isinstance(value, dict):
        pairs = {k: template_value(v, outputs) for k, v in value.items()}
        return {k: p[0] for k, p in pairs.items()}, [u for p in pairs.values() for u in p[1]]
    return value, []


def plain_data(value: Any) -> Any:
    """A static value as plain YAML-able data (tuples as lists), or raise ValueError."""
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(value)
