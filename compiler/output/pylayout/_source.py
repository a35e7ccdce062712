"""`format_source(source)`: what `black.format_str(source, mode=black.Mode(line_length=88))` writes, without
black, for the Python the emitters write; `Unsupported` for anything outside what pylayout lays out exactly.

The source is parsed with `ast` and rebuilt as builders (`_from_ast`), keeping what the AST drops but black
keeps: own-line comments and blank lines (placed in the block black's parser puts them in), string and
number literals as written (black only normalizes their prefix, quotes and escapes), implicit
concatenations (black may break a line between their pieces), redundant parentheses and magic trailing
commas. Whatever black would keep inside a statement (a trailing comment, a comment inside brackets or
before `else:`, a semicolon, a backslash continuation) is refused: every `#` and every backslash-newline
of the source must be inside a string literal or an own-line comment placed here.

Nothing tokenizes the whole file: positions come from the AST, and the few facts the AST lacks (a comma
before a closing bracket, the `else:` line) are read by scanning a few characters of the source.
"""

from __future__ import annotations

import ast
import bisect
import re
import sys
from typing import Any

from . import _stmt as s
from . import _text
from . import _tree as t
from ._from_ast import Unsupported, _Converter
from ._split import FEATURE_CALL, FEATURE_DEF, NUMBER, STRING, STRING_PRIORITY, Leaf

LINE_LENGTH = 88

# One string literal token: an optional prefix, then a (triple-)quoted body with its escapes.
_PIECE = re.compile(
    r"""[A-Za-z]{0,3}(?:'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\""""
    r"""|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""",
    re.DOTALL,
)
_BETWEEN_PIECES = re.compile(r"[ \t\n]*")
_CLAUSE = re.compile(r"[ ]*(else|finally)[ ]*:[ ]*\n?")
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")

BLANK, COMMENT, CODE = 0, 1, 2


def format_source(source: str) -> str:
    """black's formatting of `source` (stable style, line length 88), or `Unsupported`."""
    _refuse_source_text(source)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        raise Unsupported(f"does not parse: {exc}") from exc
    converter = _SourceConverter(source)
    try:
        body = converter.module(tree)
        converter.check_every_comment_placed()
        text = _render(body, converter.features())
    except Unsupported:
        raise
    except ValueError as exc:  # a builder refusing something: a comment black reads as a directive, ...
        raise Unsupported(str(exc)) from exc
    except (ArithmeticError, LookupError, TypeError, AttributeError, AssertionError, RecursionError) as exc:
        # a pylayout bug must not stop a compile: the caller falls back to black (and tests see it)
        raise Unsupported(f"internal error: {type(exc).__name__}: {exc}") from exc
    if not text and "\n" in source:
        return "\n"  # black: a file of blank lines becomes one newline
    if _declared_coding(text) != _declared_coding(source):
        raise Unsupported("an encoding declaration black would keep out of the first two lines")
    return text


def _refuse_source_text(source: str) -> None:
    """Text black reads in ways not modeled: other line endings, form feeds."""
    if "\r" in source or "\f" in source or "\x00" in source:
        raise Unsupported("carriage return, form feed or NUL in the source")
    if source[:1] == "\ufeff":
        raise Unsupported("byte order mark")


def _declared_coding(text: str) -> str | None:
    for line in text.split("\n", 2)[:2]:
        match = _CODING.match(line)
        if match:
            return match.group(1)
    return None


def _render(body: list[Any], features: int) -> str:
    """`render` of a module whose black target features are `features`."""
    ctx = s._Context(features, LINE_LENGTH)
    s.lower_block(body, 0, ctx, True, module=True)
    ctx.finish()
    s.place_blank_lines(ctx.infos)
    return "".join(["\n" * info.before + info.text + "\n" + "\n" * info.after for info in ctx.infos])


# --- literals as written --------------------------------------------------------------------------


class Literals(t.Expr):
    """String literals as written in the source, each normalized as black normalizes it; several are an
    implicit concatenation, which black may break between its pieces (its STRING_PRIORITY delimiter)."""

    __slots__ = ("pieces",)
    complex_subscript = False

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces

    def emit(self, out, ws):
        out.append(Leaf(STRING, self.pieces[0], ws))
        for piece in self.pieces[1:]:
            out.append(Leaf(STRING, piece, " ", before=STRING_PRIORITY))


class BareYield(s._Keyword):
    """A `yield` statement without a value."""

    __slots__ = ()
    keyword = "yield"


class NumberText(t.Num):
    """A number literal as written, normalized as black does (`normalize_numeric_literal`)."""

    __slots__ = ()

    def __init__(self, text: str) -> None:
        self.value = None
        self.literal = _text.normalize_number(text)

    def emit(self, out, ws):
        out.append(Leaf(NUMBER, self.literal, ws))


class BareTuple(t.Tuple):
    """A tuple written without parentheses after `=`, `return`, `in`: black gives it invisible ones, which
    become visible (and stay so) when the line is split there."""

    __slots__ = ()

    def emit(self, out, ws):
        start = len(out)
        s._target(self, out)
        out[start].prefix = out[start].ws = ws


def _piece_text(piece: str) -> str:
    """One string token as black writes it outside docstring position (`visit_STRING`)."""
    if "\n" in piece:
        raise Unsupported("a string literal over several lines")
    if "\\" not in piece:  # the common cases, where black's normalizations reduce to this
        if piece[0] == '"' or piece[:2] == 'f"':
            return piece
        if piece[0] == "'" and piece[:3] != "'''" and '"' not in piece:
            return f'"{piece[1:-1]}"'
    prefix = piece[: len(piece) - len(piece.lstrip("furbFURBtT"))].lower()
    if "t" in prefix:
        raise Unsupported("template string")
    if "f" in prefix and sys.version_info >= (3, 12) and _backslash_in_field(piece[len(prefix):]):
        raise Unsupported("backslash inside an f-string replacement field")  # black leaves it as written
    return _text.normalize_string_quotes(_text.normalize_string_prefix(_text.normalize_unicode_escapes(piece)))


def _backslash_in_field(body: str) -> bool:
    """Whether an f-string body has a backslash inside `{...}` (black then leaves the literal alone)."""
    depth = 0
    index = 0
    while index < len(body):
        char = body[index]
        if depth == 0 and char in "{}" and body[index + 1 : index + 2] == char:
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == "\\" and depth:
            return True
        index += 1
    return False


def split_pieces(segment: str) -> list[str]:
    """The string tokens of an implicit concatenation `segment` (one token: a list of one); Unsupported when
    anything but spaces and newlines separates them (a comment, a backslash continuation)."""
    pieces = []
    position = 0
    while True:
        match = _PIECE.match(segment, position)
        if match is None:
            raise Unsupported("string literal text not understood")
        pieces.append(match.group())
        position = _BETWEEN_PIECES.match(segment, match.end()).end()  # type: ignore[union-attr]
        if position == len(segment):
            return pieces


# --- the converter --------------------------------------------------------------------------------


class _SourceConverter(_Converter):
    """`_Converter` reading the whole source: comments, blank lines, literals and commas as written."""

    def __init__(self, source: str) -> None:
        self.source = source
        raw = source.split("\n")  # ast counts lines at "\n" only (str.splitlines knows more breaks)
        self.lines = [line + "\n" for line in raw[:-1]] + ([raw[-1]] if raw[-1] else [])
        self.offsets = []
        total = 0
        for line in self.lines:
            self.offsets.append(total)
            total += len(line)
        self.all_ascii = source.isascii()
        self.covered: list[tuple[int, int]] = []  # string literals and placed comments: where `#` may be
        self.calls_comma_after_star = self.defs_comma_after_star = self.py36 = False
        self.last_chain: list[tuple[list[Any], int]] = []

    # --- positions ---

    def _offset(self, lineno: int, col: int) -> int:
        start = self.offsets[lineno - 1]
        if self.all_ascii:
            return start + col
        line = self.lines[lineno - 1]
        return start + (col if line.isascii() else len(line.encode()[:col].decode()))

    def _paren_count(self, node: ast.expr) -> int:
        """As `_Converter._paren_count`, returning at once when no `(` precedes the node (most nodes)."""
        text = self.source
        before = self._offset(node.lineno, node.col_offset) - 1
        while before >= 0 and text[before] in " \t\n":
            before -= 1
        if before < 0 or text[before] != "(":
            return 0
        return super()._paren_count(node)

    def _kind(self, lineno: int) -> int:
        text = self.lines[lineno - 1].strip() if lineno <= len(self.lines) else ""
        return BLANK if not text else COMMENT if text[0] == "#" else CODE

    def _column(self, lineno: int) -> int:
        line = self.lines[lineno - 1]
        return len(line) - len(line.lstrip(" "))

    def _outer_span(self, node: ast.AST) -> tuple[int, int]:
        """The span of `node` with the redundant parentheses around it."""
        start, end = self._span(node)  # type: ignore[arg-type]
        for _ in range(self._paren_count(node)):  # type: ignore[arg-type]
            start = self.source.rindex("(", 0, start)
            end = self.source.index(")", end) + 1
        return start, end

    def _skip_back(self, offset: int) -> int:
        """The offset of the last character before `offset` that is not a space, tab or newline."""
        text = self.source
        offset -= 1
        while offset >= 0 and text[offset] in " \t\n":
            offset -= 1
        return offset

    def _comma_before(self, closing: int) -> bool:
        """Whether a comma comes right before the closing bracket at offset `closing`."""
        before = self._skip_back(closing)
        return before >= 0 and self.source[before] == ","

    # --- magic trailing commas, without a tokenizer ---

    def _trailing_comma(self, node: ast.AST) -> bool:
        end = self._offset(node.end_lineno, node.end_col_offset) - 1  # type: ignore[attr-defined]
        if self.source[end] not in ")]}":
            return False
        return self._comma_before(end)

    def _closing_before_colon(self, header_end: int, returns: ast.expr | None) -> int:
        """For a def or class header ending on line `header_end`: the offset of the `)` closing its
        parameters or bases, or -1 when there is none."""
        text = self.source
        if returns is not None:
            arrow = self._skip_back(self._outer_span(returns)[0])
            if text[arrow - 1 : arrow + 1] != "->":
                raise Unsupported("return annotation not understood")
            closing = self._skip_back(arrow - 1)
        else:
            line = self.lines[header_end - 1].rstrip()
            colon = self.offsets[header_end - 1] + len(line) - 1
            closing = self._skip_back(colon)
        return closing if text[closing] == ")" else -1

    # --- statements and the lines between them ---

    def module(self, tree: ast.Module) -> list[Any]:
        self.future_annotations = _future_annotations(tree)
        items, chain, line = self.block(tree.body, 1)
        self._place_gap(line, len(self.lines), chain, items)
        return items

    def block(self, body: list[ast.stmt], first_line: int) -> tuple[list[Any], list[tuple[list[Any], int]], int]:
        """The builders of `body`, whose first line may be `first_line`, with the comments and blank lines
        before each statement; also the blocks ending with its last statement (for the comments after it)
        and the line after it."""
        items: list[Any] = []
        chain: list[tuple[list[Any], int]] = []
        line = first_line
        for node in body:
            start = self._start_line(node)
            self._place_gap(line, start - 1, chain, items)
            items.append(self.stmt(node))
            chain = self.last_chain
            line = node.end_lineno + 1  # type: ignore[operator]
        return items, chain, line

    def _start_line(self, node: ast.stmt) -> int:
        """The first line of a statement (its first decorator's), checked to hold nothing before it."""
        decorators = getattr(node, "decorator_list", None)
        if decorators:
            for decorator in decorators:
                before = self._text_before(decorator.lineno, decorator.col_offset)
                if before.strip() != "@" or "\t" in before:
                    raise Unsupported("decorator layout not understood")
            return decorators[0].lineno
        before = self._text_before(node.lineno, node.col_offset)
        if before.strip() or "\t" in before:
            raise Unsupported("several statements on one line, or tab indentation")
        return node.lineno

    def _text_before(self, lineno: int, col: int) -> str:
        line = self.lines[lineno - 1]
        return line[:col] if line.isascii() else line.encode()[:col].decode()

    def _text_after(self, lineno: int, col: int) -> str:
        line = self.lines[lineno - 1]
        return line[col:] if line.isascii() else line.encode()[col:].decode()

    def _place_gap(self, first: int, last: int, chain: list[tuple[list[Any], int]], items: list[Any] | None) -> None:
        """Lines `first`..`last` between statements: blank or own-line comments. As black's parser does at a
        dedent, each block ending before them (innermost first) keeps the comments indented at least as
        deep as it, up to the first that is not; the rest go to `items`, the block of what follows (None:
        a clause keyword follows, and comments there are refused)."""
        position = first
        for block_items, column in reversed(chain):
            position = self._consume(position, last, block_items, column)
        if items is None:
            if any(self._kind(lineno) != BLANK for lineno in range(position, last + 1)):
                raise Unsupported("a comment before a clause keyword")
            if chain and last >= position:
                chain[0][0].append(s.Blank(last - position + 1))
            return
        end = self._consume(position, last, items, -1)
        if end <= last:
            items.append(s.Blank(last - end + 1))

    def _consume(self, first: int, last: int, items: list[Any], column: int) -> int:
        """Place lines from `first` into `items` while they are blank or comments indented to `column` or
        deeper; returns the line after the last comment placed (blank lines after it stay)."""
        blanks = 0
        placed = first
        for lineno in range(first, last + 1):
            kind = self._kind(lineno)
            if kind == BLANK:
                blanks += 1
                continue
            if kind == CODE:
                raise Unsupported("code between statements")
            if "\t" in self.lines[lineno - 1][: self._column(lineno) + 1]:
                raise Unsupported("tab indentation")
            if self._column(lineno) < column:
                break
            if blanks:
                items.append(s.Blank(blanks))
                blanks = 0
            text = self.lines[lineno - 1].strip()
            items.append(s.Comment(text))
            start = self.offsets[lineno - 1]
            self.covered.append((start, start + len(self.lines[lineno - 1])))
            placed = lineno + 1
        return placed

    def stmt(self, node: ast.stmt) -> Any:
        self.last_chain = []
        compound = getattr(self, "compound_" + type(node).__name__, None)
        if compound is not None:
            builder, self.last_chain = compound(node)
            return builder
        if self._text_after(node.end_lineno, node.end_col_offset).strip():  # type: ignore[arg-type]
            raise Unsupported("something after a statement on its line (a semicolon, a comment)")
        return super().stmt(node)

    def suite(self, body: list[ast.stmt], floor: int):
        """The block after a header whose last line is at least `floor`: its builders, the blocks ending
        with its last statement, the line after it, and the header's last line."""
        header_end = self._header_end(floor, self._start_line(body[0]))
        items, chain, after = self.block(body, header_end + 1)
        return items, chain, after, header_end

    def _header_end(self, floor: int, body_start: int) -> int:
        """The last line of a compound statement's header (it ends with the colon): the last code line
        before the body, not above `floor` (a line of a string in the header may look like a comment)."""
        if body_start <= floor:
            raise Unsupported("a block on its header's line")
        end = body_start - 1
        while end > floor and self._kind(end) != CODE:
            end -= 1
        if not self.lines[end - 1].rstrip().endswith(":"):
            raise Unsupported("header line not understood")
        return end

    def clause(self, keyword_line: int | None, after: int, chain: list[tuple[list[Any], int]], keyword: str) -> int:
        """Place the lines between the previous clause (ending before line `after`) and a clause keyword
        (`else`/`finally` when `keyword_line` is None: found here); returns the keyword's line."""
        if keyword_line is None:
            keyword_line = after
            while self._kind(keyword_line) != CODE:
                keyword_line += 1
                if keyword_line > len(self.lines):
                    raise Unsupported(f"`{keyword}:` not found")
            match = _CLAUSE.fullmatch(self.lines[keyword_line - 1])
            if match is None or match.group(1) != keyword:
                raise Unsupported(f"`{keyword}:` line not understood")
        elif not self.lines[keyword_line - 1].lstrip().startswith(keyword):
            raise Unsupported(f"`{keyword}` clause not understood")
        self._place_gap(after, keyword_line - 1, chain, None)
        return keyword_line

    def else_block(self, body: list[ast.stmt], after: int, chain: list[tuple[list[Any], int]], keyword: str):
        """An `else:` or `finally:` block after the clause ending before line `after`."""
        line = self.clause(None, after, chain, keyword)
        items, inner, after = self.block(body, line + 1)
        return items, self._chain(items, body, inner), after

    @staticmethod
    def _floor(node: ast.AST, *parts: Any) -> int:
        """The last line a header reaches at least: its keyword's, or the last of its expressions'."""
        lines = [node.lineno]  # type: ignore[attr-defined]
        for part in parts:
            if part is not None:
                lines.append(part.end_lineno)
        return max(lines)

    def _chain(self, items: list[Any], body: list[ast.stmt], inner: list[tuple[list[Any], int]]):
        """`items`, the block of `body`, with its column, before the blocks ending with its last statement."""
        return [(items, self._column(self._start_line(body[0]))), *inner]

    # Builders copy the lists they are given: each compound statement puts its own lists back, so that the
    # comments placed after it (once the next statement is known) land in the builder.

    def compound_FunctionDef(self, node: ast.FunctionDef):
        if getattr(node, "type_params", None):
            raise Unsupported("type parameters")
        args = node.args
        parts = [*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg, *args.defaults,
                 *[d for d in args.kw_defaults if d is not None], node.returns]
        items, inner, _, header_end = self.suite(node.body, self._floor(node, *parts))
        closing = self._closing_before_colon(header_end, node.returns)
        trailing_comma = closing >= 0 and self._comma_before(closing)
        params = self.params(args)
        if trailing_comma and any(p.star for p in params):
            self.defs_comma_after_star = True
        decorators = [self.decorator(d) for d in node.decorator_list]
        returns = None if node.returns is None else self.expr(node.returns)
        builder = s.Def(node.name, params, items, returns, decorators, trailing_comma)
        builder.body = items
        return builder, self._chain(items, node.body, inner)

    def compound_ClassDef(self, node: ast.ClassDef):
        if getattr(node, "type_params", None):
            raise Unsupported("type parameters")
        items, inner, _, header_end = self.suite(node.body, self._floor(node, *node.bases, *node.keywords))
        closing = self._closing_before_colon(header_end, None)
        trailing_comma = closing >= 0 and self._comma_before(closing) and bool(node.bases or node.keywords)
        if trailing_comma and (any(isinstance(b, ast.Starred) for b in node.bases)
                               or any(k.arg is None for k in node.keywords)):
            self.calls_comma_after_star = True
        owned = int(len(node.bases) + len(node.keywords) == 1 and not trailing_comma)
        bases = [self.keyword(a) if isinstance(a, ast.keyword) else self.expr(a, owned_parens=owned)
                 for a in _in_source_order(node.bases, node.keywords)]
        builder = s.Class(node.name, bases, items, [self.decorator(d) for d in node.decorator_list], trailing_comma)
        builder.body = items
        return builder, self._chain(items, node.body, inner)

    def decorator(self, node: ast.expr) -> t.Expr:
        """black counts anything but a dotted name, optionally called, as Python 3.9 syntax."""
        inner = node.func if isinstance(node, ast.Call) else node
        while isinstance(inner, ast.Attribute):
            inner = inner.value
        if not isinstance(inner, ast.Name) or self._paren_count(node):
            raise Unsupported("relaxed decorator syntax (Python 3.9)")
        return self.expr(node)

    def compound_If(self, node: ast.If):
        items, inner, after, _ = self.suite(node.body, self._floor(node, node.test))
        chain = self._chain(items, node.body, inner)
        orelse: list[Any] = []
        if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If) and \
                self.lines[node.orelse[0].lineno - 1].lstrip().startswith("elif"):
            elif_node = node.orelse[0]
            self.clause(elif_node.lineno, after, chain, "elif")
            if self._text_before(elif_node.lineno, elif_node.col_offset).strip():
                raise Unsupported("`elif` line not understood")
            nested, chain = self.compound_If(elif_node)
            orelse = [nested]
        elif node.orelse:
            if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
                raise Unsupported("`else:` holding only an `if`")
            orelse, chain, _ = self.else_block(node.orelse, after, chain, "else")
        builder = s.If(self.expr(node.test), items, orelse)
        builder.body, builder.orelse = items, orelse
        return builder, chain

    def _loop(self, node: ast.For | ast.While, header: tuple[Any, ...], make):
        items, inner, after, _ = self.suite(node.body, self._floor(node, *header))
        chain = self._chain(items, node.body, inner)
        orelse: list[Any] = []
        if node.orelse:
            orelse, chain, _ = self.else_block(node.orelse, after, chain, "else")
        builder = make(items)
        builder.body, builder.orelse = items, orelse
        return builder, chain

    def compound_For(self, node: ast.For):
        if node.type_comment:
            raise Unsupported("type comment")
        if isinstance(node.target, ast.Tuple) and self._trailing_comma(node.target):
            raise Unsupported("a loop target with a trailing comma")
        return self._loop(node, (node.target, node.iter),
                          lambda items: s.For(self.target(node.target), self.value(node.iter), items))

    def compound_While(self, node: ast.While):
        return self._loop(node, (node.test,), lambda items: s.While(self.expr(node.test), items))

    def compound_With(self, node: ast.With):
        if len(node.items) != 1:
            raise Unsupported("several context managers")
        if node.type_comment:
            raise Unsupported("type comment")
        item = node.items[0]
        self._refuse_parenthesized_context_manager(node, item)
        items, inner, _, _ = self.suite(node.body, self._floor(node, item.context_expr, item.optional_vars))
        target = None if item.optional_vars is None else self.expr(item.optional_vars)
        builder = s.With(self.expr(item.context_expr), items, target)
        builder.body = items
        return builder, self._chain(items, node.body, inner)

    def _refuse_parenthesized_context_manager(self, node: ast.With, item: ast.withitem) -> None:
        """`with (a as b):` is Python 3.9 syntax to black, which then lays out every `with` differently."""
        start = self._offset(node.lineno, node.col_offset) + len("with")
        context_start = self._outer_span(item.context_expr)[0]
        if self.source[start:context_start].strip():
            raise Unsupported("parenthesized context managers (Python 3.9)")

    def compound_Try(self, node: ast.Try):
        items, inner, after, _ = self.suite(node.body, node.lineno)
        chain = self._chain(items, node.body, inner)
        handlers = []
        for handler in node.handlers:
            self.clause(handler.lineno, after, chain, "except")
            if isinstance(handler.type, ast.Tuple) and not self._segment(handler.type).startswith("("):
                raise Unsupported("unparenthesized exception types")
            body, inner, after, _ = self.suite(handler.body, self._floor(handler, handler.type))
            except_ = s.Except(None if handler.type is None else self.expr(handler.type), handler.name, body)
            except_.body = body
            handlers.append(except_)
            chain = self._chain(body, handler.body, inner)
        orelse: list[Any] = []
        finalbody: list[Any] = []
        if node.orelse:
            orelse, chain, after = self.else_block(node.orelse, after, chain, "else")
        if node.finalbody:
            finalbody, chain, after = self.else_block(node.finalbody, after, chain, "finally")
        builder = s.Try(items, handlers, orelse, finalbody)
        builder.body, builder.orelse, builder.finalbody = items, orelse, finalbody
        return builder, chain

    # --- simple statements ---

    def stmt_Expr(self, node: ast.Expr) -> Any:
        value = node.value
        if isinstance(value, ast.Yield) and value.value is None:
            return BareYield()
        if isinstance(value, ast.Constant) and value.value is Ellipsis:
            raise Unsupported("`...` statement (black may join it to its header)")
        if isinstance(value, (ast.Constant, ast.JoinedStr)) and isinstance(value.value if isinstance(
                value, ast.Constant) else "", (str, bytes)):
            if self._paren_count(value):
                raise Unsupported("a parenthesized string statement")
            start, end = self._span(value)
            pieces = split_pieces(self.source[start:end])
            if len(pieces) > 1:
                raise Unsupported("an implicitly concatenated string statement")
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.covered.append((start, end))
                return s.Docstring.from_literal(pieces[0])
        return s.ExprStmt(self.expr(value))

    def stmt_Assign(self, node: ast.Assign) -> Any:
        if len(node.targets) != 1:
            raise Unsupported("chained assignment")
        if node.type_comment:
            raise Unsupported("type comment")
        return s.Assign(self.target(node.targets[0]), self.value(node.value))

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> Any:
        if not node.simple:
            raise Unsupported("parenthesized annotated target")
        if isinstance(node.value, ast.Tuple) and not self._tuple_is_parenthesized(node.value):
            self.py36 = True  # black: ANN_ASSIGN_EXTENDED_RHS
        value = None if node.value is None else self.value(node.value)
        return s.AnnAssign(self.expr(node.target), self.expr(node.annotation), value)

    def stmt_AugAssign(self, node: ast.AugAssign) -> Any:
        if type(node.op) not in _AUGMENTED:
            raise Unsupported(type(node.op).__name__)
        return s.AugAssign(self.expr(node.target), _AUGMENTED[type(node.op)], self.value(node.value))

    def stmt_Return(self, node: ast.Return) -> Any:
        value = node.value
        if isinstance(value, ast.Tuple) and not self._tuple_is_parenthesized(value) and any(
                isinstance(e, ast.Starred) for e in value.elts):
            self.py36 = True  # black: UNPACKING_ON_FLOW
        return s.Return(None if value is None else self.value(value))

    def stmt_ImportFrom(self, node: ast.ImportFrom) -> Any:
        names = [a.name if a.asname is None else (a.name, a.asname) for a in node.names]
        return s.ImportFrom(node.module, names, node.level, self._trailing_comma(node))

    def value(self, node: ast.expr) -> t.Expr:
        """An expression after `=`, `return`, `in`: a tuple there may go without parentheses."""
        if isinstance(node, ast.Tuple) and len(node.elts) == 1 and not self._tuple_is_parenthesized(node):
            return t.Tuple([self.expr(node.elts[0])])  # black gives it visible parentheses: `(x,)`
        if isinstance(node, ast.Tuple) and len(node.elts) > 1 and not self._tuple_is_parenthesized(node):
            if self.source[self._offset(node.end_lineno, node.end_col_offset) - 1] == ",":  # type: ignore[arg-type]
                raise Unsupported("a tuple without parentheses with a trailing comma")
            return BareTuple([self.expr(e) for e in node.elts])
        return self.expr(node)

    # --- expressions ---

    def expr(self, node: ast.expr, owned_parens: int = 0) -> t.Expr:
        kind = type(node)
        if kind is ast.Tuple or kind is ast.GeneratorExp:
            if kind is ast.Tuple and node.elts and not self._tuple_is_parenthesized(node):  # type: ignore[attr-defined]
                raise Unsupported("a tuple without parentheses here")
            if self._paren_count(node) > owned_parens:
                raise Unsupported("redundant parentheses around a tuple or generator")
            return self._converters[kind](self, node)
        method = self._converters.get(kind)
        if method is None:
            raise Unsupported(kind.__name__)
        result = method(self, node)
        for _ in range(self._paren_count(node) - owned_parens):
            result = t.Paren(result)
        return result

    def expr_Name(self, node: ast.Name) -> t.Expr:
        name = t.Name.__new__(t.Name)  # the parser checked the identifier (the builder's check is slow)
        name.id = node.id
        return name

    def _tuple_is_parenthesized(self, node: ast.Tuple) -> bool:
        if not node.elts:
            return True
        start = self._offset(node.lineno, node.col_offset)
        first = self._outer_span(node.elts[0])[0]
        return "(" in self.source[start:first]

    def target(self, node: ast.expr) -> t.Expr:
        """An assignment or loop target: black writes a tuple there without parentheses."""
        if not isinstance(node, ast.Tuple) or len(node.elts) < 2:
            return self.expr(node)
        parenthesized = self._tuple_is_parenthesized(node)
        end = self._offset(node.end_lineno, node.end_col_offset) - 1  # type: ignore[arg-type]
        if not parenthesized and self.source[end] == ",":
            raise Unsupported("a target tuple without parentheses with a trailing comma")
        if self._paren_count(node):
            raise Unsupported("redundant parentheses around a target tuple")
        return t.Tuple([self.expr(e) for e in node.elts], parenthesized and self._comma_before(end))

    def expr_Constant(self, node: ast.Constant) -> t.Expr:
        value = node.value
        if isinstance(value, (str, bytes)):
            return self.literals(node)
        if value is None or value is True or value is False or value is Ellipsis:
            return t.Const(value)
        if isinstance(value, (int, float, complex)):
            text = self._segment(node)
            if "_" in text:
                self.py36 = True  # black: NUMERIC_UNDERSCORES
            return NumberText(text)
        raise Unsupported(f"constant {type(value).__name__}")

    def expr_JoinedStr(self, node: ast.JoinedStr) -> t.Expr:
        self.py36 = True  # black: F_STRINGS
        return self.literals(node)

    def literals(self, node: ast.expr) -> t.Expr:
        start, end = self._span(node)
        self.covered.append((start, end))
        return Literals([_piece_text(piece) for piece in split_pieces(self.source[start:end])])

    def expr_Attribute(self, node: ast.Attribute) -> t.Expr:
        value = node.value
        number = isinstance(value, ast.Constant) and type(value.value) in (int, float, complex)
        if number and not self._paren_count(value):
            raise Unsupported("attribute of a bare number")  # black parenthesizes only some
        return super().expr_Attribute(node)

    def expr_Call(self, node: ast.Call) -> t.Expr:
        trailing_comma = self._trailing_comma(node)
        # the call's own parentheses are the pair right around a lone argument without a trailing comma
        owned = int(len(node.args) + len(node.keywords) == 1 and not trailing_comma)
        arguments = _in_source_order(node.args, node.keywords)  # `f(a=1, *rest)` is valid Python
        args = [self.keyword(a) if isinstance(a, ast.keyword) else self.expr(a, owned_parens=owned)
                for a in arguments]
        if trailing_comma and (any(isinstance(a, ast.Starred) for a in node.args)
                               or any(k.arg is None for k in node.keywords)):
            self.calls_comma_after_star = True  # black: TRAILING_COMMA_IN_CALL
        return t.Call(self.expr(node.func), args, trailing_comma=trailing_comma)

    def expr_Subscript(self, node: ast.Subscript) -> t.Expr:
        index = node.slice
        elements = index.elts if isinstance(index, ast.Tuple) else [index]
        if any(isinstance(e, ast.Starred) for e in elements):
            raise Unsupported("star in a subscript (Python 3.11)")
        return super().expr_Subscript(node)

    def generators(self, generators: list[ast.comprehension]) -> list[t.CompFor]:
        if any(g.is_async for g in generators):
            raise Unsupported("async comprehension")
        for generator in generators:
            if isinstance(generator.target, ast.Tuple) and self._tuple_is_parenthesized(generator.target):
                raise Unsupported("a parenthesized comprehension target")
        return [t.CompFor(self.target(g.target), self.expr(g.iter), [self.expr(c) for c in g.ifs])
                for g in generators]

    def expr_ListComp(self, node: ast.ListComp) -> t.Expr:
        if isinstance(node.elt, ast.Starred):
            raise Unsupported("unpacking in a comprehension")
        return super().expr_ListComp(node)

    # --- what black infers from the file ---

    def features(self) -> int:
        """black's trailing-comma features for this file (`get_features_used`, `detect_target_versions`):
        Python 3.6 syntax anywhere allows a comma after `*args` in calls and defs; a comma after `*args` in
        a call only, Python 3.5, in calls."""
        if self.py36 or self.future_annotations or self.defs_comma_after_star:
            return FEATURE_CALL | FEATURE_DEF
        if self.calls_comma_after_star:
            return FEATURE_CALL
        return 0

    def check_every_comment_placed(self) -> None:
        """Every `#` and backslash-newline of the source lies in a string literal or a placed comment line;
        anything else is a comment or continuation black would keep where pylayout cannot put it."""
        spans = sorted(self.covered)
        starts = [span[0] for span in spans]
        reach = []  # the furthest end among the spans so far (spans may nest: an f-string's pieces)
        furthest = -1
        for _, end in spans:
            furthest = max(furthest, end)
            reach.append(furthest)
        for pattern in ("#", "\\\n"):
            position = self.source.find(pattern)
            while position >= 0:
                index = bisect.bisect_right(starts, position) - 1
                if index < 0 or reach[index] <= position:
                    raise Unsupported("a comment or backslash continuation inside a statement")
                position = self.source.find(pattern, position + 1)


_AUGMENTED = {ast.BitOr: "|=", ast.BitXor: "^=", ast.BitAnd: "&=", ast.LShift: "<<=", ast.RShift: ">>=",
              ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/=", ast.FloorDiv: "//=", ast.Mod: "%=",
              ast.MatMult: "@="}


def _in_source_order(args: list[ast.expr], keywords: list[ast.keyword]) -> list[Any]:
    """Positional and keyword arguments as written (the AST keeps them in two lists)."""
    if not args or not keywords or (args[-1].lineno, args[-1].col_offset) < (keywords[0].lineno,
                                                                           keywords[0].col_offset):
        return [*args, *keywords]
    return sorted([*args, *keywords], key=lambda a: (a.lineno, a.col_offset))


def _future_annotations(tree: ast.Module) -> bool:
    """black `get_future_imports`: `from __future__ import annotations` among the leading docstrings and
    `__future__` imports."""
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__" and not node.level:
            if any(alias.name == "annotations" for alias in node.names):
                return True
            continue
        return False
    return False



_SourceConverter._converters = {  # type: ignore[attr-defined]
    getattr(ast, name[len("expr_"):]): function
    for name in dir(_SourceConverter) if name.startswith("expr_") and hasattr(ast, name[len("expr_"):])
    for function in [getattr(_SourceConverter, name)]
}
