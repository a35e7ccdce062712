"""`dagshift diff A B`: a semantic diff of two pipelines, each in any format dagshift reads."""

from __future__ import annotations

import sys

import click

from compiler.diagnostics import RENDERERS as DIAGNOSTIC_RENDERERS
from compiler.diagnostics import Diagnostics
from compiler.importers import formats
from compiler.tools.diff_render import RENDERERS
from compiler.tools.semantic_diff import DAGSHIFT, diff_sides, load_side

from .common import LateChoice

EXIT_SAME, EXIT_DIFFERENT, EXIT_USAGE = 0, 1, 2
_SOURCE_FORMATS = LateChoice(lambda: sorted((DAGSHIFT, *formats())))


@click.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--format", "output_format", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True,
              help="text reads like a changelog, json is for tools, markdown is for a pull-request comment.")
@click.option("--from-a", "from_a", type=_SOURCE_FORMATS, default=None,
              help="The format of A, when detection guesses wrong (dagshift = a pipeline file).")
@click.option("--from-b", "from_b", type=_SOURCE_FORMATS, default=None, help="The format of B, likewise.")
@click.option("--diagnostics-format", type=click.Choice(sorted(DIAGNOSTIC_RENDERERS)), default="text",
              show_default=True, help="How to print problems reading A or B (on stderr).")
@click.option("-q", "--quiet", is_flag=True, help="Do not print the importers' warnings (what a file said that "
                                                    "the pipeline could not hold).")
def diff_command(a: str, b: str, output_format: str, from_a: str | None, from_b: str | None,
                 diagnostics_format: str, quiet: bool) -> None:
    """Show what differs between pipelines A and B: tasks added, removed or renamed, dependency
    edges, and every changed setting of a task or of the pipeline.

    A and B are dagshift pipeline files (.yaml/.json) or any file dagshift imports: an Airflow DAG
    or Prefect flow (.py), an Argo Workflow, a dvc.yaml, a Kubeflow PipelineSpec. Spelling does
    not count (defaults, `5m` vs `300s`, an `after` edge vs a data edge, an artifact's name vs its
    path in a backend's file): diffing a pipeline with its own compiled output shows exactly what
    that backend cannot hold. Pick one pipeline of a file that holds several as FILE::NAME.

    \b
    Examples:
      dagshift diff pipeline.yaml pipeline-v2.yaml
      dagshift diff examples/minimal.yaml build/airflow/minimal.py
      dagshift diff pipeline.yaml build/dvc/dvc.yaml --format markdown > comment.md
      dagshift diff dags/etl.py::nightly workflow.yaml --format json

    Exit code 0 when the pipelines are the same, 1 when they differ, 2 when A or B cannot be read.
    """
    sides = [load_side(a, from_a), load_side(b, from_b)]
    problems = Diagnostics()
    for side in sides:
        problems.extend(side.diagnostics.errors if quiet else side.diagnostics.items)
    if problems.items:
        click.echo(DIAGNOSTIC_RENDERERS[diagnostics_format](problems.items), nl=False, err=True)
    if any(side.pipeline is None for side in sides):
        sys.exit(EXIT_USAGE)
    result = diff_sides(*sides)
    click.echo(RENDERERS[output_format](result), nl=False)
    sys.exit(EXIT_SAME if result.same else EXIT_DIFFERENT)
