"""What the Prefect importer assumes about hand-written flows, checked on the real Prefect 3.9.1
(compiler/importers/prefect/handwritten.py):

* a task in `wait_for=[allow_failure(f)]` runs when f failed (imported as trigger rule all_done);
* a task called directly blocks the flow: a task submitted after it starts after it ended;
* `quote(future)` passes the future object itself to the task, not its result (a loss).
"""

from __future__ import annotations

import json
from pathlib import Path

PROBE = '''
import json
import time

from prefect import allow_failure, flow, task
from prefect.utilities.annotations import quote

LOG = []


@task
def boom() -> int:
    LOG.append("boom")
    raise ValueError("boom")


@task
def slow() -> int:
    time.sleep(1.0)
    LOG.append("slow")
    return 1


@task
def later(label: str) -> str:
    LOG.append(label)
    return label


@task
def seen(value) -> str:
    return type(value).__name__


@flow
def probe():
    failed = boom.submit()
    tolerant = later.submit("tolerant", wait_for=[allow_failure(failed)])
    slow()
    submitted = later.submit("submitted")
    quoted = seen.submit(quote(tolerant))
    return {"tolerant": tolerant.state.type.value if tolerant.wait() is None else None,
            "submitted": submitted.result(), "quoted": quoted.result(), "log": list(LOG)}


if __name__ == "__main__":
    print("RESULT " + json.dumps(probe()))
'''


def test_allow_failure_direct_calls_and_quote_behave_as_the_importer_reads_them(prefect_engine, tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(PROBE, encoding="utf-8")
    run = prefect_engine.run_module(module, cwd=tmp_path)
    lines = [line for line in run.output.splitlines() if line.startswith("RESULT ")]
    assert run.returncode == 0 and lines, run.output[-4000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["tolerant"] == "COMPLETED"  # ran although its upstream failed: all_done
    log = result["log"]
    assert log.index("slow") < log.index("submitted")  # the direct call finished first
    assert result["quoted"] != "str" and "Future" in result["quoted"]  # the future, not its result
