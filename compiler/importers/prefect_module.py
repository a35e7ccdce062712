"""The module: its @flow and @task functions, and the specs and workdir of dagshift's own output.

The module is parsed a group of top-level statements at a time, and only what the importer reads
is kept: a Python AST takes about 50 times the size of its source (more while it is built), and
dagshift's output for 10,000 tasks is a 4 MB module. Its `_SPECS` literal is kept as its value,
and a generated task function (`return _run(_SPECS["id"], ...)`) without its body.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

from .prefect_values import NOT_LITERAL, call_name, decorator_name, literal

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
    """The module's @task and @flow functions and its dagshift specs (when it is dagshift's output)."""

    def __init__(self, path: Path, text: str, filename: str):
        self.path = path
        self.lines = text.splitlines()
        self.functions: dict[str, ast.FunctionDef] = {}
        self.specs: dict[str, Any] | None = None
        self.workdir: str | None = None
        self._spec_keys: dict[str, Any] = {}  # generated task function -> its _SPECS key
        found_specs = found_workdir = False
        for node in top_level_statements(text, filename):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
                self._keep_spec_key(node)
            elif isinstance(node, ast.Assign):
                names = {t.id for t in node.targets if isinstance(t, ast.Name)}
                if "_SPECS" in names and not found_specs:
                    found_specs = True
                    value = literal(node.value)
                    self.specs = value if isinstance(value, dict) else None
                if "WORKDIR" in names and not found_workdir:
                    # dagshift's output: `WORKDIR = '...'` is the pipeline's workdir; the environment
                    # lookup means there was none
                    found_workdir = True
                    value = literal(node.value)
                    self.workdir = value if isinstance(value, str) else None

    def decorator(self, function: ast.AST, kind: str) -> ast.expr | None:
        for node in getattr(function, "decorator_list", []):
            if decorator_name(node) == kind:
                return node
        return None

    def flows(self) -> list[ast.FunctionDef]:
        return [f for f in self.functions.values() if self.decorator(f, "flow") is not None]

    def tasks(self) -> dict[str, ast.FunctionDef]:
        return {name: f for name, f in self.functions.items() if self.decorator(f, "task") is not None}

    def _keep_spec_key(self, function: ast.FunctionDef) -> None:
        """`return _run(_SPECS["id"], ...)`: the key is kept, the body dropped (it says nothing more)."""
        if len(function.body) != 1 or not isinstance(function.body[0], ast.Return):
            return
        call = function.body[0].value
        if call_name(call) != "_run" or not call.args:
            return
        first = call.args[0]
        if isinstance(first, ast.Subscript) and isinstance(first.value, ast.Name) and first.value.id == "_SPECS":
            key = literal(first.slice)
            if key is not NOT_LITERAL:
                self._spec_keys[function.name] = key
                function.body = [ast.Pass(lineno=function.body[0].lineno, col_offset=function.body[0].col_offset)]

    def spec_id(self, function: ast.FunctionDef) -> str | None:
        """The task id a dagshift-generated task function runs: `return _run(_SPECS["id"], ...)`."""
        if self.specs is None:
            return None
        key = self._spec_keys.get(function.name)
        return key if isinstance(key, str) and key in self.specs else None
