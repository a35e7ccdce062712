"""The Prefect importer: a flow module (parsed, never executed) into one pipeline per @flow
function, and what a round trip through Prefect carries (see the package's docstring)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import networkx as nx

from compiler.importers import Importer
from compiler.importers.base import Imported, Reporter
from compiler.importers.limits import nesting_problem
from compiler.importers.normalize import artifacts_as_paths, order_edges_as_after, without_idle_retry_settings
from compiler.language.graph import build_graph
from compiler.language.ir import Pipeline

from .deployment import DeploymentReader, Deployments
from .generated import GeneratedBody
from .handwritten import HandWrittenBody
from .module import ModuleReader
from .options import Options
from .params import Signature
from .state import FlowState
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
            data = read_flow(FlowState(reader, function, flow_report), deployment)
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


def read_flow(flow: FlowState, deployments: Deployments) -> dict[str, Any]:
    """One @flow function, with the module it is in and its deployment, as pipeline data."""
    data, function, module = flow.data, flow.function, flow.module
    options = decorator_kwargs(module.decorator(function, "flow"))
    name = literal(options.get("name"))
    # Prefect names a flow after its function, `_` as `-`
    data["name"] = name if isinstance(name, str) and name else function.name.replace("_", "-")
    description = literal(options.get("description"))
    if isinstance(description, str):
        data["description"] = description
    elif ast.get_docstring(function):
        data["description"] = ast.get_docstring(function).strip().splitlines()[0]
    if module.workdir is not None:
        data["workdir"] = module.workdir
    data["params"] = Signature(function, flow.report).params()
    flow.param_names = list(data["params"])
    settings = Options(flow)
    settings.flow_options(options)
    body = GeneratedBody if module.generated else HandWrittenBody
    body(flow, settings).read()
    data["tasks"] = flow.tasks
    for key in ("name", "description"):  # from the function itself when no @flow option names them
        flow.report.place((key,), function.lineno)
    DeploymentReader(flow, deployments).read()
    return {k: v for k, v in data.items() if v not in ({}, [], None) or k == "tasks"}
