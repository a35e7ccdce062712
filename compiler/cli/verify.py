"""`dagshift verify`: run two forms of one pipeline on their real engines and compare what each
run left (compiler/run/verify.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from compiler.diagnostics import RENDERERS, Severity

from .common import EXIT_OK, EXIT_PROBLEMS, LateChoice, write_atomically
from .run import _termination_as_interrupt, parse_param_pairs


def _runnable() -> list[str]:
    from compiler.run.runs import RUNNERS

    return sorted(RUNNERS)


def parse_engine_pythons(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """`TARGET=PATH` for one engine, a bare PATH for every engine."""
    found: dict[str, str] = {}
    for value in values:
        target, equals, path = value.partition("=")
        if equals and target in _runnable():
            found[target] = path
        elif equals and "/" not in target:
            raise click.BadParameter(f"{target!r} is no engine dagshift runs ({', '.join(_runnable())})",
                                     ctx=ctx, param=param)
        else:
            found[""] = value
    return found


@click.command("verify")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("converted", type=click.Path(exists=True, dir_okay=False))
@click.option("--source-target", type=LateChoice(_runnable), metavar="TARGET",
              help="The engine that runs SOURCE when it is a dagshift pipeline (airflow, prefect, dvc, ...). A "
                   "DAG file, a flow module or a dvc.yaml runs on its own engine.")
@click.option("--converted-target", type=LateChoice(_runnable), metavar="TARGET",
              help="The engine that runs CONVERTED when it is a dagshift pipeline.")
@click.option("--param", "param_pairs", multiple=True, metavar="NAME=VALUE", callback=parse_param_pairs,
              help="A value for a param, given to both runs (read as the type each side's pipeline declares). "
                   "Repeatable. A dvc.yaml's params come from its params.yaml instead.")
@click.option("--workdir", type=click.Path(exists=True, file_okay=False), default=".", show_default=True,
              help="The working directory the pipeline runs in (its data and modules); each run gets its own copy.")
@click.option("--engine-python", "engine_pythons", multiple=True, metavar="[TARGET=]PATH",
              callback=parse_engine_pythons,
              help="The interpreter that has an engine installed, as airflow=~/venvs/airflow/bin/python; a bare "
                   "PATH serves every engine. Repeatable. Default: the one running dagshift.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "html"]), default="text",
              show_default=True, help="text: the runs as they go, then the differences; json: one document "
                                      "(schema dagshift.verify/1); html: one self-contained page.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the report (json or html) to this file instead of standard output.")
@click.option("--keep", is_flag=True, help="Keep the copies of the working directory and the logs even when the "
                                           "runs agree (they are kept anyway when they do not).")
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
def verify_command(source: str, converted: str, source_target: str | None, converted_target: str | None,
                   param_pairs: list[tuple[str, str]], workdir: str, engine_pythons: dict[str, str],
                   output_format: str, output: str | None, keep: bool, quiet: bool) -> None:
    """Run SOURCE and CONVERTED, two forms of one pipeline, at the same time, each on its real
    engine in its own copy of the working directory, then compare the files each run left and the tasks' value outputs
    byte for byte. A migration is then proven, not assumed.

    Each is a target's own file, run as it stands (an Airflow DAG file, a Prefect flow module, a
    dvc.yaml), or a dagshift pipeline, compiled for --source-target / --converted-target. Both
    runs get the --param values; other params keep their defaults.

    \b
    Examples:
      dagshift convert dags/etl.py --to prefect -o flows/
      dagshift verify dags/etl.py flows/etl.py --workdir project/
      dagshift verify dvc.yaml build/dvc_pipeline.py --engine-python dvc=~/venvs/dvc/bin/python \\
          --engine-python airflow=~/venvs/airflow/bin/python
      dagshift verify pipeline.yaml pipeline.yaml --source-target airflow --converted-target dvc

    Exit code 0 when both runs succeeded and left the same files and values, 1 when they differ, a
    run failed or could not start (a diagnostic says why), 2 for a usage error.
    """
    from compiler.run.render import INTERRUPTED, event_line
    from compiler.run.verify import verify
    from compiler.run.verify_render import html_report, interrupted_json, json_report, text_report

    if output is not None and output_format == "text":
        raise click.UsageError("-o writes a json or html report: add --format json or --format html")
    text = output_format == "text"

    def on_event(role: str, event, finished: int, total: int) -> None:
        if text:
            click.echo(f"{role}: {event_line(event, finished, total)}")

    def on_note(role: str, note: str) -> None:
        if text:
            click.echo(f"{role}: {note}", err=True)

    def on_start(role: str, form) -> None:
        if text:
            click.echo(f"{role}: running {form.label} on {form.target}")

    try:
        with _termination_as_interrupt():
            verification = verify(Path(source), Path(converted),
                                  targets={"source": source_target, "converted": converted_target},
                                  workdir=Path(workdir), engine_pythons=engine_pythons, keep=keep,
                                  pairs=param_pairs,
                                  on_event=on_event, on_note=on_note, on_start=on_start)
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        if output_format == "json" and output is None:  # a tool reading the document gets one still
            click.echo(interrupted_json(INTERRUPTED), nl=False)
        sys.exit(EXIT_PROBLEMS)
    shown = [d for d in verification.diagnostics if not (quiet and d.severity is Severity.WARNING)]
    if text:
        click.echo(RENDERERS["text"](shown), nl=False, err=True)
        click.echo(text_report(verification), nl=False)
    else:
        report = (json_report if output_format == "json" else html_report)(verification, shown)
        if output is None:
            click.echo(report, nl=False)
        else:
            write_atomically(Path(output), report)
            click.echo(f"wrote {output}", err=True)
    sys.exit(EXIT_OK if verification.same else EXIT_PROBLEMS)
