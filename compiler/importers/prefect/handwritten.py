"""A hand-written @flow body: task calls (direct, `.submit`, `.map`) as tasks, futures passed as
arguments as data edges, `wait_for=` as order edges, `if` over params as `when:`."""

from __future__ import annotations

import ast
import re
from typing import Any

from compiler.language.ir import ValueType
from compiler.language.placeholders import escaped

from .conditions import and_when, condition_text, refs_in
from .module import task_call
from .options import Options
from .state import FlowState
from .values import (
    NOT_LITERAL,
    TYPE_NAMES,
    decorator_kwargs,
    decorator_name,
    literal,
    module_name,
)


class HandWrittenBody:
    """Task calls in a hand-written @flow body. Each call is one task: its id is the task's
    `name=` (or function name), with a suffix when the same task is called again.

    A task called directly (not `.submit` / `.map`) runs in the flow's thread: the flow waits for
    it, so every task the flow starts later runs after it (checked on Prefect 3.9.1:
    tests/engines/prefect/test_prefect_import_engines.py)."""

    def __init__(self, flow: FlowState, options: Options):
        self.flow = flow
        self.options = options
        self.module = flow.module
        self.task_functions = self.module.tasks()
        self.futures: dict[str, str] = {}  # variable -> task id
        self.module_name = module_name(self.module.path)
        self.params = set(flow.param_names)
        self.results: dict[str, str] = {}  # variable -> task id, for the value of a direct call
        self.barrier: str | None = None  # the last task called directly
        self.failure_allowed: list[str] = []  # of the last wait_for read: the tasks in allow_failure(...)

    def read(self) -> None:
        self._block(self.flow.function.body, None)

    def _block(self, statements: list[ast.stmt], when: str | None) -> None:
        for node in statements:
            self._statement(node, when)

    def _statement(self, node: ast.stmt, when: str | None) -> None:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # the docstring
        if isinstance(node, ast.If):
            self._if(node, when)
            return
        if isinstance(node, ast.Return):
            if node.value is not None and self._task_call(node.value) is not None:
                self._call(node.value, None, when)
            elif node.value is not None and not (isinstance(node.value, ast.Name) and node.value.id in self.futures):
                self.flow.report.loss("the flow's return value is not carried", node.lineno, node.col_offset + 1)
            return
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self._loop(node, when)
            return
        value = node.value if isinstance(node, (ast.Assign, ast.Expr, ast.AnnAssign)) else None
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target = node.target.id
        if value is not None and self._task_call(value) is not None:
            self._call(value, target, when)
            return
        subflow = self._subflow_call(value) if value is not None else None
        if subflow is not None:
            self.flow.report.error(f"the flow calls the flow {subflow!r} (a subflow: a flow run of its own): its tasks "
                                   "are not imported", node.lineno, node.col_offset + 1,
                                   help=f"import the flow {subflow!r} on its own, or call its tasks from this flow")
            return
        self._not_a_task_call(node)

    def _not_a_task_call(self, node: ast.stmt) -> None:
        self.flow.report.loss(f"flow code {ast.unparse(node).splitlines()[0][:70]!r} is not a task call: not carried",
                              node.lineno, node.col_offset + 1,
                              help="move the code into a @task so it runs as a step of the pipeline")

    def _task_call(self, node: ast.expr) -> tuple[ast.FunctionDef, str] | None:
        """(task function, 'call' | 'submit' | 'map') when the expression calls a @task."""
        return task_call(node.value if isinstance(node, ast.Await) else node, self.task_functions)

    def _subflow_call(self, node: ast.expr) -> str | None:
        """The name of the @flow function of this module the expression calls, if any."""
        if isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Call):
            func = node.func.value if isinstance(node.func, ast.Attribute) and node.func.attr == "with_options" \
                else node.func
            if isinstance(func, ast.Call):  # flow.with_options(...)(...)
                return self._subflow_call(func)
            name = getattr(func, "id", None)
            function = self.module.functions.get(name) if name else None
            if function is not None and self.module.decorator(function, "flow") is not None:
                return name
        return None

    def _task_id(self, function: ast.FunctionDef) -> str:
        name = literal(decorator_kwargs(self.module.decorator(function, "task")).get("name"))
        base = name if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_-]+", name) else function.name
        task_id, counter = base, 2
        while task_id in self.flow.tasks:
            task_id, counter = f"{base}_{counter}", counter + 1
        return task_id

    def _call(self, value: ast.expr, target: str | None, when: str | None) -> str:
        node = value.value if isinstance(value, ast.Await) else value
        function, how = self._task_call(node)
        task_id = self._task_id(function)
        task: dict[str, Any] = {"python": f"{self.module_name}:{function.name}"}
        self.options.task_options(function, task)
        after = self._wait_for(node)
        allowed = self.failure_allowed
        args = self._arguments(function, node, how, task)
        if args:
            task["args"] = args
        if when:
            task["when"] = when
        if self.barrier is not None:
            after.append(self.barrier)
        data = {r.task for r in refs_in(task) if r.kind == "task_output"}
        data.update(re.findall(r"tasks\.([\w-]+)\.outputs", when or ""))
        after = [t for t in dict.fromkeys(after) if t not in data]
        if after:
            task["after"] = after
        if allowed:
            self._allow_failure(task_id, task, node, allowed)
        self.flow.tasks[task_id] = task
        self.flow.report.place(("tasks", task_id), node.lineno)
        if target:
            self.futures[target] = task_id
            if how == "call":
                self.results[target] = task_id
        if how == "call":
            self.barrier = task_id
        return task_id

    def _allow_failure(self, task_id: str, task: dict[str, Any], node: ast.Call, allowed: list[str]) -> None:
        """`wait_for=[allow_failure(f)]`: the task runs when f failed too (Prefect 3.9.1), which is
        trigger rule all_done: exact when every upstream task is waited for that way."""
        task["trigger_rule"] = "all_done"
        upstream = {r.task for r in refs_in(task) if r.kind == "task_output"} | set(task.get("after", []))
        # a task called directly before it has succeeded by the time this one is submitted
        others = sorted(upstream - set(allowed) - {self.barrier})
        if others:
            self.flow.report.loss(f"allow_failure(...) in wait_for: task {task_id!r} is imported with trigger_rule "
                                  f"all_done, which also lets it run when {', '.join(others)} failed",
                                  node.lineno, node.col_offset + 1, approximate=True)

    def _wait_for(self, node: ast.Call) -> list[str]:
        found = []
        self.failure_allowed: list[str] = []
        for keyword in node.keywords:
            if keyword.arg != "wait_for":
                continue
            items = keyword.value.elts if isinstance(keyword.value, (ast.List, ast.Tuple)) else [keyword.value]
            for item in items:
                allowed = isinstance(item, ast.Call) and decorator_name(item) == "allow_failure" and bool(item.args)
                if allowed:
                    item = item.args[0]
                task_id = self.futures.get(getattr(item, "id", ""))
                if allowed and task_id is not None:
                    self.failure_allowed.append(task_id)
                if task_id is None:
                    self.flow.report.loss(f"wait_for {ast.unparse(item)} is not a task of this flow: not carried",
                                          item.lineno, item.col_offset + 1)
                else:
                    found.append(task_id)
        return found

    def _arguments(self, function: ast.FunctionDef, node: ast.Call, how: str, task: dict[str, Any]) -> dict[str, Any]:
        names = [a.arg for a in function.args.posonlyargs + function.args.args]
        args: dict[str, Any] = {}
        for index, value in enumerate(node.args):
            if index >= len(names):
                self.flow.report.loss("extra positional arguments are not carried", value.lineno, value.col_offset + 1)
                break
            args[names[index]] = value
        for keyword in node.keywords:
            if keyword.arg in ("wait_for", "return_state"):
                continue
            if keyword.arg is None:
                self.flow.report.loss("**kwargs in a task call are not carried", keyword.value.lineno,
                                      keyword.value.col_offset + 1)
                continue
            args[keyword.arg] = keyword.value
        result: dict[str, Any] = {}
        mapped = []
        for name, value in args.items():
            if how == "map" and not (isinstance(value, ast.Call) and decorator_name(value) == "unmapped"):
                mapped.append(name)
                task["foreach"] = self._value(value, whole=True)
                result[name] = "${{ item }}"
                continue
            if isinstance(value, ast.Call) and decorator_name(value) == "unmapped" and value.args:
                value = value.args[0]
            result[name] = self._value(value, whole=True)
        if len(mapped) > 1:
            self.flow.report.loss(f".map over several arguments ({', '.join(mapped)}) zips them: dagshift fans out "
                                  f"over one list; imported over {mapped[-1]!r}", node.lineno, node.col_offset + 1,
                                  approximate=True)
        return result

    def _value(self, node: ast.expr, whole: bool = False) -> Any:
        """An argument as a dagshift value: literals, flow params and futures as placeholders."""
        if isinstance(node, ast.Call) and decorator_name(node) == "quote" and len(node.args) == 1:
            inner = node.args[0]
            if isinstance(inner, ast.Name) and inner.id in self.futures and inner.id not in self.results:
                # checked on Prefect 3.9.1: the task gets the future object, not its result
                self.flow.report.loss(f"quote({inner.id}) passes the future itself, not its result: imported as "
                                      "its result", node.lineno, node.col_offset + 1, approximate=True)
            return self._value(inner, whole)
        value = literal(node)
        if value is not NOT_LITERAL:
            return escaped(value)
        if isinstance(node, ast.Name) and node.id in self.params:
            return f"${{{{ params.{node.id} }}}}"
        if isinstance(node, ast.Name) and node.id in self.futures:
            return self._output_ref(self.futures[node.id], node)
        if isinstance(node, ast.Call) and self._task_call(node) is not None:
            return self._output_ref(self._call(node, None, None), node)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for piece in node.values:
                if isinstance(piece, ast.Constant):
                    parts.append(escaped(str(piece.value)))
                elif isinstance(piece, ast.FormattedValue) and piece.format_spec is None and piece.conversion == -1:
                    inner = self._value(piece.value)
                    if not isinstance(inner, str):
                        inner = str(inner)
                    parts.append(inner)
                else:
                    parts.append("")
            return "".join(parts)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._value(v) for v in node.elts]
        if isinstance(node, ast.Dict) and all(isinstance(literal(k), str) for k in node.keys if k is not None) \
                and None not in node.keys:
            return {literal(k): self._value(v) for k, v in zip(node.keys, node.values)}
        self.flow.report.loss(f"argument {ast.unparse(node)!r} is computed in the flow: imported as its source text",
                              node.lineno, node.col_offset + 1, approximate=True)
        return escaped(ast.unparse(node))

    def _output_ref(self, task_id: str, node: ast.expr) -> str:
        """An upstream task's return value: its `result` output (typed from the return annotation)."""
        upstream = self.flow.tasks[task_id]
        if "result" not in upstream.setdefault("outputs", {}):
            function = self.task_functions.get(upstream["python"].split(":")[1])
            upstream["outputs"]["result"] = self._return_type(function, node)
        return f"${{{{ tasks.{task_id}.outputs.result }}}}"

    def _return_type(self, function: ast.FunctionDef | None, node: ast.expr) -> str:
        hint = function.returns if function is not None else None
        name = None
        if isinstance(hint, ast.Subscript):
            hint = hint.value
        if isinstance(hint, (ast.Name, ast.Attribute)):
            name = TYPE_NAMES.get(hint.attr if isinstance(hint, ast.Attribute) else hint.id)
        if name is None:
            self.flow.report.loss(f"the result of {function.name if function else 'a task'} is used downstream but its "
                                  "return type is not str/int/float/bool/list/dict: imported as a dict output",
                                  node.lineno, node.col_offset + 1, approximate=True)
            return ValueType.DICT.value
        return name

    def _if(self, node: ast.If, when: str | None) -> None:
        text = condition_text(node.test)
        refs = re.findall(r"params\.(\w+)", text or "")
        if text is None or any(r not in self.params and r not in self.results for r in refs):
            self.flow.report.loss(f"the condition {ast.unparse(node.test)!r} is not over flow parameters or results "
                                  "of tasks called directly: the tasks under it are imported unconditionally",
                                  node.lineno, node.col_offset + 1, approximate=True)
            text = None
        for name in dict.fromkeys(r for r in refs if r in self.results):
            # the value of a direct call: the task's result
            ref = self._output_ref(self.results[name], node.test)[4:-3]
            text = re.sub(rf"\bparams\.{name}\b", ref, text)
        inner = and_when(when, text)
        self._block(node.body, inner)
        if node.orelse:
            negated = None if text is None else f"not {text}"
            self._block(node.orelse, and_when(when, negated))

    def _loop(self, node: ast.For | ast.AsyncFor | ast.While, when: str | None) -> None:
        """A loop that calls tasks makes as many tasks as it runs rounds, known when it runs: manual."""
        kind = "while" if isinstance(node, ast.While) else "for"
        if any(isinstance(n, ast.Call) and (self._task_call(n) or self._subflow_call(n)) for n in ast.walk(node)):
            self.flow.report.error(f"a {kind} loop calls tasks: how many tasks it makes is known only when the flow "
                                   "runs", node.lineno, node.col_offset + 1,
                                   help="write the fan-out as task.map(items), or import the flow with the loop "
                                        "unrolled")
            return
        self._not_a_task_call(node)

