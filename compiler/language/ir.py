"""The neutral pipeline IR: frozen pydantic models of the pipeline file.

The models check shape and scalar values (unknown keys, types, durations, quantities, cron,
time zones). Everything that relates one part of the pipeline to another (references, the graph,
names on each target) is checked by the passes in `compiler.passes`.

Short forms of the surface syntax (`lr: 0.01` for a param, a cron string for the schedule, a path
string for an artifact, ...) are normalized to the long form here, so every later stage sees one
shape. The JSON Schema (`dagshift schema`) describes the short forms too.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from . import placeholders, values

JsonScalar = Union[str, int, float, bool, None]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


Duration = Annotated[
    int,
    BeforeValidator(values.parse_duration, json_schema_input_type=Union[int, str]),
    Field(description="30s, 5m, 2h, 1d, 1h30m, or a number of seconds"),
]
CpuQuantity = Annotated[str, BeforeValidator(values.parse_cpu, json_schema_input_type=Union[str, float, int])]
MemoryQuantity = Annotated[str, BeforeValidator(values.parse_memory, json_schema_input_type=Union[str, int])]
Cron = Annotated[str, BeforeValidator(values.parse_cron, json_schema_input_type=str)]
TimeZone = Annotated[str, BeforeValidator(values.parse_timezone, json_schema_input_type=str)]
PythonRef = Annotated[
    str,
    BeforeValidator(values.parse_python_ref, json_schema_input_type=str),
    Field(description="module:function"),
]


def _as_list(value: Any) -> Any:
    """`after: ingest` is `after: [ingest]`."""
    return [value] if isinstance(value, str) else value


def _scalar_to_str(value: Any) -> Any:
    """Env values written as YAML numbers or booleans reach the process as their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


NameList = Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=Union[str, list[str]])]
EnvValue = Annotated[str, BeforeValidator(_scalar_to_str, json_schema_input_type=Union[str, int, float, bool])]


class ValueType(str, Enum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    LIST = "list"
    DICT = "dict"


PYTHON_TYPES: dict[ValueType, tuple[type, ...]] = {
    ValueType.STR: (str,),
    ValueType.INT: (int,),
    ValueType.FLOAT: (float, int),
    ValueType.BOOL: (bool,),
    ValueType.LIST: (list,),
    ValueType.DICT: (dict,),
}


def type_of_value(value: Any) -> ValueType | None:
    """The param type a default value implies (bool before int: True is an int in Python)."""
    for value_type, python in ((ValueType.BOOL, bool), (ValueType.INT, int), (ValueType.FLOAT, float),
                               (ValueType.STR, str), (ValueType.LIST, list), (ValueType.DICT, dict)):
        if isinstance(value, python):
            return value_type
    return None


def value_matches(value_type: ValueType, value: Any) -> bool:
    if isinstance(value, bool) and value_type is not ValueType.BOOL:
        return False
    return isinstance(value, PYTHON_TYPES[value_type])


# ----------------------------------------------------------------------------- params


class Param(Model):
    """A run-time parameter. Short form: `name: default` (the type is taken from the default)."""

    type: ValueType | None = Field(None, description="inferred from the default when omitted")
    default: Any = None
    description: str | None = None
    enum: list[JsonScalar] | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return {"default": data}
        return data

    @property
    def value_type(self) -> ValueType:
        if self.type is not None:
            return self.type
        return type_of_value(self.default) or ValueType.STR

    @property
    def required(self) -> bool:
        return self.default is None


ParamEntry = Annotated[
    Param, BeforeValidator(lambda v: v, json_schema_input_type=Union[Param, str, int, float, bool, list[Any], None])
]

# ----------------------------------------------------------------------------- schedule and triggers


def _calendar_date(value: Any) -> Any:
    """Dates as written (2025-01-01, 2025-01-01T06:00:00+01:00); pydantic would read a number, or
    text of digits, as seconds since 1970."""
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return value
    raise ValueError(f"expected a date such as 2025-01-01 or 2025-01-01T06:00:00, got {value!r}")


StartDate = Annotated[Union[datetime, date], BeforeValidator(_calendar_date, json_schema_input_type=str)]


class Schedule(Model):
    """When the pipeline runs on its own. Short form: a cron string."""

    cron: Cron
    timezone: TimeZone = "UTC"
    start_date: StartDate | None = None
    catchup: bool = Field(False, description="run the intervals missed since start_date")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"cron": data} if isinstance(data, str) else data


ScheduleEntry = Annotated[Schedule, BeforeValidator(lambda v: v, json_schema_input_type=Union[Schedule, str])]


class TriggerType(str, Enum):
    DATA = "data"
    MANUAL = "manual"
    CONTINUOUS = "continuous"


class Trigger(Model):
    """An event that starts a run, besides the schedule."""

    type: TriggerType
    artifact: str | None = Field(None, description="data trigger: an artifact of this pipeline")
    uri: str | None = Field(None, description="data trigger: a path or URI outside the pipeline")
    poll_interval: Duration | None = None


# ----------------------------------------------------------------------------- alerts


class AlertEvent(str, Enum):
    FAILURE = "failure"
    RETRY = "retry"
    SUCCESS = "success"


class Alert(Model):
    """Something to run when a task or the pipeline fails (or retries, or succeeds)."""

    on: AlertEvent = AlertEvent.FAILURE
    command: str | None = None
    python: PythonRef | None = None
    args: dict[str, Any] | None = None

    # An alert holds no placeholder (E107): what runs is its text with the `$${{` escapes read.
    @property
    def literal_command(self) -> str | None:
        return placeholders.literal(self.command)

    @property
    def literal_args(self) -> dict[str, Any]:
        return placeholders.literal(self.args or {})


# ----------------------------------------------------------------------------- artifacts and outputs


class ArtifactKind(str, Enum):
    DATASET = "dataset"
    MODEL = "model"
    METRICS = "metrics"
    PLOTS = "plots"
    FILE = "file"
    DIRECTORY = "directory"


class Artifact(Model):
    """A file, directory or URI that one task produces and others consume. Short form: the path."""

    path: str
    kind: ArtifactKind = ArtifactKind.DATASET
    description: str | None = None
    external: bool = Field(False, description="provided from outside the pipeline: no task produces it")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"path": data} if isinstance(data, str) else data

    @property
    def is_uri(self) -> bool:
        return "://" in self.path


ArtifactEntry = Annotated[Artifact, BeforeValidator(lambda v: v, json_schema_input_type=Union[Artifact, str])]


class Output(Model):
    """A small typed value a task returns (python) or writes to `${{ outputs.NAME }}` (shell)."""

    type: ValueType
    description: str | None = None
    path: str | None = Field(None, description="a file the task writes the value to, instead of ${{ outputs.NAME }}")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data


OutputEntry = Annotated[Output, BeforeValidator(lambda v: v, json_schema_input_type=Union[Output, ValueType])]

# ----------------------------------------------------------------------------- task policies


class SecretRef(Model):
    """A reference to a secret held by the platform (Kubernetes Secret, Airflow Connection...)."""

    name: str
    key: str


class Resources(Model):
    cpu: CpuQuantity | None = None
    memory: MemoryQuantity | None = None
    gpu: int | None = Field(None, ge=0, le=values.MAX_GPU)
    gpu_type: str = "nvidia.com/gpu"


class Cache(Model):
    """Reuse a task's result when its command and inputs are unchanged. Short form: a bool."""

    enabled: bool = True
    expire: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"enabled": data} if isinstance(data, bool) else data


CacheEntry = Annotated[Cache, BeforeValidator(lambda v: v, json_schema_input_type=Union[Cache, bool])]


class TriggerRule(str, Enum):
    ALL_SUCCESS = "all_success"
    ALL_DONE = "all_done"
    ALL_FAILED = "all_failed"
    ONE_FAILED = "one_failed"
    ONE_SUCCESS = "one_success"
    NONE_FAILED = "none_failed"


class TaskPolicy(Model):
    """The keys `defaults:` may set; a task's own value wins."""

    retries: int | None = Field(None, ge=0, le=values.MAX_RETRIES)
    retry_delay: Duration | None = None
    retry_backoff: float | None = Field(None, ge=1.0, le=values.MAX_BACKOFF, allow_inf_nan=False,
                                         description="exponential factor: delay * backoff ** attempt")
    retry_max_delay: Duration | None = None
    timeout: Duration | None = None
    env: dict[str, EnvValue] = Field(default_factory=dict)
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    resources: Resources | None = None
    cache: CacheEntry | None = None
    pool: str | None = None
    alerts: list[Alert] = Field(default_factory=list)


POLICY_FIELDS = tuple(TaskPolicy.model_fields)

def _check_command(value: Any) -> Any:
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return value
    raise ValueError("expected a command: a string, or a non-empty list of strings (exec form)")


def _check_args(value: Any) -> Any:
    if value is None or isinstance(value, (dict, list)):
        return value
    raise ValueError("expected a mapping of keyword arguments (for python) or a list of arguments (for a container)")


def _check_foreach(value: Any) -> Any:
    if isinstance(value, (list, str)):
        return value
    raise ValueError("expected a list, or a placeholder such as ${{ params.models }}")


Command = Annotated[Any, BeforeValidator(_check_command, json_schema_input_type=Union[str, list[str]])]
Args = Annotated[Any, BeforeValidator(_check_args, json_schema_input_type=Union[dict[str, Any], list[Any]])]
ForEach = Annotated[Any, BeforeValidator(_check_foreach, json_schema_input_type=Union[list[Any], str])]


class Task(TaskPolicy):
    """One unit of work: shell `command`, `python: module:function`, container `image`, or a no-op."""

    description: str | None = None
    command: Command | None = None
    python: PythonRef | None = None
    image: str | None = None
    args: Args | None = None
    after: NameList = Field(default_factory=list)
    consumes: NameList = Field(default_factory=list)
    produces: NameList = Field(default_factory=list)
    outputs: dict[str, OutputEntry] = Field(default_factory=dict)
    when: str | None = Field(None, description="a condition over params and upstream outputs")
    else_of: str | None = Field(None, description="run exactly when this other task's `when` is false")
    trigger_rule: TriggerRule = TriggerRule.ALL_SUCCESS
    foreach: ForEach | None = Field(None, description="a list, a list param or an upstream list output")
    max_parallel: int | None = Field(None, ge=1, le=values.MAX_LIMIT)
    estimate: Duration | None = Field(None, description="how long the task usually takes: the optimizer's "
                                                        "critical path and priorities use it")
    priority: int | None = Field(None, ge=1, le=values.MAX_PRIORITY,
                                 description="scheduling priority, higher first when slots are scarce (Airflow "
                                             "priority_weight); set from `estimate` when omitted")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        # `ingest:` (empty) is a no-op task; `train: [ingest]` is the seed's `after` list.
        if data is None:
            return {}
        if isinstance(data, list):
            return {"after": data}
        return data

    @property
    def kind(self) -> Literal["python", "container", "shell", "noop"]:
        if self.python is not None:
            return "python"
        if self.image is not None:
            return "container"
        if self.command is not None:
            return "shell"
        return "noop"

    @property
    def is_mapped(self) -> bool:
        return self.foreach is not None

    @property
    def literal_items(self) -> list | None:
        """A literal foreach list as each run receives its item (the `$${{` escapes read); None
        when the task fans out over a param or an upstream output."""
        return placeholders.literal(self.foreach) if isinstance(self.foreach, list) else None


TaskEntry = Annotated[Task, BeforeValidator(lambda v: v, json_schema_input_type=Union[Task, list[str], None])]

# ----------------------------------------------------------------------------- the pipeline


class Pipeline(Model):
    """A whole pipeline file."""

    name: str = Field(description="the DAG / flow / workflow name")
    description: str | None = None
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)
    workdir: str | None = Field(None, description="the directory every task runs in")
    params: dict[str, ParamEntry] = Field(default_factory=dict)
    schedule: ScheduleEntry | None = None
    triggers: list[Trigger] = Field(default_factory=list)
    max_active_tasks: int | None = Field(None, ge=1, le=values.MAX_LIMIT)
    max_active_runs: int | None = Field(None, ge=1, le=values.MAX_LIMIT)
    timeout: Duration | None = None
    alerts: list[Alert] = Field(default_factory=list)
    artifacts: dict[str, ArtifactEntry] = Field(default_factory=dict)
    defaults: TaskPolicy = Field(default_factory=TaskPolicy)
    tasks: dict[str, TaskEntry]

    def resolved(self, task_id: str) -> Task:
        """The task with `defaults` applied: the task's own keys win; env and secrets merge."""
        task = self.tasks[task_id]
        if not self.defaults.model_fields_set:  # nothing to apply (always so after fold_defaults)
            return task
        update: dict[str, Any] = {}
        for name in POLICY_FIELDS:
            default_value = getattr(self.defaults, name)
            if name in ("env", "secrets"):
                merged = {**default_value, **getattr(task, name)}
                if merged != getattr(task, name):
                    update[name] = merged
            elif name not in task.model_fields_set and name in self.defaults.model_fields_set:
                update[name] = default_value
        return task.model_copy(update=update) if update else task


def json_schema() -> dict:
    schema = Pipeline.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://dagshift.dev/schema/pipeline.json"
    schema["title"] = "dagshift pipeline"
    return schema
