"""Foreign YAML (Argo workflows, dvc.yaml, PipelineSpecs) read fast, with the same result: libyaml (ruamel.yaml.clib) parses the text, its
events are composed into ruamel's nodes here, and ruamel's own round-trip constructor builds the
documents from them, so the maps, lists, scalars and line numbers (`.lc`, what base.line_of
reads) are those base.yaml_documents gives, without ruamel's pure-Python scanner and parser
(nearly all of the time an import of a big workflow took). Comments are not kept (nothing reads
them), and an empty value's own position (never asked for) may differ. A text with a tab (which
libyaml accepts in places ruamel refuses), anything unusual (a directive, an explicit tag, no
libyaml) and any problem go through base.yaml_documents, whose exceptions the diagnostics rely on.
"""

from __future__ import annotations

from typing import Any

from .base import yaml_documents
from .limits import bounded_documents


def read_yaml(text: str) -> list[Any]:
    """Every document of a YAML text, as base.yaml_documents gives them (YamlTooLarge for an
    alias bomb)."""
    if "\t" in text:
        return yaml_documents(text)
    try:
        documents = _fast_documents(text)
    except Exception:  # noqa: BLE001 - anything at all: the exact reader below decides
        return yaml_documents(text)
    return bounded_documents(documents)


class _Unusual(Exception):
    """A construct the fast path leaves to the exact reader."""


def _fast_documents(text: str) -> list[Any]:
    from _ruamel_yaml import CParser  # ruamel.yaml.clib
    from ruamel.yaml import YAML, events, nodes

    yaml = YAML(typ="rt", pure=True)  # configured as base.yaml_documents configures it
    yaml.allow_duplicate_keys = False
    constructor, resolver = yaml.constructor, yaml.resolver
    parser = CParser(text)
    scalar_tags: dict[tuple, Any] = {}  # resolving a plain scalar's type is the slow part: once per text
    mapping_tag = sequence_tag = None
    result: list[Any] = []
    try:
        if type(parser.get_event()) is not events.StreamStartEvent:
            raise _Unusual("no stream start")
        while True:
            event = parser.get_event()
            if type(event) is events.StreamEndEvent:
                break
            if type(event) is not events.DocumentStartEvent or event.version is not None or event.tags:
                raise _Unusual("a directive")
            anchors: dict[str, Any] = {}
            stack: list[list] = []  # [open collection, pending mapping key], innermost last
            root = None
            while True:
                event = parser.get_event()
                kind = type(event)
                if kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                    node = stack.pop()[0]
                    node.end_mark = event.end_mark
                    if stack:
                        continue
                    root = node
                    break
                if kind is events.AliasEvent:
                    if event.anchor not in anchors:
                        raise _Unusual("an undefined alias")
                    node = anchors[event.anchor]
                elif event.ctag is not None:
                    raise _Unusual("an explicit tag")
                elif kind is events.ScalarEvent:
                    key = (event.value, event.implicit)
                    tag = scalar_tags.get(key)
                    if tag is None:
                        tag = scalar_tags[key] = resolver.resolve(nodes.ScalarNode, event.value, event.implicit)
                    node = nodes.ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                            style=event.style or None, anchor=event.anchor)
                elif kind is events.MappingStartEvent:
                    if mapping_tag is None:
                        mapping_tag = resolver.resolve(nodes.MappingNode, None, event.implicit)
                    node = nodes.MappingNode(mapping_tag, [], event.start_mark, None, flow_style=event.flow_style,
                                             anchor=event.anchor)
                elif kind is events.SequenceStartEvent:
                    if sequence_tag is None:
                        sequence_tag = resolver.resolve(nodes.SequenceNode, None, event.implicit)
                    node = nodes.SequenceNode(sequence_tag, [], event.start_mark, None,
                                              flow_style=event.flow_style, anchor=event.anchor)
                else:
                    raise _Unusual(f"unexpected {kind.__name__}")
                if kind is not events.AliasEvent and event.anchor is not None:
                    anchors[event.anchor] = node
                if stack:
                    parent = stack[-1]
                    if type(parent[0]) is nodes.SequenceNode:
                        parent[0].value.append(node)
                    elif parent[1] is None:
                        parent[1] = node
                    else:
                        parent[0].value.append((parent[1], node))
                        parent[1] = None
                if kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
                    stack.append([node, None])
                elif not stack:
                    root = node  # the document is one scalar (or an alias)
                    break
            if type(parser.get_event()) is not events.DocumentEndEvent:
                raise _Unusual("no document end")
            result.append(constructor.construct_document(root))
    finally:
        parser.dispose()
    return result
