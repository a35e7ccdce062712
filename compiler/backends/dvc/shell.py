"""Shell commands in a DVC `cmd`: run by bash, as on every other target.

DVC runs a `cmd` with the user's `$SHELL` (sh, bash, zsh, fish, ...; dvc/stage/run.py). A
command every one of those shells reads alike stays as written ("plain"); any other command is
`bash -c '<command>'`, quoted so that all of them hand bash the same text.

Plain, decided token by token (deliberately conservative):
- words made of `A-Z a-z 0-9 _ . / : , + = @ -` and DVC interpolations whose values are such
  words (number params, foreach items that are such words);
- the operators `&&`, `||`, `|`, `;`, `<`, `>`, `>>` between them, spaces and tabs around;
- the first word of each command is no keyword or builtin whose meaning differs between these
  shells (`if`, `end`, `set`, `echo`, `export`, ...) and no assignment (`X=1`).
Anything else (quotes, `$`, globs, braces, `~`, `#`, `\\`, `&`, parentheses, non-ASCII, ...) is
wrapped.

The wrapper's quoting: single quotes, with `'` written `\\'` and `\\` written `\\\\` outside them
(fish reads both specially inside single quotes), and a literal `${` written `$''{` (DVC would
read it as its interpolation). DVC's own `${name}` stays inside the quotes for DVC to fill in.
"""

from __future__ import annotations

import re

from compiler.output.yaml_out import BlockText

from .conventions import BASH_COMMAND

WORD_CHARS = re.compile(r"[A-Za-z0-9_./:,+=@-]+")
_TOKEN = re.compile(r"[ \t]*(?:(?P<op>&&|\|\||>>|[|;<>])|(?P<word>(?:[A-Za-z0-9_./:,+=@-]|\x00)+))[ \t]*")
_REDIRECTS = {"<", ">", ">>"}
# Keywords and builtins of sh, bash, zsh and fish that read or act differently between them.
_DIFFERING = frozenset({
    "!", "[", "[[", "{", "}", ".", "alias", "and", "begin", "builtin", "case", "command", "declare", "do", "done",
    "echo", "elif", "else", "end", "esac", "eval", "exec", "export", "fi", "for", "function", "if", "in", "let",
    "local", "not", "or", "printf", "read", "readonly", "return", "select", "set", "shopt", "source", "switch",
    "test", "then", "time", "trap", "type", "typeset", "ulimit", "umask", "unset", "until", "while",
})


class Interpolation(str):
    """DVC's `${name}` in a command, every value of which is a plain word (a number, a safe item)."""

    plain = True


class TextInterpolation(Interpolation):
    """DVC's `${name}` whose values may be other text (never `'`, `\\` or a line break: it may
    sit inside the wrapper's quotes)."""

    plain = False


def is_plain(parts: list[str]) -> bool:
    """Whether the command (literal texts and Interpolations) is one every shell reads alike."""
    if any(isinstance(part, Interpolation) and not part.plain for part in parts):
        return False
    # An interpolation stands for a plain word: a NUL, which no literal text holds, marks it.
    text = "".join("\x00" if isinstance(part, Interpolation) else part for part in parts)
    position, starts_command, redirected = 0, True, False
    while position < len(text):
        token = _TOKEN.match(text, position)
        if token is None:
            return False
        position = token.end()
        operator = token.group("op")
        if operator:
            redirected = operator in _REDIRECTS
            starts_command = starts_command or not redirected
            continue
        if starts_command and not redirected and (token.group("word") in _DIFFERING or "=" in token.group("word")):
            return False
        starts_command = starts_command and redirected  # a redirection's file comes before the command
        redirected = False
    return True


def command(parts: list[str]) -> str:
    """The command as the `cmd` DVC runs: as written when plain, else wrapped for bash."""
    if is_plain(parts):
        return "".join(parts)
    return BlockText(BASH_COMMAND + quoted(parts))  # a `|` block: no YAML quoting of its quotes


def quoted(parts: list[str]) -> str:
    """One shell word holding the text of PARTS for sh, bash, zsh and fish alike (see above)."""
    out = ["'"]
    for part in parts:
        if isinstance(part, Interpolation):
            out.append(part)
            continue
        for index, char in enumerate(part):
            if char in "'\\":
                out.append("'\\" + char + "'")
            elif char == "{" and (out[-1].endswith("$") if index == 0 else part[index - 1] == "$"):
                out.append("''{")
            else:
                out.append(char)
    out.append("'")
    return "".join(out)


def word(text: str) -> str:
    """A path dagshift writes into a command, as one word every shell reads alike."""
    return text if WORD_CHARS.fullmatch(text) else quoted([text])
