"""Backend-neutral pieces for targets that resolve placeholders at run time in generated Python:
the task "spec" encoding of user values, condition code generation and the text rule."""

from __future__ import annotations

import json
import keyword
from typing import Any, Callable, Iterator

from compiler.language import conditions
from compiler.language.ir import Pipeline, ValueType
from compiler.language.naming import python_name
from compiler.language.placeholders import Ref
from compiler.language.placeholders import parse as parse_placeholders
from compiler.output.emit import python_literal as py

# A value type as the Python annotation generated code writes for it.
PYTHON_TYPE_NAMES = {value_type: value_type.value for value_type in ValueType}


def refs_in(text: str) -> list[Ref]:
    return [s for s in parse_placeholders(text)[0] if isinstance(s, Ref)]


def value_spec(value: Any, pipeline: Pipeline, *, whole_value: bool = False) -> Any:
    """A user value as the runtime reads it: literals (and artifact paths) as they are,
    placeholders as tuples ("param", name) / ("output", task, name, mapped) / ("item", key) /
    ("out", name), and texts mixing both as ("concat", part, ...). A whole-value placeholder
    keeps its type."""
    if isinstance(value, list):
        return [value_spec(v, pipeline, whole_value=whole_value) for v in value]
    if isinstance(value, dict):
        return {k: value_spec(v, pipeline, whole_value=whole_value) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    segments, _ = parse_placeholders(value)
    parts: list[Any] = []
    for segment in segments:
        part = segment if isinstance(segment, str) else _ref_spec(segment, pipeline)
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part  # artifact paths join the literal text around them
        else:
            parts.append(part)
    if not any(isinstance(part, tuple) for part in parts):
        return "".join(parts)
    if whole_value and len(parts) == 1:
        return parts[0]
    return ("concat", *parts)


def _ref_spec(ref: Ref, pipeline: Pipeline) -> tuple:
    if ref.kind == "param":
        return ("param", ref.name)
    if ref.kind == "artifact":
        return pipeline.artifacts[str(ref.name)].path  # known when compiling: plain text
    if ref.kind == "task_output":
        return ("output", ref.task, ref.name, pipeline.tasks[str(ref.task)].is_mapped)
    if ref.kind == "item":
        return ("item", ref.name)
    return ("out", ref.name)


def ref_type(pipeline: Pipeline, ref: Ref) -> ValueType | None:
    if ref.kind == "param":
        return pipeline.params[str(ref.name)].value_type
    if ref.kind == "task_output":
        task = pipeline.tasks[str(ref.task)]
        return ValueType.LIST if task.is_mapped else task.outputs[str(ref.name)].type
    return None


def condition_refs(expr: conditions.Expr) -> list[Ref]:
    return [operand.ref for operand in conditions.references(expr)]


def condition_code(expr: conditions.Expr, ref_code: Callable[[Ref], str]) -> str:
    """A condition as a Python expression; `ref_code` writes the code that reads a reference."""
    if isinstance(expr, conditions.Literal):
        return py(expr.value)
    if isinstance(expr, conditions.RefOperand):
        return ref_code(expr.ref)
    if isinstance(expr, conditions.Compare):
        return f"({condition_code(expr.left, ref_code)} {expr.op} {condition_code(expr.right, ref_code)})"
    if isinstance(expr, conditions.Not):
        return f"(not {condition_code(expr.operand, ref_code)})"
    joined = f" {expr.op} ".join(condition_code(o, ref_code) for o in expr.operands)
    return f"({joined})"


def texts_in(value: Any) -> Iterator[str]:
    """Every string in a literal value, mapping keys included (what a target's syntax could read)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from texts_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from texts_in(item)


def is_keyword_name(key: str) -> bool:
    """Whether a call can pass this key as `key=...`: an ASCII identifier that is no keyword
    (Python reads any other identifier in its NFKC form: `ﬁ=1` would pass `fi`)."""
    return key.isascii() and key.isidentifier() and not keyword.iskeyword(key)


def keyword_arguments(arguments: dict[str, str]) -> str:
    """The keyword arguments of a call (key -> code of the value); keys no `key=` can write
    go through one `**{...}`."""
    plain = [f"{key}={code}" for key, code in arguments.items() if is_keyword_name(key)]
    other = [f"{py(key)}: {code}" for key, code in arguments.items() if not is_keyword_name(key)]
    return ", ".join(plain + (["**{" + ", ".join(other) + "}"] if other else []))


def as_text(value: Any) -> str:
    """The run-time text rule (see docs/pipeline-syntax.md), for values known at compile time."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def unique_python_names(task_ids, used: set[str]) -> dict[str, str]:
    """A Python name per task id that avoids `used` and each other: the id's python_name, else
    `<name>_task`, `<name>_task2`, ... Adds the chosen names to `used`."""
    names: dict[str, str] = {}
    for task_id in task_ids:
        base = python_name(task_id)
        name = base if base not in used and not base.startswith("_") else f"{base}_task"
        counter = 2
        while name in used:
            name, counter = f"{base}_task{counter}", counter + 1
        names[task_id] = name
        used.add(name)
    return names


def python_value(value: Any, string: Callable[[str], str]) -> str:
    """A JSON-like value known when compiling, as Python code; `string` writes each text (and
    dict key) in the form the target needs (ASCII-only, brace-safe, ...). Numbers are finite:
    validation refuses any other."""
    if isinstance(value, str):
        return string(value)
    if isinstance(value, list):
        return "[" + ", ".join(python_value(v, string) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{string(str(k))}: {python_value(v, string)}" for k, v in value.items()) + "}"
    return repr(value)  # bool, None, int, float
