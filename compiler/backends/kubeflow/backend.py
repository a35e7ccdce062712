"""Kubeflow Pipelines v2 backend: a KFP pipeline module (`<name>.py`), written with the kfp SDK.

Shell and container tasks become `@dsl.container_component`s; a shell command is cut into the
literal text and the values of its placeholders, passed as separate arguments and joined again
by `sh -c 'IFS=; exec bash -c "$*"'`, so no user text is ever read as KFP placeholder syntax
(`{{$...}}`: literal `{{` is split between two arguments). Python tasks become lightweight
`@dsl.component`s that import `module:function` inside their body and call it with keyword
arguments written as Python expressions (literal strings with `{` and `}` escaped, since KFP
embeds the body's source in the container command). Params are typed pipeline parameters;
artifacts are KFP artifacts (`Output[...]` on the producer, `Input[...]` on consumers, their
`.path` where the pipeline says `${{ artifacts.X }}`); value outputs are output parameters.

Compiling the module to PipelineSpec YAML is kfp's own job: `python <name>.py` writes
`<name>.yaml`. Details and what is not mapped yet: docs/backends/kubeflow.md.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import shlex
import sys
import tempfile
import warnings
from collections import Counter
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any
from zoneinfo import ZoneInfo

import networkx as nx

from compiler.backends.base import Backend, EmitContext, Limit, TaskCost, emulated, native, unsupported
from compiler.backends.kubernetes_pods import warn_pod_boundaries
from compiler.backends.specs import PYTHON_TYPE_NAMES as _TYPES
from compiler.backends.specs import refs_in, texts_in, unique_python_names
from compiler.language import conditions
from compiler.language.features import Feature
from compiler.language.graph import topological_order
from compiler.language.ir import AlertEvent, ArtifactKind, Pipeline, Task, TriggerRule, type_of_value
from compiler.language.naming import module_stem, python_name
from compiler.language.placeholders import Ref
from compiler.language.placeholders import parse as parse_placeholders
from compiler.language.references import task_refs, task_texts
from compiler.language.values import CRON_PRESETS
from compiler.output import emit

from .conventions import (
    ALERTS_SUFFIX,
    ARGS_PIECE,
    ARTIFACT_PREFIX,
    CD_WORKDIR,
    FINAL_STATUS,
    OUTPUT_PREFIX,
    RECURRING_RUN_FILE,
    TEXT_HELPER,
    TIME_ZONE_COMMENT,
)
from .limits import (
    AFTER_JOIN,
    ALL_DONE_SHAPE,
    CONDITION_SHAPE,
    CONTAINER_ENTRYPOINT,
    DEFAULT_IN_COMMENT,
    DESCRIPTION_IN_COMMENT,
    DRIVER_PLACEHOLDER,
    ELSE_PLACEMENT,
    EMPTY_GPU_TYPE,
    ENV_PLACEHOLDER,
    ITEM_KEY,
    LAUNCHER_PLACEHOLDER,
    LIMITS,
    MIXED_SCOPES,
    NONE_FAILED_SHAPE,
    NULL_FIRST_ITEM,
    OUTPUT_PATH,
    PARAM_ENUM,
    PARAM_NAME,
    RETRY_ALERT,
    SCHEDULE_TIMEZONE,
    WATCH_SHAPE,
)

KFP_VERSION = "2.17.3"
DEFAULT_IMAGE = "python:3.12-slim"

_ARTIFACT_TYPES = {
    ArtifactKind.DATASET: "Dataset",
    ArtifactKind.MODEL: "Model",
    ArtifactKind.METRICS: "Metrics",
    ArtifactKind.PLOTS: "HTML",
    ArtifactKind.FILE: "Dataset",
    ArtifactKind.DIRECTORY: "Artifact",
}
# Attributes of KFP's loop variable: an item key with one of these names is not a sub-variable.
_CHANNEL_ATTRIBUTES = frozenset({
    "name", "channel_type", "task_name", "task", "pattern", "full_name", "items_or_pipeline_channel",
    "is_with_items_loop_argument", "loop_argument", "subvar_name", "value", "items", "from_pipeline_channel",
    "from_raw_items", "name_code_friendly", "name_override",
})
_BODY_NAMES = frozenset({"dsl", "kubernetes"})  # module names the pipeline function's body uses
_KFP_RESERVED = frozenset({"Output"})  # kfp: "invalid parameter name"
# What YAML cannot hold at all (control characters), and line breaks: neither may sit in a comment.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("[\n\r\x85\u2028\u2029]")
# The final state a failure trigger rule waits for, in each task it runs after.
_WATCHED_STATE = {TriggerRule.ONE_FAILED: "FAILED", TriggerRule.ALL_FAILED: "FAILED",
                  TriggerRule.ONE_SUCCESS: "SUCCEEDED"}
_ALERT_STATE = {AlertEvent.FAILURE: "FAILED", AlertEvent.SUCCESS: "SUCCEEDED"}
_TASK_CREATED = re.compile(r"\s*(\w+) = (\w+)\(")  # a line of the pipeline function that creates a task
# A Kubernetes object name (DNS-1123 subdomain), such as a PersistentVolumeClaim's.
_DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}\Z)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
# What KFP's driver reads as its own placeholder in an image, a GPU type or a secret's name: `{{$...}}`
# (a secret's name is a runtime constant, `{{$.pipeline_job_name}}` its run's name), and its
# input-parameter pattern anywhere in the text (an unanchored regexp: the whole text becomes that value).
_DRIVER_PLACEHOLDER = re.compile(r"\{\{\$|\$.inputs.parameters\['.+?'\]")
# Joins its arguments into one script: IFS empty makes "$*" their plain concatenation.
JOIN = 'IFS=; exec bash -c "$*"'
# Rebuilds argv from argument groups: the first argument says how many groups follow, each group
# is a count and that many pieces; the rebuilt arguments replace the groups in "$@".
REBUILD = ('g=$1; shift; while [ "$g" -gt 0 ]; do n=$1; shift; a=; while [ "$n" -gt 0 ]; do a=$a$1; shift; '
            'n=$((n-1)); done; set -- "$@" "$a"; g=$((g-1)); done')
# A script (one group of pieces) with arguments after it (groups, rebuilt): CMD "$@".
JOIN_WITH_ARGS = ('n=$1; shift; s=; while [ "$n" -gt 0 ]; do s=$s$1; shift; n=$((n-1)); done; ' + REBUILD
                   + '; exec bash -c "$s" bash "$@"')
# An exec-form command with arguments mixing text and values; the first rebuilt one is the workdir.
EXEC_REBUILT = REBUILD + '; exec "$@"'
EXEC_REBUILT_IN_WORKDIR = REBUILD + '; cd -- "$1" || exit; shift; exec "$@"'
# The container commands, as constants of the generated module: (name, script, the comment above it).
_COMMANDS = (  # each comment fits black's 88 columns
    ("JOIN_IN_BASH", JOIN, "bash runs its arguments joined as one script: no user text reads as a KFP placeholder"),
    ("JOIN_IN_SH", JOIN.replace("bash", "sh"),
     "sh runs its arguments joined as one script: no user text reads as a KFP placeholder"),
    ("JOIN_WITH_ARGS_IN_BASH", JOIN_WITH_ARGS,
     "bash runs a script and argv rebuilt from pieces: no text reads as a KFP placeholder"),
    ("JOIN_WITH_ARGS_IN_SH", JOIN_WITH_ARGS.replace("bash", "sh"),
     "sh runs a script and argv rebuilt from pieces: no text reads as a KFP placeholder"),
    ("EXEC_REBUILT", EXEC_REBUILT, "execs the argv rebuilt from pieces: no user text reads as a KFP placeholder"),
    ("EXEC_REBUILT_IN_WORKDIR", EXEC_REBUILT_IN_WORKDIR,
     "cd to the first rebuilt argument, exec the rest: no text reads as a KFP placeholder"),
)
_COMMAND_NAMES = {script: name for name, script, _ in _COMMANDS}
# Names the generated module binds at the top level (a param of the same name would shadow them).
_MODULE_NAMES = frozenset({"dsl", "compiler", "kubernetes", "NamedTuple", "IMAGE", *_COMMAND_NAMES.values()})
# Names a component's own code reads (module names, locals and builtins of its body), kfp's name
# for a single output, and `self` (kfp calls a component as a method, with `self` taken): an input
# or output with one of these names gets its prefix.
_COMPONENT_NAMES = frozenset({"dsl", "IMAGE", "NamedTuple", *_COMMAND_NAMES.values(), "json", "os", "sys",
                              "isinstance", "str", "Output", "self"})
_NAMED_TUPLE_LOCALS = frozenset({"result", "outputs"})  # what returns several outputs
# Prefixed names look like this, so a plain name that does gets its prefix too: the importer then
# strips one prefix from any name that has one.
_LOOKS_PREFIXED = re.compile(r"[paovk]_|_")


class KubeflowBackend(Backend):
    name = "kubeflow"
    title = "Kubeflow Pipelines v2"
    cost = TaskCost(10.0, "each task is a pod, plus the KFP driver and launcher around it")
    render_weight = 3.9
    option_help = {
        "image": f"the image of shell and python tasks (default {DEFAULT_IMAGE})",
        "volume": "an existing PersistentVolumeClaim mounted (kfp-kubernetes mount_pvc) at the working directory "
                  "of every task: the pipeline's workdir, else /mnt/CLAIM, so tasks share files through it",
    }
    capabilities = {
        Feature.SHELL: native("a container component running the command with bash"),
        Feature.PYTHON: native("a lightweight python component importing module:function in its body"),
        Feature.CONTAINER: native("a container component with the image"),
        Feature.NOOP: native("a python component that does nothing"),
        Feature.ORDER_EDGE: native(".after()"),
        Feature.ARTIFACTS: native("KFP artifacts: Output[...] on the producer, Input[...] on consumers"),
        Feature.VALUE_OUTPUTS: native("output parameters (python return values, OutputPath files for shell)"),
        Feature.PARAMS: native("typed pipeline parameters with defaults"),
        Feature.RETRIES: native("set_retry(num_retries, backoff_duration)"),
        Feature.RETRY_BACKOFF: native("set_retry(backoff_factor)"),
        Feature.RETRY_MAX_DELAY: native("set_retry(backoff_max_duration)"),
        Feature.ENV: native("set_env_variable (compile-time values)"),
        Feature.RESOURCES: native("set_cpu_limit / set_memory_limit"),
        Feature.GPU: native("set_accelerator_type / set_accelerator_limit"),
        Feature.CACHE: native("set_caching_options(enable_caching=True); off for every other task"),
        Feature.SCHEDULE: native("recurring_run.yaml: the arguments of Client.create_recurring_run (6-field cron); "
                                 "the time zone is the cluster's (CRON_SCHEDULE_TIMEZONE)"),
        Feature.CATCHUP: native("recurring run no_catchup: false"),
        Feature.MAX_ACTIVE_RUNS: native("recurring run max_concurrency (scheduled pipelines)"),
        Feature.SECRETS: native("kfp-kubernetes use_secret_as_env (a Kubernetes Secret)"),
        Feature.TIMEOUT: native("kfp-kubernetes set_timeout (the pod's activeDeadlineSeconds)"),
        Feature.PIPELINE_TIMEOUT: native("dsl.PipelineConfig(active_deadline_seconds)"),
        Feature.MAX_ACTIVE_TASKS: unsupported("KFP has no per-run task limit: limit pods with a namespace "
                                              "ResourceQuota, or fan-outs with max_parallel"),
        Feature.CONDITION: native("dsl.If / dsl.Else (an `and` of comparisons as nested dsl.If)"),
        Feature.STATIC_FAN_OUT: native("dsl.ParallelFor over the list or the list param"),
        Feature.DYNAMIC_FAN_OUT: native("dsl.ParallelFor over the upstream output"),
        Feature.FAN_IN: native("dsl.Collected"),
        Feature.MAX_PARALLEL: native("dsl.ParallelFor(parallelism=)"),
        Feature.POOL: unsupported("KFP has no task pools: limit pods with a namespace ResourceQuota"),
        Feature.PYTHON_IN_IMAGE: native("a lightweight python component with the image as base_image"),
        Feature.TRIGGER_RULE: emulated("one_failed / all_failed / one_success over the tasks in `after:`: a probe "
                                       "after each reads its final state (ignore_upstream_failure and "
                                       "PipelineTaskFinalStatus) and a dsl.If on the states runs the task; "
                                       "none_failed after one condition's branches: the join runs at the end of "
                                       "each branch; all_done on order-only edges: ignore_upstream_failure()"),
        Feature.PIPELINE_ALERTS: native("a dsl.ExitHandler around the pipeline; its exit task acts on the "
                                        "final state (PipelineTaskFinalStatus)"),
        Feature.SUCCESS_ALERTS: native("on state SUCCEEDED: the pipeline's exit task, or the task's alerts task"),
        Feature.MANUAL_TRIGGER: native("a pipeline without a recurring run: start it from the UI or the API"),
        Feature.DATA_TRIGGER: unsupported("KFP has no event triggers: start runs from Argo Events or another "
                                          "service with kfp.Client().create_run_from_pipeline_package"),
        Feature.CONTINUOUS_TRIGGER: unsupported("KFP has no continuous runs: use a recurring run with "
                                                "max_concurrency 1 on a short interval"),
        Feature.WORKDIR: emulated("`cd` before the command (sh changes into it before an exec-form command); "
                                  "os.chdir in python components"),
        Feature.TASK_ALERTS: emulated("an alerts task after the task that ignores upstream failure and acts on "
                                      "its final state (PipelineTaskFinalStatus)"),
        Feature.RETRY_ALERTS: unsupported("KFP has no retry hooks: alert from the task's command"),
        Feature.OWNER: unsupported("KFP pipelines have no owner: name it in the description"),
        Feature.TAGS: unsupported("KFP pipelines have no tags: name them in the description, or label the runs"),
        Feature.PRIORITY: unsupported("KFP has no task priority: give the pods a priority class in the cluster"),
    }
    limits = LIMITS

    def render(self, pipeline: Pipeline, ctx: EmitContext) -> dict[str, str]:
        builder = _ModuleBuilder(pipeline, ctx)
        if not builder.build():
            return {}
        function = pipeline_function(pipeline)
        module = f"{module_stem(pipeline.name)}.py"
        source = emit.render("kubeflow", "pipeline.py.j2", **builder.context(module, function))
        files = {module: emit.format_python(source, module)}
        package = compile_with_kfp(module, files[module], function)
        if package is None:
            ctx.notes.append(f"the Kubeflow PipelineSpec is compiled by kfp itself: `pip install 'dagshift[kubeflow]'` "
                             f"to get {module[:-3]}.yaml from dagshift too, or run `python {module}`")
        else:
            files[module[:-3] + ".yaml"] = package
        if pipeline.schedule is not None:
            files[RECURRING_RUN_FILE] = _recurring_run(pipeline, module[:-3] + ".yaml", ctx)
        return files


def pipeline_function(pipeline: Pipeline) -> str:
    """The pipeline's Python name, with `_pipeline` added where it would hide a name the module
    uses (`from kfp import compiler, dsl`, the constants) or a param."""
    name = python_name(pipeline.name)
    return f"{name}_pipeline" if name in _MODULE_NAMES or name in pipeline.params else name


def compile_with_kfp(module: str, source: str, function: str) -> str | None:
    """The PipelineSpec YAML that kfp's own compiler makes of the module's pipeline `function`, or
    None without kfp (the `kubeflow` extra). kfp reads the components' source from their file, so
    the module is written to a scratch directory and imported from there."""
    try:
        from kfp import compiler
    except ImportError:
        return None
    with tempfile.TemporaryDirectory(prefix="dagshift-kfp-") as scratch:
        path = Path(scratch) / module
        path.write_text(source, encoding="utf-8")
        name = "_dagshift_kfp_module"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a deprecation in generated code is a dagshift bug
                spec.loader.exec_module(loaded)
                compiler.Compiler().compile(_only_pipeline(loaded, function), str(path.with_suffix(".yaml")))
        except Exception as exc:  # kfp rejects the module: never write half the output
            raise emit.InvalidOutput(f"kfp {KFP_VERSION} could not compile {module}: {exc}") from exc
        finally:
            sys.modules.pop(name, None)
        return path.with_suffix(".yaml").read_text(encoding="utf-8")


def _only_pipeline(module: Any, function: str) -> Any:
    """The module's pipeline `function`, checked to be its only module-level pipeline: `kfp dsl
    compile --py` (without --function) compiles a module only when exactly one name holds one."""
    from kfp.dsl.graph_component import GraphComponent

    pipelines = [name for name, value in vars(module).items() if isinstance(value, GraphComponent)]
    if pipelines != [function]:
        raise ValueError(f"the module must hold one pipeline, {function}, for `kfp dsl compile --py`; "
                         f"it holds {pipelines}")
    return getattr(module, function)


def _recurring_run(pipeline: Pipeline, package: str, ctx: EmitContext) -> str:
    """The schedule as keyword arguments of kfp.Client.create_recurring_run."""
    schedule = pipeline.schedule
    assert schedule is not None
    if schedule.timezone != "UTC":
        SCHEDULE_TIMEZONE.diagnose(ctx.report, "Kubeflow cron schedules run in the cluster's time zone, not per "
                                               f"pipeline: '{schedule.timezone}' must be set on the cluster",
                                   ("schedule", "timezone"), at_key=True)
    cron = CRON_PRESETS.get(schedule.cron, schedule.cron)
    spec: dict[str, Any] = {
        "job_name": pipeline.name,
        "pipeline_package_path": package,
        "cron_expression": f"0 {cron}",  # KFP's cron has seconds first
        "no_catchup": not schedule.catchup,
        "max_concurrency": pipeline.max_active_runs or 1,  # KFP's default is 1 too
    }
    if schedule.start_date is not None:
        spec["start_time"] = _start_time(schedule.start_date, schedule.timezone)
    header = (f"# Recurring run of `{pipeline.name}`, generated by dagshift: pass these as keyword arguments\n"
              "# to kfp.Client().create_recurring_run(experiment_id=..., **spec) after compiling the pipeline.\n"
              f"{TIME_ZONE_COMMENT}{schedule.timezone} (the cluster's CRON_SCHEDULE_TIMEZONE decides).\n")
    text = header + emit.to_yaml(spec)
    emit.parse_yaml(text, RECURRING_RUN_FILE)
    return text


def _start_time(start: date | datetime, zone: str) -> str:
    """The start as RFC 3339 (KFP's API takes any offset) in the schedule's time zone: a date is
    midnight there, and so is a time without a zone; UTC is written `Z`."""
    if not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day)
    if start.tzinfo is None:
        start = start.replace(tzinfo=ZoneInfo(zone))
    text = start.isoformat()
    return text.removesuffix("+00:00") + "Z" if zone == "UTC" and text.endswith("+00:00") else text


def code_literal(value: Any) -> str:
    """A Python literal whose source text has no `{` or `}` in strings: KFP reads `{{$...}}` in a
    component's command, which holds a python component's source."""
    if isinstance(value, str):
        return repr(value).replace("{", "\\x7b").replace("}", "\\x7d")
    if isinstance(value, list):
        return "[" + ", ".join(code_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{code_literal(k)}: {code_literal(v)}" for k, v in value.items()) + "}"
    return emit.python_literal(value)


def cel_text(text: str) -> str:
    """A string literal of a condition as kfp must be given it: kfp writes it between single quotes
    as it is, and the KFP backend reads the condition as CEL (backslash escapes, no quote or line
    break inside). kfp.local evaluates it as Python, which reads these escapes the same way."""
    return text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")


def _pieces(text: str) -> list[str]:
    """Literal text as shell-script pieces, each ending at a `{`: no piece holds `{{` (KFP's
    placeholder syntax) nor starts with `{"` (its JSON placeholder structures, `{"Concat": ...}`)."""
    return [piece for piece in re.split(r"(?<=\{)", text) if piece]


class _ModuleBuilder:
    def __init__(self, pipeline: Pipeline, ctx: EmitContext):
        self.p = pipeline
        self.ctx = ctx
        self.graph = ctx.graph
        self.image = str(ctx.options.get("image") or DEFAULT_IMAGE)
        # The claim every task mounts (--option volume=CLAIM) at its working directory, or None.
        self.volume: str | None = str(ctx.options["volume"]) if ctx.options.get("volume") else None
        self.workdir = pipeline.workdir or (f"/mnt/{self.volume}" if self.volume else None)
        self.producers = {a: t for t, task in pipeline.tasks.items() for a in task.produces}
        used = {*_MODULE_NAMES, pipeline_function(pipeline), *pipeline.params}
        self.components = unique_python_names(pipeline.tasks, used)
        alerting = [t for t, task in pipeline.tasks.items() if task.alerts]
        helpers = unique_python_names(["dagshift_alerts", "dagshift_final_state"]
                                      + [f"{self.components[t]}_alerts" for t in alerting], used)
        self.alerts_component, self.state_component = helpers["dagshift_alerts"], helpers["dagshift_final_state"]
        self.task_alerts_components = {t: helpers[f"{self.components[t]}_alerts"] for t in alerting}
        # What a failure trigger rule watches: the tasks in its `after:` (data edges must succeed).
        self.watched = {t: [u for u in self.graph.predecessors(t) if self.graph.edges[u, t]["reasons"] == ("after",)]
                        for t, task in pipeline.tasks.items() if task.trigger_rule in _WATCHED_STATE}
        # The pipeline function's locals: the tasks, their loop items, the alerts tasks, the probes.
        probes = [f"{self.components[t]}_watch_{python_name(u)}" for t, ups in self.watched.items() for u in ups]
        names = unique_python_names([f"{name}_task" for name in self.components.values()]
                                    + [f"{name}_item" for name in self.components.values()] + ["alerts_task"]
                                    + [f"{self.components[t]}_alerts_task" for t in alerting] + probes, used)
        self.variables = {t: names[f"{name}_task"] for t, name in self.components.items()}
        self.item_variables = {t: names[f"{name}_item"] for t, name in self.components.items()}
        self.alerts_variable = names["alerts_task"]
        self.task_alerts_variables = {t: names[f"{self.components[t]}_alerts_task"] for t in alerting}
        self.probe_variables = {(t, u): names[f"{self.components[t]}_watch_{python_name(u)}"]
                                for t, ups in self.watched.items() for u in ups}
        self.component_code: list[str] = []
        self.commands: set[str] = set()  # the scripts of the command constants the components use
        # task id -> its component's names (a reader needs its producer's, whether or not that one builds)
        self.names = {task_id: self._component_names(task) for task_id, task in pipeline.tasks.items()}
        self.local: dict[tuple[str, ...], str] = {}  # the names of the component being written
        self.body: list[str] = []
        self.order: list[str] = []
        self.kubernetes = False  # kfp-kubernetes is imported only when a task needs it
        self.state_component_written = False

    # ------------------------------------------------------------------ checks and build

    def build(self) -> bool:
        before = len(self.ctx.diagnostics.errors)
        self._check_names_and_header()
        self._check_options()
        self._check_driver_texts()
        warn_pod_boundaries(self.p, self.ctx.report, "Kubeflow", volume=self.volume,
                            default_image=None if self.ctx.options.get("image") else DEFAULT_IMAGE)
        for index, alert in enumerate(self.p.alerts):
            if alert.on is AlertEvent.RETRY:
                RETRY_ALERT.diagnose(self.ctx.report, "Kubeflow backend: a pipeline has no retries to alert on",
                                     ("alerts", index, "on"))
        self.order = topological_order(self.graph)
        self.scopes: dict[str, tuple[tuple[str, str], ...]] = {}
        self.lines: dict[str, list[str]] = {}
        for task_id in self.order:
            scope = self._scope(task_id)
            lines = self._task(task_id) if scope is not None else None
            if scope is not None and lines is not None:
                self.scopes[task_id], self.lines[task_id] = scope, lines + self._task_alerts(task_id)
        if len(self.ctx.diagnostics.errors) != before:
            return False
        self.body = self._block(0, self.order)
        if self.p.alerts:
            self._wrap_in_alerts()
        self.body = _without_default_display_names(self.body)
        return True

    def _wrap_in_alerts(self) -> None:
        """Pipeline alerts: an exit task that runs whatever the outcome and acts on the final state."""
        self._alerts_component(self.alerts_component, self.p.alerts,
                               "The pipeline's alerts: KFP runs this after everything else, whatever the outcome.")
        variable = self.alerts_variable
        self.body = [f"{variable} = {self.alerts_component}()",
                     f"{variable}.set_display_name({code_literal('dagshift-alerts')})",
                     f"{variable}.set_caching_options(enable_caching=False)",
                     *self._mount_volume(variable),
                     f"with dsl.ExitHandler({variable}):",
                     *("    " + line for line in self.body)]

    def _task_alerts(self, task_id: str) -> list[str]:
        """A task's alerts: a task right after it that runs whatever its outcome (KFP gives a task
        that ignores upstream failure the final state of its one upstream task) and acts on it."""
        alerts = [alert for alert in self.p.tasks[task_id].alerts if alert.on in _ALERT_STATE]
        if not alerts:
            return []
        component = self.task_alerts_components[task_id]
        self._alerts_component(component, alerts, f"The alerts of task {task_id}: they act on its final state.")
        variable = self.task_alerts_variables[task_id]
        return [f"{variable} = {component}()",
                f"{variable}.set_display_name({code_literal(task_id + ALERTS_SUFFIX)})",
                f"{variable}.after({self.variables[task_id]})",
                f"{variable}.ignore_upstream_failure()",
                f"{variable}.set_caching_options(enable_caching=False)", *self._mount_volume(variable)]

    def _alerts_component(self, name: str, alerts: list, doc: str) -> None:
        lines = ["@dsl.component(base_image=IMAGE)",
                 f"def {name}({FINAL_STATUS}: dsl.PipelineTaskFinalStatus):",
                 f"    {code_literal(doc)}",
                 "    import subprocess", ""]
        if self.workdir is not None:
            lines[-1:] = ["    import os", "", f"    os.chdir({code_literal(self.workdir)})", ""]
        for alert in alerts:
            lines.append(f"    if {FINAL_STATUS}.state == {code_literal(_ALERT_STATE[alert.on])}:")
            if alert.command is not None:
                lines.append(f'        subprocess.run(["bash", "-c", {code_literal(alert.literal_command)}], check=False)')
            else:
                module, _, function = str(alert.python).partition(":")
                head, _, rest = function.partition(".")
                arguments = ", ".join(f"{k}={code_literal(v)}" for k, v in alert.literal_args.items())
                lines.append(f"        from {module} import {head}")
                lines.append("")
                lines.append(f"        {head}{'.' + rest if rest else ''}({arguments})")
        self.component_code.append("\n".join(lines) + "\n")

    # ------------------------------------------------------------------ conditions and loops

    def _scope(self, task_id: str) -> tuple[tuple[str, str], ...] | None:
        """The `with` blocks a task sits in, outermost first: ("if", X) / ("else", X) for X's
        condition, ("for", T) for T's loop. A task sits in every condition its upstream tasks sit
        in (KFP skips it with them, as all_success does); a loop holds only its own task."""
        task = self.p.tasks[task_id]
        inherited = []
        for upstream in self.graph.predecessors(task_id):
            scope = self.scopes.get(upstream, ())
            if scope and scope[-1][0] == "join":
                self._error(AFTER_JOIN, task_id, f"it runs after '{upstream}', a join that runs in each branch of a "
                                                 "condition", ())
                return None
            inherited.append(scope[:-1] if scope[-1:] == (("for", upstream),) else scope)
        if task.trigger_rule is TriggerRule.NONE_FAILED:
            return self._join_scope(task_id, task, inherited)
        if task.trigger_rule is TriggerRule.ALL_DONE and not self._all_done_fits(task_id, inherited):
            return None
        base = max(inherited, key=len, default=())
        if any(base[:len(scope)] != scope for scope in inherited):
            self._error(MIXED_SCOPES, task_id, "it depends on tasks under different conditions or in a loop", ())
            return None
        frames = list(base)
        if task.else_of is not None:
            mirrored = self.scopes.get(task.else_of, ())
            parent = mirrored[:mirrored.index(("if", task.else_of))] if ("if", task.else_of) in mirrored else None
            if parent is None or tuple(frames[:len(parent)]) != parent or len(frames) > len(parent):
                self._error(ELSE_PLACEMENT, task_id, "its else branch cannot sit right after the condition's dsl.If "
                                                     "block", ("else_of",))
                return None
            frames.append(("else", task.else_of))
        if task_id in self.watched:
            if not self._watching_fits(task_id, task, base):
                return None
            frames.append(("state", task_id))
        if task.when is not None:
            if not self._condition_fits(task_id, task):
                return None
            frames.append(("if", task_id))
        if task.foreach is not None:
            if isinstance(task.foreach, list) and task.foreach and task.foreach[0] is None:
                self._error(NULL_FIRST_ITEM, task_id, "kfp types a loop's items by the first one, and null has no KFP "
                                                      "type", ("foreach",))
                return None
            frames.append(("for", task_id))
        return tuple(frames)

    def _check_names_and_header(self) -> None:
        """What the kfp SDK cannot take: param names the module itself uses or kfp reserves, and
        texts kfp's compiler writes raw into the YAML header comment (the description and str
        defaults), where a line break would end the comment and a control character break the file."""
        for name, param in self.p.params.items():
            if name in _BODY_NAMES or name in _KFP_RESERVED or name.startswith("_"):
                PARAM_NAME.diagnose(self.ctx.report, f"Kubeflow backend: a param cannot be named '{name}' (the "
                                                     "generated module or kfp uses the name)", ("params", name),
                                    at_key=True)
            if any(_NOT_PRINTABLE.search(text) or _LINE_BREAK.search(text) for text in texts_in(param.default)):
                DEFAULT_IN_COMMENT.diagnose(self.ctx.report, "Kubeflow backend: kfp writes param defaults into a YAML "
                                                             "comment, where a line break or control character breaks "
                                                             "the file", ("params", name), at_key=True)
            if any("{{$" in text for text in texts_in(param.default)):
                LAUNCHER_PLACEHOLDER.diagnose(self.ctx.report, "Kubeflow backend: KFP's launcher reads '{{$' in a "
                                                               "param's value as its own placeholder (there is no "
                                                               "escape)", ("params", name, "default"))
            if param.enum:  # kfp 2.17 writes no `literals` for a pipeline parameter
                PARAM_ENUM.diagnose(self.ctx.report, "Kubeflow Pipelines keeps no list of allowed values for a param: "
                                                     f"the enum of '{name}' is left out, so a run may pass any value",
                                    ("params", name, "enum"), at_key=True)
        for task_id, task in self.p.tasks.items():  # loop items reach the launcher as values too
            if task.literal_items is not None and any("{{$" in text for text in texts_in(task.literal_items)):
                self._error(LAUNCHER_PLACEHOLDER, task_id, "KFP's launcher reads '{{$' in a loop item as its own "
                                                           "placeholder (there is no escape)", ("foreach",),
                            help="write the items without '{{$'")
        # kfp writes the description one comment line per line (str.splitlines): only the rest counts
        if self.p.description and _NOT_PRINTABLE.search(" ".join(self.p.description.splitlines())):
            DESCRIPTION_IN_COMMENT.diagnose(self.ctx.report, "Kubeflow backend: kfp writes the description into a "
                                                             "YAML comment, where a control character makes the file "
                                                             "unreadable", ("description",), at_key=True)

    def _check_options(self) -> None:
        if _DRIVER_PLACEHOLDER.search(self.image):
            self.ctx.report.error("E303", f"'{self.image}' for the kubeflow option `image` holds text KFP's driver "
                                  "reads as its own placeholder", help="use --option image=IMAGE with an image name")
        if self.volume is not None and not _DNS_SUBDOMAIN.fullmatch(self.volume):
            self.ctx.report.error("E303", f"'{self.volume}' for the kubeflow option `volume` is not a "
                                  "PersistentVolumeClaim name", help="use --option volume=CLAIM with the name of an "
                                  "existing claim: lower case letters, digits, '-' and '.', starting and ending with "
                                  "a letter or digit, at most 253 characters")

    def _check_driver_texts(self) -> None:
        """Texts KFP's driver reads as its own placeholder (_DRIVER_PLACEHOLDER), and a GPU type left
        empty: E302 each. (A secret's name is a Kubernetes name: validation checked it, E115.)"""
        for task_id, task in self.p.tasks.items():
            texts = [(("image",), task.image)]
            if task.resources is not None and task.resources.gpu:
                texts.append((("resources", "gpu_type"), task.resources.gpu_type))
            for path, text in texts:
                if text is not None and _DRIVER_PLACEHOLDER.search(text):
                    self._error(DRIVER_PLACEHOLDER, task_id, "KFP's driver reads '{{$' or '$.inputs.parameters[...]' "
                                                             f"in {'.'.join(path)} as its own placeholder", path)
                elif text == "" and path[0] != "image":  # the driver drops an empty GPU type
                    self._error(EMPTY_GPU_TYPE, task_id, f"KFP's driver cannot use an empty {'.'.join(path)}", path)
            self._check_output_paths(task_id, task)

    def _check_output_paths(self, task_id: str, task: Task) -> None:
        """KFP reads a value output from its own file, the one ${{ outputs.NAME }} names here: a task
        that only writes the output's `path:` would hand KFP nothing."""
        written = {str(ref.name) for _, ref in task_refs(task) if ref.kind == "output"}
        for name, output in task.outputs.items():
            if output.path is not None and task.kind != "python" and name not in written:
                self._error(OUTPUT_PATH, task_id, f"KFP reads output '{name}' from the file ${{{{ outputs.{name} }}}} "
                                                  "names, and the task never writes it (its `path:` is not that file "
                                                  "on Kubeflow)",
                            ("outputs", name, "path"),
                            help=f"write the value to ${{{{ outputs.{name} }}}}: it names the output's file on "
                                 "every target")

    def _mount_volume(self, variable: str) -> list[str]:
        """The claim mounted at the working directory of a task (none without --option volume)."""
        if self.volume is None:
            return []
        self.kubernetes = True
        return [f"kubernetes.mount_pvc({variable}, pvc_name={code_literal(self.volume)}, "
                f"mount_path={code_literal(self.workdir)})"]

    def _join_scope(self, task_id: str, task: Task, inherited: list[tuple]) -> tuple | None:
        """none_failed after the branches of one condition: KFP allows no dependency on a task in a
        dsl.If from outside it, so the join runs at the end of each branch (and of an Else made
        for it), after that branch's tasks: exactly one branch runs, and the join with it."""
        base: tuple = ()
        while inherited and all(len(scope) > len(base) and scope[len(base)] == inherited[0][len(base)]
                                for scope in inherited):
            base = inherited[0][:len(base) + 1]  # the frames every upstream shares
        deeper = {scope[len(base)] for scope in inherited if len(scope) > len(base)}
        owners = {owner for _, owner in deeper}
        problem = None
        if not deeper and any(kind in ("if", "else") for kind, _ in base):
            problem = "all its upstream tasks are inside one condition (it would be skipped with them)"
        elif len(owners) > 1 or any(len(scope) > len(base) + 1 for scope in inherited):
            problem = "its upstream tasks are under more than one condition"
        elif any(kind == "state" for kind, _ in deeper):
            problem = "it runs after a task that runs on another task's failure"
        elif any(kind not in ("if", "else") for kind, _ in deeper):
            problem = "it runs after a loop's tasks"
        elif [r for _, r in task_refs(task) if r.kind == "task_output" and self.scopes.get(str(r.task), base) != base]:
            problem = "it reads a value made inside a branch"
        elif any(self.producers.get(a) in self.scopes and self.scopes[self.producers[a]] != base for a in task.consumes):
            problem = "it reads an artifact made inside a branch"
        elif task.when is not None or task.else_of is not None or task.foreach is not None:
            problem = "it is conditional or fanned out itself"
        if problem:
            self._error(NONE_FAILED_SHAPE, task_id, "none_failed is mapped only for a join after one condition's "
                                                    f"branches; {problem}", ("trigger_rule",))
            return None
        if not deeper:
            return base  # nothing conditional upstream: none_failed acts as all_success
        (owner,) = owners
        return (*base, ("join", owner))

    def _all_done_fits(self, task_id: str, inherited: list[tuple]) -> bool:
        """all_done is ignore_upstream_failure(), for order-only edges to tasks outside conditions."""
        reads = [u for u in self.graph.predecessors(task_id) if not self._order_only(u, task_id)]
        if not reads and all(not s for s in inherited):
            return True
        self._error(ALL_DONE_SHAPE, task_id, "all_done is mapped only for order-only edges to tasks outside "
                                             "conditions and loops (ignore_upstream_failure: kfp lets such a task "
                                             "read an upstream output only with a default)", ("trigger_rule",))
        return False

    def _watching_fits(self, task_id: str, task: Task, base: tuple) -> bool:
        """one_failed / all_failed / one_success: a probe after each task in `after:` reads its final
        state, and the task runs in a dsl.If on those states. kfp gives the state only to a task
        with exactly one upstream task in the same block, and a dsl.If has no `or`."""
        rule = task.trigger_rule.value
        watched = self.watched[task_id]
        problem = None
        if not watched:
            problem = "it has no task in `after:` whose state it could watch (a task it reads from must succeed)"
        elif len(watched) > 1 and task.trigger_rule is not TriggerRule.ALL_FAILED:
            problem = f"{rule} over {len(watched)} tasks needs an `or` of their states, and a dsl.If has none"
        else:
            for upstream in watched:
                scope = self.scopes.get(upstream, ())
                if scope[-1:] == (("for", upstream),):
                    problem = f"it watches '{upstream}', a fanned-out task (each run has its own state)"
                elif scope != base:
                    problem = (f"it watches '{upstream}', which runs in another condition or loop block than the "
                               "task (kfp needs the watching probe in the block of the task it watches)")
                if problem:
                    break
        if problem:
            self._error(WATCH_SHAPE, task_id, f"trigger rule {rule} is mapped by watching the tasks in `after:`; "
                                              f"{problem}", ("trigger_rule",))
            return False
        return True

    def _watch_lines(self, task_id: str) -> tuple[list[str], list[str]]:
        """The probes of a task's trigger rule, and the conditions on their states (one per dsl.If)."""
        if not self.state_component_written:
            self.state_component_written = True
            self.component_code.append(
                "@dsl.component(base_image=IMAGE)\n"
                f"def {self.state_component}({FINAL_STATUS}: dsl.PipelineTaskFinalStatus) -> str:\n"
                '    """The final state (SUCCEEDED, FAILED, ...) of the one task this runs after."""\n'
                f"    return {FINAL_STATUS}.state\n")
        lines, conditions = [], []
        state = _WATCHED_STATE[self.p.tasks[task_id].trigger_rule]
        for upstream in self.watched[task_id]:
            probe = self.probe_variables[(task_id, upstream)]
            lines += [f"{probe} = {self.state_component}()",
                      f"{probe}.set_display_name({code_literal(f'{task_id}: state of {upstream}')})",
                      f"{probe}.after({self.variables[upstream]})",
                      f"{probe}.ignore_upstream_failure()",
                      f"{probe}.set_caching_options(enable_caching=False)"]
            conditions.append(f"{probe}.output == {code_literal(state)}")
        return lines, conditions

    def _block(self, depth: int, members: list[str]) -> list[str]:
        """The code of the tasks in `members` (all sharing the first `depth` frames): their own
        lines, and the `with` blocks one level deeper, in an order that respects every edge."""
        def key(task_id: str) -> tuple[str, str] | None:
            scope = self.scopes[task_id]
            if len(scope) == depth:
                return None
            kind, owner = scope[depth]
            return ("cond" if kind in ("if", "else", "join") else kind, owner)  # kind: for, state

        items: dict[Any, list[str]] = {}
        for task_id in members:
            items.setdefault(key(task_id) or ("task", task_id), []).append(task_id)
        item_of = {t: item for item, tasks in items.items() for t in tasks}
        order = nx.DiGraph()
        order.add_nodes_from(items)
        for upstream, downstream in self.graph.edges:
            if upstream in item_of and downstream in item_of and item_of[upstream] != item_of[downstream]:
                order.add_edge(item_of[upstream], item_of[downstream])
        position = {item: index for index, item in enumerate(items)}
        lines: list[str] = []
        for item in nx.lexicographical_topological_sort(order, key=position.__getitem__):
            kind, owner = item
            tasks = items[item]
            if kind == "task":
                lines.extend(self.lines[owner])
            elif kind == "for":
                lines.append(f"with {self._loop(owner)} as {self._item_variable(owner)}:")
                lines.extend("    " + line for line in self._block(depth + 1, tasks))
            elif kind == "state":
                probes, conditions = self._watch_lines(owner)
                lines.extend(probes)
                for level, condition in enumerate(conditions):
                    lines.append("    " * level + f"with dsl.If({condition}):")
                lines.extend("    " * len(conditions) + line for line in self._block(depth + 1, tasks))
            else:
                inside = [t for t in tasks if self.scopes[t][depth][0] == "if"]
                otherwise = [t for t in tasks if self.scopes[t][depth][0] == "else"]
                joins = [t for t in tasks if self.scopes[t][depth][0] == "join"]
                lines.extend(self._if_else(self._conditions(owner), depth, inside, otherwise, joins))
        return lines

    def _if_else(self, conditions: list[str], depth: int, inside: list[str], otherwise: list[str],
                 joins: list[str]) -> list[str]:
        """dsl.If blocks, one per part of an `and`, with the branch inside; the else branch (and
        the joins) in a dsl.Else after each of them: exactly one of the Else blocks runs when the
        condition is false (the first part false, or the first true and the second false, ...)."""
        lines = self._block(depth + 1, inside) + self._join_lines(joins, inside, "")
        for level in reversed(range(len(conditions))):
            lines = [f"with dsl.If({conditions[level]}):", *("    " + line for line in lines)]
            if otherwise or joins:
                body = self._block(depth + 1, otherwise) + self._join_lines(joins, otherwise, f"_else{level or ''}")
                lines += ["with dsl.Else():", *("    " + line for line in body)]
        return lines

    def _condition_fits(self, task_id: str, task: Task) -> bool:
        """KFP conditions compare a param or an upstream value with a value; `and` nests them."""
        expr = conditions.parse(str(task.when))
        parts = list(expr.operands) if isinstance(expr, conditions.BoolOp) and expr.op == "and" else [expr]
        for part in parts:
            if isinstance(part, conditions.Not):
                part = part.operand
            sides = [part] if isinstance(part, conditions.RefOperand) else (
                [part.left, part.right] if isinstance(part, conditions.Compare) else [])
            if not any(isinstance(side, conditions.RefOperand) for side in sides) or not all(
                    isinstance(side, (conditions.RefOperand, conditions.Literal)) for side in sides):
                self._error(CONDITION_SHAPE, task_id, f"the condition {task.when!r} has a part KFP cannot express",
                            ("when",))
                return False
        return True

    def _join_lines(self, joins: list[str], branch: list[str], suffix: str) -> list[str]:
        """Each join's call at the end of a branch: after the branch's tasks it waits for."""
        lines = []
        for join in joins:
            variable = self.variables[join] + suffix
            lines += [line.replace(self.variables[join], variable) for line in self.lines[join]
                      if not line.startswith(f"{self.variables[join]}.after(")]
            upstream = [u for u in self.graph.predecessors(join) if u in branch
                        or self.scopes.get(u, ())[:len(self.scopes[join]) - 1] == self.scopes.get(u, ())]
            if upstream:
                lines.append(f"{variable}.after({', '.join(self.variables[u] for u in upstream)})")
        return lines

    def _loop(self, task_id: str) -> str:
        task = self.p.tasks[task_id]
        if isinstance(task.foreach, list):
            foreach = task.literal_items
            if task.kind != "python":  # keys as sub-variables: `k_` keeps them clear of the loop variable's own
                foreach = [{f"k_{k}": v for k, v in i.items()} if isinstance(i, dict) else i for i in foreach]
            items = code_literal(foreach)
        else:
            (ref,) = refs_in(task.foreach)
            items = self._channel(ref)
        parallelism = f", parallelism={task.max_parallel}" if task.max_parallel else ""
        return f"dsl.ParallelFor({items}{parallelism})"

    def _item_variable(self, task_id: str) -> str:
        return self.item_variables[task_id]

    def _channel(self, ref: Ref) -> str:
        """A param or an upstream value in the pipeline function."""
        if ref.kind == "param":
            return str(ref.name)
        return self._output_channel(str(ref.task), str(ref.name))

    def _output_channel(self, task_id: str, output: str) -> str:
        """A task's value output in the pipeline function, by its name; a python task's plain
        return value is kfp's `Output`: `.output` when the task has no other output."""
        variable, task = self.variables[task_id], self.p.tasks[task_id]
        if self._returns_one_value(task):
            return f'{variable}.outputs["Output"]' if self._made_artifacts(task) else f"{variable}.output"
        return f'{variable}.outputs["{self.names[task_id][("output", output)]}"]'

    @staticmethod
    def _returns_one_value(task: Task) -> bool:
        return task.kind == "python" and len(task.outputs) == 1

    def _conditions(self, task_id: str) -> list[str]:
        """A task's `when` as KFP conditions, one per nested dsl.If (KFP has no and / or / not)."""
        expr = conditions.parse(str(self.p.tasks[task_id].when))
        parts = list(expr.operands) if isinstance(expr, conditions.BoolOp) and expr.op == "and" else [expr]
        return [self._comparison(part) for part in parts]

    def _comparison(self, expr: conditions.Expr) -> str:
        negate = isinstance(expr, conditions.Not) and isinstance(expr.operand, conditions.Compare)
        if negate:
            expr = expr.operand
        if isinstance(expr, conditions.RefOperand):
            expr = conditions.Compare("==", expr, conditions.Literal(True))
        assert isinstance(expr, conditions.Compare)
        op = _NEGATED[expr.op] if negate else expr.op
        return f"{self._operand(expr.left)} {op} {self._operand(expr.right)}"

    def _operand(self, expr: conditions.Expr) -> str:
        if isinstance(expr, conditions.RefOperand):
            return self._channel(expr.ref)
        assert isinstance(expr, conditions.Literal)
        return code_literal(cel_text(expr.value) if isinstance(expr.value, str) else expr.value)

    def context(self, module: str, function: str) -> dict[str, Any]:
        return {
            "name": self.p.name,
            "source": PurePath(self.ctx.source_name).name,  # the same however the path was spelled
            "module": module,
            "yaml_name": module[:-3] + ".yaml",
            "image": self.image,
            "kfp_version": KFP_VERSION,
            "commands": [(name, code_literal(["sh", "-c", script, "sh"]), why) for name, script, why in _COMMANDS
                         if script in self.commands],
            "components": self.component_code,
            "function": function,
            "description": self.p.description,
            "params": [f"{name}: {_TYPES[param.value_type]} = {code_literal(param.default)}"
                       for name, param in self.p.params.items()],
            "body": self.body,
            "needs_named_tuple": any("NamedTuple(" in code for code in self.component_code),
            "kubernetes": self.kubernetes,
            "timeout": self.p.timeout,
        }

    def _error(self, limit: Limit, task_id: str, message: str, path: tuple, help: str | None = None) -> None:
        limit.diagnose(self.ctx.report, f"Kubeflow backend: {message}", ("tasks", task_id, *path), help=help)

    # ------------------------------------------------------------------ inputs of a component

    def _component_names(self, task: Task) -> dict[tuple[str, ...], str]:
        """The names of a component's inputs and outputs, by ("param", NAME), ("artifact", NAME),
        ("value", TASK, OUTPUT), ("output", NAME): each its own plain name, or prefixed (p_, a_,
        v_TASK__, o_) where two would clash, the component's code uses the name, or it looks
        prefixed (_LOOKS_PREFIXED). The loop item keeps its names (item, item_KEY)."""
        refs = [ref for text in _texts(task, loop=False) for ref in refs_in(text)]
        wanted: dict[tuple[str, ...], tuple[str, str]] = {}  # key -> (plain, prefixed)
        for name in dict.fromkeys(str(r.name) for r in refs if r.kind == "param"):
            wanted[("param", name)] = (name, f"p_{name}")
        for artifact in self._kfp_artifacts(task):
            wanted[("artifact", artifact)] = (artifact, f"{ARTIFACT_PREFIX}{artifact}")
        for upstream, output in dict.fromkeys((str(r.task), str(r.name)) for r in refs if r.kind == "task_output"):
            wanted[("value", upstream, output)] = (output, f"v_{python_name(upstream)}__{output}")
        for output in task.outputs:
            wanted[("output", output)] = (output, f"{OUTPUT_PREFIX}{output}")
        items = {"item" if task.kind == "python" or not r.name else f"item_{r.name}" for r in refs if r.kind == "item"}
        # a python task's one output is the variable it returns, bound after the call: it may share an input's name
        returned = [("output", *task.outputs)] if self._returns_one_value(task) else []
        used = Counter([plain for key, (plain, _) in wanted.items() if key not in returned] + sorted(items))
        reserved = _COMPONENT_NAMES | (_NAMED_TUPLE_LOCALS if task.kind == "python" and len(task.outputs) > 1 else set())
        if task.python:
            reserved |= {str(task.python).partition(":")[2].partition(".")[0]}  # the function it imports
        return {key: prefixed if used[plain] > 1 or plain in reserved or _LOOKS_PREFIXED.match(plain) else plain
                for key, (plain, prefixed) in wanted.items()}

    def _kfp_artifacts(self, task: Task) -> list[str]:
        """The artifacts a task's component takes or makes as KFP artifacts: those another task of
        the pipeline makes, and its own."""
        return [a for a in task.consumes if self._passed_by_kfp(a)] + self._made_artifacts(task)

    def _passed_by_kfp(self, artifact: str) -> bool:
        """A KFP artifact between tasks: one a task of the pipeline makes (a URI stays text)."""
        return artifact in self.producers and not self.p.artifacts[artifact].is_uri

    def _order_only(self, upstream: str, task_id: str) -> bool:
        """An edge no KFP input carries (`after:`, a URI artifact): the task needs `.after()`."""
        return all(reason == "after" or (reason.startswith("artifact:") and not self._passed_by_kfp(reason[9:]))
                   for reason in self.graph.edges[upstream, task_id]["reasons"])

    def _made_artifacts(self, task: Task) -> list[str]:
        """The artifacts a task makes as KFP artifacts (a URI stays text)."""
        return [a for a in task.produces if not self.p.artifacts[a].is_uri]

    def _inputs(self, task_id: str, task: Task) -> tuple[list[str], list[str]]:
        """The component's signature entries and the call's keyword arguments, in a stable order:
        params, consumed artifacts, upstream values, then produced artifacts and own outputs."""
        names = self.names[task_id]
        signature, call = [], []
        refs = [ref for text in _texts(task, loop=False) for ref in refs_in(text)]
        for name in dict.fromkeys(str(r.name) for r in refs if r.kind == "param"):
            local = names[("param", name)]
            signature.append(f"{local}: {_TYPES[self.p.params[name].value_type]}")
            call.append(f"{local}={name}")
        for artifact in task.consumes:
            if self._passed_by_kfp(artifact):
                kind = _ARTIFACT_TYPES[self.p.artifacts[artifact].kind]
                local = names[("artifact", artifact)]
                signature.append(f"{local}: dsl.Input[dsl.{kind}]")
                producer = self.producers[artifact]
                key = self.names[producer][("artifact", artifact)]
                call.append(f'{local}={self.variables[producer]}.outputs["{key}"]')
        for upstream, output in dict.fromkeys((str(r.task), str(r.name)) for r in refs if r.kind == "task_output"):
            local = names[("value", upstream, output)]
            channel = self._output_channel(upstream, output)
            if self.p.tasks[upstream].is_mapped:  # fan-in: the list over the loop's runs
                signature.append(f"{local}: list")
                call.append(f"{local}=dsl.Collected({channel})")
            else:
                signature.append(f"{local}: {_TYPES[self.p.tasks[upstream].outputs[output].type]}")
                call.append(f"{local}={channel}")
        item = self._item_variable(task_id)
        keys = list(dict.fromkeys(r.name for r in refs if r.kind == "item"))
        if keys and task.kind == "python":  # the whole item; the body picks its keys
            signature.append(f"item: {self._item_type(task, None)}")
            call.append(f"item={item}")
        else:
            renamed = isinstance(task.foreach, list)  # literal items: _loop gives their keys safe names
            for key in keys:
                if key in _CHANNEL_ATTRIBUTES and not renamed:
                    self._error(ITEM_KEY, task_id, f"the item key '{key}' is also an attribute of KFP's loop "
                                                   "variable, so a container component cannot read it", ("foreach",))
                # KFP passes loop items (and their keys) to a container as text, which is what a command reads;
                # a whole literal item must still be declared with the type kfp gives the loop variable
                declared = self._item_type(task, None) if not key and isinstance(task.foreach, list) else "str"
                signature.append(f"item{'_' + key if key else ''}: {declared}")
                subvar = f".{'k_' if renamed else ''}{key}" if key else ""
                call.append(f"item{'_' + key if key else ''}={item}{subvar}")
        for artifact in self._made_artifacts(task):
            kind = _ARTIFACT_TYPES[self.p.artifacts[artifact].kind]
            signature.append(f"{names[('artifact', artifact)]}: dsl.Output[dsl.{kind}]")
        return signature, call

    def _ref_code(self, ref: Ref, task: Task) -> str | None:
        """The component-side expression of a reference (a variable, or an artifact's path), in
        the component being written (self.local: its names)."""
        if ref.kind == "param":
            return self.local[("param", str(ref.name))]
        if ref.kind == "artifact":
            name = str(ref.name)
            artifact = self.p.artifacts[name]
            if not artifact.is_uri and (name in task.produces or (name in task.consumes and name in self.producers)):
                return f"{self.local[('artifact', name)]}.path"
            return None  # a literal path: outside the pipeline, or a URI
        if ref.kind == "task_output":
            return self.local[("value", str(ref.task), str(ref.name))]
        if ref.kind == "output":
            return self.local[("output", str(ref.name))]
        if ref.name and task.kind == "python":
            return f"item[{code_literal(ref.name)}]"
        return f"item_{ref.name}" if ref.name else "item"

    def _item_type(self, task: Task, key: str | None) -> str:
        """The type of a loop item (or of one key of it), from the literal list or the param's default."""
        if isinstance(task.foreach, list) and key is None and task.foreach:
            first = type_of_value(task.foreach[0])  # kfp types a literal loop's variable by its first item
            return _TYPES[first] if first is not None else "str"
        if isinstance(task.foreach, list):
            items = task.literal_items
        else:
            (ref,) = refs_in(task.foreach)
            items = self.p.params[str(ref.name)].default if ref.kind == "param" else None
        values = [item.get(key) if isinstance(item, dict) else None for item in items] if key and items else items
        found = {type_of_value(value) for value in values or ()}
        return _TYPES[found.pop()] if len(found) == 1 and None not in found else "str"

    # ------------------------------------------------------------------ components

    def _task(self, task_id: str) -> list[str] | None:
        task = self.p.tasks[task_id]
        component = self.components[task_id]
        self.local = self.names[task_id]
        signature, call = self._inputs(task_id, task)
        if task.kind == "python":
            code = self._python_component(task_id, task, component, signature)
        elif task.kind == "noop":
            code = f"@dsl.component(base_image=IMAGE)\ndef {component}():\n    pass\n"
        else:
            code = self._container_component(task_id, task, component, signature)
        if code is None:
            return None
        self.component_code.append(code)
        variable = self.variables[task_id]
        lines = [f"{variable} = {component}({', '.join(call)})",
                 f"{variable}.set_display_name({code_literal(task_id)})"]
        upstream = [u for u in self.graph.predecessors(task_id) if self._order_only(u, task_id)
                    and u not in self.watched.get(task_id, ())]  # a watched task may fail: its probe waits
        if upstream:
            lines.append(f"{variable}.after({', '.join(self.variables[u] for u in upstream)})")
        if task.trigger_rule is TriggerRule.ALL_DONE:
            lines.append(f"{variable}.ignore_upstream_failure()")
        return lines + self._settings(variable, task)

    def _settings(self, variable: str, task: Task) -> list[str]:
        lines = []
        enabled = task.cache is not None and task.cache.enabled
        lines.append(f"{variable}.set_caching_options(enable_caching={enabled})")
        if task.retries:
            retry = [f"num_retries={task.retries}"]
            if task.retry_delay is not None:
                retry.append(f'backoff_duration="{task.retry_delay}s"')
            retry.append(f"backoff_factor={float(task.retry_backoff or 1.0)!r}")
            if task.retry_max_delay is not None:
                retry.append(f'backoff_max_duration="{task.retry_max_delay}s"')
            lines.append(f"{variable}.set_retry({', '.join(retry)})")
        for name, value in task.env.items():
            if refs_in(value):
                continue  # checked in _container_component / _python_component
            text = "".join(parse_placeholders(value)[0])  # no placeholder: `$${{` is the escape of `${{`
            lines.append(f"{variable}.set_env_variable({code_literal(name)}, {code_literal(text)})")
        for env_name, secret in task.secrets.items():
            self.kubernetes = True
            lines.append(f"kubernetes.use_secret_as_env({variable}, secret_name={code_literal(secret.name)}, "
                         f"secret_key_to_env={{{code_literal(secret.key)}: {code_literal(env_name)}}})")
        if task.timeout is not None:
            self.kubernetes = True
            lines.append(f"kubernetes.set_timeout({variable}, {task.timeout})")
        lines += self._mount_volume(variable)
        resources = task.resources
        if resources is not None:
            if resources.cpu is not None:
                lines.append(f"{variable}.set_cpu_limit({code_literal(resources.cpu)})")
            if resources.memory is not None:
                lines.append(f"{variable}.set_memory_limit({code_literal(resources.memory)})")
            if resources.gpu:
                lines.append(f"{variable}.set_accelerator_type({code_literal(resources.gpu_type)})")
                lines.append(f"{variable}.set_accelerator_limit({resources.gpu})")
        return lines

    def _check_env(self, task_id: str, task: Task) -> bool:
        bad = [name for name, value in task.env.items() if refs_in(value)]
        for name in bad:
            self._error(ENV_PLACEHOLDER, task_id, f"env value '{name}' has a placeholder; KFP env values are fixed "
                                                  "when compiling", ("env", name))
        return not bad

    def _fields(self, task: Task) -> str:
        return ", ".join(f"({code_literal(self.local[('output', name)])}, {_TYPES[o.type]})"
                         for name, o in task.outputs.items())

    def _returns(self, task: Task) -> str:
        """The return annotation: the one output's type, or a NamedTuple of several."""
        if self._returns_one_value(task):
            return f" -> {_TYPES[next(iter(task.outputs.values())).type]}"
        return f' -> NamedTuple("Outputs", [{self._fields(task)}])' if task.outputs else ""

    def _python_component(self, task_id: str, task: Task, component: str, signature: list[str]) -> str | None:
        if not self._check_env(task_id, task):
            return None
        module, _, function = str(task.python).partition(":")
        head, _, rest = function.partition(".")
        kwargs = task.args if isinstance(task.args, dict) else {}
        plain = {k: v for k, v in kwargs.items() if k.isidentifier() and not keyword.iskeyword(k)}
        arguments = ", ".join(f"{key}={self._value_code(value, task)}" for key, value in plain.items())
        others = {k: v for k, v in kwargs.items() if k not in plain}  # `class`, `a-b`: passed by mapping
        if others:
            mapping = ", ".join(f"{code_literal(k)}: {self._value_code(v, task)}" for k, v in others.items())
            arguments += (", " if arguments else "") + f"**{{{mapping}}}"
        call = f"{head}{'.' + rest if rest else ''}({arguments})"
        base_image = code_literal(task.image) if task.image else "IMAGE"
        lines = [f"@dsl.component(base_image={base_image})",
                 f"def {component}({', '.join(signature)}){self._returns(task)}:"]
        if task.description:
            lines.append(f"    {code_literal(task.description)}")
        if f"{TEXT_HELPER}(" in arguments:  # the run-time text rule, for texts mixing literals and values
            lines.append("    import json")
            lines.append("")
            lines.append(f"    def {TEXT_HELPER}(value):")
            lines.append("        return value if isinstance(value, str) else json.dumps(value, separators=(',', ':'), "
                         "ensure_ascii=False)")
            lines.append("")
        if self.workdir is not None:  # before the import: the module may live there
            lines += ["    import os", "    import sys", "", f"    os.chdir({code_literal(self.workdir)})",
                      "    sys.path.insert(0, os.getcwd())"]
        lines.append(f"    from {module} import {head}")
        lines.append("")
        if self._returns_one_value(task):  # named by a variable: the importer reads the output's name from it
            variable = self.local[("output", next(iter(task.outputs)))]
            lines += [f"    {variable} = {call}", f"    return {variable}"]
        elif task.outputs:
            lines.append(f"    result = {call}")
            lines.append(f"    outputs = NamedTuple(\"Outputs\", [{self._fields(task)}])")
            lines.append(f"    return outputs(*(result[name] for name in {code_literal(list(task.outputs))}))")
        else:
            lines.append(f"    {call}")
        return "\n".join(lines) + "\n"

    def _value_code(self, value: Any, task: Task) -> str:
        """A python argument as an expression: literals as literals, placeholders as variables,
        texts mixing both through _text (the run-time text rule)."""
        if isinstance(value, list):
            return "[" + ", ".join(self._value_code(v, task) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{code_literal(k)}: {self._value_code(v, task)}" for k, v in value.items()) + "}"
        if not isinstance(value, str):
            return code_literal(value)
        segments = parse_placeholders(value)[0]
        parts = []
        for segment in segments:
            if isinstance(segment, str):
                parts.append(code_literal(segment))
                continue
            code = self._ref_code(segment, task)
            if code is None:  # a literal artifact path
                parts.append(code_literal(self.p.artifacts[str(segment.name)].path))
            else:
                parts.append(code if len(segments) == 1 else f"{TEXT_HELPER}({code})")
        if not parts:
            return "''"
        return parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"

    def _container_component(self, task_id: str, task: Task, component: str, signature: list[str]) -> str | None:
        if not self._check_env(task_id, task):
            return None
        output_params = [f"{self.local[('output', name)]}: dsl.OutputPath({_TYPES[o.type]})"
                         for name, o in task.outputs.items()]
        image = code_literal(task.image) if task.image else "IMAGE"
        extra = list(task.args) if isinstance(task.args, list) else []
        if isinstance(task.command, str):
            shell = "bash" if task.image is None else "sh"  # a user's image may have no bash
            args = self._script_args(task.command, task)
            if self.workdir is not None:
                cd = CD_WORKDIR.format(dir=shlex.quote(self.workdir))
                args = [code_literal(piece) for piece in _pieces(cd)] + args
            if extra:  # CMD "$@" with the container args, as `sh -c 'CMD "$@"' sh ARG...` would run it
                args = [code_literal(str(len(args) + 1)), *args, code_literal(ARGS_PIECE),
                        *self._groups(extra, task)]
                command = self._command(JOIN_WITH_ARGS.replace("bash", shell))
            else:
                command = self._command(JOIN.replace("bash", shell))
        else:
            parts = [*(task.command or []), *extra]
            argv = [self._arg_code(part, task) for part in parts]
            if (None in argv or self.workdir is not None) and not task.command:
                self._error(CONTAINER_ENTRYPOINT, task_id, "container args that mix text and values (or hold '{{'), "
                                                           "or a workdir, need sh to run the image's command, and the "
                                                           "task gives none (the entrypoint is unknown)", ("args",))
                return None
            if None in argv or self.workdir is not None:
                # a text mixing values (or holding `{{`) cannot be one KFP argument: sh joins its pieces
                groups = [self._script_args(str(part), task) for part in parts]
                if self.workdir is not None:  # the first group: the workdir, text that takes no placeholder
                    groups.insert(0, [code_literal(piece) for piece in _pieces(self.workdir)])
                command = self._command(EXEC_REBUILT_IN_WORKDIR if self.workdir is not None else EXEC_REBUILT)
                args = _grouped(groups)
            else:
                count = len(task.command or [])
                command = "[" + ", ".join(argv[:count]) + "]" if count else None
                args = argv[count:]
        spec = [f"image={image}"] + ([f"command={command}"] if command else []) + [f"args=[{', '.join(args)}]"]
        lines = ["@dsl.container_component",
                 f"def {component}({', '.join(signature + output_params)}):"]
        if task.description:
            lines.append(f"    {code_literal(task.description)}")
        lines.append(f"    return dsl.ContainerSpec({', '.join(spec)})")
        return "\n".join(lines) + "\n"

    def _command(self, script: str) -> str:
        """The module constant holding `sh -c SCRIPT sh`, written once above the components."""
        self.commands.add(script)
        return _COMMAND_NAMES[script]

    def _script_args(self, text: str, task: Task) -> list[str]:
        """A shell command as arguments of the joining `sh -c`: literal pieces and values."""
        args = []
        for segment in parse_placeholders(text)[0]:
            if isinstance(segment, str):
                args.extend(code_literal(piece) for piece in _pieces(segment))
                continue
            code = self._ref_code(segment, task)
            if code is None:
                args.extend(code_literal(piece) for piece in _pieces(self.p.artifacts[str(segment.name)].path))
            else:
                args.append(code)
        return args

    def _arg_code(self, text: Any, task: Task) -> str | None:
        """One argv element as one KFP argument: a literal, or one whole value; None when it mixes
        both or holds `{{` (KFP would read that as its own placeholder)."""
        text = text if isinstance(text, str) else str(text)
        segments = parse_placeholders(text)[0]
        if len(segments) == 1 and not isinstance(segments[0], str):
            code = self._ref_code(segments[0], task)
            return code if code is not None else code_literal(self.p.artifacts[str(segments[0].name)].path)
        literal = "".join(s for s in segments if isinstance(s, str))
        if len(segments) <= 1 and "{{" not in literal:
            return code_literal(literal)
        return None

    def _groups(self, parts: list[Any], task: Task) -> list[str]:
        """Argv elements as argument groups for REBUILD (literal pieces ending at `{`, values whole)."""
        return _grouped([self._script_args(str(part), task) for part in parts])


def _grouped(groups: list[list[str]]) -> list[str]:
    """Argument groups for REBUILD: their count, then each one's count and pieces (code)."""
    args = [code_literal(str(len(groups)))]
    for pieces in groups:
        args += [code_literal(str(len(pieces))), *pieces]
    return args


def _without_default_display_names(body: list[str]) -> list[str]:
    """The pipeline function's lines without the `set_display_name` calls that repeat the name kfp
    gives the task anyway: its component's name made DNS-safe, `-2`, `-3`, ... after the first
    task of that name (kfp names tasks in the order the function creates them)."""
    taken: set[str] = set()
    kept, display = [], None
    for line in body:
        created = _TASK_CREATED.match(line)
        if created:
            variable, component = created.groups()
            name = _kfp_task_name(component, taken)
            taken.add(name)
            display = f"{variable}.set_display_name({code_literal(name)})"
        elif line.strip() == display:
            continue
        kept.append(line)
    return kept


def _kfp_task_name(component: str, taken: set[str]) -> str:
    """The task name kfp gives a call of `component` (kfp.dsl.utils.maybe_rename_for_k8s)."""
    base = re.sub("-+", "-", re.sub("[^-0-9a-z]+", "-", component.lower())).strip("-")
    name, index = base, 2
    while name in taken:
        name, index = f"{base}-{index}", index + 1
    return name


def _texts(task: Task, *, loop: bool = True) -> list[str]:
    """The task's placeholder-carrying texts; without `loop`, not its foreach (the loop reads that)."""
    return [text for path, text in task_texts(task) if loop or path[:1] != ("foreach",)]
