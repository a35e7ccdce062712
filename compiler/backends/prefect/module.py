"""The whole flow module: names, task functions, the flow (signature, options, body), and exactly
the imports and helpers they use."""

from __future__ import annotations

from typing import Any

from compiler.backends.base import EmitContext
from compiler.language.ir import Param, Pipeline, ValueType
from compiler.language.naming import python_name
from compiler.output import emit
from compiler.output.emit import python_literal as py

from .conventions import DOCSTRING_TITLE
from .flow import FlowBody, ModuleRefs
from .generic import GenericBody
from .names import BUILTINS_CALLED, MODULE_NAMES, Names
from .plan import plan
from .tasks import Hooks, TaskWriter, docstring
from .text import literal

# Each import, and the names of the module that need it.
IMPORTS = (
    ("import argparse", {"main"}),
    ("import json", {"json", "text"}),
    ("import os", {"os", "WORKDIR", "run_command.timeout", "isolated", "run_command.env"}),
    ("import pickle", {"isolated"}),
    ("import shlex", {"run_command.argv"}),
    ("import signal", {"run_command.timeout"}),
    ("import subprocess", {"run_command", "alert", "isolated"}),
    ("import sys", {"sys.path", "isolated", "main"}),
    ("import tempfile", {"tempfile", "isolated"}),
    ("import threading", {"slots", "run_command.timeout"}),
    ("from datetime import timedelta", {"timedelta"}),
    ("from typing import {}", {"Annotated", "Literal", "TypedDict"}),
    ("", set()),
    ("import yaml", {"main"}),
    ("from prefect import {}", {"allow_failure", "flow", "task", "unmapped"}),
    ("from prefect.blocks.system import Secret", {"Secret"}),
    ("from prefect.cache_policies import INPUTS, TASK_SOURCE", {"cache"}),
    ("from prefect.futures import wait", {"wait"}),
    ("from prefect.task_runners import ThreadPoolTaskRunner", {"ThreadPoolTaskRunner"}),
    ("from pydantic import Field", {"Field"}),
)


# Helpers of the general flow body and what they use, in an order that closes the set.
HELPER_NEEDS = (
    ("completed", {"outcome"}),
    ("rule_allows", {"outcome"}),
    ("outcome", {"after", "wait"}),
    ("after", {"allow_failure"}),
)


class ModuleWriter:
    def __init__(self, pipeline: Pipeline, ctx: EmitContext, source: str, module: str):
        self.p = pipeline
        self.ctx = ctx
        self.source = source
        self.module = module
        self.flow_function = self.flow_function_name(pipeline)
        self.needs: set[str] = {"flow", "task"}
        reserved = set(pipeline.params) | {self.flow_function}
        self.module_names = Names(reserved)  # task functions, semaphores, hooks
        self.functions = {task_id: self.module_names.claim(python_name(task_id), "_task") for task_id in pipeline.tasks}
        self.slots = {task_id: self.module_names.claim(f"{python_name(task_id).upper()}_SLOTS")
                      for task_id, task in pipeline.tasks.items() if task.max_parallel is not None}

    @staticmethod
    def flow_function_name(pipeline: Pipeline) -> str:
        """The pipeline's Python name, or with `_flow` added where it would hide an import, a helper,
        a builtin the module calls or a param (the flow keeps its name: `@flow(name=...)`)."""
        name = python_name(pipeline.name)
        taken = name in MODULE_NAMES or name in BUILTINS_CALLED or name in pipeline.params
        return f"{name}_flow" if taken else name

    def render(self) -> str:
        hooks = Hooks(self.module_names)
        writer = TaskWriter(self.p, self.ctx, self.functions, self.slots, hooks, self.module_names)
        tasks = {task_id: writer.write(task_id) for task_id in self.p.tasks}
        self.needs |= writer.needs
        refs = ModuleRefs(self.p.params, Names(set(self.p.params) | set(self.functions.values())
                                                | set(self.slots.values())))
        body = self._flow_body(tasks, refs)
        signature = self._signature()
        decorator = _decorator("flow", self._flow_kwargs(hooks))
        self.needs |= hooks.needs | refs.used
        self._close_needs()
        return emit.render(
            "prefect", "flow.py.j2",
            title=DOCSTRING_TITLE.format(name=self.p.name, source=self.source), module=self.module,
            flow_function=self.flow_function,
            imports=self._imports(), needs=self.needs, workdir=self.p.workdir,
            aliases=refs.aliases, slots={self.slots[t]: (t, self.p.tasks[t].max_parallel) for t in self.slots},
            hooks=[code for _, code in hooks.functions.values()], tasks=[t.code for t in tasks.values()],
            decorator=decorator, signature=signature, docstring=docstring(self.p.description),
            body=body, params=list(self.p.params),
        )

    def _flow_body(self, tasks: dict, refs: ModuleRefs) -> list[str]:
        """The structured body when the pipeline fits it, else the general one."""
        structured = plan(self.p, self.ctx.graph)
        if structured is not None:
            return FlowBody(self.p, self.ctx.graph, structured, tasks, refs.names, refs).lines()
        generic = GenericBody(self.p, self.ctx.graph, tasks, refs.names, refs)
        body = generic.lines()
        self.needs |= generic.needs
        return body

    def _close_needs(self) -> None:
        """What the module state and the needed helpers need in turn."""
        if self.slots:
            self.needs.add("slots")
        if self.p.params:
            self.needs.add("main")
        if any(task.kind == "python" for task in self.p.tasks.values()) or any(a.python for a in self._alerts()):
            self.needs.add("sys.path")  # python code is imported from the working directory
        if self.needs & {"sys.path", "run_command", "isolated", "alert", "os", "WORKDIR"}:
            self.needs |= {"os", "WORKDIR"}
        for name in sorted(self.needs):
            if name.startswith("run_command."):
                self.needs.add("run_command")
        for helper, uses in HELPER_NEEDS:
            if helper in self.needs:
                self.needs |= uses

    def _alerts(self):
        yield from self.p.alerts
        for task in self.p.tasks.values():
            yield from task.alerts

    # ------------------------------------------------------------------ imports

    def _imports(self) -> list[str]:
        lines = []
        for statement, users in IMPORTS:
            if not statement:
                lines.append("")
                continue
            used = sorted(users & self.needs)
            if not used:
                continue
            lines.append(statement.format(", ".join(used)) if "{}" in statement else statement)
        while lines and lines[-1] == "":
            lines.pop()
        return lines

    # ------------------------------------------------------------------ the flow

    def _flow_kwargs(self, hooks: Hooks) -> list[tuple[str, str]]:
        p = self.p
        kwargs = []
        if self.flow_function.replace("_", "-") != p.name:  # Prefect's default name
            kwargs.append(("name", py(p.name)))
        if p.description and not docstring(p.description):
            kwargs.append(("description", literal(p.description)))
        if p.max_active_tasks:
            self.needs.add("ThreadPoolTaskRunner")
            kwargs.append(("task_runner", f"ThreadPoolTaskRunner(max_workers={p.max_active_tasks})"))
        if p.timeout is not None:
            kwargs.append(("timeout_seconds", py(p.timeout)))
        kwargs.extend(hooks.code(p.alerts))
        self.needs |= hooks.needs
        if any(t.kind != "noop" for t in p.tasks.values()):
            kwargs.append(("log_prints", "True"))  # commands' output, and the tasks' prints, in the run's logs
        return kwargs

    def _signature(self) -> list[str]:
        parts = [self._param(name, param) for name, param in self.p.params.items()]
        return [p for p in parts if " = " not in p] + [p for p in parts if " = " in p]

    def _param(self, name: str, param: Param) -> str:
        hint = param.value_type.value
        if param.enum is not None:
            self.needs.add("Literal")
            hint = f"Literal[{', '.join(py(v) for v in param.enum)}]"
        bounds = [f"{key}={_bound(value, param)}" for key, value in (("ge", param.min), ("le", param.max))
                  if value is not None]
        if param.required and param.description:
            bounds.append(f"description={literal(param.description)}")
        if bounds:
            self.needs |= {"Annotated", "Field"}
            hint = f"Annotated[{hint}, Field({', '.join(bounds)})]"
        if param.required:
            return f"{name}: {hint}"
        default = _default(param.default)
        if param.description:
            # Prefect shows the description of a Field default (it rebuilds the field from it)
            self.needs.add("Field")
            default = f"Field({default}, description={literal(param.description)})"
        elif isinstance(param.default, dict):
            self.needs.add("Field")
            default = f"Field({default})"
        return f"{name}: {hint} = {default}"


def _decorator(name: str, kwargs: list[tuple[str, str]]) -> str:
    return f"@{name}({', '.join(f'{key}={value}' for key, value in kwargs)})" if kwargs else f"@{name}"


def _default(value: Any) -> str:
    """A list default as a tuple: Prefect validates it into a list, and no run can change it."""
    if isinstance(value, list):
        return py(tuple(value))
    return py(value)


def _bound(value: float, param: Param) -> str:
    if param.value_type is ValueType.INT and float(value).is_integer():
        return str(int(value))
    return py(value)
