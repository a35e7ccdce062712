"""The flow body of the structured form (plan.py), as code.

A called task is `fn(...)` (its value kept when something reads it); a submitted one
`fn.submit(...)` or `fn.map(...)` with `wait_for=` its upstream futures that it does not read;
a condition is an `if`/`else` over param values and upstream results; a fallback waits for its
upstream tasks and checks their states; the body ends returning the futures no later step
fails with, so the run is Failed when any task failed.
"""

from __future__ import annotations

import networkx as nx

from compiler.language import conditions
from compiler.language.ir import Pipeline, Task, TriggerRule
from compiler.language.placeholders import Ref
from compiler.language.references import parsed_when
from compiler.output.emit import python_literal

from .conventions import WORKDIR
from .names import Names
from .plan import FALLBACK_RULES, Block, Plan
from .tasks import TaskFunction
from .values import condition_code, foreach_refs

ITERABLE_HINTS = {"list", "dict", None}  # values `.map` would map over unless `unmapped` (None: unknown)


class FlowBody:
    def __init__(self, pipeline: Pipeline, graph: nx.DiGraph, plan: Plan, functions: dict[str, TaskFunction],
                 names: Names, module: ModuleRefs):
        self.p = pipeline
        self.g = graph
        self.plan = plan
        self.functions = functions
        self.names = names
        self.module = module
        self.handles: dict[str, str] = {}  # task id -> the variable holding its value or future(s)
        self.position = {task_id: i for i, task_id in enumerate(pipeline.tasks)}
        self._name_handles()

    def _upstream(self, task_id: str) -> list[str]:
        """The task's upstream tasks, in the pipeline's order."""
        return sorted(self.g.predecessors(task_id), key=self.position.__getitem__)

    # ------------------------------------------------------------------ variables

    def _name_handles(self) -> None:
        read = self._read_in_flow()
        for task_id, task in self.p.tasks.items():
            function = self.functions[task_id].name
            if task_id not in self.plan.called:
                self.handles[task_id] = self.names.claim(f"{function}_futures" if task.is_mapped else f"{function}_future")
            elif task_id in read:
                if task.is_mapped:
                    self.handles[task_id] = self.names.claim(f"{function}_results")
                elif len(task.outputs) == 1:
                    self.handles[task_id] = self.names.claim(next(iter(task.outputs)))
                else:
                    self.handles[task_id] = self.names.claim(f"{function}_result")

    def _read_in_flow(self) -> set[str]:
        """Called tasks whose value the flow uses: passed on, in a condition, fanned out over."""
        read = {a.source[1] for f in self.functions.values() for a in f.args if a.source[0] == "task"}
        for task in self.p.tasks.values():
            read |= {r.task for r in foreach_refs(task) if r.kind == "task_output"}
            expr = parsed_when(task)
            read |= {str(op.ref.task) for op in conditions.references(expr) if op.ref.task} if expr else set()
        return read

    # ------------------------------------------------------------------ statements

    def lines(self) -> list[str]:
        body = []
        if any(t.kind != "noop" for t in self.p.tasks.values()):
            body.append(f"{self.module.ref('os')}.chdir({self.module.ref(WORKDIR)})")
        body += self._statements(self.plan.body)
        returned = [self.handles[t] if not self.p.tasks[t].is_mapped else f"*{self.handles[t]}"
                    for t in self.plan.returned]
        if len(returned) == 1 and body and body[-1].startswith(f"{returned[0].lstrip('*')} = "):
            body[-1] = "return " + body[-1].split(" = ", 1)[1]  # the last task: its future is the flow's result
        elif len(returned) == 1:
            body.append(f"return {returned[0].lstrip('*')}")
        elif returned:
            body.append(f"return [{', '.join(returned)}]")
        return body

    def _statements(self, items: list) -> list[str]:
        lines = []
        for item in items:
            lines += self._block(item) if isinstance(item, Block) else self._task(item)
        return lines

    def _block(self, block: Block) -> list[str]:
        expr = parsed_when(self.p.tasks[block.task])
        assert expr is not None
        lines = [f"if {self._condition(expr)}:", *_indented(self._statements(block.then))]
        if block.orelse:
            lines += ["else:", *_indented(self._statements(block.orelse))]
        return lines

    def _task(self, task_id: str) -> list[str]:
        task = self.p.tasks[task_id]
        if task.trigger_rule in FALLBACK_RULES:
            return self._fallback(task_id, task)
        arguments = self._arguments(task_id, task)
        waits = self._waits(task_id)
        if waits:
            arguments.append(f"wait_for=[{', '.join(waits)}]")
        call = self._call(task_id, task, arguments)
        handle = self.handles.get(task_id)
        return [f"{handle} = {call}" if handle else call]

    def _call(self, task_id: str, task: Task, arguments: list[str]) -> str:
        """A plain call (a mapped task: .map(...).result()), or a submission."""
        name, joined = self.functions[task_id].name, ", ".join(arguments)
        if task_id not in self.plan.called:
            return f"{name}.{'map' if task.is_mapped else 'submit'}({joined})"
        return f"{name}.map({joined}).result()" if task.is_mapped else f"{name}({joined})"

    def _fallback(self, task_id: str, task: Task) -> list[str]:
        """Wait for the upstream tasks, check their states against the rule, then call the task;
        its upstream futures are allow_failure: the rule has accepted their states."""
        upstream = self._upstream(task_id)
        allow = self.module.ref("allow_failure")
        arguments = self._arguments(task_id, task, allow_failed=True)
        waits = [f"{allow}({self.handles[u]})" if not self.p.tasks[u].is_mapped else
                 f"*map({allow}, {self.handles[u]})" for u in upstream]
        call = self._call(task_id, task, [*arguments, f"wait_for=[{', '.join(waits)}]"])
        if task.trigger_rule is TriggerRule.ALL_DONE:
            return [call]
        wait, check = self._states_check(task, upstream)
        return [wait, f"# {task_id} runs when trigger rule {task.trigger_rule.value} holds", f"if {check}:",
                f"    {call}"]

    def _states_check(self, task: Task, upstream: list[str]) -> tuple[str, str]:
        """The wait for the upstream futures, and the test of their states the rule makes."""
        futures = [self.handles[u] if not self.p.tasks[u].is_mapped else f"*{self.handles[u]}" for u in upstream]
        every = f"[{', '.join(futures)}]"
        single = len(futures) == 1 and not futures[0].startswith("*")
        if single:
            wait = f"{futures[0]}.wait()"
        else:
            wait = f"{self.module.ref('wait')}({every if len(futures) > 1 else futures[0][1:]})"
        if task.trigger_rule is TriggerRule.ONE_FAILED and single:
            return wait, f"not {futures[0]}.state.is_completed()"
        states = f"run.state.is_completed() for run in {every}"
        checks = {TriggerRule.ONE_FAILED: f"not all({states})", TriggerRule.ALL_FAILED: f"not any({states})",
                  TriggerRule.ONE_SUCCESS: f"any({states})"}
        return wait, checks[task.trigger_rule]

    # ------------------------------------------------------------------ arguments

    def _arguments(self, task_id: str, task: Task, allow_failed: bool = False) -> list[str]:
        """Positional while the value is a variable of the argument's own name, then keywords."""
        mapped = task.is_mapped
        arguments, positional = [], True
        for arg in self.functions[task_id].args:
            kind = arg.source[0]
            if kind == "item":
                value = self._items(task)
            elif kind == "param":
                value = arg.source[1]
            else:
                value = self.handles[arg.source[1]]
                if allow_failed and arg.source[1] not in self.plan.called:
                    value = f"{self.module.ref('allow_failure')}({value})"
            if mapped and kind != "item" and arg.hint in ITERABLE_HINTS:
                value = f"{self.module.ref('unmapped')}({value})"
            positional = positional and value == arg.name
            arguments.append(value if positional or kind == "item" else f"{arg.name}={value}")
        return arguments

    def _waits(self, task_id: str) -> list[str]:
        """Submitted upstream tasks the task does not read, less those another upstream waits for."""
        if task_id in self.plan.called:
            return []
        read = {a.source[1] for a in self.functions[task_id].args if a.source[0] == "task"}
        read |= {r.task for r in foreach_refs(self.p.tasks[task_id]) if r.kind == "task_output"}
        upstream = [u for u in self._upstream(task_id) if u not in self.plan.called]
        waits = [u for u in upstream if u not in read  # and not waited for through another upstream
                 and not any(self.plan.is_ancestor(u, other) for other in upstream if other != u)]
        return [self.handles[u] if not self.p.tasks[u].is_mapped else f"*{self.handles[u]}" for u in waits]

    def _items(self, task: Task) -> str:
        """What a fan-out maps over: the literal list, a param, or an upstream result."""
        if isinstance(task.foreach, list):
            return python_literal(task.literal_items)
        assert isinstance(task.foreach, str)
        (ref,) = [r for r in foreach_refs(task)]
        return self._ref(ref, for_map=True)

    # ------------------------------------------------------------------ values read in the flow

    def _ref(self, ref: Ref, for_map: bool = False) -> str:
        if ref.kind == "param":
            return str(ref.name)
        assert ref.kind == "task_output" and ref.task is not None, ref
        source = self.p.tasks[ref.task]
        handle = self.handles[ref.task]
        called = ref.task in self.plan.called
        single = len(source.outputs) == 1
        if single and (called or for_map):
            return handle  # a value, or what .map resolves (a future, or a list of futures)
        value = handle if called else f"{handle}.result()"
        if single:
            return value
        if source.is_mapped:
            return f"[run[{ref.name!r}] for run in {value}]"
        return f"{value}[{ref.name!r}]"

    def _condition(self, expr: conditions.Expr) -> str:
        return condition_code(expr, self._ref)


class ModuleRefs:
    """Module-level names the flow body uses; a flow param of the same name would hide one, so the
    body then reads it through an alias bound next to the imports."""

    def __init__(self, params, names: Names):
        self.params = set(params)
        self.names = names
        self.aliases: dict[str, str] = {}
        self.used: set[str] = set()

    def ref(self, name: str) -> str:
        self.used.add(name)
        if name not in self.params:
            return name
        if name not in self.aliases:
            self.aliases[name] = self.names.claim(f"{name}_module" if name == "os" else f"{name}_")
        return self.aliases[name]


def _indented(lines: list[str]) -> list[str]:
    return [f"    {line}" if line else "" for line in lines]
