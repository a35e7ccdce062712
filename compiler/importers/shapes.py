"""The shape of a foreign YAML document, checked before an importer reads it.

The importers read documents as their format defines them: `template.get("inputs")`, `for entry
in container["env"]`. A file where a mapping holds text, or a list a number, would make them fail
(an E603, "importer bug") instead of saying what is wrong with the file. A shape names, for the
keys an importer reads, what kind of value each holds; `misshapen` finds the first value that
does not fit and says where (the path and its line), for an E601. Keys a shape does not name are
not checked (the importer reports them, or ignores them, as it does in a well-formed file). A
known key holding null stands for an absent one, as the importers read it (`x.get(key) or {}`);
an item of a list or a named entry of a MapOf must have its shape.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .base import line_of


@dataclass(frozen=True)
class Scalar:
    """Text, a number, a boolean (or null)."""


@dataclass(frozen=True)
class Number:
    """A finite number (whole, if `whole`), or text that reads as one: the importer converts it."""

    whole: bool = False


@dataclass(frozen=True)
class Anything:
    """Any value: the importer looks at it with care, or only carries it."""


@dataclass(frozen=True)
class ListOf:
    item: Shape


@dataclass(frozen=True)
class MapOf:
    """A mapping with keys of the file's choosing (task names, parameter names...)."""

    value: Shape


@dataclass(frozen=True)
class Required:
    """A key of a dict shape that must be there (and not null)."""

    shape: Shape


@dataclass(frozen=True)
class NotNull:
    """A key of a dict shape whose presence matters (`container:` makes a container template):
    when it is there, it holds a value of its shape, not null."""

    shape: Shape


@dataclass(frozen=True)
class Either:
    """One of several shapes (the first the value's kind fits decides its children's)."""

    options: tuple[Shape, ...]


# A dict is a mapping with known keys (each key's shape); others are not checked.
Shape = Scalar | Number | Anything | ListOf | MapOf | Either | Required | NotNull | dict

SCALAR = Scalar()
NUMBER = Number()
WHOLE = Number(whole=True)
ANYTHING = Anything()
MAPPING = MapOf(ANYTHING)


@dataclass(frozen=True)
class Misshapen:
    message: str
    line: int | None


def misshapen(document: Any, shape: Shape) -> Misshapen | None:
    """The first value of `document` that does not have its shape, or None. Iterative: a document
    nested a thousand levels deep is checked without recursion."""
    pending: list[tuple[Any, Shape, str, int | None]] = [(document, shape, "", line_of(document))]
    while pending:
        value, expected, path, line = pending.pop()
        if isinstance(expected, (Required, NotNull)):
            if value is None:
                return Misshapen(f"`{path}` is {'missing' if isinstance(expected, Required) else 'null'}", line)
            expected = expected.shape
        if isinstance(expected, Either):
            fitting = [option for option in expected.options if _fits(value, option)]
            if not fitting:
                wanted = " or ".join(_kind_wanted(option) for option in expected.options)
                return Misshapen(f"`{path or 'the document'}` must be {wanted}, not {_kind(value)}", line)
            expected = fitting[0]
        wanted = _kind_wanted(expected)
        if wanted and not _fits(value, expected):
            return Misshapen(f"`{path or 'the document'}` must be {wanted}, not {_kind(value)}", line)
        pending += _children(value, expected, path)
    return None


def _kind_wanted(shape: Shape) -> str:
    if isinstance(shape, Scalar):
        return "a single value (text or a number)"
    if isinstance(shape, Number):
        return "a whole number" if shape.whole else "a finite number"
    if isinstance(shape, ListOf):
        return "a list"
    if isinstance(shape, (MapOf, dict)):
        return "a mapping"
    return ""


def _fits(value: Any, shape: Shape) -> bool:
    if isinstance(shape, Anything):
        return True
    if isinstance(shape, Scalar):
        return not isinstance(value, (dict, list))
    if isinstance(shape, Number):
        return _is_number(value, shape.whole)
    if isinstance(shape, ListOf):
        return isinstance(value, list)
    return isinstance(value, dict)


def _children(value: Any, shape: Shape, path: str) -> list[tuple[Any, Shape, str, int | None]]:
    if isinstance(shape, ListOf):
        return [(item, shape.item, f"{path}[{index}]", line_of(value, index)) for index, item in enumerate(value)]
    if isinstance(shape, MapOf):
        return [(item, shape.value, _joined(path, key), line_of(value, key)) for key, item in value.items()]
    if isinstance(shape, dict):
        return [(value.get(key), inner, _joined(path, key), line_of(value, key)) for key, inner in shape.items()
                if value.get(key) is not None or isinstance(inner, Required)
                or isinstance(inner, NotNull) and key in value]
    return []


def _is_number(value: Any, whole: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False
    if whole and isinstance(value, str):
        return re.fullmatch(r"\s*[+-]?\d+\s*", value) is not None  # what int() reads (not "1.0", not "²")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return False
    return math.isfinite(number) and (not whole or number.is_integer())


def _joined(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else "a number"
    return "null" if value is None else f"{str(value)[:40]!r}"
