"""What every backend is: a name, declared capabilities, and a `render` from IR to files."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import PurePath
from typing import Any, ClassVar, Mapping

import networkx as nx

from compiler.diagnostics import Diagnostics, YamlPath
from compiler.language.features import Feature
from compiler.language.ir import Pipeline
from compiler.language.source import Reporter


class Level(str, Enum):
    NATIVE = "native"
    EMULATED = "emulated"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class TaskCost:
    """A target's cost model: what one scheduled task costs on it, beyond the work itself."""

    overhead: float  # seconds per task: pod start-up, scheduler round-trip, ...
    why: str


@dataclass(frozen=True)
class Support:
    level: Level
    how: str = ""  # native/emulated: how the target does it; unsupported: the workaround

    @property
    def symbol(self) -> str:
        return {Level.NATIVE: "N", Level.EMULATED: "E", Level.UNSUPPORTED: "✗"}[self.level]


def native(how: str = "") -> Support:
    return Support(Level.NATIVE, how)


def emulated(how: str) -> Support:
    return Support(Level.EMULATED, how)


def unsupported(workaround: str) -> Support:
    return Support(Level.UNSUPPORTED, workaround)


@dataclass(frozen=True)
class Limit:
    """What a target cannot write even where it supports the feature: a value too long, a text its
    own templating would read. Declared on the backend (`Backend.limits`) so `dagshift targets
    --details` and `compare` show them; the builder reports each through `diagnose`, so every
    E302 (refused) or W302 (an operational setting left out) has its declaration."""

    name: str  # short and stable: "tag-length"
    refuses: str  # what the target cannot take
    why: str
    help: str  # the workaround: the diagnostic's help unless the call site gives a sharper one ("" for none)
    left_out: bool = False  # an operational setting dropped with a warning (an error with --strict)

    @property
    def code(self) -> str:
        return "W302" if self.left_out else "E302"

    def diagnose(self, report: Reporter, message: str, path: YamlPath = (), *, at_key: bool = False,
                 help: str | None = None) -> None:
        """Report this limit at `path`; `message` says what was hit, with the pipeline's names."""
        emit = report.warning if self.left_out else report.error
        emit(self.code, message, path, at_key=at_key, help=(self.help if help is None else help) or None)


@dataclass
class EmitContext:
    """What a backend gets besides the pipeline: the graph, where to report, the options."""

    graph: nx.DiGraph
    report: Reporter
    source_name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # hints for the person compiling, not problems

    @property
    def diagnostics(self) -> Diagnostics:
        return self.report.diagnostics

    @cached_property
    def _file_name(self) -> str:
        return comment_safe(PurePath(self.source_name).name)

    def origin(self, task_id: str) -> str:
        """Where a task is written, for a comment beside its code: `sequential.yaml:40 tasks.train`
        (the file's name only, so the output does not depend on where dagshift ran). A task the
        optimizer made (-O2 fuses chains) has no line of its own."""
        key = self.report.source.keys.get(("tasks", task_id))
        where = f"{self._file_name}:{key.line + 1}" if key is not None else self._file_name
        return f"{where} tasks.{comment_safe(task_id)}"


def comment_safe(text: str) -> str:
    """Text that stays inside a one-line comment: anything unprintable is escaped."""
    return text if text.isprintable() else repr(text)[1:-1]


class Backend:
    """Subclass, set the class attributes, implement `render`, and register (see registry.py)."""

    name: ClassVar[str]
    title: ClassVar[str]
    # Features not listed are unsupported with a generic workaround.
    capabilities: ClassVar[Mapping[Feature, Support]]
    # What the target refuses (or leaves out) even where it supports the feature; see `Limit`.
    limits: ClassVar[tuple[Limit, ...]] = ()
    # Backend-specific `--option key=value` settings and their help, e.g. {"container": "kpo|docker"}.
    option_help: ClassVar[Mapping[str, str]] = {}
    # What one scheduled task costs on the target: -O2 fuses chains of small tasks when it is not 0.
    cost: ClassVar[TaskCost] = TaskCost(0.0, "no per-task cost known")
    # How long rendering takes next to the other targets (benchmarks/scale_bench.py): spreads the
    # targets of one compile over the cores (compiler/parallel.py).
    render_weight: ClassVar[float] = 1.0
    # A plug-in's importer, "module:attribute" (registry.py); the built-ins name theirs in the registry.
    importer: ClassVar[str | None] = None

    def support(self, feature: Feature, options: Mapping[str, Any] | None = None) -> Support:
        """How the target expresses `feature`; `options` (--option) may turn on an emulation."""
        return self.capabilities.get(
            feature, unsupported(f"{self.title} has no equivalent; express it inside the task's command")
        )

    def render(self, pipeline: Pipeline, ctx: EmitContext) -> dict[str, str]:
        """Return {relative path: file text}. Report problems on ctx.report; never raise for bad input."""
        raise NotImplementedError
