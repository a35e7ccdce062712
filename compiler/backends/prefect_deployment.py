"""prefect.yaml: the flow's deployment (schedules, triggers, run concurrency), as plain data.

`prefect deploy` renders `{{ ... }}` in prefect.yaml as its own templating, so no user text may
reach it as a template: the pipeline's texts here are names, paths and cron expressions, which
the backend checks (prefect.py) before writing them.
"""

from __future__ import annotations

from typing import Any

from ..ir import Pipeline, TriggerType
from ..naming import python_name
from ..values import CRON_PRESETS

PREFECT_VERSION = "3.9.1"


def deployment(pipeline: Pipeline, module: str) -> dict[str, Any]:
    p = pipeline
    entry: dict[str, Any] = {"name": p.name, "entrypoint": f"{module}:{python_name(p.name)}"}
    if p.description:
        entry["description"] = p.description
    if p.tags:
        entry["tags"] = list(p.tags)
    entry["parameters"] = {}
    if p.schedule is not None:
        entry["schedules"] = [{"cron": CRON_PRESETS.get(p.schedule.cron, p.schedule.cron),
                               "timezone": p.schedule.timezone}]
    triggers = [trigger for trigger in (_trigger(p, t) for t in p.triggers) if trigger is not None]
    if triggers:
        entry["triggers"] = triggers
    if p.max_active_runs is not None:
        entry["concurrency_limit"] = p.max_active_runs
    entry["work_pool"] = {"name": "default"}
    return {"name": p.name, "prefect-version": PREFECT_VERSION, "deployments": [entry]}


def _trigger(pipeline: Pipeline, trigger) -> dict[str, Any] | None:
    if trigger.type is TriggerType.DATA:
        resource = trigger.uri or pipeline.artifacts[str(trigger.artifact)].path
        return {"type": "event", "enabled": True, "match": {"prefect.resource.id": f"dagshift.artifact.{resource}"},
                "expect": ["dagshift.artifact.updated"]}
    if trigger.type is TriggerType.CONTINUOUS:
        return {"type": "event", "enabled": True,
                "match_related": {"prefect.resource.role": "flow", "prefect.resource.name": pipeline.name},
                "expect": ["prefect.flow-run.Completed"]}
    return None
