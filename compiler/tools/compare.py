"""`dagshift compare`: how each backend realizes each feature a pipeline uses.

The model joins two sources: the backends' declarations (`Backend.support`: native / emulated /
unsupported and the declared "how" text) and a real compile per target, as `dagshift compile`
does by default (not --strict). An unsupported operational setting is left out of that target's
output; an unsupported semantic feature stops that target (features.FeatureKind).
Rows are (task or the pipeline, feature) in file order; everything is ordered so the output is
byte-deterministic.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field

from compiler.backends import registry
from compiler.backends.base import Level, Limit
from compiler.compile import compile_loaded, fold_defaults
from compiler.diagnostics import Diagnostic, Diagnostics, Severity, _printable  # _printable: terminal-safe user text
from compiler.language.features import Feature, FeatureKind, FeatureUse, feature_uses
from compiler.language.load import Loaded
from compiler.passes.lower import LEFT_OUT_CODES

SCHEMA = "dagshift.compare/2"
SYMBOLS = {Level.NATIVE: "N", Level.EMULATED: "E", Level.UNSUPPORTED: "✗"}
LEGEND = "N native · E emulated (see the note) · ✗ not expressible (the note names the workaround)"
LIMITS_HINT = ("what each target refuses (E302) or leaves out with a warning (W302) although it has the feature; "
               "`dagshift targets --details` explains each")

# What a compile does with an unsupported use.
LEFT_OUT = "left out"  # an operational setting: dropped from that target's output, with a warning
BLOCKS = "blocks"  # a semantic feature: the target cannot compile this pipeline


@dataclass(frozen=True)
class Cell:
    level: Level
    how: str  # the backend's declared text: how it does it, or the workaround
    outcome: str | None = None  # for unsupported cells: LEFT_OUT or BLOCKS
    note: int | None = None  # footnote number (emulated and unsupported cells)

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.level]


@dataclass(frozen=True)
class Row:
    task: str | None  # None: a pipeline-level setting
    feature: Feature
    cells: dict[str, Cell]  # target name -> cell

    @property
    def subject(self) -> str:
        return self.task if self.task is not None else "pipeline"


@dataclass(frozen=True)
class Note:
    number: int
    target: str
    feature: Feature
    level: Level
    how: str
    outcome: str | None


@dataclass
class TargetResult:
    name: str
    title: str
    files: dict[str, str] = field(default_factory=dict)
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    limits: tuple[Limit, ...] = ()  # the backend's declared limits, whether this pipeline hits them or not

    @property
    def compiles(self) -> bool:
        return not self.errors


@dataclass
class Comparison:
    pipeline_name: str
    source_name: str
    targets: list[TargetResult]
    rows: list[Row]
    notes: list[Note]


def compare_loaded(loaded: Loaded, targets: list[str] | None = None) -> Comparison:
    """Compare a loaded, validated pipeline (no errors) across `targets` (default: all)."""
    if loaded.pipeline is None or loaded.diagnostics.has_errors:
        raise ValueError("compare needs a valid pipeline: report loaded.diagnostics first")
    names = targets if targets is not None else registry.names()
    results = [_compile_one(loaded, name) for name in names]
    pipeline = fold_defaults(loaded.pipeline)
    uses = _unique_uses(feature_uses(pipeline))
    rows: list[Row] = []
    notes: dict[tuple, Note] = {}
    for use in uses:
        cells = {}
        for result in results:
            support = registry.get(result.name).support(use.feature)
            outcome = _outcome(use) if support.level is Level.UNSUPPORTED else None
            number = None
            if support.level is not Level.NATIVE:
                key = (result.name, use.feature, support.level, support.how, outcome)
                if key not in notes:
                    notes[key] = Note(len(notes) + 1, result.name, use.feature, support.level, support.how, outcome)
                number = notes[key].number
            cells[result.name] = Cell(support.level, support.how, outcome, number)
        rows.append(Row(use.task, use.feature, cells))
    return Comparison(loaded.pipeline.name, loaded.source.name, results, rows, list(notes.values()))


def _compile_one(loaded: Loaded, target: str) -> TargetResult:
    # A fresh diagnostics list per target: compile_loaded appends to the one it is given.
    own = Loaded(loaded.source, Diagnostics(list(loaded.diagnostics.items)), loaded.pipeline, loaded.data)
    before = len(own.diagnostics.items)
    compiled = compile_loaded(own, [target])
    found = Diagnostics(compiled.diagnostics.items[before:]).sorted()  # the target's own, not validation's
    backend = registry.get(target)
    return TargetResult(
        name=target,
        title=backend.title,
        files=dict(sorted(compiled.files.items())),
        errors=[d for d in found if d.severity is Severity.ERROR],
        warnings=[d for d in found if d.severity is Severity.WARNING],
        notes=list(dict.fromkeys(compiled.notes)),
        limits=backend.limits,
    )


def _unique_uses(uses) -> list[FeatureUse]:
    """One use per (task, feature): two data triggers are one row."""
    seen: dict[tuple[str | None, Feature], FeatureUse] = {}
    for use in uses:
        seen.setdefault((use.task, use.feature), use)
    return list(seen.values())


def _outcome(use: FeatureUse) -> str:
    return LEFT_OUT if use.feature.kind is FeatureKind.OPERATIONAL else BLOCKS


def level_counts(comparison: Comparison) -> dict[str, dict[str, int]]:
    """Per target: how many rows are native, emulated, unsupported."""
    counts = {t.name: {level.value: 0 for level in Level} for t in comparison.targets}
    for row in comparison.rows:
        for name, cell in row.cells.items():
            counts[name][cell.level.value] += 1
    return counts


def outcome_text(outcome: str | None) -> str:
    return {
        LEFT_OUT: "it is left out of the output, with a warning",
        BLOCKS: "this target cannot compile the pipeline while it is used",
        None: "",
    }[outcome]


def note_text(note: Note) -> str:
    """One sentence per footnote, shared by the text, markdown and HTML renderings."""
    if note.level is Level.EMULATED:
        return f"{note.target}: {note.feature.value}: emulated: {note.how}"
    extra = outcome_text(note.outcome)
    return f"{note.target}: {note.feature.value}: not expressible; workaround: {note.how}" + (
        f" ({extra})" if extra else "")


# ----------------------------------------------------------------------------- renderings


def to_json(comparison: Comparison) -> str:
    data = {
        "schema": SCHEMA,
        "pipeline": comparison.pipeline_name,
        "source": comparison.source_name,
        "strict": False,
        "legend": {"N": Level.NATIVE.value, "E": Level.EMULATED.value, "✗": Level.UNSUPPORTED.value},
        "targets": [
            {
                "name": t.name,
                "title": t.title,
                "compiles": t.compiles,
                "files": list(t.files),
                "errors": [d.to_dict() for d in t.errors],
                "warnings": [d.to_dict() for d in t.warnings],
                "limits": [{"name": limit.name, "code": limit.code, "refuses": limit.refuses, "why": limit.why,
                            "help": limit.help} for limit in t.limits],
            }
            for t in comparison.targets
        ],
        "rows": [
            {
                "task": row.task,
                "feature": row.feature.value,
                "feature_id": row.feature.name.lower(),
                "cells": {
                    name: {"level": c.level.value, "symbol": c.symbol, "how": c.how, "outcome": c.outcome,
                           "note": c.note}
                    for name, c in row.cells.items()
                },
            }
            for row in comparison.rows
        ],
        "notes": [
            {"number": n.number, "target": n.target, "feature": n.feature.value, "level": n.level.value,
             "how": n.how, "outcome": n.outcome}
            for n in comparison.notes
        ],
    }
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _cell_label(cell: Cell) -> str:
    return cell.symbol if cell.note is None else f"{cell.symbol}{cell.note}"


def table_rows(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    header = ["task", "feature"] + [t.name for t in comparison.targets]
    body = [[row.subject, row.feature.value] + [_cell_label(row.cells[t.name]) for t in comparison.targets]
            for row in comparison.rows]
    return header, body


def _target_summary(target: TargetResult) -> str:
    if target.compiles:
        return f"{target.name}: compiles ({len(target.files)} file(s), {len(target.warnings)} warning(s))"
    first = "; ".join(d.message for d in target.errors[:3])
    more = f"; and {len(target.errors) - 3} more" if len(target.errors) > 3 else ""
    return f"{target.name}: cannot compile: {len(target.errors)} error(s): {first}{more}"


def _other_warnings(target: TargetResult) -> list[str]:
    """Warnings the table does not already show as "left out": files or code that would not reach
    a Kubernetes pod (W303, W304), for example."""
    return [f"warning[{d.code}] {d.loc}: {d.message}" if d.loc else f"warning[{d.code}]: {d.message}"
            for d in target.warnings if d.code not in LEFT_OUT_CODES]


def limit_names(target: TargetResult) -> str:
    """A target's limits in one compact line, by code: `airflow: E302 a, b; W302 c`."""
    names: dict[str, list[str]] = {}
    for limit in target.limits:
        names.setdefault(limit.code, []).append(limit.name)
    text = "; ".join(f"{code} {', '.join(of_code)}" for code, of_code in sorted(names.items()))
    return f"{target.name}: {text or 'none declared'}"


def to_text(comparison: Comparison) -> str:
    header, body = table_rows(comparison)
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [f"pipeline '{comparison.pipeline_name}' ({comparison.source_name})", ""]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *body]]
    lines += ["", LEGEND, "", "notes:"]
    lines += [f"  [{n.number}] {note_text(n)}" for n in comparison.notes] or ["  (none: every feature is native)"]
    lines += ["", "targets:"]
    for target in comparison.targets:
        lines += [f"  {_target_summary(target)}"] + [f"    {line}" for line in _other_warnings(target)]
    lines += ["", f"limits: {LIMITS_HINT}:"]
    for target in comparison.targets:
        lines += textwrap.wrap(limit_names(target), 110, initial_indent="  ", subsequent_indent="    ",
                               break_on_hyphens=False)
    return "\n".join(_printable(line) for line in lines) + "\n"


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(comparison: Comparison) -> str:
    header, body = table_rows(comparison)
    lines = [f"# dagshift compare: {_md(comparison.pipeline_name)}", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in body]
    lines += ["", LEGEND, "", "## Notes", ""]
    lines += [f"{n.number}. {_md(note_text(n))}" for n in comparison.notes] or ["None: every feature is native."]
    lines += ["", "## Targets", ""]
    for target in comparison.targets:
        lines += [f"- {_md(_target_summary(target))}"] + [f"  - {_md(line)}" for line in _other_warnings(target)]
    lines += ["", "## Limits", "", _md(LIMITS_HINT[0].upper() + LIMITS_HINT[1:]) + ".", ""]
    lines += [f"- {_md(limit_names(target))}" for target in comparison.targets]
    return "\n".join(_printable(line) for line in lines) + "\n"

