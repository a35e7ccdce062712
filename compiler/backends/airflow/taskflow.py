"""TaskFlow functions of a generated DAG, written as an engineer writes them: a python task imports
the user's function and calls it with its arguments; a shell task Airflow cannot run as a
BashOperator (it has value outputs or secrets, an exec-list command, or a fan-out) runs its
command with subprocess; a condition is a `@task.branch` returning the task ids to run.

Values other tasks computed arrive as the function's arguments (TaskFlow passes them as XCom),
params come from Airflow's context (`params`), a mapped task's item is the argument it is mapped
over. Nothing a user wrote is ever a template here: texts are Python literals and f-strings.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compiler.backends.specs import PYTHON_TYPE_NAMES, is_keyword_name, keyword_arguments
from compiler.language.ir import Pipeline, Task, ValueType
from compiler.language.naming import python_name
from compiler.language.placeholders import Ref
from compiler.language.placeholders import parse as parse_placeholders
from compiler.output.emit import python_literal as py

from .values import Needs, item_type, text_python, wrapped_string_code

# Names Airflow fills from the run's context when a TaskFlow function has a parameter so named
# (airflow.sdk Context, 3.3): no input may take one.
CONTEXT_KEYS = frozenset({
    "conn", "dag", "dag_run", "data_interval_end", "data_interval_start", "outlet_events", "ds", "ds_nodash",
    "expanded_ti_count", "exception", "inlets", "inlet_events", "logical_date", "macros", "map_index_template",
    "outlets", "params", "partition_key", "partition_date", "prev_data_interval_start_success",
    "prev_data_interval_end_success", "prev_start_date_success", "prev_end_date_success", "reason", "run_id", "task",
    "task_reschedule_count", "task_instance", "task_instance_key_str", "task_state_store", "asset_state_store",
    "templates_dict", "test_mode", "ti", "triggering_asset_events", "try_number", "ts", "ts_nodash",
    "ts_nodash_with_tz", "var",
})


@dataclass(frozen=True)
class Upstream:
    """How a task reads another task's output: the call argument (an XComArg) and, in the body,
    the code that takes the output from the argument's value (`{}` stands for the argument)."""

    argument: str
    access: str = "{}"
    value_type: ValueType | None = None
    mapped: bool = False


@dataclass
class Input:
    name: str
    annotation: str | None
    argument: str


@dataclass
class Function:
    """One TaskFlow function being written: its parameters and the names its body binds."""

    taken: set[str]  # module-level names the body uses, and every name bound so far
    inputs: list[Input] = field(default_factory=list)
    by_ref: dict[Ref, str] = field(default_factory=dict)  # upstream output -> its parameter
    uses_params: bool = False
    item: str | None = None  # the parameter a mapped task is mapped over
    items: Any = None  # the literal list it is mapped over (for the item's type), if any
    out_paths: dict[str, str] = field(default_factory=dict)  # `${{ outputs.X }}` -> local variable

    def local(self, wanted: str) -> str:
        """A fresh local name: `wanted`, else wanted_2, ..."""
        name = wanted if wanted.isidentifier() and not keyword.iskeyword(wanted) else f"{wanted}_"
        base, counter = name, 2
        while name in self.taken or name in CONTEXT_KEYS:
            name, counter = f"{base}_{counter}", counter + 1
        self.taken.add(name)
        return name

    def signature(self) -> str:
        parameters = [self.item] if self.item else []
        parameters += [f"{i.name}: {i.annotation}" if i.annotation else i.name for i in self.inputs]
        if self.uses_params:
            parameters.append("params: dict")
        return ", ".join(parameters)

    def call_arguments(self) -> str:
        return ", ".join(f"{i.name}={i.argument}" for i in self.inputs)


@dataclass
class PythonValues:
    """Pipeline values as Python code inside one TaskFlow function."""

    pipeline: Pipeline
    needs: Needs
    upstream: Callable[[Ref], Upstream]

    def value(self, value: Any, fn: Function, *, whole: bool = True, name_hint: str | None = None) -> str:
        """Code for a value of `args` (nested lists and dicts included): a whole-value placeholder
        keeps its type, any other text is a str."""
        if isinstance(value, list):
            return "[" + ", ".join(self.value(v, fn, whole=whole) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{py(k)}: {self.value(v, fn, whole=whole)}" for k, v in value.items()) + "}"
        if not isinstance(value, str):
            return py(value)
        parts = self._parts(value, fn, name_hint)
        if whole and len(parts) == 1 and isinstance(parts[0], tuple):
            return parts[0][1]  # the typed value
        return self.text(parts)

    def text_of(self, text: str, fn: Function) -> str:
        """Code for a text (a command, an env value): always a str."""
        return self.text(self._parts(text, fn, None))

    def text(self, parts: list) -> str:
        if len(parts) == 1 and isinstance(parts[0], tuple):  # the text is one value
            _, code, kind = parts[0]
            return f"str({code})" if kind is ValueType.INT else text_python(code, kind, self.needs)
        return wrapped_string_code([p if isinstance(p, str) else (text_python(p[1], p[2], self.needs),)
                                    for p in parts])

    def _parts(self, text: str, fn: Function, name_hint: str | None) -> list:
        """Literal texts (artifact paths merged in) and (ref, code, type) for the other placeholders."""
        parts: list = []
        for segment in parse_placeholders(text)[0]:
            if isinstance(segment, Ref) and segment.kind == "artifact":
                segment = self.pipeline.artifacts[str(segment.name)].path
            if isinstance(segment, str):
                if parts and isinstance(parts[-1], str):
                    parts[-1] += segment
                else:
                    parts.append(segment)
            else:
                parts.append((segment, *self.ref(segment, fn, name_hint)))
        return parts

    def ref(self, ref: Ref, fn: Function, name_hint: str | None = None) -> tuple[str, ValueType | None]:
        """(code, type) of a placeholder's value inside the function."""
        if ref.kind == "param":
            fn.uses_params = True
            return f'params["{ref.name}"]', self.pipeline.params[str(ref.name)].value_type
        if ref.kind == "item":
            assert fn.item is not None, ref
            code = fn.item if ref.name is None else f'{fn.item}["{ref.name}"]'
            return code, item_type(fn.items, ref.name)
        if ref.kind == "output":
            return fn.out_paths[str(ref.name)], ValueType.STR
        return self._input(ref, fn, name_hint)

    def _input(self, ref: Ref, fn: Function, name_hint: str | None) -> tuple[str, ValueType | None]:
        upstream = self.upstream(ref)
        name = fn.by_ref.get(ref)
        if name is None:
            name = fn.local(name_hint or f"{python_name(str(ref.task))}_{ref.name}")
            fn.by_ref[ref] = name
            annotation = None if upstream.mapped or upstream.value_type is None else \
                PYTHON_TYPE_NAMES[upstream.value_type]
            fn.inputs.append(Input(name, annotation, upstream.argument))
        code = upstream.access.format(name)
        if upstream.mapped:  # the results of every instance, a lazy sequence: a list for the user's code
            return f"list({code})", ValueType.LIST
        return code, upstream.value_type


# ----------------------------------------------------------------------------- writing functions


def decorator(name: str, kwargs: list[tuple[str, str]]) -> str:
    return f"@{name}({', '.join(f'{k}={v}' for k, v in kwargs)})" if kwargs else f"@{name}"


def function_code(decorator_line: str, name: str, fn: Function, body: list[str], returns: str | None) -> str:
    head = f"def {name}({fn.signature()})" + (f" -> {returns}" if returns else "") + ":"
    return "\n".join([decorator_line, head, *("    " + line if line else "" for line in body)])


def indent(lines: list[str]) -> list[str]:
    return ["    " + line if line else "" for line in lines]


def python_call(task: Task, fn: Function, values: PythonValues, task_name: str) -> tuple[list[str], str]:
    """The import of the user's function and the code calling it: (import lines, call code). A
    function named like the task is imported with its module's name in front (`predict_summarize`)."""
    module, _, attribute = str(task.python).partition(":")
    first, _, rest = attribute.partition(".")
    local = fn.local(first if first != task_name else f"{module.rpartition('.')[2]}_{first}")
    alias = f" as {local}" if local != first else ""
    # a whole upstream value arrives as a parameter named after its key, where the key is a name
    kwargs = {key: values.value(value, fn, name_hint=key if _whole_output(value) and is_keyword_name(key) else None)
              for key, value in (task.args or {}).items()}
    target = f"{local}.{rest}" if rest else local
    return [f"from {module} import {first}{alias}", ""], f"{target}({keyword_arguments(kwargs)})"


def _whole_output(value: Any) -> bool:
    """A value that is exactly one upstream output (its parameter takes the argument's name)."""
    if not isinstance(value, str):
        return False
    segments = parse_placeholders(value)[0]
    return len(segments) == 1 and isinstance(segments[0], Ref) and segments[0].kind == "task_output"
