"""What every target's run gets: the pipeline, the values of its params, where tasks run, where the
logs go, the engine's interpreter, and where to report what happens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .events import TaskEvent
from .prepare import Prepared


@dataclass
class RunRequest:
    prepared: Prepared
    params: dict[str, Any]  # only the values given with --param
    workdir: Path  # absolute; the tasks' working directory
    logs: Path  # absolute; created
    python: Path  # the engine's interpreter
    on_event: Callable[[TaskEvent, int, int], None]  # the event, tasks finished, tasks expected
    on_note: Callable[[str], None]  # a line for the user about what the run did besides the tasks

    @property
    def engine_log(self) -> Path:
        return self.logs / "engine.log"

    @property
    def task_ids(self) -> list[str]:
        pipeline = self.prepared.pipeline
        return list(pipeline.tasks) if pipeline is not None else []
