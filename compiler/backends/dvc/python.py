"""The `cmd` of a DVC python stage: `python3 -c '...'`, a line of Python that imports the user's
function and calls it with its arguments written out, e.g.

    python3 -c 'from tinyml.transform import main; main(src="data/raw.csv", seed=${seed})'

Values known when compiling are Python literals; a number param is DVC's `${name}` (DVC writes a
number as Python reads it). The code is written so that no shell and no DVC rule can touch it:
printable ASCII only, double-quoted strings, and none of `'` (it sits in single quotes), `\\\\`
(fish reads it inside single quotes), `${` (DVC would interpolate it) or a line break (DVC runs
each line on its own): a string escapes them as `\\x27`, `\\x5c`, `$\\x7b`, `\\n`. A value output is
written by one more statement after the call. The importer (compiler/importers/dvc/python.py)
reads this code back.
"""

from __future__ import annotations

import keyword
from typing import Any

from compiler.backends.specs import python_value

from .shell import Interpolation

# Names the generated line binds besides the user's function (imported under another name if it
# would shadow one of them) and the values it returns.
RESERVED = {"json", "open", "result"}
# A value output in the text of its file: strings as they are, anything else as compact JSON
# (the text rule of docs/pipeline-syntax.md); json.dumps of a number or bool is already compact.
OUTPUT_TEXT = {
    "str": "{}",
    "int": "json.dumps({})",
    "float": "json.dumps({})",
    "bool": "json.dumps({})",
    "list": 'json.dumps({}, separators=(",", ":"), ensure_ascii=False)',
    "dict": 'json.dumps({}, separators=(",", ":"), ensure_ascii=False)',
}


class NotWritable(Exception):
    """A value the line cannot say (a run-time value DVC cannot hand over exactly)."""


def string(*parts: str | Interpolation) -> str:
    """A double-quoted Python string that any shell keeps as it is inside single quotes and DVC
    leaves alone; an Interpolation part is DVC's `${name}` of a number, written as it is (DVC
    fills it in as Python reads it)."""
    body = []
    previous = ""
    for part in parts:
        if isinstance(part, Interpolation):
            body.append(part)
            previous = "}"
            continue
        for char in part:
            if char == "{" and previous == "$":
                body.append("\\x7b")
            elif " " <= char <= "~" and char not in "\\'\"":
                body.append(char)
            else:
                body.append(_escape(char))
            previous = char
    return '"' + "".join(body) + '"'


def _escape(char: str) -> str:
    code = ord(char)
    if char == '"':
        return '\\"'
    if char in "\n\t\r":
        return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def literal(value: Any) -> str:
    """A value known when compiling as Python code (see `string` for texts)."""
    return python_value(value, string)


def is_keyword_name(key: str) -> bool:
    """Whether an argument can be passed as `key=...` (ASCII: Python normalizes other identifiers)."""
    return key.isascii() and key.isidentifier() and not keyword.iskeyword(key)


def call_line(target: str, arguments: dict[str, str], outputs: list[tuple[str, str, str]]) -> str:
    """The Python line: import the function, call it with ARGUMENTS (name -> code), and write
    each value output (name, type, file) from what it returns. A returned value is bound to a
    variable annotated with its type (`accuracy: float = main(...)`), which says the type to
    the reader and to the importer."""
    module, _, function = target.partition(":")
    head, _, rest = function.partition(".")
    local = f"{head}_" if head in RESERVED else head
    imported = f"from {module} import {head}" + (f" as {local}" if local != head else "")
    call = f"{local}{'.' + rest if rest else ''}({', '.join(_arguments(arguments))})"
    if not outputs:
        return f"{imported}; {call}"
    names = _output_variables([name for name, _, _ in outputs], taken=RESERVED | {local})
    statements = [imported]
    if len(outputs) == 1:
        statements.append(f"{names[0]}: {outputs[0][1]} = {call}")
    else:
        statements.append(f"result = {call}")
        statements += [f"{variable}: {type_name} = result[{string(name)}]"
                       for variable, (name, type_name, _) in zip(names, outputs)]
    for variable, (_, type_name, path) in zip(names, outputs):
        statements.append(f'open({string(path)}, "w", encoding="utf-8").write({OUTPUT_TEXT[type_name].format(variable)})')
    needs_json = any(type_name != "str" for _, type_name, _ in outputs)
    return "; ".join((["import json"] if needs_json else []) + statements)


def _arguments(arguments: dict[str, str]) -> list[str]:
    """`key=code`, and the keys Python cannot name that way as `**{"key": code}`."""
    named = [f"{key}={code}" for key, code in arguments.items() if is_keyword_name(key)]
    others = {key: code for key, code in arguments.items() if not is_keyword_name(key)}
    if others:
        named.append("**{" + ", ".join(f"{string(k)}: {code}" for k, code in others.items()) + "}")
    return named


def _output_variables(names: list[str], taken: set[str]) -> list[str]:
    """A variable per value output: its name, unless Python or the line already uses it."""
    return [name if is_keyword_name(name) and name not in taken else f"{name}_value" for name in names]
