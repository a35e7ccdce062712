"""Strict offline validation of Argo Workflows YAML against Argo's own JSON schema.

Argo publishes `api/jsonschema/schema.json`; tests/backends/argo/schemas/ holds it at two tags (vendored,
Apache-2.0: see its README.md), so these checks run on every clone. Two things make the file
unusable as it stands (see ../shared/docs/BACKENDS.md, "Offline validation"):

- its top-level `oneOf` fails for every Workflow (a Workflow also matches the template kinds), so
  each document is validated against its own kind's definition instead;
- no object sets `additionalProperties: false`, so a misspelled key (`dependz:`) passes and Argo
  silently ignores it. `strict_definitions` closes every object that lists its `properties`.

The schema knows Argo's kinds only; a core ConfigMap (semaphore limits, memoize caches) is added
here from the Kubernetes API, so every document of the generated output is checked.

YAML is read the way Argo reads it: sigs.k8s.io/yaml is YAML 1.1 (`yes`/`on` are booleans, `0755`
is octal), so documents are loaded with YAML 1.1 rules; `ambiguous_scalars` reports where a YAML
1.2 reader (ruamel's default, the compiler's own) would see something else.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML

SCHEMAS = Path(__file__).resolve().parent / "schemas"
VERSIONS = ("v3.7.18", "v4.1.2")

# Keywords whose value is one schema, a list of schemas, or a name -> schema map. Everything else
# (enum, const, default, examples, x-kubernetes-*) is data and is never rewritten.
_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "additionalItems")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")


# Kubernetes core/v1 ConfigMap (not in Argo's schema): every data value is a string.
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
EXTRA_DEFINITIONS = {
    "io.k8s.api.core.v1.ConfigMap": {
        "type": "object",
        "required": ["metadata"],
        "properties": {
            "apiVersion": {"type": "string", "const": "v1"},
            "kind": {"type": "string", "const": "ConfigMap"},
            "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
            "data": _STRING_MAP,
            "binaryData": _STRING_MAP,
            "immutable": {"type": "boolean"},
        },
        "x-kubernetes-group-version-kind": [{"group": "", "kind": "ConfigMap", "version": "v1"}],
    },
}


def schema_path(version: str) -> Path:
    return SCHEMAS / f"schema-{version}.json"


@cache
def _schema(version: str) -> dict[str, Any]:
    if version not in VERSIONS:
        raise ValueError(f"unknown Argo schema version {version!r}; known: {', '.join(VERSIONS)}")
    return json.loads(schema_path(version).read_text(encoding="utf-8"))


def strict_definitions(definitions: dict[str, Any]) -> dict[str, Any]:
    """A copy where every object schema with `properties` and no `additionalProperties` rejects
    keys it does not list, at any depth (inline nested objects too). Maps (an
    `additionalProperties` schema, e.g. labels) and free-form objects (no `properties`) stay open."""
    strict = copy.deepcopy(definitions)
    for schema in strict.values():
        _close(schema)
    return strict


def _close(schema: Any) -> None:
    if isinstance(schema, list):  # old-style tuple `items`
        for item in schema:
            _close(item)
        return
    if not isinstance(schema, dict):
        return  # boolean schemas
    if "properties" in schema and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    for key in _ONE:
        if key in schema:
            _close(schema[key])
    for key in _LIST:
        for item in schema.get(key, ()):
            _close(item)
    for key in _MAP:
        for item in (schema.get(key) or {}).values():
            _close(item)


@cache
def kinds(version: str) -> dict[tuple[str, str], str]:
    """(apiVersion, kind) -> definition name, for every top-level resource the schema describes
    (the definitions carrying x-kubernetes-group-version-kind)."""
    found = {}
    for name, definition in definitions(version).items():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
            found[(api_version, gvk["kind"])] = name
    return found


@cache
def _validator(version: str, definition: str, strict: bool) -> jsonschema.protocols.Validator:
    schema = {"$schema": _schema(version)["$schema"], "$ref": f"#/definitions/{definition}",
              "definitions": definitions(version, strict=strict)}
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@cache
def definitions(version: str, *, strict: bool = False) -> dict[str, Any]:
    """Argo's definitions at VERSION plus EXTRA_DEFINITIONS; closed by strict_definitions if strict."""
    found = {**EXTRA_DEFINITIONS, **_schema(version)["definitions"]}
    return strict_definitions(found) if strict else found


def definition_for(document: dict[str, Any], version: str) -> str | None:
    """The schema definition of a document's kind, or None when the schema has no such kind."""
    return kinds(version).get((document.get("apiVersion"), document.get("kind")))


def errors(document: Any, version: str, *, strict: bool = True) -> list[str]:
    """Every schema error of one YAML document, as `path: message` lines (empty when valid).

    The document is checked against its own kind's definition; a kind the schema does not
    describe is an error too. `strict=False` uses Argo's schema unchanged."""
    if not isinstance(document, dict):
        return [f"<document>: expected a mapping, got {type(document).__name__}"]
    definition = definition_for(document, version)
    if definition is None:
        kind = f"apiVersion {document.get('apiVersion')!r} kind {document.get('kind')!r}"
        return [f"<document>: {kind} has no definition in the Argo {version} schema"]
    found = _validator(version, definition, strict).iter_errors(document)
    return [f"{format_path(error.absolute_path)}: {error.message}"
            for error in sorted(found, key=lambda e: [str(p) for p in e.absolute_path])]


def format_path(path: Iterable[str | int]) -> str:
    """`spec.templates[0].dag.tasks[1]`: the path as a reader would write it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<document>"


# ----------------------------------------------------------------------------- reading YAML


def _reader(version: tuple[int, int] | None) -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = version
    return yaml


def load_documents(path: Path) -> list[Any]:
    """The non-empty documents of a YAML file, read with YAML 1.1 rules as Argo reads them."""
    return [doc for doc in _reader((1, 1)).load_all(path.read_text(encoding="utf-8")) if doc is not None]


def ambiguous_scalars(path: Path) -> list[str]:
    """Paths whose value differs between a YAML 1.1 reading (Argo, kubectl, PyYAML) and a YAML
    1.2 one: an unquoted `yes`, `on`, `0755`... means one thing to Argo and another to the
    compiler's tools. Empty when both readings agree."""
    text = path.read_text(encoding="utf-8")
    old = [d for d in _reader((1, 1)).load_all(text) if d is not None]
    new = [d for d in _reader(None).load_all(text) if d is not None]
    if len(old) != len(new):
        return [f"<file>: {len(old)} documents under YAML 1.1, {len(new)} under YAML 1.2"]
    found: list[str] = []
    for index, (a, b) in enumerate(zip(old, new)):
        _diff(a, b, [f"<document {index}>"], found)
    return found


def _diff(a: Any, b: Any, path: list[str | int], found: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        for key in a:
            _diff(a[key], b[key], [*path, key], found)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, [*path, index], found)
    elif type(a) is not type(b) or a != b:
        found.append(f"{format_path(path)}: YAML 1.1 reads {a!r}, YAML 1.2 reads {b!r}")
