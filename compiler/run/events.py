"""What a run reports: task state changes as they happen, each task's outcome, the run's outcome;
and the line protocol an engine-side script speaks on its standard output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

# An engine-side script marks its protocol lines so they stand out from anything else it prints.
EVENT_MARK = "DAGSHIFT-EVENT "
SUMMARY_MARK = "DAGSHIFT-SUMMARY "


class TaskState(str, Enum):
    STARTED = "started"
    RETRIED = "retried"  # a try failed and the engine will try again
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # by a condition, or (DVC) unchanged since the last run
    NOT_RUN = "not_run"  # an upstream task failed, or the run stopped first

    @property
    def final(self) -> bool:
        return self in FINAL_STATES

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


FINAL_STATES = {TaskState.SUCCEEDED, TaskState.FAILED, TaskState.SKIPPED, TaskState.NOT_RUN}


@dataclass(frozen=True)
class TaskEvent:
    """One state change of one task (`task` as the pipeline names it; `instance` tells the runs of
    a fanned-out task apart: Airflow's map index, DVC's `name@key`)."""

    task: str
    state: TaskState
    try_number: int = 1
    time: float = 0.0
    instance: str | None = None

    @property
    def label(self) -> str:
        return self.task if self.instance is None else f"{self.task}[{self.instance}]"


@dataclass
class TaskResult:
    task: str
    state: TaskState
    tries: int = 0
    seconds: float | None = None
    instance: str | None = None

    @property
    def label(self) -> str:
        return self.task if self.instance is None else f"{self.task}[{self.instance}]"

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "instance": self.instance, "state": self.state.value, "tries": self.tries,
                "seconds": None if self.seconds is None else round(self.seconds, 3)}


@dataclass
class RunResult:
    target: str
    succeeded: bool
    tasks: list[TaskResult] = field(default_factory=list)
    logs: Path | None = None
    workdir: Path | None = None
    error: str | None = None  # why the engine could not run the pipeline at all
    notes: list[str] = field(default_factory=list)  # what the run did besides the tasks (git init...)
    values: dict[str, str] = field(default_factory=dict)  # the value outputs (values.py)

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "succeeded": self.succeeded, "error": self.error,
                "tasks": [task.to_dict() for task in self.tasks],
                "logs": None if self.logs is None else str(self.logs),
                "workdir": None if self.workdir is None else str(self.workdir), "notes": list(self.notes),
                "values": dict(self.values)}


def parse_protocol_line(line: str) -> tuple[str, dict[str, Any]] | None:
    """("event", data) or ("summary", data) for a protocol line, None for any other line."""
    for kind, mark in (("event", EVENT_MARK), ("summary", SUMMARY_MARK)):
        if line.startswith(mark):
            try:
                data = json.loads(line[len(mark):])
            except json.JSONDecodeError:
                return None
            return (kind, data) if isinstance(data, dict) else None
    return None


def event_from_protocol(data: dict[str, Any]) -> TaskEvent | None:
    """A TaskEvent from an engine script's event line; None when the line is not one."""
    try:
        state = TaskState(data["state"])
        instance = data.get("instance")
        if instance is None and int(data.get("map_index", -1)) >= 0:  # Airflow's map index
            instance = data["map_index"]
        return TaskEvent(str(data["task"]), state, int(data.get("try", 1)), float(data.get("time", 0.0)),
                         None if instance is None else str(instance))
    except (KeyError, ValueError, TypeError):
        return None
