"""Block-style YAML for data the backends build (dicts, lists, str, int, float, bool, None).

A serializer of our own rather than ruamel's round-trip dumper, which is pure Python and took most
of the time of a 10,000-task Argo compile. The rules are few and conservative, so a file reads the
same under YAML 1.1 (Go, Argo, Kubernetes) and YAML 1.2:

- a string is plain only when it cannot be read as anything else (no bool/null words, nothing
  that starts like a number or date, no indicator, no `: ` or ` #`); otherwise it is written
  single-quoted when it holds `"` or `\\` and nothing to escape, else double-quoted with JSON
  escapes, plus escapes for what YAML does not allow raw (C1 controls,
  DEL, BOM) or folds (NEL, LS, PS);
- `BlockText` strings (multi-line code) are `|` blocks when that is exact, else double-quoted;
- keys keep the order given; mappings indent by 2, sequences are indented under their key.

`emit.to_yaml` writes with this and checks the text reads back as the same data.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any


class BlockText(str):
    """A string to show as a `|` block (code, scripts)."""


_PLAIN = re.compile(r"[A-Za-z_/$][A-Za-z0-9_ ./:@,=+()$-]*")
_NOT_PLAIN_WORDS = frozenset(
    w for word in ("y", "yes", "n", "no", "true", "false", "on", "off", "null")
    for w in (word, word.capitalize(), word.upper())
)
# Characters a double-quoted YAML scalar must escape beyond what JSON escapes.
_EXTRA_ESCAPES = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_BLOCK_SAFE = re.compile("[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\r]*")


# YAML 1.2 limits an implicit key (`key: value`) to 1024 characters; longer keys are written
# explicitly (`? key` then `: value`).
_LONGEST_IMPLICIT_KEY = 1024


def dumps(data: Any) -> str:
    lines: list[str] = []
    _node(data, 0, lines, "")
    return "\n".join(lines) + "\n"


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()  # a YAML timestamp, read back as the same date or time
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"  # YAML 1.1 needs the dot to read a float
    return text


def _string(value: str) -> str:
    if (_PLAIN.fullmatch(value) and value not in _NOT_PLAIN_WORDS and not value.endswith((" ", ":"))
            and ": " not in value and " #" not in value):
        return value
    return _quoted(value)


_SINGLE_SAFE = re.compile("[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]*")


def _quoted(value: str) -> str:
    if ('"' in value or "\\" in value) and _SINGLE_SAFE.fullmatch(value):
        return "'" + value.replace("'", "''") + "'"  # reads better than a string of \" escapes
    text = json.dumps(value, ensure_ascii=False)
    return _EXTRA_ESCAPES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _node(value: Any, indent: int, lines: list[str], prefix: str) -> None:
    """Write `value` after `prefix` (a key or `- ` already placed on the current line)."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            lines.append(f"{prefix}{{}}" if prefix else f"{pad}{{}}")
            return
        first = True
        for key, item in value.items():
            start = prefix if first and prefix else pad
            first = False
            key_text = _string(str(key))
            if len(key_text) > _LONGEST_IMPLICIT_KEY:  # YAML reads a longer `key:` as an error
                lines.append(f"{start}? {key_text}")
                start = pad
                key_text = ""
            _child(item, indent, lines, f"{start}{key_text}:")
        return
    if isinstance(value, list):
        if not value:
            lines.append(f"{prefix}[]" if prefix else f"{pad}[]")
            return
        first = True
        for item in value:
            head = f"{prefix if first and prefix else pad}- "
            first = False
            if isinstance(item, (dict, list)) and item:
                _node(item, indent + 2, lines, head)
            else:
                _inline(item, indent + 2, lines, head)
        return
    _inline(value, indent, lines, prefix or pad)


def _child(item: Any, indent: int, lines: list[str], head: str) -> None:
    """The value of a mapping key: nested collections go on the next lines."""
    if isinstance(item, dict) and item or isinstance(item, list) and item:
        lines.append(head)
        _node(item, indent + 2, lines, "")
    else:
        _inline(item, indent + 2, lines, head + " ")


def _inline(value: Any, indent: int, lines: list[str], head: str) -> None:
    if isinstance(value, dict):
        lines.append(head + "{}")
    elif isinstance(value, list):
        lines.append(head + "[]")
    elif isinstance(value, BlockText) and _block_ok(value):
        lines.append(head + _block_header(value))
        pad = " " * indent
        for line in value.rstrip("\n").split("\n"):
            lines.append(pad + line if line else "")
    else:
        lines.append(head + scalar(value))


def _block_ok(value: str) -> bool:
    trailing = len(value) - len(value.rstrip("\n"))
    return (bool(value.strip()) and trailing <= 1 and _BLOCK_SAFE.fullmatch(value) is not None
            and value[0] not in " \n")


def _block_header(value: str) -> str:
    return "|" if value.endswith("\n") else "|-"
