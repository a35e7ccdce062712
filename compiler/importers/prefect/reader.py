"""Prefect 3 flow modules, read by static analysis (the module is parsed, never executed).

Two kinds of module are read:

* dagshift's own output (compiler/backends/prefect.py): every task runs `_run(_SPECS[id], ...)`
  and the flow body submits tasks with the helpers of templates/prefect/runtime.py.j2. The specs
  hold the original task ids, commands, python targets, env, secrets and outputs; the body holds
  the edges, conditions (the original `when:` text is in the comment above `_when[...]`), trigger
  rules and fan-outs. This is decoded exactly.
* hand-written flows: `@task` functions become python tasks (`module:function`), their options
  task settings; calls in the `@flow` body (direct, `.submit`, `.map`) become tasks, futures passed
  as arguments data edges (`${{ tasks.T.outputs.result }}`), `wait_for=` order edges; `if` over
  params becomes `when:`. Other code in the flow body has no IR equivalent: reported as a loss.

The prefect.yaml next to the module gives the deployment: schedule, tags, run concurrency,
triggers.

Not carried by dagshift's Prefect output (`not_carried`), with the reason:
* artifacts, consumes, produces: artifact references are written as their paths, so the output
  has files, not named artifacts; the edges they made are kept as plain `after` edges
  (PrefectImporter.carried compares the pipeline in that shape).
* an `after` edge another path implies, into a task whose trigger rule is all_success or
  none_failed: a flow that calls its tasks one after the other holds their order, not each edge
  of it, and such an edge changes nothing a run does (PrefectImporter.carried leaves them out).
* data triggers name the artifact's path (not the artifact), manual triggers leave no trace
  (a deployment without schedules): `triggers` are compared by type and path in the tests.
* params' `type` is written as the hint whether it was written or implied by the default, and
  outputs' descriptions, the owner, tasks' `estimate` and `priority` are not written at all.
* retry_backoff / retry_max_delay become the list of delays: with one retry, or a cap never
  reached, they leave no trace (the delays themselves round trip).
* schedule.start_date: Prefect cron schedules have no start (the backend warns W302).

The modules: prefect_module.py (the module's functions, and what dagshift's output keeps beside
them), prefect_params.py (the signature), prefect_options.py (@flow / @task options, hooks),
prefect_generated.py and prefect_generated_tasks.py (dagshift's flow body and task functions),
prefect_handwritten.py (hand-written flow bodies), prefect_conditions.py, prefect_deployment.py
(prefect.yaml), prefect_values.py (static values).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import networkx as nx

from ...graph import build_graph
from ...ir import Pipeline
from .. import Importer
from ..base import Imported, Reporter
from ..limits import nesting_problem
from ..normalize import artifacts_as_paths, order_edges_as_after, without_idle_retry_settings
from .deployment import DeploymentReader, Deployments
from .generated import GeneratedBody
from .handwritten import HandWrittenBody
from .module import ModuleReader
from .options import Options
from .params import Signature
from .values import decorator_kwargs, literal


class PrefectImporter(Importer):
    name = "prefect"
    title = "Prefect 3"
    not_carried = (
        "triggers",
        "params.*.type", "tasks.*.outputs.*.description", "owner", "tasks.*.estimate",
        "tasks.*.priority", "tasks.*.retry_backoff", "tasks.*.retry_max_delay", "schedule.start_date",
    )

    def carried(self, pipeline: Pipeline) -> dict[str, Any]:
        """Also as the flow holds them: artifact references are the paths (no names), the edges
        they made are plain `wait_for` edges, and a task that does not retry has no retry settings."""
        data = artifacts_as_paths(super().carried(pipeline), pipeline.artifacts)
        return without_implied_order(without_idle_retry_settings(order_edges_as_after(data, pipeline)), pipeline)

    def detect(self, path: Path, text: str) -> bool:
        return path.suffix == ".py" and re.search(r"^\s*(from prefect\b|import prefect\b)", text, re.MULTILINE) is not None

    def read(self, path: Path, text: str, display: str) -> list[Imported]:
        report = Reporter(display, text)
        try:
            reader = ModuleReader(path, text, display)
        except SyntaxError as exc:
            report.error(f"not valid Python: {exc.msg}", exc.lineno, exc.offset, code="E601")
            return [Imported(display, None, report.diagnostics)]
        too_deep = next(filter(None, map(nesting_problem, [*reader.functions.values(), *reader.classes.values()])), None)
        if too_deep is not None:  # the readers recurse into expressions
            report.error(f"cannot read the file: {too_deep[0]}", too_deep[1], code="E601")
            return [Imported(display, None, report.diagnostics)]
        flows = reader.flows()
        if not flows:
            report.error("no @flow function in the module", code="E601",
                         help="dagshift imports a Prefect module that defines a flow with @flow")
            return [Imported(display, None, report.diagnostics)]
        deployment = Deployments(path)
        results = []
        for function in flows:
            flow_report = Reporter(display, text)
            data = FlowReader(reader, function, flow_report, deployment).read()
            if not data.get("tasks") and not flow_report.diagnostics.has_errors:  # nothing a pipeline can run
                flow_report.error(f"flow '{function.name}' runs no task dagshift can read", function.lineno,
                                  code="E601")
            origin = f"flow {function.name}" if len(flows) > 1 else ""
            results.append(Imported(display, data, flow_report.diagnostics, origin, places=flow_report.places))
        return results


IMPORTER = PrefectImporter()


def without_implied_order(data: dict[str, Any], pipeline: Pipeline) -> dict[str, Any]:
    """`after` edges another path already implies are left out where they change nothing (trigger
    rules all_success and none_failed): a flow that calls its tasks one after the other holds
    the order, not each edge of it."""
    graph = build_graph(pipeline)
    order = list(nx.topological_sort(graph))
    index = {task_id: i for i, task_id in enumerate(order)}
    below = _descendants(graph, order, index)
    for task_id, task in data.get("tasks", {}).items():
        if task.get("trigger_rule", "all_success") not in ("all_success", "none_failed") or "after" not in task:
            continue
        # implied: the task is below another task that follows the upstream one
        bit = 1 << index[task_id]
        kept = [u for u in task["after"] if not any(below[m] & bit for m in graph.successors(u) if m != task_id)]
        if kept:
            task["after"] = kept
        else:
            del task["after"]
    return data


def _descendants(graph: nx.DiGraph, order: list[str], index: dict[str, int]) -> dict[str, int]:
    """Each task's descendants, a bit per task (its index): linear in the edges on a large graph."""
    found: dict[str, int] = {}
    for task_id in reversed(order):
        bits = 0
        for downstream in graph.successors(task_id):
            bits |= found[downstream] | 1 << index[downstream]
        found[task_id] = bits
    return found


class FlowReader:
    """One @flow function, with the module it is in and its deployment, as pipeline data."""

    def __init__(self, module: ModuleReader, function: ast.FunctionDef, report: Reporter, deployments: Deployments):
        self.m = module
        self.f = function
        self.report = report
        self.deployments = deployments
        self.data: dict[str, Any] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.param_names: list[str] = []
        self.options = Options(self)

    def read(self) -> dict[str, Any]:
        decorator = self.m.decorator(self.f, "flow")
        options = decorator_kwargs(decorator)
        name = literal(options.get("name"))
        # Prefect names a flow after its function, `_` as `-`
        self.data["name"] = name if isinstance(name, str) and name else self.f.name.replace("_", "-")
        description = literal(options.get("description"))
        if isinstance(description, str):
            self.data["description"] = description
        elif ast.get_docstring(self.f):
            self.data["description"] = ast.get_docstring(self.f).strip().splitlines()[0]
        if self.m.workdir is not None:
            self.data["workdir"] = self.m.workdir
        self.data["params"] = Signature(self.f, self.report).params()
        self.param_names = list(self.data["params"])
        self.options.flow_options(options)
        if self.m.generated:
            GeneratedBody(self).read()
        else:
            HandWrittenBody(self).read()
        self.data["tasks"] = self.tasks
        for key in ("name", "description"):  # from the function itself when no @flow option names them
            self.report.place((key,), self.f.lineno)
        DeploymentReader(self).read()
        return {k: v for k, v in self.data.items() if v not in ({}, [], None) or k == "tasks"}

    def task_options(self, function: ast.FunctionDef, task: dict[str, Any]) -> None:
        """@task(...) keyword arguments as task settings."""
        self.options.task_options(function, task)
