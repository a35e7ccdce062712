"""Targets rendered on several cores (compiler/parallel.py) give exactly what one core gives:
the same files, the same diagnostics in the same order, and a failure in a worker surfaces."""

from __future__ import annotations

import os

import pytest

from compiler import parallel
from compiler.backends import registry
from compiler.compile import compile_loaded
from compiler.output import emit
from tests.helpers import load


def _big_pipeline(size: int) -> str:
    """Warnings on several targets (retries, pools, a cache, a schedule and three data triggers
    Kubeflow leaves out) and errors on none."""
    lines = [
        "name: spread",
        "schedule: {cron: '0 3 * * *'}",
        "triggers:",
        "  - {type: data, uri: 's3://a/b'}",
        "  - {type: data, uri: 's3://a/c'}",
        "  - {type: data, uri: 's3://a/d'}",
        "params:",
        "  greeting: {type: str, default: \"it's {{ x }}\"}",
        "defaults: {retries: 1, pool: io}",
        "tasks:",
    ]
    for index in range(size):
        after = f", after: [t{index - 1}]" if index else ""
        cache = ", cache: true" if index % 50 == 0 else ""
        lines.append(f"  t{index}: {{command: 'echo ${{{{ params.greeting }}}} {index}'{after}{cache}}}")
    return "\n".join(lines) + "\n"


_SINGLE_THREADED = parallel._single_threaded


@pytest.fixture(autouse=True)
def _fork_for_small_pipelines(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "MIN_TASKS", 1)  # the pipelines here are small, to stay fast
    # Other tests of the session may leave a library's thread running: these tests are about forking.
    monkeypatch.setattr(parallel, "_single_threaded", lambda: True)


def _compile(monkeypatch, jobs: str):
    monkeypatch.setenv("DAGSHIFT_JOBS", jobs)
    loaded = load(_big_pipeline(60))
    return compile_loaded(loaded, registry.names(), per_target_dirs=True)


def test_several_workers_write_what_one_writes(monkeypatch) -> None:
    one = _compile(monkeypatch, "1")
    two = _compile(monkeypatch, "2")
    five = _compile(monkeypatch, "5")
    assert one.files and not one.diagnostics.has_errors
    assert {path.split("/")[0] for path in one.files} == set(registry.names())
    assert [d.code for d in one.diagnostics] and "W301" in {d.code for d in one.diagnostics}
    for other in (two, five):
        assert list(other.files) == list(one.files)
        assert other.files == one.files
        assert other.diagnostics.items == one.diagnostics.items
        assert other.notes == one.notes


def test_jobs_come_back_in_order_from_the_workers(monkeypatch) -> None:
    monkeypatch.setenv("DAGSHIFT_JOBS", "3")
    parent = os.getpid()
    results = parallel.map_in_workers(lambda n: (n * n, os.getpid()), list(range(7)), weight=lambda n: n)
    assert [square for square, _ in results] == [n * n for n in range(7)]
    assert len({pid for _, pid in results}) == 3 and parent in {pid for _, pid in results}


def test_a_failure_in_a_worker_is_raised_with_its_traceback(monkeypatch) -> None:
    monkeypatch.setenv("DAGSHIFT_JOBS", "2")

    def job(n: int) -> int:
        if n == 0:  # the heaviest job: the parent runs it, so the failure is a child's
            return n
        raise KeyError(f"job {n} failed")

    with pytest.raises(KeyError, match="job 1 failed") as raised:
        parallel.map_in_workers(job, [0, 1], weight=lambda n: 1 - n)
    assert any("in a dagshift worker process" in note for note in raised.value.__notes__)


def test_one_worker_or_a_small_pipeline_forks_nothing(monkeypatch) -> None:
    monkeypatch.setenv("DAGSHIFT_JOBS", "1")
    assert {pid for pid in parallel.map_in_workers(lambda _: os.getpid(), [1, 2, 3], weight=float)} == {os.getpid()}
    monkeypatch.setenv("DAGSHIFT_JOBS", "2")
    pids = parallel.map_in_workers(lambda _: os.getpid(), [1, 2, 3], weight=float, worth_it=False)
    assert set(pids) == {os.getpid()}


def test_a_black_fallback_in_a_worker_is_counted(monkeypatch) -> None:
    """tests/test_black_stable.py reads emit.black_fallbacks: a worker's fallback must reach it."""
    from compiler.output import pylayout

    def refuse(source: str) -> str:
        raise pylayout.Unsupported("refused for the test")

    monkeypatch.setattr(pylayout, "format_source", refuse)
    before = emit.black_fallbacks
    monkeypatch.setenv("DAGSHIFT_JOBS", "2")
    loaded = load(_big_pipeline(5))
    compile_loaded(loaded, ["kubeflow", "airflow"], per_target_dirs=True)  # kubeflow here, airflow in a child
    assert emit.black_fallbacks == before + 2
    assert "refused for the test" in emit.last_fallback_reason


def test_a_caller_with_other_threads_is_not_forked(monkeypatch) -> None:
    """A fork copies only the calling thread: a library caller running threads gets the serial path."""
    import threading

    monkeypatch.setenv("DAGSHIFT_JOBS", "2")
    monkeypatch.setattr(parallel, "_single_threaded", _SINGLE_THREADED)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        pids = parallel.map_in_workers(lambda _: os.getpid(), [1, 2, 3], weight=float)
    finally:
        release.set()
        other.join()
    assert set(pids) == {os.getpid()}
