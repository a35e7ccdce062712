"""The prefect.yaml next to the flow module: a flow's deployment as the pipeline's schedule,
tags, run concurrency, triggers and parameter defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from compiler.backends.prefect.conventions import ARTIFACT_RESOURCE, ARTIFACT_UPDATED, DEPLOYMENT_FILE
from compiler.importers.base import Reporter, line_of, plain, yaml_documents

from .state import FlowState


class Deployments:
    """The prefect.yaml next to the module (if any): deployments by entrypoint."""

    def __init__(self, path: Path):
        self.file = path.parent / DEPLOYMENT_FILE
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



class DeploymentReader:
    """The first deployment of one flow, into the flow's pipeline data."""

    def __init__(self, flow: FlowState, deployments: Deployments):
        self.flow = flow
        self.deployments = deployments
        self.data = flow.data
        self.report = flow.report

    def read(self) -> None:
        d = self.deployments
        if d.error:
            self.report.loss(d.error, help="the schedule and triggers are not imported")
            return
        entries = d.for_flow(self.flow.module.path, self.flow.function.name)
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
            article = "an" if kind == "interval" else "a"
            dep.loss(f"{article} {kind} schedule has no cron equivalent: not carried", line_of(schedules, 0),
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
            if isinstance(resource, str) and resource.startswith(ARTIFACT_RESOURCE) \
                    and expect == [ARTIFACT_UPDATED]:
                self.data.setdefault("triggers", []).append({"type": "data", "uri": resource[len(ARTIFACT_RESOURCE):]})
            elif isinstance(value, dict) and expect == ["prefect.flow-run.Completed"] and \
                    (value.get("match_related") or {}).get("prefect.resource.name") == self.data["name"]:
                self.data.setdefault("triggers", []).append({"type": "continuous"})
            else:
                dep.loss("a deployment trigger is not carried: only dagshift's data and continuous triggers are "
                         "understood", line_of(entry["triggers"], index))

