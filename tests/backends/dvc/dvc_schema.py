"""Offline validation of `dvc.yaml` documents against the official dvc.yaml JSON schema.

The external corpus (../shared/corpus/dvc, found by tests/external_corpus.py) holds `schema.json`
from iterative/dvcyaml-schema @f563c18; tests that use it are marked `corpus`. Unlike Argo's schema
(tests/backends/argo/schema.py), it is already strict: every object schema that lists `properties` sets
`additionalProperties: false`, so a misspelled stage key (`dep:` for `deps:`) is an error, as it
is for DVC itself ("extra keys not allowed"). `open_objects` proves that, so nothing here closes
the schema; should a newer schema file come open, the tests say so.

A stage is `oneOf` ForeachDo / Matrix / Stage, and a failed `oneOf` only says "is not valid under
any of the given schemas"; `errors` reports the problems of the branch DVC itself would pick
(`foreach` -> ForeachDo, `matrix` -> Matrix, else Stage) instead.

Documents are read as DVC reads them: ruamel.yaml's safe loader, YAML 1.2
(dvc/utils/serialize/_yaml.py: parse_yaml).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import external_corpus
import jsonschema
from ruamel.yaml import YAML

# Keywords whose value is one schema, a list of schemas, or a name -> schema map.
_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "additionalItems")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")


@cache
def schema() -> dict[str, Any]:
    return json.loads(external_corpus.path("dvc", "schema.json").read_text(encoding="utf-8"))


@cache
def _validator(definition: str | None) -> jsonschema.protocols.Validator:
    """The whole document's validator, or one definition's (e.g. "Stage")."""
    document = schema()
    target = document if definition is None else {"$ref": f"#/definitions/{definition}",
                                                   "definitions": document["definitions"]}
    cls = jsonschema.validators.validator_for(target)  # no $schema: the latest draft
    cls.check_schema(target)
    return cls(target)


def open_objects(node: Any = None, path: str = "#") -> list[str]:
    """Where the schema has an object that lists `properties` yet accepts other keys."""
    node = schema() if node is None else node
    found: list[str] = []
    if isinstance(node, list):
        for index, item in enumerate(node):
            found += open_objects(item, f"{path}/{index}")
        return found
    if not isinstance(node, dict):
        return found
    if "properties" in node and node.get("additionalProperties") is not False:
        found.append(path)
    for key in _ONE:
        if key in node:
            found += open_objects(node[key], f"{path}/{key}")
    for key in _LIST:
        for index, item in enumerate(node.get(key, ())):
            found += open_objects(item, f"{path}/{key}/{index}")
    for key in _MAP:
        for name, item in (node.get(key) or {}).items():
            found += open_objects(item, f"{path}/{key}/{name}")
    return found


def stage_kind(stage: Any) -> str:
    """The schema definition DVC's own loader picks for a stage body (dvc/parsing make_definition)."""
    if isinstance(stage, dict) and "matrix" in stage:
        return "Matrix"
    if isinstance(stage, dict) and "foreach" in stage:
        return "ForeachDo"
    return "Stage"


def errors(document: Any) -> list[str]:
    """Every schema error of one dvc.yaml document, as sorted `path: message` lines (empty when valid)."""
    found: list[str] = []
    for error in _validator(None).iter_errors(document):
        path = list(error.absolute_path)
        if error.validator == "oneOf" and len(path) == 2 and path[0] == "stages":
            kind = stage_kind(error.instance)
            branch = [f"{format_path([*path, *e.absolute_path])}: {e.message} ({kind})"
                      for e in _validator(kind).iter_errors(error.instance)]
            if branch:  # else the stage matched two branches: report the oneOf error itself
                found += branch
                continue
        found.append(f"{format_path(path)}: {error.message}")
    return sorted(found)


def format_path(path: Iterable[str | int]) -> str:
    """`stages.train.outs[0]`: the path as a reader would write it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<document>"


def load(path: Path) -> Any:
    """A dvc.yaml (or params.yaml) as DVC reads it: ruamel safe loader, YAML 1.2."""
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def corpus_files(folder: str = "files") -> Iterator[Path]:
    """The corpus's dvc.yaml files in FOLDER (files, invalid or malformed), by name."""
    yield from sorted(p for p in external_corpus.path("dvc", folder).iterdir() if p.is_file())
