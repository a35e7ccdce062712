"""The compile driver: valid IR -> capability check -> backend render -> verified files -> disk.

Nothing is written unless every target of every input compiled without errors; writing is
`output_files.write_outputs` (all files or none).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from . import parallel
from .backends import registry
from .backends.base import EmitContext
from .diagnostics import Diagnostic, Diagnostics, Severity
from .gc_pause import without_gc
from .language.features import feature_uses
from .language.graph import build_graph
from .language.ir import Pipeline, TaskPolicy
from .language.load import Loaded
from .language.source import Reporter
from .output import emit
from .output.emit import InvalidOutput
from .passes.lower import check_capabilities, inherited_from_defaults, left_out_as_errors
from .passes.optimize import optimize


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
    shared = _Shared(optimized.pipeline, loaded.pipeline) if level < 2 else None
    jobs = []
    for target in targets:
        # -O2 depends on the target's cost model; its warnings are those -O1 reported above
        facts = shared or _Shared(optimize(pipeline, level, select, registry.get(target).cost).pipeline,
                                  loaded.pipeline)
        jobs.append((target, facts))
    renders = parallel.map_in_workers(lambda job: _compile_target(*job, report, strict=job[0] in strict,
                                                                  options=options),
                                      jobs, weight=lambda job: registry.get(job[0]).render_weight,
                                      worth_it=len(pipeline.tasks) >= parallel.MIN_TASKS)
    for (target, _), rendered in zip(jobs, renders):
        result.diagnostics.extend(rendered.diagnostics)
        for relative, text in rendered.files.items():
            key = str(PurePosixPath(target) / relative) if per_target_dirs else relative
            result.files[key] = text
        result.notes.extend(rendered.notes)
        if rendered.black_fallback is not None:  # counted here, wherever the render ran (tests read it)
            emit.black_fallbacks += 1
            emit.last_fallback_reason = rendered.black_fallback
    return result


class _Shared:
    """What every target compiled from one pipeline reads alike: its feature uses and its graph
    (leaving an operational setting out, the capability check's only change, moves no edge)."""

    def __init__(self, pipeline: Pipeline, written: Pipeline):
        self.pipeline = pipeline
        self.uses = list(feature_uses(pipeline, written))
        self.graph = build_graph(pipeline)


@dataclass
class _Rendered:
    """One target's part of a compile: its files, and the diagnostics and notes it added."""

    files: dict[str, str]
    diagnostics: list[Diagnostic]
    notes: list[str]
    black_fallback: str | None = None  # why black formatted a file of this target, if it had to


def _compile_target(target: str, shared: _Shared, report: Reporter, *, strict: bool,
                    options: Mapping[str, Any] | None) -> _Rendered:
    backend = registry.get(target)
    diagnostics = report.diagnostics
    first = len(diagnostics)
    rendered = _Rendered({}, [], [])
    lowered = check_capabilities(shared.pipeline, backend, report, strict=strict, options=options,
                                 uses=shared.uses)
    if not _has_errors_since(diagnostics, first):
        ctx = EmitContext(shared.graph, report, report.source.name, dict(options or {}))
        fallbacks = emit.black_fallbacks
        try:
            files = backend.render(lowered, ctx)
        except InvalidOutput as exc:
            report.error("E401", f"{backend.title} output failed verification: {exc}",
                         help="this is a bug in dagshift; please report it with the pipeline file")
            files = {}
        if emit.black_fallbacks != fallbacks:
            emit.black_fallbacks = fallbacks
            rendered.black_fallback = emit.last_fallback_reason
        if strict:
            left_out_as_errors(diagnostics, first, backend.title)
        if not _has_errors_since(diagnostics, first):
            rendered.files, rendered.notes = files, ctx.notes
    rendered.diagnostics = diagnostics.items[first:]
    del diagnostics.items[first:]  # the caller adds them back in target order
    return rendered


def _has_errors_since(diagnostics: Diagnostics, first: int) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics.items[first:])
