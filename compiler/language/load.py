"""Text -> IR, keeping the line and column of every key and value.

The YAML is composed into nodes by ruamel.yaml and turned into plain Python data here, so this
module decides what is accepted: duplicate keys are reported (not silently overwritten), alias
expansion and nesting are bounded, custom tags are refused. Nothing here raises on bad input:
every problem is a diagnostic.
"""

from __future__ import annotations

import re
import sys
import typing
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML, nodes
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from compiler.diagnostics import Diagnostics, Severity, YamlPath, did_you_mean, format_path
from compiler.gc_pause import without_gc

from . import ir
from .source import NodeLoc, SourceFile
from .values import timezone_names

MAX_FILE_BYTES = 5 * 1024 * 1024
# A 30,000-task pipeline has about 225,000 values; aliases may not expand a small file past this bound.
MAX_NODES = 1_000_000
MAX_DEPTH = 64

_STANDARD_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _STANDARD_TAG + "merge"
# The YAML 1.2 core schema, timestamps (dates) and the merge key. Everything else (`!!python/...`,
# `!!binary`, `!!set`, `!!omap`, local `!tags`) is refused.
_ACCEPTED_TAGS = {_STANDARD_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")}
_SURROGATE = re.compile("[\ud800-\udfff]")


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


STDIN = "-"  # as a file argument: read the pipeline from standard input


def load_file(path: str | Path, display_name: str | None = None) -> Loaded:
    if str(path) == STDIN:
        return load_bytes(sys.stdin.buffer.read(MAX_FILE_BYTES + 1), display_name or "<stdin>")
    name = display_name or str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            return _fail(
                SourceFile(name),
                "E001",
                f"the file is {size / 1024 / 1024:.1f} MB; pipeline files are limited to {MAX_FILE_BYTES // 1024 // 1024} MB",
                _SIZE_HELP,
            )
        with open(path, "rb") as handle:  # bounded: a device or a pipe reports no size (/dev/zero)
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return _fail(SourceFile(name), "E001", f"cannot read the file: {exc.strerror or exc}")
    return load_bytes(raw, name)


def load_bytes(raw: bytes, name: str) -> Loaded:
    if len(raw) > MAX_FILE_BYTES:
        return _fail(SourceFile(name), "E001", f"the input is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _fail(SourceFile(name), "E001", "the file is UTF-16 text; pipeline files are UTF-8",
                     "save the file as UTF-8 (most editors offer the encoding under 'Save as')")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the bad byte is valid UTF-8: count lines and columns in characters.
        before = raw[: exc.start].decode("utf-8")
        source = SourceFile(name, before + "\n")
        return _fail(
            source,
            "E001",
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "pipeline files are YAML or JSON text encoded as UTF-8",
            _position(before, len(before)),
        )
    return load_text(text, name)


@without_gc
def load_text(text: str, name: str = "<string>") -> Loaded:
    source = SourceFile(name, text)
    diagnostics = Diagnostics()
    if not text.strip():
        return _fail(source, "E001", "the file is empty", "a pipeline needs at least `name:` and `tasks:`")
    yaml_text = text.replace("\t", " ") if name.endswith(".json") else text  # JSON allows tab indents
    try:
        with warnings.catch_warnings():  # e.g. ReusedAnchorWarning: legal YAML, not our business
            warnings.simplefilter("ignore")
            root = _compose(yaml_text)
    except _TooMany as exc:
        return _fail(source, "E004", f"the document has more than {MAX_NODES:,} values", _SIZE_HELP,
                     NodeLoc(exc.mark.line, exc.mark.column) if exc.mark else None)
    except _TooDeep as exc:
        return _fail(source, "E004", f"the data is nested more than {MAX_DEPTH} levels deep", _DEPTH_HELP,
                     NodeLoc(exc.mark.line, exc.mark.column) if exc.mark else None)
    except MarkedYAMLError as exc:
        message, help, node = _yaml_error(exc, source)
        return _fail(source, "E002", f"YAML syntax error: {message}", help, node)
    except YAMLError as exc:  # the reader: characters YAML does not allow
        position = getattr(exc, "position", None)
        node = _position(text, position) if isinstance(position, int) else None
        character = getattr(exc, "character", None)
        if isinstance(character, int):
            return _fail(source, "E002", f"the file contains the control character U+{character:04X}, which YAML "
                                         "does not allow", "remove it; pipeline files are plain text", node)
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        return _fail(source, "E002", f"YAML syntax error: {reason}", None, node)
    except RecursionError:  # not expected (the composer stops at MAX_DEPTH), kept as a safety net
        return _fail(source, "E004", f"the data is nested more than {MAX_DEPTH} levels deep", _DEPTH_HELP)
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
    if data is _DROP:
        return Loaded(source, diagnostics)
    if data is None:  # `---`, `null`, `~`: a document with nothing in it
        return _fail(source, "E001", "the file holds no data (only comments or an empty document)",
                     "a pipeline needs at least `name:` and `tasks:`", diagnostics=diagnostics)
    if not isinstance(data, dict):
        help = "a pipeline file is one mapping: `name: my-pipeline` and `tasks:` at the top level"
        if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
            help += "; remove the leading `- ` (a list of pipelines is not supported: use one file per pipeline)"
        return _fail(source, "E012", f"the top level must be a mapping with `name:` and `tasks:`, not {_kind(data)}",
                     help, _node_loc(root), diagnostics)

    try:
        pipeline = ir.Pipeline.model_validate(data)
    except ValidationError as exc:
        for diagnostic in _validation_diagnostics(exc, data, source, skip=builder.reported):
            diagnostics.add(diagnostic)
        return Loaded(source, diagnostics, None, data)
    if diagnostics.has_errors:  # duplicate keys: the data is not what the user wrote
        return Loaded(source, diagnostics, None, data)
    return Loaded(source, diagnostics, pipeline, data)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _position(text: str, offset: int) -> NodeLoc:
    """The line and column of a character offset, with YAML's line breaks (as ruamel's marks count
    them): \\n, \\r\\n and \\r only."""
    breaks = list(_LINE_BREAK.finditer(text, 0, offset))
    if not breaks:
        return NodeLoc(0, offset)
    return NodeLoc(len(breaks), offset - breaks[-1].end())


def _fail(source, code, message, help=None, node=None, diagnostics=None) -> Loaded:
    diagnostics = diagnostics or Diagnostics()
    diagnostics.add(source.diagnostic(code, Severity.ERROR, message, help=help, node=node))
    return Loaded(source, diagnostics)


_SIZE_HELP = "a pipeline file describes tasks, not data: move large values into artifacts"
_DEPTH_HELP = "a pipeline file needs a few levels of nesting; this looks like generated or corrupted data"


class _TooDeep(Exception):
    def __init__(self, mark: Any):
        super().__init__("nested too deeply")
        self.mark = mark


class _TooMany(_TooDeep):
    pass


# Files at least this big are parsed by libyaml (ruamel.yaml.clib) and its events composed into the
# same nodes (_compose_events): several times faster on a big pipeline. Any problem there, and every
# smaller file, goes through ruamel's pure-Python parser, whose messages the diagnostics rely on.
FAST_PARSE_BYTES = 64 * 1024


def _compose(yaml_text: str) -> Any:
    if len(yaml_text) >= FAST_PARSE_BYTES:
        try:
            return _compose_fast(yaml_text)
        except (_TooMany, _TooDeep):
            raise  # our own limits, with positions: the same whichever parser read the events
        except Exception:  # noqa: BLE001 - anything else: the exact parser below reports it
            pass
    yaml = YAML(typ="safe", pure=True)
    yaml.Composer = _DepthLimitedComposer
    return yaml.compose(yaml_text)


def _compose_fast(yaml_text: str) -> Any:
    from types import SimpleNamespace

    from _ruamel_yaml import CParser  # ruamel.yaml.clib
    from ruamel.yaml.resolver import VersionedResolver

    # `_scanner` answers the resolver's question for the YAML version (None: the default, 1.2)
    # without the AttributeError it would otherwise raise and catch for every scalar.
    # `_scanner` answers the resolver's question for the YAML version (None: the default, 1.2).
    loader = SimpleNamespace(_scanner=SimpleNamespace(yaml_version=None))
    return _compose_events(CParser(yaml_text), VersionedResolver(loader=loader))


def _compose_events(parser: Any, resolver: Any) -> Any:
    """The nodes ruamel's Composer (with _DepthLimitedComposer's limits) builds from the same
    events, built in a loop instead of by recursion. Explicit tags, several documents, anything
    unusual: an exception, and the caller falls back to the pure parser."""
    from ruamel.yaml import events

    scalar_tags: dict[tuple, Any] = {}  # resolving a plain scalar's type is the slow part: once per text
    anchors: dict[str, Any] = {}
    stack: list[list] = []  # [collection, pending mapping key] of the open collections, innermost last
    written = 0
    for expected in (events.StreamStartEvent, events.DocumentStartEvent):
        if not isinstance(parser.get_event(), expected):
            raise ValueError("unexpected start of stream")
    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
            node = stack.pop()[0]
            node.end_mark = event.end_mark
            if stack:
                continue
            break
        written += 1
        if written > MAX_NODES:
            raise _TooMany(event.start_mark)
        if len(stack) > MAX_DEPTH:
            raise _TooDeep(event.start_mark)
        if kind is events.AliasEvent:
            node = anchors[event.anchor]
        elif event.ctag is not None and str(event.ctag) != "!":
            raise ValueError("explicit tag")
        elif kind is events.ScalarEvent:
            key = (event.value, event.implicit)
            if key not in scalar_tags:
                scalar_tags[key] = resolver.resolve(nodes.ScalarNode, event.value, event.implicit)
            node = nodes.ScalarNode(scalar_tags[key], event.value, event.start_mark, event.end_mark,
                                    style=event.style or None, anchor=event.anchor)
        elif kind is events.MappingStartEvent:
            node = nodes.MappingNode(resolver.resolve(nodes.MappingNode, None, event.implicit), [],
                                     event.start_mark, None, flow_style=event.flow_style, anchor=event.anchor)
        elif kind is events.SequenceStartEvent:
            node = nodes.SequenceNode(resolver.resolve(nodes.SequenceNode, None, event.implicit), [],
                                      event.start_mark, None, flow_style=event.flow_style, anchor=event.anchor)
        else:
            raise ValueError(f"unexpected {kind.__name__}")
        if kind is not events.AliasEvent and event.anchor is not None:
            anchors[event.anchor] = node
        if stack:
            _attach(stack[-1], node)
        if kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
            stack.append([node, None])
        elif not stack:
            break  # the document is one scalar
    if not isinstance(parser.get_event(), events.DocumentEndEvent) or \
            not isinstance(parser.get_event(), events.StreamEndEvent):
        raise ValueError("more than one document")
    return node


def _attach(parent: list, node: Any) -> None:
    """Add `node` to the open collection `parent` ([collection, pending key])."""
    collection, key = parent
    if not isinstance(collection, nodes.MappingNode):
        collection.value.append(node)
    elif key is None:
        parent[1] = node
    else:
        collection.value.append((key, node))
        parent[1] = None


class _DepthLimitedComposer(Composer):
    """ruamel's composer recurses once per nesting level: stop (with a position) before Python does.
    It also stops at MAX_NODES written nodes, so a huge file is refused before all of it is parsed."""

    _level = 0
    _nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._level += 1
        self._nodes += 1
        try:
            if self._level > MAX_DEPTH + 1:  # the root is level 1, and depth 0 for the tree builder
                raise _TooDeep(getattr(self.parser.peek_event(), "start_mark", None))
            if self._nodes > MAX_NODES:
                raise _TooMany(getattr(self.parser.peek_event(), "start_mark", None))
            return super().compose_node(parent, index)
        finally:
            self._level -= 1


_FOUND_WORDS = {
    "'<scalar>'": "a value",
    "'<stream end>'": "the end of the file",
    "'<block mapping start>'": "a `key: value` entry",
    "'?'": "a `key: value` entry",
    "'<block sequence start>'": "a list",
    "'-'": "a list item `- ...`",
    "'<block end>'": "the end of a block",
}


def _yaml_error(exc: MarkedYAMLError, source: SourceFile) -> tuple[str, str | None, NodeLoc | None]:
    """ruamel's message, tidied, with a help line for the common slips and a position on real text."""
    problem = exc.problem or exc.context or "invalid YAML"
    problem = re.sub(r"\(('<[a-z ]+>'),\)", r"\1", problem)  # "found ('<scalar>',)" -> "found '<scalar>'"
    context, context_mark, problem_mark = exc.context or "", exc.context_mark, exc.problem_mark
    has_text = context_mark is not None and bool((source.line_text(context_mark.line) or "").strip())
    context_line = context_mark.line + 1 if has_text else None
    help = None
    mark = problem_mark or context_mark
    if "tab" in problem.lower() or "\\t" in problem:
        help = "YAML uses spaces, not tabs, to indent and to separate `key:` from its value"
    elif "mapping values are not allowed" in problem:
        help = "quote values that contain ': ', e.g. command: \"echo a: b\""
    elif "another document" in problem or "single document" in context:
        problem = "the file holds more than one YAML document (a second one starts here)"
        help = "a pipeline file holds one YAML document; split the others into their own files"
    elif "cannot start any token" in problem:
        char = re.search(r"character ('.+?')", problem)
        help = f"quote the value: plain YAML text cannot start with {char.group(1) if char else 'this character'}"
    elif "could not find expected ':'" in problem and context_mark:
        problem, mark = "this line is not `key: value` (no ':' found)", context_mark
        help = "each line of a mapping is `key: value`; quote text that contains line breaks or special characters"
    elif "quoted scalar" in context and "end of stream" in problem and context_mark:
        problem, mark = "this quoted text is never closed", context_mark
        help = "add the closing quote"
    elif "expected ',' or" in problem:
        closing = "}" if "'}'" in problem else "]"
        opening = "{" if closing == "}" else "["
        found = re.search(r"but got ('.*?')$", problem)
        shown = _FOUND_WORDS.get(found.group(1), found.group(1)) if found else "something else"
        if "<stream end>" in problem and context_mark:
            problem, mark = f"this '{opening}' is never closed", context_mark
            help = f"close it with '{closing}'"
        else:
            problem = f"expected ',' or '{closing}' here, but found {shown}"
            opened = f" opened on line {context_line}" if context_line else ""
            help = f"a comma is missing, or the '{opening}'{opened} is not closed with '{closing}'"
    elif "expected <block end>" in problem:
        found = re.search(r"but found ('.*?')$", problem)
        shown = _FOUND_WORDS.get(found.group(1), found.group(1)) if found else "something else"
        kind = "mapping" if "mapping" in context else "list"
        starts = f" that starts on line {context_line}" if context_line else ""
        problem = f"this line does not fit the {kind} above it (found {shown})"
        help = f"check the indentation: the entries of the {kind}{starts} line up in one column"
        if "'-'" in (found.group(1) if found else "") and kind == "mapping":
            help += "; a list item `- ...` cannot follow `key: value` lines at the same indentation"
    elif "expected '<document start>'" in problem:
        problem = "unexpected text after the end of the document"
        help = "a pipeline file is a YAML mapping of `key: value` lines; is this file YAML?"
    elif "undefined alias" in problem:
        help = "define the anchor (`&name`) before an alias (`*name`) refers to it"
    elif "unknown escape character" in problem:
        help = "in double quotes a backslash starts an escape: write \\\\ for a backslash, or use single quotes"
    elif "end of stream" in problem or "'<stream end>'" in problem:
        problem = f"the file ends in the middle of {_CONTEXT_WORDS.get(context, 'a value')}"
        help = "something was left open: a quote, '[' or '{'" + (f" (from line {context_line})" if context_line else "")
    return problem, help, _on_text(source, mark, context_mark)


_CONTEXT_WORDS = {"while parsing a flow node": "a value", "while parsing a flow mapping": "a {...} mapping",
                  "while parsing a flow sequence": "a [...] list", "while parsing a block mapping": "a mapping"}


def _on_text(source: SourceFile, mark: Any, fallback: Any) -> NodeLoc | None:
    """A position on a line that has text: errors found at the end of the stream point past it, so
    they point at `fallback` (where the open construct started) or at the end of the last line."""
    if mark is None:
        mark = fallback
    if mark is None:
        return None
    line = source.line_text(mark.line)
    if line is not None and line.strip():
        return NodeLoc(mark.line, min(mark.column, len(line)))
    if fallback is not None and (source.line_text(fallback.line) or "").strip():
        return NodeLoc(fallback.line, fallback.column)
    for line0 in range(min(mark.line, len(source.text.splitlines())) - 1, -1, -1):
        text = source.line_text(line0) or ""
        if text.strip():
            return NodeLoc(line0, len(text.rstrip()))
    return None


def _node_loc(node: Any) -> NodeLoc | None:
    mark = getattr(node, "start_mark", None)
    return NodeLoc(mark.line, mark.column, _width(node)) if mark else None


def _width(node: Any) -> int:
    start, end = node.start_mark, node.end_mark
    if isinstance(node, nodes.ScalarNode) and start.line == end.line:
        return max(end.column - start.column, 1)
    return 1


def _is_empty(node: Any) -> bool:
    """`key:` with nothing after it (an implicit null, positioned wherever the next token is)."""
    return isinstance(node, nodes.ScalarNode) and node.value == "" and node.style is None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:50] + "..." + shown[-6:]
    return f"{names.get(type(value), 'a ' + type(value).__name__)} ({shown})"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STANDARD_TAG):] if tag.startswith(_STANDARD_TAG) else tag


_DROP = object()  # a value the builder reported and left out (its key is dropped, a list item becomes None)


class _TreeBuilder:
    """YAML nodes -> plain data, recording where each key and value is.

    Problems with one value (a tag, an escape, a key) are reported and the value is left out, so the
    rest is still checked; the bounds (size, recursion, depth) stop the load with _Stop."""

    def __init__(self, source: SourceFile, diagnostics: Diagnostics):
        self.source = source
        self.diagnostics = diagnostics
        self.count = 0
        self.active: set[int] = set()  # collection nodes being built: an alias back to one is a loop
        self.built: set[int] = set()  # collection nodes built at least once: building one again is an alias
        self.repeats: list[Any] = []  # the aliased (repeated) nodes being built, outermost first
        self.reported: list[YamlPath] = []  # paths of the values left out
        self.scalars = YAML(typ="safe", pure=True).constructor

    def problem(self, code: str, message: str, node: Any, path: YamlPath, help: str | None = None) -> object:
        self.diagnostics.add(self.source.diagnostic(code, Severity.ERROR, message, path, help=help,
                                                    node=_node_loc(node)))
        self.reported.append(path)
        return _DROP

    def build(self, node: Any, path: YamlPath, depth: int) -> Any:
        self.enter(node, depth)
        self.source.values.setdefault(path, _node_loc(node))
        tag = node.tag if isinstance(node.tag, str) else str(node.tag)
        if tag not in _ACCEPTED_TAGS:
            return self.problem("E005", f"the YAML tag '{_short_tag(tag)}' is not supported", node, path,
                                "remove the tag; pipeline files use plain YAML values (text, numbers, booleans, "
                                "lists, mappings)")
        if isinstance(node, nodes.ScalarNode):
            return self.scalar(node, path)
        with self.building(node):
            if isinstance(node, nodes.SequenceNode):
                items = [self.build(child, path + (index,), depth + 1) for index, child in enumerate(node.value)]
                return [None if item is _DROP else item for item in items]
            return self.mapping(node, path, depth)

    @contextmanager
    def building(self, node: Any):
        repeated = id(node) in self.built
        self.active.add(id(node))
        self.built.add(id(node))
        if repeated:
            self.repeats.append(node)
        try:
            yield
        finally:
            self.active.discard(id(node))
            if repeated:
                self.repeats.pop()

    def enter(self, node: Any, depth: int) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            if self.repeats:  # point at the outermost anchor that is being repeated, not at a leaf
                culprit = self.repeats[0]
                anchor = getattr(culprit, "anchor", None)
                raise _Stop("E004", f"the document expands to more than {MAX_NODES:,} values: the value anchored "
                                    f"here{f' (&{anchor})' if anchor else ''} is repeated through aliases", culprit,
                            "this is an alias bomb (anchors referring to anchors); write the data out")
            raise _Stop("E004", f"the document has more than {MAX_NODES:,} values", node, _SIZE_HELP)
        if id(node) in self.active:
            raise _Stop("E004", "an alias refers to a value that contains it (a recursive structure)", node,
                        "an alias (`*name`) inside the anchored value (`&name`) repeats it forever; write the data out")
        if depth > MAX_DEPTH:
            raise _Stop("E004", f"the data is nested more than {MAX_DEPTH} levels deep", node, _DEPTH_HELP)

    def scalar(self, node: Any, path: YamlPath) -> Any:
        try:
            value = self.scalars.construct_object(node, deep=True)
        except (YAMLError, ValueError, OverflowError) as exc:
            reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            return self.problem("E002", f"cannot read the value '{node.value}': {reason}", node, path)
        if isinstance(value, bytes):
            return self.problem("E005", "binary values are not supported", node, path)
        if isinstance(value, str) and self.bad_text(value, node, path):
            return _DROP
        return value

    def bad_text(self, text: str, node: Any, path: YamlPath) -> bool:
        surrogate = _SURROGATE.search(text)
        if surrogate:
            self.problem("E002", f"the text has the escape '\\u{ord(surrogate.group()):04x}', half of a UTF-16 "
                                 "surrogate pair, which is not a character", node, path,
                         "write the character itself, or its full code point as \\UXXXXXXXX")
        return bool(surrogate)

    def mapping(self, node: Any, path: YamlPath, depth: int) -> dict:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        key_nodes: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:  # `<<: *base`: explicit keys win over merged ones
                sources = value_node.value if isinstance(value_node, nodes.SequenceNode) else [value_node]
                for source_node in sources:
                    if not isinstance(source_node, nodes.MappingNode):
                        what = "a list" if isinstance(source_node, nodes.SequenceNode) else f"'{source_node.value}'"
                        self.problem("E012", f"`<<` merges a mapping (or a list of mappings), not {what}", key_node,
                                     path, "write `<<: *name` where `&name` anchors a mapping")
                        continue
                    self.enter(source_node, depth + 1)
                    with self.building(source_node):
                        for key, value in self.mapping(source_node, path, depth + 1).items():
                            merged.setdefault(key, value)
                continue
            if not isinstance(key_node, nodes.ScalarNode):
                self.problem("E012", "mapping keys must be plain text, not lists or mappings", key_node, path)
                continue
            key = str(key_node.value)
            key_path = path + (key,)
            if self.bad_text(key, key_node, key_path):
                continue
            if key in result or key in key_nodes:
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
            if _is_empty(value_node):  # `key:` alone: point at the key, not at whatever follows
                self.source.values.setdefault(key_path, _node_loc(key_node))
            value = self.build(value_node, key_path, depth + 1)
            if value is not _DROP:
                result[key] = value
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
        if isinstance(current, dict) and part in current or isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
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
            # Optional[Annotated[Model, ...]]: look through each member's Annotated wrapper.
            args = tuple(typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a for a in args)
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


def _validation_diagnostics(exc: ValidationError, data: Any, source: SourceFile, skip: list[YamlPath] = ()):
    """One diagnostic per path; paths under a value the tree builder already reported (and left
    out) are skipped, so a refused tag is not reported a second time as a missing key."""
    by_path: dict[YamlPath, list[dict]] = {}
    for error in exc.errors(include_url=False):
        by_path.setdefault(_data_path(error["loc"], data), []).append(error)
    for path, errors in by_path.items():
        if not any(path[: len(reported)] == reported for reported in skip):
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
    options: list[str] = []
    for error in errors:
        if error["type"] in _TYPE_WORDS:
            expected.append(_TYPE_WORDS[error["type"]])
        elif error["type"] in ("enum", "literal_error"):
            expected.append(f"one of {error['ctx']['expected']}")
            options += re.findall(r"'([^']*)'", str(error["ctx"]["expected"]))
        elif error["type"] in _BOUNDS:
            bound, words = _BOUNDS[error["type"]]
            messages.append(f"must be {words} {error['ctx'][bound]}, not {value!r}")
        elif error["type"] == "value_error":
            messages.append(str(error["ctx"]["error"]))
        elif error["type"] == "finite_number":
            messages.append(f"must be a finite number, not {value!r}")
        else:
            messages.append(error["msg"])
    if messages:
        separator = " " if messages[0].startswith("must be ") else ": "
        return source.diagnostic("E013", Severity.ERROR, f"{where}{separator}{messages[0]}", path,
                                 help=_value_help(path, value))
    model = _model_at(path)
    if model in _SHORT_FORMS and "a mapping" in expected:
        expected = [_SHORT_FORMS[model]]
    unique = list(dict.fromkeys(expected))
    expected_text = " or ".join(unique)
    help = did_you_mean(str(value), options) if options and isinstance(value, str) else _type_help(path, unique, value)
    return source.diagnostic("E012", Severity.ERROR, f"{where} must be {expected_text}, not {_kind(value)}", path,
                             help=help)


_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "greater than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}

# The models with a short form: what a value there may be, in words.
_SHORT_FORMS = {
    ir.Cache: "true, false or a mapping {enabled, expire}",
    ir.Schedule: "a cron string or a mapping {cron, timezone, start_date, catchup}",
    ir.Artifact: "a path or a mapping {path, kind, description, external}",
    ir.Output: "a type (str, int, float, bool, list, dict) or a mapping {type, description, path}",
    ir.Task: "a mapping, a list of upstream task ids, or empty (a no-op)",
}

_CRON_HELP = ("a cron expression has 5 fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12) "
              "day-of-week (0-7, Sunday is 0 or 7); e.g. '30 2 * * 1-5' is 02:30 on weekdays")


def _value_help(path: YamlPath, value: Any) -> str | None:
    key = path[-1] if path else None
    if key == "timezone" and isinstance(value, str):
        return did_you_mean(value, timezone_names())
    if key in ("schedule", "cron") and isinstance(value, str) and not value.strip().startswith("@"):
        return _CRON_HELP
    return None


def _type_help(path: YamlPath, expected: list[str], value: Any) -> str | None:
    key = path[-1] if path else None
    if value is None and isinstance(key, str):
        if "a mapping" in expected or "a list" in expected:
            return f"`{key}:` has no value: indent its entries under it, or remove the key"
        return f"`{key}:` has no value: write one after the ':', or remove the key"
    if isinstance(value, list) and "a mapping" in expected:
        return "write `key: value` entries here, not a list"
    if isinstance(value, dict) and "a list" in expected:
        return "write a list here: `[a, b]` or one `- item` per line"
    if "a list" in expected and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return f"write a list, even of one item: [{value}]"
    if "a string" in expected and not isinstance(value, (str, list, dict)):
        return "quote the value to make it text"
    if "an integer" in expected and isinstance(value, str):
        return "write the number in digits"
    return None


def _missing_help(path: YamlPath) -> str | None:
    if path == ("name",):
        return "add `name: my-pipeline` at the top level"
    if path == ("tasks",):
        return "add `tasks:` with at least one task, e.g. `tasks: {hello: {command: echo hello}}`"
    return None
