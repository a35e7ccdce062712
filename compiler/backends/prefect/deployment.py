"""prefect.yaml: the flow's deployment (schedules, triggers, run concurrency), as plain data.

`prefect deploy` renders `{{ NAME }}` anywhere in prefect.yaml as its own templating (environment
variables, variables, blocks, step outputs) and has no escape for it. So no user text that holds
such a placeholder is written there: a description is left to the flow, which carries it exactly;
a tag is left out with a warning; a trigger's resource, which changes what starts a run, is an
error (so is one ending in `*`, which Prefect's event matching reads as a wildcard). Names, cron
expressions and time zones are validated and cannot hold one.
"""

from __future__ import annotations

import re
from typing import Any

from compiler.language.ir import Pipeline, TriggerType
from compiler.language.source import Reporter
from compiler.language.values import CRON_PRESETS

from .conventions import ARTIFACT_RESOURCE, ARTIFACT_UPDATED
from .limits import TAG_TEMPLATE, TRIGGER_TEMPLATE, TRIGGER_WILDCARD

PREFECT_VERSION = "3.9.1"
# What `prefect deploy` takes for a placeholder (prefect.utilities.templating, Prefect 3.9).
DEPLOY_PLACEHOLDER = re.compile(r"{{\s*[\w.\-\[\]$]+\s*}}")


def deployment(pipeline: Pipeline, entrypoint: str, report: Reporter) -> dict[str, Any]:
    p = pipeline
    entry: dict[str, Any] = {"name": p.name, "entrypoint": entrypoint}
    if p.description and not DEPLOY_PLACEHOLDER.search(p.description):
        entry["description"] = p.description  # else the flow's own description stands
    tags = [tag for tag in p.tags if not _placeholder_in(tag, ("tags", p.tags.index(tag)), "tag", report)]
    if tags:
        entry["tags"] = tags
    entry["parameters"] = {}
    if p.schedule is not None:
        entry["schedules"] = [{"cron": CRON_PRESETS.get(p.schedule.cron, p.schedule.cron),
                               "timezone": p.schedule.timezone}]
    triggers = [trigger for index, t in enumerate(p.triggers)
                if (trigger := _trigger(p, t, ("triggers", index), report)) is not None]
    if triggers:
        entry["triggers"] = triggers
    if p.max_active_runs is not None:
        entry["concurrency_limit"] = p.max_active_runs
    entry["work_pool"] = {"name": "default"}
    return {"name": p.name, "prefect-version": PREFECT_VERSION, "deployments": [entry]}


def _placeholder_in(text: str, path: tuple, what: str, report: Reporter) -> bool:
    found = DEPLOY_PLACEHOLDER.search(text)
    if found and what == "tag":
        TAG_TEMPLATE.diagnose(report, f"`prefect deploy` would read '{found.group(0)}' in the tag '{text}' as its "
                                      "own template: the tag is left out of prefect.yaml", path)
    return found is not None


def _trigger(pipeline: Pipeline, trigger, path: tuple, report: Reporter) -> dict[str, Any] | None:
    if trigger.type is TriggerType.DATA:
        resource = trigger.uri or pipeline.artifacts[str(trigger.artifact)].path
        found = DEPLOY_PLACEHOLDER.search(resource)
        where = (*path, "uri" if trigger.uri else "artifact")
        if found:
            TRIGGER_TEMPLATE.diagnose(report, f"`prefect deploy` would read '{found.group(0)}' in '{resource}' as "
                                              "its own template, and has no escape for it: the trigger cannot watch "
                                              "this resource", where)
            return None
        if resource.endswith("*"):  # Prefect's event matching reads a final * as "any text"
            TRIGGER_WILDCARD.diagnose(report, f"a Prefect trigger on '{resource}' would match every resource whose "
                                              f"name starts with '{resource[:-1]}', and Prefect has no escape for it",
                                      where)
            return None
        return {"type": "event", "enabled": True, "match": {"prefect.resource.id": f"{ARTIFACT_RESOURCE}{resource}"},
                "expect": [ARTIFACT_UPDATED]}
    if trigger.type is TriggerType.CONTINUOUS:
        return {"type": "event", "enabled": True,
                "match_related": {"prefect.resource.role": "flow", "prefect.resource.name": pipeline.name},
                "expect": ["prefect.flow-run.Completed"]}
    return None
