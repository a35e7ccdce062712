"""Which IR features a pipeline uses, and where: the input of every backend's capability check.

A backend declares how it supports each feature (`compiler.backends.base.Support`); the driver
walks the uses found here and reports those a target cannot express, naming the task, the
feature and the workaround.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterator

from compiler.diagnostics import YamlPath

from .ir import AlertEvent, Pipeline, TriggerRule, TriggerType
from .placeholders import refs
from .references import task_texts


class Feature(str, Enum):
    """Each value is the name shown in `dagshift targets` and in diagnostics."""

    SHELL = "shell task"
    PYTHON = "python callable task"
    CONTAINER = "container image task"
    PYTHON_IN_IMAGE = "python callable in a container image"
    NOOP = "no-op task"
    ORDER_EDGE = "order-only dependency (after)"
    ARTIFACTS = "artifact passing"
    VALUE_OUTPUTS = "typed value outputs"
    PARAMS = "typed params with defaults"
    SCHEDULE = "cron schedule with time zone"
    CATCHUP = "catchup / backfill"
    DATA_TRIGGER = "data / event trigger"
    MANUAL_TRIGGER = "manual-only trigger"
    CONTINUOUS_TRIGGER = "continuous trigger"
    RETRIES = "retries with delay"
    RETRY_BACKOFF = "exponential retry backoff"
    RETRY_MAX_DELAY = "maximum retry delay"
    TIMEOUT = "task timeout"
    PIPELINE_TIMEOUT = "pipeline timeout"
    CONDITION = "conditional task (when / else_of)"
    TRIGGER_RULE = "trigger rule (run on upstream failure, fallback)"
    STATIC_FAN_OUT = "static fan-out (foreach over a list or param)"
    DYNAMIC_FAN_OUT = "dynamic fan-out (foreach over an upstream output)"
    FAN_IN = "fan-in of mapped results"
    MAX_PARALLEL = "fan-out parallelism limit"
    ENV = "environment variables"
    SECRETS = "secret references"
    RESOURCES = "cpu / memory resources"
    GPU = "gpu resources"
    CACHE = "result caching"
    POOL = "concurrency pool"
    MAX_ACTIVE_TASKS = "max active tasks per run"
    MAX_ACTIVE_RUNS = "max active runs"
    PIPELINE_ALERTS = "pipeline failure alert"
    TASK_ALERTS = "task failure alert"
    RETRY_ALERTS = "alert on retry"
    SUCCESS_ALERTS = "alert on success"
    WORKDIR = "working directory"
    OWNER = "owner"
    TAGS = "tags"
    PRIORITY = "task priority"

    @property
    def kind(self) -> FeatureKind:
        return FeatureKind.OPERATIONAL if self in LEFT_OUT_MEANS else FeatureKind.SEMANTIC

    @property
    def left_out_means(self) -> str:
        """What a run does when a target leaves this operational setting out."""
        return LEFT_OUT_MEANS[self]


class FeatureKind(str, Enum):
    """How a target that cannot express a feature treats it (docs/backends/README.md)."""

    # How a run is operated (when, how often, how long, with what resources, who is told): a
    # target that cannot express it leaves it out with a warning (an error under --strict).
    OPERATIONAL = "operational"
    # What runs or what is computed: a target that cannot express it cannot compile the pipeline.
    SEMANTIC = "semantic"


# Every operational feature, and what a run does without it: the second half of a W301.
LEFT_OUT_MEANS: dict[Feature, str] = {
    Feature.SCHEDULE: "runs start only when started by hand or by another scheduler",
    Feature.CATCHUP: "missed intervals are not run",
    Feature.DATA_TRIGGER: "new data does not start a run",
    Feature.MANUAL_TRIGGER: "the target's default trigger applies",
    Feature.CONTINUOUS_TRIGGER: "a finished run does not start the next one",
    Feature.RETRIES: "a failed attempt fails the task at once",
    Feature.RETRY_BACKOFF: "every retry waits retry_delay",
    Feature.RETRY_MAX_DELAY: "retry delays are not capped",
    Feature.TIMEOUT: "the task runs with no time limit",
    Feature.PIPELINE_TIMEOUT: "the run has no time limit",
    Feature.MAX_PARALLEL: "the fan-out runs as many items at once as the target allows",
    Feature.RESOURCES: "the task gets the target's default cpu and memory",
    Feature.GPU: "the task runs without a gpu",
    Feature.CACHE: "the task runs every time",
    Feature.POOL: "the task is not limited by the pool",
    Feature.MAX_ACTIVE_TASKS: "the run's tasks are not limited",
    Feature.MAX_ACTIVE_RUNS: "runs are not limited",
    Feature.PIPELINE_ALERTS: "no alert is sent when the run fails",
    Feature.TASK_ALERTS: "no alert is sent when the task fails",
    Feature.RETRY_ALERTS: "no alert is sent on a retry",
    Feature.SUCCESS_ALERTS: "no alert is sent on success",
    Feature.OWNER: "the owner is not recorded",
    Feature.TAGS: "the tags are not recorded",
    Feature.PRIORITY: "the task is scheduled without a priority",
}


@dataclass(frozen=True)
class FeatureUse:
    feature: Feature
    path: YamlPath
    task: str | None = None


def feature_uses(pipeline: Pipeline, written: Pipeline | None = None) -> Iterator[FeatureUse]:
    """Every use of a feature, in file order; tasks are seen with `defaults` applied.

    `written` is the pipeline as the file states it, when `pipeline` is a folded or optimized copy:
    it tells which keys a task set itself, so that an inherited setting is located at its
    `defaults` key and a priority the optimizer derived is not taken for the user's."""
    yield from _pipeline_uses(pipeline)
    for task_id in pipeline.tasks:
        yield from _task_uses(pipeline, task_id, written)


def _pipeline_uses(pipeline: Pipeline) -> Iterator[FeatureUse]:
    if pipeline.workdir is not None:
        yield FeatureUse(Feature.WORKDIR, ("workdir",))
    if pipeline.params:
        yield FeatureUse(Feature.PARAMS, ("params",))
    if pipeline.schedule is not None:
        yield FeatureUse(Feature.SCHEDULE, ("schedule",))
        if pipeline.schedule.catchup:
            yield FeatureUse(Feature.CATCHUP, ("schedule", "catchup"))
    for index, trigger in enumerate(pipeline.triggers):
        feature = {
            TriggerType.DATA: Feature.DATA_TRIGGER,
            TriggerType.MANUAL: Feature.MANUAL_TRIGGER,
            TriggerType.CONTINUOUS: Feature.CONTINUOUS_TRIGGER,
        }[trigger.type]
        yield FeatureUse(feature, ("triggers", index))
    if pipeline.max_active_tasks is not None:
        yield FeatureUse(Feature.MAX_ACTIVE_TASKS, ("max_active_tasks",))
    if pipeline.max_active_runs is not None:
        yield FeatureUse(Feature.MAX_ACTIVE_RUNS, ("max_active_runs",))
    if pipeline.timeout is not None:
        yield FeatureUse(Feature.PIPELINE_TIMEOUT, ("timeout",))
    for index, alert in enumerate(pipeline.alerts):
        yield FeatureUse(_ALERT_FEATURE[alert.on], ("alerts", index))
    if pipeline.owner:
        yield FeatureUse(Feature.OWNER, ("owner",))
    if pipeline.tags:
        yield FeatureUse(Feature.TAGS, ("tags",))


_ALERT_FEATURE = {
    AlertEvent.FAILURE: Feature.PIPELINE_ALERTS,
    AlertEvent.RETRY: Feature.RETRY_ALERTS,
    AlertEvent.SUCCESS: Feature.SUCCESS_ALERTS,
}


def _task_uses(pipeline: Pipeline, task_id: str, written: Pipeline | None) -> Iterator[FeatureUse]:
    task = pipeline.resolved(task_id)
    as_written = written.tasks.get(task_id) if written is not None else None
    own = (as_written or pipeline.tasks[task_id]).model_fields_set
    base: YamlPath = ("tasks", task_id)

    def where(key: str) -> YamlPath:
        """The task's own key, or the `defaults` key it inherited."""
        return (*base, key) if key in own else ("defaults", key)

    def use(feature: Feature, key: str | None = None) -> FeatureUse:
        return FeatureUse(feature, where(key) if key else base, task_id)

    kind_feature = {"shell": Feature.SHELL, "python": Feature.PYTHON, "container": Feature.CONTAINER,
                    "noop": Feature.NOOP}[task.kind]
    yield use(kind_feature)
    if task.kind == "python" and task.image is not None:
        yield use(Feature.PYTHON_IN_IMAGE, "image")
    if task.after:
        yield use(Feature.ORDER_EDGE, "after")
    if task.consumes or task.produces:
        yield use(Feature.ARTIFACTS, "produces" if task.produces else "consumes")
    if task.outputs:
        yield use(Feature.VALUE_OUTPUTS, "outputs")
    if task.retries:
        yield use(Feature.RETRIES, "retries")
        if task.retry_backoff is not None and task.retry_backoff != 1.0:
            yield use(Feature.RETRY_BACKOFF, "retry_backoff")
        if task.retry_max_delay is not None:
            yield use(Feature.RETRY_MAX_DELAY, "retry_max_delay")
    if task.timeout is not None:
        yield use(Feature.TIMEOUT, "timeout")
    if task.when is not None or task.else_of is not None:
        yield use(Feature.CONDITION, "when" if task.when is not None else "else_of")
    if task.trigger_rule is not TriggerRule.ALL_SUCCESS:
        yield use(Feature.TRIGGER_RULE, "trigger_rule")
    if task.foreach is not None:
        dynamic = isinstance(task.foreach, str) and any(r.kind == "task_output" for r in refs(task.foreach))
        yield use(Feature.DYNAMIC_FAN_OUT if dynamic else Feature.STATIC_FAN_OUT, "foreach")
    if task.max_parallel is not None:
        yield use(Feature.MAX_PARALLEL, "max_parallel")
    if _reads_mapped_output(pipeline, task):
        yield use(Feature.FAN_IN)
    if task.env:
        yield use(Feature.ENV, "env")
    if task.secrets:
        yield use(Feature.SECRETS, "secrets")
    if task.resources is not None:
        if task.resources.cpu is not None or task.resources.memory is not None:
            yield use(Feature.RESOURCES, "resources")
        if task.resources.gpu:
            yield use(Feature.GPU, "resources")
    if task.cache is not None and task.cache.enabled:
        yield use(Feature.CACHE, "cache")
    if task.pool is not None:
        yield use(Feature.POOL, "pool")
    for alert in task.alerts:
        feature = Feature.TASK_ALERTS if alert.on is AlertEvent.FAILURE else _ALERT_FEATURE[alert.on]
        yield use(feature, "alerts")
    if task.priority is not None and "priority" in own:
        yield use(Feature.PRIORITY, "priority")


def _reads_mapped_output(pipeline: Pipeline, task) -> bool:
    for _, text in task_texts(task):
        for ref in refs(text):
            if ref.kind == "task_output" and ref.task in pipeline.tasks and pipeline.tasks[ref.task].is_mapped:
                return True
    return False
