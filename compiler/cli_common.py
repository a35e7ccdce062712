"""What the `dagshift` commands share: exit codes and the diagnostics --format option."""

from __future__ import annotations

import click

from .diagnostics import RENDERERS

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="How to print diagnostics: text for people, json for tools, github for GitHub Actions annotations.",
)
