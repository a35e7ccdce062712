"""`dagshift compare`: one pipeline, every target, how each realizes each feature."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.core import ParameterSource

from compiler.diagnostics import RENDERERS

from .common import EXIT_OK, EXIT_PROBLEMS, write_atomically

FORMATS = ("text", "json", "markdown", "html")


@click.command("compare")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--format", "report_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: a table for the terminal; json: for tools (schema dagshift.compare/2); markdown: for "
                   "a pull request; html: one self-contained page (graph, table, every target's files).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to this file (atomically) instead of standard output.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True), metavar="REPORT.html",
              help="Shorthand for --format html -o REPORT.html.")
@click.option("--diagnostics-format", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True,
              help="How to print problems if the pipeline itself is invalid.")
def compare_command(file: str, report_format: str, output: str | None, html_path: str | None,
                    diagnostics_format: str) -> None:
    """Compile pipeline FILE to every target and show, per task and feature, how each one
    realizes it: N native, E emulated (and how), ✗ not expressible (and the workaround).

    Every target is compiled as by `dagshift compile` (not --strict): operational settings a
    target cannot express are left out with a warning; features that change what runs are
    errors for that target, listed in the report. Nothing but the report is written; a
    target that cannot compile is part of the report, not a failure of the command.

    Exit code 0 when the report was produced, 1 when FILE is not a valid pipeline (its
    diagnostics are printed and no report is written), 2 on a usage error.

    \b
    Examples:
      dagshift compare pipeline.yaml                    table, notes and per-target status
      dagshift compare pipeline.yaml --format markdown  the same for a pull request
      dagshift compare pipeline.yaml --format json -o compare.json
      dagshift compare pipeline.yaml --html report.html
    """
    from compiler.api import check_file
    from compiler.tools.compare import compare_loaded, to_json, to_markdown, to_text

    ctx = click.get_current_context()
    if html_path is not None:
        if output is not None:
            raise click.UsageError("--html REPORT.html already names the output file; drop -o/--output")
        if ctx.get_parameter_source("report_format") is not ParameterSource.DEFAULT and report_format != "html":
            raise click.UsageError(f"--html writes an HTML report; it cannot be combined with --format {report_format}")
        report_format, output = "html", html_path

    loaded = check_file(file)
    if loaded.pipeline is None or loaded.diagnostics.has_errors:
        click.echo(RENDERERS[diagnostics_format](loaded.diagnostics.sorted()), nl=False, err=True)
        click.echo("no report written: the pipeline has errors", err=True)
        sys.exit(EXIT_PROBLEMS)
    comparison = compare_loaded(loaded)
    if report_format == "html":
        from compiler.tools.report_html import render_html

        text = render_html(comparison, loaded.pipeline)
    else:
        text = {"text": to_text, "json": to_json, "markdown": to_markdown}[report_format](comparison)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(Path(output), text)
        click.echo(f"wrote {output}", err=True)
    sys.exit(EXIT_OK)
