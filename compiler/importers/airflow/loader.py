"""Runs inside an Airflow 3 interpreter (never imported by dagshift itself): loads one DAG file
with Airflow's own DagBag and writes what Airflow made of it as JSON.

    python loader.py DAG_FILE OUT_JSON

Standard library and Airflow only, since it runs in the user's Airflow environment. The output is
{"airflow": version, "import_errors": {file: message}, "dags": [...]}; per DAG its arguments as
given (schedule, start_date, params, default_args...), and per task its operator class, the
keyword arguments it was made with (Airflow keeps them for serialization), its upstream ids and
the line of the DAG file where it was made. Values that are not JSON are tagged objects
({"__timedelta__": seconds}, {"__callable__": "module:qualname"}, ...; see `encode`).

The line is taken when Airflow adds the task to its DAG (DAG.add_task, wrapped: the real method
still runs): the innermost frame of the DAG file on the stack, so a task made in a loop or by a
helper function has the line of the call in the file.
"""

from __future__ import annotations

import enum
import json
import sys
import traceback
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

# Keyword arguments that say nothing a pipeline holds, or that are read elsewhere.
_SKIPPED_KWARGS = {"task_id", "dag", "task_group", "default_args", "params"}
_DAG_ARGS = ("description", "doc_md", "schedule", "start_date", "end_date", "catchup", "tags", "max_active_runs",
             "max_active_tasks", "dagrun_timeout", "on_failure_callback", "on_success_callback", "owner_links",
             "render_template_as_native_obj", "template_searchpath", "user_defined_macros", "user_defined_filters",
             "fail_fast", "dag_display_name", "is_paused_upon_creation", "access_control")


def line_in(path: str) -> int | None:
    """The line of the innermost frame running the DAG file, or None."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == path:
            return frame.f_lineno
        frame = frame.f_back
    return None


def record_lines(dag_file: str) -> tuple[dict[int, int], dict[int, int]]:
    """Wrap DAG.add_task and DAG.__attrs_post_init__ to note where each task and DAG is made
    (by object id); the real methods run unchanged."""
    from airflow.sdk.definitions.dag import DAG

    task_lines: dict[int, int] = {}
    dag_lines: dict[int, int] = {}
    add_task, post_init = DAG.add_task, DAG.__attrs_post_init__

    def add_task_noting_line(self, task):
        line = line_in(dag_file)
        if line is not None:
            task_lines.setdefault(id(task), line)
        return add_task(self, task)

    def post_init_noting_line(self):
        line = line_in(dag_file)
        if line is not None:
            dag_lines.setdefault(id(self), line)
        return post_init(self)

    DAG.add_task = add_task_noting_line
    DAG.__attrs_post_init__ = post_init_noting_line
    return task_lines, dag_lines


# ----------------------------------------------------------------------------- values


def encode(value: Any, depth: int = 0) -> Any:
    """A value as JSON, tagging what JSON has no type for."""
    if depth > 20:
        return {"__object__": "<nested too deep>"}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return encode(value.value, depth + 1)
    if isinstance(value, timedelta):
        return {"__timedelta__": value.total_seconds()}
    if isinstance(value, datetime):
        return {"__datetime__": value.replace(tzinfo=None).isoformat(), "tz": _timezone_name(value)}
    if isinstance(value, date):
        return {"__datetime__": value.isoformat(), "tz": None}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v, depth + 1) for k, v in value.items()}
    return _encode_object(value, depth)


def _encode_object(value: Any, depth: int) -> Any:
    cls = type(value).__name__
    if cls == "Param":
        return {"__param__": {"default": encode(getattr(value, "value", None), depth + 1),
                              "schema": encode(getattr(value, "schema", {}), depth + 1),
                              "description": getattr(value, "description", None)}}
    if cls in ("Asset", "Dataset", "AssetAlias"):
        return {"__asset__": {"uri": getattr(value, "uri", None), "name": getattr(value, "name", None)}}
    if cls in ("AssetAll", "AssetAny", "DatasetAll", "DatasetAny"):
        return {"__assets__": cls, "items": [encode(v, depth + 1) for v in getattr(value, "objects", [])]}
    if "XComArg" in cls:
        operator = getattr(value, "operator", None)
        return {"__xcom__": getattr(operator, "task_id", None), "key": getattr(value, "key", None)}
    if "Timetable" in cls or cls.endswith("Schedule"):
        return _encode_timetable(value, depth)
    if callable(value) and hasattr(value, "__qualname__"):
        return {"__callable__": f"{getattr(value, '__module__', '') or ''}:{value.__qualname__}"}
    if hasattr(value, "to_dict") and type(value).__module__.startswith("kubernetes"):
        return {"__k8s__": cls, "value": encode(value.to_dict(), depth + 1)}
    return {"__object__": repr(value)[:200]}


def _encode_timetable(value: Any, depth: int) -> dict[str, Any]:
    cls = type(value).__name__
    out: dict[str, Any] = {"__timetable__": cls}
    expression = getattr(value, "_expression", None)
    if isinstance(expression, str):
        out["expression"] = expression
    timezone = getattr(value, "_timezone", None)
    if timezone is not None:
        out["timezone"] = getattr(timezone, "name", str(timezone))
    delta = getattr(value, "_delta", None)
    if isinstance(delta, timedelta):
        out["delta"] = delta.total_seconds()
    return out


def _timezone_name(moment: datetime) -> str | None:
    zone = moment.tzinfo
    if zone is None:
        return None
    return getattr(zone, "name", None) or getattr(zone, "key", None) or moment.tzname()


# ----------------------------------------------------------------------------- DAGs and tasks


def describe_dag(dag, task_lines: dict[int, int], dag_lines: dict[int, int]) -> dict[str, Any]:
    default_args = dict(dag.default_args or {})
    arguments = {name: encode(getattr(dag, name, None)) for name in _DAG_ARGS
                 if getattr(dag, name, None) not in (None, [], {}, set(), "")}
    arguments["schedule"] = encode(getattr(dag, "schedule", None))
    zone = getattr(dag, "timezone", None)
    if getattr(dag, "start_date", None) is not None and zone is not None:
        # Airflow keeps start_date in UTC and the zone it was written in as dag.timezone.
        arguments["start_date"] = encode(dag.start_date.astimezone(zone))
    arguments["catchup"] = bool(getattr(dag, "catchup", False))
    return {
        "dag_id": dag.dag_id,
        "line": dag_lines.get(id(dag)),
        "arguments": arguments,
        "params": {name: encode(param) for name, param in dag.params.items()} if dag.params else {},
        "default_args": encode(default_args),
        "tasks": [describe_task(task, default_args, task_lines) for task in dag.tasks],
    }


def describe_task(task, default_args: dict[str, Any], task_lines: dict[int, int]) -> dict[str, Any]:
    mapped = type(task).__name__ == "MappedOperator"
    facts: dict[str, Any] = {
        "task_id": task.task_id,
        "operator": _operator_class(task),
        "line": task_lines.get(id(task)),
        "upstream": sorted(task.upstream_task_ids),
        "mapped": mapped,
    }
    if mapped:
        facts["kwargs"] = encode({k: v for k, v in (task.partial_kwargs or {}).items()
                                  if k not in _SKIPPED_KWARGS and not _from_default_args(k, v, default_args)})
        facts["expand"] = encode(getattr(getattr(task, "expand_input", None), "value", None))
        return facts
    given = getattr(task, "_BaseOperator__init_kwargs", {}) or {}
    facts["kwargs"] = encode({k: v for k, v in given.items()
                              if k not in _SKIPPED_KWARGS and not _from_default_args(k, v, default_args)})
    callable_ = getattr(task, "python_callable", None)
    if callable_ is not None:
        facts["kwargs"]["python_callable"] = encode(callable_)
    if "kwargs_to_upstream" in given:  # a TaskFlow task: its call's arguments, by parameter name
        facts["kwargs"]["op_kwargs"] = encode(_call_arguments(callable_, given))
        for key in ("op_args", "kwargs_to_upstream", "multiple_outputs"):
            facts["kwargs"].pop(key, None)
    return facts


def _call_arguments(function, given: dict[str, Any]) -> dict[str, Any]:
    """The positional and keyword arguments of a TaskFlow call, bound to the function's names."""
    import inspect

    args, kwargs = list(given.get("op_args") or ()), dict(given.get("op_kwargs") or {})
    try:
        bound = inspect.signature(function).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return kwargs
    return dict(bound.arguments)


def _from_default_args(key: str, value: Any, default_args: dict[str, Any]) -> bool:
    """Airflow copies default_args into each operator's arguments; the DAG's default_args carry them."""
    return key in default_args and default_args[key] is value


def _operator_class(task) -> str:
    if type(task).__name__ == "MappedOperator":
        return getattr(task, "operator_class", type(task)).__name__ if isinstance(
            getattr(task, "operator_class", None), type) else str(getattr(task, "task_type", "MappedOperator"))
    return type(task).__name__


# ----------------------------------------------------------------------------- main


def load(dag_file: str) -> dict[str, Any]:
    import airflow
    from airflow.dag_processing.dagbag import BundleDagBag

    task_lines, dag_lines = record_lines(dag_file)
    # As `airflow dags list-import-errors` does: the file's folder is the bundle (on sys.path, so
    # the file imports the modules next to it); safe_mode off reads files that never say "dag".
    bag = BundleDagBag(dag_folder=dag_file, bundle_path=Path(dag_file).parent, safe_mode=False)
    errors = {Path(str(k)).name: str(v) for k, v in bag.import_errors.items()}
    dags = [describe_dag(dag, task_lines, dag_lines) for _, dag in sorted(bag.dags.items())]
    return {"airflow": airflow.__version__, "import_errors": errors, "dags": dags}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    dag_file, out = str(Path(argv[0]).resolve()), argv[1]
    try:
        import airflow.dag_processing.dagbag  # noqa: F401
    except ImportError as error:  # no Airflow 3 here: the caller says which interpreter to use
        Path(out).write_text(json.dumps({"no_airflow": f"{type(error).__name__}: {error}"}))
        return 0
    try:
        result = load(dag_file)
    except Exception as error:  # noqa: BLE001 - Airflow itself failed: the caller reports it, with the trace's end
        result = {"failed": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()[-2000:]}
    Path(out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
