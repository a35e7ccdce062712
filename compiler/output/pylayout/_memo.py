"""Layouts reused between logical lines of the same shape.

A generated file repeats a few statement shapes thousands of times (one operator call or component
per task), and black's split decisions read only the tokens' kinds, their spacing and delimiter
records, the text of keywords and brackets, and the widths of everything else. Two lines that agree
on all of these are split alike, so the split runs once per shape: on a copy whose names, strings and
numbers are replaced by `$` runs of the same width (no Python token outside those contains `$`), and
the text it gives is a template the next line of that shape fills with its own tokens. Black keeps
tokens in order and never drops or repeats one, which is what the template relies on (and checks).
"""

from __future__ import annotations

import keyword
from typing import Any

from ._split import NAME, NUMBER, STRING, Leaf
from ._text import str_width

_VARIABLE = (NAME, NUMBER, STRING)
_MARK = "$"
_LIMIT = 20_000  # shapes kept; a file of more distinct shapes starts over


def shape(leaves: list[Leaf]) -> tuple | None:
    """What a split of `leaves` depends on, or None for a line the memo leaves alone: a token whose
    width is not its length (wide characters: a `$` run could not stand for it) or holding a `$`."""
    key: list[Any] = []
    positions: dict[int, int] | None = None
    for leaf in leaves:
        value = leaf.value
        if leaf.type in _VARIABLE and not (leaf.type == NAME and _is_keyword(value)):
            if _MARK in value or (not value.isascii() and str_width(value) != len(value)):
                return None
            value = len(value)
        complex_at = -1
        if leaf.complex is not None:
            if positions is None:
                positions = {id(each): index for index, each in enumerate(leaves)}
            complex_at = positions.get(id(leaf.complex), -2)
        key.append((leaf.type, value, leaf.prefix, leaf.ws, leaf.before, leaf.after, leaf.flags, leaf.role,
                    complex_at))
    return tuple(key)


def _is_keyword(name: str) -> bool:
    return keyword.iskeyword(name) or keyword.issoftkeyword(name)


def values(leaves: list[Leaf]) -> list[str]:
    """The names, strings and numbers (not keywords) of a line, in order: what a template is filled with."""
    return [leaf.value for leaf in leaves
            if leaf.type in _VARIABLE and not (leaf.type == NAME and _is_keyword(leaf.value))]


def mark(leaves: list[Leaf]) -> None:
    """Replace each name, string and number (not keywords) by a `$` run of its width."""
    for leaf in leaves:
        if leaf.type in _VARIABLE and not (leaf.type == NAME and _is_keyword(leaf.value)):
            leaf.value = _MARK * len(leaf.value)


class Template:
    """A laid-out line with the places of its marked tokens: `fill` writes it with other tokens."""

    __slots__ = ("pieces",)

    def __init__(self, text: str, widths: list[int]) -> None:
        pieces, position = [], 0
        for width in widths:
            start = text.index(_MARK, position)
            if text[start:start + width] != _MARK * width:
                raise AssertionError("a marked token was split or merged")
            pieces.append(text[position:start])
            position = start + width
        pieces.append(text[position:])
        if any(_MARK in piece for piece in pieces):
            raise AssertionError("a marked token was repeated")
        self.pieces = pieces

    def fill(self, values: list[str]) -> str:
        pieces = self.pieces
        out = [pieces[0]]
        for value, piece in zip(values, pieces[1:]):
            out.append(value)
            out.append(piece)
        return "".join(out)


class Memo:
    """Per shape (and file features): whether black's first pass adds a def's vararg comma, and the
    template of the final layout for each set of features the second pass may run with."""

    __slots__ = ("adds_vararg_comma", "templates")

    def __init__(self, adds_vararg_comma: bool) -> None:
        self.adds_vararg_comma = adds_vararg_comma
        self.templates: dict[tuple[int, bool], Template] = {}


_memos: dict[tuple, Memo] = {}


def find(key: tuple) -> Memo | None:
    return _memos.get(key)


def keep(key: tuple, memo: Memo) -> None:
    if len(_memos) >= _LIMIT:
        _memos.clear()
    _memos[key] = memo
