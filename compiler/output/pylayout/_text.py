"""Text rules of black 26 (stable style): display width, literals, docstrings and comments.

Each function mirrors one normalization black applies to a token; the layout engine (`_split`) only
arranges tokens. Nothing here imports black: the test suite checks these against it.
"""

from __future__ import annotations

import math
import re
import sys
from bisect import bisect_right

# East Asian wide and fullwidth code point ranges, as (start, end) pairs: the characters black's `str_width`
# counts as two columns (its table: Unicode 17 through wcwidth 0.2.14). Every other character counts one.
_WIDE = (
    4352, 4447, 8986, 8987, 9001, 9002, 9193, 9196, 9200, 9200, 9203, 9203, 9725, 9726, 9748, 9749, 9776, 9783, 9800,
    9811, 9855, 9855, 9866, 9871, 9875, 9875, 9889, 9889, 9898, 9899, 9917, 9918, 9924, 9925, 9934, 9934, 9940, 9940,
    9962, 9962, 9970, 9971, 9973, 9973, 9978, 9978, 9981, 9981, 9989, 9989, 9994, 9995, 10024, 10024, 10060, 10060,
    10062, 10062, 10067, 10069, 10071, 10071, 10133, 10135, 10160, 10160, 10175, 10175, 11035, 11036, 11088, 11088,
    11093, 11093, 11904, 11929, 11931, 12019, 12032, 12245, 12272, 12329, 12336, 12350, 12353, 12438, 12443, 12543,
    12549, 12591, 12593, 12686, 12688, 12773, 12783, 12830, 12832, 12871, 12880, 42124, 42128, 42182, 43360, 43388,
    44032, 55203, 63744, 64255, 65040, 65049, 65072, 65106, 65108, 65126, 65128, 65131, 65281, 65376, 65504, 65510,
    94176, 94179, 94194, 94198, 94208, 101589, 101631, 101662, 101760, 101874, 110576, 110579, 110581, 110587,
    110589, 110590, 110592, 110882, 110898, 110898, 110928, 110930, 110933, 110933, 110948, 110951, 110960, 111355,
    119552, 119638, 119648, 119670, 126980, 126980, 127183, 127183, 127374, 127374, 127377, 127386, 127488, 127490,
    127504, 127547, 127552, 127560, 127568, 127569, 127584, 127589, 127744, 127776, 127789, 127797, 127799, 127868,
    127870, 127891, 127904, 127946, 127951, 127955, 127968, 127984, 127988, 127988, 127992, 127994, 128000, 128062,
    128064, 128064, 128066, 128252, 128255, 128317, 128331, 128334, 128336, 128359, 128378, 128378, 128405, 128406,
    128420, 128420, 128507, 128591, 128640, 128709, 128716, 128716, 128720, 128722, 128725, 128728, 128732, 128735,
    128747, 128748, 128756, 128764, 128992, 129003, 129008, 129008, 129292, 129338, 129340, 129349, 129351, 129535,
    129648, 129660, 129664, 129674, 129678, 129734, 129736, 129736, 129741, 129756, 129759, 129770, 129775, 129784,
    131072, 196605, 196608, 262141,
)
_WIDE_STARTS = _WIDE[0::2]
_WIDE_ENDS = _WIDE[1::2]


def char_width(char: str) -> int:
    """Columns one character takes (black `strings.char_width`)."""
    code = ord(char)
    index = bisect_right(_WIDE_STARTS, code) - 1
    return 2 if index >= 0 and code <= _WIDE_ENDS[index] else 1


def str_width(text: str) -> int:
    """Columns `text` takes (black `strings.str_width`), with its ASCII fast path."""
    if text.isascii():
        return len(text)
    return sum(map(char_width, text))


# --- string literals ----------------------------------------------------------------------------------


def string_literal(text: str) -> str:
    """The literal black writes for the str `text`: what `repr` gives, then black's quote normalization
    (`strings.normalize_string_quotes`): double quotes unless they need more escapes than single ones."""
    literal = repr(text)
    if literal[0] == '"':  # repr picks double quotes only when there is a single quote and no double quote
        return literal
    if text.count('"') > text.count("'"):
        return literal
    body = literal[1:-1].replace("\\'", "'").replace('"', '\\"')
    return f'"{body}"'


_PREFIX_RE = re.compile(r"^([furbFURBtT]*)(.*)$", re.DOTALL)


def normalize_string_prefix(literal: str) -> str:
    """Lower-case prefix letters, drop `u` (black `normalize_string_prefix`)."""
    match = _PREFIX_RE.match(literal)
    assert match is not None
    prefix = match.group(1).replace("F", "f").replace("B", "b").replace("U", "").replace("u", "")
    if len(prefix) == 2 and prefix[0].lower() != "r":
        prefix = prefix[::-1]
    return prefix + match.group(2)


def _sub_twice(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    return pattern.sub(replacement, pattern.sub(replacement, text))


def _ends_with_unescaped_quote(body: str) -> bool:
    if body[-1:] != '"':
        return False
    before = body[:-1]
    return (len(before) - len(before.rstrip("\\"))) % 2 == 0


def normalize_string_quotes(literal: str) -> str:
    """Prefer double quotes unless that adds escapes (black `normalize_string_quotes`), for any literal
    text; `string_literal` is the fast equivalent for literals made by `repr`."""
    value = literal.lstrip("furbFURBtT")
    if value[:3] == '"""':
        return literal
    if value[:3] == "'''":
        orig, new = "'''", '"""'
    elif value[0] == '"':
        orig, new = '"', "'"
    else:
        orig, new = "'", '"'
    start = literal.find(orig)
    prefix = literal[:start]
    unescaped_new = re.compile(rf"(([^\\]|^)(\\\\)*){new}")
    escaped_new = re.compile(rf"([^\\]|^)\\((?:\\\\)*){new}")
    escaped_orig = re.compile(rf"([^\\]|^)\\((?:\\\\)*){orig}")
    body = literal[start + len(orig) : -len(orig)]
    if "r" in prefix.casefold():
        if unescaped_new.search(body):
            return literal
        new_body = body
    else:
        new_body = _sub_twice(escaped_new, rf"\1\2{new}", body)
        if body != new_body:
            body = new_body
            literal = f"{prefix}{orig}{body}{orig}"
        new_body = _sub_twice(escaped_orig, rf"\1\2{orig}", new_body)
        new_body = _sub_twice(unescaped_new, rf"\1\\{new}", new_body)
    if "f" in prefix.casefold() or "t" in prefix.casefold():
        fields = re.findall(r"(?:(?<!\{)|^)\{([^{].*?)\}(?:(?!\})|$)", new_body)
        if any("\\" in str(field) for field in fields):
            return literal  # never put a backslash inside an f-string replacement field
    if new == '"""' and _ends_with_unescaped_quote(new_body):
        new_body = new_body[:-1] + '\\"'
    if new_body.count("\\") > body.count("\\"):
        return literal
    if new_body.count("\\") == body.count("\\") and orig == '"':
        return literal
    return f"{prefix}{new}{new_body}{new}"


_UNICODE_ESCAPE_RE = re.compile(
    r"(?P<backslashes>\\+)(?P<body>(u(?P<u>[a-fA-F0-9]{4}))|(U(?P<U>[a-fA-F0-9]{8}))"
    r"|(x(?P<x>[a-fA-F0-9]{2}))|(N\{(?P<N>[a-zA-Z0-9 \-]{2,})\}))?"
)


def normalize_unicode_escapes(literal: str) -> str:
    """Hex digits of escapes in lower case, `\\N{...}` names in upper case (black
    `normalize_unicode_escape_sequences`); raw literals untouched."""
    if "r" in _PREFIX_RE.match(literal).group(1).lower():  # type: ignore[union-attr]
        return literal

    def fix(match: re.Match[str]) -> str:
        slashes = match.group("backslashes")
        if match.group("body") is None or len(slashes) % 2 == 0:
            return match.group(0)
        for kind in ("u", "U", "x"):
            if match.group(kind):
                return slashes + kind + match.group(kind).lower()
        return slashes + "N{" + match.group("N").upper() + "}"

    return _UNICODE_ESCAPE_RE.sub(fix, literal)


# --- numbers ----------------------------------------------------------------------------------------


def _float_text(text: str) -> str:
    """black `numerics.format_float_or_int_string`."""
    if "." not in text:
        return text
    before, after = text.split(".")
    return f"{before or 0}.{after or 0}"


def normalize_number(text: str) -> str:
    """A numeric literal as black writes it (black `numerics.normalize_numeric_literal`)."""
    text = text.lower()
    if text.startswith(("0o", "0b")):
        return text
    if text.startswith("0x"):
        return text[:2] + text[2:].upper()
    if "e" in text:
        before, after = text.split("e")
        sign = "-" if after.startswith("-") else ""
        return f"{_float_text(before)}e{sign}{after.lstrip('+-')}"
    if text.endswith("j"):
        return _float_text(text[:-1]) + "j"
    return _float_text(text)


def number_literal(value: float) -> str:
    """The literal black writes for a non-negative finite int or float (a minus sign is an operator:
    build negative numbers with `literal`, which also spells infinities and NaN as `float("inf")`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} has no literal; use literal(), which writes float({str(value)!r})")
    if value < 0 or (isinstance(value, float) and math.copysign(1.0, value) < 0):
        raise ValueError(f"{value!r} is negative: a literal has no sign, use literal() for -x")
    return normalize_number(repr(value))


# --- docstrings -------------------------------------------------------------------------------------

_LINE_BREAK_RE = re.compile(r"\r\n|[\r\n]")


def _expand_leading_tabs(text: str) -> list[str]:
    """black `lines_with_leading_tabs_expanded`."""
    lines = []
    for line in _LINE_BREAK_RE.split(text):
        stripped = line.lstrip()
        if not stripped or stripped == line:
            lines.append(line)
        else:
            prefix = line[: len(line) - len(stripped)]
            lines.append(prefix.expandtabs(4) + stripped)
    return lines


def _fix_multiline_docstring(text: str, indent: str) -> str:
    """PEP 257 re-indentation (black `fix_multiline_docstring`)."""
    lines = _expand_leading_tabs(text)
    margin = sys.maxsize
    for line in lines[1:]:
        stripped = line.lstrip()
        if stripped:
            margin = min(margin, len(line) - len(stripped))
    trimmed = [lines[0].strip()]
    if margin < sys.maxsize:
        last = len(lines) - 2
        for i, line in enumerate(lines[1:]):
            stripped = line[margin:].rstrip()
            trimmed.append(indent + stripped if stripped or i == last else "")
    return "\n".join(trimmed)


def _plain_one_line_docstring(literal: str) -> bool:
    """A one-line triple-double-quoted docstring without escapes, edge spaces or edge quotes: black leaves
    it as it is (the fast path of the many task docstrings)."""
    if len(literal) < 7 or literal[:3] != '"""' or literal[-3:] != '"""':
        return False
    text = literal[3:-3]
    return ("\n" not in text and "\\" not in text and "\r" not in text and text == text.strip()
            and text[0] != '"' and text[-1] != '"' and '"""' not in text)


def docstring_literal(literal: str, depth: int, line_length: int = 88) -> str:
    """What black makes of the string literal `literal` in docstring position at indentation `depth`
    (black `LineGenerator.visit_STRING`): stripped, re-indented, padded against its quotes."""
    if _plain_one_line_docstring(literal):
        return literal
    literal = normalize_unicode_escapes(literal)
    if re.search(r"\\\s*\n", literal):  # a backslash-newline: re-indenting would change the value
        return normalize_string_quotes(normalize_string_prefix(literal))
    text = normalize_string_quotes(normalize_string_prefix(literal))
    prefix = text[: len(text) - len(text.lstrip("furbFURBtT"))]
    text = text[len(prefix) :]
    quote_char = text[0]
    quote_len = 1 if text[1] != quote_char else 3
    text = text[quote_len:-quote_len]
    started_empty = not text
    indent = " " * 4 * depth
    bare = literal.lstrip("furbFURBtT")
    if bare[:3] in ('"""', "'''") and "\n" in literal:
        text = _fix_multiline_docstring(text, indent)
    else:
        text = text.strip()
    trailing_backslash = False
    if text:
        if text[0] == quote_char:
            text = " " + text
        if text[-1] == quote_char:
            text += " "
        if text[-1] == "\\" and (len(text) - len(text.rstrip("\\"))) % 2:
            text += " "
            trailing_backslash = True
    elif not started_empty:
        text = " "
    quote = quote_char * quote_len
    result = prefix + quote + text + quote
    if quote_len == 3:
        lines = text.splitlines()
        last_length = len(lines[-1]) if text and not text.endswith("\n") else 0
        if (
            len(lines) > 1
            and last_length + quote_len > line_length
            and len(indent) + quote_len <= line_length
            and not trailing_backslash
            and literal[-1 - quote_len] != "\n"
        ):
            result = prefix + quote + text + "\n" + indent + quote
    return normalize_string_quotes(normalize_string_prefix(result))


def docstring_source(text: str) -> str:
    """A triple-quoted literal whose value is `text`: backslashes, quote runs and control characters other
    than newline escaped. `Docstring` gives it to `docstring_literal`, as black would see it."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n" or char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    return '"""' + "".join(out) + '"""'


# --- comments ---------------------------------------------------------------------------------------

_FMT_DIRECTIVES = {"# fmt: off", "# fmt:off", "# yapf: disable", "# fmt: on", "# fmt:on", "# yapf: enable",
                   "# fmt: skip", "# fmt:skip"}


def _is_fmt_directive(comment: str) -> bool:
    """black `comments.contains_fmt_directive` with all directives."""
    blocks = [comment]
    blocks += ["# " + part.strip() for part in comment.split("# ")[1:]]
    blocks += ["# " + part.strip() for part in comment.strip("# ").split(";")]
    return any(block in _FMT_DIRECTIVES for block in blocks)


def _is_type_comment(value: str) -> bool:
    return value.startswith("#") and value[1:].lstrip().startswith("type:")


def comment_text(content: str) -> str:
    """One comment line as black writes it (black `comments.make_comment`); `content` is one line with or
    without its `#`."""
    content = content.rstrip()
    if not content:
        return "#"
    if content[0] == "#":
        content = content[1:]
    nbsp = "\N{NO-BREAK SPACE}"
    if content and content[0] == nbsp and not _is_type_comment("# " + content.lstrip()):
        content = " " + content[1:]
    if content and nbsp not in content and _is_type_comment("#" + content):
        kind, value = content.split(":", 1)
        content = kind.strip() + ": " + value.strip()
    if content and content[0] not in " !:#'":
        content = " " + content
    return "#" + content


def comment_lines(text: str) -> list[str]:
    """`text` (any user text) as comment lines: one per line of it (NUL, which no source may hold, escaped).
    A line that black would read as a `# fmt:` directive is refused: it would switch black off or on."""
    lines = []
    for line in text.splitlines() or [""]:
        line = line.replace("\x00", "\\x00")
        comment = comment_text(line if line.startswith("#") else "# " + line)
        if _is_fmt_directive(comment):
            raise ValueError(f"comment {comment!r} would be a black directive")
        lines.append(comment)
    return lines
