"""What a target cannot express: the capability check between the optimizer and a backend.

An operational setting (features.FeatureKind) the target lacks is left out of the pipeline the
backend sees, with a warning (W301) that names it, the task and what a run does without it; a
semantic feature is an error (E301). With --strict the warnings, and a backend's own warnings
that it left a setting out (W302), are errors. docs/capabilities.md is the user's view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from compiler.backends.base import Level
from compiler.diagnostics import Diagnostics, Severity, YamlPath
from compiler.language.features import Feature, FeatureKind, FeatureUse, feature_uses
from compiler.language.ir import AlertEvent, Pipeline, Task
from compiler.language.source import Reporter


class _Lowering:
    """The pipeline a backend sees, built up one left-out setting at a time. The task map is copied
    once, on the first change, not once per setting: 10,000 tasks leaving out a setting is linear."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.tasks: dict[str, Task] | None = None
        self.updates: dict[str, Any] = {}
        self.dropped_triggers: set[int] = set()

    def task(self, task_id: str) -> Task:
        return (self.tasks if self.tasks is not None else self.pipeline.tasks)[task_id]

    def update_task(self, task_id: str, **values: Any) -> None:
        if self.tasks is None:
            self.tasks = dict(self.pipeline.tasks)
        self.tasks[task_id] = self.tasks[task_id].model_copy(update=values)

    def field(self, name: str) -> Any:
        return self.updates[name] if name in self.updates else getattr(self.pipeline, name)

    def result(self) -> Pipeline:
        updates = dict(self.updates)
        if self.tasks is not None:
            updates["tasks"] = self.tasks
        if self.dropped_triggers:
            updates["triggers"] = [t for i, t in enumerate(self.pipeline.triggers) if i not in self.dropped_triggers]
        return self.pipeline.model_copy(update=updates) if updates else self.pipeline


# How to leave each operational feature out of the pipeline a backend sees (features.FeatureKind):
# settings whose absence changes how a run is operated, never what it computes.
_DROP: dict[Feature, Callable[[_Lowering, FeatureUse], None]] = {}


def _drop_task_fields(**values: Any) -> Callable[[_Lowering, FeatureUse], None]:
    def drop(lowering: _Lowering, use: FeatureUse) -> None:
        if use.task is not None:
            lowering.update_task(use.task, **values)

    return drop


def _drop_pipeline_fields(**values: Any) -> Callable[[_Lowering, FeatureUse], None]:
    return lambda lowering, use: lowering.updates.update(values)


def _drop_alerts(event: AlertEvent) -> Callable[[_Lowering, FeatureUse], None]:
    """Only the alerts on `event`, of the task or (task None) of the pipeline: the others may be expressible."""

    def drop(lowering: _Lowering, use: FeatureUse) -> None:
        if use.task is None:
            lowering.updates["alerts"] = [alert for alert in lowering.field("alerts") if alert.on is not event]
        else:
            alerts = lowering.task(use.task).alerts
            lowering.update_task(use.task, alerts=[alert for alert in alerts if alert.on is not event])

    return drop


def _drop_schedule_catchup(lowering: _Lowering, use: FeatureUse) -> None:
    schedule = lowering.field("schedule")
    if schedule is not None:
        lowering.updates["schedule"] = schedule.model_copy(update={"catchup": False})


def _drop_trigger(lowering: _Lowering, use: FeatureUse) -> None:
    lowering.dropped_triggers.add(use.path[1])  # an index into the triggers as written


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
                       options: Mapping[str, Any] | None = None, written: Pipeline | None = None,
                       uses: list[FeatureUse] | None = None) -> Pipeline:
    """Report every feature use the backend cannot express, and return the pipeline the backend
    should see. An operational setting is left out with a warning (an error when `strict`); any
    other feature is an error. `written` is the pipeline as written (see features.feature_uses):
    an inherited setting is reported once, at its `defaults` key, naming the tasks that inherit it.
    `uses`: `feature_uses(pipeline, written)` when the caller has them (one list for every target)."""
    lowering = _Lowering(pipeline)
    left_out: set[tuple[str | None, Feature]] = set()
    if uses is None:
        uses = list(feature_uses(pipeline, written))
    for (feature, path), group in _grouped(uses).items():
        support = backend.support(feature, options)
        if support.level is not Level.UNSUPPORTED:
            continue
        group = [use for use in group if (use.task, _PART_OF.get(feature)) not in left_out]
        if not group:
            continue
        message = f"{backend.title} cannot express {feature.value} ({_subject(group)})"
        notes = _inherited_note(group)
        help = _with_user_numbers(support.how, group[0], pipeline)
        if feature.kind is FeatureKind.SEMANTIC:
            report.error("E301", message, path, help=help, notes=notes)
        elif strict:
            report.error("E301", message, path, help=help, notes=(*notes, _strict_note(backend.title)))
        else:
            report.warning("W301", f"{message}: it is left out, so {feature.left_out_means}", path, help=help,
                           notes=notes)
            for use in group:
                _DROP[feature](lowering, use)
                left_out.add((use.task, feature))
    return lowering.result()


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


_NAMED_TASKS = 5  # an inherited setting's note names this many tasks, then counts the rest


def _inherited_note(uses: list[FeatureUse]) -> tuple[str, ...]:
    if uses[0].path[:1] != ("defaults",):
        return ()
    tasks = [f"'{use.task}'" for use in uses if use.task is not None]
    shown = ", ".join(tasks[:_NAMED_TASKS]) + (f" and {len(tasks) - _NAMED_TASKS} more" if len(tasks) > _NAMED_TASKS
                                               else "")
    return (f"set in `defaults` and inherited by task{'s' if len(tasks) > 1 else ''} {shown}",)


def _with_user_numbers(how: str, use: FeatureUse, pipeline: Pipeline) -> str:
    """A declared workaround with the pipeline's own value: SECONDS becomes the timeout in seconds."""
    if "SECONDS" not in how:
        return how
    timeout = pipeline.tasks[use.task].timeout if use.task is not None else pipeline.timeout
    return how.replace("SECONDS", str(timeout)) if timeout is not None else how


def _strict_note(title: str) -> str:
    return f"an error because of --strict: without it, the {title} output leaves this setting out, with a warning"


def left_out_as_errors(diagnostics: Diagnostics, first: int, title: str) -> None:
    """--strict: a backend's own warnings that a setting is left out (W302) become errors."""
    for index in range(first, len(diagnostics.items)):
        found = diagnostics.items[index]
        if found.severity is Severity.WARNING and found.code in LEFT_OUT_CODES:
            diagnostics.items[index] = replace(found, code=LEFT_OUT_CODES[found.code], severity=Severity.ERROR,
                                               notes=(*found.notes, _strict_note(title)))
