"""`dagshift run -t dvc`: the pipeline compiled into the working directory (dvc.yaml, params.yaml
with the --param values, .dagshift/), a git + DVC repository made there when there is none, then
`dvc repro`, whose output says which stage starts, is skipped as unchanged, or fails."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from .events import RunResult, TaskEvent, TaskState
from .prepare import Prepared, compile_files, write_files
from .process import stream
from .request import RunRequest
from .tracker import Tracker
from .values import from_dvc_files

_RUNNING = re.compile(r"^Running stage '(?P<stage>.+)':$")
_SKIPPED = re.compile(r"^Stage '(?P<stage>.+)' (?:didn't change, skipping|is cached - skipping run.*)$")
_FAILED = re.compile(r"^ERROR: failed to reproduce '(?P<stage>.+?)'")
_LOCK_UPDATED = re.compile(r"^(?:Updating|Generating) lock file ")
# `python -m dvc` would put the working directory first on sys.path: DVC must be DVC, whatever
# the user's folder holds.
_DVC_MAIN = "import sys; sys.path = [p for p in sys.path if p not in ('', '.')]; from dvc.cli import main; " \
            "sys.exit(main(sys.argv[1:]))"


class StageParser:
    """`dvc repro` output, line by line, as task events (a foreach stage `train@lr` is an instance
    of task `train`)."""

    def __init__(self, emit):
        self.emit = emit
        self.running: str | None = None

    def feed(self, line: str) -> None:
        text = line.strip()
        if match := _RUNNING.match(text):
            self._end_running(TaskState.SUCCEEDED)
            self.running = match["stage"]
            self._send(self.running, TaskState.STARTED)
        elif match := _SKIPPED.match(text):
            self._send(match["stage"], TaskState.SKIPPED)
        elif _LOCK_UPDATED.match(text):
            self._end_running(TaskState.SUCCEEDED)
        elif match := _FAILED.match(text):
            if self.running == match["stage"]:
                self.running = None
            self._send(match["stage"], TaskState.FAILED)

    def finish(self, code: int) -> None:
        self._end_running(TaskState.SUCCEEDED if code == 0 else TaskState.FAILED)

    def _end_running(self, state: TaskState) -> None:
        if self.running is not None:
            self._send(self.running, state)
            self.running = None

    def _send(self, stage: str, state: TaskState) -> None:
        task, _, instance = stage.partition("@")
        self.emit(TaskEvent(task, state, 1, time.time(), instance or None))


def compile_for_run(prepared: Prepared, params: dict[str, Any]) -> dict[str, str]:
    """dvc.yaml, params.yaml and .dagshift/ ({} after a compile error): DVC reads param values from
    params.yaml, so the --param values are its values."""
    return compile_files(prepared, "dvc", defaults=params)


def run(request: RunRequest, files: dict[str, str]) -> RunResult | None:
    """The run's result (FILES: compile_for_run's); None when they cannot be written to the
    working directory (diagnostics in request.prepared)."""
    if not write_files(files, request.workdir, request.prepared.diagnostics):
        return None
    env = dvc_env(request)
    error = _ensure_repository(request, env)
    if error:
        return RunResult("dvc", False, [], request.logs, request.workdir, error)
    tracker = Tracker(request.task_ids)

    def emit(event: TaskEvent) -> None:
        if tracker.add(event):
            request.on_event(event, tracker.finished, tracker.total)

    parser = StageParser(emit)
    with open(request.engine_log, "a", encoding="utf-8") as log:

        def on_line(line: str) -> None:
            log.write(line + "\n")
            log.flush()
            parser.feed(line)

        code = stream([str(request.python), "-c", _DVC_MAIN, "repro"], cwd=request.workdir, env=env,
                      on_line=on_line, merge_stderr=True)
    parser.finish(code)
    for event in tracker.close(code == 0):  # stages a failure stopped DVC before
        request.on_event(event, tracker.finished, tracker.total)
    pipeline = request.prepared.pipeline
    values = from_dvc_files(pipeline, request.workdir) if pipeline is not None else {}
    return RunResult("dvc", code == 0, tracker.final_results(), request.logs, request.workdir,
                     None if code == 0 or tracker.results else f"dvc repro failed (exit {code}) before any stage ran",
                     values=values)


def _ensure_repository(request: RunRequest, env: dict[str, str]) -> str | None:
    """git init and dvc init where they are missing (saying so); an error message when they fail."""
    workdir = request.workdir
    inside_git = _call(["git", "rev-parse", "--show-toplevel"], workdir, env, request)
    if inside_git.returncode != 0:
        request.on_note(f"{workdir} is not a git repository: running git init and dvc init there")
        made = _call(["git", "init", "-q"], workdir, env, request)
        if made.returncode != 0:
            return f"git init failed in {workdir}: {made.stdout.strip()}"
        top = workdir
    else:
        top = Path(inside_git.stdout.strip())
    if (workdir / ".dvc").is_dir():
        return None
    if inside_git.returncode == 0:
        request.on_note(f"{workdir} is not a DVC project: running dvc init there")
    subdir = ["--subdir"] if top.resolve() != workdir.resolve() else []
    made = _call([str(request.python), "-c", _DVC_MAIN, "init", "-q", *subdir], workdir, env, request)
    if made.returncode != 0:
        return f"dvc init failed in {workdir}: {made.stdout.strip()}"
    return None


def _call(argv: list[str], cwd: Path, env: dict[str, str], request: RunRequest) -> subprocess.CompletedProcess:
    try:
        process = subprocess.run(argv, check=False, cwd=cwd, env=env, capture_output=True, text=True, errors="replace",
                                 stdin=subprocess.DEVNULL, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        process = subprocess.CompletedProcess(argv, 1, str(error), "")
    with open(request.engine_log, "a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(argv)}\n{process.stdout}{process.stderr}")
    return subprocess.CompletedProcess(argv, process.returncode, process.stdout + process.stderr, "")


def dvc_env(request: RunRequest) -> dict[str, str]:
    """The user's environment without what would point DVC or git elsewhere (another repository,
    other Python libraries), analytics off; the engine's bin folder last on PATH, so a stage that
    calls `dvc` finds it while the stages' `python3` stays the user's."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "VIRTUAL_ENV", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "DVC_",
                                  "DAGSHIFT_WORKDIR"))}
    env["PATH"] = os.pathsep.join(filter(None, [env.get("PATH", ""), str(request.python.parent)]))
    env["DVC_NO_ANALYTICS"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
