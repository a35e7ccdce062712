"""What the `dagshift run` engine tests share (tests/engines/*/test_*_run.py): the real `dagshift`
program in a subprocess, a fresh copy of examples/ to run in, and what a run left there (the
conformance test's `produced`, which leaves out .dagshift/, where the run's logs go)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "DAGSHIFT_WORKDIR"))}
    process = subprocess.run([sys.executable, "-m", "compiler", "run", *args, "--workdir", str(workdir)], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    return DagshiftRun(process.returncode, process.stdout, process.stderr)


def fresh_workdir(parent: Path) -> Path:
    """A copy of examples/ without earlier runs' output (what the engine harnesses run in)."""
    path = parent / "examples"
    shutil.copytree(EXAMPLES, path, ignore=lambda d, names: [n for n in names if n in _NOT_COPIED])
    return path


def failing_pipeline(folder: Path, *, retries: int = 0) -> Path:
    """`ok` writes a file, `fails` exits 3 (after RETRIES retries), `after` never runs."""
    path = folder / "failing.yaml"
    policy = f"\n    retries: {retries}\n    retry_delay: 1s" if retries else ""
    path.write_text(f"""name: failing
tasks:
  ok:
    command: echo ok > ok.txt
  fails:
    command: exit 3
    after: [ok]{policy}
  downstream:
    command: echo never > never.txt
    after: [fails]
""", encoding="utf-8")
    return path
