"""Argo Workflows importer: Workflow, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow
documents read back into dagshift's pipeline syntax.

The entrypoint template becomes the pipeline: a `dag` template's tasks and a `steps` template's
steps (each group after the previous one) become tasks; a dag/steps template called from there is
inlined (its tasks prefixed with the caller's name); a container or script template alone is a
one-task pipeline. Argo variables become placeholders: `{{workflow.parameters.X}}` a param,
`{{tasks.T.outputs.parameters.Y}}` a task output, `{{item}}` the fan-out item, and
`{{inputs.parameters.X}}` the value the caller passed. Everything else Argo says (volumes, pod
settings, variables with no pipeline equivalent...) is reported as a loss at its line.

Files written by dagshift (label app.kubernetes.io/managed-by: dagshift) are read with what the
backend encodes in mind (compiler/backends/argo.py): task ids spelled as DNS names, shell
commands in `sh -c`, python tasks calling the runtime through DAGSHIFT_CALL, artifact paths under
the working directory, alerts as hooks and the exit handler, the CronWorkflow and Sensor
companions. What that output cannot carry is `not_carried` below.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter
from pathlib import Path
from typing import Any

from .. import conditions
from ..ir import Pipeline
from ..placeholders import Ref
from . import Importer
from .base import Imported, Reporter, line_of, plain, yaml_documents
from .normalize import artifacts_as_paths

API_PREFIX = "argoproj.io/"
PIPELINE_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
DAGSHIFT_IMAGE = "python:3.12-slim"
DAGSHIFT_WORKDIR = "/workspace"
DAGSHIFT_POOLS = "dagshift-pools"
OUTPUT_FILE = "/tmp/dagshift-output-"
MAX_ID = 63
_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_VARIABLE = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.S)
_DETECT_API = re.compile(r"^\s*apiVersion:\s*['\"]?argoproj\.io/", re.M)
_DETECT_KIND = re.compile(r"^\s*kind:\s*['\"]?(Workflow|WorkflowTemplate|ClusterWorkflowTemplate|CronWorkflow)['\"]?"
                          r"\s*(#.*)?$", re.M)
# Statuses of Argo's `depends` that dagshift's trigger rules are made of.
_FAILED = {"Failed", "Errored", "Omitted"}
# dagshift's python-call value kinds (templates/argo/call.py.j2) as output types.
_KIND_TYPES = {"int": "int", "float": "float", "bool": "bool", "json": "dict"}
_NONE_FAILED = {"Succeeded", "Skipped", "Omitted"}
_DONE = {"Succeeded", "Skipped", "Failed", "Errored", "Omitted"}
# Interpreters whose script source can be passed as one argument, and the flag that takes it.
_INLINE_FLAGS = {"python": "-c", "python3": "-c", "sh": "-c", "bash": "-c", "node": "-e", "perl": "-e", "ruby": "-e"}
# Template keys read into the task, and keys that only describe it (no effect on what runs).
_TEMPLATE_KEYS = {"name", "inputs", "outputs", "container", "script", "retryStrategy", "activeDeadlineSeconds",
                  "timeout", "memoize", "synchronization", "dag", "steps", "suspend", "metadata"}
_CONTAINER_KEYS = {"image", "command", "args", "source", "env", "resources", "workingDir", "name"}
_SPEC_KEYS = {"entrypoint", "arguments", "templates", "parallelism", "activeDeadlineSeconds", "onExit",
              "synchronization", "workflowTemplateRef"}


class ImportStop(Exception):
    """A construct the pipeline cannot hold at all: the document is graded manual."""

    def __init__(self, message: str, line: int | None = None, help: str | None = None):
        super().__init__(message)
        self.line = line
        self.help = help


class ArgoImporter(Importer):
    """Not carried by dagshift's Argo output (each a field of the pipeline it is given):
    - task `description`, `estimate`, `priority`: nothing in a workflow holds them;
    - param `type`, `min`, `max`: Argo parameters are text (the type is read back from the value);
    - artifact `kind` and `description`: Argo artifacts have neither;
    - output `type` and `description`: output parameters are text (str unless a use says more);
    - schedule `start_date`: CronWorkflows have none (the backend warns, W302).
    """

    name = "argo"
    title = "Argo Workflows"
    not_carried = (
        "tasks.*.description", "tasks.*.estimate", "tasks.*.priority",
        "params.*.type", "params.*.min", "params.*.max",
        "artifacts.*.kind", "artifacts.*.description",
        "tasks.*.outputs.*.type", "tasks.*.outputs.*.description",
        "schedule.start_date",
    )

    def carried(self, pipeline: Pipeline) -> dict[str, Any]:
        """Also as the output holds them: a URI artifact nothing reads is written into the texts as
        the URI itself (Argo has no artifact to pass), and a data trigger's poll interval is the
        sensor's business (the EventSource polls; the Sensor has no interval)."""
        data = super().carried(pipeline)
        read = {name for task in pipeline.tasks.values() for name in task.consumes}
        read |= {trigger.artifact for trigger in pipeline.triggers if trigger.artifact}
        written_as_text = [name for name, artifact in pipeline.artifacts.items() if artifact.is_uri and name not in read]
        data = artifacts_as_paths(data, written_as_text)
        for trigger in data.get("triggers", []):
            trigger.pop("poll_interval", None)
        return data

    def detect(self, path: Path, text: str) -> bool:
        if path.suffix not in (".yaml", ".yml", ".json"):
            return False
        return bool(_DETECT_API.search(text) and _DETECT_KIND.search(text))

    def read(self, path: Path, text: str, display: str) -> list[Imported]:
        report = Reporter(display, text)
        try:
            documents = [d for d in yaml_documents(text) if d is not None]
        except Exception as exc:  # ruamel raises several error types for bad YAML
            report.error(f"not valid YAML: {str(exc).splitlines()[0] if str(exc) else exc}", code="E601")
            return [Imported(display, None, report.diagnostics)]
        pipelines = [d for d in documents if _is_pipeline(d)]
        if not pipelines:
            kinds = sorted({str(d.get("kind")) for d in documents if isinstance(d, dict)}) or ["none"]
            report.error(f"no Workflow, WorkflowTemplate or CronWorkflow in the file (kinds: {', '.join(kinds)})",
                         code="E601", help="only workflow documents hold a pipeline")
            return [Imported(display, None, report.diagnostics)]
        companions = _Companions(path, documents)
        results = []
        for index, document in enumerate(pipelines):
            origin = f"document {documents.index(document) + 1}" if len(pipelines) > 1 else ""
            results.append(_read_document(document, companions, display, text, origin))
        return results


IMPORTER = ArgoImporter()


def _is_pipeline(document: Any) -> bool:
    return (isinstance(document, dict) and str(document.get("apiVersion", "")).startswith(API_PREFIX)
            and document.get("kind") in PIPELINE_KINDS)


def _read_document(document: dict, companions: "_Companions", display: str, text: str, origin: str) -> Imported:
    report = Reporter(display, text)
    try:
        data = _DocumentReader(document, companions, report).read()
    except ImportStop as stop:
        report.error(str(stop), stop.line, help=stop.help)
        data = None
    return Imported(display, data, report.diagnostics, origin)


class _Companions:
    """The other documents of the file, and of the files next to it (for references between
    dagshift's own output files: the CronWorkflow's WorkflowTemplate, the Sensor, limits)."""

    def __init__(self, path: Path, documents: list[Any]):
        self.documents = [d for d in documents if isinstance(d, dict)]
        self.path = path
        self._neighbours: list[dict] | None = None

    def neighbours(self) -> list[dict]:
        if self._neighbours is None:
            self._neighbours = []
            folder = self.path.parent
            for name in ("workflowtemplate.yaml", "sensor.yaml", "limits.yaml"):
                candidate = folder / name
                if candidate.is_file() and candidate != self.path:
                    try:
                        self._neighbours += [d for d in yaml_documents(candidate.read_text("utf-8"))
                                             if isinstance(d, dict)]
                    except Exception:  # a broken neighbour is simply not used
                        pass
        return self._neighbours

    def find(self, kind: str, name: str | None = None) -> dict | None:
        for document in self.documents + self.neighbours():
            metadata = document.get("metadata") or {}
            if document.get("kind") == kind and (name is None or metadata.get("name") == name):
                return document
        return None


# ----------------------------------------------------------------------------- expressions


def _tokens(text: str) -> list[str]:
    """Tokens of Argo's `when` / `depends` expressions (govaluate and expr share these)."""
    pattern = re.compile(r"\s*(\{\{.*?\}\}|&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
                         r"|[^\s()!<>=&|'\"]+)", re.S)
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = pattern.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read the expression at {text[position:position + 20]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _BoolParser:
    """A recursive-descent parser for `a && (b || !c)` whose atoms are sequences of other tokens;
    `atom` turns one into a value."""

    def __init__(self, tokens: list[str], atom):
        self.tokens = tokens
        self.position = 0
        self.atom = atom

    def parse(self):
        result = self.parse_or()
        if self.position != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.position]!r}")
        return result

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def parse_or(self):
        operands = [self.parse_and()]
        while self.peek() == "||":
            self.position += 1
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else ("or", operands)

    def parse_and(self):
        operands = [self.parse_not()]
        while self.peek() == "&&":
            self.position += 1
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else ("and", operands)

    def parse_not(self):
        if self.peek() == "!":
            self.position += 1
            return ("not", self.parse_not())
        if self.peek() == "(":
            start = self.position
            self.position += 1
            inner = self.parse_or()
            if self.peek() != ")":
                raise ValueError("unbalanced parentheses")
            self.position += 1
            if self.peek() in ("==", "!=", "<", ">", "<=", ">="):  # a parenthesized operand
                self.position = start
            else:
                return inner
        parts = []
        depth = 0
        while self.peek() is not None and (depth or self.peek() not in ("&&", "||", ")")):
            token = self.tokens[self.position]
            depth += token == "("
            depth -= token == ")"
            parts.append(token)
            self.position += 1
        if not parts:
            raise ValueError("an operand is missing")
        return self.atom(parts)


# ----------------------------------------------------------------------------- one document


class _DocumentReader:
    def __init__(self, document: dict, companions: _Companions, report: Reporter):
        self.document = document
        self.companions = companions
        self.report = report
        self.kind = document.get("kind")
        metadata = document.get("metadata") or {}
        self.metadata = metadata
        labels = metadata.get("labels") or {}
        self.managed = labels.get("app.kubernetes.io/managed-by") == "dagshift"
        self.spec = self._workflow_spec()
        self.templates = self._templates()
        self.tasks: dict[str, dict] = {}
        self.argo_ids: dict[str, str] = {}  # Argo node path ("main/train") -> task id
        self.conditional: set[str] = set()  # task ids with a `when`
        self.artifacts: dict[str, dict] = {}
        self.artifact_source: dict[tuple[str, str], str] = {}  # (task id, Argo artifact name) -> artifact
        self.outputs_used: dict[tuple[str, str], set[str]] = {}  # (task id, output) -> how it is used
        self.params: dict[str, Any] = {}
        self.workdirs: Counter = Counter()
        self.pending_outputs: list[tuple[str, str, int | None]] = []
        self.param_names: dict[str, str] = {}  # Argo parameter name -> pipeline param name
        self.current_scope: dict = {}  # the inputs of the python call being decoded
        self.ref_kinds: list[tuple[str, str]] = []  # (placeholder, dagshift's value kind) of python refs

    # ------------------------------------------------------------------ whole pipeline

    def read(self) -> dict:
        data: dict[str, Any] = {"name": self._name()}
        self._metadata(data)
        self.params = self._params()
        entry = self.spec.get("entrypoint")
        if not entry and len(self.templates) == 1:
            entry = next(iter(self.templates))
        if not entry:
            raise ImportStop("the workflow has no entrypoint", line_of(self.spec),
                             help="a WorkflowTemplate without entrypoint is a library of templates: import a "
                                  "Workflow that uses it")
        if entry not in self.templates:
            raise ImportStop(f"the entrypoint '{entry}' is not a template of this file", line_of(self.spec, "entrypoint"))
        # Argo passes the workflow's arguments to the entrypoint's inputs of the same name.
        scope = {argo: f"${{{{ params.{name} }}}}" for argo, name in self.param_names.items()}
        self._expand(entry, scope, "", [], None, [])
        self._finish_outputs()
        if self.managed:
            self._managed_fixups()
        if self.params:
            data["params"] = self.params
        self._pipeline_settings(data)
        if self.artifacts:
            data["artifacts"] = self.artifacts
        data["tasks"] = self.tasks
        self._workdir(data)
        return data

    def _name(self) -> str:
        metadata = self.metadata
        name = metadata.get("name") or str(metadata.get("generateName") or "").rstrip("-") or "workflow"
        name = str(name)
        return name.replace("-", "_") if self.managed else name

    def _metadata(self, data: dict) -> None:
        annotations = self.metadata.get("annotations") or {}
        kept = []  # annotations describe a workflow to people and tools: kept in the description
        for key, value in annotations.items():
            if key == "workflows.argoproj.io/description":
                data["description"] = str(value)
            elif key == "dagshift.dev/owner" and self.managed:
                data["owner"] = str(value)
            elif key == "dagshift.dev/tags" and self.managed:
                data["tags"] = [t.strip() for t in str(value).split(",") if t.strip()]
            else:
                kept.append(f"{key}: {value}")
        if kept:
            data["description"] = "\n\n".join(
                [*([data["description"]] if data.get("description") else []),
                 "Argo annotations:\n" + "\n".join(kept)])
        labels = self.metadata.get("labels") or {}
        tags = [f"{key}={value}" for key, value in labels.items() if key != "app.kubernetes.io/managed-by"]
        if tags:
            # Labels select and group workflows, as tags do on the other orchestrators.
            data["tags"] = data.get("tags", []) + tags
        for key in self.metadata:
            if key not in ("name", "generateName", "annotations", "labels", "namespace"):
                self.report.loss(f"metadata.{key} is not carried", line_of(self.metadata, key))

    def _workflow_spec(self) -> dict:
        document = self.document
        spec = document.get("spec") or {}
        if self.kind == "CronWorkflow":
            self._cron_keys(spec)
            spec = spec.get("workflowSpec") or {}
        reference = spec.get("workflowTemplateRef")
        if reference:
            name = reference.get("name")
            kind = "ClusterWorkflowTemplate" if reference.get("clusterScope") else "WorkflowTemplate"
            template = self.companions.find(kind, name)
            if template is None:
                raise ImportStop(f"the workflow runs {kind} '{name}', which is not in this file",
                                 line_of(spec, "workflowTemplateRef"),
                                 help="import the file that holds the WorkflowTemplate, or put both in one file")
            template_spec = template.get("spec") or {}
            merged = {**template_spec, **{k: v for k, v in spec.items() if k != "workflowTemplateRef"}}
            if not self.managed:
                labels = (template.get("metadata") or {}).get("labels") or {}
                self.managed = labels.get("app.kubernetes.io/managed-by") == "dagshift"
            return merged
        return spec

    def _cron_keys(self, spec: dict) -> None:
        for key in spec:
            if key in ("schedules", "schedule", "timezone", "workflowSpec", "concurrencyPolicy"):
                continue
            self.report.loss(f"CronWorkflow {key} is not carried", line_of(spec, key))

    def _templates(self) -> dict[str, dict]:
        templates = {}
        for template in self.spec.get("templates") or []:
            if isinstance(template, dict) and template.get("name"):
                templates[str(template["name"])] = template
        return templates

    def _params(self) -> dict[str, Any]:
        arguments = self.spec.get("arguments") or {}
        params: dict[str, Any] = {}
        for entry in arguments.get("parameters") or []:
            line = line_of(entry)
            name = str(entry.get("name"))
            param: dict[str, Any] = {}
            if "value" in entry:
                param["default"] = _typed_value(plain(entry["value"]))
            elif "valueFrom" in entry:
                self.report.loss(f"param '{name}' takes its value from {_first_key(entry['valueFrom'])}: "
                                 "give its value when the pipeline runs", line, approximate=True)
            if entry.get("enum"):
                param["enum"] = [_typed_value(plain(v)) for v in entry["enum"]]
            if entry.get("description"):
                param["description"] = str(entry["description"])
            for key in entry:
                if key not in ("name", "value", "valueFrom", "enum", "description"):
                    self.report.loss(f"param '{name}': {key} is not carried", line_of(entry, key))
            if not _is_identifier(name):
                renamed = _identifier(name)
                self.report.loss(f"param '{name}' is renamed '{renamed}' (param names are identifiers): pass it "
                                 "by its new name", line, approximate=True)
                self.param_names[name] = renamed
                name = renamed
            else:
                self.param_names[name] = name
            # A mapping default needs the long form, or its keys would be read as the param's own.
            simple = set(param) == {"default"} and not isinstance(param["default"], dict)
            params[name] = param["default"] if simple else param
        for entry in arguments.get("artifacts") or []:
            self.report.loss(f"workflow input artifact '{entry.get('name')}' is not carried", line_of(entry))
        return params

    def _pipeline_settings(self, data: dict) -> None:
        spec = self.spec
        if self.kind == "CronWorkflow":
            self._schedule(data)
        if spec.get("parallelism") is not None:
            data["max_active_tasks"] = int(spec["parallelism"])
        if spec.get("activeDeadlineSeconds") is not None:
            data["timeout"] = _seconds(spec["activeDeadlineSeconds"])
        if spec.get("onExit"):
            data["alerts"] = self._exit_alerts(str(spec["onExit"]), line_of(spec, "onExit"))
        if spec.get("synchronization"):
            self._workflow_synchronization(spec["synchronization"], data, line_of(spec, "synchronization"))
        if self.managed:
            self._triggers(data)
        for key in spec:
            if key not in _SPEC_KEYS:
                self.report.loss(f"spec.{key} is not carried (no pipeline setting for it)", line_of(spec, key))

    def _schedule(self, data: dict) -> None:
        spec = self.document.get("spec") or {}
        schedules = list(spec.get("schedules") or ([spec["schedule"]] if spec.get("schedule") else []))
        if not schedules:
            return
        if len(schedules) > 1:
            self.report.loss(f"only the first of {len(schedules)} schedules is carried (a pipeline has one)",
                             line_of(spec, "schedules"))
        schedule: dict[str, Any] = {"cron": str(schedules[0])}
        schedule["timezone"] = str(spec.get("timezone") or "UTC")
        data["schedule"] = schedule
        policy = spec.get("concurrencyPolicy")
        if policy == "Forbid":
            data["max_active_runs"] = 1
        elif policy == "Replace":
            self.report.loss("concurrencyPolicy Replace (stop the running workflow) is carried as one run at a time",
                             line_of(spec, "concurrencyPolicy"), approximate=True)
            data["max_active_runs"] = 1

    def _workflow_synchronization(self, sync: dict, data: dict, line: int | None) -> None:
        semaphores = sync.get("semaphores") or ([sync["semaphore"]] if sync.get("semaphore") else [])
        limit = None
        for semaphore in semaphores:
            reference = semaphore.get("configMapKeyRef") or {}
            limit = self._configmap_value(reference.get("name"), reference.get("key"))
        if limit is not None and len(semaphores) == 1 and not (sync.get("mutexes") or sync.get("mutex")):
            data["max_active_runs"] = int(limit)
            return
        self.report.loss("workflow synchronization is not carried (only a semaphore whose limit is in this file "
                         "becomes max_active_runs)", line)

    def _configmap_value(self, name: Any, key: Any) -> str | None:
        configmap = self.companions.find("ConfigMap", name)
        value = ((configmap or {}).get("data") or {}).get(key)
        return str(value) if value is not None and str(value).isdigit() else None

    def _triggers(self, data: dict) -> None:
        """dagshift's Sensor: one event per data trigger, its path in an annotation."""
        sensor = self.companions.find("Sensor", self.metadata.get("name"))
        if sensor is None:
            return
        annotations = (sensor.get("metadata") or {}).get("annotations") or {}
        triggers = []
        for key, value in annotations.items():
            if not key.startswith("dagshift.dev/event-"):
                continue
            event = key[len("dagshift.dev/event-"):]
            if re.fullmatch(r"trigger-\d+", event):
                triggers.append({"type": "data", "uri": str(value)})
                continue
            name = event.replace("-", "_")
            if name not in self.artifacts:
                self.artifacts[name] = {"path": str(value), "external": True}
                self._attach_external(name, str(value))
            triggers.append({"type": "data", "artifact": name})
        if triggers:
            data["triggers"] = triggers

    def _attach_external(self, name: str, path: str) -> None:
        """An external artifact is only text in the tasks' commands: those tasks consume it."""
        for task in self.tasks.values():
            changed = _replace_in(task, path, f"${{{{ artifacts.{name} }}}}")
            if changed:
                task.setdefault("consumes", []).append(name)

    def _workdir(self, data: dict) -> None:
        if not self.workdirs:
            return
        (workdir, _), *others = self.workdirs.most_common()
        if self.managed:
            if workdir != DAGSHIFT_WORKDIR:
                data["workdir"] = workdir
            return
        data["workdir"] = workdir
        if others:
            self.report.loss(f"containers run in {len(others) + 1} working directories; the pipeline has one "
                             f"({workdir})", None, approximate=True)

    # ------------------------------------------------------------------ the graph

    def _expand(self, template_name: str, scope: dict, prefix: str, after: list[str], line: int | None,
                stack: list[str], rule: str | None = None) -> tuple[list[str], list[str]]:
        """Add the tasks of a template, run after `after`; returns (first tasks, last tasks)."""
        template = self.templates.get(template_name)
        if template is None:
            raise ImportStop(f"template '{template_name}' is not in this file", line,
                             help="templateRef to another WorkflowTemplate is not followed: inline the template")
        if template_name in stack:
            raise ImportStop(f"template '{template_name}' calls itself (recursion): a pipeline is a fixed graph",
                             line_of(template), help="unroll the recursion into a loop (withItems/withParam)")
        stack = stack + [template_name]
        if "dag" in template:
            return self._dag(template, scope, prefix, after, stack)
        if "steps" in template:
            return self._steps(template, scope, prefix, after, stack)
        task_id = self._new_id(prefix or template_name)
        self.tasks[task_id] = self._leaf(template, self._inputs_scope(template, scope, line), task_id, {})
        if after:
            self.tasks[task_id]["after"] = list(after)
        if rule:
            self.tasks[task_id]["trigger_rule"] = rule
        return [task_id], [task_id]

    def _dag(self, template: dict, scope: dict, prefix: str, after: list[str], stack: list[str]):
        dag = template["dag"] or {}
        self._template_extras(template, ("dag",), "dag template")
        self._group_outputs(template)
        for key in dag:
            if key == "failFast" and dag[key] is False and self.managed:
                continue
            if key not in ("tasks", "target"):
                self.report.loss(f"dag {key} is not carried", line_of(dag, key))
        nodes = [n for n in dag.get("tasks") or [] if isinstance(n, dict)]
        names = {str(n.get("name")): n for n in nodes}
        ends: dict[str, tuple[list[str], list[str]]] = {}
        order = _dag_order(names, line_of(dag, "tasks"))
        downstream = {name for node in nodes for name in _node_upstream(node, names)}
        firsts, lasts = [], []
        for name in order:
            node = names[name]
            upstream, rule = self._depends(node, names, ends, prefix)
            child_prefix = f"{prefix}-{name}" if prefix else name
            first, last = self._node(node, scope, child_prefix, upstream or list(after), rule, stack)
            ends[name] = (first, last)
            if not _node_upstream(node, names):
                firsts += first
            if name not in downstream:
                lasts += last
        return firsts, lasts

    def _steps(self, template: dict, scope: dict, prefix: str, after: list[str], stack: list[str]):
        self._template_extras(template, ("steps",), "steps template")
        self._group_outputs(template)
        previous = list(after)
        previous_conditional = False
        firsts: list[str] = []
        last_group: list[str] = []
        for group in template["steps"] or []:
            group = group if isinstance(group, list) else [group]
            group_lasts: list[str] = []
            conditional = False
            for step in group:
                child_prefix = f"{prefix}-{step.get('name')}" if prefix else str(step.get("name"))
                # Argo runs a group after every step of the previous one, skipped ones included.
                rule = "none_failed" if previous_conditional else None
                first, last = self._node(step, scope, child_prefix, previous, rule, stack)
                if not firsts or previous == list(after):
                    firsts += first
                group_lasts += last
                conditional = conditional or "when" in step
            if group_lasts:
                previous, previous_conditional, last_group = group_lasts, conditional, group_lasts
        return firsts, last_group

    def _group_outputs(self, template: dict) -> None:
        """A dag/steps template's outputs re-export its tasks' outputs: the pipeline has none."""
        for key in ("inputs", "outputs"):
            for kind in ("parameters", "artifacts"):
                for entry in (template.get(key) or {}).get(kind) or []:
                    if key == "outputs" or entry.get("valueFrom") or entry.get("from"):
                        self.report.loss(f"{key[:-1]} {kind[:-1]} '{entry.get('name')}' of the "
                                         f"{'dag' if 'dag' in template else 'steps'} template "
                                         f"'{template.get('name')}' is not carried", line_of(entry))

    def _depends(self, node: dict, names: dict, ends: dict, prefix: str) -> tuple[list[str], str | None]:
        """The upstream task ids of a DAG task and the trigger rule its `depends` means."""
        line = line_of(node, "depends") or line_of(node, "dependencies")
        if node.get("dependencies"):
            upstream = [str(n) for n in node["dependencies"]]
            return self._upstream_ids(upstream, ends, line), self._bare_rule(upstream, ends)
        if not node.get("depends"):
            return [], None
        text = str(node["depends"])
        try:
            tree = _BoolParser(_tokens(text), _depends_atom).parse()
        except ValueError as exc:
            raise ImportStop(f"cannot read depends '{text}': {exc}", line)
        groups, operator = _depends_groups(tree)
        upstream = list(dict.fromkeys(name for name, _ in groups))
        ids = self._upstream_ids(upstream, ends, line)
        rule = _rule_of(groups, operator)
        if rule is None:
            self.report.loss(f"depends '{text}' has no trigger-rule equivalent: the task runs when every "
                             "upstream task is done", line, approximate=True)
            return ids, "all_done"
        if rule == "bare":
            bare = [name for name, statuses in groups if statuses == {""}]
            return ids, self._bare_rule(bare, ends)
        return ids, (None if rule == "all_success" else rule)

    def _bare_rule(self, upstream: list[str], ends: dict) -> str | None:
        """A bare name in depends also accepts a Skipped upstream (skipped by its `when`)."""
        ids = [task for name in upstream for task in ends.get(name, ([], []))[1]]
        if any(task in self.conditional for task in ids):
            return "none_failed"
        return None

    def _upstream_ids(self, names: list[str], ends: dict, line: int | None) -> list[str]:
        ids = []
        for name in names:
            if name not in ends:
                raise ImportStop(f"depends names '{name}', which is not a task of the dag", line)
            ids += ends[name][1]
        return list(dict.fromkeys(ids))

    def _node(self, node: dict, scope: dict, prefix: str, after: list[str], rule: str | None, stack: list[str]):
        """A DAG task or a step: its template, inlined when it is a dag/steps template."""
        line = line_of(node)
        if node.get("templateRef"):
            raise ImportStop(f"'{node.get('name')}' runs a template of another WorkflowTemplate (templateRef)",
                             line_of(node, "templateRef"), help="inline the template in this file")
        template_name = str(node.get("template"))
        if node.get("inline"):
            template_name = f"{prefix} (inline)"
            self.templates[template_name] = {**node["inline"], "name": template_name}
        template = self.templates.get(template_name)
        if template is None:
            raise ImportStop(f"template '{template_name}' is not in this file", line)
        arguments = self._arguments(node, scope, prefix)
        if "dag" in template or "steps" in template:
            for key in ("withItems", "withParam", "withSequence", "when"):
                if key in node:
                    raise ImportStop(f"'{node.get('name')}' runs a {('dag' if 'dag' in template else 'steps')} "
                                     f"template with {key}: a group of tasks cannot be fanned out or skipped "
                                     "as one", line_of(node, key),
                                     help="move the loop or the condition onto the tasks inside")
            self._node_extras(node)
            inner = self._inputs_scope(template, arguments, line)
            return self._expand(template_name, inner, prefix, after, line, stack, rule)
        task_id = self._new_id(prefix)
        task = self._leaf(template, self._inputs_scope(template, arguments, line), task_id, node)
        if after:
            task["after"] = list(after)
        if rule:
            task["trigger_rule"] = rule
        self._loop(node, scope, task, task_id)
        self._when(node, scope, task, task_id)
        self._hooks(node, task)
        self._node_extras(node)
        self.tasks[task_id] = task
        return [task_id], [task_id]

    def _node_extras(self, node: dict) -> None:
        known = {"name", "template", "inline", "arguments", "depends", "dependencies", "when", "withItems", "withParam",
                 "withSequence", "hooks", "onExit"}
        for key in node:
            if key not in known:
                self.report.loss(f"'{node.get('name')}': {key} is not carried", line_of(node, key))
        if node.get("onExit"):
            self.report.loss(f"'{node.get('name')}': the exit template '{node['onExit']}' of a task is not carried "
                             "(an alert runs a command, on failure or success)", line_of(node, "onExit"))

    def _new_id(self, argo_name: str) -> str:
        base = argo_name.replace("-", "_") if self.managed else argo_name
        base = _ID_CHARS.sub("_", base)
        if not base or not base[0].isalpha():
            base = "t_" + base
        base = base[:MAX_ID].rstrip("-_") or "t"
        name, counter = base, 2
        while name in self.tasks:
            suffix = f"_{counter}"
            name, counter = base[:MAX_ID - len(suffix)] + suffix, counter + 1
        self.argo_ids[argo_name] = name
        return name

    # ------------------------------------------------------------------ arguments and text

    def _arguments(self, node: dict, scope: dict, prefix: str) -> dict:
        """The node's argument parameters, as pipeline text; artifacts as ("artifact", name)."""
        arguments = node.get("arguments") or {}
        values: dict[str, Any] = {}
        for entry in arguments.get("parameters") or []:
            name = str(entry.get("name"))
            if "value" in entry:
                values[name] = self._text(_as_text(plain(entry["value"])), scope, line_of(entry, "value"))
            else:
                self.report.loss(f"argument '{name}' takes its value from {_first_key(entry.get('valueFrom'))}, "
                                 "which is not carried", line_of(entry), approximate=True)
        for entry in arguments.get("artifacts") or []:
            values[("artifact", str(entry.get("name")))] = entry
        return values

    def _inputs_scope(self, template: dict, arguments: dict, line: int | None) -> dict:
        """What `{{inputs.parameters.X}}` means inside the template: the argument, else the default."""
        inputs = template.get("inputs") or {}
        scope: dict[Any, Any] = {}
        for entry in inputs.get("parameters") or []:
            name = str(entry.get("name"))
            if name in arguments:
                scope[name] = arguments[name]
            elif "value" in entry:
                scope[name] = self._text(_as_text(plain(entry["value"])), {}, line_of(entry, "value"))
            elif "default" in entry:
                scope[name] = self._text(_as_text(plain(entry["default"])), {}, line_of(entry, "default"))
            else:
                self.report.loss(f"input '{name}' of template '{template.get('name')}' gets no value", line,
                                 approximate=True)
                scope[name] = ""
        for key, value in arguments.items():
            if isinstance(key, tuple):
                scope[key] = value
        return scope

    def _text(self, text: str, scope: dict, line: int | None) -> str:
        """Argo text as pipeline text: variables become placeholders; `${{` is escaped."""
        text = text.replace("${{", "$${{")
        pieces = []
        position = 0
        for match in _VARIABLE.finditer(text):
            pieces.append(text[position:match.start()])
            pieces.append(self._variable(match.group(1), match.group(0), scope, line))
            position = match.end()
        pieces.append(text[position:])
        return "".join(pieces)

    def _variable(self, name: str, original: str, scope: dict, line: int | None) -> str:
        parts = name.split(".")
        if parts[:2] == ["workflow", "parameters"] and len(parts) == 3 and parts[2] in self.param_names:
            return f"${{{{ params.{self.param_names[parts[2]]} }}}}"
        if parts[:2] == ["inputs", "parameters"] and len(parts) == 3 and parts[2] in scope:
            return scope[parts[2]]
        if parts[0] == "item" and len(parts) <= 2:
            return "${{ item }}" if len(parts) == 1 else f"${{{{ item.{parts[1]} }}}}"
        if parts[0] in ("tasks", "steps") and len(parts) >= 4 and parts[2] == "outputs":
            task_id = self.argo_ids.get(parts[1]) or self._scoped_id(parts[1])
            if task_id is not None:
                if parts[3] == "parameters" and len(parts) == 5:
                    output = _identifier(parts[4])
                    self.pending_outputs.append((task_id, output, line))
                    return f"${{{{ tasks.{task_id}.outputs.{output} }}}}"
                if parts[3] == "result" and len(parts) == 4:
                    self.pending_outputs.append((task_id, "result", line))
                    return f"${{{{ tasks.{task_id}.outputs.result }}}}"
        self.report.loss(f"the Argo variable {original} has no pipeline equivalent: kept as text", line,
                         approximate=True)
        return original

    def _scoped_id(self, argo_name: str) -> str | None:
        """An upstream named from inside an inlined template: the most recent task of that name."""
        for path, task_id in reversed(list(self.argo_ids.items())):
            if path == argo_name or path.endswith("-" + argo_name):
                return task_id
        return None

    # ------------------------------------------------------------------ leaf templates

    def _leaf(self, template: dict, scope: dict, task_id: str, node: dict) -> dict:
        line = line_of(template)
        name = template.get("name")
        if "container" in template:
            task = self._container(template["container"], scope, task_id)
        elif "script" in template:
            task = self._script(template["script"], scope, task_id)
        elif "suspend" in template:
            task = self._suspend(template["suspend"], line)
        else:
            kind = next((k for k in ("resource", "http", "containerSet", "data", "plugin") if k in template), None)
            raise ImportStop(f"template '{name}' is a {kind or 'kind of'} template, which no pipeline task can run",
                             line, help="port it to a container task by hand")
        self._template_extras(template, (), f"template '{name}'")
        self._template_inputs(template, scope, task, task_id)
        self._template_outputs(template, task, task_id)
        self._policies(template, task, scope)
        return task

    def _container(self, container: dict, scope: dict, task_id: str) -> dict:
        line = line_of(container)
        self._container_extras(container)
        command = [self._text(_as_text(plain(c)), scope, line) for c in container.get("command") or []]
        args = [self._text(_as_text(plain(a)), scope, line) for a in container.get("args") or []]
        image = str(container.get("image") or "")
        task: dict[str, Any] = {}
        if self.managed:
            task = _managed_command(image, command, args) or {}
        if not task:
            if not image:
                raise ImportStop("a container without an image", line)
            task = {"image": image}
            if command:
                task["command"] = command
            if args:
                task["args"] = args
        self._runtime(container, task, scope)
        return task

    def _script(self, script: dict, scope: dict, task_id: str) -> dict:
        line = line_of(script)
        self._container_extras(script)
        image = str(script.get("image") or "")
        command = [str(c) for c in script.get("command") or []]
        env = {str(e.get("name")): e.get("value") for e in script.get("env") or [] if isinstance(e, dict)}
        if self.managed and "DAGSHIFT_CALL" in env:
            self.current_scope = scope
            task = self._python_call(env, image, task_id, line)
        else:
            source = self._text(str(script.get("source") or ""), scope, line_of(script, "source"))
            interpreter = posixpath.basename(command[0]) if command else ""
            flag = _INLINE_FLAGS.get(interpreter)
            if flag is None:
                raise ImportStop(f"a script for '{' '.join(command) or '(no command)'}': dagshift passes the source "
                                 "inline only to python, sh, bash, node, perl and ruby", line_of(script, "command"))
            if not image:
                raise ImportStop("a script without an image", line)
            # The source is passed inline instead of as a file: the same program runs.
            task = {"image": image, "command": [*command, flag, source]}
        self._runtime(script, task, scope, skip_env={"DAGSHIFT_CALL"} if "DAGSHIFT_CALL" in env else set())
        return task

    def _suspend(self, suspend: dict, line: int | None) -> dict:
        duration = str((suspend or {}).get("duration", "")).strip()
        if duration in ("0", "0s"):
            return {}
        if not duration:
            self.report.loss("a suspend without duration waits for someone to resume the workflow: carried as a "
                             "no-op task", line, approximate=True)
            return {}
        self.report.loss(f"a suspend of {duration} is carried as a no-op task (no wait)", line, approximate=True)
        return {}

    def _container_extras(self, container: dict) -> None:
        for key in container:
            if key not in _CONTAINER_KEYS:
                self.report.loss(f"container {key} is not carried", line_of(container, key))

    def _template_extras(self, template: dict, allowed: tuple[str, ...], what: str) -> None:
        for key in template:
            if key in _TEMPLATE_KEYS or key in allowed:
                if key == "metadata":
                    self.report.loss(f"{what}: pod metadata is not carried", line_of(template, key))
                continue
            self.report.loss(f"{what}: {key} is not carried", line_of(template, key))

    def _runtime(self, container: dict, task: dict, scope: dict, skip_env: set[str] = frozenset()) -> None:
        env: dict[str, str] = {}
        secrets: dict[str, dict] = {}
        for entry in container.get("env") or []:
            name = str(entry.get("name"))
            if name in skip_env or (self.managed and name.startswith("DAGSHIFT_REF_")):
                continue
            if "value" in entry:
                env[name] = self._text(_as_text(plain(entry["value"])), scope, line_of(entry))
            elif (entry.get("valueFrom") or {}).get("secretKeyRef"):
                ref = entry["valueFrom"]["secretKeyRef"]
                secrets[name] = {"name": str(ref.get("name")), "key": str(ref.get("key"))}
            else:
                self.report.loss(f"env {name} from {_first_key(entry.get('valueFrom'))} is not carried",
                                 line_of(entry))
        if env:
            task["env"] = env
        if secrets:
            task["secrets"] = secrets
        resources = self._resources(container.get("resources") or {}, line_of(container, "resources"))
        if resources:
            task["resources"] = resources
        if container.get("workingDir"):
            self.workdirs[str(container["workingDir"])] += 1

    def _resources(self, resources: dict, line: int | None) -> dict:
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        result: dict[str, Any] = {}
        if "cpu" in requests or "cpu" in limits:
            result["cpu"] = str(requests.get("cpu", limits.get("cpu")))
        if "memory" in requests or "memory" in limits:
            result["memory"] = str(requests.get("memory", limits.get("memory")))
        for key, value in limits.items():
            if key.endswith("/gpu"):
                result["gpu"] = int(str(value))
                result["gpu_type"] = str(key)
        if "cpu" in limits and str(limits["cpu"]) != result.get("cpu"):
            self.report.loss(f"the cpu limit {limits['cpu']} is not carried (the pipeline asks for cpu only)", line,
                             approximate=True)
        if "memory" in limits and str(limits["memory"]) != result.get("memory"):
            self.report.loss(f"the memory limit {limits['memory']} is carried as the request", line,
                             approximate=True)
        for key in list(requests) + list(limits):
            if key not in ("cpu", "memory") and not key.endswith("/gpu"):
                self.report.loss(f"resource {key} is not carried", line)
        return result

    def _python_call(self, env: dict, image: str, task_id: str, line: int | None) -> dict:
        """dagshift's runtime call: DAGSHIFT_CALL holds the function and its tagged arguments."""
        call = json.loads(str(env["DAGSHIFT_CALL"]))
        refs = {int(k[len("DAGSHIFT_REF_"):]): str(v) for k, v in env.items() if k.startswith("DAGSHIFT_REF_")}
        task: dict[str, Any] = {"python": call["target"]}
        if image != DAGSHIFT_IMAGE:
            task["image"] = image
        kwargs = self._decode(call.get("kwargs", ["v", {}]), refs, line)
        if kwargs:
            task["args"] = kwargs
        for name, path in call.get("outputs", []):
            output: dict[str, Any] = {"type": "str"}
            if path != OUTPUT_FILE + name:
                output["path"] = path
            task.setdefault("outputs", {})[name] = output
        return task

    def _decode(self, spec: list, refs: dict[int, str], line: int | None) -> Any:
        tag = spec[0]
        if tag == "v":
            return spec[1]
        if tag == "r":
            text = self._text(refs.get(spec[1], ""), self.current_scope, line)
            self.ref_kinds.append((text, spec[2]))
            return text
        if tag == "c":
            return "".join(_json_text(self._decode(part, refs, line)) for part in spec[1:])
        if tag == "l":
            return [self._decode(item, refs, line) for item in spec[1]]
        return {key: self._decode(item, refs, line) for key, item in spec[1].items()}


    # ------------------------------------------------------------------ inputs, outputs, policies

    def _template_inputs(self, template: dict, scope: dict, task: dict, task_id: str) -> None:
        inputs = template.get("inputs") or {}
        for entry in inputs.get("artifacts") or []:
            name = str(entry.get("name"))
            line = line_of(entry)
            argument = scope.get(("artifact", name))
            source = (argument or {}).get("from") if argument else None
            if source:
                self._consume(task, task_id, str(source), entry, line)
            else:
                self._external_input(task, entry, argument, line)

    def _consume(self, task: dict, task_id: str, source: str, entry: dict, line: int | None) -> None:
        match = re.fullmatch(r"\{\{\s*(tasks|steps)\.([^.]+)\.outputs\.artifacts\.([^.}\s]+)\s*\}\}", source)
        if not match:
            self.report.loss(f"input artifact '{entry.get('name')}' from {source} is not carried", line)
            return
        producer = self.argo_ids.get(match.group(2)) or self._scoped_id(match.group(2))
        artifact = self.artifact_source.get((producer or "", match.group(3)))
        if artifact is None:
            self.report.loss(f"input artifact '{entry.get('name')}' comes from an output this importer did not "
                             "read", line)
            return
        task.setdefault("consumes", []).append(artifact)
        path = self.artifacts[artifact]["path"]
        if entry.get("path") and self._relative(str(entry["path"])) != path:
            self.report.loss(f"input artifact '{entry.get('name')}' is read at {entry['path']}, the producer writes "
                             f"it at {path}: the pipeline has one path per artifact", line, approximate=True)

    def _external_input(self, task: dict, entry: dict, argument: Any, line: int | None) -> None:
        source = argument or entry
        location = _artifact_location(source)
        name = str(entry.get("name"))
        if location is None:
            self.report.loss(f"input artifact '{name}' ({_first_key(source)}) is not carried", line)
            return
        artifact = self._artifact_name(name)
        self.artifacts[artifact] = {"path": location, "external": True}
        task.setdefault("consumes", []).append(artifact)
        self.report.loss(f"input artifact '{name}' is fetched by Argo from {location} to {entry.get('path')}; "
                         "the task receives the location instead and must fetch it", line, approximate=True)

    def _template_outputs(self, template: dict, task: dict, task_id: str) -> None:
        outputs = template.get("outputs") or {}
        for entry in outputs.get("parameters") or []:
            name = str(entry.get("name"))
            value_from = entry.get("valueFrom") or {}
            output: dict[str, Any] = {"type": "str"}
            if value_from.get("path"):
                path = str(value_from["path"])
                if not (self.managed and path == OUTPUT_FILE + name):
                    output["path"] = self._relative(path) if self.managed else path
            else:
                self.report.loss(f"output parameter '{name}' from {_first_key(value_from)} is not carried",
                                 line_of(entry))
                continue
            if "globalName" in entry:
                self.report.loss(f"output parameter '{name}': globalName is not carried", line_of(entry, "globalName"))
            if "suspend" in template:
                self.report.loss(f"output parameter '{name}' of a suspend template (set when someone resumes "
                                 "the workflow) is not carried", line_of(entry))
                continue
            task.setdefault("outputs", {}).setdefault(_identifier(name), output)
        for entry in outputs.get("artifacts") or []:
            name = str(entry.get("name"))
            if not entry.get("path"):
                self.report.loss(f"output artifact '{name}' has no path: not carried", line_of(entry))
                continue
            artifact = self._artifact_name(name)
            self.artifacts[artifact] = {"path": self._relative(str(entry["path"]))}
            self.artifact_source[(task_id, name)] = artifact
            task.setdefault("produces", []).append(artifact)
            for key in entry:
                if key not in ("name", "path"):
                    self.report.loss(f"output artifact '{name}': {key} is not carried (the pipeline's artifact "
                                     "store decides)", line_of(entry, key))
        if outputs.get("result") is not None or outputs.get("exitCode") is not None:
            self.report.loss("template outputs result/exitCode are not carried", line_of(outputs))

    def _artifact_name(self, name: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name)
        if not base or not base[0].isalpha():
            base = "a_" + base
        candidate, counter = base, 2
        while candidate in self.artifacts:
            candidate, counter = f"{base}_{counter}", counter + 1
        return candidate

    def _relative(self, path: str) -> str:
        """dagshift writes artifact paths under the working directory; others stay as written."""
        if not self.managed:
            return path
        workdir = self.workdirs.most_common(1)[0][0] if self.workdirs else DAGSHIFT_WORKDIR
        if path.startswith(workdir.rstrip("/") + "/"):
            return path[len(workdir.rstrip("/")) + 1:]
        return path

    def _policies(self, template: dict, task: dict, scope: dict) -> None:
        if template.get("activeDeadlineSeconds") is not None:
            task["timeout"] = _seconds(template["activeDeadlineSeconds"])
        elif template.get("timeout") is not None:  # the node's whole time, pending included: the closest
            try:
                task["timeout"] = _duration(template["timeout"])
            except ImportStop:  # a value known only at run time
                self.report.loss(f"template '{template.get('name')}': timeout {template['timeout']!r} is not a "
                                 "fixed duration, and is not carried", line_of(template, "timeout"))
        strategy = template.get("retryStrategy")
        if strategy:
            self._retries(strategy, task)
        memoize = template.get("memoize")
        if memoize:
            self._memoize(memoize, task, line_of(template, "memoize"))
        sync = template.get("synchronization")
        if sync:
            self._synchronization(sync, task, line_of(template, "synchronization"))

    def _retries(self, strategy: dict, task: dict) -> None:
        line = line_of(strategy)
        limit = strategy.get("limit")
        if limit is None:
            self.report.loss("retryStrategy without limit retries forever: carried as 10 retries", line,
                             approximate=True)
            limit = 10
        try:
            task["retries"] = int(str(limit))
        except ValueError:
            raise ImportStop(f"retryStrategy limit '{limit}' is not a number", line)
        policy = strategy.get("retryPolicy")
        if policy not in (None, "Always", "OnFailure"):
            self.report.loss(f"retryPolicy {policy} is carried as retrying on every failure", line_of(strategy,
                             "retryPolicy"), approximate=True)
        backoff = strategy.get("backoff") or {}
        if backoff.get("duration") is not None:
            task["retry_delay"] = _duration(backoff["duration"])
        if backoff.get("factor") is not None:
            task["retry_backoff"] = float(str(backoff["factor"]))
        cap = backoff.get("cap") or backoff.get("maxDuration")
        if backoff.get("cap") is not None:
            task["retry_max_delay"] = _duration(cap)
        elif backoff.get("maxDuration") is not None:
            self.report.loss("backoff maxDuration (the time for all attempts) is not carried", line_of(backoff),
                             approximate=True)
        for key in strategy:
            if key not in ("limit", "retryPolicy", "backoff"):
                self.report.loss(f"retryStrategy {key} is not carried", line_of(strategy, key))

    def _memoize(self, memoize: dict, task: dict, line: int | None) -> None:
        cache: dict[str, Any] = {"enabled": True}
        max_age = str(memoize.get("maxAge") or "")
        if max_age and max_age != "87600h":
            cache["expire"] = _duration(max_age)
        task["cache"] = cache if "expire" in cache else True
        if not self.managed:
            self.report.loss(f"memoize key '{memoize.get('key')}' is replaced by the pipeline's own cache key "
                             "(the task's definition and inputs)", line, approximate=True)

    def _synchronization(self, sync: dict, task: dict, line: int | None) -> None:
        semaphores = sync.get("semaphores") or ([sync["semaphore"]] if sync.get("semaphore") else [])
        for semaphore in semaphores:
            reference = semaphore.get("configMapKeyRef") or {}
            name, key = reference.get("name"), reference.get("key")
            limit = self._configmap_value(name, key)
            if self.managed and name != DAGSHIFT_POOLS and limit is not None:
                task["max_parallel"] = int(limit)
            elif key and re.fullmatch(r"[-._a-zA-Z0-9]+", str(key)):
                task["pool"] = str(key)
                if not self.managed:
                    self.report.loss(f"semaphore {name}/{key} is carried as pool '{key}' (its size is set where "
                                     "the pool is created)", line, approximate=True)
            else:
                self.report.loss("a semaphore that is not a ConfigMap key is not carried", line)
        if sync.get("mutexes") or sync.get("mutex"):
            self.report.loss("a mutex is not carried (use a pool of size 1)", line)

    # ------------------------------------------------------------------ node settings

    def _loop(self, node: dict, scope: dict, task: dict, task_id: str) -> None:
        if "withItems" in node:
            items = plain(node["withItems"])
            task["foreach"] = [_escape_items(item) for item in items]
        elif "withParam" in node:
            text = self._text(_as_text(plain(node["withParam"])), scope, line_of(node, "withParam"))
            literal = _typed_value(text)
            if isinstance(literal, list):
                task["foreach"] = literal
                return
            if not re.fullmatch(r"\$\{\{ [^}]+ \}\}", text):
                raise ImportStop(f"withParam '{node['withParam']}' is not a param or an upstream output",
                                 line_of(node, "withParam"))
            task["foreach"] = text
            match = re.fullmatch(r"\$\{\{ tasks\.([^.]+)\.outputs\.([^ ]+) \}\}", text)
            if match:
                self.outputs_used.setdefault((match.group(1), match.group(2)), set()).add("list")
            match = re.fullmatch(r"\$\{\{ params\.([^ ]+) \}\}", text)
            if match and not isinstance(_param_default(self.params.get(match.group(1))), list):
                self.report.loss(f"param '{match.group(1)}' is a JSON list at run time: its default is not one",
                                 line_of(node, "withParam"), approximate=True)
        elif "withSequence" in node:
            task["foreach"] = self._sequence(node["withSequence"], line_of(node, "withSequence"))

    def _sequence(self, sequence: dict, line: int | None) -> list:
        try:
            if "count" in sequence:
                start = int(str(sequence.get("start", 0)))
                numbers = list(range(start, start + int(str(sequence["count"]))))
            else:
                start, end = int(str(sequence.get("start", 0))), int(str(sequence["end"]))
                numbers = list(range(start, end + 1)) if end >= start else list(range(start, end - 1, -1))
        except (ValueError, KeyError):
            raise ImportStop("withSequence with values known only at run time cannot be a fixed foreach list", line)
        if sequence.get("format"):
            return [_printf(str(sequence["format"]), n) for n in numbers]
        return numbers

    def _when(self, node: dict, scope: dict, task: dict, task_id: str) -> None:
        if "when" not in node:
            return
        line = line_of(node, "when")
        text = str(node["when"])
        try:
            expr = self._condition(text, scope, task_id)
        except ValueError as exc:
            self.report.loss(f"the condition '{text}' cannot be carried ({exc}): the task always runs", line)
            return
        if expr is None:
            return
        task["when"] = conditions.render(expr)
        self.conditional.add(task_id)

    def _condition(self, text: str, scope: dict, task_id: str) -> conditions.Expr | None:
        if text.startswith("{{=") and text.endswith("}}"):
            return _ExprReader(self, text[3:-2]).parse()
        tree = _BoolParser(_tokens(text), lambda parts: self._govaluate_atom(parts, scope)).parse()
        return _to_condition(tree)

    def _govaluate_atom(self, parts: list[str], scope: dict):
        for op in ("==", "!=", "<=", ">=", "<", ">"):
            if op in parts:
                index = parts.index(op)
                return ("cmp", op, self._operand(parts[:index], scope), self._operand(parts[index + 1:], scope))
        if len(parts) == 1:
            operand = self._operand(parts, scope)
            if isinstance(operand, conditions.Literal) and isinstance(operand.value, bool):
                return ("lit", operand)
            if isinstance(operand, conditions.RefOperand):
                return ("lit", operand)
        raise ValueError(f"'{' '.join(parts)}' is not a comparison")

    def _operand(self, parts: list[str], scope: dict) -> conditions.Expr:
        if len(parts) != 1:
            text = " ".join(parts)
            converted = self._text(text, scope, None)
            refs = re.findall(r"\$\{\{ ([^}]+) \}\}", converted)
            if refs:
                raise ValueError(f"'{text}' mixes a variable with text")
            return conditions.Literal(text)
        token = parts[0]
        if token.startswith("{{") and token.endswith("}}"):
            converted = self._text(token, scope, None)
            match = re.fullmatch(r"\$\{\{ ((?:params|tasks)\.[^ }]+) \}\}", converted)
            if match:
                return conditions.RefOperand(_parse_ref(match.group(1)), 0)
            if "${{" in converted or converted == token:
                raise ValueError(f"{token} is not a param or a task output")
            return _literal(converted)
        if token[0] in "'\"":
            return conditions.Literal(token[1:-1])
        return _literal(token)

    def _hooks(self, node: dict, task: dict) -> None:
        hooks = node.get("hooks") or {}
        alerts = []
        for key, hook in hooks.items():
            line = line_of(hooks, key)
            expression = str(hook.get("expression") or "")
            event = "success" if "Succeeded" in expression and "Failed" not in expression else "failure"
            if not ("Failed" in expression or "Succeeded" in expression) or key == "exit":
                self.report.loss(f"hook '{key}' ({expression or 'on exit'}) is carried as an alert on failure",
                                 line, approximate=True)
            alert = self._alert(str(hook.get("template")), event, line)
            if alert:
                alerts.append(alert)
        if alerts:
            task["alerts"] = alerts

    def _alert(self, template_name: str, event: str, line: int | None) -> dict | None:
        """A template run as an alert: a command in the default image (or a dagshift python call)."""
        template = self.templates.get(template_name)
        if template is None or not ("container" in template or "script" in template):
            self.report.loss(f"alert template '{template_name}' is not a container or script template: not carried",
                             line)
            return None
        scratch_id = "__alert__"
        saved = dict(self.tasks), len(self.report.diagnostics.items)
        task = self._leaf(template, {}, scratch_id, {})
        alert: dict[str, Any] = {"on": event}
        if "python" in task:
            alert["python"] = task["python"]
            if task.get("args"):
                alert["args"] = task["args"]
        elif isinstance(task.get("command"), str) and "image" not in task:
            alert["command"] = task["command"]
        else:
            argv = list(task.get("command") or []) + list(task.get("args") or [])
            alert["command"] = " ".join(_shell_quote(a) for a in argv)
            self.report.loss(f"alert template '{template_name}' runs in {task.get('image')}; an alert runs its "
                             "command in the default image", line, approximate=True)
        del saved
        return alert

    def _exit_alerts(self, template_name: str, line: int | None) -> list[dict]:
        template = self.templates.get(template_name)
        if template is None:
            raise ImportStop(f"onExit template '{template_name}' is not in this file", line)
        if "steps" not in template:
            alert = self._alert(template_name, "failure", line)
            self.report.loss("the exit handler runs on every outcome: carried as an alert on failure and one on "
                             "success", line, approximate=True)
            return [alert, {**alert, "on": "success"}] if alert else []
        alerts = []
        for group in template["steps"] or []:
            for step in group if isinstance(group, list) else [group]:
                when = str(step.get("when") or "")
                step_line = line_of(step)
                if re.fullmatch(r"\{\{workflow\.status\}\}\s*!=\s*Succeeded", when):
                    events = ["failure"]
                elif re.fullmatch(r"\{\{workflow\.status\}\}\s*==\s*Succeeded", when):
                    events = ["success"]
                else:
                    events = ["failure", "success"]
                    if when:
                        self.report.loss(f"exit step condition '{when}' is carried as running on every outcome",
                                         step_line, approximate=True)
                for event in events:
                    alert = self._alert(str(step.get("template")), event, step_line)
                    if alert:
                        alerts.append(alert)
        return alerts

    # ------------------------------------------------------------------ after the graph

    def _finish_outputs(self) -> None:
        """Outputs read downstream must exist on the producer; stdout (`result`) is not a file."""
        for task_id, name, line in self.pending_outputs:
            task = self.tasks.get(task_id)
            if task is None:
                continue
            outputs = task.setdefault("outputs", {})
            if name not in outputs:
                outputs[name] = {"type": "str"}
                if name == "result":
                    self.report.loss(f"task '{task_id}': Argo captures its standard output as outputs.result; a "
                                     "pipeline task writes an output to ${{ outputs.result }}: change the command",
                                     line, approximate=True)
                else:
                    self.report.loss(f"task '{task_id}' has no output parameter '{name}'", line, approximate=True)
        for (task_id, name), uses in self.outputs_used.items():
            output = self.tasks.get(task_id, {}).get("outputs", {}).get(name)
            if output is not None and "list" in uses:
                output["type"] = "list"
        for text, kind in self.ref_kinds:
            match = re.fullmatch(r"\$\{\{ tasks\.([^.]+)\.outputs\.([^ ]+) \}\}", text)
            output = self.tasks.get(match.group(1), {}).get("outputs", {}).get(match.group(2)) if match else None
            value_type = _KIND_TYPES.get(kind.removeprefix("list:"))
            if output is not None and value_type and output.get("type") == "str":
                output["type"] = value_type
        for (task_id, name), uses in self.outputs_used.items():
            output = self.tasks.get(task_id, {}).get("outputs", {}).get(name)
            if output is not None and "float" in uses and output.get("type") == "str":
                output["type"] = "float"
        for task_id, task in self.tasks.items():
            if not self.managed and "result" in task.get("outputs", {}) and \
                    task["outputs"]["result"].get("path") is None:
                self._capture_stdout(task_id, task)

    def _capture_stdout(self, task_id: str, task: dict) -> None:
        """Argo's outputs.result is the task's standard output: run the command so that it is also
        written to the output file (and still printed)."""
        argv = list(task.get("command") or []) + list(task.get("args") or [])
        if "image" not in task or not argv:
            raise ImportStop(f"task '{task_id}': its standard output is read downstream (outputs.result), and "
                             "it runs its image's entrypoint, which dagshift cannot wrap",
                             help="give the container a command")
        script = 'out=$0; "$@" > "$out"; status=$?; cat "$out"; exit $status'
        task["command"] = ["sh", "-c", script, "${{ outputs.result }}", *argv]
        task.pop("args", None)

    def _managed_fixups(self) -> None:
        """What dagshift's backend wrote in its own way: paths of the task's artifacts become
        placeholders again, output files `${{ outputs.NAME }}`, typed refs the output's type."""
        for task in self.tasks.values():
            names = list(task.get("consumes", [])) + list(task.get("produces", []))
            names.sort(key=lambda n: -len(self.artifacts[n]["path"]))
            for name in names:
                _replace_in(task, self.artifacts[name]["path"], f"${{{{ artifacts.{name} }}}}")
            for name, output in task.get("outputs", {}).items():
                _replace_in(task, output.get("path") or OUTPUT_FILE + name, f"${{{{ outputs.{name} }}}}")
        self._else_branches()
        self._implied_after()
        self._fill_folded_defaults()

    def _else_branches(self) -> None:
        """dagshift writes `else_of: T` as the negation of T's condition."""
        by_condition = {task["when"]: task_id for task_id, task in self.tasks.items() if "when" in task}
        for task_id, task in self.tasks.items():
            when = task.get("when", "")
            if not when.startswith("not "):
                continue
            inner = when[len("not "):]
            inner = inner[1:-1] if inner.startswith("(") and inner.endswith(")") else inner
            sibling = by_condition.get(inner)
            if sibling is not None and sibling != task_id:
                del task["when"]
                task["else_of"] = sibling

    def _implied_after(self) -> None:
        """dagshift's depends lists every upstream; `after` holds only those no artifact,
        reference or condition implies (the graph adds those again)."""
        producers = {a: t for t, task in self.tasks.items() for a in task.get("produces", [])}
        for task_id, task in self.tasks.items():
            if "after" not in task:
                continue
            implied = {producers[a] for a in task.get("consumes", []) if a in producers}
            implied |= set(re.findall(r"\$\{\{ tasks\.([A-Za-z0-9_-]+)\.outputs\.", json.dumps(task)))
            implied |= set(re.findall(r"tasks\.([A-Za-z0-9_-]+)\.outputs\.", task.get("when", "")))
            sibling = self.tasks.get(task.get("else_of", ""), {})
            implied |= set(re.findall(r"tasks\.([A-Za-z0-9_-]+)\.outputs\.", sibling.get("when", "")))
            after = [t for t in task["after"] if t not in implied]
            if after:
                task["after"] = after
            else:
                del task["after"]

    def _fill_folded_defaults(self) -> None:
        """dagshift folds `defaults` into every task and writes no retryStrategy for 0 retries nor
        memoize for a disabled cache: when some tasks have them, the others had them off."""
        strategies = [t for t in self.tasks.values() if t.get("retries")]
        if strategies:
            shared = Counter(json.dumps({k: t[k] for k in ("retry_delay", "retry_backoff", "retry_max_delay") if k in t},
                                        sort_keys=True) for t in strategies).most_common(1)[0][0]
            for task in self.tasks.values():
                if "retries" not in task:
                    task.update({"retries": 0, **json.loads(shared)})
        if any(t.get("cache") for t in self.tasks.values()):
            for task in self.tasks.values():
                task.setdefault("cache", False)


# ----------------------------------------------------------------------------- dagshift's expr


class _ExprReader:
    """The `{{=...}}` conditions dagshift writes (expr): asFloat(...), tasks['t'].outputs.parameters['o'],
    workflow.parameters['p'], (X == 'true') for booleans, !, &&, ||, comparisons and literals."""

    _TOKEN = re.compile(r"\s*(asFloat\(|tasks\['(?:[^'\\]|\\.)*'\]\.outputs\.parameters\['(?:[^'\\]|\\.)*'\]"
                        r"|workflow\.parameters\['(?:[^'\\]|\\.)*'\]|'(?:[^'\\]|\\.)*'|&&|\|\||==|!=|<=|>=|<|>|!|\(|\)"
                        r"|true|false|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")

    def __init__(self, reader: _DocumentReader, text: str):
        self.reader = reader
        self.tokens = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = self._TOKEN.match(text, position)
            if not match:
                raise ValueError(f"unknown expression syntax at {text[position:position + 20]!r}")
            self.tokens.append(match.group(1))
            position = match.end()
        self.position = 0

    def parse(self) -> conditions.Expr:
        expr = self.parse_or()
        if self.position != len(self.tokens):
            raise ValueError("trailing text in the condition")
        return expr

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ValueError("the condition ends early")
        self.position += 1
        return token

    def parse_or(self) -> conditions.Expr:
        operands = [self.parse_and()]
        while self.peek() == "||":
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else conditions.BoolOp("or", tuple(operands))

    def parse_and(self) -> conditions.Expr:
        operands = [self.parse_not()]
        while self.peek() == "&&":
            self.take()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else conditions.BoolOp("and", tuple(operands))

    def parse_not(self) -> conditions.Expr:
        if self.peek() == "!":
            self.take()
            return conditions.Not(self.parse_not())
        left = self.parse_operand()
        if self.peek() in conditions.COMPARISONS:
            op = self.take()
            right = self.parse_operand()
            return self._bool_compare(conditions.Compare(op, left, right))
        return left

    def _bool_compare(self, compare: conditions.Compare) -> conditions.Expr:
        # dagshift writes a bare bool reference as (X == 'true').
        if compare.op == "==" and compare.right == conditions.Literal("true") and \
                isinstance(compare.left, conditions.RefOperand):
            return compare.left
        return compare

    def parse_operand(self) -> conditions.Expr:
        token = self.take()
        if token == "(":
            inner = self.parse_or()
            if self.take() != ")":
                raise ValueError("unbalanced parentheses")
            return inner
        if token == "asFloat(":
            inner = self.parse_operand()
            if isinstance(inner, conditions.RefOperand) and inner.ref.kind == "task_output":
                self.reader.outputs_used.setdefault((inner.ref.task, inner.ref.name), set()).add("float")
            if self.take() != ")":
                raise ValueError("unbalanced asFloat(")
            return inner
        if token.startswith("tasks["):
            task, output = re.findall(r"\['((?:[^'\\]|\\.)*)'\]", token)
            task_id = self.reader.argo_ids.get(_unescape(task), _unescape(task))
            return conditions.RefOperand(Ref("task_output", _unescape(output), task_id), 0)
        if token.startswith("workflow.parameters"):
            (name,) = re.findall(r"\['((?:[^'\\]|\\.)*)'\]", token)
            return conditions.RefOperand(Ref("param", _unescape(name)), 0)
        if token.startswith("'"):
            return conditions.Literal(_unescape(token[1:-1]))
        if token in ("true", "false"):
            return conditions.Literal(token == "true")
        return conditions.Literal(json.loads(token))


def _unescape(text: str) -> str:
    return json.loads('"' + text.replace('"', '\\"').replace("\\'", "'") + '"')


# ----------------------------------------------------------------------------- helpers


def _to_condition(tree: Any) -> conditions.Expr:
    if tree[0] == "or" or tree[0] == "and":
        return conditions.BoolOp(tree[0], tuple(_to_condition(t) for t in tree[1]))
    if tree[0] == "not":
        return conditions.Not(_to_condition(tree[1]))
    if tree[0] == "cmp":
        return conditions.Compare(tree[1], tree[2], tree[3])
    return tree[1]


def _literal(text: str) -> conditions.Literal:
    """A bare govaluate operand: a number, a boolean, else text (Argo substitutes before it
    evaluates, so `{{...}} == heads` compares with the text heads)."""
    if text in ("true", "false"):
        return conditions.Literal(text == "true")
    try:
        value = json.loads(text)
    except ValueError:
        return conditions.Literal(text)
    return conditions.Literal(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else conditions.Literal(text)


def _parse_ref(text: str) -> Ref:
    parts = text.split(".")
    if parts[0] == "params":
        return Ref("param", parts[1])
    return Ref("task_output", parts[3], parts[1])


def _depends_atom(parts: list[str]):
    if len(parts) != 1:
        raise ValueError(f"'{' '.join(parts)}' is not a task name")
    name, _, status = parts[0].partition(".")
    return ("atom", name, status or "")


def _depends_groups(tree: Any) -> tuple[list[tuple[str, set[str]]], str]:
    """A depends expression as groups (task, statuses), joined by one operator: `A && B`,
    `(A.Failed || A.Errored) || (B.Failed ...)`. Raises ValueError when it has another shape."""
    def group(node) -> tuple[str, set[str]] | None:
        if node[0] == "atom":
            return node[1], {node[2]}
        if node[0] == "or":
            members = [group(n) for n in node[1]]
            if all(m is not None for m in members) and len({m[0] for m in members}) == 1:
                return members[0][0], set().union(*(m[1] for m in members))
        return None

    single = group(tree)
    if single is not None:
        return [single], "and"
    if tree[0] in ("and", "or"):
        groups = [group(n) for n in tree[1]]
        if all(g is not None for g in groups):
            return groups, tree[0]
    return [], "none"


def _rule_of(groups: list[tuple[str, set[str]]], operator: str) -> str | None:
    if not groups:
        return None
    sets = [statuses for _, statuses in groups]
    if all(s == {""} for s in sets) and operator == "and":
        return "bare"
    if all(s <= {"Succeeded", ""} for s in sets) and operator == "and":
        return "all_success" if all(s == {"Succeeded"} for s in sets) else "bare"
    if all(s == {"Succeeded"} for s in sets) and operator == "or":
        return "one_success"
    if all(s and s <= _FAILED and "Failed" in s for s in sets):
        return "one_failed" if operator == "or" or len(sets) == 1 else "all_failed"
    if all(s == _NONE_FAILED for s in sets) and operator == "and":
        return "none_failed"
    if all(s >= _DONE for s in sets) and operator == "and":
        return "all_done"
    return None


def _dag_order(nodes: dict[str, dict], line: int | None) -> list[str]:
    """DAG task names, each after those it depends on (Argo allows any order in the list)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise ImportStop(f"the dag has a cycle through '{name}'", line)
        visiting.add(name)
        for upstream in _node_upstream(nodes[name], nodes):
            visit(upstream)
        visiting.discard(name)
        order.append(name)

    for name in nodes:
        visit(name)
    return order


def _node_upstream(node: dict, nodes: dict) -> list[str]:
    if node.get("dependencies"):
        return [str(n) for n in node["dependencies"] if str(n) in nodes]
    text = str(node.get("depends") or "")
    return [name for name in dict.fromkeys(re.findall(r"[A-Za-z0-9][-A-Za-z0-9_]*", text)) if name in nodes]


def _managed_command(image: str, command: list[str], args: list[str]) -> dict | None:
    """dagshift's shell and container encodings (compiler/backends/argo.py)."""
    if image == DAGSHIFT_IMAGE:
        if command == ["sh", "-c"] and len(args) == 1:
            return {"command": args[0]}
        if command == ["sh", "-c", 'IFS=; exec sh -c "$*"', "sh"]:
            return {"command": "".join(args)}
        if command and not args and command[:2] != ["sh", "-c"]:
            return {"command": command}
    if len(command) == 4 and command[:2] == ["sh", "-c"] and command[3] == "sh" and command[2].endswith(' "$@"'):
        task: dict[str, Any] = {"image": image, "command": command[2][:-len(' "$@"')]}
        if args:
            task["args"] = args
        return task
    return None


def _replace_in(value: Any, old: str, new: str) -> bool:
    """Replace `old` where it stands as a whole path in every string of a task (in place)."""
    if "/" in old or "." in old:
        pattern = re.compile(r"(?<![\w./-])" + re.escape(old) + r"(?![\w/-]|\.\w)")
    else:  # a bare word is a path only as a whole argument, never inside quoted text
        pattern = re.compile(r"(?<=[\s=])" + re.escape(old) + r"(?=\s|$)|^" + re.escape(old) + r"$")
    changed = False

    def walk(node: Any) -> Any:
        nonlocal changed
        if isinstance(node, str):
            replaced = pattern.sub(lambda _: new, node)
            changed = changed or replaced != node
            return replaced
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(item) for key, item in node.items()}
        return node

    if isinstance(value, dict):
        for key in ("command", "args", "env", "foreach"):
            if key in value:
                value[key] = walk(value[key])
    return changed


def _typed_value(value: Any) -> Any:
    """An Argo parameter value (text) as the typed value it spells, when it spells one exactly."""
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    if isinstance(parsed, (list, dict)) or json.dumps(parsed, ensure_ascii=False, separators=(",", ":")) == value:
        if isinstance(parsed, str) or parsed is None:
            return value
        return parsed
    return value


def _param_default(param: Any) -> Any:
    return param.get("default") if isinstance(param, dict) else param


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _escape_items(item: Any) -> Any:
    if isinstance(item, str):
        return item.replace("${{", "$${{")
    if isinstance(item, dict):
        return {k: _escape_items(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_escape_items(v) for v in item]
    return item


def _first_key(value: Any) -> str:
    if isinstance(value, dict) and value:
        return str(next(iter(value)))
    return "elsewhere"


def _identifier(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if name and (name[0].isalpha() or name[0] == "_") else "p_" + name


def _is_identifier(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name))


def _seconds(value: Any) -> int:
    text = str(value)
    if text.isdigit():
        return int(text)
    raise ImportStop(f"activeDeadlineSeconds '{text}' is not a number of seconds")


def _duration(value: Any) -> int:
    from ..values import parse_duration

    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        return parse_duration(text)
    except (ValueError, TypeError):
        total = 0
        for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
            total += float(amount) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        if not total and text not in ("0", "0s"):
            raise ImportStop(f"duration '{text}' is not understood")
        return int(round(total))


def _printf(pattern: str, number: int) -> str:
    try:
        return pattern % number
    except (TypeError, ValueError):
        return str(number)


def _artifact_location(source: Any) -> str | None:
    if not isinstance(source, dict):
        return None
    if source.get("http"):
        return str(source["http"].get("url"))
    if source.get("s3") and source["s3"].get("key"):
        bucket = source["s3"].get("bucket")
        return f"s3://{bucket}/{source['s3']['key']}" if bucket else None
    if source.get("gcs") and source["gcs"].get("key"):
        bucket = source["gcs"].get("bucket")
        return f"gs://{bucket}/{source['gcs']['key']}" if bucket else None
    if source.get("git"):
        return str(source["git"].get("repo"))
    return None


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
