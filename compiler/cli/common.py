"""What the `dagshift` commands share: exit codes, the diagnostics --format option, the choice of
an import format, writing a report."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from compiler.diagnostics import RENDERERS

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="How to print diagnostics: text for people, json for tools, github for GitHub Actions annotations.",
)

STRICT_OPTION = click.option(
    "--strict",
    is_flag=True,
    help="Fail (exit 1, write nothing) when a target cannot express an operational setting (schedule, retries, "
    "timeouts, alerts, pools, resources, caching...), instead of leaving it out with a warning.",
)

# The spelling before --strict: error meant --strict, warn what is now the default.
UNSUPPORTED_OPTION = click.option(
    "--unsupported",
    type=click.Choice(["error", "warn"]),
    default=None,
    help="Old spelling, kept working: error is --strict, warn is the default.",
)


def strict_from_flags(strict: bool, unsupported: str | None) -> bool:
    if strict and unsupported == "warn":
        raise click.UsageError("--strict and --unsupported warn contradict each other: give one")
    return strict or unsupported == "error"


class LateChoice(click.Choice):
    """A click.Choice whose choices are read when an option is parsed or shown: the import formats
    include plug-ins, which commands that never ask should not look for (and which a test may
    install after the commands are built)."""

    def __init__(self, choices: Callable[[], Sequence[str]]) -> None:
        self._read = choices
        self.case_sensitive = True

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return tuple(self._read())


def write_atomically(path: Path, text: str) -> None:
    """A temporary file beside `path`, renamed over it: readers see the old report or the new one."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise click.FileError(str(path), hint=exc.strerror or str(exc)) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; a report is an ordinary file
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise click.FileError(str(path), hint=exc.strerror or str(exc)) from None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
