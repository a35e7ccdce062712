"""The pipeline's own settings, read from the workflow spec once its tasks are read: the schedule
(a CronWorkflow's), task and run limits, the timeout, the exit handler's alerts, the data triggers
of dagshift's Sensor, and the working directory."""

from __future__ import annotations

from typing import Any

from compiler.backends.argo.conventions import DEFAULT_WORKDIR, WORKDIR_VOLUME
from compiler.importers.base import line_of, plain

from .alerts import exit_alerts
from .managed import sensor_triggers
from .state import ReadState
from .values import deadline_seconds

# The spec keys read into the pipeline (elsewhere than here for some): any other one is a loss.
_SPEC_KEYS = {"entrypoint", "arguments", "templates", "parallelism", "activeDeadlineSeconds", "onExit",
              "synchronization", "workflowTemplateRef"}


def pipeline_settings(state: ReadState, document: dict, spec: dict, data: dict) -> None:
    """The settings of `spec` (the workflow spec of `document`) into `data`, the pipeline's."""
    if document.get("kind") == "CronWorkflow":
        _schedule(state, document.get("spec") or {}, data)
    limits = [int(spec["parallelism"])] if spec.get("parallelism") is not None else []
    if state.entry_parallelism is not None:
        limits.append(state.entry_parallelism)
    if limits:
        data["max_active_tasks"] = min(limits)
    if spec.get("activeDeadlineSeconds") is not None:
        data["timeout"] = deadline_seconds(spec["activeDeadlineSeconds"])
    if spec.get("onExit"):
        data["alerts"] = exit_alerts(state, str(spec["onExit"]), line_of(spec, "onExit"))
    if spec.get("synchronization"):
        _workflow_synchronization(state, spec["synchronization"], data, line_of(spec, "synchronization"))
    if state.managed:
        triggers = sensor_triggers(state, (document.get("metadata") or {}).get("name"))
        if triggers:
            data["triggers"] = triggers
    for key in spec:
        claim = _shared_claim(spec) if key == "volumes" and state.managed else None
        if claim is not None:
            state.report.loss(f"spec.volumes: claim '{claim}', mounted at every task's working directory, is a "
                              "compile option, not a pipeline setting", line_of(spec, key), approximate=True,
                              help=f"compile with --option volume={claim} to share the files between tasks again")
        elif key not in _SPEC_KEYS:
            state.report.loss(f"spec.{key} is not carried (no pipeline setting for it)", line_of(spec, key))


def _shared_claim(spec: dict) -> str | None:
    """The claim of dagshift's --option volume=CLAIM, when spec.volumes is that volume alone."""
    volumes = plain(spec.get("volumes"))
    if not (isinstance(volumes, list) and len(volumes) == 1 and isinstance(volumes[0], dict)):
        return None
    claim = volumes[0].get("persistentVolumeClaim")
    name = claim.get("claimName") if isinstance(claim, dict) else None
    expected = {"name": WORKDIR_VOLUME, "persistentVolumeClaim": {"claimName": name}}
    return str(name) if name is not None and volumes[0] == expected else None


def _schedule(state: ReadState, cron_spec: dict, data: dict) -> None:
    """A CronWorkflow's schedule and concurrency policy (its spec, around the workflow spec)."""
    spec = cron_spec
    schedules = list(spec.get("schedules") or ([spec["schedule"]] if spec.get("schedule") else []))
    if not schedules:
        return
    if len(schedules) > 1:
        state.report.loss(f"only the first of {len(schedules)} schedules is carried (a pipeline has one)",
                          line_of(spec, "schedules"))
    schedule: dict[str, Any] = {"cron": str(schedules[0])}
    schedule["timezone"] = str(spec.get("timezone") or "UTC")
    data["schedule"] = schedule
    policy = spec.get("concurrencyPolicy")
    if policy == "Forbid":
        data["max_active_runs"] = 1
    elif policy == "Replace":
        state.report.loss("concurrencyPolicy Replace (stop the running workflow) is carried as one run at a time",
                          line_of(spec, "concurrencyPolicy"), approximate=True)
        data["max_active_runs"] = 1


def _workflow_synchronization(state: ReadState, sync: dict, data: dict, line: int | None) -> None:
    semaphores = sync.get("semaphores") or ([sync["semaphore"]] if sync.get("semaphore") else [])
    limit = None
    for semaphore in semaphores:
        reference = semaphore.get("configMapKeyRef") or {}
        limit = state.companions.configmap_value(reference.get("name"), reference.get("key"))
    if limit is not None and len(semaphores) == 1 and not (sync.get("mutexes") or sync.get("mutex")):
        data["max_active_runs"] = int(limit)
        return
    state.report.loss("workflow synchronization is not carried (only a semaphore whose limit is in this file "
                      "becomes max_active_runs)", line)


def workdir(state: ReadState, data: dict) -> None:
    """The pipeline's working directory: the containers' most common one (dagshift's default is none)."""
    if not state.workdirs:
        return
    (most_common, _), *others = state.workdirs.most_common()
    if state.managed:
        if most_common != DEFAULT_WORKDIR:
            data["workdir"] = most_common
        return
    data["workdir"] = most_common
    if others:
        state.report.loss(f"containers run in {len(others) + 1} working directories; the pipeline has one "
                          f"({most_common})", None, approximate=True)
