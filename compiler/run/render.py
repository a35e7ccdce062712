"""How `dagshift run` shows a run: a line per task state change with a progress count, then a table
of task, state, tries and duration (text), or one JSON document (json)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from compiler.diagnostics import Diagnostic

from .events import RunResult, TaskEvent, TaskState


def event_line(event: TaskEvent, finished: int, total: int) -> str:
    """`[3/7] train started (try 1)`."""
    tries = f" (try {event.try_number})" if event.state in (TaskState.STARTED, TaskState.RETRIED,
                                                            TaskState.FAILED) else ""
    return f"[{finished}/{total}] {event.label} {event.state.label}{tries}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def table(result: RunResult) -> str:
    rows = [("task", "state", "tries", "duration")]
    rows += [(task.label, task.state.label, str(task.tries), duration(task.seconds)) for task in result.tasks]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = ["  ".join(cell.ljust(width) if column < 2 else cell.rjust(width)
                       for column, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


def verdict(result: RunResult) -> str:
    failed = [task.label for task in result.tasks if task.state is TaskState.FAILED]
    if result.succeeded:
        return f"run succeeded on {result.target}"
    if result.error:
        return f"run failed on {result.target}: {result.error}"
    return f"run failed on {result.target}" + (f": {', '.join(failed)} failed" if failed else "")


def outcome(result: RunResult) -> str:
    return f"{verdict(result)}\nlogs: {result.logs}\n"


def text_report(result: RunResult) -> str:
    return "\n" + table(result) + "\n" + outcome(result)


INTERRUPTED = "interrupted: the engine and its tasks were stopped"


def json_report(result: RunResult | None, diagnostics: Sequence[Diagnostic], error: str | None = None) -> str:
    """The run as one document; without a result (it did not start, or ERROR stopped it), only
    whether it succeeded (no), the error and the diagnostics."""
    data = result.to_dict() if result is not None else {"succeeded": False, "error": error, "tasks": []}
    data["diagnostics"] = [diagnostic.to_dict() for diagnostic in diagnostics]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
