"""One workflow document read into a pipeline: the workflow spec (through its workflowTemplateRef,
or a CronWorkflow's workflowSpec), metadata and params here; then the tasks (graph.py), the outputs
read downstream (inputs_outputs.py), what dagshift's own output encodes (managed.py) and the pipeline settings
(settings.py), each handed the document's ReadState (state.py)."""

from __future__ import annotations

from typing import Any

from compiler.backends.argo.conventions import (
    DESCRIPTION_ANNOTATION,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    OWNER_ANNOTATION,
    TAGS_ANNOTATION,
    TASK_IDS_ANNOTATION,
)
from compiler.importers.base import Reporter, line_of, plain, portable_name

from .companions import Companions
from .graph import expand
from .inputs_outputs import finish_outputs
from .managed import exact_task_ids, managed_fixups
from .settings import pipeline_settings, workdir
from .state import ReadState
from .stop import ImportStop
from .values import first_key, identifier, is_identifier, typed_value


def read_document(document: dict, companions: Companions, report: Reporter) -> dict:
    """The pipeline's plain data, read from one workflow document."""
    metadata = document.get("metadata") or {}
    spec, managed = _workflow_spec(document, companions, report)
    state = ReadState(report, companions, managed, exact_ids=exact_task_ids(metadata) if managed else {},
                      templates=_templates(spec))
    data: dict[str, Any] = {"name": _name(state, metadata)}
    _metadata(state, metadata, data)
    state.params = _params(state, spec)
    entry = spec.get("entrypoint")
    if not entry and len(state.templates) == 1:
        entry = next(iter(state.templates))
    if not entry:
        raise ImportStop("the workflow has no entrypoint", line_of(spec),
                         help="a WorkflowTemplate without entrypoint is a library of templates: import a "
                              "Workflow that uses it")
    if entry not in state.templates:
        raise ImportStop(f"the entrypoint '{entry}' is not a template of this file", line_of(spec, "entrypoint"))
    _required_entry_inputs(state, state.templates[entry])
    # Argo passes the workflow's arguments to the entrypoint's inputs of the same name.
    scope = {argo: f"${{{{ params.{name} }}}}" for argo, name in state.param_names.items()}
    expand(state, entry, scope, "", [], None, [])
    if not state.tasks:
        raise ImportStop(f"the entrypoint '{entry}' runs no task", line_of(spec, "entrypoint"))
    finish_outputs(state)
    if state.managed:
        managed_fixups(state)
    if state.params:
        data["params"] = state.params
    pipeline_settings(state, document, spec, data)
    if state.artifacts:
        data["artifacts"] = state.artifacts
    data["tasks"] = state.tasks
    workdir(state, data)
    return data


def _managed_by_dagshift(document: dict) -> bool:
    labels = (document.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY


def _workflow_spec(document: dict, companions: Companions, report: Reporter) -> tuple[dict, bool]:
    """The spec the workflow runs, and whether dagshift wrote it (the document, or the
    WorkflowTemplate it runs, has dagshift's label)."""
    managed = _managed_by_dagshift(document)
    spec = document.get("spec") or {}
    if document.get("kind") == "CronWorkflow":
        _cron_keys(report, spec)
        spec = spec.get("workflowSpec") or {}
    reference = spec.get("workflowTemplateRef")
    if reference:
        name = reference.get("name")
        kind = "ClusterWorkflowTemplate" if reference.get("clusterScope") else "WorkflowTemplate"
        template = companions.template_document(kind, name, line_of(spec, "workflowTemplateRef"))
        template_spec = template.get("spec") or {}
        merged = {**template_spec, **{k: v for k, v in spec.items() if k != "workflowTemplateRef"}}
        return merged, managed or _managed_by_dagshift(template)
    return spec, managed


def _cron_keys(report: Reporter, spec: dict) -> None:
    for key in spec:
        if key in ("schedules", "schedule", "timezone", "workflowSpec", "concurrencyPolicy"):
            continue
        report.loss(f"CronWorkflow {key} is not carried", line_of(spec, key))


def _templates(spec: dict) -> dict[str, dict]:
    templates = {}
    for template in spec.get("templates") or []:
        if isinstance(template, dict) and template.get("name"):
            templates[str(template["name"])] = template
    return templates


def _name(state: ReadState, metadata: dict) -> str:
    name = metadata.get("name") or str(metadata.get("generateName") or "").rstrip("-") or "workflow"
    name = str(name)
    return portable_name(name.replace("-", "_") if state.managed else name, state.report, line_of(metadata))


def _metadata(state: ReadState, metadata: dict, data: dict) -> None:
    annotations = metadata.get("annotations") or {}
    kept = []  # annotations describe a workflow to people and tools: kept in the description
    for key, value in annotations.items():
        if key == DESCRIPTION_ANNOTATION:
            data["description"] = str(value)
        elif key == OWNER_ANNOTATION and state.managed:
            data["owner"] = str(value)
        elif key == TAGS_ANNOTATION and state.managed:
            data["tags"] = [t.strip() for t in str(value).split(",") if t.strip()]
        elif key == TASK_IDS_ANNOTATION and state.managed:
            continue  # read into state.exact_ids
        else:
            kept.append(f"{key}: {value}")
    if kept:
        data["description"] = "\n\n".join(
            [*([data["description"]] if data.get("description") else []),
             "Argo annotations:\n" + "\n".join(kept)])
    labels = metadata.get("labels") or {}
    tags = [f"{key}={value}" for key, value in labels.items() if key != MANAGED_BY_LABEL]
    if tags:
        # Labels select and group workflows, as tags do on the other orchestrators.
        data["tags"] = data.get("tags", []) + tags
    for key in metadata:
        if key not in ("name", "generateName", "annotations", "labels", "namespace"):
            state.report.loss(f"metadata.{key} is not carried", line_of(metadata, key))


def _params(state: ReadState, spec: dict) -> dict[str, Any]:
    """The workflow's arguments as the pipeline's params (their Argo names in state.param_names)."""
    arguments = spec.get("arguments") or {}
    params: dict[str, Any] = {}
    for entry in arguments.get("parameters") or []:
        line = line_of(entry)
        name = str(entry.get("name"))
        param: dict[str, Any] = {}
        if "value" in entry:
            param["default"] = typed_value(plain(entry["value"]))
        elif "valueFrom" in entry:
            state.report.loss(f"param '{name}' takes its value from {first_key(entry['valueFrom'])}: "
                              "give its value when the pipeline runs", line, approximate=True)
        if entry.get("enum"):
            param["enum"] = [typed_value(plain(v)) for v in entry["enum"]]
        if entry.get("description"):
            param["description"] = str(entry["description"])
        for key in entry:
            if key not in ("name", "value", "valueFrom", "enum", "description"):
                state.report.loss(f"param '{name}': {key} is not carried", line_of(entry, key))
        if not is_identifier(name):
            renamed = identifier(name)
            state.report.loss(f"param '{name}' is renamed '{renamed}' (param names are identifiers): pass it "
                              "by its new name", line, approximate=True)
            state.param_names[name] = renamed
            name = renamed
        else:
            state.param_names[name] = name
        # A mapping default needs the long form, or its keys would be read as the param's own.
        simple = set(param) == {"default"} and not isinstance(param["default"], dict)
        params[name] = param["default"] if simple else param
    for entry in arguments.get("artifacts") or []:
        state.report.loss(f"workflow input artifact '{entry.get('name')}' is not carried", line_of(entry))
    return params


def _required_entry_inputs(state: ReadState, template: dict) -> None:
    """An entrypoint input with no value is given when the workflow is submitted (`-p name=...`):
    a param without default, which a pipeline run must be given too."""
    for entry in (template.get("inputs") or {}).get("parameters") or []:
        name = str(entry.get("name"))
        if name in state.param_names or any(key in entry for key in ("value", "default")):
            continue
        if "valueFrom" in entry:
            state.report.loss(f"input '{name}' of the entrypoint takes its value from "
                              f"{first_key(entry['valueFrom'])}: give its value when the pipeline runs",
                              line_of(entry, "valueFrom"), approximate=True)
        param_name = identifier(name)
        if param_name != name:
            state.report.loss(f"param '{name}' is renamed '{param_name}' (param names are identifiers): pass it "
                              "by its new name", line_of(entry), approximate=True)
        state.param_names[name] = param_name
        state.params[param_name] = {"type": "str"}
