"""The capability matrix of all backends, rendered from their declarations; with details, each
backend's limits too (what it refuses or leaves out although it has the feature)."""

from __future__ import annotations

from compiler.backends import registry
from compiler.backends.base import Limit
from compiler.language.features import Feature

LIMITS_LEGEND = ("limits: what a target refuses (E302) or leaves out with a warning (W302, an error with --strict) "
                 "although it has the feature")


def render_table(table_format: str, *, details: bool = False) -> str:
    backends = [registry.get(name) for name in registry.names()]
    header = ["feature", "kind"] + [backend.title for backend in backends]
    rows = []
    for feature in Feature:
        cells = [feature.value, feature.kind.value]
        for backend in backends:
            support = backend.support(feature)
            cells.append(f"{support.symbol} {support.how}".strip() if details else support.symbol)
        rows.append(cells)
    legend = ("N native · E emulated · ✗ not expressible (the diagnostic names the workaround)\n"
              "kind: where a target cannot express it, an operational setting is left out of that target's output "
              "with a warning (an error with --strict), a semantic feature is an error\n")
    if table_format == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += [_markdown_row(row) for row in rows]
        text = "\n".join(lines) + "\n\n" + legend
    else:
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
        text = "\n".join(lines) + "\n\n" + legend
    return text + (_limits(backends, table_format) if details else "")


def limit_text(limit: Limit) -> str:
    """One limit in a sentence, shared by `targets --details` and `compare`."""
    return f"{limit.code} {limit.name}: {limit.refuses} — {limit.why}"


def _limits(backends: list, table_format: str) -> str:
    if table_format == "markdown":
        lines = ["", LIMITS_LEGEND + ".", "", "| target | code | limit | refused or left out | why | workaround |",
                 "|---|---|---|---|---|---|"]
        lines += [_markdown_row([backend.title, limit.code, limit.name, limit.refuses, limit.why, limit.help])
                  for backend in backends for limit in backend.limits]
        return "\n".join(lines) + "\n"
    lines = ["", LIMITS_LEGEND + ":"]
    for backend in backends:
        lines += ["", f"{backend.title} ({len(backend.limits)})"]
        for limit in backend.limits:
            lines.append(f"  {limit_text(limit)}")
            lines += [f"       workaround: {limit.help}"] if limit.help else []
    return "\n".join(lines) + "\n"


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
