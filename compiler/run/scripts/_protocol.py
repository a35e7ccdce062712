"""What every engine-side script shares (never imported by dagshift): the protocol lines it prints,
its output sent to the run's log, its stop on SIGTERM, and the import of the file it runs. Copied beside the script
(scripted.install_script), whose folder leads sys.path when it runs by path: `import _protocol`.

Standard output carries only the protocol (compiler/run/events.py): one `DAGSHIFT-EVENT {json}`
line per task state change and a last `DAGSHIFT-SUMMARY {json}` line. Standard library only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import threading

EVENT, SUMMARY = "DAGSHIFT-EVENT ", "DAGSHIFT-SUMMARY "

_protocol = None  # the original standard output; fd 1 and 2 go to the log file
_lock = threading.Lock()  # an engine may run tasks in threads: one line at a time


def send(mark: str, data: dict) -> None:
    """One protocol line (MARK is EVENT or SUMMARY), flushed at once: dagshift reads them as they come.
    A value JSON cannot hold (a task's return value) is sent as its repr."""
    line = mark + json.dumps(data, ensure_ascii=True, default=repr) + "\n"
    with _lock:
        _protocol.write(line)
        _protocol.flush()


def redirect_output(log_file: str) -> None:
    """Keep stdout for the protocol; the engine's logging and the tasks' output (inherited fds 1
    and 2) go to the log file."""
    global _protocol
    _protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def stop_on_sigterm() -> None:
    """The caller stops a run with SIGTERM to the process group; an engine may start tasks (or a
    server) in sessions of their own, so every descendant is ended too before exiting."""

    def stop(signum, frame):
        try:
            import psutil

            for child in psutil.Process().children(recursive=True):
                child.kill()
        except Exception:  # noqa: BLE001 - best effort; the caller kills the group afterwards
            pass
        os._exit(143)

    signal.signal(signal.SIGTERM, stop)


def load_module(path: str, name: str):
    """The module at PATH (a generated or the user's own file), imported as NAME."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
