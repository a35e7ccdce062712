"""`dagshift import` and `dagshift convert`: pipelines other tools run, read into dagshift's
syntax (and compiled to another target). Registered on the main group by cli.py."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import click

from compiler.diagnostics import RENDERERS, Diagnostics, Severity
from compiler.importers import Grade, Imported, formats, import_file, pipeline_yaml

from .common import EXIT_PROBLEMS, FORMAT_OPTION, UNSUPPORTED_OPTION, LateChoice, strict_from_flags

_SOURCE_SUFFIXES = {".py", ".yaml", ".yml", ".json"}
_TOOL_DIRECTORIES = {"node_modules", "__pycache__", "site-packages"}
MAX_SOURCES = 10_000  # files under the directories given, before any is read
_FROM_OPTION = click.option("--from", "source_format", type=LateChoice(formats), default=None,
                            help="The source format; detected from the file when left out.")
_STRICT_OPTION = click.option("--strict", is_flag=True,
                              help="Fail (exit 1, write nothing) on any loss, not only on files that cannot "
                                   "be imported (convert: also on a setting the target leaves out).")
_EXECUTE_OPTION = click.option(
    "--execute", is_flag=True,
    help="Airflow only: load each DAG file in a real Airflow 3 and read the DAGs it builds (for tasks made in "
         "loops or helper functions, which static analysis cannot follow). This RUNS the DAG file's code, as "
         "Airflow's DAG processor would: use it only on files you trust.")
_AIRFLOW_PYTHON_OPTION = click.option(
    "--airflow-python", "airflow_python", metavar="PATH", default=None,
    help="With --execute: the Python interpreter that has Airflow 3 installed (default: $DAGSHIFT_AIRFLOW_PYTHON, "
         "else python3 on PATH).")


def _sources(paths: tuple[str, ...]) -> list[Path]:
    """The files to read: the paths given, and under each directory every .py / .yaml / .yml /
    .json file, sorted. Hidden directories and those of tools (node_modules, __pycache__,
    virtual environments) are not entered; more than MAX_SOURCES files is a usage error."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            found.append(path)
            continue
        under: list[Path] = []
        for directory, subdirectories, files in os.walk(path):
            subdirectories[:] = [d for d in subdirectories if not _skipped(Path(directory) / d)]
            under += [Path(directory) / f for f in files if Path(f).suffix in _SOURCE_SUFFIXES]
            if len(found) + len(under) > MAX_SOURCES:
                raise click.UsageError(f"{path} holds more than {MAX_SOURCES:,} .py/.yaml/.json files: name the "
                                       "directories or files that hold the pipelines")
        found += sorted(under)
    return found


def _skipped(directory: Path) -> bool:
    return (directory.name.startswith(".") or directory.name in _TOOL_DIRECTORIES
            or (directory / "pyvenv.cfg").is_file())


def _import(source: Path, source_format: str | None, execute: bool, python: str | None) -> list[Imported]:
    """One file's pipelines: read statically, or with --execute loaded by Airflow (Airflow files)."""
    if execute:
        from compiler.importers.airflow.execute import airflow_python, import_executed, is_airflow_file

        if is_airflow_file(source, source_format):
            return import_executed(source, airflow_python(python))
    return import_file(source, source_format)


def _check_execute(source_format: str | None, execute: bool, python: str | None) -> None:
    if execute and source_format not in (None, "airflow"):
        raise click.UsageError("--execute reads Airflow DAG files only (--from airflow)")
    if python and not execute:
        raise click.UsageError("--airflow-python is used with --execute")


def _diagnostics(results: list[Imported]) -> Diagnostics:
    everything = Diagnostics()
    for result in results:
        everything.extend(result.diagnostics.sorted())
    return everything


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_FROM_OPTION
@click.option("-o", "--output", "output", type=click.Path(), default=None,
              help="Where to write: a .yaml file for one pipeline, else a directory (one NAME.yaml per pipeline).")
@click.option("--assess", is_flag=True,
              help="Write nothing: grade every file automatic (no loss), review (losses reported) or manual "
                   "(cannot be imported), and print the counts, to size a migration. PATHS may be directories.")
@_STRICT_OPTION
@_EXECUTE_OPTION
@_AIRFLOW_PYTHON_OPTION
@FORMAT_OPTION
@click.option("-q", "--quiet", is_flag=True, help="Print only problems, not the files written.")
def import_command(paths: tuple[str, ...], source_format: str | None, output: str | None, assess: bool,
                   strict: bool, execute: bool, airflow_python: str | None, output_format: str, quiet: bool) -> None:
    """Read pipelines written for Airflow, Argo, DVC, Prefect or Kubeflow into dagshift's syntax.

    Every construct that cannot be carried over is reported as a loss (W601/W602) at its file
    and line; a file that cannot be imported at all is an error (E6xx). Nothing is written
    unless every file imports (and, with --strict, imports without loss).

    \b
    Examples:
      dagshift import dags/etl.py -o etl.yaml
      dagshift import workflow.yaml --from argo -o pipelines/
      dagshift import --assess dags/
      dagshift import --execute --airflow-python ~/airflow-venv/bin/python dags/dynamic.py -o out/
    """
    _check_execute(source_format, execute, airflow_python)
    sources = _sources(paths)
    results = [result for source in sources for result in _import(source, source_format, execute, airflow_python)]
    if assess:
        _print_assessment(results, output_format)
        return
    if output is None:
        raise click.UsageError("give -o/--output (a .yaml file or a directory), or --assess")
    everything = _diagnostics(results)
    failed = everything.has_errors or (strict and everything.warnings)
    if failed:
        click.echo(RENDERERS[output_format](everything.items), nl=False)
        if output_format == "text":
            reason = f"{len(everything.errors)} error(s)" if everything.has_errors else \
                f"{len(everything.warnings)} loss(es) with --strict"
            click.echo(f"nothing written: {reason}")
        sys.exit(EXIT_PROBLEMS)
    files = _output_files(results, Path(output))
    from .compile import write_and_report

    target = Path(output)
    outdir = target.parent if target.suffix in (".yaml", ".yml") else target
    write_and_report({outdir: files}, [], everything, quiet=quiet or output_format != "text",
                     output_format=output_format)


def _output_files(results: list[Imported], output: Path) -> dict[str, str]:
    """Relative path -> text: the one file named by -o, or NAME.yaml per pipeline."""
    if output.suffix in (".yaml", ".yml"):
        if len(results) != 1:
            raise click.UsageError(f"{len(results)} pipelines were imported; give a directory as -o")
        return {output.name: pipeline_yaml(results[0])}
    files: dict[str, str] = {}
    for result in results:
        relative = f"{result.name}.yaml"
        if relative in files:
            raise click.UsageError(f"two imported pipelines are named '{result.name}'; import them one at a time "
                                   "with -o FILE.yaml")
        files[relative] = pipeline_yaml(result)
    return files


def _print_assessment(results: list[Imported], output_format: str) -> None:
    counts = Counter(result.grade for result in results)
    if output_format == "json":
        click.echo(json.dumps({
            "counts": {grade.value: counts.get(grade, 0) for grade in Grade},
            "pipelines": [{"file": r.file, "origin": r.origin or None, "name": r.name if r.data else None,
                           "grade": r.grade.value, "diagnostics": [d.to_dict() for d in r.diagnostics.sorted()]}
                          for r in results],
        }, indent=2, ensure_ascii=False))
        return
    width = max((len(r.file + (f" ({r.origin})" if r.origin else "")) for r in results), default=4)
    for result in results:
        where = result.file + (f" ({result.origin})" if result.origin else "")
        reasons = sorted(result.diagnostics.sorted(), key=lambda d: d.severity is not Severity.ERROR)  # why, first
        first = f"  {reasons[0].code} {reasons[0].message}" if reasons else ""
        more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
        click.echo(f"{where:<{width}}  {result.grade.value:<9}{first}{more}")
    graded = [g for g in Grade if g is not Grade.SKIPPED]
    total = sum(counts.get(g, 0) for g in graded)
    skipped = counts.get(Grade.SKIPPED, 0)
    click.echo(f"\n{total} pipeline(s): " + ", ".join(f"{counts.get(g, 0)} {g.value}" for g in graded)
               + (f"; {skipped} file(s) skipped (no pipeline in them)" if skipped else ""))


@click.command("convert")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--to", "target", required=True, metavar="TARGET[,TARGET...]|all",
              help="Backends to compile to (see `dagshift targets`).")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Output directory (a subdirectory per target with several targets).")
@_FROM_OPTION
@_STRICT_OPTION
@_EXECUTE_OPTION
@_AIRFLOW_PYTHON_OPTION
@UNSUPPORTED_OPTION
@click.option("--keep-ir", "keep_ir", is_flag=True, help="Also write the imported pipeline (NAME.yaml) to OUTDIR.")
@FORMAT_OPTION
@click.option("-q", "--quiet", is_flag=True, help="Print only problems, not the files written.")
def convert_command(file: str, target: str, outdir: str, source_format: str | None, strict: bool, execute: bool,
                    airflow_python: str | None, unsupported: str | None, keep_ir: bool, output_format: str,
                    quiet: bool) -> None:
    """Move a pipeline from one orchestrator to another: import FILE, then compile it.

    The losses of the import and the limits of the target are both reported; nothing is
    written unless both steps succeed.

    \b
    Examples:
      dagshift convert dags/etl.py --to argo -o argo/
      dagshift convert dvc.yaml --to airflow,prefect -o build/
    """
    from compiler.api import check_text
    from compiler.compile import compile_loaded

    from .compile import split_targets, write_and_report

    _check_execute(source_format, execute, airflow_python)
    targets = split_targets(target)
    results = _import(Path(file), source_format, execute, airflow_python)
    everything = _diagnostics(results)
    files: dict[str, str] = {}
    notes: list[str] = []
    if not everything.has_errors and not (strict and everything.warnings):
        per_target = len(targets) > 1 or target.strip() == "all" or len(results) > 1
        for result in results:
            loaded = check_text(pipeline_yaml(result), f"{result.file} (imported)")
            compiled = compile_loaded(loaded, targets, strict=targets if strict_from_flags(strict, unsupported) else (),
                                      per_target_dirs=per_target)
            everything.extend(compiled.diagnostics.sorted())
            notes += compiled.notes
            prefix = f"{result.name}/" if len(results) > 1 else ""
            files.update({prefix + relative: text for relative, text in compiled.files.items()})
            if keep_ir:
                files[f"{prefix}{result.name}.yaml"] = pipeline_yaml(result)
    if everything.has_errors or (strict and everything.warnings):
        click.echo(RENDERERS[output_format](everything.items), nl=False)
        if output_format == "text":
            click.echo("nothing written")
        sys.exit(EXIT_PROBLEMS)
    write_and_report({Path(outdir): files}, notes, everything, quiet=quiet or output_format != "text",
                     output_format=output_format)
