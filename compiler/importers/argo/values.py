"""Argo values as pipeline values: text with `{{...}}` variables turned into placeholders, the
arguments a task passes and the inputs a template receives, and the small conversions of Argo's
text values (typed values, identifiers, durations)."""

from __future__ import annotations

import json
import re
from typing import Any

from compiler.importers.base import line_of, plain

from .state import ReadState
from .stop import ImportStop

_VARIABLE = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)


def typed_value(value: Any) -> Any:
    """An Argo parameter value (text) as the typed value it spells, when it spells one exactly."""
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    if isinstance(parsed, (list, dict)) or json.dumps(parsed, ensure_ascii=False, separators=(",", ":")) == value:
        if isinstance(parsed, str) or parsed is None:
            return value
        return parsed
    return value


def param_default(param: Any) -> Any:
    return param.get("default") if isinstance(param, dict) else param


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def first_key(value: Any) -> str:
    if isinstance(value, dict) and value:
        return str(next(iter(value)))
    return "elsewhere"


def identifier(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if name and (name[0].isalpha() or name[0] == "_") else "p_" + name


def is_identifier(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name))


def deadline_seconds(value: Any) -> int:
    text = str(value)
    if text.isdigit():
        return int(text)
    raise ImportStop(f"activeDeadlineSeconds '{text}' is not a number of seconds")


def duration_seconds(value: Any) -> int:
    from compiler.language.values import parse_duration

    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        return parse_duration(text)
    except (ValueError, TypeError):
        total = 0
        for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
            total += float(amount) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        if not total and text not in ("0", "0s"):
            raise ImportStop(f"duration '{text}' is not understood")
        return round(total)


def node_arguments(state: ReadState, node: dict, scope: dict) -> dict:
    """The node's argument parameters, as pipeline text; artifacts as ("artifact", name)."""
    arguments = node.get("arguments") or {}
    values: dict[Any, Any] = {}
    for entry in arguments.get("parameters") or []:
        name = str(entry.get("name"))
        if "value" in entry:
            values[name] = pipeline_text(state, as_text(plain(entry["value"])), scope, line_of(entry, "value"))
        else:
            state.report.loss(f"argument '{name}' takes its value from {first_key(entry.get('valueFrom'))}, "
                              "which is not carried", line_of(entry), approximate=True)
    for entry in arguments.get("artifacts") or []:
        values[("artifact", str(entry.get("name")))] = entry
    return values


def inputs_scope(state: ReadState, template: dict, arguments: dict, line: int | None) -> dict:
    """What `{{inputs.parameters.X}}` means inside the template: the argument, else the default."""
    inputs = template.get("inputs") or {}
    scope: dict[Any, Any] = {}
    for entry in inputs.get("parameters") or []:
        name = str(entry.get("name"))
        if name in arguments:
            scope[name] = arguments[name]
        elif "value" in entry:
            scope[name] = pipeline_text(state, as_text(plain(entry["value"])), {}, line_of(entry, "value"))
        elif "default" in entry:
            scope[name] = pipeline_text(state, as_text(plain(entry["default"])), {}, line_of(entry, "default"))
        elif "valueFrom" in entry:
            state.report.loss(f"input '{name}' of template '{template.get('name')}' takes its value from "
                              f"{first_key(entry['valueFrom'])}, which is not carried: it is empty",
                              line_of(entry, "valueFrom"))
            scope[name] = ""
        else:
            state.report.loss(f"input '{name}' of template '{template.get('name')}' gets no value", line,
                              approximate=True)
            scope[name] = ""
    for key, value in arguments.items():
        if isinstance(key, tuple):
            scope[key] = value
    return scope


def pipeline_text(state: ReadState, text: str, scope: dict, line: int | None) -> str:
    """Argo text as pipeline text: variables become placeholders; `${{` is escaped."""
    text = text.replace("${{", "$${{")
    pieces = []
    position = 0
    for match in _VARIABLE.finditer(text):
        pieces.append(text[position:match.start()])
        pieces.append(_variable(state, match.group(1), match.group(0), scope, line))
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


def _variable(state: ReadState, name: str, original: str, scope: dict, line: int | None) -> str:
    parts = name.split(".")
    if parts[:2] == ["workflow", "parameters"] and len(parts) == 3 and parts[2] in state.param_names:
        return f"${{{{ params.{state.param_names[parts[2]]} }}}}"
    if parts[:2] == ["inputs", "parameters"] and len(parts) == 3 and parts[2] in scope:
        return scope[parts[2]]
    if parts[0] == "item" and len(parts) <= 2:
        return "${{ item }}" if len(parts) == 1 else f"${{{{ item.{parts[1]} }}}}"
    if parts[0] in ("tasks", "steps") and len(parts) >= 4 and parts[2] == "outputs":
        task_id = state.argo_ids.get(parts[1]) or scoped_id(state, parts[1])
        if task_id is not None:
            if parts[3] == "parameters" and len(parts) == 5:
                output = identifier(parts[4])
                state.pending_outputs.append((task_id, output, line))
                return f"${{{{ tasks.{task_id}.outputs.{output} }}}}"
            if parts[3] == "result" and len(parts) == 4:
                state.pending_outputs.append((task_id, "result", line))
                return f"${{{{ tasks.{task_id}.outputs.result }}}}"
    state.report.loss(f"the Argo variable {original} has no pipeline equivalent: kept as text", line,
                      approximate=True)
    return original


def scoped_id(state: ReadState, argo_name: str) -> str | None:
    """An upstream named from inside an inlined template: the task of the newest path (in the order
    paths were first seen) that is that name or ends with "-" and that name."""
    path = state.path_suffixes.get(argo_name)
    return state.argo_ids[path] if path is not None else None
