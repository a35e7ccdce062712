"""Airflow 3 backend: one DAG file per pipeline, written against `airflow.sdk`.

How the IR maps (details in docs/backends/airflow.md):
- plain shell tasks are BashOperators whose placeholders become Airflow Jinja; literal text is
  escaped so it never becomes a template;
- python tasks, shell tasks with value outputs or secrets, and mapped tasks are TaskFlow `@task`s
  that call the small runtime in the generated file with the task's spec (a Python literal), so
  placeholders are resolved at run time without any templating of user text;
- container tasks are KubernetesPodOperators;
- `when` / `else_of` become a BranchPythonOperator per condition; fallbacks keep the run failed
  through a `<task>__succeeded` leaf; value outputs travel as one XCom dict per task.
"""

from __future__ import annotations

import builtins
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import PurePath
from typing import Any

import networkx as nx

from .. import conditions, emit
from ..features import Feature
from ..graph import topological_order
from ..ir import AlertEvent, Alert, Pipeline, Task, TriggerRule, TriggerType, ValueType
from ..optimize import TaskCost
from ..naming import dns_name, python_name
from ..values import cpu_millicores, memory_bytes
from ..placeholders import Ref, parse as parse_placeholders
from .base import Backend, EmitContext, emulated, native, unsupported
from .specs import as_text, condition_code, condition_refs, ref_type, refs_in, unique_python_names, value_spec

# An operator reads a templated string ending like this as a template *file* name.
_BASH_EXT = (".sh", ".bash")
_DOCKER_EXT = (".sh", ".bash", ".env")

_PARAM_TYPES = {
    ValueType.STR: "string",
    ValueType.INT: "integer",
    ValueType.FLOAT: "number",
    ValueType.BOOL: "boolean",
    ValueType.LIST: "array",
    ValueType.DICT: "object",
}
_TRIGGER_RULES = {
    TriggerRule.ALL_SUCCESS: "ALL_SUCCESS",
    TriggerRule.ALL_DONE: "ALL_DONE",
    TriggerRule.ALL_FAILED: "ALL_FAILED",
    TriggerRule.ONE_FAILED: "ONE_FAILED",
    TriggerRule.ONE_SUCCESS: "ONE_SUCCESS",
    TriggerRule.NONE_FAILED: "NONE_FAILED",
}
# Names the generated module defines or imports; task variables must not rebind them.
_RESERVED = {
    "DAG", "Asset", "AssetOrTimeSchedule", "BashOperator", "BranchPythonOperator", "CronTriggerTimetable",
    "DeviceRequest", "DockerOperator", "EmptyOperator", "KubernetesPodOperator", "Param", "Secret", "TriggerRule",
    "Variable", "WORKDIR",
    "annotations", "dag", "functools", "importlib", "json", "k8s", "os", "pendulum", "shlex", "subprocess",
    "sys", "task", "tempfile", "timedelta",
}


@lru_cache(maxsize=None)
def _module_names() -> frozenset[str]:
    """More names a task variable must not take. Task `x` binds `x` and defines the function `_x`
    at module level, so `x` must not be a runtime name without its `_` (`run` would replace `_run`)
    nor a builtin the generated code calls (`list = ...` breaks every `isinstance(v, list)`). Read
    from the templates, so a new runtime function is covered without a list to keep in sync."""
    source = "".join(emit.template_source("airflow", name) for name in ("runtime.py.j2", "dag.py.j2"))
    defined = re.findall(r"^(?:def )?_([A-Za-z]\w*)", source, re.M)
    called = set(re.findall(r"[A-Za-z_]\w*", source)) & set(vars(builtins))
    return frozenset(defined) | frozenset(called)


class AirflowBackend(Backend):
    name = "airflow"
    title = "Airflow 3"
    cost = TaskCost(2.0, "each task instance waits for a scheduler loop and an executor slot")
    option_help = {"container": "kpo (default): KubernetesPodOperator; docker: DockerOperator"}
    capabilities = {
        Feature.SHELL: native("BashOperator (TaskFlow @task when it has value outputs or secrets)"),
        Feature.PYTHON: native("TaskFlow @task importing module:function at run time"),
        Feature.CONTAINER: native("KubernetesPodOperator (cncf.kubernetes provider)"),
        Feature.PYTHON_IN_IMAGE: native("a pod (or container) running `python3 -c` that imports module:function"),
        Feature.NOOP: native("EmptyOperator"),
        Feature.ORDER_EDGE: native(">>"),
        Feature.ARTIFACTS: emulated("files at their paths under the working directory; URI artifacts as Asset outlets"),
        Feature.VALUE_OUTPUTS: native("one XCom dict per task"),
        Feature.PARAMS: native("Param with JSON Schema type, enum, minimum/maximum"),
        Feature.SCHEDULE: native("CronTriggerTimetable with timezone"),
        Feature.CATCHUP: native("catchup=True with start_date"),
        Feature.DATA_TRIGGER: native("Asset schedule (AssetOrTimeSchedule with a cron)"),
        Feature.MANUAL_TRIGGER: native("schedule=None"),
        Feature.CONTINUOUS_TRIGGER: native('schedule="@continuous", max_active_runs=1'),
        Feature.RETRIES: native("retries, retry_delay"),
        Feature.RETRY_BACKOFF: native("retry_exponential_backoff (float multiplier)"),
        Feature.RETRY_MAX_DELAY: native("max_retry_delay"),
        Feature.TIMEOUT: native("execution_timeout"),
        Feature.PIPELINE_TIMEOUT: native("dagrun_timeout"),
        Feature.CONDITION: native("BranchPythonOperator per condition"),
        Feature.TRIGGER_RULE: native("trigger_rule; a fallback keeps the run failed via a <task>__succeeded leaf"),
        Feature.STATIC_FAN_OUT: native(".expand over the list (a param list through a <task>__items task)"),
        Feature.DYNAMIC_FAN_OUT: native(".expand over a <task>__items task reading the upstream XCom"),
        Feature.FAN_IN: native("xcom_pull of the mapped task: the list of its values"),
        Feature.MAX_PARALLEL: native("max_active_tis_per_dagrun"),
        Feature.ENV: native("env (BashOperator), process env (TaskFlow), env_vars (pod)"),
        Feature.SECRETS: native("Variable (JSON) read at run time; Kubernetes Secret for pods"),
        Feature.RESOURCES: native("container_resources (pod) or executor_config pod_override"),
        Feature.GPU: native("nvidia.com/gpu limit (pod) or executor_config pod_override"),
        Feature.CACHE: unsupported("Airflow has no result cache: make the task skip work whose outputs exist"),
        Feature.POOL: native("pool (create it with `airflow pools set`)"),
        Feature.MAX_ACTIVE_TASKS: native("max_active_tasks"),
        Feature.MAX_ACTIVE_RUNS: native("max_active_runs"),
        Feature.PIPELINE_ALERTS: native("DAG on_failure_callback"),
        Feature.TASK_ALERTS: native("on_failure_callback"),
        Feature.RETRY_ALERTS: native("on_retry_callback"),
        Feature.SUCCESS_ALERTS: native("on_success_callback"),
        Feature.WORKDIR: native("cwd of every task"),
        Feature.OWNER: native("default_args owner"),
        Feature.TAGS: native("DAG tags"),
        Feature.PRIORITY: native("priority_weight with weight_rule absolute"),
    }

    def render(self, pipeline: Pipeline, ctx: EmitContext) -> dict[str, str]:
        builder = _DagBuilder(pipeline, ctx)
        if not builder.build():
            return {}
        filename = f"{python_name(pipeline.name)}.py"
        source = emit.render("airflow", "dag.py.j2", **builder.context(filename))
        return {filename: emit.format_python(source, filename)}


# ----------------------------------------------------------------------------- code helpers


def py(value: Any) -> str:
    return emit.python_literal(value)


def jinja_literal(text: str) -> str:
    """Text that Airflow's Jinja renders back to exactly `text`. Jinja turns a carriage return
    (alone or before a newline) in template text into a newline, so one is printed by an
    expression; every `{` that would open a tag with what follows it (`{`, `%`, `#`, such an
    expression, or whatever comes after the text: a placeholder's `{{ ... }}`) is printed by an
    expression too."""
    out = []
    for index, char in enumerate(text):
        if char == "{" and text[index + 1 : index + 2] in ("{", "%", "#", "\r", ""):
            out.append("{{ '{' }}")
        elif char == "\r":
            out.append("{{ '\\r' }}")
        else:
            out.append(char)
    return "".join(out)


class _Jinja(str):
    """Jinja code made by the backend (a placeholder's expression), as opposed to user text."""


def _is_text(part: str) -> bool:
    return not isinstance(part, _Jinja)


@dataclass
class _Operator:
    """One operator instantiation: `var = cls(kw=code, ...)`, or a TaskFlow function + call."""

    var: str
    task_id: str
    cls: str
    kwargs: list[tuple[str, str]] = field(default_factory=list)
    taskflow: str | None = None  # the body of a TaskFlow function, when cls == "task"
    expand: str | None = None  # code of the list to map over
    comment: str | None = None


# ----------------------------------------------------------------------------- the builder


class _DagBuilder:
    def __init__(self, pipeline: Pipeline, ctx: EmitContext):
        self.p = pipeline
        self.ctx = ctx
        self.graph: nx.DiGraph = ctx.graph
        self.imports: set[str] = set()
        self.runtime: set[str] = set()
        self.specs: dict[str, str] = {}
        self.operators: list[_Operator] = []
        self.functions: list[str] = []
        self.edges: list[tuple[str, str]] = []
        self._helper_edges: list[tuple[str, str]] = []  # edges to and from generated helper tasks
        self._names: set[str] = set()  # every module-level name a task or helper variable took
        self.vars = self._variable_names()
        self.extra_ids: set[str] = set()

    def _timedelta(self, seconds: int) -> str:
        self.imports.add("timedelta")
        return f"timedelta(seconds={seconds})"

    # ------------------------------------------------------------------ names

    def _variable_names(self) -> dict[str, str]:
        used = self._names
        used.update(_RESERVED, _module_names())
        # `_when_<id>` is a condition's function: a task variable `when_<id>` would define it too.
        used.update(f"when_{python_name(t)}" for t, task in self.p.tasks.items() if task.when is not None)
        return unique_python_names(self.p.tasks, used)

    def _generated_id(self, task_id: str, suffix: str) -> str | None:
        generated = f"{task_id}__{suffix}"
        if generated in self.p.tasks:
            self.ctx.report.error("E302", f"Airflow needs a helper task '{generated}', but the pipeline already has "
                                          "a task with that id", ("tasks", generated), at_key=True,
                                  help="rename the task")
            return None
        self.extra_ids.add(generated)
        return generated

    def _helper_var(self, task_id: str, suffix: str) -> str:
        """`<var>__<suffix>` for a helper task, unless a task took that name (ids `a--items` and `a`)."""
        base = f"{self.vars[task_id]}__{suffix}"
        name, counter = base, 2
        while name in self._names:
            name, counter = f"{base}{counter}", counter + 1
        self._names.add(name)
        return name

    # ------------------------------------------------------------------ build

    def build(self) -> bool:
        before = len(self.ctx.diagnostics.errors)
        self._check_limits()
        for task_id in topological_order(self.graph):
            self._task(task_id)
        for upstream, downstream in self._graph_edges():
            self.edges.append((upstream, downstream))
        return len(self.ctx.diagnostics.errors) == before

    def _check_limits(self) -> None:
        container = self.ctx.options.get("container", "kpo")
        for task_id, task in self.p.tasks.items():
            if task.image is not None and task.outputs and container == "docker":
                self.ctx.report.error("E302", f"Airflow cannot read value outputs of container task '{task_id}' "
                                              "here", ("tasks", task_id, "outputs"), at_key=True,
                                      help="use --option container=kpo (its XCom sidecar returns them), or "
                                           "write the value to an artifact")
            if task.image is not None and task.foreach is not None and not isinstance(task.foreach, list):
                self.ctx.report.error("E302", f"Airflow backend: container task '{task_id}' can fan out over a "
                                              "literal list only", ("tasks", task_id, "foreach"),
                                      help="fan out a shell or python task, or list the items in the file")
        if container not in ("kpo", "docker"):
            self.ctx.report.error("E303", f"unknown value '{container}' for the airflow option `container`",
                                  help="use --option container=kpo (KubernetesPodOperator) or container=docker")
        for task_id, task in self.p.tasks.items():
            if container == "docker" and task.image is not None and task.secrets:
                self.ctx.report.error("E302", f"DockerOperator cannot reference secrets (task '{task_id}')",
                                      ("tasks", task_id, "secrets"), at_key=True,
                                      help="use --option container=kpo, whose pods read Kubernetes Secrets")
        if any(t.type is TriggerType.CONTINUOUS for t in self.p.triggers) and (self.p.max_active_runs or 1) > 1:
            self.ctx.report.warning("W302", f"Airflow runs continuous DAGs with max_active_runs=1: "
                                            f"max_active_runs {self.p.max_active_runs} is left out",
                                    ("max_active_runs",), help="remove max_active_runs or the continuous trigger")
        for index, trigger in enumerate(self.p.triggers):
            if trigger.poll_interval is not None:
                self.ctx.report.warning("W302", "Airflow assets are event-driven: poll_interval is not used",
                                        ("triggers", index, "poll_interval"), at_key=True)

    def _graph_edges(self) -> list[tuple[str, str]]:
        """Edges as variable names, including the helper tasks around conditions and fan-outs."""
        edges: list[tuple[str, str]] = []
        for upstream, downstream in self.graph.edges:
            reasons = self.graph.edges[upstream, downstream]["reasons"]
            task = self.p.tasks[downstream]
            via_branch = task.when is not None or task.else_of is not None
            only_condition = all(r == "when" or r.startswith("else_of:") for r in reasons)
            if via_branch and only_condition:
                continue  # the branch task carries these
            edges.append((self.vars[upstream], self.vars[downstream]))
        edges.extend(self._helper_edges)
        order = {name: index for index, name in enumerate(op.var for op in self.operators)}
        return sorted(set(edges), key=lambda e: (order.get(e[0], 0), order.get(e[1], 0)))

    # ------------------------------------------------------------------ per task

    def _task(self, task_id: str) -> None:
        task = self.p.tasks[task_id]
        if task.when is not None:
            self._branch(task_id, task)
        common = self._common_kwargs(task_id, task)
        if task.kind == "noop":
            self.imports.add("empty")
            self.operators.append(_Operator(self.vars[task_id], task_id, "EmptyOperator", common))
        elif task.image is not None:
            self._container(task_id, task, common)
        elif task.kind == "shell" and self._plain_shell(task):
            self._bash(task_id, task, common)
        else:
            self._taskflow(task_id, task, common)
        if any(self.p.tasks[d].trigger_rule in (TriggerRule.ONE_FAILED, TriggerRule.ALL_FAILED)
               for d in self.graph.successors(task_id)):
            self._success_guard(task_id)

    def _plain_shell(self, task: Task) -> bool:
        """A BashOperator can run it: one shell string, nothing to resolve at run time."""
        return isinstance(task.command, str) and not task.outputs and not task.secrets and task.foreach is None

    def _common_kwargs(self, task_id: str, task: Task) -> list[tuple[str, str]]:
        kwargs = [("task_id", py(task_id))]
        if task.description:
            kwargs.append(("doc_md", py(task.description)))
        if task.retries:
            kwargs.append(("retries", py(task.retries)))
            if task.retry_delay is not None:
                kwargs.append(("retry_delay", self._timedelta(task.retry_delay)))
            if task.retry_backoff is not None and task.retry_backoff != 1.0:
                # A float multiplier since Airflow 3.2 (True would mean 1.0: a constant delay).
                kwargs.append(("retry_exponential_backoff", py(float(task.retry_backoff))))
            if task.retry_max_delay is not None:
                kwargs.append(("max_retry_delay", self._timedelta(task.retry_max_delay)))
        if task.timeout is not None:
            kwargs.append(("execution_timeout", self._timedelta(task.timeout)))
        if task.trigger_rule is not TriggerRule.ALL_SUCCESS:
            self.imports.add("trigger_rule")
            kwargs.append(("trigger_rule", f"TriggerRule.{_TRIGGER_RULES[task.trigger_rule]}"))
        if task.pool is not None:
            kwargs.append(("pool", py(task.pool)))
        if task.priority is not None:  # the optimizer's critical-path priority: as given, not summed downstream
            kwargs += [("priority_weight", py(task.priority)), ("weight_rule", py("absolute"))]
        if task.max_parallel is not None:
            kwargs.append(("max_active_tis_per_dagrun", py(task.max_parallel)))
        if task.resources is not None and task.kind != "container":
            self.imports.add("k8s")
            kwargs.append(("executor_config", f'{{"pod_override": {self._pod_override(task)}}}'))
        kwargs.extend(self._callbacks(task.alerts, pipeline_retry=True))
        outlets = self._outlets(task)
        if outlets:
            kwargs.append(("outlets", outlets))
        return kwargs

    def _callbacks(self, alerts: list[Alert], *, pipeline_retry: bool = False) -> list[tuple[str, str]]:
        by_event: dict[str, list[str]] = {}
        chosen = list(alerts)
        if pipeline_retry:  # a pipeline's retry alerts apply to every task
            chosen += [a for a in self.p.alerts if a.on is AlertEvent.RETRY]
        for alert in chosen:
            self.runtime.add("alert")
            self.imports.add("functools")
            if alert.command is not None:
                call = f"functools.partial(_alert, command={py(alert.command)})"
            else:
                call = f"functools.partial(_alert, target={py(alert.python)}, kwargs={py(alert.args or {})})"
            by_event.setdefault(f"on_{alert.on.value}_callback", []).append(call)
        return [(key, f"[{', '.join(calls)}]") for key, calls in by_event.items()]

    def _outlets(self, task: Task) -> str | None:
        assets = [self._asset(name) for name in task.produces if self._is_asset(name)]
        if not assets:
            return None
        self.imports.add("asset")
        return f"[{', '.join(assets)}]"

    def _is_asset(self, artifact: str) -> bool:
        triggered = {t.artifact for t in self.p.triggers if t.artifact}
        return artifact in triggered or self.p.artifacts[artifact].is_uri

    def _asset(self, artifact: str) -> str:
        return f"Asset(name={py(artifact)}, uri={py(self.p.artifacts[artifact].path)})"

    def _pod_override(self, task: Task) -> str:
        return (f'k8s.V1Pod(spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="base", '
                f"resources={self._resources(task)})]))")

    def _resources(self, task: Task) -> str:
        resources = task.resources
        assert resources is not None
        requests: dict[str, str] = {}
        limits: dict[str, str] = {}
        if resources.cpu is not None:
            requests["cpu"] = resources.cpu
        if resources.memory is not None:
            requests["memory"] = resources.memory
            limits["memory"] = resources.memory
        if resources.gpu:
            limits[resources.gpu_type] = str(resources.gpu)
        parts = []
        if requests:
            parts.append(f"requests={py(requests)}")
        if limits:
            parts.append(f"limits={py(limits)}")
        return f"k8s.V1ResourceRequirements({', '.join(parts)})"

    # ------------------------------------------------------------------ operators

    def _bash(self, task_id: str, task: Task, common: list[tuple[str, str]]) -> None:
        self.imports.add("bash")
        kwargs = list(common)
        kwargs.insert(1, ("bash_command", py(self._jinja_text(str(task.command), template_ext=_BASH_EXT))))
        if task.env:
            # `env` is a template field too: a value ending in .sh would be read as a template file.
            env = {k: self._jinja_text(v, template_ext=_BASH_EXT) for k, v in task.env.items()}
            kwargs.append(("env", py(env)))
            kwargs.append(("append_env", "True"))
        kwargs.append(("cwd", "WORKDIR"))
        # BashOperator skips the task on exit code 99 by default: a failing command must fail.
        kwargs.append(("skip_on_exit_code", "None"))
        self.operators.append(_Operator(self.vars[task_id], task_id, "BashOperator", kwargs))

    def _container_command(self, task_id: str, task: Task) -> tuple[list[str], list[str]] | None:
        """(command, arguments) of the container, as template texts."""
        if task.python is not None:
            return self._python_in_image(task_id, task)
        if isinstance(task.command, str):
            cmds, arguments = ["sh", "-c"], [task.command]
        else:
            cmds, arguments = list(task.command or []), []
        arguments += [a if isinstance(a, str) else json.dumps(a) for a in (task.args or [])]
        if task.outputs:
            # The pod writes each output to a file; a last step collects them into the XCom file
            # the KubernetesPodOperator sidecar reads (/airflow/xcom/return.json).
            spec = {name: [out.type.value, out.path or f"{_POD_OUTPUTS}/{name}"] for name, out in task.outputs.items()}
            argv = cmds + arguments
            cmds, arguments = ["sh", "-c"], [_POD_WRAPPER, _POD_COLLECT, json.dumps(spec), *argv]
        return cmds, arguments

    def _pod_out_paths(self, task: Task) -> dict[str, str] | None:
        if not task.outputs:
            return None
        return {name: out.path or f"{_POD_OUTPUTS}/{name}" for name, out in task.outputs.items()}

    def _python_in_image(self, task_id: str, task: Task) -> tuple[list[str], list[str]] | None:
        """`python3 -c` importing module:function in the image; each keyword argument is one
        templated argument, decoded as text or JSON (so typed params keep their type)."""
        kinds, values = [], []
        for name, value in (task.args or {}).items():
            if isinstance(value, str):
                refs = refs_in(value)
                whole = len(refs) == 1 and value.strip() == value and value.startswith("${{") and value.endswith("}}")
                typed = whole and ref_type(self.p, refs[0]) not in (None, ValueType.STR)
                kinds.append([name, "json" if typed else "text"])
                values.append(value)
            elif any(True for _ in _strings_withrefs_in(value)):
                self.ctx.report.error("E302", f"Airflow backend: task '{task_id}' runs in an image, where "
                                              "placeholders inside lists or mappings of `args` are not supported",
                                      ("tasks", task_id, "args", name),
                                      help="pass the placeholder as its own argument")
                return None
            else:
                kinds.append([name, "json"])
                values.append(json.dumps(value, ensure_ascii=False))
        outputs = list(task.outputs)  # returned values go to the XCom file the pod's sidecar reads
        return ["python3", "-c", _PYTHON_IN_IMAGE], [str(task.python), json.dumps(outputs), json.dumps(kinds), *values]

    def _container(self, task_id: str, task: Task, common: list[tuple[str, str]]) -> None:
        command = self._container_command(task_id, task)
        if command is None:
            return
        cmds, arguments = command
        if self.ctx.options.get("container", "kpo") == "docker":
            self._docker(task_id, task, common, cmds, arguments)
            return
        self.imports.add("kpo")
        kwargs = list(common)
        kwargs.insert(1, ("name", py(dns_name(task_id))))
        kwargs.insert(2, ("image", py(task.image)))
        if cmds:
            kwargs.append(("cmds", py([self._jinja_text(c) for c in cmds])))
        expand = self._arguments(kwargs, "arguments", task, arguments, out_paths=self._pod_out_paths(task))
        if task.outputs:
            kwargs.append(("do_xcom_push", "True"))
        if task.env:
            kwargs.append(("env_vars", py({k: self._jinja_text(v) for k, v in task.env.items()})))
        if task.secrets:
            self.imports.add("secret")
            secrets = [f"Secret('env', {py(env)}, {py(ref.name)}, {py(ref.key)})" for env, ref in task.secrets.items()]
            kwargs.append(("secrets", f"[{', '.join(secrets)}]"))
        if task.resources is not None:
            self.imports.add("k8s")
            kwargs.append(("container_resources", self._resources(task)))
        self.operators.append(_Operator(self.vars[task_id], task_id, "KubernetesPodOperator", kwargs, expand=expand))

    def _arguments(self, kwargs: list[tuple[str, str]], key: str, task: Task, arguments: list[str],
                   **text_options: Any) -> str | None:
        """The container's arguments as kwarg `key`; for a fan-out over a literal list, the code to
        `.expand` over instead (one argument list per item)."""
        if isinstance(task.foreach, list):
            per_item = [[self._jinja_text(a, item=item, **text_options) for a in arguments] for item in task.foreach]
            return f"{key}={py(per_item)}"
        if arguments:
            kwargs.append((key, py([self._jinja_text(a, **text_options) for a in arguments])))
        return None

    def _docker(self, task_id: str, task: Task, common: list[tuple[str, str]], cmds: list[str],
                arguments: list[str]) -> None:
        self.imports.add("docker")
        kwargs = list(common)
        kwargs.insert(1, ("image", py(task.image)))
        if cmds:  # not a template field: no placeholders reach it (they are in the arguments)
            kwargs.append(("entrypoint", py(cmds)))
        expand = self._arguments(kwargs, "command", task, arguments, template_ext=_DOCKER_EXT)
        if task.env:
            environment = {k: self._jinja_text(v, template_ext=_DOCKER_EXT) for k, v in task.env.items()}
            kwargs.append(("environment", py(environment)))
        resources = task.resources
        if resources is not None:
            if resources.cpu is not None:
                kwargs.append(("cpus", py(cpu_millicores(resources.cpu) / 1000)))
            if resources.memory is not None:
                kwargs.append(("mem_limit", py(memory_bytes(resources.memory))))
            if resources.gpu:
                self.imports.add("docker_types")
                kwargs.append(("device_requests",
                               f"[DeviceRequest(count={resources.gpu}, capabilities=[['gpu']])]"))
        self.operators.append(_Operator(self.vars[task_id], task_id, "DockerOperator", kwargs, expand=expand))

    def _taskflow(self, task_id: str, task: Task, common: list[tuple[str, str]]) -> None:
        self.imports.add("task")
        self.runtime.add("run")
        spec = self._spec(task_id, task)
        self.specs[task_id] = py(spec)
        expand = None
        if task.foreach is not None:
            expand = self._fan_out_source(task_id, task)
            body = f"return _run(_SPECS[{py(task_id)}], context, item)"
        else:
            body = f"return _run(_SPECS[{py(task_id)}], context)"
        self.operators.append(_Operator(self.vars[task_id], task_id, "task", common, taskflow=body, expand=expand))

    def _fan_out_source(self, task_id: str, task: Task) -> str | None:
        if isinstance(task.foreach, list):
            return f"item={py(task.foreach)}"
        items_id = self._generated_id(task_id, "items")
        if items_id is None:
            return None
        spec = value_spec(task.foreach, self.p, whole_value=True)
        var = self._helper_var(task_id, "items")
        self.specs[items_id] = py({"items": spec})
        self.operators.append(_Operator(var, items_id, "task", [("task_id", py(items_id))],
                                        taskflow=f"return _items(_SPECS[{py(items_id)}], context)"))
        self.runtime.add("items")
        for ref in refs_in(task.foreach):
            if ref.kind == "task_output" and ref.task in self.vars:
                self._helper_edges.append((self.vars[ref.task], var))
        return f"item={var}"

    def _spec(self, task_id: str, task: Task) -> dict:
        spec: dict[str, Any] = {"kind": task.kind}
        if task.kind == "python":
            spec["target"] = task.python
            spec["kwargs"] = {k: value_spec(v, self.p, whole_value=True) for k, v in (task.args or {}).items()}
        else:
            command = task.command
            if isinstance(command, list):
                spec["argv"] = [value_spec(part, self.p) for part in command]
            else:
                spec["command"] = value_spec(command or "", self.p)
        if task.env:
            spec["env"] = {k: value_spec(v, self.p) for k, v in task.env.items()}
        if task.secrets:
            self.imports.add("variable")
            spec["secrets"] = {env: [ref.name, ref.key] for env, ref in task.secrets.items()}
        if task.outputs:
            spec["outputs"] = {name: [out.type.value, out.path] for name, out in task.outputs.items()}
        return spec

    def _branch(self, task_id: str, task: Task) -> None:
        branch_id = self._generated_id(task_id, "branch")
        if branch_id is None:
            return
        try:
            expr = conditions.parse(task.when or "")
        except conditions.ConditionError:  # validated before; keep the compiler total
            return
        else_ids = [t for t, other in self.p.tasks.items() if other.else_of == task_id]
        function = f"_when_{python_name(task_id)}"
        condition = _condition_code(expr, self.p)
        self.runtime.add("output")
        self.functions.append(
            f"def {function}(ti, params):\n"
            f"    # when: {py(task.when)}\n"
            f"    return {py([task_id])} if {condition} else {py(else_ids)}\n"
        )
        self.imports.add("branch")
        var = self._helper_var(task_id, "branch")
        self.operators.append(_Operator(var, branch_id, "BranchPythonOperator",
                                        [("task_id", py(branch_id)), ("python_callable", function)]))
        upstreams = {r.task for r in condition_refs(expr) if r.kind == "task_output"}
        for upstream in sorted(upstreams, key=list(self.p.tasks).index):
            self._helper_edges.append((self.vars[upstream], var))
        for target in [task_id, *else_ids]:
            self._helper_edges.append((var, self.vars[target]))

    def _success_guard(self, task_id: str) -> None:
        guard_id = self._generated_id(task_id, "succeeded")
        if guard_id is None:
            return
        self.imports.add("empty")
        var = self._helper_var(task_id, "succeeded")
        self.operators.append(_Operator(
            var, guard_id, "EmptyOperator", [("task_id", py(guard_id))],
            comment=f"Fails the run when {task_id} failed, even though its fallback ran: a DAG run's state comes "
                    "from its leaves."))
        self._helper_edges.append((self.vars[task_id], var))

    # ------------------------------------------------------------------ text

    def _jinja_text(self, text: str, *, template_ext: tuple[str, ...] = (), item: Any = None,
                    out_paths: dict[str, str] | None = None) -> str:
        """A placeholder text as an Airflow template: literals escaped, refs as Jinja expressions."""
        segments, _ = parse_placeholders(text)
        parts: list[str | _Jinja] = []  # literal text (merged), or Jinja code
        for segment in segments:
            if isinstance(segment, str):
                piece: str | _Jinja = segment
            elif segment.kind == "param":
                piece = _Jinja(f"{{{{ params[{py(segment.name)}] | dagshift_text }}}}")
            elif segment.kind == "artifact":
                piece = self.p.artifacts[str(segment.name)].path
            elif segment.kind == "task_output":
                upstream = self.p.tasks[str(segment.task)]
                pull = f"ti.xcom_pull(task_ids={py(segment.task)})"
                if upstream.is_mapped:
                    piece = _Jinja(f"{{{{ {pull} | dagshift_pluck({py(segment.name)}) | dagshift_text }}}}")
                else:
                    piece = _Jinja(f"{{{{ {pull}[{py(segment.name)}] | dagshift_text }}}}")
            elif segment.kind == "item":
                piece = as_text(item if segment.name is None else item[segment.name])
            elif out_paths is not None:  # `${{ outputs.X }}` of a pod: a file the pod collects
                piece = out_paths[str(segment.name)]
            else:  # other tasks with value outputs run through _run, never as templates
                continue
            if _is_text(piece) and parts and _is_text(parts[-1]):
                parts[-1] = str(parts[-1]) + piece
            else:
                parts.append(piece)
        self.runtime.add("text")
        ending = ""
        if parts and _is_text(parts[-1]):
            # What Airflow reads from the template's raw end is written as Jinja expressions: a
            # command ending like a file name (.sh), and the last newline (keep_trailing_newline=False).
            last = str(parts.pop())
            if template_ext and last.endswith(template_ext):
                dot = last.rindex(".")
                last, ending = last[:dot], "{{ '.' }}" + last[dot + 1 :]
            elif last.endswith("\n"):
                last, ending = last[:-1], "{{ '\\n' }}"
            parts.append(last)
        return "".join(jinja_literal(p) if _is_text(p) else p for p in parts) + ending

    # ------------------------------------------------------------------ the DAG call

    def _dag_kwargs(self) -> list[tuple[str, str]]:
        p = self.p
        kwargs = [("dag_id", py(p.name))]
        if p.description:
            kwargs.append(("description", py(p.description)))
        kwargs.append(("schedule", self._schedule()))
        start = self._start_date()
        if start:
            kwargs.append(("start_date", start))
        kwargs.append(("catchup", py(bool(p.schedule and p.schedule.catchup))))
        if p.params:
            self.imports.add("param")
            kwargs.append(("params", "{" + ", ".join(f"{py(n)}: {self._param(n)}" for n in p.params) + "}"))
        if p.tags:
            kwargs.append(("tags", py(list(p.tags))))
        if p.owner:
            kwargs.append(("default_args", py({"owner": p.owner})))
        if p.max_active_tasks is not None:
            kwargs.append(("max_active_tasks", py(p.max_active_tasks)))
        continuous = any(t.type is TriggerType.CONTINUOUS for t in p.triggers)
        if p.max_active_runs is not None or continuous:
            kwargs.append(("max_active_runs", py(1 if continuous else p.max_active_runs)))
        if p.timeout is not None:
            kwargs.append(("dagrun_timeout", self._timedelta(p.timeout)))
        kwargs.extend(self._callbacks([a for a in p.alerts if a.on is not AlertEvent.RETRY]))
        kwargs.append(("user_defined_filters", '{"dagshift_text": _text, "dagshift_pluck": _pluck}'))
        self.runtime.add("text")
        return kwargs

    def _schedule(self) -> str:
        p = self.p
        if any(t.type is TriggerType.CONTINUOUS for t in p.triggers):
            return py("@continuous")
        assets = []
        for trigger in p.triggers:
            if trigger.type is TriggerType.DATA:
                self.imports.add("asset")
                if trigger.artifact:
                    assets.append(self._asset(trigger.artifact))
                else:
                    assets.append(f"Asset({py(trigger.uri)})")
        timetable = None
        if p.schedule is not None:
            self.imports.add("cron")
            timetable = f"CronTriggerTimetable({py(p.schedule.cron)}, timezone={py(p.schedule.timezone)})"
        if assets and timetable:
            self.imports.add("asset_or_time")
            return f"AssetOrTimeSchedule(timetable={timetable}, assets={' | '.join(assets)})"
        if assets:
            return f"[{', '.join(assets)}]"
        return timetable or "None"

    def _start_date(self) -> str | None:
        schedule = self.p.schedule
        if schedule is None or schedule.start_date is None:
            return None
        self.imports.add("pendulum")
        start = schedule.start_date
        if isinstance(start, datetime):
            parts = [start.year, start.month, start.day, start.hour, start.minute, start.second]
        else:
            assert isinstance(start, date)
            parts = [start.year, start.month, start.day]
        return f"pendulum.datetime({', '.join(map(str, parts))}, tz={py(schedule.timezone)})"

    def _param(self, name: str) -> str:
        param = self.p.params[name]
        args = []
        if param.default is not None:
            args.append(py(param.default))
        args.append(f"type={py(_PARAM_TYPES[param.value_type])}")
        if param.description:
            args.append(f"description={py(param.description)}")
        if param.enum is not None:
            args.append(f"enum={py(list(param.enum))}")
        for keyword_name, bound in (("minimum", param.min), ("maximum", param.max)):
            if bound is not None:
                whole = param.value_type is ValueType.INT and float(bound).is_integer()
                args.append(f"{keyword_name}={py(int(bound) if whole else bound)}")
        return f"Param({', '.join(args)})"

    # ------------------------------------------------------------------ template context

    def context(self, filename: str) -> dict[str, Any]:
        return {
            "name": self.p.name,
            "source": PurePath(self.ctx.source_name).name,
            "imports": self.imports,
            "runtime": self.runtime,
            "workdir": self.p.workdir,
            "dag_kwargs": self._dag_kwargs(),
            "specs": self.specs,
            "functions": self.functions,
            "operators": self.operators,
            "edges": _group_edges(self.edges),
        }


# ----------------------------------------------------------------------------- specs and conditions


# A pod with value outputs runs `sh -c _POD_WRAPPER _POD_COLLECT SPEC ARGV...`: the user's argv,
# then python3 (which an image producing values has) writes /airflow/xcom/return.json.
_POD_OUTPUTS = "/airflow/xcom/dagshift"
_POD_WRAPPER = f'spec="$1"; shift; mkdir -p {_POD_OUTPUTS} && "$@" && exec python3 -c "$0" "$spec"'
_POD_COLLECT = (
    "import json, sys\n"
    "values = {}\n"
    "for name, (kind, path) in json.loads(sys.argv[1]).items():\n"
    "    text = open(path, encoding='utf-8').read()\n"
    "    text = text[:-1] if text.endswith('\\n') else text\n"
    "    values[name] = text if kind == 'str' else json.loads(text)\n"
    "json.dump(values, open('/airflow/xcom/return.json', 'w'))\n"
)

# Runs inside the task's image: argv = [module:function, [output...], [[name, "text"|"json"], ...], value...].
_PYTHON_IN_IMAGE = (
    "import importlib, json, os, sys\n"
    "target, outputs, kinds = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])\n"
    "kwargs = {n: json.loads(v) if k == 'json' else v for (n, k), v in zip(kinds, sys.argv[4:])}\n"
    "module, _, name = target.partition(':')\n"
    "function = importlib.import_module(module)\n"
    "for part in name.split('.'):\n"
    "    function = getattr(function, part)\n"
    "result = function(**kwargs)\n"
    "if outputs:\n"
    "    values = {outputs[0]: result} if len(outputs) == 1 else {n: result[n] for n in outputs}\n"
    "    os.makedirs('/airflow/xcom', exist_ok=True)\n"
    "    json.dump(values, open('/airflow/xcom/return.json', 'w'))\n"
)


def _strings_withrefs_in(value: Any):
    if isinstance(value, str):
        if refs_in(value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_withrefs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_withrefs_in(item)


def _condition_code(expr: conditions.Expr, pipeline: Pipeline) -> str:
    def ref_code(ref: Ref) -> str:
        if ref.kind == "param":
            return f"params[{py(ref.name)}]"
        mapped = pipeline.tasks[str(ref.task)].is_mapped
        return f"_output(ti, {py(ref.task)}, {py(ref.name)}, {py(mapped)})"

    return condition_code(expr, ref_code)


def _group_edges(edges: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for upstream, downstream in edges:
        grouped.setdefault(upstream, []).append(downstream)
    return list(grouped.items())
