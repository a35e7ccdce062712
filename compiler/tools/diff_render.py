"""`dagshift diff` output: a PipelineDiff as a changelog (text), JSON for tools, or Markdown for a
pull-request comment. Every list is already sorted in the diff, so output is stable."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from compiler.language.values import format_duration

from .semantic_diff import Change, PipelineDiff

# Human names of the common fields; any other field shows as its key.
LABELS = {
    "command": "command", "python": "python callable", "image": "container image", "args": "arguments",
    "env": "env", "secrets": "secret", "retries": "retries", "retry_delay": "retry delay",
    "retry_backoff": "retry backoff", "retry_max_delay": "max retry delay", "timeout": "timeout",
    "schedule": "schedule", "params": "param", "resources": "resources", "when": "condition (when)",
    "else_of": "else branch of", "trigger_rule": "trigger rule", "cache": "caching", "pool": "pool",
    "outputs": "output", "consumes": "consumes", "produces": "produces", "alerts": "alerts",
    "max_active_tasks": "max active tasks", "max_active_runs": "max active runs", "artifacts": "artifact",
    "triggers": "triggers", "foreach": "foreach", "max_parallel": "max parallel", "estimate": "estimate",
    "priority": "priority", "description": "description", "owner": "owner", "tags": "tags",
    "workdir": "workdir", "name": "name",
}
_NAMED = ("params", "artifacts", "outputs", "env", "secrets")  # mappings whose keys are names
_DURATIONS = ("retry_delay", "retry_max_delay", "timeout", "estimate", "expire", "poll_interval")
NOT_SET = "(not set)"


def label(path: str) -> str:
    """`params.lr.default` -> `param lr default`; `retry_delay` -> `retry delay`."""
    head, *rest = path.split(".")
    name = LABELS.get(head, head)
    if head == "artifacts" and len(rest) > 2:  # DVC names an artifact by its path, dots included
        entry, _, field = path[len("artifacts."):].rpartition(".")
        rest = [entry, field]
    if head in _NAMED and rest:
        name, rest = f"{name} {rest[0]}", rest[1:]
    return " ".join([name, *rest])


def value_text(path: str, value: Any) -> str:
    if value is None:
        return NOT_SET
    if value == {}:
        return "set (with the defaults)"  # e.g. `cache: true`: every field is its default
    if path.split(".")[-1] in _DURATIONS and isinstance(value, int) and not isinstance(value, bool):
        return format_duration(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def _change_line(path: str, change: Change) -> str:
    if change.a is None:
        return f"+ {label(path)}: {value_text(path, change.b)}"
    if change.b is None:
        return f"- {label(path)}: {value_text(path, change.a)}"
    return f"~ {label(path)}: {value_text(path, change.a)} -> {value_text(path, change.b)}"


def render_text(diff: PipelineDiff) -> str:
    lines = [f"--- {diff.a}", f"+++ {diff.b}"]
    if diff.compared_as:
        lines.append(f"({_compared_as(diff)})")
    if diff.same:
        return "\n".join(lines + ["no differences"]) + "\n"
    if diff.pipeline:
        lines += ["", "pipeline:"] + [f"  {_change_line(p, c)}" for p, c in diff.pipeline.items()]
    if diff.added or diff.removed or diff.renamed:
        lines += ["", "tasks:"]
        lines += [f"  + {task}" for task in diff.added]
        lines += [f"  - {task}" for task in diff.removed]
        lines += [f"  ~ {old} renamed to {new}" for old, new in diff.renamed]
    if diff.edges_added or diff.edges_removed:
        lines += ["", "edges:"]
        lines += [f"  + {u} -> {v}" for u, v in diff.edges_added]
        lines += [f"  - {u} -> {v}" for u, v in diff.edges_removed]
    for task, changes in diff.changed.items():
        lines += ["", f"task {task}:"] + [f"  {_change_line(p, c)}" for p, c in changes.items()]
    lines += ["", _summary(diff)]
    return "\n".join(lines) + "\n"


def _compared_as(diff: PipelineDiff) -> str:
    names = list(diff.compared_as)
    formats = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"compared as {formats} {'holds' if len(names) == 1 else 'hold'} a pipeline"


def _summary(diff: PipelineDiff) -> str:
    settings = len(diff.pipeline) + sum(len(c) for c in diff.changed.values())
    return (f"{len(diff.added)} task(s) added, {len(diff.removed)} removed, {len(diff.renamed)} renamed; "
            f"{len(diff.edges_added)} edge(s) added, {len(diff.edges_removed)} removed; {settings} setting(s) changed")


def render_json(diff: PipelineDiff) -> str:
    return json.dumps(diff.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    """A Markdown table cell: code, with pipes and newlines that would break the row escaped."""
    text = text.replace("|", "\\|").replace("\n", " ")
    return f"`{text}`" if "`" not in text else text


def render_markdown(diff: PipelineDiff) -> str:
    lines = [f"### dagshift diff: `{diff.a}` → `{diff.b}`", ""]
    if diff.compared_as:
        lines += [f"_{_compared_as(diff).capitalize()}._", ""]
    if diff.same:
        return "\n".join(lines + ["No semantic differences."]) + "\n"
    lines += [f"**{_summary(diff)}**", ""]
    if diff.added or diff.removed or diff.renamed:
        lines += ["#### Tasks", ""]
        lines += [f"- added `{task}`" for task in diff.added]
        lines += [f"- removed `{task}`" for task in diff.removed]
        lines += [f"- renamed `{old}` → `{new}`" for old, new in diff.renamed]
        lines.append("")
    if diff.edges_added or diff.edges_removed:
        lines += ["#### Edges", ""]
        lines += [f"- added `{u}` → `{v}`" for u, v in diff.edges_added]
        lines += [f"- removed `{u}` → `{v}`" for u, v in diff.edges_removed]
        lines.append("")
    rows = [("pipeline", p, c) for p, c in diff.pipeline.items()]
    rows += [(f"task {task}", p, c) for task, changes in diff.changed.items() for p, c in changes.items()]
    if rows:
        lines += ["#### Settings", "", "| where | setting | A | B |", "| --- | --- | --- | --- |"]
        lines += [f"| {where} | {label(p)} | {_cell(value_text(p, c.a))} | {_cell(value_text(p, c.b))} |"
                  for where, p, c in rows]
    return "\n".join(lines).rstrip("\n") + "\n"


RENDERERS: dict[str, Callable[[PipelineDiff], str]] = {
    "text": render_text, "json": render_json, "markdown": render_markdown,
}
