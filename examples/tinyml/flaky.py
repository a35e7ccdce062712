"""An unreliable data source: fails the first N attempts, then delivers a data set.

Attempts are counted in STATE_DIR/NAME.attempts, so every retry of the task sees the count
(the retries must share the working directory). On success the counter file is removed, so
the next run fails N times again.

    python3 -m tinyml.flaky --name fetch --fail-times 2 --out data/raw.csv
"""

from __future__ import annotations

import argparse
import os
import sys

from tinyml import ingest
from tinyml._common import TaskError, as_int, ensure_parent, run_cli, write_value


def main(
    name: str = "flaky",
    fail_times=2,
    state_dir: str = "state",
    out=None,
    rows=300,
    seed=42,
    attempts_out=None,
) -> int:
    """Fail (raise) on attempts 1..fail_times; then write `out` with tinyml.ingest (when set)
    and return the number of the attempt that succeeded."""
    fail_times = as_int(fail_times, "fail_times")
    counter = os.path.join(state_dir, f"{name}.attempts")
    attempt = 1
    if os.path.exists(counter):
        with open(counter, encoding="utf-8") as f:
            attempt = int(f.read().strip() or 0) + 1
    if attempt <= fail_times:
        ensure_parent(counter)
        with open(counter, "w", newline="\n", encoding="utf-8") as f:
            f.write(f"{attempt}\n")
        raise TaskError(
            f"{name}: attempt {attempt} failed on purpose (this source fails its first {fail_times} attempt(s))"
        )
    if os.path.exists(counter):
        os.remove(counter)
    print(f"flaky: {name}: attempt {attempt} succeeded")
    if out:
        ingest.main(out=out, rows=rows, seed=seed)
    write_value(attempts_out, attempt)
    return attempt


def cli(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m tinyml.flaky", description=__doc__.split("\n\n")[0])
    p.add_argument("--name", default="flaky", help="counter name (default: %(default)s)")
    p.add_argument("--fail-times", type=int, default=2, help="attempts that fail first (default: %(default)s)")
    p.add_argument("--state-dir", default="state", help="where the counter lives (default: %(default)s)")
    p.add_argument("--out", help="on success, write a synthetic data set here (tinyml.ingest)")
    p.add_argument("--rows", type=int, default=300, help="rows for --out (default: %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="seed for --out (default: %(default)s)")
    p.add_argument("--attempts-out", help="write the number of the successful attempt to this file")
    return run_cli("flaky", main, p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(cli())
