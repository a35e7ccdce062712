"""Airflow 3 backend: one DAG file per pipeline, written against `airflow.sdk` the way an engineer
who writes DAGs every day would (docs/backends/airflow.md):

- each task's own code (operators.py): BashOperators with the command in sight, TaskFlow
  functions calling the user's function, pods with `.partial().expand()`, `@task.branch`
  conditions; values passed as TaskFlow arguments, params read from the context;
- the settings most tasks share in `default_args` (defaults.py);
- the dependency graph without the edges Airflow does not need (edges.py);
- only the imports, helpers and Jinja filters some task uses; nothing of dagshift at run time.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from compiler.backends.base import Backend, EmitContext, Support, TaskCost, emulated, native, unsupported
from compiler.backends.specs import unique_python_names
from compiler.language.features import Feature
from compiler.language.graph import topological_order
from compiler.language.ir import Pipeline, TriggerRule, TriggerType, ValueType
from compiler.language.naming import module_stem
from compiler.output import emit

from .conventions import BRANCH, DOCSTRING_TITLE, HELPER_SEPARATOR, SUCCEEDED, WORKDIR
from .defaults import shared_settings
from .edges import edge_lines, reduce_edges
from .limits import (
    ASSET_NAME,
    CONTINUOUS_MAX_ACTIVE_RUNS,
    DOCKER_GPU_TYPE,
    DOCKER_SECRETS,
    DOCKER_VALUE_OUTPUTS,
    LIMITS,
    POLL_INTERVAL,
    TAG_LENGTH,
    TAG_LIMIT,
)
from .operators import BASH_EXT, TRIGGER_RULES, Names, TaskWriter
from .task_code import TaskCode
from .values import JSON_TEXT_FILTER, Needs, asset_problem, template_text

__all__ = ["TRIGGER_RULES", "AirflowBackend"]

_PARAM_TYPES = {
    ValueType.STR: "string",
    ValueType.INT: "integer",
    ValueType.FLOAT: "number",
    ValueType.BOOL: "boolean",
    ValueType.LIST: "array",
    ValueType.DICT: "object",
}
# Names a generated module may import or define: a task variable never rebinds one (nor a builtin).
_MODULE_NAMES = frozenset({
    "contextlib", "functools", "json", "os", "subprocess", "sys", "tempfile", "timedelta", "TypedDict", "pendulum",
    "BashOperator", "EmptyOperator", "KubernetesPodOperator", "DockerOperator", "Secret", "DeviceRequest", "k8s",
    "DAG", "Asset", "AssetOrTimeSchedule", "CronTriggerTimetable", "Param", "TriggerRule", "Variable", "task",
    WORKDIR, "_enter_workdir", "_environment", "_text", "_json_text", "_read_json", "_read_text", "_alert",
}) | frozenset(vars(builtins))
# The GPUs DockerOperator's device request (capabilities [["gpu"]]) gets: the NVIDIA runtime's.
_DOCKER_GPU_TYPE = "nvidia.com/gpu"
# Standard-library modules, imported in the first group.
_STDLIB = {"contextlib", "functools", "json", "os", "subprocess", "sys", "tempfile", "datetime", "typing"}
# What each helper of templates/airflow/helpers.py.j2 imports.
_HELPER_IMPORTS = {
    "enter_workdir": ("os", "sys"),
    "environment": ("contextlib", "os"),
    "text": ("json",),
    JSON_TEXT_FILTER: ("json",),
    "read_json": ("json",),
    "read_text": (),
    "alert": ("subprocess",),
}


class AirflowBackend(Backend):
    name = "airflow"
    title = "Airflow 3"
    cost = TaskCost(2.0, "each task instance waits for a scheduler loop and an executor slot")
    render_weight = 3.0
    option_help: ClassVar[Mapping[str, str]] = {"container": "kpo (default): KubernetesPodOperator; docker: DockerOperator"}
    capabilities: ClassVar[Mapping[Feature, Support]] = {
        Feature.SHELL: native("BashOperator (a TaskFlow task running it when it has value outputs or secrets)"),
        Feature.PYTHON: native("TaskFlow @task importing the function and calling it"),
        Feature.CONTAINER: native("KubernetesPodOperator (cncf.kubernetes provider)"),
        Feature.PYTHON_IN_IMAGE: native("a pod (or container) running `python3 -c` that imports the function"),
        Feature.NOOP: native("EmptyOperator"),
        Feature.ORDER_EDGE: native(">>"),
        Feature.ARTIFACTS: emulated("files at their paths under the working directory; URI artifacts as Asset outlets"),
        Feature.VALUE_OUTPUTS: native("TaskFlow return values (XCom), passed as arguments"),
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
        Feature.CONDITION: native("@task.branch per condition"),
        Feature.TRIGGER_RULE: native("trigger_rule; a fallback keeps the run failed via a <task>__succeeded leaf"),
        Feature.STATIC_FAN_OUT: native(".expand over the list (a list param through a <task>__items task)"),
        Feature.DYNAMIC_FAN_OUT: native(".expand over the upstream task's result"),
        Feature.FAN_IN: native("the mapped task's result: the list of its values"),
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
    limits = LIMITS

    def render(self, pipeline: Pipeline, ctx: EmitContext) -> dict[str, str]:
        builder = _DagBuilder(pipeline, ctx)
        if not builder.build():
            return {}
        filename = f"{module_stem(pipeline.name)}.py"
        source = emit.render("airflow", "dag.py.j2", **builder.context())
        return {filename: emit.format_python(source, filename)}


class _DagBuilder:
    def __init__(self, pipeline: Pipeline, ctx: EmitContext):
        self.p = pipeline
        self.ctx = ctx
        self.needs = Needs()
        self.names = Names(_MODULE_NAMES)
        variables = unique_python_names(pipeline.tasks, set(_MODULE_NAMES))
        self.names.taken.update(variables.values())
        self.writer = TaskWriter(pipeline, ctx, self.needs, self.names, variables)
        self.codes: list[TaskCode] = []

    # ------------------------------------------------------------------ build

    def build(self) -> bool:
        before = len(self.ctx.diagnostics.errors)
        self._check_limits()
        for task_id in topological_order(self.ctx.graph):
            self.codes += self.writer.task(task_id)
        return len(self.ctx.diagnostics.errors) == before

    def _check_limits(self) -> None:
        container = self.ctx.options.get("container", "kpo")
        if container not in ("kpo", "docker"):
            self.ctx.report.error("E303", f"unknown value '{container}' for the airflow option `container`",
                                  help="use --option container=kpo (KubernetesPodOperator) or container=docker")
        for task_id, task in self.p.tasks.items():
            if task.image is not None and task.outputs and container == "docker":
                DOCKER_VALUE_OUTPUTS.diagnose(self.ctx.report, f"Airflow cannot read value outputs of container task "
                                                               f"'{task_id}' here", ("tasks", task_id, "outputs"),
                                              at_key=True)
            if container == "docker" and task.image is not None and task.secrets:
                DOCKER_SECRETS.diagnose(self.ctx.report, f"DockerOperator cannot reference secrets (task '{task_id}')",
                                        ("tasks", task_id, "secrets"), at_key=True)
            resources = task.resources
            if container == "docker" and task.image is not None and resources is not None and resources.gpu:
                self._check_docker_gpu(task_id, resources.gpu_type)
        if any(t.type is TriggerType.CONTINUOUS for t in self.p.triggers) and (self.p.max_active_runs or 1) > 1:
            CONTINUOUS_MAX_ACTIVE_RUNS.diagnose(self.ctx.report, "Airflow runs continuous DAGs with max_active_runs=1: "
                                                                 f"max_active_runs {self.p.max_active_runs} is left "
                                                                 "out", ("max_active_runs",))
        self._check_assets()
        for index, tag in enumerate(self.p.tags):
            if len(tag) > TAG_LIMIT:
                TAG_LENGTH.diagnose(self.ctx.report, f"Airflow refuses a DAG tag longer than {TAG_LIMIT} characters",
                                    ("tags", index))
        for index, trigger in enumerate(self.p.triggers):
            if trigger.poll_interval is not None:
                POLL_INTERVAL.diagnose(self.ctx.report, "Airflow assets are event-driven: poll_interval is not used",
                                       ("triggers", index, "poll_interval"), at_key=True)

    def _check_docker_gpu(self, task_id: str, gpu_type: str) -> None:
        """DockerOperator asks for GPUs by count: another resource than NVIDIA's is not what it gets."""
        if gpu_type != _DOCKER_GPU_TYPE:
            DOCKER_GPU_TYPE.diagnose(self.ctx.report, f"DockerOperator requests GPUs by count: gpu_type '{gpu_type}' "
                                                      "is not used", ("tasks", task_id, "resources", "gpu_type"))

    def _check_assets(self) -> None:
        """Every Asset the DAG file makes is one Airflow takes: a refused one fails the file's import."""
        assets = {(t.uri, t.uri): ("triggers", index, "uri") for index, t in enumerate(self.p.triggers)
                  if t.uri is not None}
        for name in self.writer.asset_artifacts():
            assets[(name, self.p.artifacts[name].path)] = ("artifacts", name, "path")
        for (name, uri), path in assets.items():
            problem = asset_problem(name, uri)
            if problem:
                ASSET_NAME.diagnose(self.ctx.report, f"Airflow cannot schedule on or produce the asset '{uri}': "
                                                     f"{problem}", path)

    # ------------------------------------------------------------------ edges

    def _edges(self) -> tuple[list[str], set[str]]:
        """The `>>` lines, and the variables they name."""
        order = [code.var for code in self.codes]
        made = self._edges_made_by_calls()
        edges = reduce_edges(order, self._dependencies() | made, self._rules())
        written = [edge for edge in edges if edge not in made]
        return edge_lines(order, written), {name for edge in written for name in edge}

    def _dependencies(self) -> set[tuple[str, str]]:
        """Every ordering Airflow must keep, between task variables: the pipeline's edges (those
        feeding only a condition go to its branch task), and the helper tasks' own."""
        by_id = {code.task_id: code.var for code in self.codes}
        edges = set()
        for upstream, downstream in self.ctx.graph.edges:
            task = self.p.tasks[downstream]
            reasons = self.ctx.graph.edges[upstream, downstream]["reasons"]
            if (task.when is not None or task.else_of is not None) and all(
                    r == "when" or r.startswith("else_of:") for r in reasons):
                continue  # the branch task carries these
            if upstream in by_id and downstream in by_id:
                edges.add((by_id[upstream], by_id[downstream]))
        for task_id, task in self.p.tasks.items():
            branch = by_id.get(f"{task_id}{HELPER_SEPARATOR}{BRANCH}")
            if branch is not None:
                targets = [task_id] + [t for t, other in self.p.tasks.items() if other.else_of == task_id]
                edges |= {(branch, by_id[t]) for t in targets if t in by_id}
            guard = by_id.get(f"{task_id}{HELPER_SEPARATOR}{SUCCEEDED}")
            if guard is not None and task_id in by_id:
                edges.add((by_id[task_id], guard))
        return edges

    def _edges_made_by_calls(self) -> set[tuple[str, str]]:
        """Edges Airflow makes itself: from each task whose result a call passes, and from the
        helper a task is mapped over."""
        edges = {(upstream, code.var) for code in self.codes for upstream in code.passes}
        edges |= {(code.helper, code.var) for code in self.codes if code.helper}
        return edges

    def _rules(self) -> dict[str, TriggerRule]:
        return {code.var: self.p.tasks[code.task_id].trigger_rule if code.task_id in self.p.tasks
                else TriggerRule.ALL_SUCCESS for code in self.codes}

    # ------------------------------------------------------------------ the file

    def context(self) -> dict[str, Any]:
        edge_code, in_edges = self._edges()
        referenced = in_edges | {name for code in self.codes for name in code.passes}
        shared = shared_settings([code.settings for code in self.codes if code.votes])
        constants = self._shared_pod_overrides()
        body = [code.code(shared, code.var in referenced) for code in self.codes]
        dag_kwargs = self._dag_kwargs(shared)  # after the tasks: they decide what the DAG needs
        for helper in self.needs.helpers:
            for module in _HELPER_IMPORTS[helper]:
                self.needs.module(module)
        uses_workdir = self.writer.uses_workdir
        if uses_workdir and self.p.workdir is None:
            self.needs.module("os")
        return {
            "title": DOCSTRING_TITLE.format(name=self.p.name),
            "imports": self._import_lines(),
            "workdir": self.p.workdir,
            "uses_workdir": uses_workdir,
            "helpers": self.needs.helpers,
            "constants": constants,
            "functions": self.writer.functions,
            "dag_kwargs": dag_kwargs,
            "skip_code_note": any(code.operator == "BashOperator" for code in self.codes),
            "body": body,
            "edges": edge_code,
        }

    def _shared_pod_overrides(self) -> list[str]:
        """An executor_config several tasks share, as one module constant they name."""
        configs = [value for code in self.codes for key, value in code.tail if key == "executor_config"]
        names: dict[str, str] = {}
        for config in dict.fromkeys(configs):
            if configs.count(config) > 1:
                names[config] = self.names.fresh("POD_OVERRIDE")
        for code in self.codes:
            code.tail = [(key, names.get(value, value) if key == "executor_config" else value)
                         for key, value in code.tail]
        return [f"{name} = {config}" for config, name in names.items()]

    def _import_lines(self) -> list[list[str]]:
        """Import lines in two groups (standard library, then the rest), each sorted as isort does."""
        groups: list[list[str]] = []
        for stdlib in (True, False):
            entries = [i for i in self.needs.imports if (i[0].split(".")[0] in _STDLIB) is stdlib]
            plain = sorted(f"import {m}" for m, n, _ in entries if n is None)
            modules = sorted({m for m, n, _ in entries if n is not None})
            froms = []
            for module in modules:
                names = sorted({(n, a) for m, n, a in entries if m == module and n is not None},
                               key=lambda pair: (not pair[0].isupper(), not pair[0][:1].isupper(), pair[0]))
                froms.append(f"from {module} import " + ", ".join(f"{n} as {a}" if a else n for n, a in names))
            if plain or froms:
                groups.append(plain + froms)
        return groups

    # ------------------------------------------------------------------ the DAG call

    def _dag_kwargs(self, shared: dict[str, str]) -> list[tuple[str, str]]:
        p = self.p
        self.needs.name("airflow.sdk", "DAG")
        kwargs = [("dag_id", emit.python_literal(p.name))]
        if p.description:
            kwargs.append(("description", emit.python_literal(p.description)))
        kwargs.append(("schedule", self._schedule()))
        start = self._start_date()
        if start:
            kwargs.append(("start_date", start))
        if p.schedule is not None:
            kwargs.append(("catchup", emit.python_literal(bool(p.schedule.catchup))))
        if p.params:
            self.needs.name("airflow.sdk", "Param")
            kwargs.append(("params", "{" + ", ".join(f"{emit.python_literal(n)}: {self._param(n)}"
                                                     for n in p.params) + "}"))
        if p.tags:
            kwargs.append(("tags", emit.python_literal(list(p.tags))))
        default_args = self._default_args(shared)
        if default_args:
            kwargs.append(("default_args", default_args))
        if p.max_active_tasks is not None:
            kwargs.append(("max_active_tasks", emit.python_literal(p.max_active_tasks)))
        continuous = any(t.type is TriggerType.CONTINUOUS for t in p.triggers)
        if p.max_active_runs is not None or continuous:
            kwargs.append(("max_active_runs", emit.python_literal(1 if continuous else p.max_active_runs)))
        if p.timeout is not None:
            self.needs.name("datetime", "timedelta")
            kwargs.append(("dagrun_timeout", f"timedelta(seconds={p.timeout})"))
        callbacks = self.writer.callbacks([a for a in p.alerts if a.on.value != "retry"])
        kwargs.extend(callbacks.items())
        if self.needs.filters:
            filters = ", ".join(f'"{name}": _{name}' for name in sorted(self.needs.filters))
            kwargs.append(("user_defined_filters", "{" + filters + "}"))
        return kwargs

    def _default_args(self, shared: dict[str, str]) -> str | None:
        entries = []
        if self.p.owner:
            entries.append(f'"owner": {emit.python_literal(self.p.owner)},')
        if any(code.operator == "BashOperator" for code in self.codes):
            # cwd is a template field: a working directory that Jinja would change is written escaped
            workdir = self.p.workdir
            cwd = WORKDIR if workdir is None or template_text(workdir, BASH_EXT) == workdir else \
                emit.python_literal(template_text(workdir, BASH_EXT))
            entries.append(f'"cwd": {cwd},')
            entries.append('"skip_on_exit_code": None,')
        for key, value in shared.items():
            entries.append(f'"{key}": {value},')
            if key == "env":
                entries.append('"append_env": True,')
        if not entries:
            return None
        return "{\n" + "\n".join(entries) + "\n}"

    def _schedule(self) -> str:
        p = self.p
        if any(t.type is TriggerType.CONTINUOUS for t in p.triggers):
            return emit.python_literal("@continuous")
        assets = []
        for trigger in p.triggers:
            if trigger.type is TriggerType.DATA:
                if trigger.artifact:
                    assets.append(self.writer.asset(trigger.artifact))
                else:
                    assets.append(f"{self.needs.name('airflow.sdk', 'Asset')}({emit.python_literal(trigger.uri)})")
        timetable = None
        if p.schedule is not None:
            self.needs.name("airflow.sdk", "CronTriggerTimetable")
            timetable = (f"CronTriggerTimetable({emit.python_literal(p.schedule.cron)}, "
                         f"timezone={emit.python_literal(p.schedule.timezone)})")
        if assets and timetable:
            self.needs.name("airflow.sdk", "AssetOrTimeSchedule")
            return f"AssetOrTimeSchedule(timetable={timetable}, assets={' | '.join(assets)})"
        if assets:
            return f"[{', '.join(assets)}]"
        return timetable or "None"

    def _start_date(self) -> str | None:
        schedule = self.p.schedule
        if schedule is None or schedule.start_date is None:
            return None
        self.needs.module("pendulum")
        start = schedule.start_date
        if isinstance(start, datetime):
            parts = [start.year, start.month, start.day, start.hour, start.minute, start.second]
        else:
            assert isinstance(start, date)
            parts = [start.year, start.month, start.day]
        return f"pendulum.datetime({', '.join(map(str, parts))}, tz={emit.python_literal(schedule.timezone)})"

    def _param(self, name: str) -> str:
        param = self.p.params[name]
        args = []
        if param.default is not None:
            args.append(emit.python_literal(param.default))
        args.append(f"type={emit.python_literal(_PARAM_TYPES[param.value_type])}")
        if param.description:
            args.append(f"description={emit.python_literal(param.description)}")
        if param.enum is not None:
            args.append(f"enum={emit.python_literal(list(param.enum))}")
        for keyword_name, bound in (("minimum", param.min), ("maximum", param.max)):
            if bound is not None:
                whole = param.value_type is ValueType.INT and float(bound).is_integer()
                args.append(f"{keyword_name}={emit.python_literal(int(bound) if whole else bound)}")
        return f"Param({', '.join(args)})"
