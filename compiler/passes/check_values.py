"""Values no target can run: a NUL in text, numbers out of range, file paths that name no file.
The limits are in `compiler.language.values` and docs/pipeline-syntax.md ("Limits")."""

from __future__ import annotations

import posixpath
from typing import Any, Iterator

from pydantic import BaseModel

from compiler.diagnostics import YamlPath, format_path
from compiler.language import values

from .context import PassContext


def text_and_numbers_are_portable(ctx: PassContext) -> None:
    """No NUL in any text (no process argument, environment variable or file name can hold one);
    numbers finite, and whole numbers within 64 bits."""
    for path, value in _leaves(ctx.pipeline, ()):
        if isinstance(value, str) and "\x00" in value:
            ctx.report.error("E216", f"{format_path(path)} contains a NUL character, which no command, environment "
                                     f"variable or file on any target can hold", path,
                             help="remove it; write \\0 or $'\\0' inside the command if the program needs one")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and not values.is_portable_number(value):
            problem = "is out of range" if isinstance(value, int) else "is not a finite number"
            ctx.report.error("E217", f"{format_path(path)}: {value} {problem}", path,
                             help=values.NUMBER_LIMITS_HELP)


def paths_name_files(ctx: PassContext) -> None:
    """Artifact and output files name a file or directory: never empty, `/` or the working directory
    itself, which every target would stage, cache or copy whole. (`../data` stays allowed: real DVC
    projects keep their data beside the folder of dvc.yaml.)"""
    for name, artifact in ctx.pipeline.artifacts.items():
        _check_path(ctx, artifact.path, ("artifacts", name, "path"), f"artifact '{name}'")
    for task_id, task in ctx.pipeline.tasks.items():
        for name, output in task.outputs.items():
            if output.path is not None:
                _check_path(ctx, output.path, ("tasks", task_id, "outputs", name, "path"),
                            f"output '{name}' of task '{task_id}'")


def _check_path(ctx: PassContext, path: str, where: YamlPath, what: str) -> None:
    normal = posixpath.normpath(path) if path.strip() else ""
    if not normal:
        problem = "is empty"
    elif normal.strip("/") in ("", "."):
        problem = f"'{path}' is the whole {'file system' if normal.startswith('/') else 'working directory'}"
    else:
        return
    ctx.report.error("E218", f"{what}: the path {problem}", where,
                     help="use a path inside the working directory, such as data/raw.csv")


def _leaves(value: Any, path: YamlPath) -> Iterator[tuple[YamlPath, Any]]:
    """Every scalar of the pipeline with its YAML path (field names are the keys written)."""
    if isinstance(value, BaseModel):
        for name in sorted(value.model_fields_set):  # a field left unset holds its harmless default
            field_value = getattr(value, name)
            if field_value is not None:
                yield from _leaves(field_value, (*path, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value

