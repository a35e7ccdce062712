"""What a task's code reads, as Python: its arguments and the expressions its texts are made of.

A task function takes as arguments only what it reads: the item of a fan-out (`item`), the
params its texts name, and the results of the upstream tasks whose outputs it names (one
argument per upstream task). A placeholder is then an expression over those arguments, the
paths of its own value outputs, or (an artifact) the literal path. Texts follow the run-time
text rule (docs/pipeline-syntax.md): str, int and float values are written as they are in an
f-string, anything else through the module's `text` helper (compact JSON, `true`/`false`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler.backends.specs import keyword_arguments
from compiler.language import conditions
from compiler.language.ir import Pipeline, Task, ValueType, type_of_value
from compiler.language.naming import python_name
from compiler.language.placeholders import Ref, refs
from compiler.language.placeholders import parse as parse_placeholders
from compiler.language.references import task_texts
from compiler.output.emit import python_literal

from .conventions import TEXT
from .names import Names
from .text import Expr, Part, fstring, joined, pieces

# Values an f-string writes exactly as the text rule does.
AS_IS = {ValueType.STR, ValueType.INT, ValueType.FLOAT}
HINTS = {value_type: value_type.value for value_type in ValueType}


@dataclass(frozen=True)
class Arg:
    """One argument of a task function: what the flow passes for it, and its name in the task."""

    name: str
    source: tuple[str, ...]  # ("item",) | ("param", NAME) | ("task", TASK_ID)
    hint: str | None


@dataclass
class Scope:
    """The names one task's code can read."""

    pipeline: Pipeline
    task: Task
    names: Names
    args: list[Arg] = field(default_factory=list)
    output_paths: dict[str, str] = field(default_factory=dict)  # value output -> its path variable
    needs: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ arguments

    def declare_args(self, task_order: dict[str, int]) -> None:
        """The task's arguments, in a fixed order: the item, params, then upstream results (in the
        pipeline's order of tasks, `task_order`: each task's position, computed once per file)."""
        pipeline, task = self.pipeline, self.task
        # foreach is read in the flow body, which maps the task over it
        refs = [ref for path, text in task_texts(task) if path[0] != "foreach" for ref in _refs(text)]
        if task.is_mapped:
            self.args.append(Arg(self.names.claim("item"), ("item",), self._item_hint(None)))
        read_params = {ref.name for ref in refs if ref.kind == "param"}
        for name, param in pipeline.params.items():
            if name in read_params:
                self.args.append(Arg(self.names.claim(name), ("param", name), HINTS[param.value_type]))
        upstream = {str(ref.task) for ref in refs if ref.kind == "task_output"}
        for task_id in sorted(upstream, key=task_order.__getitem__):
            other = pipeline.tasks[task_id]
            self.args.append(Arg(self.names.claim(self._upstream_name(task_id, other)), ("task", task_id),
                                 self._upstream_hint(other)))

    def _upstream_name(self, task_id: str, other: Task) -> str:
        """The keyword a python task passes the whole value to (`results=`), else the output's name
        when the upstream task has one, else `<task>_result`."""
        if len(other.outputs) == 1:
            (output,) = other.outputs
            whole = f"${{{{ tasks.{task_id}.outputs.{output} }}}}"
            if self.task.kind == "python":
                for key, value in (self.task.args or {}).items():
                    if isinstance(value, str) and value.strip() == whole and key.isidentifier():
                        return key
            return output
        return f"{python_name(task_id)}_result"

    @staticmethod
    def _upstream_hint(other: Task) -> str:
        if other.is_mapped:
            return "list"
        if len(other.outputs) == 1:
            return HINTS[next(iter(other.outputs.values())).type]
        return "dict"

    def _item_hint(self, key: str | None) -> str | None:
        item_type = self.item_type(key)
        return HINTS[item_type] if item_type is not None else None

    def item_type(self, key: str | None) -> ValueType | None:
        """The type every element (or every element's `key`) of a literal foreach list has."""
        foreach = self.task.foreach
        if not isinstance(foreach, list) or not foreach:
            return None
        values = [element if key is None else element.get(key) if isinstance(element, dict) else None
                  for element in foreach]
        if any(isinstance(v, str) and "${{" in v for v in values):
            return None
        kinds = {type_of_value(v) for v in values}
        return next(iter(kinds)) if len(kinds) == 1 else None

    def arg(self, source: tuple[str, ...]) -> Arg:
        return next(a for a in self.args if a.source == source)

    # ------------------------------------------------------------------ placeholders as code

    def ref_code(self, ref: Ref) -> tuple[str, ValueType | None]:
        """The expression reading a reference, and its type when known."""
        pipeline = self.pipeline
        if ref.kind == "param":
            return self.arg(("param", ref.name)).name, pipeline.params[str(ref.name)].value_type
        if ref.kind == "item":
            item = self.arg(("item",)).name
            return (item if ref.name is None else f"{item}[{ref.name!r}]"), self.item_type(ref.name)
        if ref.kind == "output":
            return self.output_paths[str(ref.name)], ValueType.STR
        assert ref.kind == "task_output" and ref.task is not None, ref
        other = pipeline.tasks[ref.task]
        value = self.arg(("task", ref.task)).name
        if len(other.outputs) > 1:
            if other.is_mapped:
                run = "each" if value == "run" else "run"
                return f"[{run}[{ref.name!r}] for {run} in {value}]", ValueType.LIST
            value = f"{value}[{ref.name!r}]"
        return value, ValueType.LIST if other.is_mapped else other.outputs[str(ref.name)].type

    def parts(self, text: str) -> list[Part]:
        """A text as literal pieces and expressions (artifact paths are literal text)."""
        found: list[Part] = []
        for segment in parse_placeholders(text)[0]:
            if isinstance(segment, str):
                found.append(segment)
            elif segment.kind == "artifact":
                found.append(self.pipeline.artifacts[str(segment.name)].path)
            else:
                code, value_type = self.ref_code(segment)
                if value_type not in AS_IS:
                    self.needs.add(TEXT)
                    code = f"{TEXT}({code})"
                found.append(Expr(code))
        return found

    def text_code(self, text: str, room: int | None = None) -> str:
        """A text as a Python expression giving exactly its run-time value; with `room`, as
        pieces that fit lines of that many characters."""
        parts = self.parts(text)
        if len(parts) == 1 and isinstance(parts[0], Expr) and self._is_text(parts[0]):
            return parts[0].code  # already the text: no f-string around it
        return joined(pieces(parts, room)) if room else fstring(parts)

    def _is_text(self, expr: Expr) -> bool:
        """A `text(...)` call, or an argument of type str (the arguments' names are plain)."""
        if expr.code.startswith(f"{TEXT}("):
            return True
        arg = next((a for a in self.args if a.name == expr.code), None)
        return arg is not None and arg.hint == "str"

    def value_code(self, value: Any) -> str:
        """A value of `args` (or of a foreach list): a text that is one placeholder keeps the
        value's type; lists and dicts are written item by item."""
        if isinstance(value, list):
            return "[" + ", ".join(self.value_code(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{python_literal(k)}: {self.value_code(v)}" for k, v in value.items()) + "}"
        if not isinstance(value, str):
            return python_literal(value)
        segments = parse_placeholders(value)[0]
        if len(segments) == 1 and not isinstance(segments[0], str) and segments[0].kind != "artifact":
            return self.ref_code(segments[0])[0]
        return self.text_code(value)


def foreach_refs(task: Task) -> list[Ref]:
    """The references in a task's foreach (read in the flow body)."""
    return refs(task.foreach) if isinstance(task.foreach, str) else []  # a literal list holds none


def condition_code(expr: conditions.Expr, ref_code) -> str:
    """A condition as a Python expression, parenthesized only where Python needs it; `ref_code`
    writes the code reading a reference."""
    if isinstance(expr, conditions.Literal):
        return python_literal(expr.value)
    if isinstance(expr, conditions.RefOperand):
        return ref_code(expr.ref)
    if isinstance(expr, conditions.Compare):
        return f"{_operand(expr.left, ref_code)} {expr.op} {_operand(expr.right, ref_code)}"
    if isinstance(expr, conditions.Not):
        return f"not {_grouped(expr.operand, ref_code)}"
    return f" {expr.op} ".join(_grouped(operand, ref_code) for operand in expr.operands)


def _grouped(expr: conditions.Expr, ref_code) -> str:
    code = condition_code(expr, ref_code)
    return f"({code})" if isinstance(expr, conditions.BoolOp) else code


def _operand(expr: conditions.Expr, ref_code) -> str:
    code = condition_code(expr, ref_code)
    return f"({code})" if isinstance(expr, (conditions.BoolOp, conditions.Compare, conditions.Not)) else code


def _refs(text: str) -> list[Ref]:
    return [s for s in parse_placeholders(text)[0] if not isinstance(s, str)]


def call_arguments(scope: Scope, kwargs: dict[str, Any]) -> str:
    """Keyword arguments of a call; keys that are not identifiers go through `**{...}`."""
    return keyword_arguments({key: scope.value_code(value) for key, value in kwargs.items()})
