"""What the `dagshift` commands share: exit codes, the diagnostics --format option, the choice of
an import format."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
