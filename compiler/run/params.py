"""`--param NAME=VALUE`: each value read as its declared param's type and checked against its
enum, min and max; anything else is an E802 diagnostic (nothing runs)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from compiler.diagnostics import Diagnostic, Diagnostics, Severity, did_you_mean
from compiler.language.ir import Param, Pipeline, ValueType

_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def split_pair(pair: str) -> tuple[str, str] | None:
    """NAME=VALUE -> (NAME, VALUE); None when there is no `=` or no name."""
    name, sep, value = pair.partition("=")
    return (name.strip(), value) if sep and name.strip() else None


def read_params(pairs: Iterable[tuple[str, str]], pipeline: Pipeline) -> tuple[dict[str, Any], Diagnostics]:
    """The values the run gets (only those given), and the problems with them."""
    values: dict[str, Any] = {}
    problems = Diagnostics()
    for name, text in pairs:
        param = pipeline.params.get(name)
        if param is None:
            declared = ", ".join(sorted(pipeline.params)) or "none"
            problems.add(Diagnostic("E802", Severity.ERROR, f"--param {name}: the pipeline declares no param '{name}'",
                                    help=did_you_mean(name, pipeline.params) or f"declared params: {declared}"))
            continue
        try:
            values[name] = _checked(param, _typed(param.value_type, text))
        except ValueError as error:
            problems.add(Diagnostic("E802", Severity.ERROR, f"--param {name}={text}: {error}",
                                    help=f"give a value of type {param.value_type.value}"
                                    + (f" (one of {', '.join(map(json.dumps, param.enum))})" if param.enum else "")))
    for name, param in pipeline.params.items():
        if param.required and name not in values:
            problems.add(Diagnostic("E802", Severity.ERROR, f"param '{name}' has no default and no --param gives it",
                                    help=f"pass --param {name}=VALUE"))
    return values, problems


def _typed(kind: ValueType, text: str) -> Any:
    if kind is ValueType.STR:
        return text
    if kind is ValueType.BOOL:
        if text.strip().lower() in _TRUE | _FALSE:
            return text.strip().lower() in _TRUE
        raise ValueError("not a bool (true or false)")
    if kind is ValueType.INT:
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError("not an int") from None
    if kind is ValueType.FLOAT:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError("not a number") from None
        return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    try:  # a list or a dict, written as JSON
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"not a {kind.value} written as JSON") from None
    if not isinstance(value, list if kind is ValueType.LIST else dict):
        raise ValueError(f"not a {kind.value} written as JSON")
    return value


def _checked(param: Param, value: Any) -> Any:
    if param.enum is not None and value not in param.enum:
        raise ValueError(f"not one of {', '.join(map(json.dumps, param.enum))}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if param.min is not None and value < param.min:
            raise ValueError(f"below the minimum {param.min:g}")
        if param.max is not None and value > param.max:
            raise ValueError(f"above the maximum {param.max:g}")
    return value
