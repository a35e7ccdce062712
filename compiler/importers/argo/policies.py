"""How a task runs, beyond its command: timeouts, retryStrategy, memoize, synchronization
(pools and fan-out limits), and hooks / exit handlers as alerts."""

from __future__ import annotations

import re
from typing import Any

from compiler.importers.base import line_of

from .shared import DAGSHIFT_POOLS, ImportStop
from .values import deadline_seconds, duration_seconds


def _passed_value(value: Any, scope: dict) -> Any:
    """`{{inputs.parameters.X}}` alone is the value the caller passed (pipeline text): the value
    itself when it is fixed text, else the Argo text unchanged."""
    match = re.fullmatch(r"\{\{\s*inputs\.parameters\.([^.}\s]+)\s*\}\}", str(value).strip())
    passed = scope.get(match.group(1)) if match else None
    if isinstance(passed, str) and passed and "${{" not in passed:
        return passed
    return value


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


class PoliciesMixin:
    """Timeouts, retries, caching, synchronization and alerts. A part of document.DocumentReader."""

    def _policies(self, template: dict, task: dict, scope: dict) -> None:
        if template.get("activeDeadlineSeconds") is not None:
            task["timeout"] = deadline_seconds(template["activeDeadlineSeconds"])
        elif template.get("timeout") is not None:  # the node's whole time, pending included: the closest
            timeout = _passed_value(template["timeout"], scope)
            try:
                task["timeout"] = duration_seconds(timeout)
            except ImportStop:  # a value known only at run time
                self.report.loss(f"template '{template.get('name')}': timeout {template['timeout']!r} is not a "
                                 "fixed duration, and is not carried", line_of(template, "timeout"))
        strategy = template.get("retryStrategy")
        if strategy:
            self._retries(strategy, task)
        memoize = template.get("memoize")
        if memoize:
            self._memoize(memoize, task, line_of(template, "memoize"))
        sync = template.get("synchronization")
        if sync:
            self._synchronization(sync, task, line_of(template, "synchronization"))

    def _retries(self, strategy: dict, task: dict) -> None:
        line = line_of(strategy)
        limit = strategy.get("limit")
        if limit is None:
            self.report.loss("retryStrategy without limit retries forever: carried as 10 retries", line,
                             approximate=True)
            limit = 10
        try:
            task["retries"] = int(str(limit))
        except ValueError:
            raise ImportStop(f"retryStrategy limit '{limit}' is not a number", line)
        policy = strategy.get("retryPolicy")
        if policy not in (None, "Always", "OnFailure"):
            self.report.loss(f"retryPolicy {policy} is carried as retrying on every failure", line_of(strategy,
                             "retryPolicy"), approximate=True)
        backoff = strategy.get("backoff") or {}
        if backoff.get("duration") is not None:
            task["retry_delay"] = duration_seconds(backoff["duration"])
        if backoff.get("factor") is not None:
            task["retry_backoff"] = float(str(backoff["factor"]))
        cap = backoff.get("cap") or backoff.get("maxDuration")
        if backoff.get("cap") is not None:
            task["retry_max_delay"] = duration_seconds(cap)
        elif backoff.get("maxDuration") is not None:
            self.report.loss("backoff maxDuration (the time for all attempts) is not carried", line_of(backoff),
                             approximate=True)
        for key in strategy:
            if key not in ("limit", "retryPolicy", "backoff"):
                self.report.loss(f"retryStrategy {key} is not carried", line_of(strategy, key))

    def _memoize(self, memoize: dict, task: dict, line: int | None) -> None:
        cache: dict[str, Any] = {"enabled": True}
        max_age = str(memoize.get("maxAge") or "")
        if max_age and max_age != "87600h":
            cache["expire"] = duration_seconds(max_age)
        task["cache"] = cache if "expire" in cache else True
        if not self.managed:
            self.report.loss(f"memoize key '{memoize.get('key')}' is replaced by the pipeline's own cache key "
                             "(the task's definition and inputs)", line, approximate=True)

    def _synchronization(self, sync: dict, task: dict, line: int | None) -> None:
        semaphores = sync.get("semaphores") or ([sync["semaphore"]] if sync.get("semaphore") else [])
        for semaphore in semaphores:
            reference = semaphore.get("configMapKeyRef") or {}
            name, key = reference.get("name"), reference.get("key")
            limit = self._configmap_value(name, key)
            if self.managed and name != DAGSHIFT_POOLS and limit is not None:
                task["max_parallel"] = int(limit)
            elif key and re.fullmatch(r"[-._a-zA-Z0-9]+", str(key)):
                task["pool"] = str(key)
                if not self.managed:
                    self.report.loss(f"semaphore {name}/{key} is carried as pool '{key}' (its size is set where "
                                     "the pool is created)", line, approximate=True)
            else:
                self.report.loss("a semaphore that is not a ConfigMap key is not carried", line)
        if sync.get("mutexes") or sync.get("mutex"):
            self.report.loss("a mutex is not carried (use a pool of size 1)", line)

    def _hooks(self, node: dict, task: dict) -> None:
        hooks = node.get("hooks") or {}
        alerts = []
        for key, hook in hooks.items():
            line = line_of(hooks, key)
            expression = str(hook.get("expression") or "")
            event = "success" if "Succeeded" in expression and "Failed" not in expression else "failure"
            if not ("Failed" in expression or "Succeeded" in expression) or key == "exit":
                self.report.loss(f"hook '{key}' ({expression or 'on exit'}) is carried as an alert on failure",
                                 line, approximate=True)
            alert = self._alert(str(hook.get("template")), event, line)
            if alert:
                alerts.append(alert)
        if alerts:
            task["alerts"] = alerts

    def _alert(self, template_name: str, event: str, line: int | None) -> dict | None:
        """A template run as an alert: a command in the default image (or a dagshift python call)."""
        template = self.templates.get(template_name)
        if template is None or not ("container" in template or "script" in template):
            self.report.loss(f"alert template '{template_name}' is not a container or script template: not carried",
                             line)
            return None
        scratch_id = "__alert__"
        saved = dict(self.tasks), len(self.report.diagnostics.items)
        task = self._leaf(template, {}, scratch_id, {})
        alert: dict[str, Any] = {"on": event}
        if "python" in task:
            alert["python"] = task["python"]
            if task.get("args"):
                alert["args"] = task["args"]
        elif isinstance(task.get("command"), str) and "image" not in task:
            alert["command"] = task["command"]
        else:
            argv = list(task.get("command") or []) + list(task.get("args") or [])
            alert["command"] = " ".join(_shell_quote(a) for a in argv)
            self.report.loss(f"alert template '{template_name}' runs in {task.get('image')}; an alert runs its "
                             "command in the default image", line, approximate=True)
        del saved
        return alert

    def _exit_alerts(self, template_name: str, line: int | None) -> list[dict]:
        template = self.templates.get(template_name)
        if template is None:
            raise ImportStop(f"onExit template '{template_name}' is not in this file", line)
        if "steps" not in template:
            alert = self._alert(template_name, "failure", line)
            self.report.loss("the exit handler runs on every outcome: carried as an alert on failure and one on "
                             "success", line, approximate=True)
            return [alert, {**alert, "on": "success"}] if alert else []
        alerts = []
        for group in template["steps"] or []:
            for step in group if isinstance(group, list) else [group]:
                when = str(step.get("when") or "")
                step_line = line_of(step)
                if re.fullmatch(r"\{\{workflow\.status\}\}\s*!=\s*Succeeded", when):
                    events = ["failure"]
                elif re.fullmatch(r"\{\{workflow\.status\}\}\s*==\s*Succeeded", when):
                    events = ["success"]
                else:
                    events = ["failure", "success"]
                    if when:
                        self.report.loss(f"exit step condition '{when}' is carried as running on every outcome",
                                         step_line, approximate=True)
                for event in events:
                    alert = self._alert(str(step.get("template")), event, step_line)
                    if alert:
                        alerts.append(alert)
        return alerts
