"""Pipeline values in a generated Airflow DAG, in the two forms a DAG file holds them:

- templates: the fields an operator renders with Jinja (`bash_command`, `env`, a pod's `arguments`).
  Placeholders become Jinja expressions (`{{ params.rows }}`); literal text is escaped so it never
  becomes a template, and each value is printed as the text rule says (docs/pipeline-syntax.md:
  strings as they are, everything else as compact JSON).
- Python: the expressions inside TaskFlow functions (literals and f-strings), which no template
  engine reads. A whole-value placeholder keeps its type; inside a text it is printed by the rule.
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from compiler.backends.specs import as_text
from compiler.language.ir import Pipeline, ValueType
from compiler.language.placeholders import Ref, Segment
from compiler.language.placeholders import parse as parse_placeholders
from compiler.output.emit import python_literal as py

from .conventions import TEXT, helper_function

JSON_TEXT_FILTER = "json_text"  # the one Jinja filter a DAG may register: lists and dicts as compact JSON
ASSET_TEXT_LIMIT = 1500  # characters of an asset's name or URI


# ----------------------------------------------------------------------------- what the code needs


@dataclass
class Needs:
    """What the generated module must import and define, filled while its code is written: only
    what some task uses ends up in the file."""

    imports: set[tuple[str, str | None, str | None]] = field(default_factory=set)  # (module, name, alias)
    helpers: set[str] = field(default_factory=set)  # names of templates/airflow/helpers.py.j2 blocks
    filters: set[str] = field(default_factory=set)  # Jinja filters the DAG registers

    def module(self, name: str) -> str:
        self.imports.add((name, None, None))
        return name

    def name(self, module: str, name: str, alias: str | None = None) -> str:
        self.imports.add((module, name, alias))
        return alias or name

    def helper(self, name: str) -> str:
        self.helpers.add(name)
        return helper_function(name)


# ----------------------------------------------------------------------------- types and texts


def text_jinja_filter(value_type: ValueType | None, needs: Needs) -> str:
    """The filter that prints a value of this type as the text rule says. Jinja prints str and int
    exactly so; `tojson` prints floats (inf as Infinity) and bools (true) as JSON; lists and dicts
    need compact JSON, which no built-in filter writes."""
    if value_type in (ValueType.STR, ValueType.INT):
        return ""
    if value_type in (ValueType.FLOAT, ValueType.BOOL):
        return " | tojson"
    needs.filters.add(JSON_TEXT_FILTER)
    needs.helper(JSON_TEXT_FILTER)
    return f" | {JSON_TEXT_FILTER}"


def text_python(expr: str, value_type: ValueType | None, needs: Needs) -> str:
    """Python code printing `expr` (a value of this type) as the text rule says."""
    if value_type in (ValueType.STR, ValueType.INT):
        return expr
    if value_type in (ValueType.FLOAT, ValueType.BOOL):
        return f"{needs.module('json')}.dumps({expr})"
    return f"{needs.helper(TEXT)}({expr})"


def literal_type(values: list[Any]) -> ValueType | None:
    """The one type every value of a literal list has (what `${{ item }}` is), else None."""
    kinds = {_value_type(value) for value in values}
    return kinds.pop() if len(kinds) == 1 else None


def _value_type(value: Any) -> ValueType | None:
    for kind, python_type in ((ValueType.BOOL, bool), (ValueType.INT, int), (ValueType.FLOAT, float),
                              (ValueType.STR, str), (ValueType.LIST, list), (ValueType.DICT, dict)):
        if isinstance(value, python_type):
            return kind
    return None


def item_type(items: Any, key: str | None) -> ValueType | None:
    """What `${{ item }}` / `${{ item.KEY }}` is when the task maps over a literal list."""
    if not isinstance(items, list):
        return None
    if key is None:
        return literal_type(items)
    if all(isinstance(item, dict) and key in item for item in items):
        return literal_type([item[key] for item in items])
    return None


def param_reference(name: str) -> str:
    """`params.rows` in a template, or `params['items']` where the name is also a dict method."""
    if name.isidentifier() and not keyword.iskeyword(name) and not hasattr(dict, name) and not name.startswith("_"):
        return f"params.{name}"
    return f"params[{py(name)}]"


def asset_problem(name: str, uri: str) -> str | None:
    """Why Airflow's Asset would refuse this name and URI (airflow.sdk Asset: _sanitize_uri,
    _validate_identifier), failing the whole DAG file's import; None if it takes them."""
    for what, text in (("name", name), ("URI", uri)):
        if not text.strip():
            return f"an asset {what} cannot be blank"
        if len(text) > ASSET_TEXT_LIMIT:
            return f"an asset {what} has at most {ASSET_TEXT_LIMIT} characters"
    if name in ("self", "context"):
        return f"'{name}' is not a name Airflow allows for an asset"
    try:
        parsed = urlsplit(uri)
    except ValueError as error:
        return f"the URI cannot be read: {error}"
    if (parsed.scheme or parsed.netloc) and parsed.scheme.lower() == "airflow":
        return "Airflow reserves the URI scheme 'airflow'"
    return None


# ----------------------------------------------------------------------------- Jinja


def jinja_literal(text: str) -> str:
    """Text that Airflow's Jinja renders back to exactly `text`. Jinja turns a carriage return
    (alone or before a newline) in template text into a newline, so one is printed by an
    expression; every `{` that would open a tag with what follows it (`{`, `%`, `#`, such an
    expression, or whatever comes after the text: a placeholder's `{{ ... }}`) is printed by an
    expression too."""
    out = []
    for index, char in enumerate(text):
        if char == "{" and text[index + 1 : index + 2] in ("{", "%", "#", "\r", ""):
            out.append("{{ '{' }}")
        elif char == "\r":
            out.append("{{ '\\r' }}")
        else:
            out.append(char)
    return "".join(out)


def template_text(text: str, template_ext: tuple[str, ...] = ()) -> str:
    """A constant written into a field the operator renders (an image, a working directory): the
    template that renders back to exactly `text`."""
    body, ending = _template_end(text, template_ext)
    return jinja_literal(body) + ending


def _template_end(text: str, template_ext: tuple[str, ...]) -> tuple[str, str]:
    """What Airflow reads from a template's raw end is written as a Jinja expression: a text
    ending like a template file name (.sh), and the last newline (keep_trailing_newline=False)."""
    if template_ext and text.endswith(template_ext):
        dot = text.rindex(".")
        return text[:dot], "{{ '.' }}" + text[dot + 1 :]
    if text.endswith("\n"):
        return text[:-1], "{{ '\\n' }}"
    return text, ""


class _Jinja(str):
    """Jinja code made by the backend (a placeholder's expression), as opposed to user text."""


@dataclass
class TemplateWriter:
    """Texts with placeholders as Airflow templates. `xcom` gives the Jinja expression (and the
    value's type, None for a list of mapped results) that reads an upstream output."""

    pipeline: Pipeline
    needs: Needs
    xcom: Callable[[Ref], tuple[str, ValueType | None]]

    def text(self, text: str, *, template_ext: tuple[str, ...] = (), item: Any = None,
             out_paths: dict[str, str] | None = None) -> str:
        parts: list[str] = []  # literal text (merged), or _Jinja code
        for segment in parse_placeholders(text)[0]:
            piece = self._piece(segment, item, out_paths)
            if not isinstance(piece, _Jinja) and parts and not isinstance(parts[-1], _Jinja):
                parts[-1] = parts[-1] + piece
            else:
                parts.append(piece)
        ending = ""
        if parts and not isinstance(parts[-1], _Jinja):
            last, ending = _template_end(parts.pop(), template_ext)
            parts.append(last)
        return "".join(p if isinstance(p, _Jinja) else jinja_literal(p) for p in parts) + ending

    def _piece(self, segment: Segment, item: Any, out_paths: dict[str, str] | None) -> str:
        if isinstance(segment, str):
            return segment
        if segment.kind == "param":
            kind = self.pipeline.params[str(segment.name)].value_type
            return _Jinja(f"{{{{ {param_reference(str(segment.name))}{text_jinja_filter(kind, self.needs)} }}}}")
        if segment.kind == "artifact":
            return self.pipeline.artifacts[str(segment.name)].path
        if segment.kind == "task_output":
            expression, kind = self.xcom(segment)
            return _Jinja(f"{{{{ {expression}{text_jinja_filter(kind, self.needs)} }}}}")
        if segment.kind == "item":
            return as_text(item if segment.name is None else item[segment.name])
        assert out_paths is not None, segment  # `${{ outputs.X }}` of a pod: a file the pod collects
        return out_paths[str(segment.name)]


# ----------------------------------------------------------------------------- Python


def string_code(parts: list[str | tuple[str]]) -> str:
    """A Python string expression joining literal texts and code (1-tuples: code printing a
    value, written with double quotes): a plain literal, or an f-string. The code inside an
    f-string uses the other quote (Python < 3.12); the quotes in it only delimit names."""
    if not any(isinstance(part, tuple) for part in parts):
        return py("".join(p for p in parts if isinstance(p, str)))
    literal = "".join(p for p in parts if isinstance(p, str))
    quote = "'" if '"' in literal and "'" not in literal else '"'
    body = "".join(_code_in_fstring(part[0], quote) if isinstance(part, tuple) else _escape(part, quote)
                   for part in parts)
    return f"f{quote}{body}{quote}"


def wrapped_string_code(parts: list[str | tuple[str]], width: int = 72) -> str:
    """string_code, for a long text written as literals Python joins, each at most about `width`
    characters, broken before a space (an option, preferably) and after each newline: the way one
    writes a long command."""
    single = string_code(parts)
    if len(single) <= width:
        return single
    chunks: list[list[str | tuple[str]]] = [[]]
    size = 0
    for token in _tokens(parts):
        length = len(token[0]) + 2 if isinstance(token, tuple) else len(_escape(token, '"'))
        new_line = _ends_line(chunks[-1])  # a text of several lines is written a line at a time
        breakable = isinstance(token, str) and token.startswith(" ")
        option = breakable and token.startswith(" -") and size > width * 0.6  # type: ignore[union-attr]
        if size and (new_line or (breakable and (size + length > width or option))):
            chunks.append([])
            size = 0
        chunks[-1].append(token)
        size += length
    return "(" + " ".join(string_code(_merged(chunk)) for chunk in chunks) + ")"


def _tokens(parts: list[str | tuple[str]]) -> list[str | tuple[str]]:
    """Words (a space kept before the word it precedes), lines (a newline kept at their end), and code."""
    tokens: list[str | tuple[str]] = []
    for part in parts:
        if isinstance(part, tuple):
            tokens.append(part)
        else:
            tokens += _words(part)
    return tokens


def _words(text: str) -> list[str]:
    """`text` cut before each space and after each newline, but not inside a `{{ ... }}`."""
    inside = {i for match in re.finditer(r"\{\{.*?\}\}", text, re.DOTALL) for i in range(match.start() + 1, match.end())}
    cuts = [i for i, char in enumerate(text) if char == " " and i not in inside]
    cuts += [i + 1 for i, char in enumerate(text) if char == "\n" and i + 1 not in inside]
    bounds = sorted({0, len(text), *cuts})
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _ends_line(chunk: list[str | tuple[str]]) -> bool:
    return bool(chunk) and isinstance(chunk[-1], str) and chunk[-1].endswith("\n")


def _merged(chunk: list[str | tuple[str]]) -> list[str | tuple[str]]:
    merged: list[str | tuple[str]] = []
    for token in chunk:
        if isinstance(token, str) and merged and isinstance(merged[-1], str):
            merged[-1] += token
        else:
            merged.append(token)
    return merged


def _code_in_fstring(code: str, quote: str) -> str:
    return "{" + (code.replace('"', "'") if quote == '"' else code) + "}"


def _escape(text: str, quote: str) -> str:
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == quote:
            out.append("\\" + quote)
        elif char in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char])
        elif char in "{}":
            out.append(char * 2)
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    return "".join(out)

