"""Diagnostics as values: collected while loading, validating and emitting, rendered at the end.

Code ranges: E0xx/W0xx load and schema, E1xx/W1xx graph and references, E2xx types and values,
E3xx/W3xx backend capabilities, E4xx emit and verify, E8xx running on an engine (`dagshift run`).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable, Iterator, Sequence

YamlPath = tuple[str | int, ...]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class SourceLoc:
    """A 1-based position in a source file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    loc: SourceLoc | None = None
    path: YamlPath = ()
    help: str | None = None
    source_line: str | None = None
    span: int = 1
    notes: tuple[str, ...] = ()  # context for the message (where a value came from), shown before the help

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.loc.file if self.loc else None,
            "line": self.loc.line if self.loc else None,
            "col": self.loc.col if self.loc else None,
            "path": format_path(self.path),
            "notes": list(self.notes),
            "help": self.help,
        }


@dataclass
class Diagnostics:
    """A collector. Passes add to it; nothing raises."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[Diagnostic]:
        """Source order (file, line, col), then code; diagnostics without a location last."""

        def key(d: Diagnostic):
            if d.loc is None:
                return (1, "", 0, 0, d.code, d.message)
            return (0, d.loc.file, d.loc.line, d.loc.col, d.code, d.message)

        return sorted(self.items, key=key)


def format_path(path: YamlPath) -> str:
    """('tasks', 'train', 'after', 0) -> 'tasks.train.after[0]'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A help line suggesting the closest candidate, or None."""
    matches = difflib.get_close_matches(str(word), sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


# ----------------------------------------------------------------------------- rendering


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """User text as it may safely reach a terminal or a log: C0 controls become their visible
    pictures (U+2400...), DEL and C1 controls U+FFFD (one column each, so carets stay aligned),
    and lone surrogates (from `\\ud800` escapes) a backslash escape instead of an encoding error."""

    def picture(match: re.Match) -> str:
        code = ord(match.group())
        return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd"

    return _CONTROL.sub(picture, text).encode("utf-8", "backslashreplace").decode("utf-8")


MAX_SHOWN_WIDTH = 100


def _window(line: str, caret_col: int) -> tuple[str, int]:
    """A long source line (minified JSON, generated data) cut to the part around the caret."""
    if len(line) <= MAX_SHOWN_WIDTH:
        return line, caret_col
    start = max(0, min(caret_col - MAX_SHOWN_WIDTH // 3, len(line) - MAX_SHOWN_WIDTH))
    end = start + MAX_SHOWN_WIDTH
    head = "..." if start > 0 else ""
    tail = "..." if end < len(line) else ""
    return head + line[start:end] + tail, caret_col - start + len(head)


def render_text(diagnostics: Sequence[Diagnostic]) -> str:
    """ruff/rustc style: header, location, source line with a caret, help."""
    blocks = []
    for d in diagnostics:
        lines = [f"{d.severity.value}[{d.code}]: {_printable(d.message)}"]
        path = _printable(format_path(d.path))
        if d.loc:
            where = f"  --> {_printable(str(d.loc))}"
            if path:
                where += f"  ({path})"
            lines.append(where)
            if d.source_line is not None:
                gutter = " " * len(str(d.loc.line))
                shown, caret_col = _window(_printable(d.source_line.expandtabs(1)), max(d.loc.col - 1, 0))
                span = max(1, min(d.span, max(len(shown) - caret_col, 1)))
                lines.append(f"{gutter} |")
                lines.append(f"{d.loc.line} | {shown}")
                lines.append(f"{gutter} | {' ' * caret_col}{'^' * span}")
        elif path:
            lines.append(f"  --> ({path})")
        lines.extend(f"  = note: {_printable(note)}" for note in d.notes)
        if d.help:
            lines.append(f"  = help: {_printable(d.help)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    # Lone surrogates become JSON escapes (\\udXXX) rather than failing to encode as UTF-8.
    text = json.dumps([d.to_dict() for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _github_escape(text: str, *, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    text = _printable(text)
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands (annotations on the pull request's files)."""
    lines = []
    for d in diagnostics:
        kind = "error" if d.severity is Severity.ERROR else "warning"
        props = []
        if d.loc:
            props += [
                f"file={_github_escape(d.loc.file, property_value=True)}",
                f"line={d.loc.line}",
                f"col={d.loc.col}",
            ]
        props.append(f"title={_github_escape(d.code, property_value=True)}")
        message = "\n".join([d.message, *d.notes, *([d.help] if d.help else [])])
        lines.append(f"::{kind} {','.join(props)}::{_github_escape(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


RENDERERS = {"text": render_text, "json": render_json, "github": render_github}
