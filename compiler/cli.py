"""The `dagshift` command. Thin: parse options, call the library, render, choose the exit code.

Exit codes: 0 clean, 1 problems found in the input, 2 usage error.
"""

from __future__ import annotations

import json
import sys

import click

from . import __version__
from .api import check_file
from .diagnostics import RENDERERS, Diagnostics
from .graph import build_graph
from .graph_render import FORMATS as GRAPH_FORMATS
from .ir import json_schema

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

_FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="How to print diagnostics: text for people, json for tools, github for GitHub Actions annotations.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="dagshift")
def main() -> None:
    """Compile one neutral pipeline description to Airflow, Prefect, Argo, DVC and Kubeflow.

    \b
    Start here:
      dagshift validate pipeline.yaml     check a pipeline, report every problem at once
      dagshift graph pipeline.yaml        draw its dependency graph (Mermaid)
      dagshift schema > pipeline.schema.json   JSON Schema for editor completion
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@_FORMAT_OPTION
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any warning).")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems, not the per-file summary.")
def validate(files: tuple[str, ...], output_format: str, strict: bool, quiet: bool) -> None:
    """Check pipeline FILES and report every problem with file:line:col and a fix.

    Exit code 0 when all files are clean, 1 when any has errors (or warnings with --strict).
    """
    everything = Diagnostics()
    summaries = []
    for path in files:
        loaded = check_file(path)
        diagnostics = loaded.diagnostics
        everything.extend(diagnostics.sorted())
        if loaded.pipeline is not None and not diagnostics.has_errors:
            summaries.append(f"ok: {path}: pipeline '{loaded.pipeline.name}' with {len(loaded.pipeline.tasks)} "
                             f"tasks{_warning_suffix(diagnostics)}")
    click.echo(RENDERERS[output_format](everything.items), nl=False)
    if output_format == "text" and not quiet:
        if everything.items and summaries:
            click.echo()
        for line in summaries:
            click.echo(line)
        if everything.has_errors:
            click.echo(f"found {len(everything.errors)} error(s) and {len(everything.warnings)} warning(s)")
    failed = everything.has_errors or (strict and everything.warnings)
    sys.exit(EXIT_PROBLEMS if failed else EXIT_OK)


def _warning_suffix(diagnostics: Diagnostics) -> str:
    count = len(diagnostics.warnings)
    return f" ({count} warning{'s' if count != 1 else ''})" if count else ""


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "graph_format",
    type=click.Choice(sorted(GRAPH_FORMATS)),
    default="mermaid",
    show_default=True,
    help="mermaid renders on GitHub and in many editors; dot is for Graphviz; json is for tools.",
)
@click.option("--diagnostics-format", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True,
              help="How to print problems if the pipeline is invalid.")
def graph(file: str, graph_format: str, diagnostics_format: str) -> None:
    """Print the dependency graph of a pipeline FILE.

    Edges come from `after`, from artifacts (producer -> consumer) and from ${{ tasks.X.outputs.Y }}
    references; edge labels name the artifact or the value passed. An invalid pipeline prints its
    diagnostics instead and exits 1.
    """
    loaded = check_file(file)
    if loaded.pipeline is None or loaded.diagnostics.has_errors:
        click.echo(RENDERERS[diagnostics_format](loaded.diagnostics.sorted()), nl=False, err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(GRAPH_FORMATS[graph_format](loaded.pipeline, build_graph(loaded.pipeline)), nl=False)


@main.command()
def schema() -> None:
    """Print the JSON Schema of pipeline files (point your editor's YAML extension at it)."""
    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False))
