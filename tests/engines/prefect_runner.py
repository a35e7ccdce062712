"""Runs inside the Prefect engine venv (never imported by the test process itself).

    python prefect_runner.py PLAN_JSON REPORT_JSON

One process, one ephemeral local Prefect API (started by Prefect itself on first use), for every
module and run of the plan. PLAN_JSON is

    {"inspect": [{"key", "module", "flow"}, ...],
     "runs":    [{"key", "module", "flow", "params", "workdir", "cwd"?}, ...],
     "deployments": [{"key", "dir"}, ...],
     "secrets": {block name: JSON value, ...}}

and REPORT_JSON gets {"inspect": {key: facts}, "runs": {key: outcome}, "deployments": {key:
entry}} (Prefect logs to the console, so the report is a file, written after every item: a crash
still leaves what was done).

- secrets: saved as Prefect Secret blocks before anything runs.
- inspect: imports the generated module under a unique name and describes what Prefect made of
  it: the flow (name, description, parameter defaults from the signature and from Prefect's own
  parameter schema, validation of those defaults, task runner, timeout, hooks), every @task
  (name, description, retries, delays, timeout, tags, cache policy, hooks), and what each task
  would run with the parameter defaults (`calls`): the flow function is called with its tasks
  standing in for themselves to see what it passes each one (and the list a task maps over:
  `mapped`), then each task's own function with those arguments, its `run_command` / python
  target / `isolated` recording what they were given instead of running it (a value output's
  temporary directory standing as "<outputs>", a Secret block's value as "<secret NAME KEY>",
  the directory the flow enters as `entered`; a mapped task for each item: `item_calls`), and
  what each state hook of the flow and of each task runs (`flow_hooks`, `task_hooks`: an alert's
  command, or the kwargs a python alert passes its function).
- deployments: each directory's prefect.yaml deployment after Prefect's deploy-time templating
  (prefect_deployment_check.resolved_deployment).
- runs: for each, chdir into its own working directory (a fresh copy of examples/; or into `cwd`
  when given, to start the flow somewhere else), set DAGSHIFT_WORKDIR, import the module under a
  unique name, call the flow with return_state=True and the params, then read back from the
  Prefect API every task run of that flow run: task id, state, run_count, and its state history.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import time
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
_counter = 0


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def _attempt(function, *args) -> dict[str, Any]:
    """{"value": function(*args)} or {"error": "..."}: one bad item must not hide the others."""
    try:
        return {"value": _jsonable(function(*args))}
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def _import(path: str):
    """The generated module, imported afresh under a name no other import uses."""
    global _counter
    _counter += 1
    name = f"dagshift_generated_{_counter}_{Path(path).stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _tasks(module) -> dict[str, Any]:
    """The module's @task objects by task name (the pipeline's task id)."""
    from prefect import Task

    found = {}
    for attribute, value in vars(module).items():
        if isinstance(value, Task):
            assert value.name not in found, f"two tasks named {value.name!r}"
            found[value.name] = value
    return found


# ----------------------------------------------------------------------------- inspect


def _task_facts(task) -> dict[str, Any]:
    return {
        "function": task.fn.__name__,
        "description": task.description,
        "retries": task.retries,
        "retry_delay_seconds": _jsonable(task.retry_delay_seconds),
        "timeout_seconds": task.timeout_seconds,
        "tags": sorted(task.tags),
        "cache_policy": repr(task.cache_policy),
        "cache_expiration": _jsonable(task.cache_expiration),
        "on_failure": len(task.on_failure_hooks),
        "on_completion": len(task.on_completion_hooks),
        "log_prints": task.log_prints,
    }


def _default(parameter: inspect.Parameter) -> Any:
    """A parameter's default; a pydantic `Field(default, ...)` gives its default."""
    default = parameter.default
    return getattr(default, "default", default) if type(default).__name__ == "FieldInfo" else default


def _flow_facts(flow) -> dict[str, Any]:
    signature = inspect.signature(flow.fn)
    defaults = {name: _default(p) for name, p in signature.parameters.items()
                if p.default is not inspect.Parameter.empty}
    schema = flow.parameters.model_dump(mode="json")
    runner = flow.task_runner
    return {
        "name": flow.name,
        "description": flow.description,
        "parameters": list(signature.parameters),
        "required": [name for name, p in signature.parameters.items() if p.default is inspect.Parameter.empty],
        "defaults": _jsonable(defaults),
        "schema_defaults": {name: prop["default"] for name, prop in schema.get("properties", {}).items()
                            if "default" in prop},
        "schema": schema,
        "validated_defaults": _attempt(flow.validate_parameters, dict(defaults)),
        "task_runner": type(runner).__name__,
        "max_workers": getattr(runner, "_max_workers", None),
        "timeout_seconds": flow.timeout_seconds,
        "on_failure": len(flow.on_failure_hooks),
        "on_completion": len(flow.on_completion_hooks),
        "log_prints": flow.log_prints,
    }


class _Stop(Exception):
    """Raised by a stand-in once it has recorded what the task would run."""

    def __init__(self, record: dict[str, Any]):
        super().__init__("recorded")
        self.record = record


class _Value:
    """What a task stand-in returns in the flow body: any future or result."""

    def result(self, *args, **kwargs):
        return self

    def wait(self, *args, **kwargs):
        return None

    def __iter__(self):
        return iter(())


class _Values(list):
    """What a task stand-in's `map` returns in the flow body: a list of futures, as
    PrefectFutureList is."""

    def result(self, *args, **kwargs):
        return self

    def wait(self, *args, **kwargs):
        return None


class _TaskStandIn:
    """A task of the module while the flow body runs: records the arguments of each call (of a
    mapped task: the first item's in `calls`, each item's in `item_calls`)."""

    def __init__(self, task, calls: dict[str, Any], mapped: dict[str, Any], item_calls: dict[str, Any]):
        self.task = task
        self.calls = calls
        self.mapped = mapped
        self.item_calls = item_calls

    def _bound(self, *args, **kwargs) -> dict[str, Any]:
        kwargs.pop("wait_for", None)
        return dict(inspect.signature(self.task.fn).bind_partial(*args, **kwargs).arguments)

    def _record(self, *args, **kwargs):
        self.calls[self.task.name] = self._bound(*args, **kwargs)
        return _Value()

    __call__ = submit = _record

    def map(self, items, *args, **kwargs):
        self.mapped[self.task.name] = _jsonable(items)
        self.item_calls[self.task.name] = [self._bound(item, *args, **kwargs) for item in items]
        return _Values([self._record(next(iter(items), None), *args, **kwargs)])


class _SecretValue(dict):
    """A Secret block's JSON value in a dry call: each key reads as "<secret NAME KEY>"."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def __missing__(self, key: str) -> str:
        return f"<secret {self.name} {key}>"


class _SecretStandIn:
    """prefect.blocks.system.Secret while tasks are called: load(NAME).get() is a _SecretValue."""

    def __init__(self, name: str):
        self.name = name

    @classmethod
    def load(cls, name: str, *args, **kwargs):
        return cls(name)

    def get(self):
        return _SecretValue(self.name)


def _stand_ins(record_python):
    """run_command, isolated and tempfile of the module, recording instead of running."""

    class TemporaryDirectory:
        def __enter__(self):
            return "<outputs>"

        def __exit__(self, *exc):
            return False

    def run_command(command, env=None, timeout=None):
        key = "command" if isinstance(command, str) else "argv"
        raise _Stop({"kind": "shell", key: command, **({"env": env} if env else {})})

    def isolated(function, timeout=None, env=None):
        return lambda **kwargs: record_python(function, kwargs, env)

    shim = type("tempfile", (), {"TemporaryDirectory": TemporaryDirectory})
    return {"run_command": run_command, "isolated": isolated, "tempfile": shim, "Secret": _SecretStandIn}


def _fake_modules(function) -> dict[str, Any]:
    """A module standing in for each `from M import F` of the task: F records its arguments."""
    import ast
    import textwrap
    import types

    fakes = {}
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            for depth in range(1, len(parts) + 1):
                name = ".".join(parts[:depth])
                fakes.setdefault(name, types.ModuleType(name))
                fakes[name].__path__ = []
            for alias in node.names:
                target = f"{node.module}:{alias.name}"

                def recorder(*args, _target=target, **kwargs):
                    raise _Stop({"kind": "python", "target": _target, "kwargs": kwargs})

                recorder.dagshift_target = target
                setattr(fakes[node.module], alias.name, recorder)
    return fakes


def _task_calls(module, flow, params: dict[str, Any], seen: dict[str, Any]) -> dict[str, Any]:
    """What each task would run with these params (see the module docstring); `seen` gets the
    lists tasks map over (`mapped`), what a mapped task runs for each item (`item_calls`) and the
    directories the flow enters (`entered`)."""
    import os as os_module

    tasks = _tasks(module)
    calls: dict[str, Any] = {}
    mapped = seen["mapped"] = {}
    item_arguments: dict[str, Any] = {}
    entered = seen["entered"] = []
    saved = {name: getattr(module, name) for name in vars(module) if getattr(module, name) in tasks.values()}
    chdir = os_module.chdir
    try:
        for name, task in saved.items():
            setattr(module, name, _TaskStandIn(task, calls, mapped, item_arguments))
        os_module.chdir = entered.append  # the workdir need not exist here
        flow.fn(**params)
    finally:
        os_module.chdir = chdir
        for name, task in saved.items():
            setattr(module, name, task)
    seen["item_calls"] = {task_id: [_recorded_call(module, tasks[task_id], arguments) for arguments in listed]
                          for task_id, listed in item_arguments.items()}
    return {task_id: _recorded_call(module, tasks[task_id], arguments) for task_id, arguments in calls.items()}


def _record_python(function, kwargs, env):
    record = {"kind": "python", "target": getattr(function, "dagshift_target", None), "kwargs": kwargs}
    raise _Stop({**record, **({"env": env} if env else {})})


def _recorded_call(module, task, arguments: dict[str, Any]) -> dict[str, Any]:
    """What the task's function runs, called with these arguments: its stand-ins record it."""
    return _stopped(module, task.fn, lambda: task.fn(**arguments))


def _stopped(module, function, call) -> dict[str, Any]:
    """What `call` (of `function`, in `module`) runs: the module's run_command, isolated,
    tempfile and Secret, and each module the function imports from, stand in for themselves
    and stop it with a record ({"kind": "noop"} if it returns)."""
    fakes = _fake_modules(function)
    stand_ins = _stand_ins(_record_python)
    saved_modules = {name: sys.modules.get(name) for name in fakes}
    saved_names = {name: module.__dict__.get(name) for name in stand_ins}
    try:
        sys.modules.update(fakes)
        vars(module).update(stand_ins)
        call()
        return {"kind": "noop"}
    except _Stop as stop:
        record = stop.record
        return {"kind": record["kind"], "target": record.get("target"),
                **{key: {"value": _jsonable(value)} for key, value in record.items() if key not in ("kind", "target")}}
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}
    finally:
        for name, saved_module in saved_modules.items():
            if saved_module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = saved_module
        for name, value in saved_names.items():
            if value is None:
                module.__dict__.pop(name, None)
            else:
                module.__dict__[name] = value


def _hooks(module, owner) -> dict[str, list[dict[str, Any]]]:
    """What each state hook of a flow or task runs: an alert's command (`alert("...")`), or what
    a python alert's function calls."""
    found = {}
    for kind in ("on_failure", "on_completion"):
        hooks = getattr(owner, f"{kind}_hooks")
        found[kind] = [{"command": command} if (command := inspect.getclosurevars(hook).nonlocals.get("command"))
                       is not None else _stopped(module, hook, hook) for hook in hooks]
    return {kind: listed for kind, listed in found.items() if listed}


def _calls_or_error(module, flow, params: dict[str, Any], seen: dict[str, Any]) -> dict[str, Any]:
    """_task_calls, or why it could not see them (a condition over results, say)."""
    try:
        return _task_calls(module, flow, params, seen)
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


def inspect_module(item: dict[str, Any]) -> dict[str, Any]:
    module = _import(item["module"])
    flow = getattr(module, item["flow"])
    flow_facts = _flow_facts(flow)
    params = dict(flow_facts["validated_defaults"].get("value") or {})
    seen: dict[str, Any] = {}
    facts = {
        "flow": flow_facts,
        "flow_hooks": _hooks(module, flow),
        "task_hooks": {name: _hooks(module, task) for name, task in _tasks(module).items()},
        "tasks": {name: _task_facts(task) for name, task in _tasks(module).items()},
        "calls": _calls_or_error(module, flow, params, seen),
        "workdir": getattr(module, "WORKDIR", None),
        **seen,
    }
    return facts


# ----------------------------------------------------------------------------- runs


def _state_facts(state) -> dict[str, Any]:
    facts = {"type": state.type.value, "name": state.name, "message": state.message}
    if state.is_failed() or state.is_crashed():
        try:
            error = state.result(raise_on_failure=False)
        except Exception as raised:  # the data may be missing: report what it raised instead
            error = raised
        if isinstance(error, BaseException):
            facts["exception"] = {"type": type(error).__name__, "message": str(error)}
    return facts


def _task_runs(flow_run_id, task_names: dict[str, str]) -> list[dict[str, Any]]:
    """Every task run of the flow run as the API has it. Task run states reach the API as
    events, a moment after the flow returns: read until no run is left in a non-final state
    other than NotReady (a task whose upstream failed stays Pending/NotReady for good) and two
    reads agree."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    def settled(run) -> bool:
        return run.state_type is not None and (run.state_type.value in FINAL or run.state_name == "NotReady")

    with get_client(sync_client=True) as client:
        deadline, previous = time.monotonic() + 30, None
        while True:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                                         limit=200)
            seen = sorted((str(r.id), r.state_name, r.run_count) for r in runs)
            if (all(settled(r) for r in runs) and seen == previous) or time.monotonic() > deadline:
                break
            previous = seen
            time.sleep(0.3)
        found = []
        for run in runs:
            history = sorted(client.read_task_run_states(run.id), key=lambda s: s.timestamp)
            found.append({
                "task_id": task_names.get(run.task_key),
                "task_key": run.task_key,
                "name": run.name,
                "state": run.state_type.value if run.state_type else None,
                "state_name": run.state_name,
                "message": run.state.message if run.state else None,
                "run_count": run.run_count,
                "running_states": sum(1 for s in history if s.type.value == "RUNNING"),
                "history": [[s.name, s.timestamp.timestamp()] for s in history],
                "start_time": run.start_time.isoformat() if run.start_time else None,
            })
    return sorted(found, key=lambda r: (str(r["task_id"]), r["start_time"] or ""))


def run_flow(item: dict[str, Any]) -> dict[str, Any]:
    workdir = item["workdir"]
    os.chdir(item.get("cwd") or workdir)
    os.environ["DAGSHIFT_WORKDIR"] = workdir
    module = _import(item["module"])
    flow = getattr(module, item["flow"])
    names = {task.task_key: name for name, task in _tasks(module).items()}
    started = time.monotonic()
    outcome: dict[str, Any] = {"workdir": getattr(module, "WORKDIR", None)}
    try:
        state = flow(**item.get("params", {}), return_state=True)
    except Exception as error:  # e.g. a call Prefect refuses before any flow run exists
        traceback.print_exc()
        outcome["raised"] = {"type": type(error).__name__, "message": str(error)}
        return outcome
    outcome["seconds"] = round(time.monotonic() - started, 2)
    outcome["state"] = _state_facts(state)
    flow_run_id = state.state_details.flow_run_id
    outcome["flow_run_id"] = str(flow_run_id)
    outcome["tasks"] = _task_runs(flow_run_id, names) if flow_run_id else []
    return outcome


# ----------------------------------------------------------------------------- main


def _claim_server_port() -> None:
    """Give this process's ephemeral API a port of its own. Prefect draws one at random from
    8000-8999 and checks it is free before uvicorn binds it seconds later: two runners started
    together can draw the same, and the loser's flows then talk to the winner's server until the
    winner stops it (Connection refused). Runners alive at the same time have distinct PIDs, so a
    port derived from the PID (below Linux's ephemeral range) is theirs alone; Prefect looks the
    server up under the key None (as prefect.testing.utilities does)."""
    from prefect.server.api.server import SubprocessASGIServer

    port = 10000 + os.getpid() % 22000
    if SubprocessASGIServer.is_port_available(port):
        SubprocessASGIServer._instances[None] = SubprocessASGIServer(port=port)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    plan = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    report_path = Path(argv[1])
    report: dict[str, Any] = {"inspect": {}, "runs": {}, "deployments": {}, "python": sys.version}
    _claim_server_port()
    home = os.getcwd()

    def write() -> None:
        report_path.write_text(json.dumps(report, ensure_ascii=True, indent=1), encoding="utf-8")

    for name, value in plan.get("secrets", {}).items():
        from prefect.blocks.system import Secret

        Secret(value=value).save(name, overwrite=True)
    for item in plan.get("inspect", []):
        try:
            report["inspect"][item["key"]] = inspect_module(item)
        except Exception:
            report["inspect"][item["key"]] = {"inspect_error": traceback.format_exc()}
        write()
    for item in plan.get("deployments", []):
        from prefect_deployment_check import resolved_deployment

        try:
            report["deployments"][item["key"]] = resolved_deployment(Path(item["dir"]))
        except Exception:
            report["deployments"][item["key"]] = {"error": traceback.format_exc()}
        write()
    for item in plan.get("runs", []):
        print(f"==> dagshift run {item['key']}", file=sys.stderr, flush=True)  # engine_harness.RUN_MARKER
        try:
            report["runs"][item["key"]] = run_flow(item)
        except Exception:
            report["runs"][item["key"]] = {"run_error": traceback.format_exc()}
        finally:
            os.chdir(home)
            os.environ.pop("DAGSHIFT_WORKDIR", None)
        write()
    report["done"] = True
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
