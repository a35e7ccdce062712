"""The recurring run next to a Kubeflow PipelineSpec: `recurring_run.yaml`, the keyword arguments of
kfp.Client().create_recurring_run that dagshift's Kubeflow backend writes for a scheduled pipeline
(a user may write the same by hand). It belongs to the spec it names in `pipeline_package_path`.

Read: `cron_expression` (KFP's cron has seconds first: `0 M H DoM Mon DoW` -> `M H DoM Mon DoW`)
-> schedule.cron; `no_catchup` -> schedule.catchup (KFP catches up unless told not to);
`start_time` (RFC 3339) -> schedule.start_date (a time at the schedule's zone's own offset, as
the backend writes it, or `Z`, as it wrote it before: a naive time, a date at midnight); `max_concurrency` -> max_active_runs (KFP's default is 1); the
`# Time zone: ZONE` line of dagshift's header -> schedule.timezone (KFP runs every cron in the
cluster's CRON_SCHEDULE_TIMEZONE: without the header the zone is unknown, imported as UTC with a
loss). Losses: a cron with seconds other than 0, an interval schedule (`interval_second`), an
`end_time`, a disabled schedule, run arguments (`params`), and any other argument but the job's
name, description and where the pipeline and experiment are.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from compiler.backends.kubeflow.conventions import RECURRING_RUN_FILE, TIME_ZONE_COMMENT
from compiler.importers.base import Reporter, line_of, plain, yaml_documents
from compiler.language.values import CRON_PRESETS, parse_cron

_IGNORED = {"job_name", "description", "pipeline_package_path", "experiment_id", "experiment_name", "pipeline_id",
            "version_id", "pipeline_root"}
_TIME_ZONE = re.compile("^" + re.escape(TIME_ZONE_COMMENT) + r"(\S+)", re.MULTILINE)


def recurring_run(spec: Path) -> Path | None:
    """The recurring_run.yaml next to SPEC that names it as its package, or None."""
    candidate = spec.parent / RECURRING_RUN_FILE
    if spec.name == RECURRING_RUN_FILE or not candidate.is_file():
        return None
    try:
        documents = yaml_documents(candidate.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - ruamel raises several error types; a broken file is read (and reported) later
        return candidate
    document = documents[0] if documents else None
    package = plain(document.get("pipeline_package_path")) if isinstance(document, dict) else None
    return candidate if isinstance(package, str) and Path(package).name == spec.name else None


def read_recurring_run(path: Path, display: str) -> tuple[dict[str, Any], Reporter]:
    """The pipeline fields the recurring run sets (schedule, max_active_runs), and its losses."""
    text = path.read_text(encoding="utf-8")
    report = Reporter(display, text)
    try:
        documents = yaml_documents(text)
    except Exception as exc:  # noqa: BLE001 - ruamel raises several error types for bad YAML
        report.loss(f"the recurring run is not valid YAML ({str(exc).splitlines()[0] if str(exc) else exc}): the "
                    "schedule is not carried", 1)
        return {}, report
    document = documents[0] if documents else None
    if not isinstance(document, dict):
        report.loss("the recurring run is not a mapping of create_recurring_run arguments: not carried", 1)
        return {}, report
    values = plain(document)
    fields: dict[str, Any] = {}
    schedule: dict[str, Any] = {}
    cron = values.get("cron_expression")
    if cron is not None:
        schedule["cron"] = _cron(str(cron), report, line_of(document, "cron_expression"))
    if values.get("interval_second") is not None:
        report.loss(f"the recurring run starts every {values['interval_second']} s (a periodic schedule): only cron "
                    "schedules are carried", line_of(document, "interval_second"))
    if schedule.get("cron"):
        zone = _TIME_ZONE.search(text)
        if zone:
            schedule["timezone"] = zone.group(1)
        else:
            report.loss("KFP runs cron schedules in the cluster's time zone (CRON_SCHEDULE_TIMEZONE): imported as UTC",
                        line_of(document, "cron_expression"), approximate=True,
                        help="set schedule.timezone to the cluster's time zone")
        if values.get("start_time"):
            start = _start(str(values["start_time"]), schedule.get("timezone", "UTC"), report,
                           line_of(document, "start_time"))
            if start is not None:
                schedule["start_date"] = start
        schedule["catchup"] = not values.get("no_catchup", False)
        fields["schedule"] = schedule
    concurrency = values.get("max_concurrency", 1)
    if isinstance(concurrency, int) and not isinstance(concurrency, bool) and concurrency >= 1:
        fields["max_active_runs"] = concurrency
    else:
        report.loss(f"max_concurrency {concurrency!r} is not a positive number of runs: not carried",
                    line_of(document, "max_concurrency"))
    for key in ("end_time", "enabled", "params"):
        if key in values and not (key == "enabled" and values[key] is True) and values[key] not in (None, {}):
            what = {"end_time": "the schedule's end", "enabled": "a disabled schedule",
                    "params": "the recurring run's arguments"}[key]
            report.loss(f"{what} ({key}) is not carried", line_of(document, key))
    for key in values:
        if key not in _IGNORED and key not in ("cron_expression", "interval_second", "start_time", "no_catchup",
                                               "max_concurrency", "end_time", "enabled", "params"):
            report.loss(f"recurring run argument {key!r} has no pipeline equivalent: not carried", line_of(document, key))
    return fields, report


def _cron(text: str, report: Reporter, line: int | None) -> str | None:
    fields = text.split()
    if len(fields) == 1 and text in CRON_PRESETS:
        return text
    if len(fields) == 6:
        seconds, fields = fields[0], fields[1:]
        if seconds != "0":
            report.loss(f"the cron {text!r} runs at second {seconds!r}: imported at second 0", line, approximate=True)
    if len(fields) != 5:
        report.loss(f"the cron {text!r} is not a 6-field KFP cron: the schedule is not carried", line)
        return None
    try:
        return parse_cron(" ".join(fields))
    except ValueError as problem:  # a field out of range: KFP refuses the recurring run
        report.loss(f"the cron {text!r} is not valid ({problem}): the schedule is not carried", line)
        return None


def _start(text: str, zone: str, report: Reporter, line: int | None) -> date | datetime | None:
    """RFC 3339 as the backend writes it: a time at the offset the schedule's zone has then (or
    `Z`) is that zone's local time, a date when it is midnight; any other offset stays."""
    try:
        start = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        report.loss(f"start_time {text!r} is not an RFC 3339 time: not carried", line)
        return None
    try:
        local = start.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local = start
    if text.endswith("Z") or (start.tzinfo is not None and local.utcoffset() == start.utcoffset()):
        start = start.replace(tzinfo=None)
        if start.time() == datetime.min.time():
            return start.date()
    return start
