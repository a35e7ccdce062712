"""The `dagshift` command. Thin: parse options, call the library, render, choose the exit code.

Exit codes: 0 clean, 1 problems found in the input, 2 usage error.
"""

from __future__ import annotations

import json
import os
import sys
from typing import NoReturn

import click

from compiler import __version__
from compiler.api import check_file
from compiler.diagnostics import RENDERERS, Diagnostics
from compiler.gc_pause import paused_gc
from compiler.language.graph import build_graph
from compiler.language.ir import json_schema
from compiler.language.values import format_duration
from compiler.tools.graph_render import FORMATS as GRAPH_FORMATS

from .common import EXIT_OK, EXIT_PROBLEMS, FORMAT_OPTION


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
    # A command allocates a lot and frees little until it ends: no cyclic collection meanwhile
    # (compiler/gc_pause.py); restored when the command is done, for callers that stay.
    pause = paused_gc()
    pause.__enter__()
    if not _process_is_the_command:
        click.get_current_context().call_on_close(lambda: pause.__exit__(None, None, None))


# True when this process runs one command and ends (the `dagshift` program): the collector then stays
# paused until exit, as re-enabling it would start a full collection of everything the command built
# (half a second at 10,000 tasks) just before the process frees it all at once.
_process_is_the_command = False


def run() -> NoReturn:
    """The `dagshift` program (pyproject's entry point and `python -m compiler`). It ends the process
    without tearing down, one by one, the objects the command built (a second at 30,000 tasks):
    only the standard streams need flushing."""
    global _process_is_the_command
    _process_is_the_command = True
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        click.echo(code, err=True)  # what Python does with a message given to sys.exit
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nobody is reading any more
            pass
    os._exit(code or 0)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@FORMAT_OPTION
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any warning).")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems, not the per-file summary.")
def validate(files: tuple[str, ...], output_format: str, strict: bool, quiet: bool) -> None:
    """Check pipeline FILES and report every problem with file:line:col and a fix. A FILE of `-`
    reads the pipeline from standard input (as do graph, plan, compile and compare).

    Exit code 0 when all files are clean, 1 when any has errors (or warnings with --strict).
    """
    everything = Diagnostics()
    summaries = []
    for path in files:
        loaded = check_file(path)
        diagnostics = loaded.diagnostics
        everything.extend(diagnostics.sorted())
        if loaded.pipeline is not None and not diagnostics.has_errors:
            summaries.append(f"ok: {loaded.source.name}: pipeline '{loaded.pipeline.name}' with {len(loaded.pipeline.tasks)} "
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
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
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


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-t", "--target", "target", metavar="TARGET",
              help="Plan for this backend: -O2 fusion follows its cost model (without it, nothing is fused).")
@click.option("-O", "level", type=click.IntRange(0, 2), default=1, show_default=True, help="Optimization level.")
@click.option("--select", "select", multiple=True, metavar="TASK", help="Keep only TASK and what it needs.")
def plan(file: str, target: str | None, level: int, select: tuple[str, ...]) -> None:
    """Show what the optimizer does to pipeline FILE: each pass's changes, tasks and edges before
    and after, the critical path (from `estimate:` durations) and the widest level, value outputs
    nobody reads, and both graphs (Mermaid)."""
    from compiler.compile import fold_defaults
    from compiler.passes.analysis import critical_path, unused_outputs, widest_level
    from compiler.passes.optimize import NO_TARGET, optimize
    from compiler.tools.graph_render import to_mermaid

    cost = NO_TARGET
    if target is not None:
        from compiler.backends import registry

        if target not in registry.names():
            raise click.BadParameter(f"unknown target {target!r}; choose from {', '.join(registry.names())}",
                                     param_hint="--target")
        cost = registry.get(target).cost
    loaded = check_file(file)
    if loaded.pipeline is None or loaded.diagnostics.has_errors:
        click.echo(RENDERERS["text"](loaded.diagnostics.sorted()), nl=False, err=True)
        sys.exit(EXIT_PROBLEMS)
    before = fold_defaults(loaded.pipeline)
    unknown = [name for name in select if name not in before.tasks]
    if unknown:
        click.echo(f"error: --select names unknown task(s): {', '.join(unknown)}", err=True)
        sys.exit(EXIT_PROBLEMS)
    result = optimize(before, level, select, cost)
    after = result.pipeline
    graphs = [build_graph(before), build_graph(after)]
    flags = f"-O{level}{f' -t {target}' if target else ''}{''.join(' --select ' + s for s in select)}"
    click.echo(f"# plan for {before.name} ({flags})\n")
    click.echo(f"- tasks: {len(before.tasks)} -> {len(after.tasks)}")
    click.echo(f"- edges: {graphs[0].number_of_edges()} -> {graphs[1].number_of_edges()}")
    path, seconds = critical_path(after)
    estimated = f"estimated {format_duration(round(seconds))}, " if seconds else "no estimates, "
    click.echo(f"- critical path: {' -> '.join(path)} ({estimated}{len(path)} task{'s' * (len(path) != 1)})")
    widest = widest_level(after)
    click.echo(f"- widest level: {len(widest)} task{'s' * (len(widest) != 1)} can run at once "
               f"({', '.join(widest)})")
    click.echo(f"- per-task cost: {f'{cost.overhead:g} s, ' if cost.overhead else ''}{cost.why}")
    click.echo("\n## changes\n")
    for action in result.actions:
        click.echo(f"- [{action.pass_name}] {'warning: ' if action.warning else ''}{action.message}")
    if not result.actions:
        click.echo("- none")
    unused = unused_outputs(after)
    click.echo("\n## value outputs nobody reads\n")
    click.echo("\n".join(f"- {task_id}" for task_id in unused) or "- none")
    for title, pipeline, graph_ in (("before", before, graphs[0]), ("after", after, graphs[1])):
        click.echo(f"\n## graph {title}\n\n```mermaid\n{to_mermaid(pipeline, graph_)}```")


@main.command()
@click.option("--format", "table_format", type=click.Choice(["text", "markdown"]), default="text",
              show_default=True, help="markdown gives a table for docs and pull requests.")
@click.option("--details", is_flag=True, help="Show how each backend realizes each feature (or the workaround), "
                                              "then each backend's limits: what it refuses or leaves out although "
                                              "it has the feature.")
def targets(table_format: str, details: bool) -> None:
    """Print the capability matrix of every backend: N native, E emulated, ✗ not expressible.

    Generated from the backends' own declarations, the same ones the compiler checks against.
    """
    from compiler.tools.capability_table import render_table

    click.echo(render_table(table_format, details=details), nl=False)


def _register_commands() -> None:
    """Commands kept in their own modules (one job each)."""
    from .compare import compare_command
    from .compile import compile_command
    from .diff import diff_command
    from .imports import convert_command, import_command
    from .run import run_command
    from .verify import verify_command

    main.add_command(compile_command)
    main.add_command(import_command)
    main.add_command(convert_command)
    main.add_command(diff_command)
    main.add_command(compare_command)
    main.add_command(run_command)
    main.add_command(verify_command)


_register_commands()
