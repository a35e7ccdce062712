"""A loaded source file: its text and where every node of the data came from.

Passes report problems by YAML path (`('tasks', 'train', 'after', 0)`); the source file turns the
path into file:line:col, the source line and a caret span.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from compiler.diagnostics import Diagnostic, Diagnostics, Severity, SourceLoc, YamlPath


@dataclass(frozen=True)
class NodeLoc:
    """0-based position and width of one node (a mapping key or a value) in the text."""

    line: int
    col: int
    width: int = 1


@dataclass
class SourceFile:
    name: str
    text: str = ""
    values: dict[YamlPath, NodeLoc] = field(default_factory=dict)
    keys: dict[YamlPath, NodeLoc] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # YAML (and ruamel's marks) break lines at \n, \r\n and \r only, unlike str.splitlines().
        self._lines = re.split(r"\r\n|\r|\n", self.text)

    def line_text(self, line0: int) -> str | None:
        if 0 <= line0 < len(self._lines):
            return self._lines[line0]
        return None

    def find(self, path: YamlPath, *, at_key: bool = False) -> NodeLoc | None:
        """The node at `path`, or the closest enclosing node that has a position."""
        if at_key and path in self.keys:
            return self.keys[path]
        probe = tuple(path)
        while True:
            if probe in self.values:
                return self.values[probe]
            if probe in self.keys:
                return self.keys[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def diagnostic(
        self,
        code: str,
        severity: Severity,
        message: str,
        path: YamlPath = (),
        *,
        help: str | None = None,
        at_key: bool = False,
        node: NodeLoc | None = None,
        notes: tuple[str, ...] = (),
    ) -> Diagnostic:
        node = node or self.find(path, at_key=at_key)
        if node is None:
            return Diagnostic(code, severity, message, SourceLoc(self.name, 1, 1), path, help, notes=notes)
        return Diagnostic(
            code,
            severity,
            message,
            SourceLoc(self.name, node.line + 1, node.col + 1),
            path,
            help,
            self.line_text(node.line),
            node.width,
            notes,
        )


    def refine(self, node: NodeLoc | None, needle: str) -> NodeLoc | None:
        """Point inside a scalar: at `needle` on the node's line, when it is there."""
        if node is None:
            return None
        line = self.line_text(node.line) or ""
        found = line.find(needle, node.col)
        return NodeLoc(node.line, found, len(needle)) if found >= 0 else node


@dataclass
class Reporter:
    """What a pass gets to report with: the source for locations, the collector for results."""

    source: SourceFile
    diagnostics: Diagnostics
    # Where a path's value was written, when that is elsewhere (a task's setting that came from
    # `defaults`): the path to report, and notes that say why.
    written_at: Callable[[YamlPath], tuple[YamlPath, tuple[str, ...]]] | None = None

    def error(self, code: str, message: str, path: YamlPath = (), *, help: str | None = None, at_key: bool = False,
              notes: tuple[str, ...] = ()) -> None:
        self._add(code, Severity.ERROR, message, path, help, at_key, notes)

    def warning(self, code: str, message: str, path: YamlPath = (), *, help: str | None = None, at_key: bool = False,
                notes: tuple[str, ...] = ()) -> None:
        self._add(code, Severity.WARNING, message, path, help, at_key, notes)

    def error_at_text(self, code: str, message: str, path: YamlPath, needle: str, *, help: str | None = None) -> None:
        """An error pointing at `needle` inside the text at `path` (a placeholder in a command)."""
        self._add_at_text(code, Severity.ERROR, message, path, needle, help)

    def warning_at_text(self, code: str, message: str, path: YamlPath, needle: str, *,
                        help: str | None = None) -> None:
        """A warning pointing at `needle` inside the text at `path` (a file path in a command)."""
        self._add_at_text(code, Severity.WARNING, message, path, needle, help)

    def _add_at_text(self, code: str, severity: Severity, message: str, path: YamlPath, needle: str,
                     help: str | None) -> None:
        path, notes = self.written_at(path) if self.written_at else (path, ())
        node = self.source.refine(self.source.find(path), needle)
        self.diagnostics.add(self.source.diagnostic(code, severity, message, path, help=help, node=node,
                                                    notes=notes))

    def _add(self, code: str, severity: Severity, message: str, path: YamlPath, help: str | None, at_key: bool,
             notes: tuple[str, ...]) -> None:
        if self.written_at is not None:
            path, why = self.written_at(path)
            notes = (*why, *notes)
        self.diagnostics.add(self.source.diagnostic(code, severity, message, path, help=help, at_key=at_key,
                                                    notes=notes))
