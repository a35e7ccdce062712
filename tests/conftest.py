"""Shared test setup: repository paths, the golden-file mechanism, and running the real CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import golden as golden_files

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "golden"


_UPDATE = pytest.StashKey[bool]()


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


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.stash.get(_UPDATE, False):
        return "golden files: UPDATING (writing actual output; review `git diff golden/`)"
    return None


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
    """`dagshift ARGS` through click (the real entry point, compiler.cli:main), in `cwd`."""
    from compiler.cli import main

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
