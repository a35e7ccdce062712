"""Retries and timeouts on the real DVC, emulated by the runner when asked for
(`--option retries=emulate`, `--option timeouts=emulate`): a flaky task succeeds on its third
attempt after the configured delays; a task over its timeout is stopped with everything it
started, so its late write never happens, and the stage fails."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from dvc_harness import DvcEngine, compile_dvc

pytestmark = pytest.mark.engine

PIPELINE = """\
name: emulation
tasks:
  flaky:
    command: n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; test $n -ge 2 && echo ok > flaky.txt
    retries: 2
    retry_delay: 1s
    retry_backoff: 2
  slow:
    command: (sleep 3; echo late > late.txt) & sleep 30; echo done > slow.txt
    timeout: 2s
"""


def test_retries_and_timeouts_are_emulated_on_request(dvc_engine: DvcEngine, tmp_path: Path) -> None:
    source = tmp_path / "emulation.yaml"
    source.write_text(textwrap.dedent(PIPELINE), encoding="utf-8")
    compiled = compile_dvc(source, tmp_path / "out", "--option", "retries=emulate", "--option", "timeouts=emulate")
    assert compiled.exit_code == 0, compiled.output
    repo = dvc_engine.repo(tmp_path / "out", examples=False)
    started = time.monotonic()
    result = repo.repro("--keep-going", check=False)
    elapsed = time.monotonic() - started
    output = result.describe()
    assert (repo.path / "flaky.txt").read_text() == "ok\n", output
    assert (repo.path / "count").read_text() == "3\n", output  # three attempts: two retries
    assert "retrying in 1.0 s" in output and "retrying in 2.0 s" in output, output
    assert "timed out after 2 s" in output and not result.ok, output
    time.sleep(2)  # the background writer would have written late.txt by now, had it survived
    assert not (repo.path / "slow.txt").exists() and not (repo.path / "late.txt").exists()
    assert elapsed < 25, f"the timeout did not stop the task ({elapsed:.0f} s)"
