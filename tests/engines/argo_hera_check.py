"""Runs inside the hera engine venv (scripts/engines/hera.txt): read Argo YAML files through hera's
generated models and report everything that does not come back exactly. Prints one JSON report.

    python argo_hera_check.py FILE...

For every document: pick hera's model by kind, `model_validate` it (pydantic, Kubernetes field
aliases), dump it the way hera writes YAML (`model_dump(by_alias=True, exclude_none=True)`, as
`Workflow.to_dict()` does) and compare with the input, types included (`3` is not `"3"`). The
models ignore unknown keys, so the comparison is what catches a misspelled or unsupported field:
it comes back missing.

Argo Events Sensors: hera's Sensor model has no apiVersion/kind (matched by hand) and types some
fields after the Go structs rather than their YAML form: a trigger's inline `source.resource`
({value: base64}) is taken out and checked as a document of its own, under its path in the Sensor;
Backoff `duration` (Int64OrString) and `factor`/`jitter` (Amount) are taken out and type-checked
here.

Documents of other API groups (a core ConfigMap) have no hera model: they are listed with a
`skipped` reason (tests/backends/argo validates them against the schema).

Report: {FILE: {"documents": [{"kind", "path", "differences": [...], "skipped"?}], "error": str|null}};
each difference is {"path", "problem", "input", "hera"}.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

API = "argoproj.io/v1alpha1"
_MISSING = "<absent>"


def models() -> dict[tuple[str, str], Any]:
    from hera.workflows import models as workflows

    found = {(API, name): getattr(workflows, name) for name in
             ("Workflow", "CronWorkflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "WorkflowEventBinding")
             if hasattr(workflows, name)}
    try:
        from hera.events import models as events
    except ImportError:  # hera without the Argo Events models
        return found
    for name in ("Sensor", "EventSource"):
        if hasattr(events, name):
            found[(API, name)] = getattr(events, name)
    return found


def differences(given: Any, dumped: Any, path: str = "") -> list[dict[str, Any]]:
    """Every place where the dump is not the input, with exact types (True is not 1)."""
    if isinstance(given, dict) and isinstance(dumped, dict):
        found = []
        for key in sorted(set(given) | set(dumped), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in dumped:
                found.append(_difference(sub, "dropped by hera", given[key], _MISSING))
            elif key not in given:
                found.append(_difference(sub, "added by hera", _MISSING, dumped[key]))
            else:
                found += differences(given[key], dumped[key], sub)
        return found
    if isinstance(given, list) and isinstance(dumped, list):
        if len(given) != len(dumped):
            return [_difference(path, f"{len(given)} items in, {len(dumped)} out", given, dumped)]
        return [d for i, (a, b) in enumerate(zip(given, dumped)) for d in differences(a, b, f"{path}[{i}]")]
    if type(given) is not type(dumped):
        return [_difference(path, f"type {type(given).__name__} became {type(dumped).__name__}", given, dumped)]
    if given != dumped:
        return [_difference(path, "value changed", given, dumped)]
    return []


def _difference(path: str, problem: str, given: Any, dumped: Any) -> dict[str, Any]:
    return {"path": path or "<document>", "problem": problem, "input": given, "hera": dumped}


def check_document(document: Any, path: str, known: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    """One result per checked resource: the document, then any resource it carries inline."""
    from pydantic import ValidationError

    if not isinstance(document, dict):
        return [{"kind": None, "path": path, "differences": [_difference(path, "not a mapping", document, None)]}]
    kind = (document.get("apiVersion"), document.get("kind"))
    model = known.get(kind)
    if model is None and not str(kind[0]).startswith("argoproj.io/"):
        return [{"kind": kind[1], "path": path, "differences": [], "skipped": f"not an Argo resource ({kind[0]})"}]
    if model is None:
        problem = f"no hera model for apiVersion {kind[0]!r} kind {kind[1]!r}"
        return [{"kind": kind[1], "path": path, "differences": [_difference(path, problem, None, None)]}]
    given, inline, by_hand = copy.deepcopy(document), [], []
    if "api_version" not in model.model_fields:  # hera's Argo Events models; `kind` matched above
        del given["apiVersion"], given["kind"]
    if kind[1] == "Sensor":
        inline = _take_inline_resources(given)
        by_hand = _take_backoff_numbers(given)
    try:
        dumped = model.model_validate(given).model_dump(by_alias=True, exclude_none=True)
    except ValidationError as error:
        found = [_difference(_loc(e["loc"]), f"rejected: {e['msg']}", e.get("input"), None) for e in error.errors()]
    else:
        found = differences(given, dumped)
    found += _backoff_problems(by_hand)
    for item in found:
        item["path"] = f"{path}:{item['path']}"
    results = [{"kind": kind[1], "path": path, "differences": found}]
    for where, resource in inline:
        results += check_document(resource, f"{path}:{where}", known)
    return results


def _loc(parts: tuple[Any, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _take_inline_resources(sensor: dict[str, Any]) -> list[tuple[str, Any]]:
    taken = []
    for index, trigger in enumerate((sensor.get("spec") or {}).get("triggers") or []):
        source = (((trigger or {}).get("template") or {}).get("argoWorkflow") or {}).get("source")
        if isinstance(source, dict) and isinstance(source.get("resource"), dict):
            taken.append((f"spec.triggers[{index}].template.argoWorkflow.source.resource", source.pop("resource")))
    return taken


# Argo Events Backoff fields typed after the Go struct in hera's Sensor model, with the JSON form
# Argo Events reads: Int64OrString is a bare integer or string ("3s"), Amount a bare number.
_BACKOFF_KEYS = ("retryStrategy", "backoff", "connectionBackoff")
_BACKOFF_NUMBERS = {"duration": ((int, str), "an integer or a string"), "factor": ((int, float), "a number"),
                    "jitter": ((int, float), "a number")}


def _take_backoff_numbers(node: Any, path: str = "") -> list[tuple[str, Any, str]]:
    """(path, value, name) of every Backoff number, removed from the document."""
    taken = []
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            if key in _BACKOFF_KEYS and isinstance(value, dict):
                for name in _BACKOFF_NUMBERS:
                    if name in value:
                        taken.append((f"{sub}.{name}", value.pop(name), name))
            taken += _take_backoff_numbers(value, sub)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            taken += _take_backoff_numbers(item, f"{path}[{index}]")
    return taken


def _backoff_problems(taken: list[tuple[str, Any, str]]) -> list[dict[str, Any]]:
    found = []
    for where, value, name in taken:
        types, wanted = _BACKOFF_NUMBERS[name]
        if isinstance(value, bool) or not isinstance(value, types):
            found.append(_difference(where, f"must be {wanted} (hera cannot read this field's YAML form)", value,
                                     None))
    return found


def check_file(name: str, known: dict[tuple[str, str], Any]) -> dict[str, Any]:
    import yaml  # PyYAML reads YAML 1.1, as Argo (sigs.k8s.io/yaml) does

    try:
        with open(name, encoding="utf-8") as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d is not None]
    except (OSError, yaml.YAMLError) as error:
        return {"documents": [], "error": f"{type(error).__name__}: {error}"}
    results = []
    for index, document in enumerate(documents):
        results += check_document(document, f"document {index}", known)
    return {"documents": results, "error": None if documents else "no YAML document"}


def main(names: list[str]) -> int:
    known = models()
    report = {name: check_file(name, known) for name in names}
    print(json.dumps(report, default=repr, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
