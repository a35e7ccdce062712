"""`dagshift compile`: pipeline FILES to their targets, or every pipeline the project config lists
(compiler/project.py); `--check` compares instead of writing (compiler/output/check.py)."""

from __future__ import annotations

import posixpath
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from compiler.api import check_file
from compiler.diagnostics import RENDERERS, Diagnostic, Diagnostics, Severity
from compiler.language.load import STDIN

from .common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    FORMAT_OPTION,
    STRICT_OPTION,
    UNSUPPORTED_OPTION,
    strict_from_flags,
)


def split_targets(value: str) -> list[str]:
    from compiler.backends import registry

    available = registry.names()
    if value.strip() == "all":
        return available
    targets = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in targets if t not in available]
    if unknown or not targets:
        raise click.BadParameter(f"unknown target {', '.join(unknown) or value!r}; choose from {', '.join(available)} or all")
    return list(dict.fromkeys(targets))


def _parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--option")
        options[key.strip()] = value.strip()
    return options


def _check_options(options: dict[str, str], targets: list[str]) -> None:
    from compiler.backends import registry

    known = {key: help for name in targets for key, help in registry.get(name).option_help.items()}
    for key in options:
        if key not in known:
            choices = ", ".join(f"{k} ({v})" for k, v in known.items()) or "none for these targets"
            raise click.BadParameter(f"unknown option {key!r}; known: {choices}", param_hint="--option")


@click.command("compile")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-t", "--target", "targets", metavar="TARGET[,TARGET...]|all", multiple=True,
              help="Backends to compile to (see `dagshift targets`); repeatable (-t airflow -t argo). Required with "
                   "FILES.")
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False),
              help="Output directory. With several targets (or `all`), each gets a subdirectory named after it. "
                   "Required with FILES.")
@STRICT_OPTION
@UNSUPPORTED_OPTION
@click.option("--option", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="Backend option, e.g. container=docker for airflow. Repeatable.")
@click.option("-O", "level", type=click.IntRange(0, 2), default=1, show_default=True,
              help="Optimization level: 0 none; 1 only what never changes behaviour or names "
                   "(redundant `after` edges, conditions on literals, critical-path priorities); 2 also "
                   "runs identical tasks once and fuses chains of small shell tasks where the target pays "
                   "per task. See `dagshift plan`.")
@click.option("--select", "select", multiple=True, metavar="TASK",
              help="Compile only TASK and what it needs (repeatable), like `make TASK`.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="Project config to build (without FILES). Default: the nearest dagshift.toml, or pyproject.toml "
                   "with [tool.dagshift], in the current directory or a parent.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if any generated file on disk is stale or missing (or, with a config, "
                   "an orphan), naming each.")
@click.option("--diff", "show_diff", is_flag=True, help="With --check: also print a unified diff of each such file.")
@FORMAT_OPTION
@click.option("-q", "--quiet", is_flag=True, help="Print only problems, not the files written.")
def compile_command(files: tuple[str, ...], targets: tuple[str, ...], outdir: str | None, strict: bool,
                    unsupported: str | None, option_pairs: tuple[str, ...], level: int, select: tuple[str, ...],
                    config_path: str | None, check: bool, show_diff: bool, output_format: str, quiet: bool) -> None:
    """Compile pipeline FILES to one or more orchestrators, or, without FILES, every pipeline the
    project config lists (dagshift.toml or [tool.dagshift] in pyproject.toml; see docs/ci.md).

    Nothing is written unless every file compiles for every target: files are staged in a
    temporary directory and moved into OUTDIR at the end. Existing files that dagshift does not
    generate are left alone.

    A setting a target cannot express is a warning when it only changes how runs are operated
    (schedule, retries, timeouts, alerts, pools, resources, caching...): that target's output
    leaves it out. Anything that changes what runs is an error. --strict makes the warnings
    errors too. `dagshift targets --details` lists which is which.

    \b
    Examples:
      dagshift compile pipeline.yaml -t airflow -o dags/
      dagshift compile pipeline.yaml -t all -o build/
      cat pipeline.yaml | dagshift compile - -t airflow -o dags/   # - reads standard input
      dagshift compile                  # what dagshift.toml lists
      dagshift compile --check --diff   # in CI: fail if a generated file is stale or missing
    """
    if show_diff and not check:
        raise click.UsageError("--diff only goes with --check")
    target = ",".join(targets) or None  # `-t a -t b` is `-t a,b`
    if files:
        if config_path:
            raise click.UsageError("give either FILES (with -t and -o) or --config, not both")
        for value, flag in ((target, "-t/--target"), (outdir, "-o/--output")):
            if value is None:
                raise click.UsageError(f"missing option {flag}: compiling FILES needs -t and -o "
                                       "(without FILES, the project config says what to build)")
        jobs = _jobs_from_command_line(files, target, outdir, strict_from_flags(strict, unsupported), option_pairs,
                                       level, select)
    else:
        _refuse_command_line_settings(click.get_current_context())
        jobs = _jobs_from_config(config_path, output_format)
    _compile_jobs(jobs, output_format=output_format, quiet=quiet, check=check, show_diff=show_diff,
                  from_config=not files)


@dataclass(frozen=True)
class _CompileJob:
    """One pipeline file, its targets and where their files go."""

    file: str  # what check_file opens
    shown: str  # how messages name it (and the name backends see: keep it independent of the cwd)
    targets: tuple[str, ...]
    per_target_dirs: bool
    outdir: Path
    outdir_shown: str  # how messages name the output directory
    options: dict
    strict: tuple[str, ...]  # the targets for which a setting left out is an error
    level: int
    select: tuple[str, ...]


def _jobs_from_command_line(files, target, outdir, strict: bool, option_pairs, level, select) -> list[_CompileJob]:
    targets = split_targets(target)
    options = _parse_options(option_pairs)
    _check_options(options, targets)
    per_target = len(targets) > 1 or target.strip() == "all"  # a stable layout for `all`
    return [_CompileJob(path, "<stdin>" if path == STDIN else path, tuple(targets), per_target, Path(outdir),
                        str(Path(outdir)), options, tuple(targets) if strict else (), level, select)
            for path in files]


_COMMAND_LINE_ONLY = {"targets": "-t", "outdir": "-o", "strict": "--strict", "unsupported": "--unsupported",
                      "option_pairs": "--option", "level": "-O", "select": "--select"}


def _refuse_command_line_settings(ctx: click.Context) -> None:
    from click.core import ParameterSource

    given = [flag for name, flag in _COMMAND_LINE_ONLY.items()
             if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE]
    if given:
        raise click.UsageError(f"{', '.join(given)}: only with FILES; without FILES, dagshift compile builds what "
                               "the project config lists, with the settings it gives (docs/ci.md)")


def _jobs_from_config(config_path: str | None, output_format: str) -> list[_CompileJob]:
    from compiler.project import ProjectConfigError, config_diagnostics, find_config, load_config

    try:
        path = Path(config_path) if config_path else find_config(Path.cwd())
        if path is None:
            raise click.UsageError("no FILES given and no project config found: no dagshift.toml, nor pyproject.toml "
                                   "with [tool.dagshift], in this directory or a parent. Pass FILES with -t and -o, "
                                   "or write a config (docs/ci.md)")
        config = load_config(path)
    except ProjectConfigError as exc:
        shown = config_path or _shown_path(exc.path)
        click.echo(RENDERERS[output_format](config_diagnostics(exc, shown)), nl=False)
        if output_format == "text":
            click.echo(f"nothing done: the project config {shown} has {len(exc.problems)} problem(s)")
        sys.exit(EXIT_USAGE)
    return [_CompileJob(str(entry.file), entry.file_label, entry.targets, entry.per_target_dirs, entry.output,
                        entry.output_label, entry.options, entry.strict, entry.level, entry.select)
            for entry in config.pipelines]


def _shown_path(path: Path) -> str:
    """`path` relative to the working directory when it is inside it (shorter messages)."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _compile_jobs(jobs: list[_CompileJob], *, output_format: str, quiet: bool, check: bool, show_diff: bool,
                  from_config: bool) -> None:
    """Compile every job, then write all files (or, with check, compare them with the disk). Orphans
    are looked for only with a config: it names every output, FILES do not."""
    from compiler.compile import compile_loaded

    everything = Diagnostics()
    outputs: dict[Path, dict[str, str]] = {}  # output directory -> relative path -> text
    shown_dirs: dict[Path, str] = {}
    target_dirs: dict[Path, set[Path]] = {}  # where a target dropped from a pipeline left its files
    owners: dict[Path, str] = {}
    notes: list[str] = []
    progress = _progress_printer(len(jobs))
    for number, job in enumerate(jobs, 1):
        progress(number, job.shown)
        loaded = check_file(job.file, job.shown)
        result = compile_loaded(loaded, list(job.targets), strict=job.strict, options=job.options,
                                per_target_dirs=job.per_target_dirs, level=job.level, select=job.select)
        everything.extend(result.diagnostics.sorted())
        notes.extend(result.notes)
        files_out = outputs.setdefault(job.outdir, {})
        shown_dirs.setdefault(job.outdir, job.outdir_shown)
        if job.per_target_dirs:
            from compiler.backends import registry

            target_dirs.setdefault(job.outdir, set()).update(job.outdir / name for name in registry.names())
        for relative, text in result.files.items():
            where = (job.outdir / relative).resolve()  # two config entries may name one directory two ways
            if where in owners:
                clash = posixpath.join(job.outdir_shown, relative) if from_config else relative
                everything.add(loaded.source.diagnostic(
                    "E402", Severity.ERROR, f"{job.shown} and {owners[where]} both generate {clash}", ("name",),
                    help="give the pipelines different names"))
            files_out[relative] = text
            owners[where] = job.shown
    if everything.has_errors:
        click.echo(RENDERERS[output_format](everything.items), nl=False)
        if output_format == "text":
            click.echo(f"nothing {'checked' if check else 'written'}: {len(everything.errors)} error(s)")
        sys.exit(EXIT_PROBLEMS)
    if check:
        if output_format != "json":  # in json, the check's report carries the warnings
            click.echo(RENDERERS[output_format](everything.items), nl=False)
        _check_and_report(outputs, shown_dirs, target_dirs, everything, output_format=output_format,
                          show_diff=show_diff, orphans=from_config)
    write_and_report(outputs, notes, everything, quiet=quiet or output_format != "text", output_format=output_format,
                     shown_dirs=shown_dirs if from_config else None)


def _check_and_report(outputs: dict[Path, dict[str, str]], shown_dirs: dict[Path, str],
                      target_dirs: dict[Path, set[Path]], warnings: Diagnostics, *, output_format: str,
                      show_diff: bool, orphans: bool) -> None:
    from compiler.output.check import RENDERERS as CHECK_RENDERERS
    from compiler.output.check import Expected, check_outputs

    expected = [Expected(outdir, shown_dirs[outdir], files, tuple(sorted(target_dirs.get(outdir, ()))))
                for outdir, files in outputs.items()]
    result = check_outputs(expected, orphans=orphans)
    if output_format == "json":
        click.echo(CHECK_RENDERERS["json"](result, diff=show_diff, diagnostics=warnings.items), nl=False)
    else:
        click.echo(CHECK_RENDERERS[output_format](result, diff=show_diff), nl=False)
    sys.exit(EXIT_OK if result.ok else EXIT_PROBLEMS)


def _progress_printer(total: int):
    """`[3/10] pipelines/x.yaml` on stderr, only for people watching a terminal: piped output and
    stdout stay exactly as they are."""
    isatty = getattr(sys.stderr, "isatty", None)
    if total < 2 or not (isatty and isatty()):
        return lambda number, shown: None
    return lambda number, shown: click.echo(f"[{number}/{total}] {shown}", err=True)


def write_and_report(outputs: dict[Path, dict[str, str]], notes: list[str], diagnostics: Diagnostics, *,
                     quiet: bool, output_format: str = "text", shown_dirs: dict[Path, str] | None = None) -> None:
    """Write every file of every output directory (all or none: output_files.write_outputs), then
    print the diagnostics (warnings), what was written and the notes. `shown_dirs` names each
    directory in the messages (a config's paths are relative to the config). A destination that
    cannot be written is one more diagnostic (E403), and exit code 1."""
    from compiler.output.files import OutputErrors, write_outputs

    try:
        written = write_outputs(outputs)
    except OutputErrors as exc:
        diagnostics.extend(Diagnostic("E403", Severity.ERROR, str(problem), help=problem.help)
                           for problem in exc.problems)
        click.echo(RENDERERS[output_format](diagnostics.items), nl=False)
        if output_format == "text":
            click.echo(f"nothing written: {len(exc.problems)} output file(s) cannot be written")
        sys.exit(EXIT_PROBLEMS)
    click.echo(RENDERERS[output_format](diagnostics.items), nl=False)
    if quiet:
        return
    for path in written:
        shown = path
        if shown_dirs is not None:
            outdir = next(d for d in outputs if path.is_relative_to(d))
            shown = posixpath.normpath(posixpath.join(shown_dirs[outdir], path.relative_to(outdir).as_posix()))
        click.echo(f"wrote {shown}")
    for note in dict.fromkeys(notes):
        click.echo(f"note: {note}")
