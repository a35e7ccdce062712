"""dagshift's python scripts read back (compiler/backends/argo/script.py, with the value readers of
compiler/backends/argo/conventions.py): the function the script imports and calls, and its keyword
arguments, with every env var it reads as the placeholder of the value Argo puts in that variable.
Any other source is not one of them (None): it is imported as a plain script.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from compiler.backends.argo.conventions import LIST_READER, READERS, TEXT_FUNCTION

_ENV = "_env_"  # stands for `os.environ[NAME]` in the reader forms


def _form(code: str) -> str:
    return ast.unparse(ast.parse(code, mode="eval"))


# The normalized text of each reader (with _ENV for the env read) -> the value kind it reads.
_KINDS = {_form(reader.format(_ENV)): kind for kind, reader in READERS.items()}
_KINDS[_form(f"json.loads({_ENV})")] = "list:str"
_KINDS.update({_form(LIST_READER.format(_ENV, item=READERS[kind].format("v"))): f"list:{kind}"
               for kind in READERS if kind != "str"})


class NotOurs(Exception):
    """The source is not a script dagshift wrote."""


def _env_name(node: ast.AST) -> str | None:
    """NAME for `os.environ["NAME"]`."""
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" \
            and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    return None


class _EnvRead(ast.NodeTransformer):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        name = _env_name(node)
        if name is None:
            return self.generic_visit(node)
        self.names.append(name)
        return ast.Name(_ENV, ast.Load())


class _Reader:
    def __init__(self, ref: Callable[[str, str], str], literal_text: Callable[[str], str]):
        self.ref = ref
        self.literal_text = literal_text
        self.items: dict[str, str] = {}  # variable -> env var of a fan-out item

    def value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.text(node.left) + self.text(node.right)
        if isinstance(node, ast.Name) and node.id in self.items:
            return self.ref(self.items[node.id], "auto")
        if isinstance(node, ast.List):
            return [self.value(item) for item in node.elts]
        if isinstance(node, ast.Dict) and None not in node.keys:
            return {self.key(key): self.value(item) for key, item in zip(node.keys, node.values)}
        finder = _EnvRead()
        form = ast.unparse(finder.visit(_copy(node)))
        if len(finder.names) == 1 and form in _KINDS:
            return self.ref(finder.names[0], _KINDS[form])
        if finder.names:
            raise NotOurs(form)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "float" and len(node.args) == 1:
            return float(ast.literal_eval(node.args[0]))  # nan, inf
        try:
            value = ast.literal_eval(node)
        except ValueError as error:
            raise NotOurs(ast.unparse(node)) from error
        return self.literal_text(value) if isinstance(value, str) else value

    def text(self, node: ast.AST) -> str:
        """A part of a text: a string, or `_text(value)` (TEXT_FUNCTION)."""
        if isinstance(node, ast.Call) and ast.unparse(node.func) == TEXT_FUNCTION and len(node.args) == 1:
            value = self.value(node.args[0])
            if not isinstance(value, str):
                raise NotOurs(ast.unparse(node))
            return value
        value = self.value(node)
        if not isinstance(value, str):
            raise NotOurs(ast.unparse(node))
        return value

    @staticmethod
    def key(node: ast.AST | None) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        raise NotOurs("a key that is not a string")


def _copy(node: ast.AST) -> ast.AST:
    return ast.parse(ast.unparse(node), mode="eval").body


def read_call(source: str, ref: Callable[[str, str], str],
              literal_text: Callable[[str], str]) -> tuple[str, dict] | None:
    """(module:function, keyword arguments) of a dagshift python script, or None. `ref(env, kind)`
    gives the placeholder of an env var read as `kind`; `literal_text` escapes literal text."""
    try:
        module = ast.parse(source)
    except SyntaxError:
        return None
    reader = _Reader(ref, literal_text)
    imported: dict[str, str] = {}  # local name -> module:name
    call = None
    try:
        for statement in module.body:
            if isinstance(statement, ast.ImportFrom) and statement.module and len(statement.names) == 1:
                alias = statement.names[0]
                imported[alias.asname or alias.name] = f"{statement.module}:{alias.name}"
            elif isinstance(statement, ast.Try):  # a fan-out item: `VAR = json.loads(os.environ[NAME])`
                assign = statement.body[0]
                if not (isinstance(assign, ast.Assign) and isinstance(assign.targets[0], ast.Name)):
                    raise NotOurs("try")
                env = _env_name(assign.value.args[0]) if isinstance(assign.value, ast.Call) and assign.value.args \
                    else None
                if env is None:
                    raise NotOurs("try")
                reader.items[assign.targets[0].id] = env
            elif isinstance(statement, (ast.Expr, ast.Assign)) and isinstance(statement.value, ast.Call) \
                    and call is None:
                call = statement.value
        if call is None:
            return None
        path = ast.unparse(call.func).split(".")
        if path[0] not in imported:
            return None
        target = ".".join([imported[path[0]], *path[1:]])
        kwargs: dict[str, Any] = {}
        for keyword in call.keywords:
            if keyword.arg is not None:
                kwargs[keyword.arg] = reader.value(keyword.value)
            elif isinstance(keyword.value, ast.Dict):
                kwargs.update(reader.value(keyword.value))
            else:
                return None
        if call.args:
            return None
        return target, kwargs
    except NotOurs:
        return None
