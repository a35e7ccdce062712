"""Where the external corpus is (tests/external_corpus.py), and what conftest.py does with the corpus
tests when it is missing: one summary line and no -ra line per file on a user's machine, a failure
on CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import external_corpus
import pytest

TESTS = Path(__file__).resolve().parent

CORPUS_TESTS = """
import pytest


@pytest.mark.corpus
@pytest.mark.parametrize("n", [1, 2])
def test_needs_the_corpus(n):
    pass


def test_needs_nothing():
    pass
"""


def test_corpus_variable_names_the_directory_holding_argo_and_dvc() -> None:
    location = external_corpus.locate({"DAGSHIFT_CORPUS": "/data/corpus", "DAGSHIFT_SHARED": "/old"})
    assert (location.directory, location.explicit) == (Path("/data/corpus"), True)


def test_the_older_variable_names_the_directory_holding_corpus() -> None:
    location = external_corpus.locate({"DAGSHIFT_SHARED": "/data/shared"})
    assert (location.directory, location.explicit) == (Path("/data/shared/corpus"), True)


def test_without_a_variable_the_corpus_is_next_to_the_checkout() -> None:
    location = external_corpus.locate({"DAGSHIFT_CORPUS": ""})
    assert location.directory == TESTS.parent.parent / "shared" / "corpus"
    assert not location.explicit


def _clone_without_corpus(tmp_path: Path) -> Path:
    """A checkout's test setup (conftest.py and what it imports) with no ../shared next to it."""
    tests = tmp_path / "clone" / "tests"
    tests.mkdir(parents=True)
    for name in ("conftest.py", "external_corpus.py", "golden.py"):
        shutil.copy(TESTS / name, tests / name)
    (tests / "test_sample.py").write_text(CORPUS_TESTS, encoding="utf-8")
    return tests.parent


def _pytest(clone: Path, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-ra", "tests"]
    return subprocess.run(
        command,
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", **env},
    )


@pytest.mark.slow
def test_without_the_corpus_its_tests_are_skipped_with_one_summary_line(tmp_path: Path) -> None:
    process = _pytest(_clone_without_corpus(tmp_path))
    assert process.returncode == 0, process.stdout + process.stderr
    summary = [line for line in process.stdout.splitlines() if line.startswith("corpus tests:")]
    missing = tmp_path / "shared" / "corpus"
    expected = (
        f"corpus tests: 2 skipped (no {missing}, ../shared/corpus next to the checkout); {external_corpus.HOW_TO_RUN}"
    )
    assert summary == [expected]
    assert "SKIPPED [" not in process.stdout  # -ra lists no corpus skip
    assert "1 passed, 2 corpus skipped" in process.stdout


@pytest.mark.slow
@pytest.mark.parametrize("env", [{"CI": "true"}, {"DAGSHIFT_CORPUS": "/nonexistent/corpus"}], ids=["ci", "variable"])
def test_without_the_corpus_its_tests_fail_on_ci_or_when_a_variable_names_it(tmp_path: Path, env: dict) -> None:
    process = _pytest(_clone_without_corpus(tmp_path), **env)
    assert process.returncode == pytest.ExitCode.TESTS_FAILED, process.stdout + process.stderr
    assert "1 passed, 2 errors" in process.stdout
    assert "the external corpus is missing" in process.stdout
    assert any(line.startswith("corpus tests: 2 failed") for line in process.stdout.splitlines())
