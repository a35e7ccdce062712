"""The general flow body, for a pipeline the structured form (plan.py) cannot hold: every
task is submitted, in dependency order, once checks over its upstream tasks allow it.

`runs` maps a task id to its future (a list of them for a mapped task); a task that was skipped
(its condition was false, or an upstream was skipped) has none. The helpers (written into the
module only when used) wait for upstream states where a trigger rule or a condition needs them;
the flow returns every future, so the run is Failed when any task failed.
"""

from __future__ import annotations

import networkx as nx

from compiler.backends.base import comment_safe
from compiler.language import conditions
from compiler.language.graph import topological_order
from compiler.language.ir import Pipeline, Task, TriggerRule
from compiler.language.placeholders import Ref, refs
from compiler.language.references import parsed_when
from compiler.output.emit import python_literal as py

from .conventions import RESULT, RULE_ALLOWS, WORKDIR
from .flow import ITERABLE_HINTS, ModuleRefs
from .names import Names
from .tasks import TaskFunction
from .values import condition_code, foreach_refs


class GenericBody:
    def __init__(self, pipeline: Pipeline, graph: nx.DiGraph, functions: dict[str, TaskFunction], names: Names,
                 module: ModuleRefs):
        self.p = pipeline
        self.g = graph
        self.functions = functions
        self.module = module
        self.runs = names.claim("runs")
        self.held = names.claim("held")
        self.needs: set[str] = set()
        self.position = {task_id: i for i, task_id in enumerate(pipeline.tasks)}
        self.decided: set[str] = set()  # the tasks whose condition `held` has by now

    def _upstream(self, task_id: str) -> list[str]:
        """The task's upstream tasks, in the pipeline's order."""
        return sorted(self.g.predecessors(task_id), key=self.position.__getitem__)

    def _helper(self, name: str) -> str:
        self.needs.add(name)
        return self.module.ref(name)

    def lines(self) -> list[str]:
        lines = []
        if any(t.kind != "noop" for t in self.p.tasks.values()):
            lines.append(f"{self.module.ref('os')}.chdir({self.module.ref(WORKDIR)})")
        lines += ["# Task id -> its future(s); a skipped task has none.", f"{self.runs} = {{}}"]
        if any(task.when for task in self.p.tasks.values()):
            lines += ["# Task id -> whether its condition held (None: not known).", f"{self.held} = {{}}"]
        for task_id in topological_order(self.g):
            lines += self._task(task_id)
        lines.append(f"return {self._helper('after')}({self.runs}, list({self.runs}))")
        return lines

    def _task(self, task_id: str) -> list[str]:
        task = self.p.tasks[task_id]
        upstream = self._upstream(task_id)
        lines, checks = [], []
        if task.trigger_rule is TriggerRule.ALL_SUCCESS:
            if upstream:
                checks.append(f"{self._helper('submitted')}({self.runs}, {py(upstream)})")
        else:
            checks.append(f"{self._helper(RULE_ALLOWS)}({self.runs}, {py(task.trigger_rule.value)}, {py(upstream)})")
        if task.when is not None:
            lines += self._decide(task_id)
            checks.append(f"{self.held}[{py(task_id)}]")
        if task.else_of is not None:
            # an else branch may come first in the order: the sources of the condition came before it
            lines += self._decide(task.else_of)
            checks.append(f"{self.held}.get({py(task.else_of)}) is False")
        dynamic = [r.task for r in foreach_refs(task) if r.kind == "task_output"]
        if dynamic:
            checks.append(f"{self._helper('completed')}({self.runs}, {py(sorted(set(dynamic)))})")
        allow = task.trigger_rule is not TriggerRule.ALL_SUCCESS
        call = self._call(task_id, task, upstream, allow)
        statement = f"{self.runs}[{py(task_id)}] = {call}"
        if checks:
            return [*lines, f"if {' and '.join(checks)}:", f"    {statement}"]
        return [*lines, statement]

    def _decide(self, task_id: str) -> list[str]:
        """The lines putting whether the task's condition holds into `held`, unless they came before."""
        expr = parsed_when(self.p.tasks[task_id])
        if expr is None or task_id in self.decided:
            return []
        self.decided.add(task_id)
        sources = sorted({str(op.ref.task) for op in conditions.references(expr) if op.ref.task},
                         key=self.position.__getitem__)
        condition = self._condition(expr)
        known = f"{self._helper('completed')}({self.runs}, {py(sources)})"
        # a string literal of the condition may hold a newline: the comment stays one line
        return [f"# {task_id} runs when: {comment_safe(conditions.render(expr))}",
                f"{self.held}[{py(task_id)}] = ({condition}) if {known} else None"
                if sources else f"{self.held}[{py(task_id)}] = {condition}"]

    def _call(self, task_id: str, task: Task, upstream: list[str], allow: bool) -> str:
        function = self.functions[task_id]
        arguments = []
        for arg in function.args:
            kind = arg.source[0]
            if kind == "item":
                arguments.append(self._items(task))
                continue
            value = arg.source[1] if kind == "param" else f"{self.runs}[{py(arg.source[1])}]"
            if kind == "task" and allow:  # the rule has accepted the upstream's state, whatever it is
                value = f"{self.module.ref('allow_failure')}({self.runs}.get({py(arg.source[1])}))"
            if task.is_mapped and arg.hint in ITERABLE_HINTS:
                value = f"{self.module.ref('unmapped')}({value})"
            arguments.append(f"{arg.name}={value}")
        if upstream:
            if allow:
                self.module.ref("allow_failure")
            flag = ", allow_failed=True" if allow else ""
            arguments.append(f"wait_for={self._helper('after')}({self.runs}, {py(upstream)}{flag})")
        how = "map" if task.is_mapped else "submit"
        return f"{function.name}.{how}({', '.join(arguments)})"

    def _items(self, task: Task) -> str:
        if isinstance(task.foreach, list):
            return py(task.literal_items)
        (ref,) = refs(str(task.foreach))
        return self._ref(ref)

    def _ref(self, ref: Ref) -> str:
        if ref.kind == "param":
            return str(ref.name)
        assert ref.kind == "task_output" and ref.task is not None, ref
        source = self.p.tasks[ref.task]
        value = f"{self._helper(RESULT)}({self.runs}, {py(ref.task)})"
        if len(source.outputs) == 1:
            return value
        if source.is_mapped:
            return f"[run[{ref.name!r}] for run in {value}]"
        return f"{value}[{ref.name!r}]"

    def _condition(self, expr: conditions.Expr) -> str:
        return condition_code(expr, self._ref)
