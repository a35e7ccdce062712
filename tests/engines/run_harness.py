"""What the `dagshift run` engine tests share (tests/engines/*/test_*_run.py): the real `dagshift`
program in a subprocess, a fresh copy of examples/ to run in, and what a run left there (the
conformance test's `produced`, which leaves out .dagshift/, where the run's logs go)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine_harness import _NOT_COPIED, EXAMPLES, ROOT

RUN_TIMEOUT = 300


@dataclass
class DagshiftRun:
    code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        """The --format json document."""
        return json.loads(self.stdout)

    def describe(self) -> str:
        return f"exit {self.code}\n--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}"


def dagshift_run(*args: str, workdir: Path) -> DagshiftRun:
    """`dagshift run ARGS --workdir WORKDIR` as a user runs it (python -m compiler, this checkout)."""
    return dagshift("run", *args, "--workdir", str(workdir))


def dagshift(*args: str, cwd: Path = ROOT) -> DagshiftRun:
    """The `dagshift` program with ARGS, as a user runs it (python -m compiler, this checkout)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "DAGSHIFT_WORKDIR"))}
    process = subprocess.run([sys.executable, "-m", "compiler", *args], cwd=cwd, env=env, capture_output=True,
                             text=True, timeout=RUN_TIMEOUT, check=False)
    return DagshiftRun(process.returncode, process.stdout, process.stderr)


def fresh_workdir(parent: Path) -> Path:
    """A copy of examples/ without earlier runs' output (what the engine harnesses run in)."""
    path = parent / "examples"
    shutil.copytree(EXAMPLES, path, ignore=lambda d, names: [n for n in names if n in _NOT_COPIED])
    return path


def failing_pipeline(folder: Path, *, retries: int = 0) -> Path:
    """`ok` writes a file, `fails` exits with the param `code` (after RETRIES retries; succeeds with
    the default 0: give --param code=3), `downstream` then never runs."""
    path = folder / "failing.yaml"
    policy = f"\n    retries: {retries}\n    retry_delay: 1s" if retries else ""
    path.write_text(f"""name: failing
params:
  code: 0
tasks:
  ok:
    command: echo ok > ok.txt
  fails:
    command: exit ${{{{ params.code }}}}
    after: [ok]{policy}
  downstream:
    command: echo never > never.txt
    after: [fails]
""", encoding="utf-8")
    return path


def assert_ctrl_c_stops_everything(tmp_path: Path, target: str, engine_python: Path,
                                   sig: signal.Signals = signal.SIGINT, json_output: bool = False) -> None:
    """Ctrl-C (SIGINT, or SIG) while a task runs `sleep`: dagshift exits 1 saying so, without a
    traceback, and neither the engine nor the task's process is left running. JSON_OUTPUT: with
    --format json, which prints no line per task but still one document at the end."""
    marker = f"61.{os.getpid()}"  # `sleep 61.PID`: a process no one else runs
    args = ["run", str(sleeping_pipeline(tmp_path, marker)), "-t", target, "--engine-python", str(engine_python),
            "--workdir", str(empty_folder(tmp_path / "work")), *(["--format", "json"] if json_output else [])]
    out, _ = interrupt_while_sleeping(args, marker, sig=sig,
                                      first_line=None if json_output else "[0/1] wait started (try 1)")
    if json_output:
        assert json.loads(out) == {"succeeded": False, "error": "interrupted: the engine and its tasks were stopped",
                                   "tasks": [], "diagnostics": []}


def sleeping_pipeline(folder: Path, marker: str) -> Path:
    """A pipeline of one task that runs `sleep MARKER`."""
    path = folder / "slow.yaml"
    path.write_text(f"name: slow\ntasks:\n  wait:\n    command: sleep {marker}\n", encoding="utf-8")
    return path


def empty_folder(path: Path) -> Path:
    path.mkdir()
    return path


def interrupt_while_sleeping(args: list[str], marker: str, *, sleepers: int = 1, sig: signal.Signals = signal.SIGINT,
                             first_line: str | None = None) -> tuple[str, str]:
    """`dagshift ARGS` interrupted with SIG once SLEEPERS `sleep MARKER` processes run (after it
    printed FIRST_LINE first, when given): it exits 1 saying so, without a traceback, and no
    `sleep MARKER` is left running. Its (stdout, stderr)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    process = subprocess.Popen([sys.executable, "-m", "compiler", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        if first_line is not None:
            assert process.stdout.readline().strip() == first_line
        assert _within(120, lambda: len(running(marker)) >= sleepers), f"not {sleepers} task(s) running at once"
        process.send_signal(sig)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1 and "interrupted" in err and "Traceback" not in err, err
    # a killed process may take a moment to be reaped by its parent
    assert _within(5, lambda: not running(marker)), "a task's process outlived the run"
    return out, err


def _within(seconds: float, condition) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return bool(condition())


def running(marker: str) -> list[int]:
    """Processes whose command line holds `sleep MARKER` (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"sleep {marker}" in command:
            found.append(int(entry.name))
    return found
