"""Runs inside the Airflow engine venv (never imported by the test process itself).

    python airflow_runner.py import DAG_PATH
    python airflow_runner.py inspect DAG_PATH
    python airflow_runner.py test DAG_PATH DAG_ID [RUN_CONF_JSON]

DAG_PATH is a folder of generated DAG files or one file in it. Every command prints one JSON
object on the last line of stdout (Airflow's own logging goes before it):

- `import`: {"dags": [...], "import_errors": {...}} for the path (BundleDagBag, as the DAG processor);
- `inspect`: the import errors plus, per DAG, what Airflow made of the file: description, tags,
  owner, param defaults, descriptions and enums, the assets it is scheduled on, its callbacks
  (a partial's arguments, what a python alert calls), and per task its class, upstreams, retry
  settings, doc, pool, outlets, callbacks, mapping (the literal list it maps over), pod secrets,
  executor_config and DockerOperator's entrypoint (never rendered), the template fields of
  templated operators rendered with the DAG's own Jinja environment and the param defaults (of a
  mapped one: its fixed fields), and for TaskFlow tasks what their function runs, called with the
  param defaults without running anything (see `_dry_call`; a mapped one for each item);
- `test`: runs the DAG with dag.test() and prints the run state and every task instance's state,
  map index and try number; a run that cannot start (say, a conf the params reject) prints
  {"error": {"type": ..., "message": ...}} instead.

AIRFLOW_HOME (with a migrated SQLite DB) and AIRFLOW__CORE__DAGS_FOLDER are set by the caller.
"""

from __future__ import annotations

import json
import sys
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any


def _bag(path: str):
    from airflow.dag_processing.dagbag import BundleDagBag

    resolved = Path(path).resolve()
    bundle = resolved if resolved.is_dir() else resolved.parent
    return BundleDagBag(dag_folder=str(resolved), bundle_path=bundle)


def _state(state) -> str | None:
    return None if state is None else str(getattr(state, "value", state))


def _errors(bag) -> dict[str, str]:
    return {Path(str(k)).name: v for k, v in bag.import_errors.items()}


def _jsonable(value: Any) -> Any:
    """Facts as JSON: containers kept, timedeltas in seconds, anything else as its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):  # a kubernetes client model (a pod's resources, an executor's pod)
        return _jsonable(value.to_dict())
    return repr(value)


def _attempt(function, *args) -> dict[str, Any]:
    """{"value": function(*args)} or {"error": "..."}: one bad task must not hide the others."""
    try:
        return {"value": _jsonable(function(*args))}
    except Exception as error:  # noqa: BLE001 - reported, and the test decides whether it matters
        return {"error": f"{type(error).__name__}: {error}"}


# ----------------------------------------------------------------------------- inspect


def _rendered_fields(task, params: dict) -> dict[str, Any]:
    """The template fields as a run renders them (the operator's, i.e. the DAG's, Jinja env);
    only the params are in the context, so fields reading XComs report a render error."""
    values = {}
    for name in task.template_fields:
        raw = getattr(task, name, None)
        if raw is None or isinstance(raw, (int, float, bool)):
            continue
        values[name] = _attempt(task.render_template, raw, {"params": params}, task.dag.get_template_env())
    return values


# A TaskFlow task called by `inspect` records what it would run instead of running it: the argv and
# env it gives subprocess.run, or the keyword arguments (and env) it calls PROBE_TARGET with. Value
# output files made under OUTPUTS_ROOT read as "<outputs.NAME>".
PROBE_MODULE, PROBE_FUNCTION = "dagshift_probe", "record"
OUTPUTS_ROOT = "/dagshift-inspect-outputs"


class _Recorded(Exception):
    def __init__(self, facts: dict[str, Any]):
        super().__init__("recorded")
        self.facts = facts


def _dry_call(task, params: dict, item: Any = None) -> dict[str, Any] | None:
    """What a TaskFlow task's function runs, called with the param defaults (and "<tasks.ID>" for
    the values other tasks pass it; a mapped task with `item`); None for other tasks."""
    import inspect

    callable_ = getattr(task, "python_callable", None)
    if callable_ is None:
        return None
    op_kwargs = task.partial_kwargs.get("op_kwargs") if hasattr(task, "partial_kwargs") else task.op_kwargs
    kwargs = {name: f"<tasks.{getattr(value, 'operator', None) and value.operator.task_id}>"
              for name, value in (op_kwargs or {}).items()}
    if hasattr(task, "partial_kwargs"):
        (name,) = task._get_specified_expand_input().value  # the one argument dagshift maps over
        kwargs[name] = item
    if "params" in inspect.signature(callable_).parameters:
        kwargs["params"] = params
    return _probed(callable_, kwargs)


def _probed(callable_, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Calls `callable_` without running anything: subprocess.run and the probe function record
    their arguments (and the directory they run in) and stop the call; a Variable reads as
    "<variable NAME KEY>"; a function that returns (a branch) reports the value."""
    import os
    import subprocess
    import sys
    import tempfile
    import types

    environ = dict(os.environ)

    def changed_env(env) -> dict[str, str]:
        return {k: v for k, v in (env or os.environ).items() if environ.get(k) != v}

    entered: list[str] = []  # the directories the function changed to

    def run(argv, **kwargs):
        raise _Recorded({"argv": list(argv), "env": changed_env(kwargs.get("env")), "cwd": kwargs.get("cwd")})

    def record(**kwargs):
        raise _Recorded({"kwargs": kwargs, "env": changed_env(None), "cwd": entered[-1] if entered else None})

    probe = types.ModuleType(PROBE_MODULE)
    setattr(probe, PROBE_FUNCTION, record)
    from airflow.sdk import Variable

    saved = subprocess.run, sys.modules.get(PROBE_MODULE), tempfile.tempdir, os.chdir, Variable.get, os.getcwd()
    subprocess.run, sys.modules[PROBE_MODULE], tempfile.tempdir = run, probe, OUTPUTS_ROOT
    os.chdir = entered.append  # the workdir need not exist here
    Variable.get = _recorded_variable
    os.makedirs(OUTPUTS_ROOT, exist_ok=True)
    try:
        return {"returned": _jsonable(callable_(**kwargs))}
    except _Recorded as recorded:
        return _jsonable(_named_outputs(recorded.facts))
    except Exception as error:  # noqa: BLE001 - reported, and the test decides whether it matters
        return {"error": f"{type(error).__name__}: {error}"}
    finally:
        subprocess.run, tempfile.tempdir, os.chdir, Variable.get = saved[0], saved[2], saved[3], saved[4]
        if saved[1] is None:
            sys.modules.pop(PROBE_MODULE, None)
        os.chdir(saved[5])
        os.environ.clear()
        os.environ.update(environ)


class _VariableValue(dict):
    """A JSON Variable read in a dry call: each key reads as "<variable NAME KEY>"."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def __missing__(self, key: str) -> str:
        return f"<variable {self.name} {key}>"


def _recorded_variable(key: str, default: Any = None, deserialize_json: bool = False) -> Any:
    return _VariableValue(key) if deserialize_json else f"<variable {key}>"


def _named_outputs(value: Any) -> Any:
    """Value output files under OUTPUTS_ROOT as "<outputs.NAME>"."""
    import re

    if isinstance(value, str):
        return re.sub(re.escape(OUTPUTS_ROOT) + r"/[^/]+/(\w+)", r"<outputs.\1>", value)
    if isinstance(value, list):
        return [_named_outputs(v) for v in value]
    if isinstance(value, dict):
        return {k: _named_outputs(v) for k, v in value.items()}
    return value


def _expand_facts(task) -> dict[str, Any]:
    """What a mapped task maps over: per argument, a literal list, or the type of the run-time
    source (an XComArg)."""
    get_input = getattr(task, "_get_specified_expand_input", None)
    mapped = getattr(get_input(), "value", None) if get_input else None
    if not isinstance(mapped, dict):
        return {}
    facts = {}
    for name, source in mapped.items():
        facts[name] = _jsonable(list(source)) if isinstance(source, (list, tuple)) else type(source).__name__
    return {"expand": facts}


def _task_facts(task, params: dict) -> dict[str, Any]:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    mapped = isinstance(task, MappedOperator)
    backoff = task.retry_exponential_backoff
    facts = {
        "task_id": task.task_id,
        "class": task.operator_class.__name__ if mapped and hasattr(task.operator_class, "__name__")
        else getattr(task, "operator_name", None) or type(task).__name__,
        "mapped": mapped,
        "upstream": sorted(task.upstream_task_ids),
        "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
        "retries": task.retries,
        "retry_delay": _jsonable(task.retry_delay),
        "retry_exponential_backoff": backoff,
        "retry_exponential_backoff_type": type(backoff).__name__,
        "max_retry_delay": _jsonable(task.max_retry_delay),
        "execution_timeout": _jsonable(task.execution_timeout),
        "doc_md": task.doc_md,
        "pool": task.pool,
        "max_active_tis_per_dagrun": task.max_active_tis_per_dagrun,
    }
    facts.update(_expand_facts(task))
    secrets = task.partial_kwargs.get("secrets") if mapped else getattr(task, "secrets", None)
    if secrets:  # a pod's Kubernetes Secret references
        facts["secrets"] = [[s.deploy_type, s.deploy_target, s.secret, s.key] for s in secrets]
    facts["owner"] = task.owner
    facts["outlets"] = [[asset.name, asset.uri] for asset in getattr(task, "outlets", None) or []
                        if hasattr(asset, "uri")]
    facts["callbacks"] = _callbacks(task, params)
    facts.update(_untemplated(task))
    if mapped:
        facts.update(_mapped_facts(task, params))
    elif task.template_fields:
        facts["rendered"] = _rendered_fields(task, params)
    call = None if mapped else _dry_call(task, params)  # a mapped task: per item (_mapped_facts)
    if call is not None:
        facts["call"] = call
    return facts


def _untemplated(task) -> dict[str, Any]:
    """Fields that reach the worker as written: an executor's pod, DockerOperator's entrypoint."""
    given = task.partial_kwargs if hasattr(task, "partial_kwargs") else vars(task)
    return {name: _jsonable(given[name]) for name in ("executor_config", "entrypoint") if given.get(name)}


def _mapped_facts(task, params: dict) -> dict[str, Any]:
    """A mapped task's fixed template fields rendered (`partial_rendered`), and what its TaskFlow
    function runs for each item it maps over (`item_calls`): the literal list, or what the task
    it maps over (a `__items` helper) returns."""
    fields = {name: task.partial_kwargs[name] for name in task.template_fields if name in task.partial_kwargs}
    facts: dict[str, Any] = {"partial_rendered": {
        name: _attempt(task.render_template, raw, {"params": params}, task.dag.get_template_env())
        for name, raw in fields.items() if raw is not None and not isinstance(raw, (int, float, bool))}}
    mapped = task._get_specified_expand_input().value
    if getattr(task, "python_callable", None) is None or not isinstance(mapped, dict) or len(mapped) != 1:
        return facts  # what dagshift writes: a TaskFlow task mapped over one argument
    (source,) = mapped.values()
    if isinstance(source, (list, tuple)):
        items = list(source)
    elif getattr(getattr(source, "operator", None), "task_id", "").endswith("__items"):
        items = (_dry_call(source.operator, params) or {}).get("returned")  # dagshift's helper (run no other)
    else:
        return facts
    facts["item_calls"] = [_dry_call(task, params, item) for item in items or []]
    return facts


def _callbacks(owner, params: dict) -> dict[str, list[dict[str, Any]]]:
    """Per callback kind, what each callback does: the arguments of a functools.partial (the
    command of an alert), or what a function calls (a python alert: the probe's kwargs)."""
    import functools

    found = {}
    for key in ("on_failure_callback", "on_success_callback", "on_retry_callback"):
        callbacks = getattr(owner, key, None)
        listed = callbacks if isinstance(callbacks, list) else [callbacks] if callbacks else []
        found[key] = [{"partial": _jsonable(list(c.args))} if isinstance(c, functools.partial)
                      else _probed(c, {"context": {"params": params}}) for c in listed]
    return {key: value for key, value in found.items() if value}


def _dag_facts(dag) -> dict[str, Any]:
    required = [k for k in dag.params if not dag.params.get_param(k).has_value]
    if required:  # a run must be given these: inspect with None for them, check the others' defaults
        params = {k: None if k in required else dag.params.get_param(k).resolve() for k in dag.params}
    else:
        params = dag.params.validate()  # the defaults, checked against their own schema
    return {
        "description": dag.description,
        "tags": sorted(dag.tags),
        "param_descriptions": {k: dag.params.get_param(k).description for k in dag.params},
        "param_enums": {k: dag.params.get_param(k).schema.get("enum") for k in dag.params},
        "assets": _schedule_assets(dag),
        "callbacks": _callbacks(dag, params),
        "params": _jsonable(params),
        "tasks": {task_id: _task_facts(task, params) for task_id, task in sorted(dag.task_dict.items())},
    }


def _schedule_assets(dag) -> list[list[str]]:
    """[name, uri] of every asset the DAG is scheduled on."""
    from airflow.sdk import Asset

    found, pending = [], [getattr(dag.timetable, "asset_condition", None)]
    while pending:  # an AssetAll / AssetAny holds its assets (or conditions) in `objects`
        item = pending.pop()
        if isinstance(item, Asset):
            found.append([item.name, item.uri])
        elif item is not None:
            pending += getattr(item, "objects", [])
    return sorted(found)


def _inspect(bag) -> dict[str, Any]:
    dags = {}
    for dag_id in sorted(bag.dag_ids):
        try:
            dags[dag_id] = _dag_facts(bag.get_dag(dag_id))
        except Exception:  # noqa: BLE001 - a DAG that imports but cannot be inspected is a finding too
            dags[dag_id] = {"inspect_error": traceback.format_exc()}
    return {"dags": dags, "import_errors": _errors(bag)}


# ----------------------------------------------------------------------------- test


def _test(bag, dag_id: str, conf: dict) -> tuple[dict[str, Any], int]:
    if bag.import_errors:
        return {"import_errors": _errors(bag)}, 1
    dag = bag.get_dag(dag_id)
    if dag is None:
        return {"error": {"type": "LookupError", "message": f"no DAG {dag_id!r}: {sorted(bag.dag_ids)}"}}, 1
    try:
        run = dag.test(run_conf=conf or None)
    except Exception as error:  # noqa: BLE001 - e.g. ParamValidationError: the run never started
        traceback.print_exc()
        return {"error": {"type": type(error).__name__, "message": str(error)}}, 0
    values = _return_values(dag_id, run.run_id)
    tasks = [
        {"task_id": ti.task_id, "map_index": ti.map_index, "state": _state(ti.state), "try_number": ti.try_number,
         "xcom": values.get((ti.task_id, ti.map_index))}
        for ti in sorted(run.get_task_instances(), key=lambda ti: (ti.task_id, ti.map_index))
    ]
    return {"state": _state(run.state), "tasks": tasks}, 0


def _return_values(dag_id: str, run_id: str) -> dict[tuple[str, int], Any]:
    """Every task instance's return value (XCom "return_value") of the run."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=run_id, key="return_value", dag_ids=dag_id)).all()
        return {(row.task_id, row.map_index): _jsonable(XComModel.deserialize_value(row)) for row in rows}


def main(argv: list[str]) -> int:
    command, path = argv[0], argv[1]
    bag = _bag(path)
    if command == "import":
        result, status = {"dags": sorted(bag.dag_ids), "import_errors": _errors(bag)}, 0
    elif command == "inspect":
        result, status = _inspect(bag), 0
    elif command == "test":
        result, status = _test(bag, argv[2], json.loads(argv[3]) if len(argv) > 3 else {})
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.flush()
    print(json.dumps(result, ensure_ascii=True))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
