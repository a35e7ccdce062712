"""@flow(...) and @task(...) keyword arguments as pipeline and task settings: timeouts, task
runners, retries and their delays, tags (pools), caching, and state hooks as alerts."""

from __future__ import annotations

import ast
import re
from typing import Any

from compiler.backends.prefect.conventions import ALERT
from compiler.importers.base import Reporter
from compiler.language.placeholders import escaped

from .module import ModuleReader
from .state import FlowState
from .values import (
    attribute_path,
    call_name,
    decorator_kwargs,
    decorator_name,
    literal,
    module_name,
    seconds,
    strings,
    whole,
)

HOOKS = ("on_failure", "on_completion", "on_crashed", "on_cancellation", "on_running")
# The pipeline setting each @flow option is read into.
_FLOW_SETTINGS = {"name": "name", "description": "description", "timeout_seconds": "timeout",
                  "task_runner": "max_active_tasks", **dict.fromkeys(HOOKS, "alerts")}
# Keyword arguments that change nothing a pipeline describes (logging, result storage, UI).
HARMLESS = {"log_prints", "persist_result", "result_storage", "result_serializer", "validate_parameters",
            "flow_run_name", "task_run_name", "version", "refresh_cache", "cache_result_in_memory",
            "result_storage_key", "viz_return_value"}


class Options:
    """The options of one flow and of the tasks it runs."""

    def __init__(self, flow: FlowState):
        self.module = flow.module
        self.data = flow.data
        self.report = flow.report

    def flow_options(self, options: dict[str, ast.expr]) -> None:
        for key, node in options.items():
            if key in _FLOW_SETTINGS:
                self.report.place((_FLOW_SETTINGS[key],), node.lineno)
            if key in ("name", "description") or key in HARMLESS:
                continue
            if key == "timeout_seconds":
                self._set_seconds(self.data, "timeout", node)
            elif key == "task_runner":
                self._task_runner(node)
            elif key in HOOKS:
                self.data.setdefault("alerts", []).extend(Hooks(self.module, self.report, key, node).alerts())
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
            workers = literal(decorator_kwargs(node).get("max_workers") or (node.args[0] if node.args else None))
            if isinstance(workers, int) and not isinstance(workers, bool) and workers >= 1:
                self.data["max_active_tasks"] = workers
            return
        if runner_name in ("ThreadPoolTaskRunner", "ConcurrentTaskRunner"):
            return
        self.report.loss(f"task runner {runner_name or ast.unparse(node)} is not carried: dagshift chooses how tasks "
                         "run on each target", node.lineno, node.col_offset + 1, approximate=True)

    def _set_seconds(self, target: dict[str, Any], key: str, node: ast.expr) -> None:
        value = seconds(node)
        if value is None:
            self.report.loss(f"{key} is not a number of seconds: not carried", node.lineno, node.col_offset + 1)
        else:
            target[key] = value

    def task_options(self, function: ast.FunctionDef, task: dict[str, Any]) -> None:
        """@task(...) keyword arguments as task settings."""
        options = decorator_kwargs(self.module.decorator(function, "task"))
        for key, node in options.items():
            if key == "name" or key in HARMLESS:
                continue
            where = (node.lineno, node.col_offset + 1)
            if key == "description":
                value = literal(node)
                if isinstance(value, str):
                    task["description"] = value
            elif key == "retries":
                value = literal(node)
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
                expire = seconds(node)
                if expire is None:
                    self.report.loss("cache_expiration is not a literal duration: not carried", *where)
                else:
                    task.setdefault("cache", {"enabled": True})["expire"] = expire
            elif key in HOOKS:
                task.setdefault("alerts", []).extend(Hooks(self.module, self.report, key, node).alerts())
            elif key == "retry_jitter_factor":
                self.report.loss("retry_jitter_factor has no pipeline equivalent: retries wait exactly",
                                 *where, approximate=True)
            else:
                self.report.loss(f"task option {key}= has no pipeline equivalent: not carried", *where)
        if "cache" in task and task["cache"].get("enabled") is False:
            del task["cache"]

    def _retry_delays(self, task: dict[str, Any], node: ast.expr, options: dict[str, ast.expr]) -> None:
        value = literal(node)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value:
                task["retry_delay"] = whole(value)
            return
        if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
            delays = [whole(v) for v in value]
            task.update(retry_policy(delays))
            if retry_delays_of(task, len(delays)) != delays:
                self.report.loss(f"retry delays {delays} are not a geometric progression: imported as "
                                 f"{retry_delays_of(task, len(delays))}", node.lineno, node.col_offset + 1,
                                 approximate=True)
            return
        if isinstance(node, ast.Call) and call_name(node) == "exponential_backoff":
            factor = literal(decorator_kwargs(node).get("backoff_factor") or (node.args[0] if node.args else None))
            if isinstance(factor, (int, float)) and factor > 0:
                task["retry_delay"] = whole(factor)
                task["retry_backoff"] = 2.0
                return
        self.report.loss("retry_delay_seconds is not literal: not carried", node.lineno, node.col_offset + 1)

    def _tags(self, task: dict[str, Any], node: ast.expr) -> None:
        tags = strings(node)
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


def retry_delays_of(task: dict[str, Any], retries: int) -> list[int]:
    """What dagshift's Prefect backend writes for these settings (compiler/backends/prefect/backend.py)."""
    delay = task.get("retry_delay") or 0
    factor = task.get("retry_backoff") or 1.0
    cap = task.get("retry_max_delay")
    values = []
    for attempt in range(retries):
        value = round(delay * factor**attempt)
        values.append(min(value, cap) if cap is not None else value)
    return values


def retry_policy(delays: list[int]) -> dict[str, Any]:
    """retry_delay, retry_backoff and retry_max_delay that give this list of delays."""
    first = delays[0]
    policy: dict[str, Any] = {"retry_delay": first} if first else {}
    if len(delays) < 2 or not first or delays[1] == first:
        return policy
    policy["retry_backoff"] = max(delays[1] / first, 1.0)
    uncapped = retry_delays_of(policy, len(delays))
    if uncapped != delays and delays[-1] < uncapped[-1]:
        policy["retry_max_delay"] = delays[-1]
    return policy



class Hooks:
    """The state hooks of one option (`on_failure=[...]`) as alerts."""

    def __init__(self, module: ModuleReader, report: Reporter, key: str, node: ast.expr):
        self.module = module
        self.report = report
        self.key = key
        self.node = node

    def alerts(self) -> list[dict[str, Any]]:
        on = {"on_failure": "failure", "on_crashed": "failure", "on_completion": "success"}.get(self.key)
        if on is None or not isinstance(self.node, (ast.List, ast.Tuple)):
            self.report.loss(f"{self.key} hooks have no pipeline equivalent: not carried", self.node.lineno,
                             self.node.col_offset + 1)
            return []
        found = []
        for hook in self.node.elts:
            alert = self._generated(hook) or self._function(hook)
            if alert is not None:
                found.append({"on": on, **alert})
        if self.key == "on_crashed":
            self.report.loss("on_crashed hooks are imported as failure alerts", self.node.lineno,
                             self.node.col_offset + 1, approximate=True)
        return found

    def _generated(self, hook: ast.expr) -> dict[str, Any] | None:
        """dagshift's hooks: `alert("command")`, or a function calling the alert's python target."""
        if self.module.generated and isinstance(hook, ast.Call) and decorator_name(hook) == ALERT \
                and len(hook.args) == 1 and isinstance(literal(hook.args[0]), str):
            return {"command": escaped(literal(hook.args[0]))}
        function = self.module.functions.get(hook.id) if isinstance(hook, ast.Name) else None
        if not self.module.generated or function is None or len(function.body) != 2:
            return None
        imported, call = function.body
        if not (isinstance(imported, ast.ImportFrom) and len(imported.names) == 1 and isinstance(call, ast.Expr)
                and isinstance(call.value, ast.Call)):
            return None
        target, path = attribute_path(call.value.func)
        alias = imported.names[0]
        if not isinstance(target, ast.Name) or target.id != (alias.asname or alias.name):
            return None
        args: dict[str, Any] = {}
        for keyword in call.value.keywords:
            value = literal(keyword.value)
            if keyword.arg is None and isinstance(value, dict):
                args.update(value)
            elif keyword.arg is not None:
                args[keyword.arg] = value
        alert: dict[str, Any] = {"python": ".".join([f"{imported.module}:{alias.name}", *path])}
        if args:
            alert["args"] = escaped(args)
        return alert

    def _function(self, hook: ast.expr) -> dict[str, Any] | None:
        if isinstance(hook, ast.Name) and hook.id in self.module.functions:
            self.report.loss(f"hook {hook.id} is called as an alert with no arguments (Prefect passes the flow "
                                  "or task, the run and its state)", hook.lineno, hook.col_offset + 1,
                                  approximate=True)
            return {"python": f"{module_name(self.module.path)}:{hook.id}"}
        self.report.loss(f"hook {ast.unparse(hook)} is not a function of this module: not carried",
                              hook.lineno, hook.col_offset + 1)
        return None

