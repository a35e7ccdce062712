"""`dagshift run`: compile a pipeline for one target and run it on that real engine here
(compiler/run/), printing each task's state changes as they happen and a table at the end."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import click

from compiler.diagnostics import RENDERERS, Severity

from .common import EXIT_OK, EXIT_PROBLEMS, LateChoice


def _targets() -> list[str]:
    from compiler.backends import registry

    return registry.names()


def parse_param_pairs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[tuple[str, str]]:
    from compiler.run.params import split_pair

    pairs = []
    for value in values:
        pair = split_pair(value)
        if pair is None:
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", ctx=ctx, param=param)
        pairs.append(pair)
    return pairs


@click.command("run")
@click.argument("pipeline", type=click.Path(exists=True, dir_okay=False))
@click.option("-t", "--target", required=True, type=LateChoice(_targets),
              help="The engine to run on: airflow (dag.test()), prefect (a local API), dvc (dvc repro) or kubeflow "
                   "(kfp.local, python tasks only); argo needs a cluster.")
@click.option("--param", "param_pairs", multiple=True, metavar="NAME=VALUE", callback=parse_param_pairs,
              help="A value for a param of the pipeline, read as its declared type (a list or dict as JSON). "
                   "Repeatable.")
@click.option("--workdir", type=click.Path(exists=True, file_okay=False), default=".", show_default=True,
              help="Where the tasks run (the paths in the pipeline are relative to it). DVC writes dvc.yaml and "
                   "params.yaml there and makes it a git + DVC repository when it is none.")
@click.option("--engine-python", metavar="PATH",
              help="The Python interpreter that has the engine installed (its virtualenv's bin/python); default: "
                   "the one running dagshift.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a line per task state change, then a table; json: one document at the end, for tools.")
@click.option("--logs", "logs_dir", type=click.Path(file_okay=False),
              help="Folder for the engine's output and logs (default: WORKDIR/.dagshift/runs/TARGET-TIME).")
@click.option("-q", "--quiet", is_flag=True, help="Do not print the compile's warnings.")
def run_command(pipeline: str, target: str, param_pairs: list[tuple[str, str]], workdir: str,
                engine_python: str | None, output_format: str, logs_dir: str | None, quiet: bool) -> None:
    """Compile PIPELINE for TARGET and run it on that engine on this machine, the way its users test
    locally: Airflow's dag.test() with a throwaway home and SQLite database, a Prefect flow against a
    temporary local API, `dvc repro` in the working directory, or a Kubeflow pipeline on kfp.local
    (its SubprocessRunner: python tasks only; the artifacts copied to their paths afterwards).

    \b
    Examples:
      dagshift run pipeline.yaml -t airflow
      dagshift run pipeline.yaml -t dvc --param epochs=5 --workdir project/
      dagshift run python_tasks.yaml -t kubeflow --engine-python ~/venvs/kfp/bin/python
      dagshift run pipeline.yaml -t airflow --engine-python ~/venvs/airflow/bin/python --format json

    Exit code 0 when every task succeeded (or was skipped), 1 when a task failed or the run could
    not start (a diagnostic says why), 2 for a usage error.
    """
    from compiler.run.render import INTERRUPTED, event_line, json_report, text_report
    from compiler.run.runs import run_pipeline

    text = output_format == "text"

    def on_event(event, finished: int, total: int) -> None:
        if text:
            click.echo(event_line(event, finished, total))

    def on_note(note: str) -> None:
        if text:
            click.echo(note, err=True)

    shown_at_start: list = []

    def on_start(warnings: list) -> None:
        """The compile's warnings before the run's lines, not after them."""
        if text:
            shown_at_start.extend(warnings)
            click.echo(RENDERERS["text"](_shown(warnings, quiet)), nl=False, err=True)

    try:
        with _termination_as_interrupt():
            _, result, diagnostics = run_pipeline(
                pipeline, target, param_pairs, workdir=Path(workdir), logs=Path(logs_dir) if logs_dir else None,
                engine_python=engine_python, on_event=on_event, on_note=on_note, on_start=on_start)
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        if not text:  # a tool reading the document gets one still
            click.echo(json_report(None, [], error=INTERRUPTED), nl=False)
        sys.exit(EXIT_PROBLEMS)
    shown = _shown(diagnostics, quiet)
    if text:
        click.echo(RENDERERS["text"]([d for d in shown if d not in shown_at_start]), nl=False, err=True)
        if result is not None:
            click.echo(text_report(result), nl=False)
    else:
        click.echo(json_report(result, shown), nl=False)
    sys.exit(EXIT_OK if result is not None and result.succeeded else EXIT_PROBLEMS)


def _shown(diagnostics: list, quiet: bool) -> list:
    return [d for d in diagnostics if not (quiet and d.severity is Severity.WARNING)]


@contextmanager
def _termination_as_interrupt():
    """SIGTERM and SIGHUP (a closed terminal) stop a run as Ctrl-C does, so the engine's process
    group is stopped too instead of left running (Python would end at once, cleaning up nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    saved = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
