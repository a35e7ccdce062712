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
backend encodes in mind (compiler/backends/argo/conventions.py, the names both sides use): task ids
spelled as DNS names (the ids they do not give back listed in the annotation dagshift.dev/task-ids),
shell commands in `bash -c` (or `sh -c`, as earlier versions wrote them), python tasks as scripts
calling the function (python), artifact paths under the working directory, alerts as hooks and the
exit handler, the CronWorkflow and Sensor companions, the claim of `--option volume` (a compile
option: one W602). What that output cannot carry is `not_carried` below.

The modules, each a job of its own; each reader is a function handed the document's ReadState,
and no module imports the one that calls it (from the bottom up):
* stop: ImportStop, which grades the document manual; shapes: the shape of a workflow document;
* companions: the documents a workflow refers to (in the file, dagshift's files next to it,
  the WorkflowTemplates of its folder); state: ReadState, what one document's readers share
  (the reporter, the templates, the tasks, artifacts and params read so far, the Argo names);
* values: values, arguments, inputs and Argo variables as pipeline text;
* conditions (when and depends), inputs_outputs (inputs and outputs), policies (timeouts, retries, caching,
  synchronization), containers (commands, scripts and python calls, with python), emulated
  (resource and http templates as kubectl and curl tasks);
* leaf: a container, script, suspend, resource or http template as one task;
* alerts: hooks and the exit handler; managed: what dagshift's own output encodes;
* graph: templates and their tasks (dag, steps, loops); settings: the pipeline's own settings;
* document: one workflow document (its spec, metadata and params) read into a pipeline with the
  modules above; importer (this module): a file of documents.
The YAML is read by yaml_read (fast, with its lines).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from compiler.importers import Importer
from compiler.importers.base import Imported, Reporter
from compiler.importers.normalize import artifacts_as_paths
from compiler.importers.shapes import misshapen
from compiler.importers.yaml_read import read_yaml
from compiler.language.ir import Pipeline

from .companions import Companions
from .document import read_document
from .shapes import API_PREFIX, WORKFLOW
from .stop import ImportStop

PIPELINE_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
_DETECT_API = re.compile(r"^\s*apiVersion:\s*['\"]?argoproj\.io/", re.MULTILINE)
_DETECT_KIND = re.compile(r"^\s*kind:\s*['\"]?(Workflow|WorkflowTemplate|ClusterWorkflowTemplate|CronWorkflow)['\"]?"
                          r"\s*(#.*)?$", re.MULTILINE)


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
        "schedule.start_date", "triggers.*.poll_interval",
    )

    def carried(self, pipeline: Pipeline) -> dict[str, Any]:
        """Also as the output holds them: a URI artifact nothing reads is written into the texts as
        the URI itself (Argo has no artifact to pass). A data trigger's poll interval is not
        carried: the EventSource polls, and the Sensor has no interval."""
        data = super().carried(pipeline)
        read = {name for task in pipeline.tasks.values() for name in task.consumes}
        read |= {trigger.artifact for trigger in pipeline.triggers if trigger.artifact}
        written_as_text = [name for name, artifact in pipeline.artifacts.items() if artifact.is_uri and name not in read]
        return artifacts_as_paths(data, written_as_text)

    def detect(self, path: Path, text: str) -> bool:
        if path.suffix not in (".yaml", ".yml", ".json"):
            return False
        return bool(_DETECT_API.search(text) and _DETECT_KIND.search(text))

    def read(self, path: Path, text: str, display: str) -> list[Imported]:
        report = Reporter(display, text)
        try:
            documents = [d for d in read_yaml(text) if d is not None]
        except Exception as exc:  # noqa: BLE001 - ruamel raises several error types for bad YAML
            report.error(f"not valid YAML: {str(exc).splitlines()[0] if str(exc) else exc}", code="E601")
            return [Imported(display, None, report.diagnostics)]
        pipelines = [d for d in documents if _is_pipeline(d)]
        if not pipelines:
            kinds = sorted({str(d.get("kind")) for d in documents if isinstance(d, dict)}) or ["none"]
            report.error(f"no Workflow, WorkflowTemplate or CronWorkflow in the file (kinds: {', '.join(kinds)})",
                         code="E601", help="only workflow documents hold a pipeline")
            return [Imported(display, None, report.diagnostics, holds_pipeline=False)]
        problem = next(filter(None, (misshapen(d, WORKFLOW) for d in pipelines)), None)
        if problem is not None:  # before reading: the reader trusts the kinds Argo's schema gives
            report.error(f"not a valid Argo workflow: {problem.message}", problem.line, code="E601")
            return [Imported(display, None, report.diagnostics)]
        companions = Companions(path, documents)
        results = []
        for index, document in enumerate(pipelines):
            origin = f"document {documents.index(document) + 1}" if len(pipelines) > 1 else ""
            results.append(_read_document(document, companions, display, text, origin))
        return results


IMPORTER = ArgoImporter()


def _is_pipeline(document: Any) -> bool:
    return (isinstance(document, dict) and str(document.get("apiVersion", "")).startswith(API_PREFIX)
            and document.get("kind") in PIPELINE_KINDS)


def _read_document(document: dict, companions: Companions, display: str, text: str, origin: str) -> Imported:
    report = Reporter(display, text)
    try:
        data = read_document(document, companions, report)
    except ImportStop as stop:
        report.error(str(stop), stop.line, help=stop.help)
        data = None
    return Imported(display, data, report.diagnostics, origin, places=report.places)
