"""The compile driver: valid IR -> capability check -> backend render -> verified files -> disk.

Nothing is written unless every target of every input compiled without errors; files are first
written to a temporary directory next to the output and then moved into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from .backends import registry
from .backends.base import EmitContext, Level
from .diagnostics import Diagnostics, Severity, YamlPath
from .emit import InvalidOutput
from .features import Feature, FeatureKind, FeatureUse, feature_uses
from .gc_pause import without_gc
from .graph import build_graph
from .ir import AlertEvent, Pipeline, TaskPolicy
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


# How to leave each operational feature out of the pipeline a backend sees (features.FeatureKind):
# settings whose absence changes how a run is operated, never what it computes.
_DROP: dict[Feature, Callable[[Pipeline, FeatureUse], Pipeline]] = {}


def _drop_task_fields(**values: Any) -> Callable[[Pipeline, FeatureUse], Pipeline]:
    def drop(pipeline: Pipeline, use: FeatureUse) -> Pipeline:
        if use.task is None:
            return pipeline
        tasks = dict(pipeline.tasks)
        tasks[use.task] = tasks[use.task].model_copy(update=values)
        return pipeline.model_copy(update={"tasks": tasks})

    return drop


def _drop_pipeline_fields(**values: Any) -> Callable[[Pipeline, FeatureUse], Pipeline]:
    return lambda pipeline, use: pipeline.model_copy(update=values)


def _drop_alerts(event: AlertEvent) -> Callable[[Pipeline, FeatureUse], Pipeline]:
    """Only the alerts on `event`, of the task or (task None) of the pipeline: the others may be expressible."""

    def drop(pipeline: Pipeline, use: FeatureUse) -> Pipeline:
        owner = pipeline if use.task is None else pipeline.tasks[use.task]
        kept = owner.model_copy(update={"alerts": [alert for alert in owner.alerts if alert.on is not event]})
        if use.task is None:
            return kept
        return pipeline.model_copy(update={"tasks": {**pipeline.tasks, use.task: kept}})

    return drop


def _drop_schedule_catchup(pipeline: Pipeline, use: FeatureUse) -> Pipeline:
    schedule = pipeline.schedule
    return pipeline.model_copy(update={"schedule": schedule.model_copy(update={"catchup": False})}) if schedule else pipeline


def _drop_trigger(pipeline: Pipeline, use: FeatureUse) -> Pipeline:
    index = use.path[1]
    return pipeline.model_copy(update={"triggers": [t for i, t in enumerate(pipeline.triggers) if i != index]})


_DROP.update({
    Feature.RETRIES: _drop_task_fields(retries=0, retry_delay=None, retry_backoff=None, retry_max_delay=None),
    Feature.RETRY_BACKOFF: _drop_task_fields(retry_backoff=None),
    Feature.RETRY_MAX_DELAY: _drop_task_fields(retry_max_delay=None),
    Feature.TIMEOUT: _drop_task_fields(timeout=None),
    Feature.RESOURCES: _drop_task_fields(resources=None),
    Feature.GPU: _drop_task_fields(resources=None),
    Feature.CACHE: _drop_task_fields(cache=None),
    Feature.POOL: _drop_task_fields(pool=None),
    Feature.MAX_PARALLEL: _drop_task_fields(max_parallel=None),
    Feature.TASK_ALERTS: _drop_alerts(AlertEvent.FAILURE),
    Feature.RETRY_ALERTS: _drop_alerts(AlertEvent.RETRY),
    Feature.SUCCESS_ALERTS: _drop_alerts(AlertEvent.SUCCESS),
    Feature.PRIORITY: _drop_task_fields(priority=None),
    Feature.PIPELINE_TIMEOUT: _drop_pipeline_fields(timeout=None),
    Feature.MAX_ACTIVE_TASKS: _drop_pipeline_fields(max_active_tasks=None),
    Feature.MAX_ACTIVE_RUNS: _drop_pipeline_fields(max_active_runs=None),
    Feature.PIPELINE_ALERTS: _drop_alerts(AlertEvent.FAILURE),
    Feature.SCHEDULE: _drop_pipeline_fields(schedule=None),
    Feature.CATCHUP: _drop_schedule_catchup,
    Feature.DATA_TRIGGER: _drop_trigger,
    Feature.MANUAL_TRIGGER: _drop_trigger,
    Feature.CONTINUOUS_TRIGGER: _drop_trigger,
    Feature.OWNER: _drop_pipeline_fields(owner=None),
    Feature.TAGS: _drop_pipeline_fields(tags=[]),
})

# A part of another setting: left out with it, so it is not reported a second time.
_PART_OF = {Feature.RETRY_BACKOFF: Feature.RETRIES, Feature.RETRY_MAX_DELAY: Feature.RETRIES,
            Feature.CATCHUP: Feature.SCHEDULE}

# Codes of the warnings that say an operational setting is left out (W301 here, W302 from a
# backend's own checks), and the error each becomes under --strict.
LEFT_OUT_CODES = {"W301": "E301", "W302": "E302"}


def inherited_from_defaults(written: Pipeline) -> Callable[[YamlPath], tuple[YamlPath, tuple[str, ...]]]:
    """For Reporter.written_at: a task's setting it did not write itself, but inherited from
    `defaults`, is reported at the `defaults` key, with a note naming the task."""

    def written_at(path: YamlPath) -> tuple[YamlPath, tuple[str, ...]]:
        if len(path) < 3 or path[0] != "tasks" or path[1] not in written.tasks:
            return path, ()
        task_id, key = path[1], path[2]
        if key in written.tasks[task_id].model_fields_set or key not in written.defaults.model_fields_set:
            return path, ()
        return ("defaults", *path[2:]), (f"set in `defaults` and inherited by task '{task_id}'",)

    return written_at


def check_capabilities(pipeline: Pipeline, backend, report: Reporter, *, strict: bool = False,
                       options: Mapping[str, Any] | None = None, written: Pipeline | None = None) -> Pipeline:
    """Report every feature use the backend cannot express, and return the pipeline the backend
    should see. An operational setting is left out with a warning (an error when `strict`); any
    other feature is an error. `written` is the pipeline as written (see features.feature_uses):
    an inherited setting is reported once, at its `defaults` key, naming the tasks that inherit it."""
    lowered = pipeline
    left_out: set[tuple[str | None, Feature]] = set()
    for (feature, path), uses in _grouped(feature_uses(pipeline, written)).items():
        support = backend.support(feature, options)
        if support.level is not Level.UNSUPPORTED:
            continue
        uses = [use for use in uses if (use.task, _PART_OF.get(feature)) not in left_out]
        if not uses:
            continue
        message = f"{backend.title} cannot express {feature.value} ({_subject(uses)})"
        notes = _inherited_note(uses)
        help = _with_user_numbers(support.how, uses[0], pipeline)
        if feature.kind is FeatureKind.SEMANTIC:
            report.error("E301", message, path, help=help, notes=notes)
        elif strict:
            report.error("E301", message, path, help=help, notes=(*notes, _strict_note(backend.title)))
        else:
            report.warning("W301", f"{message}: it is left out, so {feature.left_out_means}", path, help=help,
                           notes=notes)
            for use in uses:
                lowered = _DROP[feature](lowered, use)
                left_out.add((use.task, feature))
    return lowered


def _grouped(uses) -> dict[tuple[Feature, tuple], list[FeatureUse]]:
    """Uses by feature and place, in file order: one `defaults` key inherited by many tasks is one group."""
    groups: dict[tuple[Feature, tuple], list[FeatureUse]] = {}
    for use in uses:
        groups.setdefault((use.feature, use.path), []).append(use)
    return groups


def _subject(uses: list[FeatureUse]) -> str:
    tasks = [use.task for use in uses if use.task is not None]
    if not tasks:
        return "the pipeline"
    if len(tasks) == 1:
        return f"task '{tasks[0]}'"
    return f"{len(tasks)} tasks"


def _inherited_note(uses: list[FeatureUse]) -> tuple[str, ...]:
    if uses[0].path[:1] != ("defaults",):
        return ()
    tasks = [f"'{use.task}'" for use in uses if use.task is not None]
    shown = ", ".join(tasks[:_NAMED_TASKS]) + (f" and {len(tasks) - _NAMED_TASKS} more" if len(tasks) > _NAMED_TASKS
                                               else "")
    return (f"set in `defaults` and inherited by task{'s' if len(tasks) > 1 else ''} {shown}",)


_NAMED_TASKS = 5


def _with_user_numbers(how: str, use: FeatureUse, pipeline: Pipeline) -> str:
    """A declared workaround with the pipeline's own value: SECONDS becomes the timeout in seconds."""
    if "SECONDS" not in how:
        return how
    timeout = pipeline.tasks[use.task].timeout if use.task is not None else pipeline.timeout
    return how.replace("SECONDS", str(timeout)) if timeout is not None else how


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
            _left_out_as_errors(result.diagnostics, first, backend.title)
        if _has_errors_since(result.diagnostics, first):
            continue
        for relative, text in files.items():
            key = str(PurePosixPath(target) / relative) if per_target_dirs else relative
            result.files[key] = text
        result.notes.extend(ctx.notes)
    return result


def _strict_note(title: str) -> str:
    return f"an error because of --strict: without it, the {title} output leaves this setting out, with a warning"


def _has_errors_since(diagnostics: Diagnostics, first: int) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics.items[first:])


def _left_out_as_errors(diagnostics: Diagnostics, first: int, title: str) -> None:
    """--strict: a backend's own warnings that a setting is left out (W302) become errors."""
    for index in range(first, len(diagnostics.items)):
        found = diagnostics.items[index]
        if found.severity is Severity.WARNING and found.code in LEFT_OUT_CODES:
            diagnostics.items[index] = replace(found, code=LEFT_OUT_CODES[found.code], severity=Severity.ERROR,
                                               notes=(*found.notes, _strict_note(title)))


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

