"""Kubeflow importer: what runs inside an executor, read back.

* dagshift's container command forms (compiler/backends/kubeflow/backend.py): a shell command cut into
  pieces that `sh -c 'IFS=; exec bash -c "$*"'` joins again; a script with container args, and
  exec-form argv whose arguments mix text and values, both passed as count-prefixed argument
  groups that sh rebuilds (`JOIN_WITH_ARGS`, `EXEC_REBUILT`); the workdir's `cd -- DIR || exit`
  before a script, or the directory passed as the first rebuilt argument;
* lightweight python components whose body imports `module:function` and calls it (dagshift's
  form, with `os.chdir(WORKDIR)` before the import when the pipeline has a workdir);
* the bodies of tasks that take a `dsl.PipelineTaskFinalStatus`: dagshift's final-state probe
  (`return status.state`) and its alerts tasks (`if status.state == "FAILED":` blocks running a
  bash command or calling a python function).
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from compiler.backends.kubeflow.backend import EXEC_REBUILT, EXEC_REBUILT_IN_WORKDIR, JOIN, JOIN_WITH_ARGS
from compiler.backends.kubeflow.conventions import ARGS_PIECE, CD_WORKDIR, FINAL_STATUS, TEXT_HELPER

_FORMS = {  # the command dagshift writes -> (form, whether the task named its own image)
    ("sh", "-c", JOIN, "sh"): ("shell", False),
    ("sh", "-c", JOIN.replace("bash", "sh"), "sh"): ("shell", True),
    ("sh", "-c", JOIN_WITH_ARGS, "sh"): ("shell_args", False),
    ("sh", "-c", JOIN_WITH_ARGS.replace("bash", "sh"), "sh"): ("shell_args", True),
    ("sh", "-c", EXEC_REBUILT, "sh"): ("exec", True),
    ("sh", "-c", EXEC_REBUILT_IN_WORKDIR, "sh"): ("exec_workdir", True),
}
_CD = re.compile(r"\A" + "(.+?)".join(map(re.escape, CD_WORKDIR.split("{dir}"))))
_STATES = {"FAILED": "failure", "SUCCEEDED": "success"}


def dagshift_form(command: list[str]) -> bool:
    return tuple(command) in _FORMS


@dataclass
class Decoded:
    """A container command in one of dagshift's forms: the script (a shell command), the argv
    (container args after a script, or an exec-form command), the workdir it changes into, and
    whether the task named its own image. Texts still hold KFP's placeholders."""

    form: str
    image: bool
    script: str | None = None
    argv: list[str] = field(default_factory=list)
    workdir: str | None = None


def decode(command: list[str], args: list[str]) -> Decoded | None:
    """dagshift's command forms; None for any other command. ValueError when the argument
    groups do not add up (not dagshift's output after all)."""
    form = _FORMS.get(tuple(command))
    if form is None:
        return None
    kind, image = form
    decoded = Decoded(kind, image)
    if kind == "shell":
        decoded.script = "".join(args)
    elif kind == "shell_args":
        count = _count(args, 0)
        pieces = args[1:1 + count]
        if len(pieces) != count or not pieces or pieces[-1] != ARGS_PIECE:
            raise ValueError("the script's pieces do not end with \"$@\"")
        decoded.script = "".join(pieces[:-1])
        decoded.argv = _groups(args[1 + count:])
    else:
        decoded.argv = _groups(args)
        if kind == "exec_workdir":
            if not decoded.argv:
                raise ValueError("no working directory before the command")
            decoded.workdir = decoded.argv.pop(0)
    if decoded.script is not None:
        decoded.script, decoded.workdir = _without_cd(decoded.script)
    return decoded


def _count(args: list[str], index: int) -> int:
    if index >= len(args) or not re.fullmatch(r"\d+", args[index]):
        raise ValueError(f"argument {index} is not a count")
    return int(args[index])


def _groups(args: list[str]) -> list[str]:
    """Count-prefixed argument groups (REBUILD): how many, then each one's count and pieces."""
    total = _count(args, 0)
    index, rebuilt = 1, []
    for _ in range(total):
        count = _count(args, index)
        if index + 1 + count > len(args):
            raise ValueError("an argument group runs past the end")
        rebuilt.append("".join(args[index + 1:index + 1 + count]))
        index += 1 + count
    if index != len(args):
        raise ValueError("arguments left after the last group")
    return rebuilt


def _without_cd(script: str) -> tuple[str, str | None]:
    """The workdir's `cd -- DIR || exit` line (DIR shell-quoted) taken off a script."""
    found = _CD.match(script)
    if found:
        try:
            words = shlex.split(found.group(1))
        except ValueError:
            words = []
        if len(words) == 1 and shlex.quote(words[0]) == found.group(1):
            return script[found.end():], words[0]
    return script, None


# ----------------------------------------------------------------------------- python sources


def function_of(source: str, name: str) -> ast.FunctionDef | None:
    try:
        module = ast.parse(source)
    except SyntaxError:
        return None
    return next((n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _imports(statement: ast.stmt, modules: set[str]) -> bool:
    return isinstance(statement, ast.Import) and all(a.name in modules and not a.asname for a in statement.names)


def _call_of(statement: ast.stmt, dotted: str) -> ast.Call | None:
    value = statement.value if isinstance(statement, ast.Expr) else None
    if isinstance(value, ast.Call) and _dotted(value.func) == dotted:
        return value
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _chdir(statement: ast.stmt) -> str | None:
    call = _call_of(statement, "os.chdir")
    if call and len(call.args) == 1 and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def probe_body(function: ast.FunctionDef) -> bool:
    """dagshift's final-state probe: `return status.state`."""
    body = [s for s in function.body if not _docstring(s)]
    return len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None \
        and _dotted(body[0].value) == f"{FINAL_STATUS}.state"


def alerts_body(function: ast.FunctionDef) -> tuple[list[dict[str, Any]], str | None] | None:
    """dagshift's alerts task: `if status.state == STATE:` blocks, each running a bash command
    or calling an imported function with literal keyword arguments. The alerts and the workdir;
    None for any other body."""
    alerts: list[dict[str, Any]] = []
    workdir = None
    for statement in function.body:
        if _docstring(statement) or _imports(statement, {"subprocess", "os"}):
            continue
        if _chdir(statement) is not None:
            workdir = _chdir(statement)
            continue
        if not isinstance(statement, ast.If) or statement.orelse:
            return None
        test = statement.test
        if not (isinstance(test, ast.Compare) and _dotted(test.left) == f"{FINAL_STATUS}.state" and len(test.ops) == 1
                and isinstance(test.ops[0], ast.Eq) and isinstance(test.comparators[0], ast.Constant)
                and test.comparators[0].value in _STATES):
            return None
        alert = _alert(statement.body)
        if alert is None:
            return None
        alerts.append({"on": _STATES[test.comparators[0].value], **alert})
    return alerts, workdir


def _alert(body: list[ast.stmt]) -> dict[str, Any] | None:
    if len(body) == 1:
        call = _call_of(body[0], "subprocess.run")
        if call is None or len(call.args) != 1 or [(k.arg, _literal(k.value)) for k in call.keywords] != [
                ("check", False)]:
            return None
        argv = _literal(call.args[0])
        if isinstance(argv, list) and len(argv) == 3 and argv[:2] == ["bash", "-c"] and isinstance(argv[2], str):
            return {"command": argv[2]}
        return None
    if len(body) == 2 and isinstance(body[0], ast.ImportFrom) and body[0].module and len(body[0].names) == 1 \
            and not body[0].names[0].asname and isinstance(body[1], ast.Expr) and isinstance(body[1].value, ast.Call):
        call = body[1].value
        head = body[0].names[0].name
        dotted = _dotted(call.func) or ""
        if (dotted != head and not dotted.startswith(head + ".")) or call.args:
            return None
        args = {}
        for keyword in call.keywords:
            value = _literal(keyword.value)
            if keyword.arg is None or value is _NOT_LITERAL:
                return None
            args[keyword.arg] = value
        return {"python": f"{body[0].module}:{dotted}", **({"args": args} if args else {})}
    return None


_NOT_LITERAL = object()


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return _NOT_LITERAL


class PythonBody:
    """A lightweight component's function, read as dagshift writes a python task: an optional
    docstring, the `_text` helper (the run-time text rule), `os.chdir(WORKDIR)` and the sys.path
    line, `from M import F`, then `F(kw=...)` (or `result = F(...)` and the NamedTuple return of
    its outputs). Any other statement makes the component manual: it is code, not a call."""

    def __init__(self, reader: Any, name: str, result: dict[str, Any], inputs: Any, line: int | None):
        self.reader = reader
        self.name = name
        self.result = result
        self.inputs = inputs
        self.line = line
        self.workdir: str | None = None

    def read(self, source: str, function_name: str) -> None:
        function = function_of(source, function_name)
        if function is None:
            self._manual(f"the function {function_name} is not in its source (or the source is not valid Python)")
            return
        if does_nothing(function):
            return  # dagshift's no-op task
        body = [s for s in function.body if not _docstring(s)]
        imported: dict[str, str] = {}
        call, returned = None, None
        for statement in body:
            if _imports(statement, {"os", "sys", "json"}) or _call_of(statement, "sys.path.insert"):
                continue
            if isinstance(statement, ast.FunctionDef) and statement.name == TEXT_HELPER:
                continue
            if _chdir(statement) is not None:
                self.workdir = _chdir(statement)
                continue
            if isinstance(statement, ast.ImportFrom) and statement.module and len(statement.names) == 1 \
                    and call is None:
                alias = statement.names[0]
                imported[alias.asname or alias.name] = f"{statement.module}:{alias.name}"
                continue
            value = statement.value if isinstance(statement, (ast.Expr, ast.Assign, ast.Return)) else None
            target = statement.targets[0] if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None
            if call is None and isinstance(value, ast.Call) and (_dotted(value.func) or "").split(".")[0] in imported \
                    and (isinstance(statement, ast.Expr) or isinstance(target, ast.Name)):
                call, returned = value, getattr(target, "id", None)
                continue
            if call is not None and self.result.get("outputs") and _outputs_return(statement, target, returned):
                continue
            self._manual(f"its body is Python code (line {statement.lineno} of its source: "
                         f"{ast.unparse(statement).splitlines()[0][:60]!r}), not a call of an imported function")
            return
        if call is None:
            self._manual("its body calls no imported function")
            return
        dotted = _dotted(call.func) or ""
        head, _, rest = dotted.partition(".")
        self.result["python"] = imported[head] + (f".{rest}" if rest else "")
        if call.args:
            self.reader.report.loss(f"task {self.name!r}: positional arguments are not carried", self.line)
        args = {k.arg: self._value(k.value) for k in call.keywords if k.arg}
        for keyword in call.keywords:
            if keyword.arg is None and isinstance(keyword.value, ast.Dict) and None not in keyword.value.keys:
                args.update({str(ast.literal_eval(k)): self._value(v)  # type: ignore[arg-type]
                             for k, v in zip(keyword.value.keys, keyword.value.values)})
            elif keyword.arg is None:
                self.reader.report.loss(f"task {self.name!r}: `**{ast.unparse(keyword.value)}` is not carried",
                                        self.line)
        if args:
            self.result["args"] = args

    def _manual(self, why: str) -> None:
        self.reader.report.error(f"the python component of task {self.name!r} cannot be imported: {why}", self.line,
                                 help="port the component's code into a module and call it as `python: module:function`")

    def _value(self, node: ast.expr) -> Any:
        value = _literal(node)
        if value is not _NOT_LITERAL:
            return value
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name):
            return f"${{{{ artifacts.{self.inputs.result_artifact(node.value.id)} }}}}" \
                if node.value.id in self.inputs.artifacts else \
                f"${{{{ artifacts.{self.result.get('_artifact_keys', {}).get(node.value.id, node.value.id)} }}}}"
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "item" \
                and isinstance(_literal(node.slice), str):
            return f"${{{{ item.{_literal(node.slice)} }}}}"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._text(node.left) + self._text(node.right)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._value(v) for v in node.elts]
        if isinstance(node, ast.Dict) and None not in node.keys:
            return {str(ast.literal_eval(k)): self._value(v)  # type: ignore[arg-type]
                    for k, v in zip(node.keys, node.values)}
        self.reader.report.loss(f"task {self.name!r}: argument {ast.unparse(node)!r} is kept as text", self.line,
                                approximate=True)
        return ast.unparse(node)

    def _text(self, node: ast.expr) -> str:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._text(node.left) + self._text(node.right)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.replace("${{", "$${{")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (TEXT_HELPER, "str") and node.args:
            node = node.args[0]
        value = self._value(node)
        return value if isinstance(value, str) else json.dumps(value)

    def _name(self, name: str) -> str:
        ref = self.inputs.parameter(name)
        return ref if ref is not None else name


def _outputs_return(statement: ast.stmt, target: ast.expr | None, returned: str | None) -> bool:
    """How dagshift returns value outputs: `return NAME` of the call's result (one output), or
    `outputs = NamedTuple(...)` and `return outputs(...)` (several; one, before issue 19)."""
    if isinstance(statement, ast.Assign) and getattr(target, "id", None) == "outputs":
        return isinstance(statement.value, ast.Call) and _dotted(statement.value.func) == "NamedTuple"
    value = statement.value if isinstance(statement, ast.Return) else None
    if isinstance(value, ast.Name):
        return value.id == returned
    return isinstance(value, ast.Call) and _dotted(value.func) == "outputs"


def returned_name(function: ast.FunctionDef) -> str | None:
    """The variable a function returns as its last statement (`NAME = F(...)`, `return NAME`)."""
    last = function.body[-1] if function.body else None
    if isinstance(last, ast.Return) and isinstance(last.value, ast.Name):
        return last.value.id
    return None


def does_nothing(function: ast.FunctionDef) -> bool:
    """A body of a docstring and `pass` only: dagshift's no-op task."""
    return all(isinstance(s, ast.Pass) or _docstring(s) for s in function.body)


def calls_an_import(function: ast.FunctionDef) -> bool:
    """Whether a function's body imports a function (`from M import F`) and calls it."""
    imported = {alias.asname or alias.name for s in function.body if isinstance(s, ast.ImportFrom)
                for alias in s.names}
    calls = [s.value for s in function.body if isinstance(s, (ast.Expr, ast.Assign, ast.Return))]
    return any(isinstance(c, ast.Call) and (_dotted(c.func) or "").split(".")[0] in imported for c in calls)
