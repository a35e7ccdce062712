"""dagshift's DVC python stages read back: `python3 -c '...'`, the line of Python written by
compiler/backends/dvc/python.py, as the task's `python`, `args` and value outputs.

The command arrives resolved (DVC's `${name}` already `${{ params.name }}`). The line never
holds `${{` itself (a `{` after `$` is written `\\x7b`), so every `${{ ... }}` in it is such a
placeholder: each is swapped for a marker name, the line is parsed with `ast`, and a marker
becomes the placeholder again, alone as a whole value or inside a string. Anything not of the
generated shape is not this form (None): the command is then read as any shell command.
"""

from __future__ import annotations

import ast
import posixpath
import re
from typing import Any

from compiler.backends.dvc.conventions import PYTHON_COMMAND

_COMMAND = re.compile(re.escape(PYTHON_COMMAND) + r"'([^']*)'")
_PLACEHOLDER = re.compile(r"\$\{\{ [^{}]*? \}\}")
_MARKER = re.compile(r"_dagshift_ref(\d+)_")
_TYPES = {"str", "int", "float", "bool", "list", "dict"}


class _NotGenerated(Exception):
    """The line is not of the shape dagshift writes."""


def read(command: str) -> dict[str, Any] | None:
    """{"python": "module:function", "args": {...}, "outputs": {name: (type, path)}} or None."""
    match = _COMMAND.fullmatch(command)
    if match is None:
        return None
    placeholders: list[str] = []

    def marker(found: re.Match) -> str:
        placeholders.append(found.group(0))
        return f"_dagshift_ref{len(placeholders) - 1}_"

    try:
        module = ast.parse(_PLACEHOLDER.sub(marker, match.group(1)))
        return _Line(placeholders).read(module.body)
    except (SyntaxError, _NotGenerated, ValueError):
        return None


class _Line:
    def __init__(self, placeholders: list[str]):
        self.placeholders = placeholders
        self.imported: dict[str, str] = {}  # local name -> "module:name"
        self.values: dict[str, tuple[str, ast.expr]] = {}  # variable -> (type, what it holds)

    def read(self, statements: list[ast.stmt]) -> dict[str, Any]:
        statements = list(statements)
        if statements and isinstance(statements[0], ast.Import):
            _expect([alias.name for alias in statements.pop(0).names] == ["json"])
        _expect(bool(statements) and isinstance(statements[0], ast.ImportFrom))
        self.imports(statements.pop(0))
        _expect(bool(statements))
        task = self.call(statements.pop(0))
        outputs: dict[str, tuple[str, str]] = {}
        for statement in statements:
            if isinstance(statement, ast.AnnAssign):
                self.bind(statement)
            else:
                name, entry = self.write(statement)
                outputs[name] = entry
        if outputs:
            task["outputs"] = outputs
        return task

    def imports(self, statement: ast.ImportFrom) -> None:
        _expect(statement.level == 0 and statement.module is not None and len(statement.names) == 1)
        alias = statement.names[0]
        self.imported[alias.asname or alias.name] = f"{statement.module}:{alias.name}"

    def call(self, statement: ast.stmt) -> dict[str, Any]:
        """`f(...)`, `value: T = f(...)` or `result = f(...)`."""
        if isinstance(statement, ast.Expr):
            call = statement.value
        elif isinstance(statement, ast.AnnAssign):
            call = statement.value
            self.bind(statement, returned=True)
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            _expect(isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == "result")
            call = statement.value
        else:
            raise _NotGenerated
        _expect(isinstance(call, ast.Call) and not call.args)
        task: dict[str, Any] = {"python": self.target(call.func)}
        args: dict[str, Any] = {}
        for keyword in call.keywords:
            if keyword.arg is not None:
                args[keyword.arg] = self.value(keyword.value)
                continue
            _expect(isinstance(keyword.value, ast.Dict))
            for key, value in zip(keyword.value.keys, keyword.value.values):
                _expect(isinstance(key, ast.Constant) and isinstance(key.value, str))
                args[key.value] = self.value(value)
        if args:
            task["args"] = args
        return task

    def target(self, node: ast.expr) -> str:
        attributes = []
        while isinstance(node, ast.Attribute):
            attributes.insert(0, node.attr)
            node = node.value
        _expect(isinstance(node, ast.Name) and node.id in self.imported)
        return ".".join([self.imported[node.id], *attributes])

    def bind(self, statement: ast.AnnAssign, returned: bool = False) -> None:
        """`name: T = ...`: a value output's variable and its type."""
        _expect(isinstance(statement.target, ast.Name) and isinstance(statement.annotation, ast.Name))
        type_name = statement.annotation.id
        _expect(type_name in _TYPES)
        if not returned:
            source = statement.value
            _expect(isinstance(source, ast.Subscript) and isinstance(source.value, ast.Name)
                    and source.value.id == "result")
        self.values[statement.target.id] = (type_name, statement.value)

    def write(self, statement: ast.stmt) -> tuple[str, tuple[str, str]]:
        """`open(PATH, "w", encoding="utf-8").write(TEXT)`: the output named by the file."""
        _expect(isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call))
        write = statement.value
        _expect(isinstance(write.func, ast.Attribute) and write.func.attr == "write" and len(write.args) == 1)
        opened = write.func.value
        _expect(isinstance(opened, ast.Call) and isinstance(opened.func, ast.Name) and opened.func.id == "open")
        path = opened.args[0] if opened.args else None
        _expect(isinstance(path, ast.Constant) and isinstance(path.value, str))
        variables = [node.id for node in ast.walk(write.args[0]) if isinstance(node, ast.Name) and node.id in self.values]
        _expect(len(variables) == 1)
        type_name, _ = self.values[variables[0]]
        return posixpath.basename(path.value), (type_name, path.value)

    def value(self, node: ast.expr) -> Any:
        """An argument as dagshift syntax: literals as they are, texts with `${{` escaped and
        the placeholders put back."""
        if isinstance(node, ast.Name):
            found = _MARKER.fullmatch(node.id)
            _expect(found is not None)
            return self.placeholders[int(found.group(1))]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.replace("${{", "$${{")
            return _MARKER.sub(lambda m: self.placeholders[int(m.group(1))], text)
        if isinstance(node, ast.List):
            return [self.value(item) for item in node.elts]
        if isinstance(node, ast.Dict):
            _expect(all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys))
            return {k.value: self.value(v) for k, v in zip(node.keys, node.values)}
        return ast.literal_eval(_no_names(node))


def _no_names(node: ast.expr) -> ast.expr:
    """`float("nan")` as the constant it writes; anything else for literal_eval to judge."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float"
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant)):
        return ast.Constant(float(node.args[0].value))
    return node


def _expect(condition: bool) -> None:
    if not condition:
        raise _NotGenerated
