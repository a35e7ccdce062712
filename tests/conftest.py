"""Shared test setup: repository paths, the golden-file mechanism, the external corpus's tests, and
running the real CLI."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import external_corpus
import pytest
from click.testing import CliRunner

import golden as golden_files

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "golden"


_UPDATE = pytest.StashKey[bool]()
_CORPUS_OUTCOMES = pytest.StashKey[Counter]()  # "skipped" / "failed": corpus tests run without the corpus


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        golden_files.UPDATE_OPTION,
        action="store_true",
        default=False,
        help=f"write actual output to the golden files instead of comparing (also: {golden_files.UPDATE_ENV}=1); "
        "refused when CI is set",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Decided once, up front: asking for an update in CI stops the run before any test (a UsageError).
    config.stash[_UPDATE] = golden_files.update_requested(config.getoption(golden_files.UPDATE_OPTION))
    config.stash[_CORPUS_OUTCOMES] = Counter()
    config.addinivalue_line(
        "markers",
        "corpus: needs the external corpus (../shared/corpus or DAGSHIFT_CORPUS=DIR; "
        "tests/external_corpus.py): skipped without it, except on CI",
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    location = external_corpus.locate()
    missing = "" if location.present() else ", missing"
    lines = [f"external corpus: {location.directory} ({location.origin}{missing})"]
    if config.stash.get(_UPDATE, False):
        lines.append("golden files: UPDATING (writing actual output; review `git diff golden/`)")
    return lines


@pytest.fixture(scope="session")
def update_golden(pytestconfig: pytest.Config) -> bool:
    """True when this run writes golden files instead of comparing them."""
    return pytestconfig.stash[_UPDATE]


class Golden:
    """The golden helpers bound to this run's update flag."""

    def __init__(self, update: bool):
        self.update = update
        self.root = GOLDEN

    def compare_file(self, expected_path: Path, actual: bytes | str) -> None:
        golden_files.compare_file(expected_path, actual, self.update)

    def compare_tree(self, expected_dir: Path, actual_files, *, ignore=()) -> None:
        golden_files.compare_tree(expected_dir, actual_files, self.update, ignore=ignore)

    def check_set(self, directory: Path, expected, *, ignore=()) -> None:
        golden_files.check_golden_set(directory, expected, self.update, ignore=ignore)


@pytest.fixture(scope="session")
def golden(update_golden: bool) -> Golden:
    return Golden(update_golden)


# ----------------------------------------------------------------------------- the external corpus

CORPUS_SKIPPED = "corpus skipped"  # the result category of a corpus test skipped for want of the corpus


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A corpus test without the corpus is skipped on a user's machine, and fails on CI (which always
    has it) or when an environment variable names a directory that is not there. Decided before any
    fixture is set up: an engine's can take minutes."""
    if item.get_closest_marker("corpus") is None:
        return
    location = external_corpus.locate()
    if location.present():
        return
    outcomes = item.config.stash[_CORPUS_OUTCOMES]
    if golden_files.running_in_ci() or location.explicit:
        outcomes["failed"] += 1
        pytest.fail(
            f"the external corpus is missing: no {location.directory} ({location.origin}); "
            f"{_why_corpus_tests_must_run(location)}",
            pytrace=False,
        )
    outcomes["skipped"] += 1
    pytest.skip(external_corpus.SKIP_REASON)


def _why_corpus_tests_must_run(location: external_corpus.Location) -> str:
    if golden_files.running_in_ci():
        return f"CI={os.environ.get('CI')}, and CI must run the corpus tests: {external_corpus.HOW_TO_SUPPLY}"
    return f"{location.origin} asks for them"


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, tuple[str, dict]] | None:
    """Corpus skips get a result category of their own. `-ra` (pyproject's addopts) lists only the
    "skipped" category, one line per file and reason, so they stay out of it; the final line counts
    them ("57 corpus skipped") and pytest_terminal_summary says in one line how to run them."""
    if report.when == "setup" and report.skipped and _is_corpus_skip(report):
        return CORPUS_SKIPPED, "s", ("SKIPPED", {"yellow": True})
    return None


def _is_corpus_skip(report: pytest.TestReport) -> bool:
    return isinstance(report.longrepr, tuple) and str(report.longrepr[2]).endswith(external_corpus.SKIP_REASON)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    outcomes = config.stash.get(_CORPUS_OUTCOMES, Counter())
    location = external_corpus.locate()
    if outcomes["failed"]:
        terminalreporter.write_line(
            f"corpus tests: {outcomes['failed']} failed (no {location.directory}, "
            f"{location.origin}); {_why_corpus_tests_must_run(location)}",
            red=True,
        )
    if outcomes["skipped"]:
        terminalreporter.write_line(
            f"corpus tests: {outcomes['skipped']} skipped (no {location.directory}, "
            f"{location.origin}); {external_corpus.HOW_TO_RUN}",
            yellow=True,
        )


# ----------------------------------------------------------------------------- running the CLI


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def traceback_text(self) -> str:
        """Everything a user could see, for checking that no traceback leaked."""
        return self.stdout + self.stderr + (repr(self.exception) if self.exception else "")


def _runner() -> CliRunner:
    try:  # click 8.1 mixes stderr into stdout unless told not to; 8.2+ always separates them
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def run_cli(*args: str, cwd: Path | None = None) -> CliResult:
    """`dagshift ARGS` through click (the real entry point, compiler.cli.main:main), in `cwd`."""
    from compiler.cli.main import main

    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = _runner().invoke(main, list(args), catch_exceptions=True)
    finally:
        os.chdir(previous)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return CliResult(result.exit_code, result.stdout, result.stderr or "", exception)


@pytest.fixture
def cli():
    """Run the CLI in-process: `cli("validate", "examples/minimal.yaml")` (from the repo root)."""

    def run(*args: str, cwd: Path | None = ROOT) -> CliResult:
        return run_cli(*args, cwd=cwd)

    return run
