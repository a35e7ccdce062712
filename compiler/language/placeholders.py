"""`${{ ... }}` placeholders: parsing text into literal segments and references.

Only `${{ <reference> }}` is a placeholder; every other character, braces included, is literal.
`$${{` is the escape for a literal `${{`. Backends translate `Ref`s to their own syntax and pass
literal segments through their own quoting, so user text never becomes target syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Literal, Union

from compiler.diagnostics import did_you_mean

RefKind = Literal["param", "artifact", "task_output", "item", "output"]

_PLACEHOLDER = re.compile(r"(\$?)\$\{\{(.*?)\}\}", re.S)
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_TASK = r"[A-Za-z0-9_-]+"
_FORMS: tuple[tuple[RefKind, re.Pattern], ...] = (
    ("param", re.compile(rf"params\.({_NAME})")),
    ("artifact", re.compile(rf"artifacts\.({_NAME})")),
    ("task_output", re.compile(rf"tasks\.({_TASK})\.outputs\.({_NAME})")),
    ("item", re.compile(rf"item(?:\.({_NAME}))?")),
    ("output", re.compile(rf"outputs\.({_NAME})")),
)
FORMS_HELP = (
    "placeholders are ${{ params.NAME }}, ${{ artifacts.NAME }}, ${{ tasks.ID.outputs.NAME }}, "
    "${{ item }}, ${{ item.KEY }} and ${{ outputs.NAME }}; write $${{ for a literal ${{"
)


@dataclass(frozen=True)
class Ref:
    kind: RefKind
    name: str | None = None  # param, artifact, output or item key name
    task: str | None = None  # for task_output

    def __str__(self) -> str:
        if self.kind == "param":
            return f"params.{self.name}"
        if self.kind == "artifact":
            return f"artifacts.{self.name}"
        if self.kind == "task_output":
            return f"tasks.{self.task}.outputs.{self.name}"
        if self.kind == "output":
            return f"outputs.{self.name}"
        return f"item.{self.name}" if self.name else "item"


Segment = Union[str, Ref]


@dataclass(frozen=True)
class PlaceholderError:
    offset: int  # character offset of the `${{` in the text
    length: int
    message: str
    help: str | None


@lru_cache(maxsize=4096)
def parse_ref(expression: str) -> Ref | None:
    text = expression.strip()
    for kind, pattern in _FORMS:
        match = pattern.fullmatch(text)
        if match:
            if kind == "task_output":
                return Ref(kind, name=match.group(2), task=match.group(1))
            return Ref(kind, name=match.group(1))
    return None


def suggest_ref(expression: str) -> str | None:
    """A did-you-mean for common slips: `param.x`, `task.x.output.y`, `artifact.x`."""
    text = expression.strip()
    head, _, rest = text.partition(".")
    fixed_head = did_you_mean(head, ["params", "artifacts", "tasks", "item", "outputs"])
    if fixed_head and rest:
        name = fixed_head[len("did you mean '") : -2]
        rest = re.sub(r"^([^.]+)\.output\.", r"\1.outputs.", rest)
        candidate = f"{name}.{rest}"
        if parse_ref(candidate):
            return f"did you mean '${{{{ {candidate} }}}}'?"
    return None


def parse(text: str) -> tuple[list[Segment], list[PlaceholderError]]:
    """Split text into literal strings and references; adjacent literals are merged."""
    segments, errors = _parse(text)
    return list(segments), list(errors)


@lru_cache(maxsize=65536)  # every pass and backend parses the same texts again
def _parse(text: str) -> tuple[tuple[Segment, ...], tuple[PlaceholderError, ...]]:
    if "${{" not in text:
        return ((text,) if text else ()), ()
    segments: list[Segment] = []
    errors: list[PlaceholderError] = []
    pos = 0

    def literal(piece: str) -> None:
        if not piece:
            return
        if segments and isinstance(segments[-1], str):
            segments[-1] += piece
        else:
            segments.append(piece)

    for match in _PLACEHOLDER.finditer(text):
        literal(text[pos : match.start()])
        pos = match.end()
        if match.group(1):  # `$${{ ... }}`: the escape, one `$` dropped
            literal(match.group(0)[1:])
            continue
        ref = parse_ref(match.group(2))
        if ref is None:
            errors.append(
                PlaceholderError(
                    match.start(),
                    len(match.group(0)),
                    f"unknown placeholder '{match.group(0)}'",
                    suggest_ref(match.group(2)) or FORMS_HELP,
                )
            )
            literal(match.group(0))
        else:
            segments.append(ref)
    literal(text[pos:])
    return tuple(segments), tuple(errors)


def occurrences(text: str) -> Iterator[tuple[str, Ref]]:
    """Each well-formed reference with the text it was written as (for pointing at it)."""
    for match in _PLACEHOLDER.finditer(text):
        if not match.group(1):
            ref = parse_ref(match.group(2))
            if ref is not None:
                yield match.group(0), ref


_OPENING = re.compile(r"(?<!\$)\$\{\{")


def unclosed(text: str) -> list[int]:
    """Offsets of `${{` with no `}}` after them: most likely a placeholder missing its end."""
    return [m.start() for m in _OPENING.finditer(text) if "}}" not in text[m.end() :]]


def refs(text: str) -> list[Ref]:
    return [s for s in _parse(text)[0] if isinstance(s, Ref)]


def escaped(value: Any) -> Any:
    """Literal text (or a value holding texts) as dagshift text: every `${{` written `$${{`."""
    if isinstance(value, str):  # one more `$` before each `${{` the parser would read
        return _PLACEHOLDER.sub(lambda match: "$" + match.group(0), value) if "${{" in value else value
    if isinstance(value, dict):
        return {key: escaped(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [escaped(item) for item in value]
    return value


def literal(value: Any) -> Any:
    """A value whose texts may hold no placeholder (a literal foreach list, an alert's command and
    args) as the target receives it: every `$${{` escape read as `${{`, at any depth."""
    if isinstance(value, str):
        return "".join(s for s in _parse(value)[0] if isinstance(s, str)) if "$${{" in value else value
    if isinstance(value, dict):
        return {key: literal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [literal(item) for item in value]
    return value


def strings_in(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every string inside a nested value, with its relative path (for args and defaults)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings_in(item, path + (index,))
