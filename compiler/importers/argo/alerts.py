"""Alerts: a task's lifecycle hooks and the workflow's exit handler, each template they run read as
the command (or dagshift python call) of an alert."""

from __future__ import annotations

import re
import shlex
from typing import Any

from compiler.importers.base import line_of

from .leaf import leaf_task
from .state import ReadState
from .stop import ImportStop


def hook_alerts(state: ReadState, node: dict, task: dict) -> None:
    """A DAG task's or step's lifecycle hooks as the task's alerts."""
    hooks = node.get("hooks") or {}
    alerts = []
    for key, hook in hooks.items():
        line = line_of(hooks, key)
        expression = str(hook.get("expression") or "")
        event = "success" if "Succeeded" in expression and "Failed" not in expression else "failure"
        if not ("Failed" in expression or "Succeeded" in expression) or key == "exit":
            state.report.loss(f"hook '{key}' ({expression or 'on exit'}) is carried as an alert on failure",
                              line, approximate=True)
        alert = _alert(state, str(hook.get("template")), event, line)
        if alert:
            alerts.append(alert)
    if alerts:
        task["alerts"] = alerts


def _alert(state: ReadState, template_name: str, event: str, line: int | None) -> dict | None:
    """A template run as an alert: a command in the default image (or a dagshift python call)."""
    template = state.templates.get(template_name)
    if template is None or not ("container" in template or "script" in template):
        state.report.loss(f"alert template '{template_name}' is not a container or script template: not carried",
                          line)
        return None
    scratch_id = "__alert__"
    task = leaf_task(state, template, {}, scratch_id)
    alert: dict[str, Any] = {"on": event}
    if "python" in task:
        alert["python"] = task["python"]
        if task.get("args"):
            alert["args"] = task["args"]
    elif isinstance(task.get("command"), str) and "image" not in task:
        alert["command"] = task["command"]
    else:
        argv = list(task.get("command") or []) + list(task.get("args") or [])
        alert["command"] = " ".join(shlex.quote(a) for a in argv)
        state.report.loss(f"alert template '{template_name}' runs in {task.get('image')}; an alert runs its "
                          "command in the default image", line, approximate=True)
    return alert


def exit_alerts(state: ReadState, template_name: str, line: int | None) -> list[dict]:
    """The workflow's exit handler (onExit) as the pipeline's alerts."""
    template = state.templates.get(template_name)
    if template is None:
        raise ImportStop(f"onExit template '{template_name}' is not in this file", line)
    if "steps" not in template:
        alert = _alert(state, template_name, "failure", line)
        state.report.loss("the exit handler runs on every outcome: carried as an alert on failure and one on "
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
                    state.report.loss(f"exit step condition '{when}' is carried as running on every outcome",
                                      step_line, approximate=True)
            for event in events:
                alert = _alert(state, str(step.get("template")), event, step_line)
                if alert:
                    alerts.append(alert)
    return alerts
