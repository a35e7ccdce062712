"""One workflow document read into a pipeline: the workflow spec (through its
workflowTemplateRef, or a CronWorkflow's workflowSpec), metadata, params, pipeline settings,
schedule, triggers, and the companion documents they refer to (in the file, or dagshift's own
output files next to it). The reader is made of the mixins of the other argo_* modules."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from compiler.importers.base import Reporter, line_of, plain, portable_name
from compiler.importers.yaml_read import read_yaml

from .conditions import ConditionsMixin
from .containers import ContainersMixin
from .emulated import EmulatedMixin
from .graph import GraphMixin
from .io import InputsOutputsMixin
from .managed import ManagedMixin, exact_task_ids, replace_in
from .policies import PoliciesMixin
from .shared import DAGSHIFT_VOLUME, DAGSHIFT_WORKDIR, TASK_IDS_ANNOTATION, ImportStop
from .values import ValuesMixin, deadline_seconds, first_key, identifier, is_identifier, typed_value

_SPEC_KEYS = {"entrypoint", "arguments", "templates", "parallelism", "activeDeadlineSeconds", "onExit",
              "synchronization", "workflowTemplateRef"}


_TEMPLATE_KINDS = ("WorkflowTemplate", "ClusterWorkflowTemplate")


class Companions:
    """The other documents of the file, and of the files next to it: dagshift's own output files
    (the CronWorkflow's WorkflowTemplate, the Sensor, limits), and the WorkflowTemplates and
    ClusterWorkflowTemplates a workflowTemplateRef or templateRef names, found in the file or in a
    YAML file of the same folder (as they are applied to the cluster together)."""

    def __init__(self, path: Path, documents: list[Any]):
        self.documents = [d for d in documents if isinstance(d, dict)]
        self.path = path
        self._neighbours: list[dict] | None = None
        self._folder: dict[Path, list[dict]] = {}

    def neighbours(self) -> list[dict]:
        if self._neighbours is None:
            self._neighbours = []
            folder = self.path.parent
            for name in ("workflowtemplate.yaml", "sensor.yaml", "limits.yaml"):
                candidate = folder / name
                if candidate.is_file() and candidate != self.path:
                    try:
                        self._neighbours += [d for d in read_yaml(candidate.read_text("utf-8"))
                                             if isinstance(d, dict)]
                    except Exception:  # noqa: BLE001, S110 - a broken neighbour is simply not used
                        pass
        return self._neighbours

    def find(self, kind: str, name: str | None = None) -> dict | None:
        for document in self.documents + self.neighbours():
            metadata = document.get("metadata") or {}
            if document.get("kind") == kind and (name is None or metadata.get("name") == name):
                return document
        return None

    def template_document(self, kind: str, name: Any, line: int | None) -> dict:
        """The WorkflowTemplate (or ClusterWorkflowTemplate) named `name`: from this file as it is,
        from another file of the folder as plain data (its lines are not this file's)."""
        found = self.find(kind, name)
        if found is not None:
            return found
        matches = [(path, d) for path in self._folder_files(str(name)) for d in self._folder_documents(path)
                   if d.get("kind") == kind and (d.get("metadata") or {}).get("name") == name]
        if not matches:
            raise ImportStop(f"the workflow runs {kind} '{name}', which is neither in this file nor in a YAML file "
                             "next to it", line, help="put the file that holds it in the same folder")
        if len({path for path, _ in matches}) > 1:
            files = ", ".join(sorted(path.name for path, _ in matches))
            raise ImportStop(f"{kind} '{name}' is defined in several files next to this one ({files})", line,
                             help="keep one definition in the folder")
        return plain(matches[0][1])

    def _folder_files(self, name: str) -> list[Path]:
        folder = self.path.parent
        files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p != self.path and p.is_file())
        found = []
        for path in files:
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if name in text and any(kind in text for kind in _TEMPLATE_KINDS):
                found.append(path)
        return found

    def _folder_documents(self, path: Path) -> list[dict]:
        if path not in self._folder:
            try:
                documents = read_yaml(path.read_text("utf-8"))
            except Exception:  # noqa: BLE001 - a file of the folder that is not YAML holds no template
                documents = []
            self._folder[path] = [d for d in documents if isinstance(d, dict)
                                  and str(d.get("apiVersion", "")).startswith("argoproj.io/")]
        return self._folder[path]

    def template_library(self, reference: dict, line: int | None) -> tuple[str, dict[str, dict]]:
        """The templates of the WorkflowTemplate a templateRef names, each under the name
        `TEMPLATE@WORKFLOWTEMPLATE`, with the references between them renamed the same way; and
        the name the referenced template has there."""
        kind = _TEMPLATE_KINDS[1] if reference.get("clusterScope") else _TEMPLATE_KINDS[0]
        name = str(reference.get("name"))
        document = self.template_document(kind, name, line)
        templates = {}
        for template in (document.get("spec") or {}).get("templates") or []:
            if isinstance(template, dict) and template.get("name"):
                qualified = f"{template['name']}@{name}"
                templates[qualified] = _qualified(template, name, qualified)
        return f"{reference.get('template')}@{name}", templates


def _qualified(template: dict, library: str, qualified: str) -> dict:
    """A template of WorkflowTemplate `library` whose dag tasks, steps and hooks name their
    templates as `TEMPLATE@library` (a copy: the document is left as it is)."""
    def node(entry: Any) -> Any:
        if not isinstance(entry, dict):
            return entry
        copy = dict(entry)
        if copy.get("template") and not copy.get("templateRef"):
            copy["template"] = f"{copy['template']}@{library}"
        if isinstance(copy.get("hooks"), dict):
            copy["hooks"] = {key: node(hook) for key, hook in copy["hooks"].items()}
        return copy

    copy = dict(template)
    copy["name"] = qualified
    if isinstance(template.get("dag"), dict):
        copy["dag"] = {**template["dag"], "tasks": [node(t) for t in template["dag"].get("tasks") or []]}
    if isinstance(template.get("steps"), list):
        copy["steps"] = [[node(s) for s in group] if isinstance(group, list) else node(group)
                         for group in template["steps"]]
    return copy


class DocumentReader(ValuesMixin, GraphMixin, ConditionsMixin, ContainersMixin, EmulatedMixin, InputsOutputsMixin,
                     PoliciesMixin, ManagedMixin):
    """Reads one workflow document into the pipeline's plain data (`read`)."""

    def __init__(self, document: dict, companions: Companions, report: Reporter):
        self.document = document
        self.companions = companions
        self.report = report
        self.kind = document.get("kind")
        metadata = document.get("metadata") or {}
        self.metadata = metadata
        labels = metadata.get("labels") or {}
        self.managed = labels.get("app.kubernetes.io/managed-by") == "dagshift"
        self.spec = self._workflow_spec()
        self.exact_ids = exact_task_ids(metadata) if self.managed else {}  # Argo task name -> task id
        self.templates = self._templates()
        self.tasks: dict[str, dict] = {}
        self.argo_ids: dict[str, str] = {}  # Argo node path ("main/train") -> task id
        # Each path's trailing names ("train", "b-train" of "a-b-train") -> the newest such path.
        self.path_suffixes: dict[str, str] = {}
        self.name_counters: dict[tuple[str, str], int] = {}  # ("task" | "artifact", base name) -> next suffix to try
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
        self.entry_parallelism: int | None = None  # the entrypoint template's parallelism, as max_active_tasks

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
        self._required_entry_inputs(self.templates[entry])
        # Argo passes the workflow's arguments to the entrypoint's inputs of the same name.
        scope = {argo: f"${{{{ params.{name} }}}}" for argo, name in self.param_names.items()}
        self._expand(entry, scope, "", [], None, [])
        if not self.tasks:
            raise ImportStop(f"the entrypoint '{entry}' runs no task", line_of(self.spec, "entrypoint"))
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
        return portable_name(name.replace("-", "_") if self.managed else name, self.report, line_of(metadata))

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
            elif key == TASK_IDS_ANNOTATION and self.managed:
                continue  # read into self.exact_ids
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
            template = self.companions.template_document(kind, name, line_of(spec, "workflowTemplateRef"))
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
                param["default"] = typed_value(plain(entry["value"]))
            elif "valueFrom" in entry:
                self.report.loss(f"param '{name}' takes its value from {first_key(entry['valueFrom'])}: "
                                 "give its value when the pipeline runs", line, approximate=True)
            if entry.get("enum"):
                param["enum"] = [typed_value(plain(v)) for v in entry["enum"]]
            if entry.get("description"):
                param["description"] = str(entry["description"])
            for key in entry:
                if key not in ("name", "value", "valueFrom", "enum", "description"):
                    self.report.loss(f"param '{name}': {key} is not carried", line_of(entry, key))
            if not is_identifier(name):
                renamed = identifier(name)
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

    def _required_entry_inputs(self, template: dict) -> None:
        """An entrypoint input with no value is given when the workflow is submitted (`-p name=...`):
        a param without default, which a pipeline run must be given too."""
        for entry in (template.get("inputs") or {}).get("parameters") or []:
            name = str(entry.get("name"))
            if name in self.param_names or any(key in entry for key in ("value", "default")):
                continue
            if "valueFrom" in entry:
                self.report.loss(f"input '{name}' of the entrypoint takes its value from "
                                 f"{first_key(entry['valueFrom'])}: give its value when the pipeline runs",
                                 line_of(entry, "valueFrom"), approximate=True)
            param_name = identifier(name)
            if param_name != name:
                self.report.loss(f"param '{name}' is renamed '{param_name}' (param names are identifiers): pass it "
                                 "by its new name", line_of(entry), approximate=True)
            self.param_names[name] = param_name
            self.params[param_name] = {"type": "str"}

    def _pipeline_settings(self, data: dict) -> None:
        spec = self.spec
        if self.kind == "CronWorkflow":
            self._schedule(data)
        limits = [int(spec["parallelism"])] if spec.get("parallelism") is not None else []
        if self.entry_parallelism is not None:
            limits.append(self.entry_parallelism)
        if limits:
            data["max_active_tasks"] = min(limits)
        if spec.get("activeDeadlineSeconds") is not None:
            data["timeout"] = deadline_seconds(spec["activeDeadlineSeconds"])
        if spec.get("onExit"):
            data["alerts"] = self._exit_alerts(str(spec["onExit"]), line_of(spec, "onExit"))
        if spec.get("synchronization"):
            self._workflow_synchronization(spec["synchronization"], data, line_of(spec, "synchronization"))
        if self.managed:
            self._triggers(data)
        for key in spec:
            claim = self._shared_claim() if key == "volumes" and self.managed else None
            if claim is not None:
                self.report.loss(f"spec.volumes: claim '{claim}', mounted at every task's working directory, is a "
                                 "compile option, not a pipeline setting", line_of(spec, key), approximate=True,
                                 help=f"compile with --option volume={claim} to share the files between tasks again")
            elif key not in _SPEC_KEYS:
                self.report.loss(f"spec.{key} is not carried (no pipeline setting for it)", line_of(spec, key))

    def _shared_claim(self) -> str | None:
        """The claim of dagshift's --option volume=CLAIM, when spec.volumes is that volume alone."""
        volumes = plain(self.spec.get("volumes"))
        if not (isinstance(volumes, list) and len(volumes) == 1 and isinstance(volumes[0], dict)):
            return None
        claim = volumes[0].get("persistentVolumeClaim")
        name = claim.get("claimName") if isinstance(claim, dict) else None
        expected = {"name": DAGSHIFT_VOLUME, "persistentVolumeClaim": {"claimName": name}}
        return str(name) if name is not None and volumes[0] == expected else None

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
            changed = replace_in(task, path, f"${{{{ artifacts.{name} }}}}")
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
