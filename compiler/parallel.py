"""Independent jobs (one target's render each) spread over this machine's cores.

The calling process runs its share and forked children run the rest: each child starts with the
loaded, validated pipeline already in memory (copy-on-write), so nothing is loaded twice and only
the results travel back, pickled through a pipe. Results come back in job order, so output and
diagnostics do not depend on how the jobs were spread. A job that raises in a child raises here.
Where fork is missing (Windows), with one core, with DAGSHIFT_JOBS=1, or when the caller runs other
threads (a fork copies only this one, and a lock another thread held would stay locked in the child),
every job runs here.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

J = TypeVar("J")
R = TypeVar("R")

# Below this many tasks a fork costs more than it saves.
MIN_TASKS = 500


def worker_count() -> int:
    """DAGSHIFT_JOBS when set (a positive number), else the cores this process may run on."""
    wanted = os.environ.get("DAGSHIFT_JOBS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def map_in_workers(function: Callable[[J], R], jobs: Sequence[J], *, weight: Callable[[J], float],
                   worth_it: bool = True) -> list[R]:
    """`[function(job) for job in jobs]`, the jobs spread over the cores by `weight` (heaviest first,
    each onto the least loaded worker)."""
    count = min(worker_count(), len(jobs))
    if count < 2 or not worth_it or not hasattr(os, "fork") or not _single_threaded():
        return [function(job) for job in jobs]
    shares: list[list[int]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for index in sorted(range(len(jobs)), key=lambda i: (-weight(jobs[i]), i)):
        lightest = loads.index(min(loads))
        shares[lightest].append(index)
        loads[lightest] += weight(jobs[index])
    children = [_fork(function, jobs, sorted(share)) for share in shares[1:] if share]
    results: dict[int, R] = {}
    try:
        for index in sorted(shares[0]):
            results[index] = function(jobs[index])
    finally:
        failures = [_collect(pid, read_end, results) for pid, read_end in children]
    for failure in failures:
        if failure is not None:
            raise failure
    return [results[index] for index in range(len(jobs))]


def _single_threaded() -> bool:
    return threading.active_count() == 1


def _fork(function: Callable[[J], R], jobs: Sequence[J], share: list[int]) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    # The child: run the share, send the results (or the failure) back, and leave without running
    # the parent's exit handlers or flushing its buffers a second time.
    status = 0
    try:
        os.close(read_end)
        try:
            payload = pickle.dumps(("results", [(index, function(jobs[index])) for index in share]),
                                   protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            exc.add_note("in a dagshift worker process:\n" + "".join(traceback.format_exception(exc)))
            payload = pickle.dumps(("failure", _picklable(exc)), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as out:
            out.write(payload)
    except BaseException:  # noqa: BLE001
        status = 1
    finally:
        os._exit(status)


def _collect(pid: int, read_end: int, results: dict) -> BaseException | None:
    """Read a child's results into `results` and reap it; its failure, if it had one."""
    with os.fdopen(read_end, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return RuntimeError(f"a dagshift worker process ended without a result (wait status {status})")
    kind, value = pickle.loads(data)
    if kind == "failure":
        return value
    results.update(value)
    return None


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - an exception that cannot travel goes as its traceback
        return RuntimeError("".join(traceback.format_exception(exc)))
