"""Python string literals for the Prefect backend: user text as plain and f-string literals.

Text reaches the generated module only through `literal` and `fstring`, which escape every
character Python could read as syntax (quotes, backslashes, braces in f-strings, line breaks and
every other unprintable character), so it stays data. Long or multi-line texts are written as
implicitly concatenated pieces (one per line once black wraps the call), split only at spaces and
line breaks of the literal text: Python joins them back into the same value.
"""

from __future__ import annotations

from dataclasses import dataclass

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
OPTION_BREAK = 45  # a piece this long ends before the next ` -option` (or ` &&`, ` ||`, ` |`)


@dataclass(frozen=True)
class Expr:
    """Python code inside an f-string: `{code}`."""

    code: str


Part = str | Expr  # literal text, or an expression whose value is written as text


def _escaped(char: str, braces: bool) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if braces and char in "{}":
        return char * 2
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def literal(text: str) -> str:
    """A double-quoted Python string literal of `text`."""
    return '"' + "".join(_escaped(char, braces=False) for char in text) + '"'


def _token(parts: list[Part]) -> str:
    if not any(isinstance(part, Expr) for part in parts):
        return literal("".join(parts))  # type: ignore[arg-type]
    body = "".join("{" + part.code + "}" if isinstance(part, Expr) else
                   "".join(_escaped(char, braces=True) for char in part) for part in parts)
    return 'f"' + body + '"'


def fstring(parts: list[Part]) -> str:
    """One literal for the parts: an f-string when an expression is among them."""
    return _token(_merged(parts))


def pieces(parts: list[Part], room: int = 80) -> list[str]:
    """The parts as literals to concatenate implicitly, each on a line of `room` characters: one
    literal when it fits, else a new piece after each line break, before a ` -option` or ` &&`
    once a piece is long enough, and before any space once it is full."""
    merged = _merged(parts)
    whole = _token(merged)
    if len(whole) <= room and not any(isinstance(p, str) and "\n" in p.rstrip("\n") for p in merged):
        return [whole]
    width = max(room - 12, 20)
    tokens: list[list[Part]] = [[]]
    size, quote = 0, ""
    for part in merged:
        if isinstance(part, Expr):
            tokens[-1].append(part)
            size += len(part.code) + 2
            continue
        for index, char in enumerate(part):
            # break at a space outside quotes: a quoted shell argument reads best in one piece
            option_next = part.startswith((" -", " &&", " ||", " |"), index) and not quote
            full = size >= width + (20 if quote else 0)
            if char == " " and (full or (option_next and size >= min(OPTION_BREAK, width))):
                tokens.append([])
                size = 0
            _append(tokens[-1], char)
            size += 1
            if char in "'\"" and quote in ("", char):
                quote = "" if quote else char
            if char == "\n":
                tokens.append([])
                size, quote = 0, ""
    return [_token(token) for token in tokens if token]


def _append(token: list[Part], char: str) -> None:
    if token and isinstance(token[-1], str):
        token[-1] += char
    else:
        token.append(char)


def _merged(parts: list[Part]) -> list[Part]:
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
                continue
        merged.append(part)
    return merged


def joined(tokens: list[str]) -> str:
    """Pieces as one expression: parenthesized on lines of their own when there are several."""
    if len(tokens) == 1:
        return tokens[0]
    return "(\n" + "\n".join(tokens) + "\n)"
