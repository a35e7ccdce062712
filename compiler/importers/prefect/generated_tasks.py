"""A task function of dagshift's Prefect output (compiler/backends/prefect/tasks.py), read back:
the command it runs or the function it calls, its env vars, secrets and value outputs, and its
fan-out limit. What each argument is (a param, the item of a fan-out, an upstream task's result)
comes from the call in the flow body; expressions over the arguments become placeholders again.
"""

from __future__ import annotations

import ast
from typing import Any

from compiler.backends.prefect.conventions import ISOLATED, OUTPUT_PATH_SUFFIX, RUN_COMMAND, TEXT
from compiler.language.placeholders import escaped

from .module import ModuleReader
from .values import NOT_LITERAL, attribute_path, call_name, decorator_name, literal, literal_keys

Meaning = tuple[str, ...]  # ("param", NAME) | ("item",) | ("task", TASK_ID)
TYPE_NAMES = {"str", "int", "float", "bool", "list", "dict"}


class Unreadable(Exception):
    """The function is not one dagshift writes: the caller reports it."""


class TaskCode:
    def __init__(self, module: ModuleReader, function: ast.FunctionDef, meanings: dict[str, Meaning],
                 tasks: dict[str, dict[str, Any]]):
        self.module = module
        self.function = function
        self.meanings = dict(meanings)  # local name -> what it holds
        self.tasks = tasks  # the tasks read so far (their outputs name what a value is)
        self.imports: dict[str, str] = {}  # local name -> "module:function"
        self.paths: dict[str, tuple[str, str | None]] = {}  # variable -> (output name, declared path)
        self.task: dict[str, Any] = {}
        self.returned: ast.expr | None = None
        self.called: dict[str, ast.Call] = {}  # variable -> the call whose result it holds

    def read(self) -> dict[str, Any]:
        self._block(self.function.body)
        if self.returned is not None:
            self.task["outputs"] = self._outputs(self.returned)
        return self.task

    # ------------------------------------------------------------------ statements

    def _block(self, statements: list[ast.stmt]) -> None:
        for node in statements:
            self._statement(node)

    def _statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # the docstring
        if isinstance(node, ast.Pass):
            return
        if isinstance(node, ast.ImportFrom) and node.module and len(node.names) == 1:
            alias = node.names[0]
            self.imports[alias.asname or alias.name] = f"{node.module}:{alias.name}"
            return
        if isinstance(node, ast.With) and len(node.items) == 1:
            self._with(node)
            return
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self._assign(node.targets[0].id, node.value)
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            self._call(node.value)
            return
        if isinstance(node, ast.Return) and node.value is not None:
            self.returned = node.value
            self._returns_call(node.value)
            return
        raise Unreadable(ast.unparse(node)[:60])

    def _with(self, node: ast.With) -> None:
        item = node.items[0]
        context = item.context_expr
        if isinstance(context, ast.Name) and context.id in self.module.slots:
            self.task["max_parallel"] = self.module.slots[context.id]
        elif decorator_name(context) == "TemporaryDirectory" and isinstance(item.optional_vars, ast.Name):
            self.meanings[item.optional_vars.id] = ("scratch",)
        else:
            raise Unreadable(ast.unparse(context))
        self._block(node.body)

    def _assign(self, name: str, value: ast.expr) -> None:
        if isinstance(value, ast.Call) and decorator_name(value) == "join" and len(value.args) == 2:
            output = literal(value.args[1])
            if isinstance(output, str):
                self.paths[name] = (output, None)
                return
        declared = literal(value)
        if isinstance(declared, str):
            self.paths[name] = (_stripped(name, OUTPUT_PATH_SUFFIX), declared)
            return
        if isinstance(value, ast.Call):
            self._call(value)
            self.called[name] = value
            return
        raise Unreadable(ast.unparse(value)[:60])

    def _returns_call(self, value: ast.expr) -> None:
        """`return function(...)` styles: the call itself is the task's work."""
        inner = value.args[0] if isinstance(value, ast.Call) and call_name(value) == "float" and value.args else value
        if isinstance(inner, ast.Call) and self._python_target(inner) is not None:
            self._call(inner)

    # ------------------------------------------------------------------ what the task runs

    def _call(self, call: ast.Call) -> None:
        name = call_name(call)
        if name == RUN_COMMAND:
            self._shell(call)
            return
        target = self._python_target(call)
        if target is None:
            raise Unreadable(ast.unparse(call)[:60])
        function, options = target
        self.task["python"] = function
        args = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                extra = self.value(keyword.value)
                if isinstance(extra, dict):
                    args.update(extra)
                continue
            args[keyword.arg] = self.value(keyword.value)
        if args:
            self.task["args"] = args
        for keyword in options:
            if keyword.arg == "env":
                self._env(keyword.value)

    def _python_target(self, call: ast.Call) -> tuple[str, list[ast.keyword]] | None:
        """`function(...)`, `function.attr(...)` or `isolated(function, ...)(...)`: the target and
        the options of `isolated`."""
        func = call.func
        options: list[ast.keyword] = []
        if isinstance(func, ast.Call) and call_name(func) == ISOLATED and func.args:
            options = func.keywords
            func = func.args[0]
        func, path = attribute_path(func)
        if not isinstance(func, ast.Name) or func.id not in self.imports:
            return None
        return ".".join([self.imports[func.id], *path]), options

    def _shell(self, call: ast.Call) -> None:
        if not call.args:
            raise Unreadable("run_command()")
        command = self.value(call.args[0])
        self.task["command"] = command
        for keyword in call.keywords:
            if keyword.arg == "env":
                self._env(keyword.value)

    def _env(self, node: ast.expr) -> None:
        keys = literal_keys(node) if isinstance(node, ast.Dict) else None
        if keys is None:
            raise Unreadable(ast.unparse(node))
        env, secrets = {}, {}
        for key, value in zip(keys, node.values):
            secret = _secret(value)
            if secret is not None:
                secrets[key] = secret
            else:
                env[key] = self.value(value)
        if env:
            self.task["env"] = env
        if secrets:
            self.task["secrets"] = secrets

    # ------------------------------------------------------------------ outputs

    def _outputs(self, node: ast.expr) -> dict[str, Any]:
        annotation = self.function.returns
        fields = self.module.typed_dict(annotation.id) if isinstance(annotation, ast.Name) else None
        if fields is not None and isinstance(node, ast.Call) and node.keywords:
            return {k.arg: self._output(fields.get(str(k.arg), "str"), k.value) for k in node.keywords}
        type_name = ast.unparse(annotation) if annotation is not None else "str"
        return {self._output_name(node): self._output(type_name, node)}

    def _output(self, type_name: str, node: ast.expr) -> Any:
        path = self._declared_path(node)
        if type_name not in TYPE_NAMES:
            raise Unreadable(f"output type {type_name}")
        return {"type": type_name, "path": path} if path else type_name

    def _output_name(self, node: ast.expr) -> str:
        """The variable a python task's value is named by, or the output file a command wrote."""
        inner = node.args[0] if isinstance(node, ast.Call) and call_name(node) == "float" and node.args else node
        if isinstance(inner, ast.Name) and inner.id in self.called:
            return _stripped(inner.id, "", self.meanings)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.paths:
                return self.paths[sub.id][0]
        raise Unreadable(ast.unparse(node)[:60])

    def _declared_path(self, node: ast.expr) -> str | None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.paths:
                return self.paths[sub.id][1]
        return None

    # ------------------------------------------------------------------ values

    def value(self, node: ast.expr) -> Any:
        """An argument, env value or command as dagshift text: literals escaped, expressions over
        the task's arguments as placeholders."""
        found = literal(node)
        if found is not NOT_LITERAL:
            return escaped(found)
        if isinstance(node, ast.JoinedStr):
            return "".join(escaped(str(p.value)) if isinstance(p, ast.Constant) else self._placeholder(p.value)
                           for p in node.values)
        if isinstance(node, ast.List):
            return [self.value(v) for v in node.elts]
        keys = literal_keys(node) if isinstance(node, ast.Dict) else None
        if keys is not None:
            return {k: self.value(v) for k, v in zip(keys, node.values)}
        return self._placeholder(node)

    def _placeholder(self, node: ast.expr) -> str:
        if isinstance(node, ast.Call) and call_name(node) == TEXT and len(node.args) == 1:
            node = node.args[0]
        if isinstance(node, ast.Name):
            if node.id in self.paths:
                return f"${{{{ outputs.{self.paths[node.id][0]} }}}}"
            return self._name(self.meanings.get(node.id), None, node)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            key = literal(node.slice)
            if isinstance(key, str):
                return self._name(self.meanings.get(node.value.id), key, node)
        if isinstance(node, ast.ListComp) and isinstance(node.elt, ast.Subscript) and len(node.generators) == 1:
            source = node.generators[0].iter
            key = literal(node.elt.slice)
            if isinstance(source, ast.Name) and isinstance(key, str):
                return self._name(self.meanings.get(source.id), key, node)
        raise Unreadable(ast.unparse(node)[:60])

    def _name(self, meaning: Meaning | None, key: str | None, node: ast.expr) -> str:
        if meaning is None:
            raise Unreadable(ast.unparse(node)[:60])
        if meaning[0] == "param" and key is None:
            return f"${{{{ params.{meaning[1]} }}}}"
        if meaning[0] == "item":
            return "${{ item }}" if key is None else f"${{{{ item.{key} }}}}"
        if meaning[0] == "task":
            outputs = self.tasks.get(meaning[1], {}).get("outputs") or {}
            if key is None and len(outputs) == 1:
                key = next(iter(outputs))
            if key in outputs:
                return f"${{{{ tasks.{meaning[1]}.outputs.{key} }}}}"
        raise Unreadable(ast.unparse(node)[:60])


def _secret(node: ast.expr) -> dict[str, str] | None:
    """`Secret.load("name").get()["key"]` -> {name, key}."""
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call)):
        return None
    get = node.value.func
    if not (isinstance(get, ast.Attribute) and get.attr == "get" and isinstance(get.value, ast.Call)):
        return None
    load = get.value
    if decorator_name(load) != "load" or not load.args:
        return None
    name, key = literal(load.args[0]), literal(node.slice)
    return {"name": name, "key": key} if isinstance(name, str) and isinstance(key, str) else None


def _stripped(name: str, suffix: str, meanings: dict | None = None) -> str:
    """The wanted name behind a variable dagshift named `<wanted><suffix>`, a `_` or `_N` added
    when the wanted one was taken."""
    if suffix and name.endswith(suffix):
        return name[: -len(suffix)]
    base = name.rstrip("0123456789")
    if base.endswith("_") and base[:-1] and meanings is not None and base[:-1] in meanings:
        return base[:-1]
    return name
