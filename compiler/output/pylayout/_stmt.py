"""Statements, blocks and rendering: logical lines laid out by `_split`, blank lines placed as black does.

A statement lowers to logical lines (a header, decorators, comments) and nested blocks. Where black's
`normalize_invisible_parens` puts optional parentheses (after `=`, `return`, `if`, `in`, ...), the line
gets them here, so the layout engine can use them as black does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from . import _memo, _text
from ._split import (
    ARGLIST_COMMA,
    AT,
    ATOM,
    COLON,
    COMMA,
    COMMA_PRIORITY,
    DOUBLESTAR,
    EQUAL,
    FEATURE_CALL,
    FEATURE_DEF,
    IMPORT,
    IMPORT_KW,
    IN_ANNOTATION,
    IN_RETURN,
    LPAR,
    NAME,
    OP,
    OTHER,
    PARAMS,
    RARROW,
    RPAR,
    STAR,
    STICKY,
    VARARG_DEF,
    WITH_KW,
    FirstPass,
    Leaf,
    adds_def_vararg_comma,
    second_pass,
)
from ._text import str_width
from ._tree import (
    AUGMENTED,
    P_TEST,
    BinOp,
    Dict,
    DictComp,
    Expr,
    GenExp,
    IfExp,
    Lambda,
    List,
    ListComp,
    Name,
    Paren,
    Set,
    SetComp,
    Str,
    Tuple,
    _check_dotted,
    _check_name,
    _emit_target,
    _paren,
    emit_child,
    magic_comma,
    to_expr,
)

LINE_LENGTH = 88

# What a line is, for blank-line placement (black `EmptyLineTracker` reads these off the line).
DECORATOR, DEF, CLASS, IMPORT_LINE, COMMENT, DOCSTRING = 1, 2, 4, 8, 16, 32


class _Info:
    """One logical line as rendered, with what black's `EmptyLineTracker` needs to know of it."""

    __slots__ = (
        "after",
        "before",
        "depth",
        "first",
        "kind",
        "opens_block",
        "previous",
        "single_leaf",
        "text",
        "user_before",
    )

    def __init__(self, depth: int, text: str, user_before: int, kind: int, first: str, opens_block: bool,
                 single_leaf: bool) -> None:
        self.depth, self.text, self.user_before, self.kind = depth, text, user_before, kind
        self.first, self.opens_block, self.single_leaf = first, opens_block, single_leaf
        self.before = self.after = 0
        self.previous: _Info | None = None


class _Context:
    """Rendering state: options, lines so far, blank lines asked for before the next line, and the lines
    split on black's first pass (finished by `second_pass` once the whole file's first pass is known)."""

    __slots__ = ("features", "infos", "line_length", "pending", "split")

    def __init__(self, features: int, line_length: int) -> None:
        self.features, self.line_length = features, line_length
        self.infos: list[_Info] = []
        self.pending = 0
        self.split: list[tuple[_Info, list[Leaf], int]] = []

    def add_text(self, depth: int, text: str, kind: int, first: str = "", single_leaf: bool = False) -> None:
        self.infos.append(_Info(depth, text, self.pending, kind, first, False, single_leaf))
        self.pending = 0

    def add_line(self, depth: int, leaves: list[Leaf], kind: int = 0, magic: bool = False) -> None:
        """A logical line: as is when it fits (the fast path), else split by black's first pass. `magic`: a
        magic trailing comma the text does not show (before an invisible parenthesis) splits it too."""
        if leaves[0].flags & IMPORT_KW:
            kind |= IMPORT_LINE
        text = "    " * depth + leaves[0].value + "".join([leaf.prefix + leaf.value for leaf in leaves[1:]])
        info = _Info(depth, text, self.pending, kind, leaves[0].value, leaves[-1].type == COLON, len(leaves) == 1)
        self.infos.append(info)
        self.pending = 0
        if magic or str_width(text) > self.line_length or ",)" in text or ",]" in text or ",}" in text:
            self.split.append((info, leaves, depth))

    def finish(self) -> None:
        """black's two passes over the lines that need splitting: the second with the features it detects in
        the first pass's output (a def's lone `*args` given a trailing comma makes the file Python 3.6+ to
        black). A line of a shape split before takes that layout with its own tokens (`_memo`)."""
        pending = []
        for info, leaves, depth in self.split:
            key = _memo.shape(leaves)
            if key is not None:
                key = (key, depth, self.features, self.line_length)
            tokens = _memo.values(leaves) if key is not None else []
            memo, first = _memo.find(key) if key is not None else None, None
            if memo is None:
                if key is not None:
                    _memo.mark(leaves)
                first = FirstPass(leaves, depth, self.features, self.line_length)
                memo = _memo.Memo(adds_def_vararg_comma(first.leaves, first.lines))
                if key is not None:
                    _memo.keep(key, memo)
            pending.append((info, leaves, depth, key, tokens, memo, first))
        features = self.features
        if not features & FEATURE_DEF and any(memo.adds_vararg_comma for *_, memo, _ in pending):
            features |= FEATURE_CALL | FEATURE_DEF
        rerun = features != self.features
        for info, leaves, depth, key, tokens, memo, first in pending:
            template = memo.templates.get((features, rerun)) if key is not None else None
            if template is None:
                if first is None:  # a known shape, not yet laid out with these features
                    _memo.mark(leaves)
                    first = FirstPass(leaves, depth, self.features, self.line_length)
                lines = second_pass(first, features, self.line_length, rerun)
                text = "\n".join([each.final or each.text() for each in lines])
                if key is None:
                    info.text = text
                    continue
                template = memo.templates[(features, rerun)] = _memo.Template(text, [len(t) for t in tokens])
            info.text = template.fill(tokens)


def _optional_parens(expr: Expr, out: list[Leaf], ws: str, flags: int = 0) -> None:
    """black `normalize_invisible_parens` for one child: invisible parentheses around it, except a tuple
    or generator keeps its visible ones and redundant visible ones turn invisible."""
    if isinstance(expr, (Tuple, GenExp)):
        expr.emit(out, ws)
    elif isinstance(expr, Paren):
        expr.emit_optional(out, ws)
    else:
        _paren(expr, out, ws, "", "", flags)


def _flag(out: list[Leaf], start: int, flags: int) -> None:
    for leaf in out[start:]:
        leaf.flags |= flags


# --- statements -------------------------------------------------------------------------------------


class Stmt:
    """A statement."""

    __slots__ = ()

    def lower(self, depth: int, ctx: _Context, docstring_position: bool) -> None:
        raise NotImplementedError


class ExprStmt(Stmt):
    """An expression as a statement (a call, `a >> b`, ...)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = to_expr(value)

    def lower(self, depth, ctx, docstring_position):
        value = self.value
        if docstring_position and isinstance(value, Str):
            text = _docstring(value.literal, depth, ctx.line_length)
            ctx.add_text(depth, "    " * depth + text, DOCSTRING, text, single_leaf=True)
            return
        out: list[Leaf] = []
        if isinstance(value, BinOp) and value.op in ("+", "-", "<<", ">>", "^", "&"):
            _paren(value, out, "", "", "")  # black `visit_simple_stmt`: is_arith_like
        else:
            value.emit(out, "")
        ctx.add_line(depth, out)


class Assign(Stmt):
    """`target = value`; a `Tuple` target is written bare (`a, b = ...`)."""

    __slots__ = ("target", "value")

    def __init__(self, target: Any, value: Any) -> None:
        self.target, self.value = to_expr(target), to_expr(value)

    def lower(self, depth, ctx, docstring_position):
        out: list[Leaf] = []
        _target(self.target, out)
        out.append(Leaf(EQUAL, "=", " "))
        _optional_parens(self.value, out, " ")
        ctx.add_line(depth, out, magic=isinstance(self.target, Tuple) and self.target.trailing_comma)


def _target(target: Expr, out: list[Leaf]) -> None:
    if isinstance(target, Tuple) and len(target.elts) > 1:
        # black makes the target's parentheses invisible, unless (second pass) they span several lines
        opening = Leaf(LPAR, "", "", role=ATOM, flags=STICKY)
        out.append(opening)
        target.emit_items(out)
        if target.trailing_comma:
            magic_comma(out)
        closing = Leaf(RPAR, "", "", role=ATOM, flags=STICKY)
        closing.opening = opening
        out.append(closing)
    else:
        emit_child(target, out, "", P_TEST)


class AnnAssign(Stmt):
    """`target: annotation = value` (value optional)."""

    __slots__ = ("annotation", "target", "value")

    def __init__(self, target: Any, annotation: Any, value: Any = None) -> None:
        self.target, self.annotation = to_expr(target), to_expr(annotation)
        self.value = None if value is None else to_expr(value)

    def lower(self, depth, ctx, docstring_position):
        out: list[Leaf] = []
        emit_child(self.target, out, "", P_TEST)
        out.append(Leaf(COLON, ":", ""))
        _optional_parens(self.annotation, out, " ")
        if self.value is not None:
            out.append(Leaf(EQUAL, "=", " "))
            _optional_parens(self.value, out, " ")
        ctx.add_line(depth, out)


class AugAssign(Stmt):
    """`target op= value`."""

    __slots__ = ("op", "target", "value")

    def __init__(self, target: Any, op: str, value: Any) -> None:
        if op not in AUGMENTED:
            raise ValueError(f"unsupported augmented assignment {op!r}")
        self.target, self.op, self.value = to_expr(target), op, to_expr(value)

    def lower(self, depth, ctx, docstring_position):
        out: list[Leaf] = []
        emit_child(self.target, out, "", P_TEST)
        out.append(Leaf(OP, self.op, " "))
        _optional_parens(self.value, out, " ")
        ctx.add_line(depth, out)


class _Keyword(Stmt):
    """A statement that is a keyword with an optional value in optional parentheses (`return x`)."""

    __slots__ = ("value",)
    keyword = ""

    def __init__(self, value: Any = None) -> None:
        self.value = None if value is None else to_expr(value)

    def lower(self, depth, ctx, docstring_position):
        out = [Leaf(NAME, self.keyword, "")]
        if self.value is not None:
            _optional_parens(self.value, out, " ")
        ctx.add_line(depth, out)


class Return(_Keyword):
    __slots__ = ()
    keyword = "return"


class Pass(_Keyword):
    __slots__ = ()
    keyword = "pass"


class Break(_Keyword):
    __slots__ = ()
    keyword = "break"


class Continue(_Keyword):
    __slots__ = ()
    keyword = "continue"


class Raise(Stmt):
    """`raise exc [from cause]` (black puts no optional parentheses here)."""

    __slots__ = ("cause", "exc")

    def __init__(self, exc: Any = None, cause: Any = None) -> None:
        self.exc = None if exc is None else to_expr(exc)
        self.cause = None if cause is None else to_expr(cause)

    def lower(self, depth, ctx, docstring_position):
        out = [Leaf(NAME, "raise", "")]
        if self.exc is not None:
            emit_child(self.exc, out, " ", P_TEST)
            if self.cause is not None:
                out.append(Leaf(NAME, "from", " "))
                emit_child(self.cause, out, " ", P_TEST)
        ctx.add_line(depth, out)


class Assert(Stmt):
    """`assert test[, msg]`."""

    __slots__ = ("msg", "test")

    def __init__(self, test: Any, msg: Any = None) -> None:
        self.test = to_expr(test)
        self.msg = None if msg is None else to_expr(msg)

    def lower(self, depth, ctx, docstring_position):
        out = [Leaf(NAME, "assert", "")]
        _optional_parens(self.test, out, " ")
        if self.msg is not None:
            out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY))
            _optional_parens(self.msg, out, " ")
        ctx.add_line(depth, out)


class Global(Stmt):
    __slots__ = ("names",)

    def __init__(self, *names: str) -> None:
        self.names = [_check_name(n) for n in names]

    def lower(self, depth, ctx, docstring_position):
        out = [Leaf(NAME, "global", "")]
        for index, name in enumerate(self.names):
            if index:
                out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY))
            out.append(Leaf(NAME, name, " "))
        ctx.add_line(depth, out)


def _alias(name: str | tuple[str, str], dotted: bool) -> tuple[str, str | None]:
    if isinstance(name, tuple):
        module, alias = name
        return (_check_dotted(module) if dotted else _check_name(module)), _check_name(alias)
    return (_check_dotted(name) if dotted else _check_name(name)), None


def _emit_aliases(names: Sequence[tuple[str, str | None]], out: list[Leaf], first_ws: str) -> None:
    for index, (name, alias) in enumerate(names):
        if index:
            out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY))
        out.append(Leaf(NAME, name, " " if index else first_ws))
        if alias is not None:
            out.append(Leaf(NAME, "as", " "))
            out.append(Leaf(NAME, alias, " "))


class Import(Stmt):
    """`import a.b, c as d`: names are dotted names or (name, alias) pairs."""

    __slots__ = ("names",)

    def __init__(self, *names: str | tuple[str, str]) -> None:
        self.names = [_alias(n, dotted=True) for n in names]

    def lower(self, depth, ctx, docstring_position):
        out = [Leaf(NAME, "import", "", flags=IMPORT_KW)]
        _emit_aliases(self.names, out, " ")
        ctx.add_line(depth, out)


class ImportFrom(Stmt):
    """`from module import a, b as c` (`level` leading dots; `["*"]` for a star import). A long one is
    exploded in parentheses, one name per line, as black writes it."""

    __slots__ = ("level", "module", "names", "trailing_comma")

    def __init__(self, module: str | None, names: Iterable[str | tuple[str, str]], level: int = 0,
                 trailing_comma: bool = False) -> None:
        self.trailing_comma = trailing_comma
        self.module = None if module is None else _check_dotted(module)
        names = list(names)
        self.names = names if names == ["*"] else [_alias(n, dotted=False) for n in names]
        self.level = level
        if not self.names or (self.module is None and not level):
            raise ValueError("ImportFrom needs a module and names")

    def lower(self, depth, ctx, docstring_position):
        out = [Leaf(NAME, "from", "", flags=IMPORT_KW)]
        out.append(Leaf(NAME, "." * self.level + (self.module or ""), " "))
        out.append(Leaf(NAME, "import", " "))
        if self.names == ["*"]:
            out.append(Leaf(STAR, "*", " "))
        else:
            opening = Leaf(LPAR, "", " ", role=IMPORT)  # black `_normalize_import_from`
            out.append(opening)
            _emit_aliases(self.names, out, "")  # type: ignore[arg-type]
            if self.trailing_comma:
                magic_comma(out)
            closing = Leaf(RPAR, "", "", role=IMPORT)
            closing.opening = opening
            out.append(closing)
        ctx.add_line(depth, out, magic=self.trailing_comma)


class Param:
    """A def parameter: `name`, `name: annotation`, `name=default`, `*name`, `**name`; `Param("*")` alone
    is the keyword-only marker."""

    __slots__ = ("annotation", "default", "name", "star")

    def __init__(self, name: str, annotation: Any = None, default: Any = None, star: str = "") -> None:
        if name in ("*", "**") and not star:
            name, star = "", name
        if star not in ("", "*", "**"):
            raise ValueError(f"bad parameter star {star!r}")
        self.name = _check_name(name) if name else ""
        if not self.name and star != "*":
            raise ValueError("a parameter needs a name")
        self.annotation = None if annotation is None else to_expr(annotation)
        self.default = None if default is None else to_expr(default)
        self.star = star

    def emit(self, out: list[Leaf], ws: str) -> None:
        if self.star:
            out.append(Leaf(STAR if self.star == "*" else DOUBLESTAR, self.star, ws, flags=VARARG_DEF))
            if self.name:
                out.append(Leaf(NAME, self.name, ""))
        else:
            out.append(Leaf(NAME, self.name, ws))
        if self.annotation is not None:
            out.append(Leaf(COLON, ":", ""))
            start = len(out)
            _param_annotation(self.annotation, out)
            if self.star != "*":  # black `get_annotation_type` sees `*args: X` (a tname_star) as no annotation
                _flag(out, start, IN_ANNOTATION)
        if self.default is not None:
            spacing = " " if self.annotation is not None else ""
            out.append(Leaf(EQUAL, "=", spacing))
            emit_child(self.default, out, spacing, P_TEST)


def _param_annotation(annotation: Expr, out: list[Leaf]) -> None:
    """black `visit_tname`: invisible parentheses around a `|` union or a bracketed display."""
    if isinstance(annotation, BinOp) and annotation.op == "|" or isinstance(
        annotation, (List, Dict, Set, ListComp, SetComp, DictComp)
    ):
        _paren(annotation, out, " ", "", "")
    elif isinstance(annotation, Paren):
        annotation.emit_optional(out, " ")
    else:
        emit_child(annotation, out, " ", P_TEST)


def _params(params: Iterable[Any]) -> list[Param]:
    return [p if isinstance(p, Param) else Param(p) for p in params]


class Block:
    """Statements in order, rendered at one depth; `Blank()` entries ask for blank lines."""

    __slots__ = ("body",)

    def __init__(self, body: Iterable[Any]) -> None:
        self.body = [_stmt(s) for s in body]


class Module(Block):
    """A whole file: its first statement may be the module docstring; blank lines as black places them."""

    __slots__ = ()


def _stmt(node: Any) -> Stmt | Blank:
    if isinstance(node, (Stmt, Blank)):
        return node
    if isinstance(node, Expr):
        return ExprStmt(node)
    raise TypeError(f"not a statement: {node!r}")


def _body(body: Any) -> list[Stmt | Blank]:
    if isinstance(body, Block):
        return body.body
    if isinstance(body, (Stmt, Expr)):
        return [_stmt(body)]
    return [_stmt(s) for s in body]


def lower_block(body: Sequence[Stmt | Blank], depth: int, ctx: _Context, suite: bool, module: bool = False) -> None:
    """A block's statements; in a suite (or a module) the first statement is in docstring position."""
    if suite and not module and not any(not isinstance(s, (Blank, Comment)) for s in body):
        raise ValueError("a block needs a statement (use Pass())")
    first = suite
    for stmt in body:
        if isinstance(stmt, Blank):
            ctx.pending += stmt.count
            continue
        stmt.lower(depth, ctx, first)
        if not isinstance(stmt, Comment):
            first = False


class Blank:
    """Blank lines before the next statement (black caps them: two at top level, one inside a block)."""

    __slots__ = ("count",)

    def __init__(self, count: int = 1) -> None:
        self.count = count


class Comment(Stmt):
    """Own-line comments (one per line of `text`, any text), written as black normalizes them."""

    __slots__ = ("lines", "source")

    def __init__(self, text: str) -> None:
        self.source = text
        self.lines = _text.comment_lines(text)

    def lower(self, depth, ctx, docstring_position):
        for line in self.lines:
            ctx.add_text(depth, "    " * depth + line, COMMENT)


class Docstring(Stmt):
    """A docstring for `text` (any text): triple-quoted, then normalized as black does (stripped,
    re-indented, padded against its quotes). Outside docstring position it is a plain string statement."""

    __slots__ = ("literal", "source")

    def __init__(self, text: str) -> None:
        self.source = text
        self.literal = _text.docstring_source(text)

    @classmethod
    def from_literal(cls, literal: str) -> Docstring:
        """A docstring written as the string literal `literal` (source text, quotes included)."""
        docstring = cls("")
        docstring.source, docstring.literal = None, literal
        return docstring

    def lower(self, depth, ctx, docstring_position):
        if docstring_position:
            text = _docstring(self.literal, depth, ctx.line_length)
            kind = DOCSTRING
        else:
            text = _text.normalize_string_quotes(_text.normalize_string_prefix(
                _text.normalize_unicode_escapes(self.literal)))
            kind = 0
        ctx.add_text(depth, "    " * depth + text, kind, text, single_leaf=True)


def _docstring(literal: str, depth: int, line_length: int) -> str:
    """black's docstring normalization, twice: `format_str` runs again on its own output."""
    return _text.docstring_literal(_text.docstring_literal(literal, depth, line_length), depth, line_length)


def _decorators(decorators: Iterable[Any], depth: int, ctx: _Context) -> None:
    for decorator in decorators:
        out = [Leaf(AT, "@", "")]
        emit_child(to_expr(decorator), out, "", P_TEST)
        ctx.add_line(depth, out, DECORATOR)


class Def(Stmt):
    """`def name(params) -> returns:` and its body; `decorators` are expressions written after `@`.
    Parameters are `Param` or plain names."""

    __slots__ = ("body", "decorators", "name", "params", "returns", "trailing_comma")

    def __init__(self, name: str, params: Iterable[Any], body: Any, returns: Any = None,
                 decorators: Iterable[Any] = (), trailing_comma: bool = False) -> None:
        self.name = _check_name(name)
        self.trailing_comma = trailing_comma
        self.params = _params(params)
        self.body = _body(body)
        self.returns = None if returns is None else to_expr(returns)
        self.decorators = [to_expr(d) for d in decorators]

    def lower(self, depth, ctx, docstring_position):
        _decorators(self.decorators, depth, ctx)
        out = [Leaf(NAME, "def", ""), Leaf(NAME, self.name, " ")]
        opening = Leaf(LPAR, "(", "", role=PARAMS)
        out.append(opening)
        for index, param in enumerate(self.params):
            if index:
                out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY, flags=ARGLIST_COMMA))
            param.emit(out, " " if index else "")
        if self.trailing_comma and self.params:
            magic_comma(out, ARGLIST_COMMA)
        closing = Leaf(RPAR, ")", "", role=PARAMS)
        closing.opening = opening
        out.append(closing)
        if self.returns is not None:
            out.append(Leaf(RARROW, "->", " "))
            start = len(out)
            _optional_parens(self.returns, out, " ")  # black `visit_funcdef`
            _flag(out, start, IN_RETURN | IN_ANNOTATION)
        out.append(Leaf(COLON, ":", ""))
        ctx.add_line(depth, out, DEF)
        lower_block(self.body, depth + 1, ctx, True)


class Class(Stmt):
    """`class name(bases):` and its body; bases are expressions or `Kw`."""

    __slots__ = ("bases", "body", "decorators", "name", "trailing_comma")

    def __init__(self, name: str, bases: Iterable[Any], body: Any, decorators: Iterable[Any] = (),
                 trailing_comma: bool = False) -> None:
        self.name = _check_name(name)
        self.trailing_comma = trailing_comma
        self.bases = [to_expr(b) for b in bases]
        self.body = _body(body)
        self.decorators = [to_expr(d) for d in decorators]

    def lower(self, depth, ctx, docstring_position):
        _decorators(self.decorators, depth, ctx)
        out = [Leaf(NAME, "class", ""), Leaf(NAME, self.name, " ")]
        if self.bases:  # black drops empty parentheses
            opening = Leaf(LPAR, "(", "", role=OTHER)
            out.append(opening)
            if len(self.bases) == 1 and not self.trailing_comma:
                self.bases[0].emit_in_parens(out, "")
            else:
                for index, base in enumerate(self.bases):
                    if index:
                        out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY, flags=ARGLIST_COMMA))
                    emit_child(base, out, " " if index else "", P_TEST)
                if self.trailing_comma:
                    magic_comma(out, ARGLIST_COMMA)
            closing = Leaf(RPAR, ")", "", role=OTHER)
            closing.opening = opening
            out.append(closing)
        out.append(Leaf(COLON, ":", ""))
        ctx.add_line(depth, out, CLASS)
        lower_block(self.body, depth + 1, ctx, True)


def _header(keyword: str, depth: int, ctx: _Context, value: Expr | None = None) -> None:
    """`keyword [value]:` with the value in optional parentheses."""
    out = [Leaf(NAME, keyword, "")]
    if value is not None:
        _optional_parens(value, out, " ")
    out.append(Leaf(COLON, ":", ""))
    ctx.add_line(depth, out)


def _else(orelse: list[Stmt | Blank], depth: int, ctx: _Context) -> None:
    if orelse:
        _header("else", depth, ctx)
        lower_block(orelse, depth + 1, ctx, True)


class If(Stmt):
    """`if test:` body, then `orelse`: statements for `else:`, or a lone `If` written as `elif`."""

    __slots__ = ("body", "orelse", "test")

    def __init__(self, test: Any, body: Any, orelse: Any = ()) -> None:
        self.test, self.body, self.orelse = to_expr(test), _body(body), _body(orelse)

    def lower(self, depth, ctx, docstring_position, keyword="if"):
        _header(keyword, depth, ctx, self.test)
        lower_block(self.body, depth + 1, ctx, True)
        orelse = self.orelse
        if len(orelse) == 1 and isinstance(orelse[0], If):
            orelse[0].lower(depth, ctx, False, "elif")
        else:
            _else(orelse, depth, ctx)


class While(Stmt):
    __slots__ = ("body", "orelse", "test")

    def __init__(self, test: Any, body: Any, orelse: Any = ()) -> None:
        self.test, self.body, self.orelse = to_expr(test), _body(body), _body(orelse)

    def lower(self, depth, ctx, docstring_position):
        _header("while", depth, ctx, self.test)
        lower_block(self.body, depth + 1, ctx, True)
        _else(self.orelse, depth, ctx)


class For(Stmt):
    """`for target in iter:`; a `Tuple` target is written bare."""

    __slots__ = ("body", "iter", "orelse", "target")

    def __init__(self, target: Any, iter: Any, body: Any, orelse: Any = ()) -> None:
        self.target, self.iter = to_expr(target), to_expr(iter)
        self.body, self.orelse = _body(body), _body(orelse)

    def lower(self, depth, ctx, docstring_position):
        out = [Leaf(NAME, "for", "")]
        opening = Leaf(LPAR, "", " ", role=ATOM)
        out.append(opening)
        if isinstance(self.target, Paren):
            self.target.value.emit_in_parens(out, "")
        else:
            _emit_target(self.target, out, "", COMMA_PRIORITY)
        closing = Leaf(RPAR, "", "", role=ATOM)
        closing.opening = opening
        out.append(closing)
        out.append(Leaf(NAME, "in", " "))
        inner = self.iter
        while isinstance(inner, Paren):
            inner = inner.value
        if inner is not self.iter and isinstance(inner, (IfExp, Lambda)):
            _paren(inner, out, " ", "(", ")")  # black keeps one visible pair around these (#4296)
        elif isinstance(inner, (IfExp, Lambda)):
            _paren(inner, out, " ", "", "", STICKY)  # ... also once its first pass made them visible
        else:
            _optional_parens(self.iter, out, " ")
        out.append(Leaf(COLON, ":", ""))
        ctx.add_line(depth, out)
        lower_block(self.body, depth + 1, ctx, True)
        _else(self.orelse, depth, ctx)


class With(Stmt):
    """`with context [as target]:` and its body (one context manager)."""

    __slots__ = ("body", "context", "target")

    def __init__(self, context: Any, body: Any, target: Any = None) -> None:
        self.context, self.body = to_expr(context), _body(body)
        self.target = None if target is None else to_expr(target)

    def lower(self, depth, ctx, docstring_position):
        out = [Leaf(NAME, "with", "", flags=WITH_KW)]
        context = self.context
        # black `normalize_invisible_parens`/`remove_with_parens` for one context manager
        bare_leaf = isinstance(context, Name) and "." not in context.id or isinstance(context, (Str,)) or (
            type(context).__name__ in ("Num", "Const", "Raw"))
        if isinstance(context, Paren):
            context.emit_optional(out, " ")
        elif isinstance(context, (List, Dict, Set, ListComp, SetComp, DictComp)) or (
                bare_leaf and self.target is None):
            _paren(context, out, " ", "", "")
        else:
            emit_child(context, out, " ", P_TEST)
        if self.target is not None:
            out.append(Leaf(NAME, "as", " "))
            emit_child(self.target, out, " ", P_TEST)
        out.append(Leaf(COLON, ":", ""))
        ctx.add_line(depth, out)
        lower_block(self.body, depth + 1, ctx, True)


class Except:
    """An `except [type [as name]]:` clause of `Try`."""

    __slots__ = ("body", "name", "type")

    def __init__(self, type: Any = None, name: str | None = None, body: Any = ()) -> None:
        self.type = None if type is None else to_expr(type)
        self.name = None if name is None else _check_name(name)
        self.body = _body(body)


class Try(Stmt):
    """`try:` body, `except` clauses, `else:`, `finally:`."""

    __slots__ = ("body", "finalbody", "handlers", "orelse")

    def __init__(self, body: Any, handlers: Iterable[Except] = (), orelse: Any = (), finalbody: Any = ()) -> None:
        self.body, self.handlers = _body(body), list(handlers)
        self.orelse, self.finalbody = _body(orelse), _body(finalbody)

    def lower(self, depth, ctx, docstring_position):
        _header("try", depth, ctx)
        lower_block(self.body, depth + 1, ctx, True)
        for handler in self.handlers:
            out = [Leaf(NAME, "except", "")]
            if handler.type is not None:
                _optional_parens(handler.type, out, " ")
                if handler.name is not None:
                    out.append(Leaf(NAME, "as", " "))
                    out.append(Leaf(NAME, handler.name, " "))
            out.append(Leaf(COLON, ":", ""))
            ctx.add_line(depth, out)
            lower_block(handler.body, depth + 1, ctx, True)
        _else(self.orelse, depth, ctx)
        if self.finalbody:
            _header("finally", depth, ctx)
            lower_block(self.finalbody, depth + 1, ctx, True)


# --- blank lines ------------------------------------------------------------------------------------

_COMPOUND_STARTS = ("with", "try", "for", "while", "if", "match")


def place_blank_lines(infos: list[_Info]) -> None:
    """Blank lines as black's two passes leave them: the second reads the first's as asked for."""
    _blank_lines_pass(infos)
    previous_after = 0
    for info in infos:
        info.user_before, previous_after = info.before + previous_after, info.after
    _blank_lines_pass(infos)


def _blank_lines_pass(infos: list[_Info]) -> None:
    """black `EmptyLineTracker.maybe_empty_lines` (not .pyi): blank lines before each line from those asked
    for, capped, and forced around defs, classes, imports and docstrings."""
    previous: _Info | None = None
    previous_defs: list[_Info] = []
    leading_comment: _Info | None = None  # black: semantic_leading_comment
    for info in infos:
        before, after = _empty_lines(info, previous, previous_defs, leading_comment)
        before = max(0, before - (previous.after if previous else 0))
        if _follows_module_docstring(info, previous):
            before = 1
        info.before, info.after, info.previous = before, after, previous
        if info.kind & COMMENT:
            if previous is None or (not previous.kind & DECORATOR and (not previous.kind & COMMENT or before)
                                    and (leading_comment is None or before)):
                leading_comment = info
        elif not info.kind & DECORATOR or before:
            leading_comment = None
        previous = info
    if infos:
        infos[-1].after = 0


def _empty_lines(info: _Info, previous: _Info | None, previous_defs: list[_Info],
                 leading_comment: _Info | None) -> tuple[int, int]:
    """black `EmptyLineTracker._maybe_empty_lines`."""
    depth = info.depth
    before = min(info.user_before, 2 if depth == 0 else 1)
    user_had_newline = bool(before)
    previous_def = None
    while previous_defs and previous_defs[-1].depth >= depth:
        previous_def = previous_defs.pop()
    if info.kind & (DEF | CLASS):
        previous_defs.append(info)
    if previous is None:
        return 0, 0
    if info.kind & DOCSTRING:
        if previous.kind & CLASS:
            return 0, 1
        if previous.opens_block and previous.kind & DEF:
            return 0, 0
    if previous_def is not None:
        if depth or (previous_def.depth and info.opens_block and info.first not in _COMPOUND_STARTS):
            before = 1
        else:
            before = 2
    if info.kind & (DECORATOR | DEF | CLASS):
        return _empty_lines_before_def(info, previous, before, user_had_newline, leading_comment), 0
    if previous.kind & IMPORT_LINE and not info.kind & IMPORT_LINE:
        if previous.depth == 0 and depth == 0:
            return 1, 0
        if depth == previous.depth:
            return before or 1, 0
    return before, 0


def _empty_lines_before_def(info: _Info, previous: _Info, before: int, user_had_newline: bool,
                            leading_comment: _Info | None) -> int:
    """black `EmptyLineTracker._maybe_empty_lines_for_class_or_def`: blank lines before a decorator, def or
    class go before the comments right above it."""
    if previous.kind & DECORATOR:
        return 0
    if previous.depth < info.depth and previous.kind & (DEF | CLASS):
        return 1 if user_had_newline else 0
    comment_block = None
    if previous.kind & COMMENT and previous.depth == info.depth and before == 0:
        if (leading_comment is not None and leading_comment.previous is not None
                and not leading_comment.previous.kind & CLASS and not leading_comment.previous.opens_block
                and leading_comment.before <= 1):
            comment_block = leading_comment
        else:
            return 0
    newlines = 1 if info.depth else 2
    if comment_block is not None and comment_block.previous is not None:
        comment_block.before = max(comment_block.before, newlines) - comment_block.previous.after
        newlines = 0
    return newlines


def _follows_module_docstring(info: _Info, previous: _Info | None) -> bool:
    """black `_line_is_module_docstring`: one blank line after the module docstring."""
    if previous is None or not previous.single_leaf or not previous.kind & DOCSTRING or previous.depth != 0:
        return False
    if info.kind & (CLASS | DEF):
        return False
    block = previous.previous
    while block is not None:
        if not block.kind & COMMENT:
            return False
        block = block.previous
    return True


# --- rendering --------------------------------------------------------------------------------------


def render(node: Any, depth: int = 0, *, target_py36: bool = True, line_length: int = LINE_LENGTH) -> str:
    """The text black writes for `node` (a `Module`, `Block`, statement or expression) at indentation
    `depth`: newline-terminated lines, blank lines placed as black places them.

    `target_py36` mirrors black's target detection: black adds a trailing comma after `*args`/`**kwargs`
    when it explodes a call or def only in a file that uses Python 3.6+ syntax (an f-string, `from
    __future__ import annotations`, ...); pass False for a file that has none."""
    ctx = _Context(FEATURE_CALL | FEATURE_DEF if target_py36 else 0, line_length)
    if isinstance(node, Block):
        lower_block(node.body, depth, ctx, isinstance(node, Module), module=True)
    else:
        lower_block([_stmt(node)], depth, ctx, False)
    ctx.finish()
    place_blank_lines(ctx.infos)
    if not ctx.infos and isinstance(node, Module) and node.body:
        return "\n"  # black: a file of blank lines becomes one newline
    return "".join(["\n" * info.before + info.text + "\n" + "\n" * info.after for info in ctx.infos])


def render_expr(expr: Any) -> str:
    """An expression's one-line text (black's spelling, no layout): for templates placing short values."""
    return str(to_expr(expr))


__all__ = [
    "AnnAssign", "Assert", "Assign", "AugAssign", "Blank", "Block", "Break", "Class", "Comment", "Continue", "Def",
    "Docstring", "Except", "ExprStmt", "For", "Global", "If", "Import", "ImportFrom", "Module", "Param", "Pass",
    "Raise", "Return", "Stmt", "Try", "While", "With", "render", "render_expr",
]
