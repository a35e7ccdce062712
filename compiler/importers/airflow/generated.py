"""dagshift's own Airflow output (compiler/backends/airflow*.py) read back as the tasks it came from.

The backend writes each task as an engineer would, so its code carries the pipeline: a python
task's function imports `module:function` and calls it with its arguments (literals, f-strings,
`params["x"]`, the function's own arguments for upstream values, the mapped item); a shell task
run by a TaskFlow function builds its command and runs it with subprocess; the values a task
returns are named in its code (`accuracy = main(...)`, `accuracy_path = os.path.join(outputs,
"accuracy")`) and typed by its return annotation (a TypedDict for several); a `@task.branch`
returns the task it guards if the condition holds; a pod's command is `sh -c 'CMD "$@"' sh ARG...`,
`python3 -c SCRIPT`, or either behind the wrapper collecting its value outputs.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

from compiler.backends.airflow.conventions import (
    ARGS_SUFFIX,
    COLLECT_OUTPUTS_START,
    DOCSTRING_TITLE,
    ENVIRONMENT,
    HELPER_SEPARATOR,
    ITEMS,
    OUTPUT_PATH_SUFFIX,
    POD_OUTPUTS,
    TEXT,
    WORKDIR,
    helper_function,
)
from compiler.language import conditions
from compiler.language.placeholders import Ref

from .scan import Found, FoundDag
from .values import NotStatic, dotted, escape, finite

_TEXT_CALLS = ("str", "json.dumps", helper_function(TEXT), "list")  # calls printing (or listing) the value they read
_VALUE_TYPES = ("str", "int", "float", "bool", "list", "dict")


def is_generated(module: ast.Module) -> bool:
    """The module docstring the backend writes (templates/airflow/dag.py.j2)."""
    first = (ast.get_docstring(module) or "").split("\n", 1)[0]
    start, _, end = DOCSTRING_TITLE.partition("{name}")
    return first.startswith(start) and first.endswith(end)


# ----------------------------------------------------------------------------- values


@dataclass
class Values:
    """The code of one generated function read as pipeline values. `names`: a local name -> the
    placeholder it holds (the item, an upstream value, a value output's file); `records`: an
    argument holding a pod's dict of values -> that task (`arg["name"]` reads one of them)."""

    names: dict[str, str] = field(default_factory=dict)
    records: dict[str, str] = field(default_factory=dict)

    def value(self, node: ast.expr) -> Any:
        """A value as written in `args`: a whole placeholder, a text, or a literal structure."""
        if isinstance(node, ast.Constant):
            return escape(node.value) if isinstance(node.value, str) else finite(node.value, node)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
            return {finite(k.value, k): self.value(v) for k, v in zip(node.keys, node.values)}  # type: ignore[union-attr]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                and type(node.operand.value) in (int, float):
            return -finite(node.operand.value, node)
        if isinstance(node, ast.JoinedStr):
            return self.text(node)
        return self.placeholder(node)

    def text(self, node: ast.expr) -> str:
        """A text: a literal, an f-string, or one value printed."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return escape(node.value)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    parts.append(escape(str(part.value)))
                elif isinstance(part, ast.FormattedValue):
                    parts.append(self.placeholder(part.value))
                else:
                    raise NotStatic(part)
            return "".join(parts)
        return self.placeholder(node)

    def placeholder(self, node: ast.expr) -> str:
        """`${{ ... }}` for the code reading one value (and printing it: str(), json.dumps(), _text())."""
        if isinstance(node, ast.Call) and dotted(node.func) in _TEXT_CALLS and len(node.args) == 1:
            return self.placeholder(node.args[0])
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.names[node.id]
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key, base = node.slice.value, node.value
            if dotted(base) == "params":
                return f"${{{{ params.{key} }}}}"
            if isinstance(base, ast.Name) and base.id in self.records:
                return f"${{{{ tasks.{self.records[base.id]}.outputs.{key} }}}}"
            if isinstance(base, ast.Name) and self.names.get(base.id) == "${{ item }}":
                return f"${{{{ item.{key} }}}}"
        raise NotStatic(node)

    def ref(self, node: ast.expr) -> Ref:
        """The placeholder of `node` as a reference (for conditions)."""
        from compiler.language.placeholders import parse

        segments = parse(self.placeholder(node))[0]
        if len(segments) != 1 or not isinstance(segments[0], Ref):
            raise NotStatic(node)
        return segments[0]


# ----------------------------------------------------------------------------- the file


@dataclass
class GeneratedFile:
    """What a generated DAG defines besides its tasks: functions (alert callbacks) and TypedDicts."""

    functions: dict[str, ast.FunctionDef]
    classes: dict[str, ast.ClassDef]
    dag: FoundDag
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # task id -> its value outputs

    def __post_init__(self) -> None:
        self.by_function = {f.function.name: task_id for task_id, f in self.dag.tasks.items() if f.function}
        for task_id, found in self.dag.tasks.items():
            outputs = self._declared_outputs(found)
            if outputs:
                self.outputs[task_id] = outputs

    # ------------------------------------------------------------------ value outputs

    def _declared_outputs(self, found: Found) -> dict[str, Any]:
        if found.function is not None and found.cls == "task":
            return self._function_outputs(found.function)
        if found.cls == "KubernetesPodOperator":
            return pod_outputs(_static_list(found.kwargs.get("cmds")))
        return {}

    def _function_outputs(self, function: ast.FunctionDef) -> dict[str, Any]:
        kind = dotted(function.returns) if function.returns is not None else None
        if kind is None or kind == "list" and function.name.endswith(HELPER_SEPARATOR + ITEMS):
            return {}
        if kind in self.classes:  # several values: a TypedDict, one XCom each
            return {f.target.id: dotted(f.annotation) for f in self.classes[kind].body
                    if isinstance(f, ast.AnnAssign) and isinstance(f.target, ast.Name)}
        paths = _output_files(function)
        if paths:
            ((name, path),) = paths.items()
            return {name: kind if path is None else {"type": kind, "path": path}}
        for node in ast.walk(function):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
                return {node.value.id: kind}
        return {}

    def single_output(self, task_id: str) -> str | None:
        outputs = self.outputs.get(task_id, {})
        return next(iter(outputs)) if len(outputs) == 1 else None

    def several(self, task_id: str) -> bool:
        return len(self.outputs.get(task_id, {})) > 1

    # ------------------------------------------------------------------ arguments

    def argument_ref(self, node: ast.expr) -> tuple[str | None, str | None]:
        """(placeholder, or None; task id when it is a pod's dict of values) of an XComArg argument:
        `task`, `task["name"]`, `task.output`."""
        if isinstance(node, ast.Name) and node.id in self.dag.variables:
            task_id = self.dag.variables[node.id]
            name = self.single_output(task_id)
            return (f"${{{{ tasks.{task_id}.outputs.{name} }}}}" if name else None), None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
                isinstance(node.value, ast.Name) and node.value.id in self.dag.variables:
            return f"${{{{ tasks.{self.dag.variables[node.value.id]}.outputs.{node.slice.value} }}}}", None
        if isinstance(node, ast.Attribute) and node.attr == "output" and isinstance(node.value, ast.Name) and \
                node.value.id in self.dag.variables:
            task_id = self.dag.variables[node.value.id]
            if self.several(task_id):
                return None, task_id
            return f"${{{{ tasks.{task_id}.outputs.{self.single_output(task_id)} }}}}", None
        raise NotStatic(node)

    def values_of(self, found: Found) -> Values:
        """The names a TaskFlow function's code reads: its call's XCom arguments and its item."""
        values = Values()
        keywords = found.call.keywords if found.call is not None else []  # `.partial(...)`'s, when mapped
        for keyword in keywords:
            if keyword.arg is None or keyword.arg in (found.expand or {}):
                continue
            text, record = self.argument_ref(keyword.value)
            if record is not None:
                values.records[keyword.arg] = record
            elif text is not None:
                values.names[keyword.arg] = text
        for name in found.expand or {}:
            values.names[name] = "${{ item }}"
        return values

    # ------------------------------------------------------------------ tasks

    def task(self, found: Found) -> dict[str, Any]:
        """A python or shell task from its TaskFlow function."""
        assert found.function is not None
        values = self.values_of(found)
        for name, path_var in _output_variables(found.function).items():
            values.names[path_var] = f"${{{{ outputs.{name} }}}}"
        task = _Body(values).read(found.function.body)
        outputs = self.outputs.get(found.task_id)
        if outputs:
            task["outputs"] = outputs
        return task

    def alert(self, name: str) -> dict[str, Any] | None:
        """A python alert callback the file defines: `module:function` and its args."""
        function = self.functions.get(name)
        if function is None:
            return None
        task = _Body(Values()).read(function.body)
        if "python" not in task:
            return None
        return {"python": task["python"], **({"args": task["args"]} if task.get("args") else {})}

    # ------------------------------------------------------------------ helpers

    def items(self, found: Found) -> tuple[str, list[str] | None]:
        """A `<task>__items` function: (foreach, each item's pod arguments or None)."""
        assert found.function is not None
        values = self.values_of(found)
        returned = next(n.value for n in ast.walk(found.function) if isinstance(n, ast.Return))
        if isinstance(returned, ast.ListComp) and isinstance(returned.elt, ast.List):
            generator = returned.generators[0]
            if isinstance(generator.target, ast.Name):
                values.names[generator.target.id] = "${{ item }}"
            foreach = values.placeholder(generator.iter)
            return foreach, [values.text(e) for e in returned.elt.elts]  # json.dumps(item) too: the item
        return values.placeholder(returned), None

    def condition(self, found: Found) -> tuple[str, list[str], list[str]]:
        """A `<task>__branch`: (the condition, the tasks it chooses, the tasks it chooses otherwise)."""
        assert found.function is not None
        values = self.values_of(found)
        returned = found.function.body[-1]
        if not (isinstance(returned, ast.Return) and isinstance(returned.value, ast.IfExp)):
            raise NotStatic(found.function)
        choice = returned.value
        when = conditions.render(_condition(choice.test, values))
        return when, _ids(choice.body), _ids(choice.orelse)

# ----------------------------------------------------------------------------- function bodies


class _Body:
    """A generated TaskFlow function's statements read as task fields: the function it imports and
    calls with its arguments, or the command it runs; the env (and secrets) it sets."""

    def __init__(self, values: Values):
        self.values = values
        self.task: dict[str, Any] = {}
        self.imported: tuple[str, str, str] | None = None  # module, name, local name
        self.texts: dict[str, ast.expr] = {}  # a local bound to a text (the command)

    def read(self, body: list[ast.stmt]) -> dict[str, Any]:
        for statement in _flatten(body):
            self._statement(statement)
        return self.task

    def _statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.ImportFrom) and node.module:
            alias = node.names[0]
            self.imported = (node.module, alias.name, alias.asname or alias.name)
        elif isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and dotted(call.func) == helper_function(ENVIRONMENT) and call.args:
                    self._env(call.args[0])
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if isinstance(node.value, ast.Call) and dotted(node.value.func) not in _TEXT_CALLS + ("os.path.join",):
                self._call(node.value)
            else:
                self.texts[node.targets[0].id] = node.value
        elif isinstance(node, (ast.Expr, ast.Return)) and isinstance(node.value, ast.Call):
            self._call(node.value)

    def _call(self, call: ast.Call) -> None:
        name = dotted(call.func) or ""
        if name == "subprocess.run" and call.args:
            self._run(call)
            return
        if self.imported is None or name.partition(".")[0] != self.imported[2]:
            return
        module, original, _ = self.imported
        rest = name.partition(".")[2]
        self.task["python"] = f"{module}:{original}" + (f".{rest}" if rest else "")
        args = {k.arg: self.values.value(k.value) for k in call.keywords if k.arg}
        if args:
            self.task["args"] = args

    def _run(self, call: ast.Call) -> None:
        argv = call.args[0]
        if not isinstance(argv, ast.List):
            raise NotStatic(argv)
        if len(argv.elts) == 3 and _constants(argv.elts[:2]) == ["bash", "-c"]:
            command = argv.elts[2]
            if isinstance(command, ast.Name) and command.id in self.texts:
                command = self.texts[command.id]
            self.task["command"] = self.values.text(command)
        else:
            self.task["command"] = [self.values.text(part) for part in argv.elts]
        for keyword in call.keywords:
            if keyword.arg == "env":
                self._env(keyword.value)

    def _env(self, node: ast.expr) -> None:
        if not isinstance(node, ast.Dict):
            raise NotStatic(node)
        for key, value in zip(node.keys, node.values):
            if key is None:
                continue  # **os.environ
            name = key.value if isinstance(key, ast.Constant) else None
            secret = _secret(value)
            if secret is not None:
                self.task.setdefault("secrets", {})[name] = secret
            else:
                self.task.setdefault("env", {})[name] = self.values.text(value)


# ----------------------------------------------------------------------------- pods


def pod_argv(argv: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A generated pod's argv as (task fields, value outputs): the command and args, or the python
    callable and its arguments."""
    task: dict[str, Any] = {}
    outputs = pod_outputs(argv)
    if _collects_outputs(argv):
        spec = json.loads(argv[4])
        argv = argv[5:]
        paths = {path: f"${{{{ outputs.{name} }}}}" for name, (_, path) in spec.items()}
        argv = [_unpath(a, paths) for a in argv]
    if argv[:2] == ["python3", "-c"] and len(argv) >= 3 and "\nfrom " in argv[2]:
        task.update(_python_script(argv[2], argv[3:]))
    elif argv[:2] == ["sh", "-c"] and len(argv) >= 4 and argv[3] == "sh" and argv[2].endswith(ARGS_SUFFIX):
        task["command"], task["args"] = argv[2][: -len(ARGS_SUFFIX)], argv[4:]
    elif argv[:2] == ["sh", "-c"] and len(argv) == 3:
        task["command"] = argv[2]
    return task, outputs


def _collects_outputs(argv: list[Any]) -> bool:
    """The pod runs its command behind the wrapper collecting its value outputs."""
    return len(argv) >= 5 and argv[:2] == ["sh", "-c"] and str(argv[2]).startswith(COLLECT_OUTPUTS_START)


def pod_outputs(argv: list[Any] | None) -> dict[str, Any]:
    """A pod's value outputs: in the wrapper's spec, or named and typed in its python script."""
    if not argv:
        return {}
    if not _collects_outputs(argv):
        script = argv[2] if argv[:2] == ["python3", "-c"] and len(argv) >= 3 else None
        return _script_outputs(script) if isinstance(script, str) else {}
    try:
        spec = json.loads(argv[4])
        return {name: kind if path == f"{POD_OUTPUTS}/{name}" else {"type": kind, "path": path}
                for name, (kind, path) in spec.items()}
    except (TypeError, ValueError, AttributeError):  # an edited spec: not {name: [kind, path]} as dagshift writes it
        return {}


def _unpath(text: str, paths: dict[str, str]) -> str:
    for path, placeholder in paths.items():
        text = text.replace(path, placeholder)
    return text


def _python_script(script: str, arguments: list[str]) -> dict[str, Any]:
    """`python3 -c SCRIPT ARG...`: the function the script imports and the arguments it passes."""
    module = ast.parse(script)
    imported = next(n for n in module.body if isinstance(n, ast.ImportFrom) and n.module not in ("json", "sys"))
    local = imported.names[0].asname or imported.names[0].name
    call = next(n for n in ast.walk(module) if isinstance(n, ast.Call) and (dotted(n.func) or "").split(".")[0] == local)
    rest = (dotted(call.func) or "").partition(".")[2]
    task: dict[str, Any] = {"python": f"{imported.module}:{imported.names[0].name}" + (f".{rest}" if rest else "")}
    args = {}
    for keyword in call.keywords:
        value = keyword.value
        read = value.args[0] if isinstance(value, ast.Call) and dotted(value.func) == "json.loads" else value
        if isinstance(read, ast.Subscript) and dotted(read.value) == "sys.argv" and isinstance(read.slice, ast.Constant):
            args[keyword.arg] = arguments[read.slice.value - 1]
        else:
            args[keyword.arg] = Values().value(value)
    if args:
        task["args"] = args
    return task


def _script_outputs(script: str) -> dict[str, Any]:
    try:
        module = ast.parse(script)
    except SyntaxError:
        return {}
    return {node.target.id: dotted(node.annotation) for node in module.body
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
            and dotted(node.annotation) in _VALUE_TYPES}


# ----------------------------------------------------------------------------- small readers


def _flatten(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements, those inside `with` blocks after the `with` itself."""
    out: list[ast.stmt] = []
    for statement in body:
        out.append(statement)
        if isinstance(statement, ast.With):
            out += _flatten(statement.body)
    return out


def _output_files(function: ast.FunctionDef) -> dict[str, str | None]:
    """A shell task's value output files: output -> its `path` (None: a temporary file)."""
    files: dict[str, str | None] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                dotted(node.value.func) == "os.path.join" and len(node.value.args) == 2:
            base, where = node.value.args
            target = node.targets[0]
            if not (isinstance(where, ast.Constant) and isinstance(target, ast.Name)):
                continue
            if dotted(base) == WORKDIR:
                files[target.id.removesuffix(OUTPUT_PATH_SUFFIX)] = where.value
            else:
                files[where.value] = None
    return files


def _output_variables(function: ast.FunctionDef) -> dict[str, str]:
    """output -> the local variable holding its file."""
    found: dict[str, str] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                dotted(node.value.func) == "os.path.join" and len(node.value.args) == 2:
            base, where = node.value.args
            target = node.targets[0]
            if isinstance(where, ast.Constant) and isinstance(target, ast.Name):
                name = target.id.removesuffix(OUTPUT_PATH_SUFFIX) if dotted(base) == WORKDIR else where.value
                found[name] = target.id
    return found


def _constants(nodes: list[ast.expr]) -> list[Any]:
    return [n.value if isinstance(n, ast.Constant) else None for n in nodes]


def _static_list(node: ast.expr | None) -> list[Any] | None:
    if isinstance(node, ast.List) and all(isinstance(e, ast.Constant) for e in node.elts):
        return [e.value for e in node.elts]  # type: ignore[attr-defined]
    return None


def _secret(node: ast.expr) -> dict[str, str] | None:
    """`Variable.get("name", deserialize_json=True)["key"]`."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.value, ast.Call) \
            and dotted(node.value.func) == "Variable.get" and node.value.args:
        name = node.value.args[0]
        if isinstance(name, ast.Constant):
            return {"name": name.value, "key": node.slice.value}
    return None


def _ids(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.List):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    raise NotStatic(node)


def _condition(node: ast.expr, values: Values) -> Any:
    """The generated condition code back as a condition expression."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        ops = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
        return conditions.Compare(ops[type(node.ops[0])], _condition(node.left, values),
                                  _condition(node.comparators[0], values))
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        return conditions.BoolOp(op, tuple(_condition(v, values) for v in node.values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return conditions.Not(_condition(node.operand, values))
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        return conditions.Literal(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return conditions.Literal(-node.operand.value)
    return conditions.RefOperand(values.ref(node), 0)
