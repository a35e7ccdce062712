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
* data triggers name the artifact's path (not the artifact), manual triggers leave no trace
  (a deployment without schedules): `triggers` are compared by type and path in the tests.
* params' `type` is written as the hint whether it was written or implied by the default, and
  params' and outputs' descriptions, the owner, tasks' `estimate` and `priority` are not written at all.
* retry_backoff / retry_max_delay become the list of delays: with one retry, or a cap never
  reached, they leave no trace (the delays themselves round trip).
* schedule.start_date: Prefect cron schedules have no start (the backend warns W302).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from .. import conditions
from ..backends.specs import condition_code
from ..ir import Pipeline, ValueType, type_of_value
from ..placeholders import Ref
from . import Importer
from .base import Imported, Reporter, line_of, plain, yaml_documents
from .normalize import artifacts_as_paths, order_edges_as_after, without_idle_retry_settings

_TYPE_NAMES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "list": "list", "dict": "dict",
               "List": "list", "Dict": "dict", "tuple": "list", "Tuple": "list", "set": "list", "Sequence": "list",
               "Mapping": "dict"}
# Keyword arguments that change nothing a pipeline describes (logging, result storage, UI).
_HARMLESS = {"log_prints", "persist_result", "result_storage", "result_serializer", "validate_parameters",
             "flow_run_name", "task_run_name", "version", "refresh_cache", "cache_result_in_memory",
             "result_storage_key", "viz_return_value"}


class PrefectImporter(Importer):
    name = "prefect"
    title = "Prefect 3"
    not_carried = (
        "triggers",
        "params.*.type", "params.*.description", "tasks.*.outputs.*.description", "owner", "tasks.*.estimate",
        "tasks.*.priority", "tasks.*.retry_backoff", "tasks.*.retry_max_delay", "schedule.start_date",
    )

    def carried(self, pipeline: Pipeline) -> dict[str, Any]:
        """Also as the flow holds them: artifact references are the paths (no names), the edges
        they made are plain `wait_for` edges, and a task that does not retry has no retry settings."""
        data = artifacts_as_paths(super().carried(pipeline), pipeline.artifacts)
        return without_idle_retry_settings(order_edges_as_after(data, pipeline))

    def detect(self, path: Path, text: str) -> bool:
        return path.suffix == ".py" and re.search(r"^\s*(from prefect\b|import prefect\b)", text, re.MULTILINE) is not None

    def read(self, path: Path, text: str, display: str) -> list[Imported]:
        report = Reporter(display, text)
        try:
            module = ast.parse(text, filename=display)
        except SyntaxError as exc:
            report.error(f"not valid Python: {exc.msg}", exc.lineno, exc.offset, code="E601")
            return [Imported(display, None, report.diagnostics)]
        reader = _ModuleReader(path, module, text)
        flows = reader.flows()
        if not flows:
            report.error("no @flow function in the module", code="E601",
                         help="dagshift imports a Prefect module that defines a flow with @flow")
            return [Imported(display, None, report.diagnostics)]
        deployment = _Deployments(path)
        results = []
        for function in flows:
            flow_report = Reporter(display, text)
            data = _FlowReader(reader, function, flow_report, deployment).read()
            origin = f"flow {function.name}" if len(flows) > 1 else ""
            results.append(Imported(display, data, flow_report.diagnostics, origin))
        return results


IMPORTER = PrefectImporter()


# ----------------------------------------------------------------------------- small AST helpers


def _decorator_name(node: ast.expr) -> str:
    """`flow`, `task`, `prefect.flow`, `task(...)`, `task.with_options` -> the last plain name."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _decorator_kwargs(node: ast.expr) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in node.keywords if k.arg} if isinstance(node, ast.Call) else {}


_NOT_LITERAL = object()


def _literal(node: ast.expr | None) -> Any:
    """The value of a literal expression (float('inf') included), or _NOT_LITERAL."""
    if node is None:
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float" \
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
        try:
            return float(node.args[0].value)
        except (TypeError, ValueError):
            return _NOT_LITERAL
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


def _escape(text: str) -> str:
    """Literal text as dagshift text: a literal `${{` is written `$${{`."""
    return text.replace("${{", "$${{")


def _call_name(node: ast.expr) -> str:
    return node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else ""


def _strings(node: ast.expr) -> list[str] | None:
    value = _literal(node)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


# ----------------------------------------------------------------------------- the module


class _ModuleReader:
    """The module's @task and @flow functions and its dagshift specs (when it is dagshift's output)."""

    def __init__(self, path: Path, module: ast.Module, text: str):
        self.path = path
        self.module = module
        self.lines = text.splitlines()
        self.functions = {n.name: n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.specs = self._specs()
        self.workdir = self._workdir()

    def decorator(self, function: ast.AST, kind: str) -> ast.expr | None:
        for node in getattr(function, "decorator_list", []):
            if _decorator_name(node) == kind:
                return node
        return None

    def flows(self) -> list[ast.FunctionDef]:
        return [f for f in self.functions.values() if self.decorator(f, "flow") is not None]

    def tasks(self) -> dict[str, ast.FunctionDef]:
        return {name: f for name, f in self.functions.items() if self.decorator(f, "task") is not None}

    def _specs(self) -> dict[str, Any] | None:
        """`_SPECS = {...}` of dagshift's output (tuples are placeholders), else None."""
        for node in self.module.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_SPECS" for t in node.targets):
                value = _literal(node.value)
                return value if isinstance(value, dict) else None
        return None

    def _workdir(self) -> str | None:
        """dagshift's output: `WORKDIR = '...'` is the pipeline's workdir; the environment
        lookup means there was none."""
        for node in self.module.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "WORKDIR" for t in node.targets):
                value = _literal(node.value)
                return value if isinstance(value, str) else None
        return None

    def spec_id(self, function: ast.FunctionDef) -> str | None:
        """The task id a dagshift-generated task function runs: `return _run(_SPECS["id"], ...)`."""
        if self.specs is None or len(function.body) != 1 or not isinstance(function.body[0], ast.Return):
            return None
        call = function.body[0].value
        if _call_name(call) != "_run" or not call.args:
            return None
        first = call.args[0]
        if isinstance(first, ast.Subscript) and isinstance(first.value, ast.Name) and first.value.id == "_SPECS":
            key = _literal(first.slice)
            return key if isinstance(key, str) and key in self.specs else None
        return None


# ----------------------------------------------------------------------------- prefect.yaml


class _Deployments:
    """The prefect.yaml next to the module (if any): deployments by entrypoint."""

    def __init__(self, path: Path):
        self.file = path.parent / "prefect.yaml"
        self.display = str(self.file)
        self.text = ""
        self.entries: list[Any] = []
        self.error: str | None = None
        if not self.file.is_file():
            return
        try:
            self.text = self.file.read_text(encoding="utf-8")
            documents = yaml_documents(self.text)
        except (OSError, ValueError, YAMLError) as exc:  # a broken deployment file must not stop the flow's import
            self.error = f"prefect.yaml is not readable YAML: {exc}"
            return
        document = documents[0] if documents else None
        deployments = document.get("deployments") if isinstance(document, dict) else None
        self.entries = [d for d in deployments or [] if isinstance(d, dict)]

    def for_flow(self, module: Path, function: str) -> list[Any]:
        wanted = f"{module.name}:{function}"
        return [d for d in self.entries if str(d.get("entrypoint", "")).replace("\\", "/").split("/")[-1] == wanted]


# ----------------------------------------------------------------------------- one flow


@dataclass
class _Call:
    """A task call found in the flow body (hand-written flows)."""

    task_id: str
    function: ast.FunctionDef
    node: ast.Call
    mapped: bool
    when: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class _FlowReader:
    def __init__(self, module: _ModuleReader, function: ast.FunctionDef, report: Reporter, deployments: _Deployments):
        self.m = module
        self.f = function
        self.report = report
        self.deployments = deployments
        self.data: dict[str, Any] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.param_names: list[str] = []

    def read(self) -> dict[str, Any]:
        decorator = self.m.decorator(self.f, "flow")
        options = _decorator_kwargs(decorator)
        name = _literal(options.get("name"))
        self.data["name"] = name if isinstance(name, str) and name else self.f.name
        description = _literal(options.get("description"))
        if isinstance(description, str):
            self.data["description"] = description
        elif ast.get_docstring(self.f):
            self.data["description"] = ast.get_docstring(self.f).strip().splitlines()[0]
        if self.m.workdir is not None:
            self.data["workdir"] = self.m.workdir
        self.data["params"] = _Signature(self.f, self.report).params()
        self.param_names = list(self.data["params"])
        self._flow_options(options)
        if self.m.specs is not None and self._is_generated():
            _GeneratedBody(self).read()
        else:
            _HandWrittenBody(self).read()
        self.data["tasks"] = self.tasks
        self._deployment()
        return {k: v for k, v in self.data.items() if v not in ({}, [], None) or k == "tasks"}

    def _is_generated(self) -> bool:
        return any(isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_futures" for t in s.targets)
                   for s in self.f.body)

    # ------------------------------------------------------------------ flow options

    def _flow_options(self, options: dict[str, ast.expr]) -> None:
        for key, node in options.items():
            if key in ("name", "description") or key in _HARMLESS:
                continue
            if key == "timeout_seconds":
                self._set_seconds(self.data, "timeout", node)
            elif key == "task_runner":
                self._task_runner(node)
            elif key in ("on_failure", "on_completion", "on_crashed", "on_cancellation", "on_running"):
                self.data.setdefault("alerts", []).extend(_Hooks(self, key, node).alerts())
            elif key in ("retries", "retry_delay_seconds"):
                self.report.loss(f"flow {key} (the whole flow run retried) has no pipeline equivalent: not carried",
                                 node.lineno, node.col_offset + 1, help="set retries on the tasks instead")
            else:
                self.report.loss(f"flow option {key}= has no pipeline equivalent: not carried", node.lineno,
                                 node.col_offset + 1)

    def _task_runner(self, node: ast.expr) -> None:
        runner = node.func if isinstance(node, ast.Call) else node
        runner_name = runner.attr if isinstance(runner, ast.Attribute) else getattr(runner, "id", "")
        if runner_name == "ThreadPoolTaskRunner" and isinstance(node, ast.Call):
            workers = _literal(_decorator_kwargs(node).get("max_workers") or (node.args[0] if node.args else None))
            if isinstance(workers, int) and not isinstance(workers, bool) and workers >= 1:
                self.data["max_active_tasks"] = workers
            return
        if runner_name in ("ThreadPoolTaskRunner", "ConcurrentTaskRunner"):
            return
        self.report.loss(f"task runner {runner_name or ast.unparse(node)} is not carried: dagshift chooses how tasks "
                         "run on each target", node.lineno, node.col_offset + 1, approximate=True)

    def _set_seconds(self, target: dict[str, Any], key: str, node: ast.expr) -> None:
        value = _seconds(node)
        if value is None:
            self.report.loss(f"{key} is not a number of seconds: not carried", node.lineno, node.col_offset + 1)
        else:
            target[key] = value

    # ------------------------------------------------------------------ task options

    def task_options(self, function: ast.FunctionDef, task: dict[str, Any]) -> None:
        """@task(...) keyword arguments as task settings."""
        options = _decorator_kwargs(self.m.decorator(function, "task"))
        for key, node in options.items():
            if key == "name" or key in _HARMLESS:
                continue
            where = (node.lineno, node.col_offset + 1)
            if key == "description":
                value = _literal(node)
                if isinstance(value, str):
                    task["description"] = value
            elif key == "retries":
                value = _literal(node)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    task["retries"] = value
                elif value != 0:
                    self.report.loss("retries is not a literal count: not carried", *where)
            elif key == "retry_delay_seconds":
                self._retry_delays(task, node, options)
            elif key == "timeout_seconds":
                self._set_seconds(task, "timeout", node)
            elif key == "tags":
                self._tags(task, node)
            elif key in ("cache_policy", "cache_key_fn"):
                self._cache(task, key, node)
            elif key == "cache_expiration":
                expire = _seconds(node)
                if expire is None:
                    self.report.loss("cache_expiration is not a literal duration: not carried", *where)
                else:
                    task.setdefault("cache", {"enabled": True})["expire"] = expire
            elif key in ("on_failure", "on_completion", "on_crashed", "on_cancellation", "on_running"):
                task.setdefault("alerts", []).extend(_Hooks(self, key, node).alerts())
            elif key == "retry_jitter_factor":
                self.report.loss("retry_jitter_factor has no pipeline equivalent: retries wait exactly",
                                 *where, approximate=True)
            else:
                self.report.loss(f"task option {key}= has no pipeline equivalent: not carried", *where)
        if "cache" in task and task["cache"].get("enabled") is False:
            del task["cache"]

    def _retry_delays(self, task: dict[str, Any], node: ast.expr, options: dict[str, ast.expr]) -> None:
        value = _literal(node)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value:
                task["retry_delay"] = _whole(value)
            return
        if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
            delays = [_whole(v) for v in value]
            task.update(_retry_policy(delays))
            if _retry_delays_of(task, len(delays)) != delays:
                self.report.loss(f"retry delays {delays} are not a geometric progression: imported as "
                                 f"{_retry_delays_of(task, len(delays))}", node.lineno, node.col_offset + 1,
                                 approximate=True)
            return
        if isinstance(node, ast.Call) and _call_name(node) == "exponential_backoff":
            factor = _literal(_decorator_kwargs(node).get("backoff_factor") or (node.args[0] if node.args else None))
            if isinstance(factor, (int, float)) and factor > 0:
                task["retry_delay"] = _whole(factor)
                task["retry_backoff"] = 2.0
                return
        self.report.loss("retry_delay_seconds is not literal: not carried", node.lineno, node.col_offset + 1)

    def _tags(self, task: dict[str, Any], node: ast.expr) -> None:
        tags = _strings(node)
        if tags is None:
            self.report.loss("task tags are not a literal list: not carried", node.lineno, node.col_offset + 1)
            return
        if tags:
            # dagshift's pool is a Prefect tag with a concurrency limit: the first tag is the pool
            task["pool"] = tags[0]
        if len(tags) > 1:
            self.report.loss(f"task tags {tags[1:]} are not carried: a task has one pool (the first tag, "
                             f"{tags[0]!r})", node.lineno, node.col_offset + 1)

    def _cache(self, task: dict[str, Any], key: str, node: ast.expr) -> None:
        text = ast.unparse(node)
        if key == "cache_policy" and text in ("NO_CACHE", "NONE", "None"):
            return
        task.setdefault("cache", {"enabled": True})
        if key == "cache_key_fn" or not set(re.findall(r"\w+", text)) <= {"INPUTS", "TASK_SOURCE"}:
            self.report.loss(f"{key}={text}: dagshift caches on the command and its inputs (INPUTS + TASK_SOURCE)",
                             node.lineno, node.col_offset + 1, approximate=True)

    # ------------------------------------------------------------------ prefect.yaml

    def _deployment(self) -> None:
        d = self.deployments
        if d.error:
            self.report.loss(d.error, help="the schedule and triggers are not imported")
            return
        entries = d.for_flow(self.m.path, self.f.name)
        if not entries:
            return
        entry = entries[0]
        dep = Reporter(d.display, d.text)
        if len(entries) > 1:
            dep.loss(f"{len(entries)} deployments of this flow: only the first, {entry.get('name')!r}, is imported",
                     line_of(entries[1]))
        tags = entry.get("tags")
        if isinstance(tags, list) and tags:
            self.data["tags"] = [str(t) for t in tags]
        if "concurrency_limit" in entry:
            limit = plain(entry["concurrency_limit"])
            if isinstance(limit, dict):
                limit = limit.get("limit")
            if isinstance(limit, int) and limit >= 1:
                self.data["max_active_runs"] = limit
        self._schedules(entry, dep)
        self._triggers(entry, dep)
        parameters = plain(entry.get("parameters") or {})
        if isinstance(parameters, dict):
            for pname, value in parameters.items():
                if pname in self.data["params"]:
                    param = self.data["params"][pname]
                    param["default"] = value
                    dep.loss(f"the deployment sets parameter {pname!r} to {value!r}: imported as its default",
                             line_of(entry["parameters"], pname), approximate=True)
        for key in entry:
            if key not in ("name", "entrypoint", "description", "tags", "parameters", "schedules", "schedule",
                           "triggers", "concurrency_limit", "work_pool", "version", "pull", "build", "push"):
                dep.loss(f"deployment {key}: is not carried", line_of(entry, key))
        pool = plain(entry.get("work_pool") or {})
        if isinstance(pool, dict) and pool.get("job_variables"):
            dep.loss("work_pool job_variables (image, resources...) are not carried: set them on the tasks",
                     line_of(entry["work_pool"], "job_variables"))
        self.report.diagnostics.extend(dep.diagnostics.items)

    def _schedules(self, entry: Any, dep: Reporter) -> None:
        schedules = entry.get("schedules") or ([entry["schedule"]] if entry.get("schedule") else [])
        if not schedules:
            return
        first = schedules[0]
        if len(schedules) > 1:
            dep.loss(f"{len(schedules)} schedules: a pipeline has one; only the first is imported",
                     line_of(schedules, 1))
        if not isinstance(first, dict) or "cron" not in first:
            kind = next((k for k in ("interval", "rrule") if isinstance(first, dict) and k in first), "schedule")
            dep.loss(f"a {kind} schedule has no cron equivalent: not carried", line_of(schedules, 0),
                     help="write the schedule as a cron expression")
            return
        schedule: dict[str, Any] = {"cron": str(first["cron"])}
        if first.get("timezone"):
            schedule["timezone"] = str(first["timezone"])
        for key in first:
            if key not in ("cron", "timezone", "active", "day_or"):
                dep.loss(f"schedule {key}: is not carried", line_of(first, key))
        if first.get("active") is False:
            dep.loss("the schedule is inactive: imported as active", line_of(first, "active"), approximate=True)
        self.data["schedule"] = schedule

    def _triggers(self, entry: Any, dep: Reporter) -> None:
        for index, trigger in enumerate(entry.get("triggers") or []):
            value = plain(trigger)
            resource = (value.get("match") or {}).get("prefect.resource.id", "") if isinstance(value, dict) else ""
            expect = value.get("expect") if isinstance(value, dict) else None
            if isinstance(resource, str) and resource.startswith("dagshift.artifact.") \
                    and expect == ["dagshift.artifact.updated"]:
                self.data.setdefault("triggers", []).append({"type": "data", "uri": resource[len("dagshift.artifact."):]})
            elif isinstance(value, dict) and expect == ["prefect.flow-run.Completed"] and \
                    (value.get("match_related") or {}).get("prefect.resource.name") == self.data["name"]:
                self.data.setdefault("triggers", []).append({"type": "continuous"})
            else:
                dep.loss("a deployment trigger is not carried: only dagshift's data and continuous triggers are "
                         "understood", line_of(entry["triggers"], index))


def _whole(value: float) -> Any:
    return int(value) if float(value).is_integer() else value


def _seconds(node: ast.expr) -> int | None:
    """A literal number of seconds, or timedelta(...) of literals."""
    value = _literal(node)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(round(value))
    if isinstance(node, ast.Call) and _decorator_name(node) == "timedelta":
        units = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "weeks": 604800}
        total = 0.0
        for keyword in node.keywords:
            amount = _literal(keyword.value)
            if keyword.arg not in units or not isinstance(amount, (int, float)):
                return None
            total += amount * units[keyword.arg]
        if node.args:
            amount = _literal(node.args[0])
            if not isinstance(amount, (int, float)):
                return None
            total += amount * 86400
        return int(round(total))
    return None


def _retry_delays_of(task: dict[str, Any], retries: int) -> list[int]:
    """What dagshift's Prefect backend writes for these settings (compiler/backends/prefect.py)."""
    delay = task.get("retry_delay") or 0
    factor = task.get("retry_backoff") or 1.0
    cap = task.get("retry_max_delay")
    values = []
    for attempt in range(retries):
        value = int(round(delay * factor**attempt))
        values.append(min(value, cap) if cap is not None else value)
    return values


def _retry_policy(delays: list[int]) -> dict[str, Any]:
    """retry_delay, retry_backoff and retry_max_delay that give this list of delays."""
    first = delays[0]
    policy: dict[str, Any] = {"retry_delay": first} if first else {}
    if len(delays) < 2 or not first or delays[1] == first:
        return policy
    policy["retry_backoff"] = max(delays[1] / first, 1.0)
    uncapped = _retry_delays_of(policy, len(delays))
    if uncapped != delays and delays[-1] < uncapped[-1]:
        policy["retry_max_delay"] = delays[-1]
    return policy


# ----------------------------------------------------------------------------- params


class _Signature:
    """The flow's parameters: name, type hint (Literal -> enum, Field(ge, le) -> min/max), default."""

    def __init__(self, function: ast.FunctionDef, report: Reporter):
        self.f = function
        self.report = report

    def params(self) -> dict[str, dict[str, Any]]:
        args = self.f.args
        positional = args.posonlyargs + args.args
        defaults: dict[str, ast.expr] = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]],
                                                 args.defaults))
        defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        params = {}
        for arg in positional + args.kwonlyargs:
            params[arg.arg] = self._param(arg, defaults.get(arg.arg))
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                self.report.loss(f"*{extra.arg} / **{extra.arg} parameters have no pipeline equivalent: not carried",
                                 extra.lineno, extra.col_offset + 1)
        return params

    def _param(self, arg: ast.arg, default_node: ast.expr | None) -> dict[str, Any]:
        param: dict[str, Any] = {}
        value_type = self._hint(arg, arg.annotation, param) if arg.annotation is not None else None
        if default_node is not None:
            default = _literal(default_node)
            if default is _NOT_LITERAL:
                self.report.loss(f"the default of parameter {arg.arg!r} is not a literal: the parameter is imported "
                                 "as required", default_node.lineno, default_node.col_offset + 1, approximate=True)
            elif default is None:
                if value_type is None or arg.annotation is None:
                    self.report.loss(f"parameter {arg.arg!r} defaults to None: dagshift params without a default "
                                     "are required", arg.lineno, arg.col_offset + 1, approximate=True)
                else:
                    self.report.loss(f"parameter {arg.arg!r} defaults to None: dagshift params without a default "
                                     "are required", arg.lineno, arg.col_offset + 1, approximate=True)
            else:
                param["default"] = list(default) if isinstance(default, tuple) else default
        implied = type_of_value(param.get("default")) if "default" in param else None
        if value_type is not None and (implied is None or implied.value != value_type):
            param["type"] = value_type
        elif value_type is None and implied is None:
            param["type"] = "str"
        return param

    def _hint(self, arg: ast.arg, node: ast.expr, param: dict[str, Any]) -> str | None:
        """The dagshift type of a hint; Annotated bounds and Literal choices go into `param`."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.Subscript):
            outer = _decorator_name(node.value) if isinstance(node.value, (ast.Name, ast.Attribute)) else ""
            inner = node.slice
            if outer == "Annotated" and isinstance(inner, ast.Tuple) and inner.elts:
                for extra in inner.elts[1:]:
                    self._bounds(arg, extra, param)
                return self._hint(arg, inner.elts[0], param)
            if outer == "Literal":
                choices = _literal(inner.elts[0] if isinstance(inner, ast.Tuple) and len(inner.elts) == 1 else
                                   (ast.Tuple(inner.elts, ast.Load()) if isinstance(inner, ast.Tuple) else inner))
                choices = list(choices) if isinstance(choices, tuple) else [choices]
                param["enum"] = choices
                kinds = {type_of_value(c) for c in choices}
                return next(iter(kinds)).value if len(kinds) == 1 and None not in kinds else "str"
            if outer == "Optional":
                return self._hint(arg, inner, param)
            if outer in _TYPE_NAMES:
                return _TYPE_NAMES[outer]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            sides = [s for s in (node.left, node.right) if not (isinstance(s, ast.Constant) and s.value is None)]
            if len(sides) == 1:
                return self._hint(arg, sides[0], param)
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if name in _TYPE_NAMES:
            return _TYPE_NAMES[name]
        self.report.loss(f"parameter {arg.arg!r} has type {ast.unparse(node)}, which dagshift params cannot hold: "
                         "imported as str", node.lineno, node.col_offset + 1, approximate=True)
        return "str"

    def _bounds(self, arg: ast.arg, node: ast.expr, param: dict[str, Any]) -> None:
        if not (isinstance(node, ast.Call) and _decorator_name(node) == "Field"):
            return
        for keyword in node.keywords:
            value = _literal(keyword.value)
            if keyword.arg in ("ge", "le") and isinstance(value, (int, float)) and not isinstance(value, bool):
                param["min" if keyword.arg == "ge" else "max"] = float(value)
            elif keyword.arg == "description" and isinstance(value, str):
                param["description"] = value
            elif keyword.arg == "default":
                continue
            else:
                self.report.loss(f"Field({keyword.arg}=...) of parameter {arg.arg!r} is not carried: dagshift "
                                 "params have min (ge), max (le) and a description", keyword.value.lineno,
                                 keyword.value.col_offset + 1, approximate=keyword.arg in ("gt", "lt"))


# ----------------------------------------------------------------------------- hooks -> alerts


class _Hooks:
    def __init__(self, flow: _FlowReader, key: str, node: ast.expr):
        self.flow = flow
        self.key = key
        self.node = node

    def alerts(self) -> list[dict[str, Any]]:
        on = {"on_failure": "failure", "on_crashed": "failure", "on_completion": "success"}.get(self.key)
        if on is None or not isinstance(self.node, (ast.List, ast.Tuple)):
            self.flow.report.loss(f"{self.key} hooks have no pipeline equivalent: not carried", self.node.lineno,
                                  self.node.col_offset + 1)
            return []
        found = []
        for hook in self.node.elts:
            alert = self._generated(hook) or self._function(hook)
            if alert is not None:
                found.append({"on": on, **alert})
        if self.key == "on_crashed":
            self.flow.report.loss("on_crashed hooks are imported as failure alerts", self.node.lineno,
                                  self.node.col_offset + 1, approximate=True)
        return found

    def _generated(self, hook: ast.expr) -> dict[str, Any] | None:
        """dagshift's `functools.partial(_alert, command=...)` / `(_alert, target=..., kwargs=...)`."""
        if not (isinstance(hook, ast.Call) and _decorator_name(hook) == "partial" and hook.args
                and isinstance(hook.args[0], ast.Name) and hook.args[0].id == "_alert"):
            return None
        kwargs = {k.arg: _literal(k.value) for k in hook.keywords}
        if isinstance(kwargs.get("command"), str):
            return {"command": kwargs["command"]}
        if isinstance(kwargs.get("target"), str):
            alert = {"python": kwargs["target"]}
            if kwargs.get("kwargs"):
                alert["args"] = kwargs["kwargs"]
            return alert
        return None

    def _function(self, hook: ast.expr) -> dict[str, Any] | None:
        if isinstance(hook, ast.Name) and hook.id in self.flow.m.functions:
            self.flow.report.loss(f"hook {hook.id} is called as an alert with no arguments (Prefect passes the flow "
                                  "or task, the run and its state)", hook.lineno, hook.col_offset + 1,
                                  approximate=True)
            return {"python": f"{_module_name(self.flow.m.path)}:{hook.id}"}
        self.flow.report.loss(f"hook {ast.unparse(hook)} is not a function of this module: not carried",
                              hook.lineno, hook.col_offset + 1)
        return None


def _module_name(path: Path) -> str:
    return re.sub(r"\W", "_", path.stem) or "flow"


# ----------------------------------------------------------------------------- dagshift's output


def _placeholder(spec: Any) -> str | None:
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


def _spec_value(spec: Any) -> Any:
    """A runtime spec value back as dagshift text: literals escaped, tuples as placeholders."""
    if isinstance(spec, list):
        return [_spec_value(v) for v in spec]
    if isinstance(spec, dict):
        return {k: _spec_value(v) for k, v in spec.items()}
    if isinstance(spec, str):
        return _escape(spec)
    if isinstance(spec, tuple) and spec and spec[0] == "concat":
        return "".join(_escape(p) if isinstance(p, str) else (_placeholder(p) or "") for p in spec[1:])
    if isinstance(spec, tuple):
        return _placeholder(spec)
    return spec


class _GeneratedBody:
    """The flow body dagshift's Prefect backend writes (see the module docstring)."""

    def __init__(self, flow: _FlowReader):
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
            key = _literal(target.slice)
            holder = getattr(target.value, "id", "")
            if holder == "_futures" and isinstance(key, str):
                self._task(key, node.value, checks)
                return
            if holder == "_when" and isinstance(key, str):
                self._condition(key, node)
                return
        if isinstance(node, ast.Assign) or isinstance(node, ast.Return):
            return  # _params / _futures / _when set-up, `return _finish(_futures)`
        self.flow.report.loss(f"flow code {ast.unparse(node)[:60]!r} is not carried", node.lineno, node.col_offset + 1)

    def _condition(self, task_id: str, node: ast.Assign) -> None:
        """`_when[id] = _condition(_futures, sources, lambda: EXPR)`: the comment above has the
        original text; EXPR is read back when there is no comment (or it does not match)."""
        call = node.value
        expr = call.args[2].body if isinstance(call, ast.Call) and len(call.args) == 3 and \
            isinstance(call.args[2], ast.Lambda) else None
        comment = self._comment(node.lineno)
        if comment is not None and expr is not None and _same_condition(comment, expr):
            self.conditions[task_id] = comment
            return
        text = _condition_text(expr) if expr is not None else None
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
        value = _literal(ast.parse(found.group(1), mode="eval").body) if _parses(found.group(1)) else None
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
        data_sources = {r.task for r in _refs_in(task) if r.kind == "task_output"}
        after = [t for t in waits if t not in data_sources]
        if after:
            task["after"] = after
        for check in checks:
            self._check(task_id, task, check)
        self.flow.tasks[task_id] = task

    def _submission(self, call: ast.expr):
        """(task function, mapped, foreach, max_parallel, waits) of `f.submit(...)` / `_map(...)`."""
        if isinstance(call, ast.Call) and _call_name(call) == "_map" and len(call.args) == 6:
            function, _params, _inputs, items, waits, limit = call.args
            return function, True, self._items(items), _literal(limit), self._waits(waits)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "submit":
            waits = next((k.value for k in call.keywords if k.arg == "wait_for"), None)
            return call.func.value, False, None, None, self._waits(waits)
        return None, False, None, None, []

    def _items(self, node: ast.expr) -> Any:
        if _call_name(node) == "_items" and len(node.args) == 3:
            return _spec_value(_literal(node.args[2]))
        value = _literal(node)
        return _spec_value(value) if value is not _NOT_LITERAL else None

    @staticmethod
    def _waits(node: ast.expr | None) -> list[str]:
        if node is not None and _call_name(node) == "_after" and len(node.args) >= 2:
            return _strings(node.args[1]) or []
        return []

    def _check(self, task_id: str, task: dict[str, Any], check: ast.expr) -> None:
        name = _call_name(check)
        if name == "_submitted":
            return
        if name == "_rule" and len(check.args) >= 2:
            rule = _literal(check.args[1])
            if isinstance(rule, str) and rule != "all_success":
                task["trigger_rule"] = rule
            return
        if isinstance(check, ast.Compare) and len(check.ops) == 1 and isinstance(check.ops[0], ast.Is):
            subject, value = check.left, _literal(check.comparators[0])
            if isinstance(subject, ast.Subscript) and value is True:
                source = _literal(subject.slice)
                if source in self.conditions:
                    task["when"] = self.conditions[source]
                    return
            if isinstance(subject, ast.Call) and isinstance(subject.func, ast.Attribute) and value is False \
                    and subject.func.attr == "get" and subject.args:
                task["else_of"] = _literal(subject.args[0])
                return
        self.flow.report.loss(f"the check {ast.unparse(check)!r} before {task_id!r} is not carried", check.lineno,
                              check.col_offset + 1)

    def _from_spec(self, spec: dict[str, Any]) -> dict[str, Any]:
        task: dict[str, Any] = {}
        kind = spec.get("kind")
        if kind == "python":
            task["python"] = spec["target"]
            if spec.get("kwargs"):
                task["args"] = _spec_value(spec["kwargs"])
        elif kind == "shell":
            task["command"] = _spec_value(spec["argv"]) if "argv" in spec else _spec_value(spec.get("command", ""))
        if spec.get("env"):
            task["env"] = {k: _spec_value(v) for k, v in spec["env"].items()}
        if spec.get("secrets"):
            task["secrets"] = {env: {"name": ref[0], "key": ref[1]} for env, ref in spec["secrets"].items()}
        if spec.get("outputs"):
            task["outputs"] = {name: {"type": kind_, "path": path} if path else kind_
                               for name, (kind_, path) in spec["outputs"].items()}
        return task


def _parses(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
        return True
    except SyntaxError:
        return False


def _generated_ref_code(ref: Ref) -> str:
    if ref.kind == "param":
        return f"_params[{ref.name!r}]"
    return f"_result(_futures, {ref.task!r})[{ref.name!r}]"


def _same_condition(text: str, expr: ast.expr) -> bool:
    """Whether the condition text compiles to this lambda body (mapped sources compile to a list
    comprehension: those are compared without the task-kind detail)."""
    try:
        parsed = conditions.parse(text)
    except conditions.ConditionError:
        return False
    expected = ast.dump(ast.parse(condition_code(parsed, _generated_ref_code), mode="eval").body)
    found = ast.dump(expr)
    if expected == found:
        return True
    mapped = re.sub(r"ListComp\(.*?generators=\[comprehension\(target=Name\(id='r', ctx=Store\(\)\), iter=",
                    "", found)
    return _text_of(expected) == _text_of(mapped)


def _text_of(dump: str) -> str:
    return re.sub(r"\W", "", dump)


def _condition_text(expr: ast.expr) -> str | None:
    """A Python expression over _params / _result (or flow params, for hand-written flows) as
    a dagshift condition, or None when it has no equivalent."""
    if isinstance(expr, ast.BoolOp):
        parts = [_condition_text(v) for v in expr.values]
        if None in parts:
            return None
        joined = f" {'and' if isinstance(expr.op, ast.And) else 'or'} ".join(parts)
        return f"({joined})"
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        inner = _condition_text(expr.operand)
        return None if inner is None else f"not {inner}"
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        ops = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
        op = ops.get(type(expr.ops[0]))
        left, right = _condition_text(expr.left), _condition_text(expr.comparators[0])
        if op is None or left is None or right is None:
            return None
        return f"{left} {op} {right}"
    if isinstance(expr, ast.Constant):
        if isinstance(expr.value, bool):
            return "true" if expr.value else "false"
        if isinstance(expr.value, (int, float)):
            return repr(expr.value)
        if isinstance(expr.value, str) and "'" not in expr.value:
            return f"'{expr.value}'"
        return None
    if isinstance(expr, ast.Subscript):
        key = _literal(expr.slice)
        base = expr.value
        if isinstance(base, ast.Name) and base.id == "_params" and isinstance(key, str):
            return f"params.{key}"
        if _call_name(base) == "_result" and len(base.args) == 2 and isinstance(key, str):
            task = _literal(base.args[1])
            return f"tasks.{task}.outputs.{key}" if isinstance(task, str) else None
    if isinstance(expr, ast.ListComp) and _call_name(expr.generators[0].iter) == "_result":
        key = _literal(expr.elt.slice) if isinstance(expr.elt, ast.Subscript) else None
        task = _literal(expr.generators[0].iter.args[1])
        return f"tasks.{task}.outputs.{key}" if isinstance(task, str) and isinstance(key, str) else None
    if isinstance(expr, ast.Name):
        return f"params.{expr.id}"  # hand-written flows: a flow parameter (checked by the caller)
    return None


def _refs_in(task: dict[str, Any]) -> list[Ref]:
    from ..backends.specs import refs_in

    found: list[Ref] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.extend(refs_in(value))
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    for key in ("command", "args", "env", "foreach"):
        walk(task.get(key))
    return found


# ----------------------------------------------------------------------------- hand-written flows


class _HandWrittenBody:
    """Task calls in a hand-written @flow body. Each call is one task: its id is the task's
    `name=` (or function name), with a suffix when the same task is called again."""

    def __init__(self, flow: _FlowReader):
        self.flow = flow
        self.m = flow.m
        self.task_functions = self.m.tasks()
        self.futures: dict[str, str] = {}  # variable -> task id
        self.module = _module_name(self.m.path)
        self.params = set(flow.param_names)

    def read(self) -> None:
        self._block(self.flow.f.body, None)

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
            if node.value is not None and self._task_call(node.value) is None and \
                    not (isinstance(node.value, ast.Name) and node.value.id in self.futures):
                self.flow.report.loss("the flow's return value is not carried", node.lineno, node.col_offset + 1)
            elif node.value is not None:
                self._call(node.value, None, when)
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
        if isinstance(node, ast.For):
            self._loop(node, when)
            return
        self.flow.report.loss(f"flow code {ast.unparse(node).splitlines()[0][:70]!r} is not a task call: not carried",
                              node.lineno, node.col_offset + 1,
                              help="move the code into a @task so it runs as a step of the pipeline")

    def _task_call(self, node: ast.expr) -> tuple[ast.FunctionDef, str] | None:
        """(task function, 'call' | 'submit' | 'map') when the expression calls a @task."""
        if isinstance(node, ast.Await):
            node = node.value
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.task_functions:
            return self.task_functions[func.id], "call"
        if isinstance(func, ast.Attribute) and func.attr in ("submit", "map") and isinstance(func.value, ast.Name) \
                and func.value.id in self.task_functions:
            return self.task_functions[func.value.id], func.attr
        return None

    def _task_id(self, function: ast.FunctionDef) -> str:
        name = _literal(_decorator_kwargs(self.m.decorator(function, "task")).get("name"))
        base = name if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_-]+", name) else function.name
        task_id, counter = base, 2
        while task_id in self.flow.tasks:
            task_id, counter = f"{base}_{counter}", counter + 1
        return task_id

    def _call(self, value: ast.expr, target: str | None, when: str | None) -> str:
        node = value.value if isinstance(value, ast.Await) else value
        function, how = self._task_call(node)
        task_id = self._task_id(function)
        task: dict[str, Any] = {"python": f"{self.module}:{function.name}"}
        self.flow.task_options(function, task)
        after = self._wait_for(node)
        args = self._arguments(function, node, how, task)
        if args:
            task["args"] = args
        if when:
            task["when"] = when
        data = {r.task for r in _refs_in(task) if r.kind == "task_output"}
        after = [t for t in dict.fromkeys(after) if t not in data]
        if after:
            task["after"] = after
        self.flow.tasks[task_id] = task
        if target:
            self.futures[target] = task_id
        return task_id

    def _wait_for(self, node: ast.Call) -> list[str]:
        found = []
        for keyword in node.keywords:
            if keyword.arg != "wait_for":
                continue
            items = keyword.value.elts if isinstance(keyword.value, (ast.List, ast.Tuple)) else [keyword.value]
            for item in items:
                if isinstance(item, ast.Call) and _decorator_name(item) == "allow_failure" and item.args:
                    item = item.args[0]
                    self.flow.report.loss("allow_failure(...) in wait_for: the task is imported with "
                                          "trigger_rule all_done", item.lineno, item.col_offset + 1,
                                          approximate=True)
                task_id = self.futures.get(getattr(item, "id", ""))
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
            if how == "map" and not (isinstance(value, ast.Call) and _decorator_name(value) == "unmapped"):
                mapped.append(name)
                task["foreach"] = self._value(value, whole=True)
                result[name] = "${{ item }}"
                continue
            if isinstance(value, ast.Call) and _decorator_name(value) == "unmapped" and value.args:
                value = value.args[0]
            result[name] = self._value(value, whole=True)
        if len(mapped) > 1:
            self.flow.report.loss(f".map over several arguments ({', '.join(mapped)}) zips them: dagshift fans out "
                                  f"over one list; imported over {mapped[-1]!r}", node.lineno, node.col_offset + 1,
                                  approximate=True)
        return result

    def _value(self, node: ast.expr, whole: bool = False) -> Any:
        """An argument as a dagshift value: literals, flow params and futures as placeholders."""
        value = _literal(node)
        if value is not _NOT_LITERAL:
            return _escape_all(list(value) if isinstance(value, tuple) else value)
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
                    parts.append(_escape(str(piece.value)))
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
        if isinstance(node, ast.Dict) and all(isinstance(_literal(k), str) for k in node.keys if k is not None) \
                and None not in node.keys:
            return {_literal(k): self._value(v) for k, v in zip(node.keys, node.values)}
        self.flow.report.loss(f"argument {ast.unparse(node)!r} is computed in the flow: imported as its source text",
                              node.lineno, node.col_offset + 1, approximate=True)
        return _escape(ast.unparse(node))

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
            name = _TYPE_NAMES.get(hint.attr if isinstance(hint, ast.Attribute) else hint.id)
        if name is None:
            self.flow.report.loss(f"the result of {function.name if function else 'a task'} is used downstream but its "
                                  "return type is not str/int/float/bool/list/dict: imported as a dict output",
                                  node.lineno, node.col_offset + 1, approximate=True)
            return ValueType.DICT.value
        return name

    def _if(self, node: ast.If, when: str | None) -> None:
        text = _condition_text(node.test)
        refs = re.findall(r"params\.(\w+)", text or "")
        if text is None or any(r not in self.params for r in refs):
            self.flow.report.loss(f"the condition {ast.unparse(node.test)!r} is not over flow parameters: the tasks "
                                  "under it are imported unconditionally", node.lineno, node.col_offset + 1,
                                  approximate=True)
            text = None
        inner = _and(when, text)
        self._block(node.body, inner)
        if node.orelse:
            negated = None if text is None else f"not {text}"
            self._block(node.orelse, _and(when, negated))

    def _loop(self, node: ast.For, when: str | None) -> None:
        self.flow.report.loss("a for loop in the flow is not carried as a loop: its task calls are imported once, "
                              "without the loop (use .map for a fan-out)", node.lineno, node.col_offset + 1)
        self._block(node.body, when)


def _and(left: str | None, right: str | None) -> str | None:
    if left and right:
        return f"({left}) and ({right})"
    return left or right


def _escape_all(value: Any) -> Any:
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, list):
        return [_escape_all(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape_all(v) for k, v in value.items()}
    return value
