"""Argo Workflows backend: a `Workflow` (a `CronWorkflow` when scheduled, a `WorkflowTemplate` on
request) whose entrypoint is one DAG template, valid for Argo v3.7 and v4.

Every document is built as plain data and written by the YAML serializer; the template only adds a
header. Argo substitutes `{{...}}` in every string of a template and has no escape for it, so user
text never reaches a template as-is when it holds `{{`: shell commands are cut into pieces that the
shell joins again, python tasks are scripts whose strings never hold `{{` and that read run-time
values from env (script.py), and anything else is an E302.
Placeholders become Argo variables; values a template cannot see (`tasks.*`, `item`) come in as
input parameters. Tasks whose templates would be equal share one template (shell tasks of the same
shape share one and get their command as an argument), which keeps big workflows small.
Details and the mapping of every feature: docs/backends/argo.md.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from typing import Any, Iterator, Mapping

from compiler.backends.base import Backend, EmitContext, TaskCost, emulated, native, unsupported
from compiler.backends.kubernetes_pods import warn_pod_boundaries
from compiler.backends.specs import as_text, texts_in, value_spec
from compiler.diagnostics import format_path
from compiler.language import conditions
from compiler.language.features import Feature
from compiler.language.graph import topological_order
from compiler.language.ir import Alert, AlertEvent, Pipeline, Task, TriggerRule, TriggerType, ValueType
from compiler.language.naming import dns_name
from compiler.language.placeholders import Ref, strings_in
from compiler.language.placeholders import parse as parse_placeholders
from compiler.language.references import parsed_when, task_refs
from compiler.output import emit
from compiler.output.yaml_out import BlockText

from .conventions import (
    API_VERSION,
    CRON_WORKFLOW_FILE,
    DEFAULT_IMAGE,
    DEFAULT_WORKDIR,
    DESCRIPTION_ANNOTATION,
    EVENT_ANNOTATION_PREFIX,
    IMAGE_SHELL,
    LIMITS_FILE,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    NEVER_EXPIRES,
    OUTPUT_FILE,
    OWNER_ANNOTATION,
    PASS_ARGS,
    POOLS_CONFIGMAP,
    PYTHON_COMMAND,
    SENSOR_FILE,
    SHELL,
    TAGS_ANNOTATION,
    TAGS_SEPARATOR,
    TASK_IDS_ANNOTATION,
    URI_EVENT_PREFIX,
    WORKDIR_VOLUME,
    WORKFLOW_FILE,
    WORKFLOW_TEMPLATE_FILE,
    shell_joiner,
)
from .limits import (
    COMMAND_BRACES,
    FIELD_BRACES,
    FRACTIONAL_BACKOFF,
    ITEMS_BRACES,
    LIMITS,
    PARAM_INPUTS,
    POOL_NAME,
    START_DATE,
)
from .script import python_script

_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+\Z")
# A PersistentVolumeClaim's name: a DNS-1123 subdomain.
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_CLAIM_NAME = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_MAX_CLAIM_NAME = 253


def _whole_backoff(task: Task) -> bool:
    return task.retry_backoff == int(task.retry_backoff)


_VALUE_KINDS = {
    ValueType.STR: "str", ValueType.INT: "int", ValueType.FLOAT: "float",
    ValueType.BOOL: "bool", ValueType.LIST: "json", ValueType.DICT: "json",
}


class Tag(str):
    """An Argo variable reference such as `{{workflow.parameters.rows}}` (never user text)."""


Segments = list[str]  # literal user text (str) and Argo variables (Tag)


class ArgoBackend(Backend):
    name = "argo"
    title = "Argo Workflows"
    cost = TaskCost(5.0, "each task is a pod: scheduling, image check, init and wait containers")
    render_weight = 0.8
    capabilities = {
        Feature.SHELL: native("a container template running the command with bash in the default image "
                              "(--option image)"),
        Feature.PYTHON: emulated("a script template that imports module:function and calls it (python in the image)"),
        Feature.CONTAINER: native("a container template"),
        Feature.PYTHON_IN_IMAGE: native("a script template in the task's image"),
        Feature.NOOP: native("a suspend template of zero seconds (no pod)"),
        Feature.ORDER_EDGE: native("depends"),
        Feature.ARTIFACTS: native("output/input artifacts in the configured artifact repository (default keys)"),
        Feature.VALUE_OUTPUTS: native("output parameters read from files"),
        Feature.PARAMS: emulated("workflow parameters (text, with enum and description; types and bounds unchecked)"),
        Feature.SCHEDULE: native("CronWorkflow schedules + timezone"),
        Feature.CATCHUP: unsupported("Argo has no catchup: `argo cron backfill` (3.7, alpha) or submit past runs by hand"),
        Feature.DATA_TRIGGER: emulated(
            f"an Argo Events Sensor ({SENSOR_FILE}) submitting the WorkflowTemplate on event NAME of the EventSource "
            "<pipeline>-events, which you create for your storage (webhook, S3, ...)"),
        Feature.MANUAL_TRIGGER: native("`argo submit` (no schedule)"),
        Feature.CONTINUOUS_TRIGGER: unsupported(
            "an Argo Events Sensor on this workflow's completion that submits it again"),
        Feature.RETRIES: native("retryStrategy limit + backoff.duration"),
        Feature.RETRY_BACKOFF: native("retryStrategy backoff.factor (whole numbers)"),
        Feature.RETRY_MAX_DELAY: native("retryStrategy backoff.cap (Argo 3.7+)"),
        Feature.TIMEOUT: native("template activeDeadlineSeconds (per attempt)"),
        Feature.PIPELINE_TIMEOUT: native("spec.activeDeadlineSeconds"),
        Feature.CONDITION: native("when (expr); else = the negated condition"),
        Feature.TRIGGER_RULE: native("depends expressions over .Succeeded/.Failed/.Errored/.Skipped/.Omitted"),
        Feature.STATIC_FAN_OUT: native("withItems / withParam over the workflow parameter"),
        Feature.DYNAMIC_FAN_OUT: native("withParam over the upstream output parameter"),
        Feature.FAN_IN: native("the aggregated output parameter (a JSON list)"),
        Feature.MAX_PARALLEL: emulated(f"a semaphore on the task's template ({LIMITS_FILE} ConfigMap, shared by runs)"),
        Feature.ENV: native("container env"),
        Feature.SECRETS: native("env valueFrom.secretKeyRef"),
        Feature.RESOURCES: native("container resources (requests; memory also as the limit)"),
        Feature.GPU: native("resource limits (e.g. nvidia.com/gpu)"),
        Feature.CACHE: native("memoize keyed by the task and its inputs (ConfigMap cache)"),
        Feature.POOL: native(f"a semaphore: ConfigMap {POOLS_CONFIGMAP}, key = pool name (create it)"),
        Feature.MAX_ACTIVE_TASKS: native("spec.parallelism"),
        Feature.MAX_ACTIVE_RUNS: emulated(
            f"a workflow semaphore ({LIMITS_FILE}); CronWorkflow concurrencyPolicy Forbid for 1"),
        Feature.PIPELINE_ALERTS: native("spec.onExit with a step per alert, by {{workflow.status}}"),
        Feature.TASK_ALERTS: native("a lifecycle hook on the task's status"),
        Feature.RETRY_ALERTS: unsupported("Argo has no retry hook: alert from the command"),
        Feature.SUCCESS_ALERTS: native("onExit step / lifecycle hook on Succeeded"),
        Feature.WORKDIR: native("workingDir of every container (shared by the tasks with --option volume=CLAIM)"),
        Feature.OWNER: emulated(f"the annotation {OWNER_ANNOTATION}"),
        Feature.TAGS: emulated(f"the annotation {TAGS_ANNOTATION}"),
        Feature.PRIORITY: unsupported("give the task's pods a priorityClassName (podSpecPatch)"),
    }
    limits = LIMITS
    option_help = {
        "image": f"image for shell and python tasks (default {DEFAULT_IMAGE})",
        "kind": "workflow (default: a Workflow, or a CronWorkflow when scheduled) | template (a WorkflowTemplate, "
                "plus a CronWorkflow referencing it when scheduled)",
        "argo-version": "3.7 (default) | 4: the only difference is memoize's cache ConfigMap reference, which "
                        "needs a key up to 3.7 and takes none in v4",
        "workdir": f"working directory in the containers when the pipeline sets none (default {DEFAULT_WORKDIR})",
        "volume": "CLAIM: mount this existing PersistentVolumeClaim at the working directory of every task, so that "
                  "files pass between tasks (each task is a pod); default: none",
    }

    def render(self, pipeline: Pipeline, ctx: EmitContext) -> dict[str, str]:
        builder = _WorkflowBuilder(pipeline, ctx)
        documents = builder.build()
        if documents is None:
            return {}
        files = {}
        for filename, document in documents.items():
            text = emit.render("argo", "resource.yaml.j2", kind=document["kind"], name=pipeline.name,
                               apply=_apply_command(document), body=emit.to_yaml(document).rstrip("\n"))
            files[filename] = text  # to_yaml has read the body back; the header is comments
        return files


def requested_volume(options: Mapping[str, Any]) -> str | None:
    """The PersistentVolumeClaim `--option volume=CLAIM` mounts at every task's working directory,
    or None: then only declared artifacts and outputs pass between tasks (each task is a pod)."""
    claim = options.get("volume")
    return None if claim is None else str(claim)


def _apply_command(document: dict) -> str:
    if document["kind"] == "Workflow":
        return f"argo submit {WORKFLOW_FILE}"
    if document["kind"] == "ConfigMap":
        return f"kubectl apply -f {LIMITS_FILE}"
    if document["kind"] == "Sensor":
        return f"kubectl apply -f {SENSOR_FILE} (needs Argo Events)"
    return f"kubectl apply -f {document['kind'].lower()}.yaml"


# ----------------------------------------------------------------------------- text


def _pieces(segments: Segments) -> list[str]:
    """Strings that, joined, give the text, with no `{{` inside any one of them that Argo would
    read as a variable: cut between two `{` of user text and before a variable after a `{`."""
    pieces = [""]
    for segment in segments:
        if isinstance(segment, Tag):
            if pieces[-1].endswith("{"):
                pieces.append("")
            pieces[-1] += segment
            continue
        for char in segment:
            if char == "{" and pieces[-1].endswith("{"):
                pieces.append("")
            pieces[-1] += char
    return pieces


# Runs its arguments joined as one bash script: the pieces of a command that holds `{{`.
BASH_JOIN = shell_joiner(SHELL)


def _bash(pieces: list[str]) -> dict:
    """The command and args that run shell text (given as `_pieces`) with bash, as every backend
    runs shell tasks: one piece as `bash -c PIECE`, more through BASH_JOIN."""
    if len(pieces) == 1:
        return {"command": [SHELL, "-c"], "args": pieces}
    return {"command": list(BASH_JOIN), "args": pieces}


def _joined(segments: Segments) -> str:
    return "".join(segments)


def _has_literal_braces(segments: Segments) -> bool:
    return len(_pieces(segments)) > 1


def _is_claim_name(name: str) -> bool:
    return len(name) <= _MAX_CLAIM_NAME and bool(_CLAIM_NAME.match(name))


def _expr_string(text: str) -> str:
    """An expr string literal; braces escaped so that no `}}` ends Argo's `{{=...}}` early."""
    escaped = (text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
               .replace("{", "\\u007b").replace("}", "\\u007d"))
    return f"'{escaped}'"


def _expr_key(name: str) -> str:
    return f"[{_expr_string(name)}]"


# ----------------------------------------------------------------------------- the builder


class _WorkflowBuilder:
    def __init__(self, pipeline: Pipeline, ctx: EmitContext):
        self.p = pipeline
        self.ctx = ctx
        self.graph = ctx.graph
        self.report = ctx.report
        self.image = str(ctx.options.get("image", DEFAULT_IMAGE))
        self.kind = str(ctx.options.get("kind", "workflow"))
        self.version = str(ctx.options.get("argo-version", "3.7"))
        self.workdir = self._workdir()
        self.volume = requested_volume(ctx.options)
        self.name = dns_name(pipeline.name)
        self.names: set[str] = set()
        self.templates: list[dict] = []
        self.template_by_content: dict[str, str] = {}
        self.limits: dict[str, str] = {}
        self.task_names = {task_id: dns_name(task_id) for task_id in pipeline.tasks}
        self.entrypoint = self._unique("main")
        self.exit_handler = self._unique("exit-handler") if pipeline.alerts else None
        self.shapes: dict[int, str] = {}  # id(task) -> its shell shape (tasks live as long as the pipeline)
        self.shared_shell = self._shared_shell_shapes()

    # ------------------------------------------------------------------ whole documents

    def build(self) -> dict[str, dict] | None:
        before = len(self.ctx.diagnostics.errors)
        self._check()
        dag_tasks = [self._dag_task(task_id) for task_id in topological_order(self.graph)]
        if len(self.ctx.diagnostics.errors) != before:
            return None
        # the exit handler first: its alert templates join self.templates
        exit_handler = [self._exit_handler()] if self.exit_handler else []
        templates = [{"name": self.entrypoint, "dag": {"failFast": False, "tasks": dag_tasks}}]
        templates += self.templates + exit_handler
        spec = self._spec(templates)
        documents: dict[str, dict] = {}
        schedule = self.p.schedule
        if self.kind == "template" or self._events():
            documents[WORKFLOW_TEMPLATE_FILE] = self._document("WorkflowTemplate", {"name": self.name}, spec)
            if schedule is not None:
                documents[CRON_WORKFLOW_FILE] = self._cron({"workflowTemplateRef": {"name": self.name}})
        elif schedule is not None:
            documents[CRON_WORKFLOW_FILE] = self._cron(spec)
        else:
            documents[WORKFLOW_FILE] = self._document("Workflow", {"generateName": f"{self.name}-"}, spec)
        if self._events():
            documents[SENSOR_FILE] = self._sensor()
        if self.limits:
            documents[LIMITS_FILE] = {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": self._limits_configmap()},
                "data": dict(sorted(self.limits.items())),
            }
        return documents

    def _document(self, kind: str, metadata: dict, spec: dict) -> dict:
        annotations = {}
        if self.p.description:
            annotations[DESCRIPTION_ANNOTATION] = self.p.description
        if self.p.owner:
            annotations[OWNER_ANNOTATION] = self.p.owner
        if self.p.tags:
            annotations[TAGS_ANNOTATION] = TAGS_SEPARATOR.join(self.p.tags)
        renamed = self._renamed_ids() if kind != "Sensor" else []
        if renamed:
            annotations[TASK_IDS_ANNOTATION] = ", ".join(renamed)
        metadata = {**metadata, "labels": {MANAGED_BY_LABEL: MANAGED_BY}}
        if annotations:
            metadata["annotations"] = annotations
        return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}

    def _renamed_ids(self) -> list[str]:
        """The task ids that their Argo names do not give back (`load-data` is read back as
        `load_data`, `Train` as `train`): the annotation TASK_IDS_ANNOTATION lists them, so that
        `dagshift import` restores them exactly. One annotation on the workflow, not one per
        template: tasks may share a template."""
        return [task_id for task_id in self.p.tasks if dns_name(task_id).replace("-", "_") != task_id]

    def _events(self) -> list[tuple[str, str]]:
        """(event name, what it stands for) of each data trigger."""
        events = []
        for index, trigger in enumerate(self.p.triggers):
            if trigger.type is TriggerType.DATA:
                if trigger.artifact is not None:
                    events.append((dns_name(trigger.artifact), self.p.artifacts[trigger.artifact].path))
                else:
                    events.append((f"{URI_EVENT_PREFIX}{index + 1}", str(trigger.uri)))
        return events

    def _sensor(self) -> dict:
        """An Argo Events Sensor that submits the WorkflowTemplate when any of the events arrives."""
        events = self._events()
        source = f"{self.name}-events"
        trigger: dict[str, Any] = {"name": "submit"}
        if len(events) > 1:
            trigger["conditions"] = " || ".join(name for name, _ in events)
        trigger["argoWorkflow"] = {"operation": "submit", "source": {"resource": {
            "apiVersion": API_VERSION, "kind": "Workflow", "metadata": {"generateName": f"{self.name}-"},
            "spec": {"workflowTemplateRef": {"name": self.name}}}}}
        spec = {
            "dependencies": [{"name": name, "eventSourceName": source, "eventName": name} for name, _ in events],
            "triggers": [{"template": trigger}],
        }
        document = self._document("Sensor", {"name": self.name}, spec)
        document["metadata"].setdefault("annotations", {}).update(
            {f"{EVENT_ANNOTATION_PREFIX}{name}": what for name, what in events})
        return document

    def _cron(self, workflow_spec: dict) -> dict:
        schedule = self.p.schedule
        assert schedule is not None
        spec: dict[str, Any] = {"schedules": [schedule.cron], "timezone": schedule.timezone}
        if self.p.max_active_runs == 1:
            spec["concurrencyPolicy"] = "Forbid"
        spec["workflowSpec"] = workflow_spec
        return self._document("CronWorkflow", {"name": self.name}, spec)

    def _spec(self, templates: list[dict]) -> dict:
        spec: dict[str, Any] = {"entrypoint": self.entrypoint}
        if self.p.params:
            spec["arguments"] = {"parameters": [self._param(name) for name in self.p.params]}
        if self.p.max_active_tasks is not None:
            spec["parallelism"] = self.p.max_active_tasks
        if self.p.timeout is not None:
            spec["activeDeadlineSeconds"] = self.p.timeout
        if self.exit_handler:
            spec["onExit"] = self.exit_handler
        if self.p.max_active_runs is not None and not (self.p.max_active_runs == 1 and self.p.schedule):
            self.limits["max-active-runs"] = str(self.p.max_active_runs)
            spec["synchronization"] = {"semaphores": [
                {"configMapKeyRef": {"name": self._limits_configmap(), "key": "max-active-runs"}}]}
        if self.volume is not None:
            spec["volumes"] = [{"name": WORKDIR_VOLUME, "persistentVolumeClaim": {"claimName": self.volume}}]
        spec["templates"] = templates
        return spec

    def _param(self, name: str) -> dict:
        param = self.p.params[name]
        entry: dict[str, Any] = {"name": name}
        if param.default is not None:
            entry["value"] = as_text(param.default)
        if param.enum:
            entry["enum"] = [as_text(v) for v in param.enum]
        if param.description:
            entry["description"] = param.description
        return entry

    def _limits_configmap(self) -> str:
        return f"{self.name}-limits"

    # ------------------------------------------------------------------ checks

    def _check(self) -> None:
        if self.kind not in ("workflow", "template"):
            self.report.error("E303", f"unknown value '{self.kind}' for the argo option `kind`",
                              help="use --option kind=workflow or kind=template")
        if self.version not in ("3.7", "4"):
            self.report.error("E303", f"unknown value '{self.version}' for the argo option `argo-version`",
                              help="use --option argo-version=3.7 or argo-version=4")
        if self.volume is not None and not _is_claim_name(self.volume):
            self.report.error("E303", f"'{self.volume}' for the argo option `volume` is not a PersistentVolumeClaim "
                                      "name (a DNS-1123 name)",
                              help="use the name of an existing claim: lower-case letters, digits, '-' and '.', "
                                   f"starting and ending with a letter or digit, at most {_MAX_CLAIM_NAME} characters")
        warn_pod_boundaries(self.p, self.report, "Argo", volume=self.volume,
                            default_image=None if "image" in self.ctx.options else DEFAULT_IMAGE)
        schedule = self.p.schedule
        if schedule is not None and schedule.start_date is not None:
            START_DATE.diagnose(self.report, "Argo CronWorkflows have no start date: start_date is not used",
                                ("schedule", "start_date"), at_key=True)
        for task_id, task in self.p.tasks.items():
            if task.retry_backoff is not None and not _whole_backoff(task):
                FRACTIONAL_BACKOFF.diagnose(self.report, f"Argo backoff factors are whole numbers: task '{task_id}' "
                                                         f"has {task.retry_backoff}, so its backoff is left out and "
                                                         "every retry waits retry_delay",
                                            ("tasks", task_id, "retry_backoff"),
                                            help=f"use a whole number, such as {max(2, round(task.retry_backoff))}")
            if task.pool is not None and not _CONFIGMAP_KEY.match(task.pool):
                POOL_NAME.diagnose(self.report, f"Argo semaphores are ConfigMap keys: pool '{task.pool}' is not one, "
                                                f"so it is left out and task '{task_id}' is not limited by it",
                                   ("tasks", task_id, "pool"))
            if isinstance(task.foreach, list) and any("{{" in text for text in texts_in(task.literal_items)):
                ITEMS_BRACES.diagnose(self.report, f"Argo cannot carry a literal '{{{{' in withItems (task "
                                                   f"'{task_id}')", ("tasks", task_id, "foreach"))
        for path, text in self._verbatim_texts():
            if "{{" in text:
                FIELD_BRACES.diagnose(self.report, f"Argo substitutes '{{{{...}}}}' in {format_path(path)} and has no "
                                                   "escape for a literal '{{'", path)
        for path, text in self._param_texts():
            if "{{inputs." in text:
                PARAM_INPUTS.diagnose(self.report, f"Argo inserts {format_path(path)} into a template and then "
                                                   "replaces '{{inputs....}}' in it again", path)

    def _verbatim_texts(self) -> Iterator[tuple[tuple, str]]:
        """User text the workflow carries as it is, in fields Argo substitutes `{{...}}` in (commands,
        env values, arguments and scripts are checked or split where they are written)."""
        p = self.p
        if p.workdir:
            yield ("workdir",), p.workdir
        for name, artifact in p.artifacts.items():
            yield ("artifacts", name, "path"), artifact.path
        for task_id, task in p.tasks.items():
            where = ("tasks", task_id)
            if task.image:
                yield (*where, "image"), task.image
            for name, output in task.outputs.items():
                if output.path:
                    yield (*where, "outputs", name, "path"), output.path
            for env, secret in task.secrets.items():
                yield (*where, "secrets", env, "name"), secret.name
                yield (*where, "secrets", env, "key"), secret.key
            if task.resources is not None:
                yield (*where, "resources", "gpu_type"), task.resources.gpu_type

    def _param_texts(self) -> Iterator[tuple[tuple, str]]:
        """Param defaults and enum values: Argo inserts them once, then runs its inputs pass."""
        for name, param in self.p.params.items():
            for relative, text in strings_in(param.default, ("default",)):
                yield ("params", name, *relative), text
            for index, option in enumerate(param.enum or []):
                for relative, text in strings_in(option, ("enum", index)):
                    yield ("params", name, *relative), text

    def _literal_braces(self, task_id: str, path: tuple, what: str) -> None:
        COMMAND_BRACES.diagnose(self.report, f"Argo substitutes '{{{{...}}}}' in every {what} and has no escape for "
                                             f"a literal '{{{{' (task '{task_id}')", ("tasks", task_id, *path))

    # ------------------------------------------------------------------ names

    def _unique(self, base: str) -> str:
        base = base[:57].rstrip("-") or "t"
        name, counter = base, 2
        while name in self.names:
            name, counter = f"{base}-{counter}", counter + 1
        self.names.add(name)
        return name

    def _template(self, base: str, content: dict) -> str:
        """The name of a template with this content: an existing equal one, or a new one."""
        key = json.dumps(content, sort_keys=True)
        if key not in self.template_by_content:
            name = self._unique(base)
            self.template_by_content[key] = name
            self.templates.append({"name": name, **content})
        return self.template_by_content[key]

    # ------------------------------------------------------------------ placeholders

    def _segments(self, text: str, task_id: str, inputs: _Inputs | None) -> Segments:
        """The text as literal parts and Argo variables. With `inputs`, DAG-scope values become the
        template's input parameters; without, they stay DAG variables (for a task's arguments)."""
        segments: Segments = []
        for part in parse_placeholders(text)[0]:
            if isinstance(part, str):
                segments.append(part)
            else:
                segments.append(self._ref_segment(part, task_id, inputs))
        return segments

    def _ref_segment(self, ref: Ref, task_id: str, inputs: _Inputs | None) -> str:
        if ref.kind == "param":
            return Tag(f"{{{{workflow.parameters.{ref.name}}}}}")
        if ref.kind == "artifact":
            return self.p.artifacts[str(ref.name)].path
        if ref.kind == "output":
            return self._output_file(self.p.tasks[task_id], str(ref.name), relative=True)
        if inputs is None:
            return Tag(self._dag_variable(ref))
        return inputs.tag(self._dag_variable(ref), self._input_name(ref))

    def _dag_variable(self, ref: Ref) -> str:
        """The Argo variable (DAG scope) of an upstream output or the fan-out item."""
        if ref.kind == "task_output":
            return f"{{{{tasks.{self.task_names[str(ref.task)]}.outputs.parameters.{ref.name}}}}}"
        return "{{item}}" if ref.name is None else f"{{{{item.{ref.name}}}}}"

    def _input_name(self, ref: Ref) -> str:
        """The input parameter that carries a DAG-scope value: `item`, `item-KEY`, `from-TASK-NAME`."""
        if ref.kind == "task_output":
            return f"from-{self.task_names[str(ref.task)]}-{ref.name}"
        return "item" if ref.name is None else f"item-{ref.name}"

    def _output_file(self, task: Task, name: str, *, relative: bool = False) -> str:
        path = task.outputs[name].path
        if path is None:
            return OUTPUT_FILE + name
        return path if relative else self._absolute(path)

    def _absolute(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.workdir, path))

    def _workdir(self) -> str:
        workdir = self.p.workdir or ""
        if workdir.startswith("/"):
            return posixpath.normpath(workdir)
        base = str(self.ctx.options.get("workdir", DEFAULT_WORKDIR))
        return posixpath.normpath(posixpath.join(base, workdir))

    # ------------------------------------------------------------------ DAG tasks

    def _dag_task(self, task_id: str) -> dict:
        task = self.p.tasks[task_id]
        inputs = _Inputs()
        entry: dict[str, Any] = {"name": self.task_names[task_id]}
        template = self._task_template(task_id, task, inputs)
        entry["template"] = template
        depends = self._depends(task_id, task)
        if depends:
            entry["depends"] = depends
        when = self._when(task)
        if when:
            entry["when"] = when
        if task.foreach is not None:
            if isinstance(task.foreach, list):
                entry["withItems"] = task.literal_items
            else:
                ref = next(s for s in parse_placeholders(task.foreach)[0] if isinstance(s, Ref))
                entry["withParam"] = (f"{{{{workflow.parameters.{ref.name}}}}}" if ref.kind == "param"
                                      else self._dag_variable(ref))
        arguments: dict[str, Any] = {}
        if inputs.values:
            arguments["parameters"] = [{"name": n, "value": v} for n, v in inputs.values.items()]
        artifacts = self._input_artifacts(task)
        if artifacts:
            arguments["artifacts"] = [{"name": name, "from": f"{{{{tasks.{self.task_names[producer]}"
                                               f".outputs.artifacts.{name}}}}}"} for name, producer in artifacts]
        if arguments:
            entry["arguments"] = arguments
        hooks = self._task_hooks(task_id, task)
        if hooks:
            entry["hooks"] = hooks
        return entry

    def _depends(self, task_id: str, task: Task) -> str:
        upstream = sorted(self.graph.predecessors(task_id), key=lambda n: self.graph.nodes[n]["index"])
        names = [self.task_names[u] for u in upstream]
        if not names:
            return ""
        rule = task.trigger_rule

        def succeeded(task_upstream: str, name: str) -> str:
            # A bare name also accepts Skipped: an upstream skipped by its `when` must stop us.
            branch = self.p.tasks[task_upstream]
            return f"{name}.Succeeded" if branch.when is not None or branch.else_of is not None else name

        if rule is TriggerRule.ALL_SUCCESS:
            return " && ".join(succeeded(u, n) for u, n in zip(upstream, names))
        if rule is TriggerRule.ONE_SUCCESS:
            return _either([f"{n}.Succeeded" for n in names], " || ")
        failed = [f"{n}.Failed || {n}.Errored || {n}.Omitted" for n in names]
        if rule is TriggerRule.ONE_FAILED:
            return _either(failed, " || ")
        if rule is TriggerRule.ALL_FAILED:
            return _either(failed, " && ")
        if rule is TriggerRule.NONE_FAILED:
            return _either([f"{n}.Succeeded || {n}.Skipped || {n}.Omitted" for n in names], " && ")
        return _either([f"{n}.Succeeded || {n}.Skipped || {n}.Failed || {n}.Errored || {n}.Omitted"
                        for n in names], " && ")

    def _when(self, task: Task) -> str:
        if task.when is not None:
            expr = parsed_when(task)
            return f"{{{{={self._expr(expr)}}}}}" if expr is not None else ""
        if task.else_of is not None:
            expr = parsed_when(self.p.tasks[task.else_of])
            return f"{{{{=!({self._expr(expr)})}}}}" if expr is not None else ""
        return ""

    def _expr(self, expr: conditions.Expr) -> str:
        if isinstance(expr, conditions.Literal):
            if isinstance(expr.value, bool):
                return "true" if expr.value else "false"
            if isinstance(expr.value, str):
                return _expr_string(expr.value)
            return json.dumps(expr.value)
        if isinstance(expr, conditions.RefOperand):
            return self._expr_ref(expr.ref)
        if isinstance(expr, conditions.Compare):
            return f"{self._expr(expr.left)} {expr.op} {self._expr(expr.right)}"
        if isinstance(expr, conditions.Not):
            return f"!({self._expr(expr.operand)})"
        op = " && " if expr.op == "and" else " || "
        return op.join(f"({self._expr(o)})" for o in expr.operands)

    def _expr_ref(self, ref: Ref) -> str:
        if ref.kind == "param":
            text = f"workflow.parameters{_expr_key(str(ref.name))}"
            value_type = self.p.params[str(ref.name)].value_type
        else:
            producer = self.p.tasks[str(ref.task)]
            text = f"tasks{_expr_key(self.task_names[str(ref.task)])}.outputs.parameters{_expr_key(str(ref.name))}"
            value_type = ValueType.LIST if producer.is_mapped else producer.outputs[str(ref.name)].type
        if value_type in (ValueType.INT, ValueType.FLOAT):
            return f"asFloat({text})"
        if value_type is ValueType.BOOL:
            return f"({text} == 'true')"
        return text

    def _input_artifacts(self, task: Task) -> list[tuple[str, str]]:
        found = []
        for name in task.consumes:
            artifact = self.p.artifacts.get(name)
            producer = self._producer(name)
            if artifact is not None and not artifact.is_uri and producer is not None:
                found.append((name, producer))
        return found

    def _producer(self, artifact: str) -> str | None:
        return next((t for t, task in self.p.tasks.items() if artifact in task.produces), None)

    def _task_hooks(self, task_id: str, task: Task) -> dict:
        hooks: dict[str, dict] = {}
        status = f"tasks{_expr_key(self.task_names[task_id])}.status"
        for index, alert in enumerate(task.alerts):
            if alert.on is AlertEvent.RETRY:
                continue  # reported by the capability check
            template = self._alert_template(alert)
            if alert.on is AlertEvent.FAILURE:
                expression = f"{status} == 'Failed' || {status} == 'Error'"
            else:
                expression = f"{status} == 'Succeeded'"
            hooks[f"alert-{index + 1}"] = {"expression": expression, "template": template}
        return hooks

    # ------------------------------------------------------------------ templates

    def _task_template(self, task_id: str, task: Task, inputs: _Inputs) -> str:
        name = self.task_names[task_id]
        if task.kind == "noop":
            return self._template("noop", {"suspend": {"duration": "0"}})
        if task.kind == "python":
            body = {"script": self._script(task_id, task, inputs)}
        elif task.kind == "container":
            body = {"container": self._container(task_id, task, inputs)}
        else:
            shared = self.shared_shell.get(self._shell_shape(task))
            if shared is not None and not _has_literal_braces(self._segments(self._command_text(task), task_id, None)):
                return self._shared_shell(task_id, task, inputs, shared)
            body = {"container": self._shell(task_id, task, inputs)}
        return self._template(name, self._wrap(task_id, task, body, inputs))

    def _wrap(self, task_id: str, task: Task, body: dict, inputs: _Inputs) -> dict:
        """The template around a container/script: inputs, outputs and the task's policies."""
        content: dict[str, Any] = {}
        input_section: dict[str, Any] = {}
        if inputs.values:
            input_section["parameters"] = [{"name": n} for n in inputs.values]
        artifacts = self._input_artifacts(task)
        if artifacts:
            input_section["artifacts"] = [{"name": n, "path": self._absolute(self.p.artifacts[n].path)}
                                          for n, _ in artifacts]
        if input_section:
            content["inputs"] = input_section
        outputs: dict[str, Any] = {}
        if task.outputs:
            outputs["parameters"] = [self._output_parameter(task, name) for name in task.outputs]
        produced = [n for n in task.produces if n in self.p.artifacts and not self.p.artifacts[n].is_uri]
        if produced:
            outputs["artifacts"] = [{"name": n, "path": self._absolute(self.p.artifacts[n].path)} for n in produced]
        if outputs:
            content["outputs"] = outputs
        content.update(self._policies(task_id, task, inputs))
        content.update(body)
        return content

    def _output_parameter(self, task: Task, name: str) -> dict:
        parameter: dict[str, Any] = {"name": name}
        value_type = task.outputs[name].type
        if task.kind == "python" and value_type is not ValueType.STR:
            # Argo parameters are text: the type is for readers of the workflow (and dagshift import)
            parameter["description"] = value_type.value
        parameter["valueFrom"] = {"path": self._output_file(task, name)}
        return parameter

    def _policies(self, task_id: str, task: Task, inputs: _Inputs) -> dict:
        policies: dict[str, Any] = {}
        if task.timeout is not None:
            policies["activeDeadlineSeconds"] = str(task.timeout)
        if task.retries:
            strategy: dict[str, Any] = {"limit": str(task.retries), "retryPolicy": "Always"}
            backoff: dict[str, Any] = {}
            if task.retry_delay is not None:
                backoff["duration"] = f"{task.retry_delay}s"
            if task.retry_backoff is not None and _whole_backoff(task):
                backoff["factor"] = str(int(task.retry_backoff))
            if task.retry_max_delay is not None:
                backoff["cap"] = f"{task.retry_max_delay}s"
            if backoff:
                strategy["backoff"] = backoff
            policies["retryStrategy"] = strategy
        semaphores = []
        if task.pool is not None and _CONFIGMAP_KEY.match(task.pool):
            semaphores.append({"configMapKeyRef": {"name": POOLS_CONFIGMAP, "key": task.pool}})
        if task.max_parallel is not None:
            key = self.task_names[task_id]
            self.limits[key] = str(task.max_parallel)
            semaphores.append({"configMapKeyRef": {"name": self._limits_configmap(), "key": key}})
        if semaphores:
            policies["synchronization"] = {"semaphores": semaphores}
        if task.cache is not None and task.cache.enabled:
            policies["memoize"] = {
                "key": self._memo_key(task_id, task, inputs),
                "maxAge": f"{task.cache.expire}s" if task.cache.expire is not None else NEVER_EXPIRES,
                "cache": {"configMap": self._cache_configmap(task_id)},
            }
        return policies

    def _cache_configmap(self, task_id: str) -> dict:
        reference = {"name": f"{self.name}-cache"}
        if self.version != "4":  # required up to 3.7 (and not used: entries are keyed by memoize.key)
            reference["key"] = self.task_names[task_id]
        return reference

    def _memo_key(self, task_id: str, task: Task, inputs: _Inputs) -> str:
        """The task's name, a hash of what it runs, and a hash of its run-time inputs (if any)."""
        static = hashlib.sha256(task.model_dump_json(exclude=_NOT_CACHE_KEY).encode()).hexdigest()[:12]
        key = f"{self.task_names[task_id]}-{static}"
        values = [f"workflow.parameters{_expr_key(name)}" for name in self._params_used(task)]
        values += [f"inputs.parameters{_expr_key(name)}" for name in inputs.values]
        if values:
            key += "-{{=sprig.sha256sum(" + " + '|' + ".join(values) + ")}}"
        return key

    def _params_used(self, task: Task) -> list[str]:
        seen: dict[str, None] = {}
        for _, ref in task_refs(task):
            if ref.kind == "param":
                seen.setdefault(str(ref.name))
        return list(seen)

    def _env(self, task_id: str, task: Task, inputs: _Inputs) -> list[dict]:
        env: list[dict] = []
        for key, value in task.env.items():
            segments = self._segments(value, task_id, inputs)
            if _has_literal_braces(segments):
                self._literal_braces(task_id, ("env", key), "environment value")
            env.append({"name": key, "value": _joined(segments)})
        for key, secret in task.secrets.items():
            env.append({"name": key, "valueFrom": {"secretKeyRef": {"name": secret.name, "key": secret.key}}})
        return env

    def _resources(self, task: Task) -> dict:
        resources = task.resources
        if resources is None:
            return {}
        requests: dict[str, str] = {}
        limits: dict[str, str] = {}
        if resources.cpu is not None:
            requests["cpu"] = resources.cpu
        if resources.memory is not None:
            requests["memory"] = limits["memory"] = resources.memory
        if resources.gpu:
            limits[resources.gpu_type] = str(resources.gpu)
        section = {}
        if requests:
            section["requests"] = requests
        if limits:
            section["limits"] = limits
        return section

    def _runtime_fields(self, task_id: str, task: Task, inputs: _Inputs, image: str) -> dict:
        """What every container/script carries besides its command."""
        fields: dict[str, Any] = {"image": image}
        env = self._env(task_id, task, inputs)
        if env:
            fields["env"] = env
        resources = self._resources(task)
        if resources:
            fields["resources"] = resources
        fields["workingDir"] = self.workdir
        fields.update(self._volume_mounts())
        return fields

    def _volume_mounts(self) -> dict:
        """The claim of --option volume mounted at the working directory (nothing without it)."""
        if self.volume is None:
            return {}
        return {"volumeMounts": [{"name": WORKDIR_VOLUME, "mountPath": self.workdir}]}

    # shell ---------------------------------------------------------------

    def _command_text(self, task: Task) -> str:
        return task.command if isinstance(task.command, str) else ""

    def _shell(self, task_id: str, task: Task, inputs: _Inputs) -> dict:
        container = self._runtime_fields(task_id, task, inputs, self.image)
        if isinstance(task.command, list):
            argv = []
            for index, part in enumerate(task.command):
                segments = self._segments(part, task_id, inputs)
                if _has_literal_braces(segments):
                    self._literal_braces(task_id, ("command", index), "argument")
                argv.append(_joined(segments))
            container["command"] = argv
        else:
            container.update(_bash(_pieces(self._segments(self._command_text(task), task_id, inputs))))
        return _ordered_container(container)

    def _shell_shape(self, task: Task) -> str | None:
        """Shell tasks that differ only in their command text share one template."""
        if task.kind != "shell" or not isinstance(task.command, str):
            return None
        if id(task) not in self.shapes:
            self.shapes[id(task)] = task.model_dump_json(exclude=_NOT_SHAPE)
        return self.shapes[id(task)]

    def _shared_shell_shapes(self) -> dict[str, str]:
        commands: dict[str, set[str]] = {}
        for task in self.p.tasks.values():
            shape = self._shell_shape(task)
            if shape is not None and not task.outputs and not task.consumes and not task.produces \
                    and not task.cache and not task.max_parallel and not any("${{" in v for v in task.env.values()):
                commands.setdefault(shape, set()).add(self._command_text(task))
        # Tasks with the same command already share their (equal) template; an argument is only
        # worth it when the commands differ. The name is allocated on first use.
        return {shape: "" for shape, texts in commands.items() if len(texts) > 1}

    def _shared_shell(self, task_id: str, task: Task, inputs: _Inputs, shape_name: str) -> str:
        shape = self._shell_shape(task)
        assert shape is not None
        if not shape_name:
            scratch = _Inputs()  # the shape has no placeholders outside the command: stays empty
            container = self._runtime_fields(task_id, task, scratch, self.image)
            container.update(_bash(["{{inputs.parameters.cmd}}"]))
            content = {"inputs": {"parameters": [{"name": "cmd"}]}}
            content.update(self._policies(task_id, task, scratch))
            content["container"] = _ordered_container(container)
            shape_name = self._template("shell", content)
            self.shared_shell[shape] = shape_name
        command = self._segments(self._command_text(task), task_id, None)
        inputs.values["cmd"] = _joined(command)
        return shape_name

    # python --------------------------------------------------------------

    def _script(self, task_id: str, task: Task, inputs: _Inputs) -> dict:
        script = self._runtime_fields(task_id, task, inputs, task.image or self.image)
        taken = {*task.env, *task.secrets}
        source, env = python_script(
            str(task.python), value_spec(task.args or {}, self.p, whole_value=True),
            [(name, self._output_file(task, name)) for name in task.outputs],
            lambda spec: self._script_ref(spec, task_id, inputs), taken | {"PYTHONPATH"})
        script["env"] = self._python_path(taken) + env + script.get("env", [])
        script["command"] = list(PYTHON_COMMAND)
        script["source"] = BlockText(source)
        return _ordered_container(script)

    def _python_path(self, taken: set[str]) -> list[dict]:
        """Argo runs a script from a file of its own, so the working directory (the user's code)
        is not on sys.path: PYTHONPATH puts it there, unless the task sets PYTHONPATH itself."""
        return [] if "PYTHONPATH" in taken else [{"name": "PYTHONPATH", "value": self.workdir}]

    def _script_ref(self, spec: tuple, task_id: str, inputs: _Inputs) -> str | tuple[str, str, str]:
        """A placeholder of a python call: its text when known now (the task's own output file),
        else (its Argo value, its value kind, the base name of its env var)."""
        kind = spec[0]
        if kind == "out":
            return self._output_file(self.p.tasks[task_id], spec[1], relative=True)
        if kind == "param":
            return f"{{{{workflow.parameters.{spec[1]}}}}}", _ref_kind(spec, self.p), f"PARAM_{spec[1]}"
        ref = Ref("task_output", spec[2], spec[1]) if kind == "output" else Ref("item", spec[1])
        name = self._input_name(ref)
        return inputs.tag(self._dag_variable(ref), name), _ref_kind(spec, self.p), name

    # container -----------------------------------------------------------

    def _container(self, task_id: str, task: Task, inputs: _Inputs) -> dict:
        container = self._runtime_fields(task_id, task, inputs, str(task.image))
        args = []
        for index, arg in enumerate(task.args or []):
            text = arg if isinstance(arg, str) else json.dumps(arg)
            segments = self._segments(text, task_id, inputs)
            if _has_literal_braces(segments):
                self._literal_braces(task_id, ("args", index), "argument")
            args.append(_joined(segments))
        if isinstance(task.command, str):
            segments = self._segments(task.command, task_id, inputs)
            if _has_literal_braces(segments):
                self._literal_braces(task_id, ("command",), "container command")
            # The command is shell text; the task's args follow it as "$@", exactly as given. `sh`,
            # not bash: the user's image may have no bash.
            container["command"] = [IMAGE_SHELL, "-c", _joined(segments) + PASS_ARGS, IMAGE_SHELL]
        elif task.command:
            command = []
            for index, part in enumerate(task.command):
                segments = self._segments(part, task_id, inputs)
                if _has_literal_braces(segments):
                    self._literal_braces(task_id, ("command", index), "container command")
                command.append(_joined(segments))
            container["command"] = command
        if args:
            container["args"] = args
        return _ordered_container(container)

    # alerts --------------------------------------------------------------

    def _alert_template(self, alert: Alert) -> str:
        if alert.command is not None:
            container = {"image": self.image, **_bash(_pieces([alert.literal_command])), "workingDir": self.workdir,
                         **self._volume_mounts()}
            return self._template("alert", {"container": container})
        source, _ = python_script(str(alert.python), alert.literal_args, [], lambda spec: spec)  # args are literal
        script = {"image": self.image, "command": list(PYTHON_COMMAND), "source": BlockText(source),
                  "workingDir": self.workdir, "env": self._python_path(set()), **self._volume_mounts()}
        return self._template("alert", {"script": script})

    def _exit_handler(self) -> dict:
        steps = []
        for index, alert in enumerate(self.p.alerts):
            if alert.on is AlertEvent.RETRY:
                continue
            condition = "!=" if alert.on is AlertEvent.FAILURE else "=="
            steps.append([{"name": f"alert-{index + 1}", "template": self._alert_template(alert),
                           "when": f"{{{{workflow.status}}}} {condition} Succeeded"}])
        assert self.exit_handler is not None
        return {"name": self.exit_handler, "steps": steps}


class _Inputs:
    """The input parameters of one task's template: DAG-scope values passed in as arguments."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}  # parameter name -> value (an Argo variable)
        self.names: dict[str, str] = {}  # value -> parameter name

    def tag(self, dag_variable: str, name: str) -> Tag:
        if dag_variable not in self.names:
            self.names[dag_variable] = name
            self.values[name] = dag_variable
        return Tag(f"{{{{inputs.parameters.{self.names[dag_variable]}}}}}")


def _ref_kind(spec: tuple, pipeline: Pipeline) -> str:
    kind = spec[0]
    if kind == "param":
        return _VALUE_KINDS[pipeline.params[spec[1]].value_type]
    if kind == "output":
        value_kind = _VALUE_KINDS[pipeline.tasks[spec[1]].outputs[spec[2]].type]
        return f"list:{value_kind}" if spec[3] else value_kind
    if kind == "item":
        return "auto"
    return "str"


def _either(terms: list[str], op: str) -> str:
    if len(terms) == 1:
        return terms[0]
    return op.join(f"({term})" for term in terms)


# What shell tasks sharing one template may differ in: all of it lives in the DAG task.
_NOT_SHAPE = {"command", "description", "after", "alerts", "when", "else_of", "trigger_rule", "foreach", "estimate",
              "priority"}
# Scheduling hints never change a task's result, so they are not part of its memoize key.
_NOT_CACHE_KEY = {"description", "alerts", "estimate", "priority"}

_CONTAINER_ORDER = ("image", "command", "args", "source", "workingDir", "env", "resources", "volumeMounts")


def _ordered_container(fields: dict) -> dict:
    """Container keys in the order people write them."""
    return {key: fields[key] for key in _CONTAINER_ORDER if key in fields}

