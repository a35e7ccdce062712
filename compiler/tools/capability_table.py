"""The capability matrix of all backends, rendered from their declarations."""

from __future__ import annotations

from compiler.backends import registry
from compiler.language.features import Feature


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
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(lines) + "\n\n" + legend
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join(lines) + "\n\n" + legend
