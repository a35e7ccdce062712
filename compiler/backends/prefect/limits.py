"""What Prefect cannot take although it has the feature: PrefectBackend.limits, reported by the builder."""

from __future__ import annotations

from compiler.backends.base import Limit

PARAM_NAME = Limit(
    "param-name", "a param named like a flow keyword (return_state, wait_for, ...), a pydantic model attribute, "
    "or starting with '_'", "Prefect reserves the name, or pydantic does not allow it as a field name",
    "rename the param")
TRIGGER_TEMPLATE = Limit(
    "trigger-template", "'{{ }}' in the file or URI a data trigger watches", "`prefect deploy` reads it as its own "
    "template, and has no escape for it", "name the file without {{ }}")
TRIGGER_WILDCARD = Limit(
    "trigger-wildcard", "a data trigger on a name ending in '*'", "Prefect's event matching reads a final * as any "
    "text, and has no escape for it", "name the file without a trailing *")
START_DATE = Limit(
    "start-date", "a schedule's start_date", "Prefect cron schedules have no start date",
    "pause the deployment until then, or leave start_date out", left_out=True)
TAG_TEMPLATE = Limit(
    "tag-template", "'{{ }}' in a tag", "`prefect deploy` would read it as its own template",
    "write the tag without {{ }}", left_out=True)

LIMITS = (PARAM_NAME, TRIGGER_TEMPLATE, TRIGGER_WILDCARD, START_DATE, TAG_TEMPLATE)
