"""Text -> IR, keeping the line and column of every key and value.

The YAML is composed into nodes by ruamel.yaml and turned into plain Python data here, so this
module decides what is accepted: duplicate keys are reported (not silently overwritten), alias
expansion and nesting are bounded, custom tags are refused. Nothing here raises on bad input:
every problem is a diagnostic.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML, nodes
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from . import ir
from .diagnostics import Diagnostics, Severity, YamlPath, did_you_mean, format_path
from .source import NodeLoc, SourceFile

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64

_STANDARD_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _STANDARD_TAG + "merge"


@dataclass
class Loaded:
    """The result of loading one file: the pipeline (None when it could not be built)."""

    source: SourceFile
    diagnostics: Diagnostics
    pipeline: ir.Pipeline | None = None
    data: Any = None


class _Stop(Exception):
    """Raised inside the tree builder for problems that end the load (reported by the caller)."""

    def __init__(self, code: str, message: str, node: Any, help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.node, self.help = code, message, node, help


def load_file(path: str | Path, display_name: str | None = None) -> Loaded:
    name = display_name or str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            return _fail(
                SourceFile(name),
                "E001",
                f"the file is {size / 1024 / 1024:.1f} MB; pipeline files are limited to {MAX_FILE_BYTES // 1024 // 1024} MB",
                "a pipeline file describes tasks, not data: move large values into artifacts",
            )
        raw = Path(path).read_bytes()
    except OSError as exc:
        return _fail(SourceFile(name), "E001", f"cannot read the file: {exc.strerror or exc}")
    return load_bytes(raw, name)


def load_bytes(raw: bytes, name: str) -> Loaded:
    if len(raw) > MAX_FILE_BYTES:
        return _fail(SourceFile(name), "E001", f"the input is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n")
        col = exc.start - (before.rfind(b"\n") + 1)
        source = SourceFile(name, raw[: exc.start].decode("utf-8", "replace"))
        return _fail(
            source,
            "E001",
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "pipeline files are YAML or JSON text encoded as UTF-8",
            NodeLoc(line, col),
        )
    return load_text(text, name)


def load_text(text: str, name: str = "<string>") -> Loaded:
    source = SourceFile(name, text)
    diagnostics = Diagnostics()
    if not text.strip():
        return _fail(source, "E001", "the file is empty", "a pipeline needs at least `name:` and `tasks:`")
    yaml_text = text.replace("\t", " ") if name.endswith(".json") else text  # JSON allows tab indents
    try:
        root = YAML(typ="safe", pure=True).compose(yaml_text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        node = NodeLoc(mark.line, mark.column) if mark else None
        return _fail(source, "E002", f"YAML syntax error: {message}", _yaml_help(message), node)
    except YAMLError as exc:
        position = getattr(exc, "position", None)
        node = None
        if isinstance(position, int):
            before = text[:position]
            node = NodeLoc(before.count("\n"), position - (before.rfind("\n") + 1))
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        return _fail(source, "E002", f"YAML syntax error: {reason}", None, node)
    except RecursionError:
        return _fail(source, "E004", f"the data is nested too deeply (more than {MAX_DEPTH} levels)")
    if root is None:
        return _fail(source, "E001", "the file holds no data (only comments or an empty document)",
                     "a pipeline needs at least `name:` and `tasks:`")

    builder = _TreeBuilder(source, diagnostics)
    try:
        data = builder.build(root, (), 0)
    except _Stop as stop:
        diagnostics.add(source.diagnostic(stop.code, Severity.ERROR, stop.message, help=stop.help,
                                          node=_node_loc(stop.node)))
        return Loaded(source, diagnostics)
    if not isinstance(data, dict):
        return _fail(source, "E012", f"the top level must be a mapping with `name:` and `tasks:`, not {_kind(data)}",
                     None, _node_loc(root), diagnostics)

    try:
        pipeline = ir.Pipeline.model_validate(data)
    except ValidationError as exc:
        for diagnostic in _validation_diagnostics(exc, data, source):
            diagnostics.add(diagnostic)
        return Loaded(source, diagnostics, None, data)
    if diagnostics.has_errors:  # duplicate keys: the data is not what the user wrote
        return Loaded(source, diagnostics, None, data)
    return Loaded(source, diagnostics, pipeline, data)


def _fail(source, code, message, help=None, node=None, diagnostics=None) -> Loaded:
    diagnostics = diagnostics or Diagnostics()
    diagnostics.add(source.diagnostic(code, Severity.ERROR, message, help=help, node=node))
    return Loaded(source, diagnostics)


def _yaml_help(message: str) -> str | None:
    if "tab" in message.lower() or "\\t" in message:
        return "YAML indents with spaces, not tabs"
    if "mapping values are not allowed" in message:
        return "quote values that contain ': ', e.g. command: \"echo a: b\""
    if "expected a single document" in message:
        return "a pipeline file holds one YAML document; split the others into their own files"
    if "found character" in message and "'@'" in message or "'`'" in message:
        return "quote the value"
    return None


def _node_loc(node: Any) -> NodeLoc | None:
    mark = getattr(node, "start_mark", None)
    return NodeLoc(mark.line, mark.column, _width(node)) if mark else None


def _width(node: Any) -> int:
    start, end = node.start_mark, node.end_mark
    if isinstance(node, nodes.ScalarNode) and start.line == end.line:
        return max(end.column - start.column, 1)
    return 1


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    return f"{names.get(type(value), 'a ' + type(value).__name__)} ({value!r})"


class _TreeBuilder:
    def __init__(self, source: SourceFile, diagnostics: Diagnostics):
        self.source = source
        self.diagnostics = diagnostics
        self.count = 0
        self.scalars = YAML(typ="safe", pure=True).constructor

    def build(self, node: Any, path: YamlPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Stop("E004", f"the document expands to more than {MAX_NODES:,} values",
                        node, "this is usually an alias bomb (anchors referring to anchors); write the data out")
        if depth > MAX_DEPTH:
            raise _Stop("E004", f"the data is nested more than {MAX_DEPTH} levels deep", node)
        self.source.values.setdefault(path, _node_loc(node))
        tag = node.tag if isinstance(node.tag, str) else str(node.tag)
        if not tag.startswith(_STANDARD_TAG):
            raise _Stop("E005", f"the YAML tag '{tag}' is not supported", node,
                        "remove the tag; pipeline files use plain YAML values")
        if isinstance(node, nodes.ScalarNode):
            return self.scalar(node)
        if isinstance(node, nodes.SequenceNode):
            return [self.build(child, path + (index,), depth + 1) for index, child in enumerate(node.value)]
        return self.mapping(node, path, depth)

    def scalar(self, node: Any) -> Any:
        try:
            value = self.scalars.construct_object(node, deep=True)
        except (YAMLError, ValueError, OverflowError) as exc:
            raise _Stop("E002", f"cannot read the value '{node.value}': {exc}", node) from None
        if isinstance(value, bytes):
            raise _Stop("E005", "binary values are not supported", node)
        return value

    def mapping(self, node: Any, path: YamlPath, depth: int) -> dict:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        key_nodes: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:  # `<<: *base`: explicit keys win over merged ones
                sources = value_node.value if isinstance(value_node, nodes.SequenceNode) else [value_node]
                for source_node in sources:
                    if not isinstance(source_node, nodes.MappingNode):
                        raise _Stop("E012", "`<<` merges a mapping (or a list of mappings)", source_node)
                    for key, value in self.mapping(source_node, path, depth).items():
                        merged.setdefault(key, value)
                continue
            if not isinstance(key_node, nodes.ScalarNode):
                raise _Stop("E012", "mapping keys must be plain text, not lists or mappings", key_node)
            key = str(key_node.value)
            key_path = path + (key,)
            if key in result:
                first = key_nodes[key].start_mark.line + 1
                self.diagnostics.add(
                    self.source.diagnostic(
                        "E003", Severity.ERROR, f"duplicate key '{key}' in {format_path(path) or 'the top level'}",
                        key_path, help=f"'{key}' is first defined on line {first}; remove or rename one",
                        node=_node_loc(key_node),
                    )
                )
                continue
            key_nodes[key] = key_node
            self.source.keys[key_path] = _node_loc(key_node)
            result[key] = self.build(value_node, key_path, depth + 1)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result


# ----------------------------------------------------------------------------- pydantic errors

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "list_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_type": "a date or date-time",
    "datetime_parsing": "a date or date-time",
    "datetime_from_date_parsing": "a date or date-time",
}


def _data_path(loc: tuple, data: Any) -> YamlPath:
    """pydantic's loc, with union-member and validator tags dropped, as a path into the data."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif isinstance(current, (dict, list)) and part not in ("[key]",):
            # A key pydantic mentions that is absent (missing field) or a union tag inside a container.
            if isinstance(part, str) and not _is_tag(part):
                path.append(part)
                current = None
        # tags on scalars are skipped
    return tuple(path)


def _is_tag(part: str) -> bool:
    return (
        part in ("str", "int", "float", "bool", "list", "dict", "none")
        or "[" in part
        or part.startswith(("function-", "json-or-python", "lax-", "strict-"))
        or part[:1].isupper()
    )


def _model_at(path: YamlPath) -> type[BaseModel] | None:
    """The model class whose keys live at `path` (for did-you-mean on unknown keys)."""
    current: Any = ir.Pipeline
    for part in path:
        current = _unwrap_model_or_container(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            current = field.annotation
        elif isinstance(current, tuple) and current[0] in ("dict", "list"):
            current = current[1]
        else:
            return None
    current = _unwrap_model_or_container(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap_model_or_container(annotation: Any) -> Any:
    """Optional[X] / Annotated[X, ...] / Union[Model, ...] -> X; dict[str, X] -> ('dict', X)."""
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            containers = [a for a in args if typing.get_origin(a) in (dict, list)]
            if models:
                annotation = models[0]
            elif containers:
                annotation = containers[0]
            else:
                return None
        elif origin is dict:
            return ("dict", args[1])
        elif origin is list:
            return ("list", args[0])
        else:
            return annotation


# Keys other tools use for the same thing.
_SYNONYMS = {
    "depends": "after", "depends_on": "after", "dependencies": "after", "needs": "after", "upstream": "after",
    "cmd": "command", "run": "command", "script": "command", "bash": "command", "shell": "command",
    "callable": "python", "function": "python", "container": "image", "retry": "retries",
    "inputs": "consumes", "deps": "consumes", "outs": "produces", "if": "when", "condition": "when",
    "parameters": "params", "steps": "tasks", "stages": "tasks", "cron": "schedule",
    "environment": "env", "concurrency": "max_active_tasks", "parallelism": "max_parallel",
    "execution_timeout": "timeout", "default_args": "defaults", "dag_id": "name", "id": "name",
}


def _validation_diagnostics(exc: ValidationError, data: Any, source: SourceFile):
    by_path: dict[YamlPath, list[dict]] = {}
    for error in exc.errors(include_url=False):
        by_path.setdefault(_data_path(error["loc"], data), []).append(error)
    for path, errors in by_path.items():
        yield _one_diagnostic(path, errors, data, source)


def _value_at(data: Any, path: YamlPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _one_diagnostic(path: YamlPath, errors: list[dict], data: Any, source: SourceFile):
    where = format_path(path) or "the top level"
    first = errors[0]
    kind = first["type"]
    if kind == "extra_forbidden":
        model = _model_at(path[:-1])
        key = path[-1]
        allowed = sorted(model.model_fields) if model else []
        synonym = _SYNONYMS.get(str(key).lower())
        help = (
            (f"did you mean '{synonym}'?" if synonym in allowed else None)
            or did_you_mean(str(key), allowed)
            or (f"allowed keys here: {', '.join(allowed)}" if allowed else None)
        )
        owner = format_path(path[:-1]) or "the top level"
        return source.diagnostic("E010", Severity.ERROR, f"unknown key '{key}' in {owner}", path,
                                 help=help, at_key=True)
    if kind == "missing":
        owner = format_path(path[:-1]) or "the top level"
        return source.diagnostic("E011", Severity.ERROR, f"missing required key '{path[-1]}' in {owner}", path[:-1],
                                 help=_missing_help(path), at_key=True)
    value = _value_at(data, path)
    expected = []
    messages = []
    for error in errors:
        if error["type"] in _TYPE_WORDS:
            expected.append(_TYPE_WORDS[error["type"]])
        elif error["type"] in ("enum", "literal_error"):
            expected.append(f"one of {error['ctx']['expected']}")
        elif error["type"] == "value_error":
            messages.append(str(error["ctx"]["error"]))
        else:
            messages.append(error["msg"])
    if messages:
        text = f"{where}: {messages[0]}"
        return source.diagnostic("E013", Severity.ERROR, text, path)
    unique = list(dict.fromkeys(expected))
    expected_text = " or ".join(unique)
    return source.diagnostic("E012", Severity.ERROR, f"{where} must be {expected_text}, not {_kind(value)}", path)


def _missing_help(path: YamlPath) -> str | None:
    if path == ("name",):
        return "add `name: my-pipeline` at the top level"
    if path == ("tasks",):
        return "add `tasks:` with at least one task, e.g. `tasks: {hello: {command: echo hello}}`"
    return None
