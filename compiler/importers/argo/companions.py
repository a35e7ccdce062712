"""The documents a workflow refers to besides itself: the other documents of the file, dagshift's
own output files next to it (the CronWorkflow's WorkflowTemplate, the Sensor, limits), and the
WorkflowTemplates a workflowTemplateRef or templateRef names, in the file or in its folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler.backends.argo.conventions import COMPANION_FILES
from compiler.importers.base import plain
from compiler.importers.yaml_read import read_yaml

from .shapes import API_PREFIX
from .stop import ImportStop

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
            for name in COMPANION_FILES:
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
                                  and str(d.get("apiVersion", "")).startswith(API_PREFIX)]
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

    def configmap_value(self, name: Any, key: Any) -> str | None:
        """The number under `key` of ConfigMap `name` (a semaphore's limit), when the file holds it."""
        configmap = self.find("ConfigMap", name)
        value = ((configmap or {}).get("data") or {}).get(key)
        return str(value) if value is not None and str(value).isdigit() else None


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
