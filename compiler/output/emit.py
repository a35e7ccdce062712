"""Shared emit machinery: the Jinja environment of a backend, Python formatting and verification.

Templates only lay out text; every decision (names, quoting, what maps to what) is made in the
backend module, which hands the template ready-made, already-quoted pieces. Python literals go
through `repr`-based filters, so user text can never become code.
"""

from __future__ import annotations

import ast
import json
from functools import cache
from typing import Any

import jinja2

from compiler import templates_dir

from . import yaml_out

# Pinned with black itself in pyproject.toml: the formatting is part of the golden output.
BLACK_LINE_LENGTH = 88


def python_literal(value: Any) -> str:
    """A Python expression that evaluates to `value` (str, numbers, bools, None, lists, tuples, dicts)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"float({str(value)!r})"
        return repr(value)
    if isinstance(value, (int, str)):
        return repr(value)
    if isinstance(value, tuple):
        items = [python_literal(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


@cache
def environment(backend: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / backend)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = python_literal
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    return env


def render(backend: str, template: str, **context: Any) -> str:
    return environment(backend).get_template(template).render(**context)


def template_source(backend: str, template: str) -> str:
    """A template's text, for a backend that derives facts (say, the names it defines) from it."""
    env = environment(backend)
    assert env.loader is not None
    return env.loader.get_source(env, template)[0]


def to_yaml(data: Any) -> str:
    """Plain data as block-style YAML, keys in the order given (the backend chooses a readable one).
    The text is read back and must give the same data: a failure is a dagshift bug."""
    text = yaml_out.dumps(data)
    expected: list[str] = []
    _data_tokens(data, expected)
    if _yaml_tokens(text) != expected:
        raise InvalidOutput("generated YAML does not read back as the data it was written from")
    return text


_MAPPING, _MAPPING_END, _SEQUENCE, _SEQUENCE_END = "MappingStartEvent", "MappingEndEvent", "SequenceStartEvent", \
    "SequenceEndEvent"


def _yaml_tokens(text: str) -> list[str]:
    """The structure and scalar texts of a YAML text, from the parser's events (libyaml when
    installed): a tenth of the time of building the objects, which matters at 10,000 tasks."""
    from ruamel.yaml import events

    structure = {events.MappingStartEvent: _MAPPING, events.MappingEndEvent: _MAPPING_END,
                 events.SequenceStartEvent: _SEQUENCE, events.SequenceEndEvent: _SEQUENCE_END}
    scalar = events.ScalarEvent
    tokens: list[str] = []
    for event in _yaml_loader().parse(text):
        kind = type(event)
        if kind is scalar:
            tokens.append(event.value)
        elif kind in structure:
            tokens.append(structure[kind])
    return tokens


def _data_tokens(data: Any, tokens: list[str]) -> None:
    """Append what _yaml_tokens must give for `data`; how each scalar is typed is yaml_out's (tested) part."""
    if isinstance(data, dict):
        tokens.append(_MAPPING)
        for key, value in data.items():
            tokens.append(str(key))
            if isinstance(value, str):
                tokens.append(value)
            else:
                _data_tokens(value, tokens)
        tokens.append(_MAPPING_END)
    elif isinstance(data, list):
        tokens.append(_SEQUENCE)
        for item in data:
            _data_tokens(item, tokens)
        tokens.append(_SEQUENCE_END)
    elif isinstance(data, str):
        tokens.append(data)
    else:
        tokens.append(yaml_out.scalar(data))


@cache
def _yaml_loader():
    from ruamel.yaml import YAML

    return YAML(typ="safe")  # libyaml through ruamel.yaml.clib when installed: fast


def parse_yaml(text: str, name: str) -> Any:
    """Parse emitted YAML back; a failure is a dagshift bug."""
    from ruamel.yaml.error import YAMLError

    try:
        return _yaml_loader().load(text)
    except YAMLError as exc:
        raise InvalidOutput(f"{name}: generated YAML does not parse: {exc}") from exc


class InvalidOutput(Exception):
    """The backend produced a file that does not parse: a bug in dagshift, never in the input."""


# How many files format_python handed to black because pylayout refused them, and why the last one was:
# tests read these to check that the generated code never needs the (slow) fallback.
black_fallbacks = 0
last_fallback_reason = ""


def format_python(source: str, name: str, *, fallback: bool = True) -> str:
    """The text black (pinned version, line length 88) makes of `source`, which must parse.

    pylayout writes it, many times faster than black, from the parse of `source` (which is the
    check that the backend wrote valid Python: pylayout refuses what does not parse). black runs
    only on source pylayout refuses (`pylayout.Unsupported`), unless `fallback` is False: then the
    refusal is raised. The result is not parsed again: pylayout only re-lays out the tokens of a
    parsed module, and the suite proves it writes black's text (tests/test_pylayout.py)."""
    from . import pylayout

    try:
        return pylayout.format_source(source)
    except pylayout.Unsupported as exc:
        if not fallback:
            raise
        formatted = _black_format(source, name, str(exc))
    try:
        ast.parse(formatted, filename=name)
    except SyntaxError as exc:
        raise InvalidOutput(f"{name}: generated Python does not parse: {exc}") from exc
    return formatted


def _black_format(source: str, name: str, reason: str) -> str:
    global black_fallbacks, last_fallback_reason
    import black  # imported here: only a fallback pays its start-up

    black_fallbacks += 1
    last_fallback_reason = f"{name}: {reason}"
    try:
        return black.format_str(source, mode=black.Mode(line_length=BLACK_LINE_LENGTH))
    except black.InvalidInput as exc:
        raise InvalidOutput(f"{name}: generated Python does not parse: {exc}") from exc
