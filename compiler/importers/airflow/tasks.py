"""One Airflow task as a dagshift task: the operator's own arguments (command, callable, image...)
and the arguments every operator shares (retries, timeouts, trigger rule, pool, callbacks...).

Every argument is either mapped or reported: `Context.loss` is called with the argument's line."""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compiler.backends.airflow.conventions import ALERT, helper_function
from compiler.importers.base import SECRET_NOT_CARRIED, is_portable_secret

from .scan import Found
from .values import (
    CallValue,
    Evaluator,
    Named,
    NotStatic,
    Seconds,
    dotted,
    escape,
    plain_data,
    template_value,
)

TRIGGER_RULES = {"all_success", "all_done", "all_failed", "one_failed", "one_success", "none_failed"}
# Airflow rules without an equal in the IR, and the closest IR rule.
CLOSEST_RULE = {
    "none_failed_min_one_success": "none_failed", "none_failed_or_skipped": "none_failed",
    "none_skipped": "all_done", "always": "all_done", "dummy": "all_done", "one_done": "all_done",
    "all_skipped": "all_done", "all_done_setup_success": "all_done", "all_done_min_one_success": "all_done",
    "all_success_or_skipped": "none_failed",
}
_PARAM_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "array": "list",
                "object": "dict"}
# Arguments that change nothing a pipeline says (or that dagshift's own output always sets).
IGNORED = {"task_id", "dag", "cwd", "skip_on_exit_code", "append_env", "name", "do_xcom_push", "weight_rule",
           "multiple_outputs", "python_callable", "retry_exponential_backoff", "max_retry_delay", "retry_delay",
           "map_index_template"}


@dataclass
class Context:
    """What mapping one task needs from the file."""

    evaluator: Evaluator
    module: str  # the DAG file's module name (for callables defined in it)
    generated: bool
    loss: Callable[..., None]  # loss(message, node, approximate=False)
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)  # task id -> placeholder of the value it passes on
    outputs: dict[str, str] = field(default_factory=dict)  # dagshift output: task id -> its first value output
    alerts: Callable[[str], dict[str, Any] | None] | None = None  # dagshift output: its python alert callbacks


def static(ctx: Context, node: ast.AST, what: str) -> Any:
    """The node's static value; a loss (and None) when it is only known at run time."""
    try:
        return ctx.evaluator.value(node)
    except NotStatic:
        ctx.loss(f"{what} is computed when the file runs (`{_short(node)}`); it is left out", node)
        return None


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def line_of(node: Any) -> int | None:
    return getattr(node, "lineno", None)


# ----------------------------------------------------------------------------- shared arguments


def common(found: Found, kwargs: dict[str, ast.expr], ctx: Context, task: dict[str, Any]) -> None:
    """Arguments every operator takes."""
    for doc in ("doc_md", "doc", "doc_rst", "doc_json", "doc_yaml"):
        if doc in kwargs:
            text = static(ctx, kwargs[doc], doc)
            if isinstance(text, str):
                task["description"] = text
    _retries(kwargs, ctx, task)
    if "execution_timeout" in kwargs:
        _duration(ctx, kwargs["execution_timeout"], "execution_timeout", task, "timeout")
    if "trigger_rule" in kwargs:
        rule = trigger_rule(ctx, kwargs["trigger_rule"])
        if rule and rule != "all_success":
            task["trigger_rule"] = rule
    if "pool" in kwargs:
        pool = static(ctx, kwargs["pool"], "pool")
        if isinstance(pool, str):
            task["pool"] = pool
    if "priority_weight" in kwargs:
        _priority(kwargs, ctx, task)
    for key in ("max_active_tis_per_dagrun", "max_active_tis_per_dag"):
        if key in kwargs:
            value = static(ctx, kwargs[key], key)
            if isinstance(value, int) and value >= 1:
                task["max_parallel"] = value
                if key == "max_active_tis_per_dag":
                    ctx.loss("max_active_tis_per_dag limits instances across all runs; imported as max_parallel "
                             "(per run)", kwargs[key], approximate=True)
    if "executor_config" in kwargs:
        resources = pod_override_resources(ctx, kwargs["executor_config"])
        if resources:
            task["resources"] = resources
    alerts = callbacks(kwargs, ctx)
    if alerts:
        task["alerts"] = alerts


def _retries(kwargs: dict[str, ast.expr], ctx: Context, task: dict[str, Any]) -> None:
    if "retries" in kwargs:
        retries = static(ctx, kwargs["retries"], "retries")
        if isinstance(retries, int) and not isinstance(retries, bool):
            task["retries"] = retries
    if "retry_delay" in kwargs:
        _duration(ctx, kwargs["retry_delay"], "retry_delay", task, "retry_delay")
    if "retry_exponential_backoff" in kwargs:
        value = static(ctx, kwargs["retry_exponential_backoff"], "retry_exponential_backoff")
        if value is True:
            task["retry_backoff"] = 2.0
            ctx.loss("retry_exponential_backoff=True doubles the delay with jitter in Airflow; imported as "
                     "retry_backoff 2.0 without jitter", kwargs["retry_exponential_backoff"], approximate=True)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and value > 1:
            task["retry_backoff"] = float(value)
    if "max_retry_delay" in kwargs:
        _duration(ctx, kwargs["max_retry_delay"], "max_retry_delay", task, "retry_max_delay")
    if task.get("retries") == 0:  # `retries=0` over default_args that retry: their delays do nothing
        for key in ("retry_delay", "retry_backoff", "retry_max_delay"):
            task.pop(key, None)


def _duration(ctx: Context, node: ast.AST, what: str, task: dict[str, Any], key: str) -> None:
    value = static(ctx, node, what)
    if isinstance(value, Seconds):
        seconds = int(value.value)
        if seconds != value.value:
            ctx.loss(f"{what} has a fraction of a second; rounded down", node, approximate=True)
        task[key] = seconds
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        task[key] = int(value)
    elif value is not None:
        ctx.loss(f"{what} is not a timedelta; it is left out", node)


def trigger_rule(ctx: Context, node: ast.AST) -> str | None:
    value = static(ctx, node, "trigger_rule")
    if isinstance(value, Named):
        value = value.dotted.rsplit(".", 1)[-1].lower()
    if not isinstance(value, str):
        return None
    value = value.lower()
    if value in TRIGGER_RULES:
        return value
    closest = CLOSEST_RULE.get(value)
    if closest:
        ctx.loss(f"trigger rule '{value}' has no dagshift equal; imported as '{closest}'", node, approximate=True)
        return closest
    ctx.loss(f"trigger rule '{value}' is not known; left out (all_success)", node)
    return None


def _priority(kwargs: dict[str, ast.expr], ctx: Context, task: dict[str, Any]) -> None:
    weight = static(ctx, kwargs["priority_weight"], "priority_weight")
    rule = static(ctx, kwargs["weight_rule"], "weight_rule") if "weight_rule" in kwargs else "downstream"
    if isinstance(rule, Named):
        rule = rule.dotted.rsplit(".", 1)[-1].lower()
    if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
        return
    task["priority"] = weight
    if rule != "absolute":
        ctx.loss(f"priority_weight with weight_rule '{rule}' is summed over other tasks in Airflow; imported as "
                 "the task's own priority", kwargs["priority_weight"], approximate=True)


def pod_override_resources(ctx: Context, node: ast.AST) -> dict[str, Any] | None:
    config = static(ctx, node, "executor_config")
    override = config.get("pod_override") if isinstance(config, dict) else None
    found = _find_call(override, "V1ResourceRequirements")
    if found is None:
        if config is not None:
            ctx.loss("executor_config is not carried over (only resources of a pod_override are)", node)
        return None
    if isinstance(config, dict) and set(config) != {"pod_override"}:
        ctx.loss("executor_config keys other than pod_override are not carried over", node)
    return resources(ctx, found, node)


def _find_call(value: Any, name: str) -> CallValue | None:
    if isinstance(value, CallValue):
        if value.func.endswith(name):
            return value
        for item in [*value.args, *value.kwargs.values()]:
            hit = _find_call(item, name)
            if hit is not None:
                return hit
    if isinstance(value, (list, tuple)):
        for item in value:
            hit = _find_call(item, name)
            if hit is not None:
                return hit
    return None


def resources(ctx: Context, requirements: CallValue, node: ast.AST) -> dict[str, Any]:
    requests, limits = (_mapping(requirements.kwargs.get(key)) for key in ("requests", "limits"))
    out: dict[str, Any] = {}
    for key in ("cpu", "memory"):
        quantity = requests.get(key, limits.get(key))
        if isinstance(quantity, (str, int, float)) and not isinstance(quantity, bool):
            out[key] = quantity
        elif quantity is not None:
            ctx.loss(f"the {key} resource is not a quantity (text or a number); it is left out", node)
    for key, value in limits.items():
        if key in ("cpu", "memory"):
            continue
        count = value if isinstance(value, int) and not isinstance(value, bool) else \
            int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None
        if count is None:
            ctx.loss(f"the {key} limit is not a whole number of devices; it is left out", node)
            continue
        out["gpu"] = count
        if key != "nvidia.com/gpu":
            out["gpu_type"] = str(key)
    return out


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


# ----------------------------------------------------------------------------- callbacks


def callbacks(kwargs: dict[str, ast.expr], ctx: Context) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = []
    for event in ("failure", "retry", "success"):
        key = f"on_{event}_callback"
        if key not in kwargs or (isinstance(kwargs[key], ast.Constant) and kwargs[key].value is None):
            continue
        node = kwargs[key]
        items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
        for item in items:
            alert = _alert(item, event, ctx)
            if alert is not None:
                alerts.append(alert)
    for key in ("on_execute_callback", "on_skipped_callback", "sla_miss_callback", "sla"):
        if key in kwargs:
            ctx.loss(f"{key} has no dagshift equal; it is left out", kwargs[key])
    return alerts


def _alert(node: ast.expr, event: str, ctx: Context) -> dict[str, Any] | None:
    alert: dict[str, Any] = {"on": event}
    if isinstance(node, ast.Call) and (dotted(node.func) or "").endswith("partial") and len(node.args) == 2 \
            and dotted(node.args[0]) == helper_function(ALERT) and ctx.generated:  # dagshift's own output: a command
        alert["command"] = escape(static(ctx, node.args[1], "alert"))
        return alert
    name = dotted(node)
    generated = ctx.alerts(name) if ctx.alerts is not None and name else None
    if generated is not None:  # dagshift's own output: a function calling the alert's python function
        return {**alert, **generated}
    if name and "." not in name and name in ctx.functions:
        alert["python"] = f"{ctx.module}:{name}"
        ctx.loss(f"callback '{name}' is called with Airflow's context; imported as a python alert "
                 f"({ctx.module}:{name}) called without it", node, approximate=True)
        return alert
    if name:
        alert["python"] = _python_ref(ctx, name)
        ctx.loss(f"callback '{name}' is imported as a python alert called without Airflow's context",
                 node, approximate=True)
        return alert
    ctx.loss(f"{event} callback `{_short(node)}` cannot be imported (not a named function); it is left out", node)
    return None


def _python_ref(ctx: Context, name: str) -> str:
    if "." in name:
        module, _, attribute = name.rpartition(".")
        return f"{module}:{attribute}"
    return f"{ctx.module}:{name}"


# ----------------------------------------------------------------------------- operators


def templated(ctx: Context, node: ast.AST, what: str) -> Any:
    """A templated argument: its Jinja read as placeholders (what is left is a loss)."""
    value = static(ctx, node, what)
    if value is None:
        return None
    text, unmapped = template_value(value, ctx.outputs)
    if unmapped:
        ctx.loss(f"{what} uses Airflow Jinja with no dagshift placeholder ({', '.join(unmapped[:3])}); kept as "
                 "literal text", node, approximate=True)
    return text


def bash(found: Found, kwargs: dict[str, ast.expr], ctx: Context, task: dict[str, Any]) -> None:
    command = templated(ctx, kwargs["bash_command"], "bash_command") if "bash_command" in kwargs else None
    if isinstance(command, str):
        task["command"] = command
    else:
        ctx.loss("the BashOperator's command cannot be read; imported as a no-op", found.node)
    if "env" in kwargs:
        env = templated(ctx, kwargs["env"], "env")
        if isinstance(env, dict):
            task["env"] = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in env.items()}
            append = kwargs.get("append_env")
            if not (isinstance(append, ast.Constant) and append.value is True):
                ctx.loss("env without append_env=True replaces the whole environment in Airflow; dagshift adds "
                         "to it", kwargs["env"], approximate=True)


def python_callable(found: Found, kwargs: dict[str, ast.expr], ctx: Context, task: dict[str, Any]) -> None:
    node = kwargs.get("python_callable")
    name = dotted(node) if node is not None else None
    if name is None:
        ctx.loss("the python_callable is not a named function; imported as a no-op", node or found.node)
        return
    task["python"] = _python_ref(ctx, name)
    if name in ctx.functions:
        ctx.loss(f"python_callable '{name}' is defined in the DAG file; the task imports it from module "
                 f"'{ctx.module}' (which must be importable where tasks run)", node, approximate=True)
    if "op_kwargs" in kwargs:
        args = templated(ctx, kwargs["op_kwargs"], "op_kwargs")
        if isinstance(args, dict):
            task["args"] = _plain(ctx, args, kwargs["op_kwargs"])
    if "op_args" in kwargs:
        ctx.loss("op_args (positional arguments) have no dagshift equal: python tasks take keyword args",
                 kwargs["op_args"])
    if "templates_dict" in kwargs:
        ctx.loss("templates_dict is not carried over", kwargs["templates_dict"])


def _plain(ctx: Context, value: Any, node: ast.AST) -> Any:
    try:
        return plain_data(value)
    except ValueError:
        ctx.loss("a value is not plain data; it is left out", node)
        return None


def taskflow(found: Found, ctx: Context, task: dict[str, Any]) -> None:
    """A hand-written `@task` function: a python task calling it from the DAG file's module."""
    assert found.function is not None
    task["python"] = f"{ctx.module}:{found.function.name}"
    ctx.loss(f"@{found.cls} function '{found.function.name}' is defined in the DAG file; the task imports it "
             f"from module '{ctx.module}' (which must be importable where tasks run)", found.function,
             approximate=True)
    args: dict[str, Any] = {}
    call = found.call if found.expand is None or found.partial else None  # `f.expand(...)`: all mapped
    names = [a.arg for a in found.function.args.args]
    pairs = list(zip(names, call.args if call else [])) + [(k.arg, k.value) for k in (call.keywords if call else [])
                                                            if k.arg]
    mapped = found.expand or {}  # the importer passes the item when it maps the task
    for name, node in pairs:
        if name in mapped:
            continue
        if name in found.xcoms:
            _result_argument(found, name, node, ctx, args)
            continue
        try:
            value = ctx.evaluator.value(node)
            plain = plain_data(value)
        except (NotStatic, ValueError):
            ctx.loss(f"argument '{name}' is another task's return value (XCom) or computed at run time; the edge "
                     "is kept, the value is not passed", node)
            continue
        args[name] = escape(plain) if isinstance(plain, str) else plain
    if args:
        task["args"] = args


def _result_argument(found: Found, name: str, node: ast.AST, ctx: Context, args: dict[str, Any]) -> None:
    """An argument that is another task's return value: that task's output, when it is carried."""
    upstream = found.xcoms[name]
    if upstream in ctx.results:
        args[name] = ctx.results[upstream]
        return
    ctx.loss(f"argument '{name}' is the return value of task '{upstream}', which dagshift passes on only from a "
             "TaskFlow python task whose return type is known (annotate the function); the edge is kept, the value "
             "is not passed", node)


def container(found: Found, kwargs: dict[str, ast.expr], ctx: Context, task: dict[str, Any]) -> None:
    """KubernetesPodOperator / DockerOperator."""
    docker = found.cls == "DockerOperator"
    image = static(ctx, kwargs["image"], "image") if "image" in kwargs else None
    if not isinstance(image, str):
        ctx.loss("the container image cannot be read; imported as a no-op", found.node)
        return
    task["image"] = image
    cmds_key, args_key = ("entrypoint", "command") if docker else ("cmds", "arguments")
    cmds = templated(ctx, kwargs[cmds_key], cmds_key) if cmds_key in kwargs else None
    arguments = templated(ctx, kwargs[args_key], args_key) if args_key in kwargs else None
    if isinstance(arguments, str):  # DockerOperator's command may be one string
        arguments = [arguments] if cmds else None
        if not cmds:
            task["command"] = templated(ctx, kwargs[args_key], args_key)
    _container_command(task, cmds if isinstance(cmds, list) else None,
                       arguments if isinstance(arguments, list) else None)
    env_key = "environment" if docker else "env_vars"
    if env_key in kwargs:
        env = templated(ctx, kwargs[env_key], env_key)
        if isinstance(env, dict):
            task["env"] = {str(k): str(v) for k, v in env.items()}
        elif env is not None:
            ctx.loss(f"{env_key} is not a mapping (V1EnvVar list); it is left out", kwargs[env_key])
    secrets = _pod_secrets(ctx, kwargs["secrets"]) if "secrets" in kwargs else None
    if secrets:
        task["secrets"] = secrets
    if "container_resources" in kwargs:
        value = static(ctx, kwargs["container_resources"], "container_resources")
        found = resources(ctx, value, kwargs["container_resources"]) if isinstance(value, CallValue) else None
        if found:
            task["resources"] = found
    if docker:
        _docker_resources(kwargs, ctx, task)


def _container_command(task: dict[str, Any], cmds: list | None, arguments: list | None) -> None:
    if cmds == ["sh", "-c"] and arguments:
        task["command"] = arguments[0]
        if arguments[1:]:
            task["args"] = arguments[1:]
        return
    if cmds:
        task["command"] = cmds
    if arguments:
        if not cmds:
            task["command"] = arguments
        else:
            task["args"] = arguments


def _pod_secrets(ctx: Context, node: ast.AST) -> dict[str, Any]:
    value = static(ctx, node, "secrets")
    secrets: dict[str, Any] = {}
    for item in value if isinstance(value, list) else []:
        if isinstance(item, CallValue) and len(item.args) == 4 and item.args[0] == "env" \
                and all(isinstance(part, str) for part in item.args):
            env_name, name, key = item.args[1:]
            if is_portable_secret(name, key):
                secrets[env_name] = {"name": name, "key": key}
            else:
                ctx.loss(f"secret {name!r} key {key!r} {SECRET_NOT_CARRIED}", node)
        else:
            ctx.loss("a pod secret that is not an environment variable (Secret('env', ...)) is left out", node)
    return secrets


def _docker_resources(kwargs: dict[str, ast.expr], ctx: Context, task: dict[str, Any]) -> None:
    out: dict[str, Any] = {}
    if "cpus" in kwargs:
        cpus = static(ctx, kwargs["cpus"], "cpus")
        if isinstance(cpus, (int, float)) and not isinstance(cpus, bool) and math.isfinite(cpus * 1000):
            out["cpu"] = f"{round(cpus * 1000)}m"
    if "mem_limit" in kwargs:
        memory = static(ctx, kwargs["mem_limit"], "mem_limit")
        if isinstance(memory, int):
            out["memory"] = _memory_text(memory)
        elif isinstance(memory, str):
            out["memory"] = memory.upper().replace("G", "Gi").replace("M", "Mi") if memory[-1:].isalpha() else memory
    if "device_requests" in kwargs:
        requests = static(ctx, kwargs["device_requests"], "device_requests")
        for request in requests if isinstance(requests, list) else []:
            if isinstance(request, CallValue) and isinstance(request.kwargs.get("count"), int):
                out["gpu"] = request.kwargs["count"]
    if out:
        task["resources"] = out


def _memory_text(size: int) -> str:
    for suffix, factor in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if size % factor == 0:
            return f"{size // factor}{suffix}"
    return str(size)


def param(ctx: Context, name: str, value: Any, node: ast.AST) -> Any:
    """A DAG param (a Param(...) or a plain default) as a dagshift param."""
    if not isinstance(value, CallValue):
        return _plain(ctx, value, node)
    out: dict[str, Any] = {}
    if value.args:
        out["default"] = _plain(ctx, value.args[0], node)
    elif "default" in value.kwargs:
        out["default"] = _plain(ctx, value.kwargs["default"], node)
    kwargs = value.kwargs
    schema_type = kwargs.get("type")
    if isinstance(schema_type, list):
        nullable = [t for t in schema_type if t != "null"]
        ctx.loss(f"param '{name}' allows several types {schema_type}; imported as '{nullable[0]}'", node,
                 approximate=True)
        schema_type = nullable[0] if nullable else None
    if isinstance(schema_type, str) and schema_type in _PARAM_TYPES:
        out["type"] = _PARAM_TYPES[schema_type]
    for key, target in (("description", "description"), ("enum", "enum"), ("minimum", "min"), ("maximum", "max")):
        if key in kwargs:
            out[target] = _plain(ctx, kwargs[key], node)
    other = sorted(set(kwargs) - {"type", "description", "enum", "minimum", "maximum", "default"})
    if other:
        ctx.loss(f"param '{name}': {', '.join(other)} not carried over (dagshift params have type, default, "
                 "description, enum, min and max)", node)
    from compiler.language.ir import type_of_value

    implied = type_of_value(out.get("default"))
    if implied is not None and out.get("type") == implied.value and set(out) == {"type", "default"}:
        del out["type"]  # the default says it: the short form (a long form keeps its type)
    if set(out) == {"default"} and out["default"] is not None:
        return out["default"]
    return out
