"""The compile driver: valid IR -> capability check -> backend render -> verified files -> disk.

Nothing is written unless every target of every input compiled without errors; files are first
written to a temporary directory next to the output and then moved into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping

from .backends import registry
from .backends.base import EmitContext, Level
from .diagnostics import Diagnostics
from .emit import InvalidOutput
from .features import Feature, FeatureUse, feature_uses
from .gc_pause import without_gc
from .graph import build_graph
from .optimize import optimize
from .ir import Pipeline, TaskPolicy
from .load import Loaded
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


# What `--unsupported warn` may drop from the pipeline: settings whose absence changes how a run
# is operated, never what it computes. Anything else unsupported stays an error.
_DROP: dict[Feature, Callable[[Pipeline, FeatureUse], Pipeline]] = {}


def _drop_task_fields(*names: str) -> Callable[[Pipeline, FeatureUse], Pipeline]:
    def drop(pipeline: Pipeline, use: FeatureUse) -> Pipeline:
        if use.task is None:
            return pipeline
        task = pipeline.tasks[use.task]
        update: dict[str, Any] = {}
        for name in names:
            update[name] = [] if name == "alerts" else None
        tasks = dict(pipeline.tasks)
        tasks[use.task] = task.model_copy(update=update)
        return pipeline.model_copy(update={"tasks": tasks})

    return drop


def _drop_pipeline_fields(**values: Any) -> Callable[[Pipeline, FeatureUse], Pipeline]:
    return lambda pipeline, use: pipeline.model_copy(update=values)


def _drop_schedule_catchup(pipeline: Pipeline, use: FeatureUse) -> Pipeline:
    schedule = pipeline.schedule
    return pipeline.model_copy(update={"schedule": schedule.model_copy(update={"catchup": False})}) if schedule else pipeline


def _drop_trigger(pipeline: Pipeline, use: FeatureUse) -> Pipeline:
    index = use.path[1]
    return pipeline.model_copy(update={"triggers": [t for i, t in enumerate(pipeline.triggers) if i != index]})


_DROP.update({
    Feature.RETRY_BACKOFF: _drop_task_fields("retry_backoff"),
    Feature.RETRY_MAX_DELAY: _drop_task_fields("retry_max_delay"),
    Feature.TIMEOUT: _drop_task_fields("timeout"),
    Feature.RESOURCES: _drop_task_fields("resources"),
    Feature.GPU: _drop_task_fields("resources"),
    Feature.CACHE: _drop_task_fields("cache"),
    Feature.POOL: _drop_task_fields("pool"),
    Feature.MAX_PARALLEL: _drop_task_fields("max_parallel"),
    Feature.TASK_ALERTS: _drop_task_fields("alerts"),
    Feature.RETRY_ALERTS: _drop_task_fields("alerts"),
    Feature.SUCCESS_ALERTS: _drop_task_fields("alerts"),
    Feature.PIPELINE_TIMEOUT: _drop_pipeline_fields(timeout=None),
    Feature.MAX_ACTIVE_TASKS: _drop_pipeline_fields(max_active_tasks=None),
    Feature.MAX_ACTIVE_RUNS: _drop_pipeline_fields(max_active_runs=None),
    Feature.PIPELINE_ALERTS: _drop_pipeline_fields(alerts=[]),
    Feature.SCHEDULE: _drop_pipeline_fields(schedule=None),
    Feature.CATCHUP: _drop_schedule_catchup,
    Feature.DATA_TRIGGER: _drop_trigger,
    Feature.MANUAL_TRIGGER: _drop_trigger,
    Feature.CONTINUOUS_TRIGGER: _drop_trigger,
})


def check_capabilities(pipeline: Pipeline, backend, report: Reporter, unsupported: str,
                       options: Mapping[str, Any] | None = None) -> Pipeline:
    """Report every feature use the backend cannot express. With unsupported='warn', droppable
    settings become warnings and are removed from the pipeline the backend sees."""
    lowered = pipeline
    for use in feature_uses(pipeline):
        support = backend.support(use.feature, options)
        if support.level is not Level.UNSUPPORTED:
            continue
        subject = f"task '{use.task}'" if use.task else "the pipeline"
        message = f"{backend.title} cannot express {use.feature.value} ({subject})"
        if unsupported == "warn" and use.feature in _DROP:
            report.warning("W301", message + "; it is left out of the output", use.path, help=support.how)
            lowered = _DROP[use.feature](lowered, use)
        else:
            extra = "" if use.feature not in _DROP else "; or pass --unsupported warn to leave it out"
            report.error("E301", message, use.path, help=support.how + extra)
    return lowered


@without_gc
def compile_loaded(
    loaded: Loaded,
    targets: list[str],
    *,
    unsupported: str = "error",
    options: Mapping[str, Any] | None = None,
    per_target_dirs: bool = False,
    level: int = 1,
    select: tuple[str, ...] = (),
) -> CompileResult:
    """Compile one loaded, validated pipeline to each target. Files are keyed by relative path
    (`<target>/<file>` when per_target_dirs)."""
    result = CompileResult(diagnostics=loaded.diagnostics)
    if loaded.pipeline is None or loaded.diagnostics.has_errors:
        return result
    report = Reporter(loaded.source, result.diagnostics)
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
        before = len(result.diagnostics.errors)
        lowered = check_capabilities(target_pipeline, backend, report, unsupported, options)
        if len(result.diagnostics.errors) > before:
            continue
        ctx = EmitContext(build_graph(lowered), report, loaded.source.name, dict(options or {}))
        try:
            files = backend.render(lowered, ctx)
        except InvalidOutput as exc:
            report.error("E401", f"{backend.title} output failed verification: {exc}",
                         help="this is a bug in dagshift; please report it with the pipeline file")
            continue
        for relative, text in files.items():
            key = str(PurePosixPath(target) / relative) if per_target_dirs else relative
            result.files[key] = text
        result.notes.extend(ctx.notes)
    return result


def write_files(files: Mapping[str, str], outdir: Path) -> list[Path]:
    """Write all files or none: stage them in a temporary directory beside `outdir`, then move
    each into place (an atomic rename per file). Returns the written paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".dagshift-", dir=outdir))
    written = []
    try:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        for relative in files:
            target = outdir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / relative, target)
            written.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written

