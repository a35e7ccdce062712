"""What every target's run gets: the pipeline, the values of its params, where tasks run, where the
logs go, the engine's interpreter, and where to report what happens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .events import RunResult, TaskEvent
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
    native: bool = False  # the files are the user's (a DAG file, a flow module), not compiled: any names

    @property
    def engine_log(self) -> Path:
        return self.logs / "engine.log"

    @property
    def task_ids(self) -> list[str]:
        pipeline = self.prepared.pipeline
        return list(pipeline.tasks) if pipeline is not None else []


class TargetRunner(Protocol):
    """What a target's module (airflow.py, dvc.py) offers runs.py: the pipeline's files for a run
    (the --param values may shape them), then the run of those files on the engine."""

    def compile_for_run(self, prepared: Prepared, params: dict[str, Any]) -> dict[str, str]:
        """The target's files, relative path -> text; {} after a compile error (in prepared's diagnostics)."""
        ...

    def run(self, request: RunRequest, files: dict[str, str]) -> RunResult | None:
        """The run's result; None when it did not start (a diagnostic in prepared's diagnostics says why)."""
        ...
