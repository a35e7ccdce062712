"""How `dagshift verify` shows its verdict: text for the terminal, one JSON document for tools
(schema dagshift.verify/1), or one self-contained HTML page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache

import jinja2

from compiler.diagnostics import Diagnostic

from . import render
from .render import duration, table
from .verify import Verification

SCHEMA = "dagshift.verify/1"


def verdict(verification: Verification) -> str:
    if verification.same:
        return (f"no difference: both runs succeeded and left the same {verification.files_compared} file(s) "
                f"and {verification.values_compared} value output(s)")
    if not verification.ran:
        return "not verified: a run could not start"
    failed = [side.role for side, ok in zip(verification.sides, verification.succeeded) if not ok]
    if failed:
        return f"not verified: the {' and the '.join(failed)} run failed"
    files = sum(1 for d in verification.differences if d.kind == "file")
    values = len(verification.differences) - files
    return (f"DIFFERENT: {files} of {verification.files_compared} file(s) and {values} of "
            f"{verification.values_compared} value output(s) differ")


def text_report(verification: Verification) -> str:
    lines = []
    for side in verification.sides:
        if side.result is not None:
            lines += ["", f"{side.role}: {side.form.label}", table(side.result).rstrip("\n"),
                      render.verdict(side.result)]
    if verification.differences:
        lines.append("")
    for difference in verification.differences:
        lines.append(f"{difference.kind} {difference.name}: {difference.detail}")
        if difference.line is not None or difference.kind == "value":
            lines.append(f"  source:    {_shown(difference.source)}")
            lines.append(f"  converted: {_shown(difference.converted)}")
    lines += ["", verdict(verification)]
    if verification.folder is not None:
        lines.append(f"copies of the working directory and the logs: {verification.folder}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _shown(text: str | None) -> str:
    """The text on one line: control characters escaped (a tab, a carriage return)."""
    if text is None:
        return "(none)"
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def to_dict(verification: Verification, diagnostics: Sequence[Diagnostic]) -> dict:
    return {"schema": SCHEMA, "same": verification.same, "verdict": verdict(verification),
            "sides": [side.to_dict() for side in verification.sides],
            "files_compared": verification.files_compared, "values_compared": verification.values_compared,
            "differences": [difference.to_dict() for difference in verification.differences],
            "folder": None if verification.folder is None else str(verification.folder),
            "diagnostics": [diagnostic.to_dict() for diagnostic in diagnostics]}


def json_report(verification: Verification, diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps(to_dict(verification, diagnostics), indent=2, ensure_ascii=False) + "\n"


def interrupted_json(message: str) -> str:
    """The document of a verification stopped before its end: nothing verified."""
    data = {"schema": SCHEMA, "same": False, "verdict": message, "sides": [], "files_compared": 0,
            "values_compared": 0, "differences": [], "folder": None, "diagnostics": []}
    return json.dumps(data, indent=2) + "\n"


@cache
def _environment() -> jinja2.Environment:
    from compiler import templates_dir

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir() / "compare")), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def html_report(verification: Verification, diagnostics: Sequence[Diagnostic]) -> str:
    return _environment().get_template("verify.html.j2").render(
        verification=verification, verdict=verdict(verification), duration=duration,
        diagnostics=[diagnostic.to_dict() for diagnostic in diagnostics])
