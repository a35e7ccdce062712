"""The flow body dagshift's Prefect backend writes (compiler/backends/prefect.py), decoded exactly:
every task runs `_run(_SPECS[id], ...)`, the body submits tasks with the helpers of
templates/prefect/runtime.py.j2 and holds the edges, conditions, trigger rules and fan-outs."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any

from .prefect_conditions import condition_text, parses, refs_in, same_condition
from .prefect_values import NOT_LITERAL, call_name, escape, literal, strings

if TYPE_CHECKING:
    from .prefect import FlowReader


def placeholder(spec: Any) -> str | None:
    """A runtime placeholder tuple as `${{ ... }}` text."""
    if not isinstance(spec, tuple) or not spec:
        return None
    kind = spec[0]
    if kind == "param" and len(spec) == 2:
        return f"${{{{ params.{spec[1]} }}}}"
    if kind == "output" and len(spec) >= 3:
        return f"${{{{ tasks.{spec[1]}.outputs.{spec[2]} }}}}"
    if kind == "item" and len(spec) == 2:
        return "${{ item }}" if spec[1] is None else f"${{{{ item.{spec[1]} }}}}"
    if kind == "out" and len(spec) == 2:
        return f"${{{{ outputs.{spec[1]} }}}}"
    return None


def spec_value(spec: Any) -> Any:
    """A runtime spec value back as dagshift text: literals escaped, tuples as placeholders."""
    if isinstance(spec, list):
        return [spec_value(v) for v in spec]
    if isinstance(spec, dict):
        return {k: spec_value(v) for k, v in spec.items()}
    if isinstance(spec, str):
        return escape(spec)
    if isinstance(spec, tuple) and spec and spec[0] == "concat":
        return "".join(escape(p) if isinstance(p, str) else (placeholder(p) or "") for p in spec[1:])
    if isinstance(spec, tuple):
        return placeholder(spec)
    return spec


class GeneratedBody:
    """The flow body dagshift's Prefect backend writes (see the module docstring)."""

    def __init__(self, flow: FlowReader):
        self.flow = flow
        self.m = flow.m
        self.functions = {f.name: f for f in self.m.tasks().values()}
        self.conditions: dict[str, str] = {}

    def read(self) -> None:
        for statement in self.flow.f.body:
            self._statement(statement, [])

    def _statement(self, node: ast.stmt, checks: list[ast.expr]) -> None:
        if isinstance(node, ast.If):
            tests = node.test.values if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.And) \
                else [node.test]
            for inner in node.body:
                self._statement(inner, checks + list(tests))
            return
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
            target = node.targets[0]
            key = literal(target.slice)
            holder = getattr(target.value, "id", "")
            if holder == "_futures" and isinstance(key, str):
                self._task(key, node.value, checks)
                return
            if holder == "_when" and isinstance(key, str):
                self._condition(key, node)
                return
        if isinstance(node, (ast.Assign, ast.Return)):
            return  # _params / _futures / _when set-up, `return _finish(_futures)`
        self.flow.report.loss(f"flow code {ast.unparse(node)[:60]!r} is not carried", node.lineno, node.col_offset + 1)

    def _condition(self, task_id: str, node: ast.Assign) -> None:
        """`_when[id] = _condition(_futures, sources, lambda: EXPR)`: the comment above has the
        original text; EXPR is read back when there is no comment (or it does not match)."""
        call = node.value
        expr = call.args[2].body if isinstance(call, ast.Call) and len(call.args) == 3 and \
            isinstance(call.args[2], ast.Lambda) else None
        comment = self._comment(node.lineno)
        if comment is not None and expr is not None and same_condition(comment, expr):
            self.conditions[task_id] = comment
            return
        text = condition_text(expr) if expr is not None else None
        if text is None:
            self.flow.report.loss(f"the condition of task {task_id!r} is not readable: the task is imported "
                                  "without it", node.lineno, node.col_offset + 1)
            return
        self.conditions[task_id] = text

    def _comment(self, line: int) -> str | None:
        previous = self.m.lines[line - 2].strip() if line >= 2 else ""
        found = re.match(r"# \S+ runs when: (.*)$", previous)
        if not found:
            return None
        value = literal(ast.parse(found.group(1), mode="eval").body) if parses(found.group(1)) else None
        return value if isinstance(value, str) else None

    def _task(self, task_id: str, call: ast.expr, checks: list[ast.expr]) -> None:
        function_node, mapped, items, limit, waits = self._submission(call)
        function = self.functions.get(getattr(function_node, "id", ""))
        spec_id = self.m.spec_id(function) if function is not None else None
        if function is None or spec_id is None:
            self.flow.report.loss(f"the submission of {task_id!r} is not dagshift's: not carried", call.lineno,
                                  call.col_offset + 1)
            return
        task = self._from_spec(self.m.specs[spec_id])
        self.flow.task_options(function, task)
        if mapped:
            task["foreach"] = items
            if limit:
                task["max_parallel"] = limit
        data_sources = {r.task for r in refs_in(task) if r.kind == "task_output"}
        after = [t for t in waits if t not in data_sources]
        if after:
            task["after"] = after
        for check in checks:
            self._check(task_id, task, check)
        self.flow.tasks[task_id] = task

    def _submission(self, call: ast.expr):
        """(task function, mapped, foreach, max_parallel, waits) of `f.submit(...)` / `_map(...)`."""
        if isinstance(call, ast.Call) and call_name(call) == "_map" and len(call.args) == 6:
            function, _params, _inputs, items, waits, limit = call.args
            return function, True, self._items(items), literal(limit), self._waits(waits)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "submit":
            waits = next((k.value for k in call.keywords if k.arg == "wait_for"), None)
            return call.func.value, False, None, None, self._waits(waits)
        return None, False, None, None, []

    def _items(self, node: ast.expr) -> Any:
        if call_name(node) == "_items" and len(node.args) == 3:
            return spec_value(literal(node.args[2]))
        value = literal(node)
        return spec_value(value) if value is not NOT_LITERAL else None

    @staticmethod
    def _waits(node: ast.expr | None) -> list[str]:
        if node is not None and call_name(node) == "_after" and len(node.args) >= 2:
            return strings(node.args[1]) or []
        return []

    def _check(self, task_id: str, task: dict[str, Any], check: ast.expr) -> None:
        name = call_name(check)
        if name == "_submitted":
            return
        if name == "_rule" and len(check.args) >= 2:
            rule = literal(check.args[1])
            if isinstance(rule, str) and rule != "all_success":
                task["trigger_rule"] = rule
            return
        if isinstance(check, ast.Compare) and len(check.ops) == 1 and isinstance(check.ops[0], ast.Is):
            subject, value = check.left, literal(check.comparators[0])
            if isinstance(subject, ast.Subscript) and value is True:
                source = literal(subject.slice)
                if source in self.conditions:
                    task["when"] = self.conditions[source]
                    return
            if isinstance(subject, ast.Call) and isinstance(subject.func, ast.Attribute) and value is False \
                    and subject.func.attr == "get" and subject.args:
                task["else_of"] = literal(subject.args[0])
                return
        self.flow.report.loss(f"the check {ast.unparse(check)!r} before {task_id!r} is not carried", check.lineno,
                              check.col_offset + 1)

    def _from_spec(self, spec: dict[str, Any]) -> dict[str, Any]:
        task: dict[str, Any] = {}
        kind = spec.get("kind")
        if kind == "python":
            task["python"] = spec["target"]
            if spec.get("kwargs"):
                task["args"] = spec_value(spec["kwargs"])
        elif kind == "shell":
            task["command"] = spec_value(spec["argv"]) if "argv" in spec else spec_value(spec.get("command", ""))
        if spec.get("env"):
            task["env"] = {k: spec_value(v) for k, v in spec["env"].items()}
        if spec.get("secrets"):
            task["secrets"] = {env: {"name": ref[0], "key": ref[1]} for env, ref in spec["secrets"].items()}
        if spec.get("outputs"):
            task["outputs"] = {name: {"type": kind_, "path": path} if path else kind_
                               for name, (kind_, path) in spec["outputs"].items()}
        return task

