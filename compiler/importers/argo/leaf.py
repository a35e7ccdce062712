"""A leaf template (container, script, suspend, resource or http) as one task: its command, its
inputs and outputs, and how it runs."""

from __future__ import annotations

from compiler.importers.base import line_of

from .containers import container_task, script_task, suspend_task, template_extras
from .emulated import http_task, resource_task
from .inputs_outputs import template_inputs, template_outputs
from .policies import policies
from .state import ReadState
from .stop import ImportStop


def leaf_task(state: ReadState, template: dict, scope: dict, task_id: str) -> dict:
    """The task the template runs, as task `task_id` (its outputs and artifacts are that task's)."""
    line = line_of(template)
    name = template.get("name")
    if "container" in template:
        task = container_task(state, template["container"], scope)
    elif "script" in template:
        task = script_task(state, template["script"], scope)
    elif "suspend" in template:
        task = suspend_task(state, template["suspend"], line)
    elif "resource" in template:
        task = resource_task(state, template, scope)
    elif "http" in template:
        task = http_task(state, template, scope)
    else:
        kind = next((k for k in ("containerSet", "data", "plugin") if k in template), None)
        raise ImportStop(f"template '{name}' is a {kind or 'kind of'} template, which no pipeline task can run",
                         line, help="port it to a container task by hand")
    template_extras(state, template, (), f"template '{name}'")
    template_inputs(state, template, scope, task, task_id)
    template_outputs(state, template, task, task_id)
    policies(state, template, task, scope)
    return task
