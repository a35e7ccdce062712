"""Running an engine as a child process in its own process group: its output read line by line as
it comes, and the whole group stopped when the run ends (early, by Ctrl-C or an error, or
normally), so nothing the engine or a task started keeps running."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO

GRACE_SECONDS = 10  # after SIGTERM, before SIGKILL

# The engines running now, for an interrupt: it reaches the main thread only, while runs (verify's
# two sides) may wait in others.
_running: set[subprocess.Popen] = set()
_lock = threading.Lock()
_stopping = threading.Event()  # no new engine starts


def stream(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], on_line: Callable[[str], None],
           merge_stderr: bool, stderr_log: Path | None = None) -> int:
    """Run ARGV and call ON_LINE for each line of its standard output (with standard error when
    MERGE_STDERR, else into STDERR_LOG); its exit code. When it ends, or is interrupted, what is
    left of its process group is stopped.

    The lines are read in a thread while this one waits for the process: a task's background
    process (`cmd &`) inherits the output and would keep it open, so reading to its end would
    wait for that process too."""
    with _lock:
        if _stopping.is_set():
            return -signal.SIGTERM
        with open(stderr_log or os.devnull, "ab") as errors:  # the child keeps its own copy
            process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge_stderr else errors,
                                       start_new_session=True)  # its own group: stopped as one
        _running.add(process)
    assert process.stdout is not None
    reader = _LineReader(process.stdout, on_line)
    reader.start()
    try:
        code = process.wait()
    finally:
        stop_group(process)
        reader.finish(GRACE_SECONDS)
        with _lock:
            _running.discard(process)
    if reader.error is not None:
        raise reader.error
    return code


@contextmanager
def engine_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """Threads for runs at the same time (verify's two sides). An interrupt reaches the waiting
    thread only: it stops every engine running, lets none start, and waits for the threads."""
    pool = ThreadPoolExecutor(max_workers=workers)
    _stopping.clear()
    try:
        yield pool
    except BaseException:
        _stopping.set()
        with _lock:
            running = list(_running)
        for process in running:
            stop_group(process)
        raise
    finally:
        pool.shutdown(wait=True)
        _stopping.clear()


class _LineReader(threading.Thread):
    def __init__(self, pipe: IO[bytes], on_line: Callable[[str], None]):
        super().__init__(daemon=True)
        self.pipe, self.on_line = pipe, on_line
        self.error: BaseException | None = None
        self.closed = False

    def run(self) -> None:
        try:
            for raw in self.pipe:
                if self.closed:
                    return
                self.on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        except BaseException as error:  # noqa: BLE001 - raised in the caller's thread
            self.error = error

    def finish(self, timeout: float) -> None:
        """The lines up to the end of the output; after TIMEOUT (a process out of the group, in a
        session of its own, still holds it), none that come later."""
        self.join(timeout)
        self.closed = True


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, then SIGKILL to whatever is left of it (a grandchild may still
    hold the group after its leader ended)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=GRACE_SECONDS)
    except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # the group is gone
        pass
    if process.poll() is None:
        process.wait()
