"""Running an engine-side script (scripts/) that speaks events.py's protocol: installed into a
scratch folder with the protocol helper it imports, its task events passed on as they come, its
summary read at the end, anything else it prints kept in engine.log."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .events import RunResult, TaskState, event_from_protocol, parse_protocol_line
from .process import stream
from .request import RunRequest
from .tracker import Tracker
from .values import from_returns

SCRIPTS = Path(__file__).with_name("scripts")
PROTOCOL = SCRIPTS / "_protocol.py"  # what every engine script imports: `import _protocol`


def install_script(script: Path, folder: Path, name: str) -> Path:
    """SCRIPT copied into FOLDER as NAME, with the protocol helper beside it; the copy's path. Run
    by path, its folder leads sys.path: `import _protocol` finds the helper, and an import of the
    engine (`import kfp`) finds the engine, not a module of the user's or dagshift's named like it,
    so FOLDER should hold nothing else the script could import."""
    folder.mkdir(parents=True, exist_ok=True)
    installed = folder / name
    shutil.copy2(script, installed)
    shutil.copy2(PROTOCOL, folder / PROTOCOL.name)
    return installed


def run_script(request: RunRequest, target: str, title: str, argv: Sequence[str], env: Mapping[str, str],
               on_summary: Callable[[dict], None] = lambda summary: None, doubles: bool = False) -> RunResult:
    """The run of ARGV (an installed script and its arguments) as a result; ON_SUMMARY gets the
    script's whole summary first, for what a target reads from it beyond the tasks' outcomes.
    DOUBLES: the engine keeps every number of a returned value as a double (values.from_returns)."""
    tracker = Tracker(request.task_ids)
    summary: dict = {}
    log = request.engine_log

    def on_line(line: str) -> None:
        parsed = parse_protocol_line(line)
        if parsed is None:
            with open(log, "a", encoding="utf-8") as stream_:
                stream_.write(line + "\n")
        elif parsed[0] == "summary":
            summary.update(parsed[1])
        else:
            event = event_from_protocol(parsed[1])
            if event is not None and tracker.add(event):
                request.on_event(event, tracker.finished, tracker.total)

    code = stream(argv, cwd=request.workdir, env=env, on_line=on_line, merge_stderr=False, stderr_log=log)
    on_summary(summary)
    _apply_summary(tracker, summary)
    error = summary.get("error") or (None if summary else f"the {title} process ended (exit {code}) without a result")
    state = summary.get("state")
    succeeded = code == 0 and state == "success" and not error
    # Prefect makes no task run for a task its condition leaves out, or whose upstream failed
    for event in tracker.close(succeeded):
        request.on_event(event, tracker.finished, tracker.total)
    results = tracker.final_results()
    pipeline = request.prepared.pipeline
    values = from_returns(pipeline, summary.get("returned") or [], doubles) if pipeline is not None else {}
    return RunResult(target, succeeded, results, request.logs, request.workdir,
                     error if error or state not in ("success", "failed") else None, values=values)


def _apply_summary(tracker: Tracker, summary: dict) -> None:
    """The engine's own final states, tries and durations win over what the polls saw."""
    for data in summary.get("tasks", []):
        event = event_from_protocol({**data, "try": data.get("tries") or 1})
        if event is None or event.task not in tracker.task_ids:
            continue
        key = (event.task, event.instance)
        if key not in tracker.results:
            tracker.add(event)
        result = tracker.results[key]
        result.state = event.state
        result.tries = int(data.get("tries") or 0) if event.state is not TaskState.NOT_RUN else 0
        if data.get("seconds") is not None and event.state in (TaskState.SUCCEEDED, TaskState.FAILED):
            result.seconds = float(data["seconds"])
