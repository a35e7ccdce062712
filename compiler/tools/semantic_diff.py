"""`dagshift diff` as data: what differs between two pipelines, whatever format each is written in.

Each side is read into the IR (a dagshift file as is, a backend's file through its importer) and
brought to one shape before comparing, so that spelling does not count:
- defaults folded and the -O1 optimizer run (redundant `after` edges, constant conditions and
  priorities from estimates are what every compiled output already has);
- when a side comes from a backend format, both sides are rewritten the way that format holds a
  pipeline (`Importer.carried` without its `not_carried` list: artifact names written as paths,
  data edges as order edges...), so only what the format cannot hold remains as a difference;
- edges are compared as the transitive reduction of build_graph's graph (data edges included),
  so a redundant edge or an `after` standing for a data edge is not a change.
Settings are compared generically on the models' plain data (exclude_defaults), so a new IR field
is covered without touching this module.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from compiler.api import check_file, check_text
from compiler.compile import fold_defaults
from compiler.diagnostics import Diagnostic, Diagnostics, Severity
from compiler.importers import Importer, detect, get, import_file, pipeline_yaml
from compiler.importers import formats as import_formats
from compiler.importers.normalize import normalized
from compiler.language.graph import build_graph
from compiler.language.ir import Pipeline, ValueType
from compiler.passes.optimize import optimize
from compiler.passes.rename import renamed_refs

DAGSHIFT = "dagshift"  # the format name of a dagshift pipeline file
PIPELINE_SUFFIXES = (".yaml", ".yml", ".json")
SELECT_SEPARATOR = "::"
_NAMED_ENTRIES = ("params", "artifacts", "outputs", "env", "secrets")  # FILE::NAME picks one pipeline of a file that holds several


@dataclass(frozen=True)
class Change:
    a: Any  # None: not set on that side
    b: Any


@dataclass
class Side:
    """One pipeline to compare, as read from its file."""

    label: str
    pipeline: Pipeline | None
    source_format: str = DAGSHIFT
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


@dataclass
class PipelineDiff:
    a: str
    b: str
    compared_as: tuple[str, ...] = ()  # the backend formats whose shape both sides were brought to
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    changed: dict[str, dict[str, Change]] = field(default_factory=dict)  # task (B's id) -> field path -> change
    edges_added: list[tuple[str, str]] = field(default_factory=list)
    edges_removed: list[tuple[str, str]] = field(default_factory=list)
    pipeline: dict[str, Change] = field(default_factory=dict)  # field path -> change

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.changed or self.edges_added
                    or self.edges_removed or self.pipeline)

    def to_json(self) -> dict[str, Any]:
        """The stable JSON schema of `dagshift diff --format json`."""

        def changes(items: dict[str, Change]) -> dict[str, Any]:
            return {path: {"a": change.a, "b": change.b} for path, change in items.items()}

        return {
            "same": self.same,
            "a": self.a,
            "b": self.b,
            "compared_as": list(self.compared_as),
            "tasks": {
                "added": list(self.added),
                "removed": list(self.removed),
                "renamed": [list(pair) for pair in self.renamed],
                "changed": {task: changes(fields) for task, fields in self.changed.items()},
            },
            "edges": {"added": [list(e) for e in self.edges_added], "removed": [list(e) for e in self.edges_removed]},
            "pipeline": changes(self.pipeline),
        }


# ----------------------------------------------------------------------------- reading a side


def load_side(spec: str, source_format: str | None = None) -> Side:
    """Read `FILE` or `FILE::NAME`: a dagshift pipeline file, or any file an importer reads.
    Problems are diagnostics on the result (pipeline None), never exceptions."""
    path_text, name = _split_spec(spec)
    path = Path(path_text)
    failed = Diagnostics()
    if not path.is_file():
        what = "a directory, not a file" if path_text and path.is_dir() else "no such file"
        failed.add(_error(f"{spec}: {what}",
                          "give the path of a pipeline file (dagshift YAML/JSON, or a backend's file)"))
        return Side(spec, None, diagnostics=failed)
    fmt = source_format or _detected_format(path)
    if fmt is None:
        failed.add(_error(f"{path_text}: not a pipeline file dagshift reads",
                          "diff reads dagshift pipelines (.yaml/.yml/.json), Airflow and Prefect .py files, Argo, "
                          "dvc.yaml and Kubeflow PipelineSpec YAML; name the format with --from-a/--from-b"))
        return Side(spec, None, diagnostics=failed)
    if fmt == DAGSHIFT:
        if name is not None:
            failed.add(_error(f"{spec}: a dagshift pipeline file holds one pipeline",
                              f"drop '{SELECT_SEPARATOR}{name}'"))
            return Side(spec, None, diagnostics=failed)
        loaded = check_file(path, path_text)
        pipeline = None if loaded.diagnostics.has_errors else loaded.pipeline
        return Side(path_text, pipeline, DAGSHIFT, loaded.diagnostics)
    return _imported_side(path, path_text, fmt, name)


def _imported_side(path: Path, path_text: str, fmt: str, name: str | None) -> Side:
    results = import_file(path, fmt, path_text)
    pipelines = [r for r in results if r.holds_pipeline]
    usable = [r for r in pipelines if r.data is not None]
    if name is not None:
        chosen = [r for r in usable if r.name == name]
    else:  # one of several, even if the others failed to import, only by name
        chosen = usable if len(pipelines) == 1 else []
    label = path_text + (f"{SELECT_SEPARATOR}{name}" if name is not None else "")
    if len(chosen) != 1:
        diagnostics = Diagnostics()
        for result in results:
            diagnostics.extend(result.diagnostics.sorted())
        if len(pipelines) > 1 or name is not None:
            names = ", ".join(sorted(r.name for r in usable)) or "none imported"
            what = f"no pipeline named '{name}'" if name is not None else f"{len(pipelines)} pipelines"
            diagnostics.add(_error(f"{path_text}: the file holds {what} (pipelines: {names})",
                                   f"pick one as {path_text}{SELECT_SEPARATOR}NAME"))
        return Side(label, None, fmt, diagnostics)
    imported = chosen[0]
    loaded = check_text(pipeline_yaml(imported), f"{path_text} (imported)")
    diagnostics = imported.diagnostics
    if loaded.diagnostics.has_errors:  # import_file checked it already: an importer bug
        diagnostics.extend(loaded.diagnostics.errors)
        return Side(label, None, fmt, diagnostics)
    return Side(label, loaded.pipeline, fmt, diagnostics)


def _split_spec(spec: str) -> tuple[str, str | None]:
    if SELECT_SEPARATOR in spec:
        path, _, name = spec.rpartition(SELECT_SEPARATOR)
        return path, name
    return spec, None


def _detected_format(path: Path) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return DAGSHIFT if path.suffix in PIPELINE_SUFFIXES else None  # check_file reports why
    importer = detect(path, text)
    if importer is not None:
        return importer.name
    return DAGSHIFT if path.suffix in PIPELINE_SUFFIXES else None


def _error(message: str, help: str) -> Diagnostic:
    return Diagnostic("E601", Severity.ERROR, message, None, (), help)


# ----------------------------------------------------------------------------- comparing


def diff_pipelines(a: Pipeline, b: Pipeline, formats: tuple[str, ...] = (), a_label: str = "A",
                   b_label: str = "B") -> PipelineDiff:
    """What changes from `a` to `b`; `formats` are the backend formats the sides were read from."""
    shapes = tuple(sorted({f for f in formats if f in import_formats()}))
    pa, pb = _comparable(a, shapes), _comparable(b, shapes)
    result = PipelineDiff(a_label, b_label, shapes)
    defs_a, defs_b = _task_definitions(pa), _task_definitions(pb)
    removed = sorted(set(defs_a) - set(defs_b))
    added = sorted(set(defs_b) - set(defs_a))
    renames = _renames(removed, added, defs_a, defs_b)
    if renames:
        pa = _with_renamed_tasks(pa, renames)
        defs_a = _task_definitions(pa)
    result.renamed = sorted(renames.items())
    result.removed = [t for t in removed if t not in renames]
    result.added = [t for t in added if t not in renames.values()]
    for task_id in sorted(set(defs_a) & set(defs_b)):
        changes = _changes(defs_a[task_id], defs_b[task_id])
        if changes:
            result.changed[task_id] = changes
    edges_a, edges_b = _edges(pa), _edges(pb)
    result.edges_removed = sorted(edges_a - edges_b)
    result.edges_added = sorted(edges_b - edges_a)
    result.pipeline = _changes(_pipeline_settings(pa), _pipeline_settings(pb))
    return result


def diff_sides(a: Side, b: Side) -> PipelineDiff:
    assert a.pipeline is not None and b.pipeline is not None
    return diff_pipelines(a.pipeline, b.pipeline, (a.source_format, b.source_format), a.label, b.label)


def _comparable(pipeline: Pipeline, shapes: tuple[str, ...]) -> Pipeline:
    comparable = _typed_params(optimize(fold_defaults(pipeline), 1).pipeline)
    for name in shapes:
        comparable = Pipeline.model_validate(_shape_only(get(name)).carried(comparable))
    return comparable


def _typed_params(pipeline: Pipeline) -> Pipeline:
    """Every param's type written out (`type: int` and a default of 5 say the same), and a float
    param's whole-number default as a float (1 and 1.0)."""
    params = {}
    for name, param in pipeline.params.items():
        update: dict[str, Any] = {"type": param.value_type}
        if param.value_type is ValueType.FLOAT and type(param.default) is int:
            update["default"] = float(param.default)
        params[name] = param.model_copy(update=update)
    return pipeline.model_copy(update={"params": params})


def _shape_only(importer: Importer) -> Importer:
    """The importer's rewrite of a pipeline into the shape its format holds, keeping the fields it
    cannot carry (a diff must show those)."""
    shaped = copy.copy(importer)
    shaped.not_carried = ()
    return shaped


def _task_definitions(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    """Each task's settings as plain data; `after` is left to the edge comparison."""
    tasks = normalized(pipeline).get("tasks", {})
    for task in tasks.values():
        task.pop("after", None)
    return tasks


def _pipeline_settings(pipeline: Pipeline) -> dict[str, Any]:
    data = normalized(pipeline)
    data.pop("tasks", None)
    return data


def _edges(pipeline: Pipeline) -> set[tuple[str, str]]:
    return set(nx.transitive_reduction(build_graph(pipeline)).edges)


def _renames(removed: list[str], added: list[str], defs_a: dict[str, Any], defs_b: dict[str, Any]) -> dict[str, str]:
    """A removed task and an added task with the same definition are one task renamed (paired in
    sorted order when several match)."""
    free = list(added)
    renames = {}
    for old in removed:
        key = _canonical(defs_a[old])
        match = next((new for new in free if _canonical(defs_b[new]) == key), None)
        if match is not None:
            renames[old] = match
            free.remove(match)
    return renames


def _with_renamed_tasks(pipeline: Pipeline, renames: dict[str, str]) -> Pipeline:
    """`pipeline` with the tasks renamed, and references to them (after, else_of, outputs) too."""
    tasks = {renames.get(task_id, task_id): renamed_refs(task, renames) for task_id, task in pipeline.tasks.items()}
    return pipeline.model_copy(update={"tasks": tasks})


def _changes(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> dict[str, Change]:
    """Field path -> change, down into mappings present on both sides; values compare by their
    JSON text (so 1, 1.0 and true differ)."""
    changes = {}
    for key in sorted(set(a) | set(b), key=str):
        value_a, value_b = a.get(key), b.get(key)
        if not prefix and key in _NAMED_ENTRIES:  # one line per param, env var... even when all are new
            value_a, value_b = value_a or {}, value_b or {}
        if _canonical(value_a) == _canonical(value_b):
            continue
        path = f"{prefix}{key}"
        if isinstance(value_a, dict) and isinstance(value_b, dict):
            changes.update(_changes(value_a, value_b, path + "."))
        else:
            changes[path] = Change(value_a, value_b)
    return changes


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
