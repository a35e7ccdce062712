"""The compile driver: valid IR -> capability check -> backend render -> verified files -> disk.

Nothing is written unless every target of every input compiled without errors; writing is
`output_files.write_outputs` (all files or none).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .backends import registry
from .backends.base import EmitContext
from .capabilities import check_capabilities, inherited_from_defaults, left_out_as_errors
from .diagnostics import Diagnostics, Severity
from .emit import InvalidOutput
from .gc_pause import without_gc
from .graph import build_graph
from .ir import Pipeline, TaskPolicy
from .load import Loaded
from .optimize import optimize
from .source import Reporter


@dataclass
class CompileResult:
    files: dict[str, str] = field(default_factory=dict)  # posix relative path -> text
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    notes: list[str] = field(default_factory=list)


def fold_defaults(pipeline: Pipeline) -> Pipeline:
    """Apply `defaults` to every task, so backends read one place for each setting."""
    tasks = {task_id: pipeline.resolved(task_id) for task_id in pipeline.tasks}
    return pipeline.model_copy(update={"tasks": tasks, "defaults": TaskPolicy()})


@without_gc
def compile_loaded(
    loaded: Loaded,
    targets: list[str],
    *,
    strict: Collection[str] = (),
    options: Mapping[str, Any] | None = None,
    per_target_dirs: bool = False,
    level: int = 1,
    select: tuple[str, ...] = (),
) -> CompileResult:
    """Compile one loaded, validated pipeline to each target. Files are keyed by relative path
    (`<target>/<file>` when per_target_dirs). For the targets in `strict`, an operational setting
    the target cannot express is an error instead of a warning."""
    result = CompileResult(diagnostics=loaded.diagnostics)
    if loaded.pipeline is None or loaded.diagnostics.has_errors:
        return result
    report = Reporter(loaded.source, result.diagnostics, written_at=inherited_from_defaults(loaded.pipeline))
    pipeline = fold_defaults(loaded.pipeline)
    unknown = [name for name in select if name not in pipeline.tasks]
    for name in unknown:
        report.error("E501", f"--select names task '{name}', which the pipeline does not have", ("tasks",),
                     help="use task ids from the file (`dagshift graph` lists them)")
    if unknown:
        return result
    optimized = optimize(pipeline, min(level, 1), select)
    for action in optimized.actions:
        if action.warning:
            report.warning("W501", action.message, ("tasks", action.task) if action.task else (), at_key=True,
                           help="fix or remove the condition; -O0 keeps the task")
    for target in targets:
        backend = registry.get(target)
        # -O2 depends on the target's cost model; its warnings are those -O1 reported above
        target_pipeline = optimize(pipeline, level, select, backend.cost).pipeline if level >= 2 else optimized.pipeline
        first = len(result.diagnostics)
        lowered = check_capabilities(target_pipeline, backend, report, strict=target in strict, options=options,
                                     written=loaded.pipeline)
        if _has_errors_since(result.diagnostics, first):
            continue
        ctx = EmitContext(build_graph(lowered), report, loaded.source.name, dict(options or {}))
        try:
            files = backend.render(lowered, ctx)
        except InvalidOutput as exc:
            report.error("E401", f"{backend.title} output failed verification: {exc}",
                         help="this is a bug in dagshift; please report it with the pipeline file")
            continue
        if target in strict:
            left_out_as_errors(result.diagnostics, first, backend.title)
        if _has_errors_since(result.diagnostics, first):
            continue
        for relative, text in files.items():
            key = str(PurePosixPath(target) / relative) if per_target_dirs else relative
            result.files[key] = text
        result.notes.extend(ctx.notes)
    return result


def _has_errors_since(diagnostics: Diagnostics, first: int) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics.items[first:])
