"""Prefect 3 backend: a flow module (`<name>.py`) and its deployment file (`prefect.yaml`).

Every task is a `@task` calling the runtime in the generated module with the task's spec (a
Python literal), so placeholders are resolved at run time and no user text becomes code. The
flow body submits tasks in dependency order with `.submit()` / `.map()` and `wait_for`; skips
(`when`, `else_of`) and trigger rules are plain Python `if`s over the upstream futures' states;
the flow returns Failed when any task failed, like the other targets. Schedules, triggers and
the run concurrency limit go to prefect.yaml. Details: docs/backends/prefect.md.
"""

from __future__ import annotations

import builtins
import re
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from .. import conditions, emit
from ..features import Feature
from ..graph import topological_order
from ..ir import AlertEvent, Alert, Pipeline, Task, TriggerRule, TriggerType, ValueType
from ..optimize import TaskCost
from ..naming import python_name
from ..placeholders import Ref
from ..references import task_refs
from ..values import CRON_PRESETS
from .base import Backend, EmitContext, emulated, native, unsupported
from .specs import PYTHON_TYPE_NAMES as _TYPES, condition_code, condition_refs, unique_python_names, value_spec

PREFECT_VERSION = "3.9.1"

# Param names a Prefect flow cannot take (checked on prefect 3.9.1 / pydantic 2): Prefect reserves
# `return_state` and `wait_for` (ReservedArgumentError at import), `self` clashes with
# Flow.__call__, `self` and `cls` are left out of the parameter schema (so never validated nor
# shown), and flow parameters are pydantic fields, which cannot start with '_' nor shadow
# BaseModel's `model_*` attributes. The flow body's own locals and helpers all start with '_' too.
_RESERVED_PARAMS = frozenset({
    "return_state", "wait_for", "self", "cls",
    "model_computed_fields", "model_config", "model_construct", "model_copy", "model_dump", "model_dump_json",
    "model_extra", "model_fields", "model_fields_set", "model_json_schema", "model_parametrized_name",
    "model_post_init", "model_rebuild", "model_validate", "model_validate_json", "model_validate_strings",
})


class PrefectBackend(Backend):
    name = "prefect"
    title = "Prefect 3"
    cost = TaskCost(0.1, "each task run reports its states to the Prefect API")
    capabilities = {
        Feature.SHELL: emulated("a @task running the command through subprocess, output streamed to the log"),
        Feature.PYTHON: native("a @task importing module:function at run time"),
        Feature.CONTAINER: unsupported(
            "Prefect runs containers per flow run, not per task: put the image on a Docker/Kubernetes work "
            "pool (job_variables.image) and make the task a shell command, or call run_deployment()"),
        Feature.PYTHON_IN_IMAGE: unsupported("set the image on the deployment's work pool; drop `image` here"),
        Feature.NOOP: native("a @task that returns nothing"),
        Feature.ORDER_EDGE: native("wait_for"),
        Feature.ARTIFACTS: emulated("files at their paths under the working directory"),
        Feature.VALUE_OUTPUTS: native("task results (one dict per task)"),
        Feature.PARAMS: native("flow parameters with type hints (Literal for enums, Field for bounds)"),
        Feature.SCHEDULE: native("prefect.yaml deployment schedules (cron + timezone)"),
        Feature.CATCHUP: unsupported(
            "Prefect has no catchup: backfill with run_deployment(name, scheduled_time=...) in a loop"),
        Feature.DATA_TRIGGER: emulated(
            "a deployment event trigger on `dagshift.artifact.updated` for the artifact; emit it when data lands"),
        Feature.MANUAL_TRIGGER: native("a deployment without schedules"),
        Feature.CONTINUOUS_TRIGGER: emulated("a deployment trigger on its own flow run completing"),
        Feature.RETRIES: native("retries, retry_delay_seconds"),
        Feature.RETRY_BACKOFF: native("retry_delay_seconds as the list of growing delays"),
        Feature.RETRY_MAX_DELAY: native("delays capped in the retry_delay_seconds list"),
        Feature.TIMEOUT: native("timeout_seconds"),
        Feature.PIPELINE_TIMEOUT: native("flow timeout_seconds"),
        Feature.CONDITION: native("a plain Python if over the upstream results"),
        Feature.TRIGGER_RULE: native("upstream states checked in the flow before submitting"),
        Feature.STATIC_FAN_OUT: native(".map over the list"),
        Feature.DYNAMIC_FAN_OUT: native(".map over the upstream result"),
        Feature.FAN_IN: native("the list of the mapped task's results"),
        Feature.MAX_PARALLEL: emulated(".map in batches of max_parallel"),
        Feature.ENV: native("the command's environment (os.environ for python tasks)"),
        Feature.SECRETS: native("a JSON Secret block `name`, field `key`, read at run time"),
        Feature.RESOURCES: unsupported("resources belong to the work pool (job_variables), not to a task"),
        Feature.GPU: unsupported("GPUs belong to the work pool's base job template, not to a task"),
        Feature.CACHE: native("cache_policy=INPUTS + TASK_SOURCE, cache_expiration"),
        Feature.POOL: emulated("a task tag; limit it with `prefect concurrency-limit create TAG N`"),
        Feature.MAX_ACTIVE_TASKS: native("ThreadPoolTaskRunner(max_workers)"),
        Feature.MAX_ACTIVE_RUNS: native("deployment concurrency_limit in prefect.yaml"),
        Feature.PIPELINE_ALERTS: native("flow on_failure hook"),
        Feature.TASK_ALERTS: native("task on_failure hook"),
        Feature.RETRY_ALERTS: unsupported("Prefect has no retry hook: alert from the command, or use Automations"),
        Feature.SUCCESS_ALERTS: native("on_completion hook"),
        Feature.WORKDIR: native("cwd of every command (and of python calls)"),
        Feature.OWNER: unsupported("Prefect has no owner: name it in the description or a tag"),
        Feature.TAGS: native("deployment tags in prefect.yaml"),
        Feature.PRIORITY: unsupported("Prefect task runners have no priority: order the work in the flow"),
    }

    def render(self, pipeline: Pipeline, ctx: EmitContext) -> dict[str, str]:
        builder = _FlowBuilder(pipeline, ctx)
        if not builder.build():
            return {}
        module = f"{python_name(pipeline.name)}.py"
        source = emit.render("prefect", "flow.py.j2", **builder.context())
        deployment = emit.render("prefect", "prefect.yaml.j2", name=pipeline.name,
                                 body=emit.to_yaml(builder.deployment(module)))
        emit.parse_yaml(deployment, "prefect.yaml")
        return {module: emit.format_python(source, module), "prefect.yaml": deployment}


def py(value: Any) -> str:
    return emit.python_literal(value)


@lru_cache(maxsize=None)
def _module_names() -> frozenset[str]:
    """Names the generated module defines or imports, read from the templates."""
    source = "".join(emit.template_source("prefect", name) for name in ("runtime.py.j2", "flow.py.j2"))
    defined = re.findall(r"^(?:def |import |from \S+ import )?(\w+)", source, re.M)
    imported = re.findall(r"^(?:from \S+ )?import ([\w, ]+)", source, re.M)
    names = set(defined) | {n.strip() for group in imported for n in group.split(",")}
    called = set(re.findall(r"[A-Za-z_]\w*", source)) & set(vars(builtins))
    return frozenset(names | called)


class _FlowBuilder:
    def __init__(self, pipeline: Pipeline, ctx: EmitContext):
        self.p = pipeline
        self.ctx = ctx
        self.graph = ctx.graph
        self.imports: set[str] = set()
        self.specs: dict[str, str] = {}
        self.tasks: list[dict[str, Any]] = []
        self.body: list[str] = []
        self.functions = self._function_names()

    def _function_names(self) -> dict[str, str]:
        used = set(_module_names()) | set(self.p.params) | {python_name(self.p.name)}
        return unique_python_names(self.p.tasks, used)

    def build(self) -> bool:
        before = len(self.ctx.diagnostics.errors)
        for name in self.p.params:
            if name.startswith("_") or name in _RESERVED_PARAMS:
                self.ctx.report.error("E302", f"Prefect backend: a flow parameter cannot be named '{name}' "
                                      "(Prefect reserves it, or pydantic does not allow it as a field name)",
                                      ("params", name), at_key=True, help="rename the param")
        schedule = self.p.schedule
        if schedule is not None and schedule.start_date is not None:
            self.ctx.report.warning("W302", "Prefect cron schedules have no start date: start_date is not used",
                                    ("schedule", "start_date"), at_key=True,
                                    help="pause the deployment until then, or leave start_date out")
        for task_id in topological_order(self.graph):
            self._task(task_id)
        return len(self.ctx.diagnostics.errors) == before

    # ------------------------------------------------------------------ tasks

    def _task(self, task_id: str) -> None:
        task = self.p.tasks[task_id]
        self.specs[task_id] = py(self._spec(task))
        self.tasks.append({
            "function": self.functions[task_id],
            "kwargs": self._task_kwargs(task_id, task),
            "mapped": task.is_mapped,
            "id": task_id,
        })
        self.body.extend(self._submission(task_id, task))

    def _spec(self, task: Task) -> dict:
        spec: dict[str, Any] = {"kind": task.kind}
        if task.kind == "python":
            spec["target"] = task.python
            spec["kwargs"] = {k: value_spec(v, self.p, whole_value=True) for k, v in (task.args or {}).items()}
        elif task.kind == "shell":
            if isinstance(task.command, list):
                spec["argv"] = [value_spec(part, self.p) for part in task.command]
            else:
                spec["command"] = value_spec(task.command or "", self.p)
            if task.timeout is not None:
                # Prefect cannot interrupt a task running in a worker thread: the runtime kills
                # the command itself when its time is up (timeout_seconds then marks the run).
                spec["timeout"] = task.timeout
        if task.env:
            spec["env"] = {k: value_spec(v, self.p) for k, v in task.env.items()}
        if task.secrets:
            self.imports.add("secret")
            spec["secrets"] = {env: [ref.name, ref.key] for env, ref in task.secrets.items()}
        if task.outputs:
            spec["outputs"] = {name: [out.type.value, out.path] for name, out in task.outputs.items()}
        return spec

    def _task_kwargs(self, task_id: str, task: Task) -> list[tuple[str, str]]:
        kwargs = [("name", py(task_id))]
        if task.description:
            kwargs.append(("description", py(task.description)))
        if task.retries:
            kwargs.append(("retries", py(task.retries)))
            kwargs.append(("retry_delay_seconds", py(_retry_delays(task))))
        if task.timeout is not None:
            kwargs.append(("timeout_seconds", py(task.timeout)))
        if task.pool is not None:
            kwargs.append(("tags", py([task.pool])))
        if task.cache is not None and task.cache.enabled:
            self.imports.add("cache")
            kwargs.append(("cache_policy", "INPUTS + TASK_SOURCE"))
            if task.cache.expire is not None:
                self.imports.add("timedelta")
                kwargs.append(("cache_expiration", f"timedelta(seconds={task.cache.expire})"))
        kwargs.extend(self._hooks(task.alerts))
        kwargs.append(("log_prints", "True"))
        return kwargs

    def _hooks(self, alerts: list[Alert]) -> list[tuple[str, str]]:
        hooks: dict[str, list[str]] = {}
        for alert in alerts:
            if alert.on is AlertEvent.RETRY:
                continue  # reported as unsupported before rendering
            self.imports.add("functools")
            if alert.command is not None:
                call = f"functools.partial(_alert, command={py(alert.command)})"
            else:
                call = f"functools.partial(_alert, target={py(alert.python)}, kwargs={py(alert.args or {})})"
            key = "on_failure" if alert.on is AlertEvent.FAILURE else "on_completion"
            hooks.setdefault(key, []).append(call)
        return [(key, f"[{', '.join(calls)}]") for key, calls in hooks.items()]

    # ------------------------------------------------------------------ the flow body

    def _submission(self, task_id: str, task: Task) -> list[str]:
        """The flow-body lines that decide whether the task runs and submit it."""
        lines = []
        upstream = list(self.graph.predecessors(task_id))
        data = sorted({r.task for path, r in task_refs(task)
                       if r.kind == "task_output" and r.task and path != ("when",)},  # conditions run in the flow
                      key=list(self.p.tasks).index)
        checks = []
        if task.trigger_rule is TriggerRule.ALL_SUCCESS:
            if upstream:
                checks.append(f"_submitted(_futures, {_ids(upstream)})")
        else:
            checks.append(f"_rule(_futures, {py(task.trigger_rule.value)}, {_ids(upstream)})")
        if task.when is not None:
            expr = conditions.parse(task.when)
            sources = sorted({r.task for r in condition_refs(expr) if r.kind == "task_output" and r.task},
                             key=list(self.p.tasks).index)
            lines.append(f"# {task_id} runs when: {py(task.when)}")
            lines.append(f"_when[{py(task_id)}] = _condition(_futures, {_ids(sources)}, "
                         f"lambda: {self._condition(expr)})")
            checks.append(f"_when[{py(task_id)}] is True")
        if task.else_of is not None:
            checks.append(f"_when.get({py(task.else_of)}) is False")
        inputs = f"_inputs(_futures, {_ids(data)})" if data else "{}"
        if not upstream:
            waits = "[]"
        elif task.trigger_rule is TriggerRule.ALL_SUCCESS:
            waits = f"_after(_futures, {_ids(upstream)})"
        else:  # the rule has accepted the upstream states: a failed one must not make it NotReady
            waits = f"_after(_futures, {_ids(upstream)}, allow_failed=True)"
        function = self.functions[task_id]
        if task.is_mapped:
            items = self._items(task)
            call = (f"_map({function}, _params, {inputs}, {items}, {waits}, "
                    f"{py(task.max_parallel)})")
        else:
            call = f"{function}.submit(_params, {inputs}, wait_for={waits})"
        if checks:
            lines.append(f"if {' and '.join(checks)}:")
            lines.append(f"    _futures[{py(task_id)}] = {call}")
        else:
            lines.append(f"_futures[{py(task_id)}] = {call}")
        return lines

    def _items(self, task: Task) -> str:
        if isinstance(task.foreach, list):
            return py(task.foreach)
        return f"_items(_futures, _params, {py(value_spec(task.foreach, self.p, whole_value=True))})"

    def _condition(self, expr: conditions.Expr) -> str:
        def ref_code(ref: Ref) -> str:
            if ref.kind == "param":
                return f"_params[{py(ref.name)}]"
            return f"_result(_futures, {py(ref.task)})[{py(ref.name)}]" if not self.p.tasks[str(ref.task)].is_mapped \
                else f"[r[{py(ref.name)}] for r in _result(_futures, {py(ref.task)})]"

        return condition_code(expr, ref_code)

    # ------------------------------------------------------------------ the flow and deployment

    def _signature(self) -> list[str]:
        parts = []
        for name, param in self.p.params.items():
            hint = _TYPES[param.value_type]
            if param.enum is not None:
                self.imports.add("literal")
                hint = f"Literal[{', '.join(py(v) for v in param.enum)}]"
            bounds = [f"ge={py(param.min)}"] if param.min is not None else []
            bounds += [f"le={py(param.max)}"] if param.max is not None else []
            if bounds:
                self.imports.add("field")
                hint = f"Annotated[{hint}, Field({', '.join(bounds)})]"
            default = "" if param.required else f" = {py(param.default)}"
            parts.append(f"{name}: {hint}{default}")
        required = [p for p in parts if "=" not in p]
        return required + [p for p in parts if "=" in p]

    def _flow_kwargs(self) -> list[tuple[str, str]]:
        p = self.p
        kwargs = [("name", py(p.name))]
        if p.description:
            kwargs.append(("description", py(p.description)))
        workers = p.max_active_tasks
        kwargs.append(("task_runner", f"ThreadPoolTaskRunner(max_workers={py(workers)})" if workers
                       else "ThreadPoolTaskRunner()"))
        if p.timeout is not None:
            kwargs.append(("timeout_seconds", py(p.timeout)))
        kwargs.extend(self._hooks(p.alerts))
        kwargs.append(("log_prints", "True"))
        return kwargs

    def deployment(self, module: str) -> dict[str, Any]:
        p = self.p
        entry: dict[str, Any] = {"name": p.name, "entrypoint": f"{module}:{python_name(p.name)}"}
        if p.description:
            entry["description"] = p.description
        if p.tags:
            entry["tags"] = list(p.tags)
        entry["parameters"] = {}
        if p.schedule is not None:
            entry["schedules"] = [{"cron": _cron(p.schedule.cron), "timezone": p.schedule.timezone}]
        triggers = []
        for trigger in p.triggers:
            if trigger.type is TriggerType.DATA:
                resource = trigger.uri or p.artifacts[str(trigger.artifact)].path
                triggers.append({
                    "type": "event",
                    "enabled": True,
                    "match": {"prefect.resource.id": f"dagshift.artifact.{resource}"},
                    "expect": ["dagshift.artifact.updated"],
                })
            elif trigger.type is TriggerType.CONTINUOUS:
                triggers.append({
                    "type": "event",
                    "enabled": True,
                    "match_related": {"prefect.resource.role": "flow", "prefect.resource.name": p.name},
                    "expect": ["prefect.flow-run.Completed"],
                })
        if triggers:
            entry["triggers"] = triggers
        if p.max_active_runs is not None:
            entry["concurrency_limit"] = p.max_active_runs
        entry["work_pool"] = {"name": "default"}
        return {"name": p.name, "prefect-version": PREFECT_VERSION, "deployments": [entry]}

    def context(self) -> dict[str, Any]:
        return {
            "name": self.p.name,
            "source": PurePath(self.ctx.source_name).name,
            "imports": self.imports,
            "workdir": self.p.workdir,
            "specs": self.specs,
            "tasks": self.tasks,
            "flow_function": python_name(self.p.name),
            "flow_kwargs": self._flow_kwargs(),
            "signature": self._signature(),
            "params": list(self.p.params),
            "param_types": py({name: _TYPES[param.value_type] for name, param in self.p.params.items()}),
            "body": self.body,
        }


def _ids(task_ids) -> str:
    return py(list(task_ids))


def _cron(cron: str) -> str:
    return CRON_PRESETS.get(cron, cron)


def _retry_delays(task: Task) -> list[int]:
    """delay * backoff ** attempt, capped at retry_max_delay: one entry per retry."""
    delay = task.retry_delay or 0
    factor = task.retry_backoff or 1.0
    cap = task.retry_max_delay
    delays = []
    for attempt in range(task.retries or 0):
        value = int(round(delay * factor**attempt))
        delays.append(min(value, cap) if cap is not None else value)
    return delays

