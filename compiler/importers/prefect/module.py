"""The module: its @flow and @task functions, and the workdir, semaphores and output TypedDicts
of dagshift's own output.

The module is parsed a group of top-level statements at a time: a Python AST takes about 50
times the size of its source (more while it is built), and dagshift's output for 10,000 tasks is
a large module; only the statements the importer reads are kept.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

from compiler.backends.prefect.conventions import DOCSTRING_TITLE, GENERATED_BY, WORKDIR

from .values import decorator_name, literal

# A line where a top-level statement may start: not indented, not a comment, not a clause that
# continues the statement before (else, elif, except, finally). Inside a string or brackets such a
# line makes the group before it fail to parse, and the group is then extended to the next one.
_STATEMENT_START = re.compile(r"^(?!(?:else|elif|except|finally)\b)[A-Za-z_@]", re.MULTILINE)
_GROUP_LINES = 2000  # lines parsed at a time (more when one statement is longer)


def top_level_statements(text: str, filename: str) -> Iterator[ast.stmt]:
    """The module's top-level statements, as ast.parse gives them (line numbers included), parsed
    in groups of about _GROUP_LINES lines. Raises SyntaxError, at its place, for an invalid module."""
    starts = [0] + [m.start() for m in _STATEMENT_START.finditer(text) if m.start()] + [len(text)]
    lines = [0]  # lines of the text before each start
    for before, after in pairwise(starts):
        lines.append(lines[-1] + text.count("\n", before, after))
    index, last = 0, len(starts) - 1
    while index < last:
        end = index + 1
        while end < last and lines[end] - lines[index] < _GROUP_LINES:
            end += 1
        while True:
            try:
                # the blank lines put the group's statements at their lines in the module
                group = ast.parse("\n" * lines[index] + text[starts[index]:starts[end]], filename=filename)
                break
            except SyntaxError:
                if end == last:  # the rest of the module is not valid: the error, as ast.parse gives it
                    yield from (s for s in ast.parse(text, filename=filename).body if s.lineno > lines[index])
                    return
                # the group ends inside a string, brackets or a statement: twice as long (not one
                # statement longer, which would parse an invalid module's tail once per statement)
                wanted = lines[end] + max(lines[end] - lines[index], _GROUP_LINES)
                end += 1
                while end < last and lines[end] < wanted:
                    end += 1
        yield from group.body
        index = end


class ModuleReader:
    """The module's @task and @flow functions, and what dagshift's own output keeps beside them:
    the working directory, the semaphores of limited fan-outs and the TypedDicts of outputs."""

    def __init__(self, path: Path, text: str, filename: str):
        self.path = path
        self.lines = text.splitlines()
        self.functions: dict[str, ast.FunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.slots: dict[str, int] = {}  # semaphore -> how many runs hold it at once (max_parallel)
        self.workdir: str | None = None
        self.generated = False
        found_workdir = False
        for index, node in enumerate(top_level_statements(text, filename)):
            if index == 0:
                self.generated = _generated_docstring(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
            elif isinstance(node, ast.Assign):
                names = {t.id for t in node.targets if isinstance(t, ast.Name)}
                if WORKDIR in names and not found_workdir:
                    # dagshift's output: `WORKDIR = '...'` is the pipeline's workdir; the environment
                    # lookup means there was none
                    found_workdir = True
                    value = literal(node.value)
                    self.workdir = value if isinstance(value, str) else None
                limit = _semaphore(node.value)
                if limit is not None:
                    self.slots.update({name: limit for name in names})

    def decorator(self, function: ast.AST, kind: str) -> ast.expr | None:
        for node in getattr(function, "decorator_list", []):
            if decorator_name(node) == kind:
                return node
        return None

    def flows(self) -> list[ast.FunctionDef]:
        return [f for f in self.functions.values() if self.decorator(f, "flow") is not None]

    def tasks(self) -> dict[str, ast.FunctionDef]:
        return {name: f for name, f in self.functions.items() if self.decorator(f, "task") is not None}

    def typed_dict(self, name: str) -> dict[str, str] | None:
        """The fields of a TypedDict class of the module (output name -> type name)."""
        node = self.classes.get(name)
        if node is None or not any(decorator_name(base) == "TypedDict" for base in node.bases):
            return None
        return {s.target.id: ast.unparse(s.annotation) for s in node.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}


def task_call(node: ast.expr, tasks: dict[str, ast.FunctionDef]) -> tuple[ast.FunctionDef, str] | None:
    """(the task function, call | submit | map) when the expression is `fn(...)`, `fn.submit(...)` or
    `fn.map(...)` of a function of `tasks` (ModuleReader.tasks)."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name) and func.id in tasks:
        return tasks[func.id], "call"
    if isinstance(func, ast.Attribute) and func.attr in ("submit", "map") and isinstance(func.value, ast.Name) \
            and func.value.id in tasks:
        return tasks[func.value.id], func.attr
    return None


def _generated_docstring(node: ast.stmt) -> bool:
    """dagshift's output opens with `Prefect 3 flow `NAME`, generated by dagshift ...`."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
        return False
    return node.value.value.startswith(DOCSTRING_TITLE.partition("{name}")[0]) and GENERATED_BY in node.value.value


def _semaphore(node: ast.expr) -> int | None:
    """`threading.BoundedSemaphore(N)` -> N."""
    if isinstance(node, ast.Call) and decorator_name(node) in ("BoundedSemaphore", "Semaphore") and node.args:
        value = literal(node.args[0])
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
