"""The flow body dagshift's Prefect backend writes, decoded exactly (compiler/backends/prefect/flow.py
and generic.py), with each task function read by generated_tasks.py.

The structured form: tasks are called (`fn(...)`: a task after a call runs after it) or
submitted (`fn.submit(...)`, `fn.map(...)`, with `wait_for=` the upstream tasks they do not
read); an `if`/`else` over params and results holds the tasks of a `when` and of its `else_of`
(those whose upstream tasks are all outside the branch carry the condition; the others are
skipped with them), and the first call after it is a join (none_failed); a call under a check of
upstream states, its upstream futures in `allow_failure`, is a fallback (the check's shape gives
the rule; without a check, all_done).

The general form: `runs[id] = fn.submit(...)` under checks by the module's helpers
(`submitted`, `rule_allows`, `held[id]`, `held.get(id) is False`, `completed`), with
`wait_for=after(runs, [...])`.
"""

from __future__ import annotations

import ast
from typing import Any

from compiler.backends.prefect.conventions import RESULT, RULE_ALLOWS, TEXT
from compiler.language import conditions
from compiler.language.placeholders import escaped, parse_ref

from .conditions import COMPARISONS, refs_in
from .generated_tasks import Meaning, TaskCode, Unreadable
from .module import task_call
from .options import Options
from .state import FlowState
from .values import (
    NOT_LITERAL,
    call_name,
    decorator_kwargs,
    decorator_name,
    literal,
    literal_keys,
    strings,
)

STATE_RULES = {("not", "all"): "one_failed", ("not", "any"): "all_failed", ("", "any"): "one_success"}


class GeneratedBody:
    def __init__(self, flow: FlowState, options: Options):
        self.flow = flow
        self.options = options
        self.module = flow.module
        self.functions = self.module.tasks()
        self.values: dict[str, Meaning] = {name: ("param", name) for name in flow.param_names}
        self.barrier: set[str] = set()
        self.in_block: set[str] = set()  # tasks read inside an if/else
        self.join_pending = False
        self.conditions: dict[str, str] = {}  # general form: task -> its condition text
        self.position: dict[str, int] = {}  # task id -> the order it was read in

    def read(self) -> None:
        self._block(self.flow.function.body)

    # ------------------------------------------------------------------ statements

    def _block(self, statements: list[ast.stmt]) -> None:
        for node in statements:
            self._statement(node)

    def _statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # the docstring
        if isinstance(node, ast.Return) and node.value is not None and self._task_of(node.value) is not None:
            self._task(node.value, None)  # the last task: its future is the flow's result
            return
        if isinstance(node, ast.Return) or self._bookkeeping(node):
            return
        if isinstance(node, ast.If):
            self._if(node)
            return
        value = node.value if isinstance(node, (ast.Assign, ast.Expr)) else None
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(target, ast.Subscript) and isinstance(value, ast.expr):
            self._general(target, value, [])
            return
        if value is not None and self._task_of(value) is not None:
            self._task(value, target.id if isinstance(target, ast.Name) else None)
            return
        self.flow.report.loss(f"flow code {ast.unparse(node)[:60]!r} is not carried", node.lineno, node.col_offset + 1)

    def _bookkeeping(self, node: ast.stmt) -> bool:
        """`os.chdir(WORKDIR)`, `f.wait()`, `wait([...])`, `runs = {}`: no task."""
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            name = decorator_name(node.value)
            return name in ("chdir", "wait")
        return isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and not node.value.keys

    # ------------------------------------------------------------------ task calls

    def _task_of(self, node: ast.expr) -> tuple[ast.Call, ast.FunctionDef, str] | None:
        """(the call, the task function, call | submit | map | map_result)."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "result" \
                and isinstance(node.func.value, ast.Call):
            inner = self._task_of(node.func.value)
            return (inner[0], inner[1], "map_result") if inner and inner[2] == "map" else None
        found = task_call(node, self.functions)
        return (node, *found) if found is not None else None

    def _task(self, value: ast.expr, variable: str | None, check: ast.expr | None = None) -> str | None:
        call, function, how = self._task_of(value)
        task_id = self._task_id(function)
        meanings, foreach = self._arguments(function, call, how)
        task = self._decoded(function, meanings, call)
        if task is None:
            return None
        if foreach is not None:
            task["foreach"] = foreach
        waits, allowed = self._wait_for(call)
        called = how in ("call", "map_result")
        after = set(waits) | self.barrier  # a task after a call runs after it
        if allowed:
            task["trigger_rule"] = self._rule(check) if check is not None else "all_done"
            after = set(waits)
        elif called and self.join_pending and self.barrier & self.in_block:
            task["trigger_rule"] = "none_failed"
        data = {r.task for r in refs_in(task) if r.kind == "task_output"}
        after = sorted(after - data - {task_id}, key=self.position.__getitem__)
        if after:
            task["after"] = after
        self.flow.tasks[task_id] = task
        self.flow.report.place(("tasks", task_id), call.lineno)
        self.position.setdefault(task_id, len(self.position))
        if variable:
            self.values[variable] = ("task", task_id)
        if called:
            self.barrier = {task_id}
            self.join_pending = False
        return task_id

    def _task_id(self, function: ast.FunctionDef) -> str:
        name = literal(decorator_kwargs(self.module.decorator(function, "task")).get("name"))
        return name if isinstance(name, str) else function.name

    def _arguments(self, function: ast.FunctionDef, call: ast.Call, how: str) -> tuple[dict[str, Meaning], Any]:
        """What each argument of the task function is, and the foreach of a mapped call."""
        names = [a.arg for a in function.args.args]
        bound: dict[str, ast.expr] = dict(zip(names, call.args))
        bound.update({k.arg: k.value for k in call.keywords if k.arg not in (None, "wait_for", "return_state")})
        meanings: dict[str, Meaning] = {}
        foreach = None
        for name, node in bound.items():
            if how in ("map", "map_result") and name == names[0]:
                meanings[name] = ("item",)
                foreach = self.flow_value(node)
                if foreach is NOT_LITERAL:  # mapped over nothing dagshift writes: the task would not fan out
                    self.flow.report.error(f"task {function.name} maps over {ast.unparse(node)[:60]!r}, which is not a "
                                           "list, a param or an upstream result", node.lineno, node.col_offset + 1)
                    foreach = None
                continue
            meaning = self._meaning(_unwrapped(node))
            if meaning is not None:
                meanings[name] = meaning
        return meanings, foreach

    def _meaning(self, node: ast.expr) -> Meaning | None:
        if isinstance(node, ast.Name):
            return self.values.get(node.id)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):  # runs["id"]
            task_id = literal(node.slice)
            return ("task", task_id) if isinstance(task_id, str) else None
        if isinstance(node, ast.Call) and decorator_name(node) == "get" and node.args:  # runs.get("id")
            task_id = literal(node.args[0])
            return ("task", task_id) if isinstance(task_id, str) else None
        return None

    def _decoded(self, function: ast.FunctionDef, meanings: dict[str, Meaning], call: ast.Call) -> dict | None:
        try:
            task = TaskCode(self.module, function, meanings, self.flow.tasks).read()
        except Unreadable as exc:
            self.flow.report.loss(f"task {function.name}: {exc} is not dagshift's code: not carried", call.lineno,
                                  call.col_offset + 1)
            return None
        docstring = ast.get_docstring(function, clean=True)
        if docstring:
            task["description"] = docstring
        self.options.task_options(function, task)
        if not task.get("outputs"):
            task.pop("outputs", None)
        return task

    def _wait_for(self, call: ast.Call) -> tuple[list[str], bool]:
        """The tasks named in wait_for=, and whether they are all in allow_failure(...)."""
        node = next((k.value for k in call.keywords if k.arg == "wait_for"), None)
        if node is None:
            return [], False
        if isinstance(node, ast.Call) and call_name(node) == "after":  # the general form
            return strings(node.args[1]) or [], any(k.arg == "allow_failed" for k in node.keywords)
        items = node.elts if isinstance(node, ast.List) else []
        found, allowed = [], bool(items)
        for item in items:
            if isinstance(item, ast.Starred):
                item = item.value
            is_allowed = decorator_name(item) in ("allow_failure", "map")
            allowed = allowed and is_allowed
            meaning = self._meaning(_unwrapped(item))
            if meaning is not None and meaning[0] == "task":
                found.append(meaning[1])
        return found, allowed

    # ------------------------------------------------------------------ conditions and rules

    def _if(self, node: ast.If) -> None:
        rule_call = self._fallback(node)
        if rule_call is not None:
            self._task(rule_call, None, node.test)
            return
        if self._general_if(node):
            return
        text = self.condition(node.test)
        if text is None:
            self.flow.report.loss(f"the condition {ast.unparse(node.test)!r} is not readable: the tasks under it "
                                  "are imported without it", node.lineno, node.col_offset + 1)
        before = set(self.barrier)
        then = self._branch(node.body, before)
        when_tasks = [t for t, upstream in then.items() if not upstream & set(then)]
        for task_id in when_tasks:
            if text is not None:
                self.flow.tasks[task_id]["when"] = text
        ends = [self.barrier or before]
        if node.orelse:
            otherwise = self._branch(node.orelse, before)
            for task_id, upstream in otherwise.items():
                if not upstream & set(otherwise) and when_tasks:
                    self.flow.tasks[task_id]["else_of"] = when_tasks[0]
            ends.append(self.barrier or before)
        else:
            ends.append(before)
        self.barrier = set().union(*ends)
        self.join_pending = True

    def _branch(self, statements: list[ast.stmt], barrier: set[str]) -> dict[str, set[str]]:
        """The tasks of one branch, each with its upstream tasks."""
        self.barrier = set(barrier)
        first = len(self.flow.tasks)
        self._block(statements)
        read = list(self.flow.tasks)[first:]
        self.in_block |= set(read)
        return {t: set(self.flow.tasks[t].get("after", [])) | {r.task for r in refs_in(self.flow.tasks[t])
                                                                 if r.kind == "task_output"} for t in read}

    def _fallback(self, node: ast.If) -> ast.expr | None:
        """`if <check of upstream states>: fn(..., wait_for=[allow_failure(...)])`."""
        if len(node.body) != 1 or node.orelse or not isinstance(node.body[0], ast.Expr):
            return None
        call = node.body[0].value
        if self._task_of(call) is None or not self._wait_for(self._task_of(call)[0])[1]:
            return None
        return call if self._rule(node.test) else None

    @staticmethod
    def _rule(test: ast.expr) -> str | None:
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        inner = test.operand if negated else test
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "is_completed":
            return "one_failed" if negated else None
        return STATE_RULES.get(("not" if negated else "", call_name(inner)))

    # ------------------------------------------------------------------ the general form

    def _general_if(self, node: ast.If) -> bool:
        if len(node.body) != 1 or node.orelse or not isinstance(node.body[0], ast.Assign):
            return False
        target = node.body[0].targets[0]
        if not isinstance(target, ast.Subscript):
            return False
        tests = node.test.values if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.And) \
            else [node.test]
        self._general(target, node.body[0].value, tests)
        return True

    def _general(self, target: ast.Subscript, value: ast.expr, checks: list[ast.expr]) -> None:
        key = literal(target.slice)
        if not isinstance(key, str):
            return
        if self._task_of(value) is None:  # held[id] = <condition>
            test = value.body if isinstance(value, ast.IfExp) else value
            text = self.condition(test)
            if text is not None:
                self.conditions[key] = text
            return
        task_id = self._task(value, None)
        if task_id is None:
            return
        task = self.flow.tasks[task_id]
        for check in checks:
            name = call_name(check)
            if name == RULE_ALLOWS and len(check.args) >= 2:
                rule = literal(check.args[1])
                if isinstance(rule, str) and rule != "all_success":
                    task["trigger_rule"] = rule
            elif isinstance(check, ast.Subscript) and literal(check.slice) in self.conditions:
                task["when"] = self.conditions[literal(check.slice)]
            elif isinstance(check, ast.Compare) and decorator_name(check.left) == "get":
                task["else_of"] = literal(check.left.args[0])

    # ------------------------------------------------------------------ values in the flow

    def reference(self, node: ast.expr) -> str | None:
        """A result or param the flow reads, as reference text: `params.x`, `tasks.t.outputs.o`."""
        if isinstance(node, ast.Name) and node.id in self.flow.param_names:
            return f"params.{node.id}"
        key = None
        if isinstance(node, ast.Subscript):
            key = literal(node.slice)
            node = node.value
        elif isinstance(node, ast.ListComp) and isinstance(node.elt, ast.Subscript):
            key = literal(node.elt.slice)
            node = node.generators[0].iter
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "result":
            node = node.func.value
        task_id = None
        if isinstance(node, ast.Call) and call_name(node) == RESULT and len(node.args) == 2:
            task_id = literal(node.args[1])
        elif isinstance(node, ast.Name) and self.values.get(node.id, ("",))[0] == "task":
            task_id = self.values[node.id][1]
        outputs = self.flow.tasks.get(task_id, {}).get("outputs", {}) if isinstance(task_id, str) else {}
        if key is None and len(outputs) == 1:
            key = next(iter(outputs))
        return f"tasks.{task_id}.outputs.{key}" if isinstance(key, str) and key in outputs else None

    def flow_value(self, node: ast.expr) -> Any:
        """A foreach: a literal list (placeholders for the params in it), a param, or a result;
        NOT_LITERAL when a part of it is none of these."""
        found = literal(node)
        if found is not NOT_LITERAL:
            return escaped(found)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.flow_value(v) for v in node.elts]
            return NOT_LITERAL if NOT_LITERAL in items else items
        keys = literal_keys(node) if isinstance(node, ast.Dict) else None
        if keys is not None:
            values = [self.flow_value(v) for v in node.values]
            return NOT_LITERAL if NOT_LITERAL in values else dict(zip(keys, values))
        if isinstance(node, ast.JoinedStr):
            return "".join(escaped(str(p.value)) if isinstance(p, ast.Constant) else
                           f"${{{{ {self.reference(_untexted(p.value))} }}}}" for p in node.values)
        reference = self.reference(_untexted(node))
        return f"${{{{ {reference} }}}}" if reference else NOT_LITERAL

    def condition(self, node: ast.expr) -> str | None:
        try:
            return conditions.render(self._expr(node))
        except ValueError:
            return None

    def _expr(self, node: ast.expr) -> conditions.Expr:
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return conditions.BoolOp(op, tuple(self._expr(v) for v in node.values))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return conditions.Not(self._expr(node.operand))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            op = COMPARISONS.get(type(node.ops[0]))
            if op is None:
                raise ValueError(op)
            return conditions.Compare(op, self._expr(node.left), self._expr(node.comparators[0]))
        if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float, str)):
            return conditions.Literal(node.value)
        reference = self.reference(node)
        ref = parse_ref(reference) if reference else None
        if ref is None:
            raise ValueError(ast.unparse(node))
        return conditions.RefOperand(ref, 0)


def _unwrapped(node: ast.expr) -> ast.expr:
    """`unmapped(x)`, `allow_failure(x)`, `map(allow_failure, x)` -> x."""
    while isinstance(node, ast.Call) and node.args:
        if decorator_name(node) in ("unmapped", "allow_failure"):
            node = node.args[0]
        elif decorator_name(node) == "map" and len(node.args) == 2:
            node = node.args[1]
        else:
            break
    return node


def _untexted(node: ast.expr) -> ast.expr:
    return node.args[0] if isinstance(node, ast.Call) and call_name(node) == TEXT and node.args else node

