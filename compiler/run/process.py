"""Running an engine as a child process in its own process group: its output read line by line as
it comes, and the whole group stopped when the run ends early (Ctrl-C, an error), so nothing the
engine started keeps running."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

GRACE_SECONDS = 10  # after SIGTERM, before SIGKILL


def stream(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], on_line: Callable[[str], None],
           merge_stderr: bool, stderr_log: Path | None = None) -> int:
    """Run ARGV and call ON_LINE for each line of its standard output (with standard error when
    MERGE_STDERR, else into STDERR_LOG); its exit code. Interrupted, it stops the process group."""
    with open(stderr_log or os.devnull, "ab") as errors:
        process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge_stderr else errors,
                                   start_new_session=True)  # its own group: stopped as one
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            return process.wait()
        finally:
            if process.poll() is None:
                stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, then SIGKILL to whatever is left of it (a grandchild may still
    hold the group after its leader ended)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=GRACE_SECONDS)
    except (ProcessLookupError, PermissionError):
        pass
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if process.poll() is None:
        process.wait()
