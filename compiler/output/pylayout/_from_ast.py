"""Builders from Python's `ast`: `parse("x = f(a)")` gives the statements `render` lays out as black would.

For backends that find source text handier than builder calls, and for the tests (every golden statement
rebuilt this way must render to its golden text). With the source at hand, redundant parentheses become
`Paren` (the AST drops them, black keeps most) and f-strings become `Raw` text.
"""

from __future__ import annotations

import ast
import bisect
import io
import tokenize
from functools import lru_cache
from typing import Any

from . import _stmt as s
from . import _tree as t


class Unsupported(ValueError):
    """The construct is outside the subset pylayout lays out."""


_BINARY = {ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.LShift: "<<", ast.RShift: ">>", ast.Add: "+",
           ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@"}
_UNARY = {ast.Not: "not", ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
            ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}


def parse(source: str) -> s.Block:
    """The statements of `source` as builders (a `Block`)."""
    return s.Block(_Converter(source).stmts(ast.parse(source).body))


def from_ast(node: ast.AST, source: str | None = None) -> Any:
    """A builder for an `ast` statement, expression or module; `source`, the text it was parsed from,
    keeps redundant parentheses and f-strings."""
    converter = _Converter(source)
    if isinstance(node, ast.Module):
        return s.Module(converter.stmts(node.body))
    if isinstance(node, ast.stmt):
        return converter.stmt(node)
    if isinstance(node, ast.expr):
        return converter.expr(node)
    raise Unsupported(type(node).__name__)


class _Converter:
    def __init__(self, source: str | None) -> None:
        self.lines = source.splitlines(keepends=True) if source is not None else None
        self.source = source
        self.offsets: list[int] = []
        if self.lines is not None:
            total = 0
            for line in self.lines:
                self.offsets.append(total)
                total += len(line)

    # --- positions, for parentheses and f-strings ---

    def _offset(self, lineno: int, col: int) -> int:
        assert self.lines is not None
        line = self.lines[lineno - 1]
        return self.offsets[lineno - 1] + len(line.encode()[:col].decode())

    def _span(self, node: ast.expr) -> tuple[int, int]:
        return (self._offset(node.lineno, node.col_offset),
                self._offset(node.end_lineno or node.lineno, node.end_col_offset or 0))

    def _paren_count(self, node: ast.expr) -> int:
        """Parenthesis pairs around `node` in the source."""
        if self.source is None:
            return 0
        text = self.source
        start, end = self._span(node)
        count = 0
        while True:
            before = start - 1
            while before >= 0 and text[before] in " \t\r\n":
                before -= 1
            after = end
            while after < len(text) and text[after] in " \t\r\n":
                after += 1
            if before < 0 or after >= len(text) or text[before] != "(" or text[after] != ")":
                return count
            count += 1
            start, end = before, after + 1

    def _tokens(self) -> None:
        """Bracket tokens of the source: matching pairs, and the closing ones right after a comma."""
        if not hasattr(self, "_match"):
            assert self.source is not None
            self._match, self._after_comma, self._openings = _bracket_tokens(self.source)

    def _trailing_comma(self, node: ast.AST) -> bool:
        """Whether the bracketed `node` (a call or display) ends with a comma before its closing bracket."""
        if self.source is None:
            return False
        self._tokens()
        end = self._offset(node.end_lineno, node.end_col_offset) - 1  # type: ignore[attr-defined]
        return end in self._after_comma

    def _first_bracket_closes_after_comma(self, node: ast.stmt) -> bool:
        """For a def, class or import: whether its first `(` pair (parameters, bases, names) ends with a
        trailing comma."""
        if self.source is None:
            return False
        self._tokens()
        start = self._offset(node.lineno, node.col_offset)
        index = bisect.bisect_left(self._openings, start)
        if index == len(self._openings):
            return False
        opening = self._openings[index]
        if self.source[opening] != "(" or opening > self._offset(node.end_lineno or node.lineno,
                                                                   node.end_col_offset or 0):
            return False
        return self._match.get(opening, -1) in self._after_comma

    def _segment(self, node: ast.expr) -> str:
        start, end = self._span(node)
        assert self.source is not None
        return self.source[start:end]

    # --- statements ---

    def stmts(self, body: list[ast.stmt]) -> list[Any]:
        return [self.stmt(node) for node in body]

    def stmt(self, node: ast.stmt) -> Any:
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(type(node).__name__)
        return method(node)

    def stmt_Expr(self, node: ast.Expr) -> Any:
        value = node.value
        if self.source is not None and isinstance(value, ast.Constant) and isinstance(value.value, str):
            segment = self._segment(value)
            if _string_tokens(segment) == 1 and not self._paren_count(value):
                return s.Docstring.from_literal(segment)  # a string statement: black keeps its quotes
        return s.ExprStmt(self.expr(value))

    def stmt_Assign(self, node: ast.Assign) -> Any:
        if len(node.targets) != 1:
            raise Unsupported("chained assignment")
        return s.Assign(self.expr(node.targets[0]), self.expr(node.value))

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> Any:
        if not node.simple:
            raise Unsupported("parenthesized annotated target")
        value = None if node.value is None else self.expr(node.value)
        return s.AnnAssign(self.expr(node.target), self.expr(node.annotation), value)

    def stmt_AugAssign(self, node: ast.AugAssign) -> Any:
        return s.AugAssign(self.expr(node.target), _BINARY[type(node.op)] + "=", self.expr(node.value))

    def stmt_Return(self, node: ast.Return) -> Any:
        return s.Return(None if node.value is None else self.expr(node.value))

    def stmt_Pass(self, node: ast.Pass) -> Any:
        return s.Pass()

    def stmt_Break(self, node: ast.Break) -> Any:
        return s.Break()

    def stmt_Continue(self, node: ast.Continue) -> Any:
        return s.Continue()

    def stmt_Raise(self, node: ast.Raise) -> Any:
        return s.Raise(*(None if v is None else self.expr(v) for v in (node.exc, node.cause)))

    def stmt_Assert(self, node: ast.Assert) -> Any:
        return s.Assert(self.expr(node.test), None if node.msg is None else self.expr(node.msg))

    def stmt_Global(self, node: ast.Global) -> Any:
        return s.Global(*node.names)

    def stmt_Import(self, node: ast.Import) -> Any:
        return s.Import(*(a.name if a.asname is None else (a.name, a.asname) for a in node.names))

    def stmt_ImportFrom(self, node: ast.ImportFrom) -> Any:
        names = [a.name if a.asname is None else (a.name, a.asname) for a in node.names]
        return s.ImportFrom(node.module, names, node.level, self._first_bracket_closes_after_comma(node))

    def stmt_FunctionDef(self, node: ast.FunctionDef) -> Any:
        if getattr(node, "type_params", None):
            raise Unsupported("type parameters")
        return s.Def(node.name, self.params(node.args), self.body(node.body),
                     None if node.returns is None else self.expr(node.returns),
                     [self.expr(d) for d in node.decorator_list], self._first_bracket_closes_after_comma(node))

    def params(self, args: ast.arguments) -> list[s.Param]:
        if args.posonlyargs:
            raise Unsupported("positional-only parameters")
        params = []
        defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
        for arg, default in zip(args.args, defaults):
            params.append(self.param(arg, default))
        if args.vararg is not None:
            params.append(self.param(args.vararg, None, "*"))
        elif args.kwonlyargs:
            params.append(s.Param("*"))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            params.append(self.param(arg, default))
        if args.kwarg is not None:
            params.append(self.param(args.kwarg, None, "**"))
        return params

    def param(self, arg: ast.arg, default: ast.expr | None, star: str = "") -> s.Param:
        annotation = None if arg.annotation is None else self.expr(arg.annotation)
        return s.Param(arg.arg, annotation, None if default is None else self.expr(default), star)

    def stmt_ClassDef(self, node: ast.ClassDef) -> Any:
        single = len(node.bases) + len(node.keywords) == 1
        bases = [self.expr(b, owned_parens=int(single)) for b in node.bases] + [self.keyword(k) for k in node.keywords]
        return s.Class(node.name, bases, self.body(node.body), [self.expr(d) for d in node.decorator_list],
                       bool(bases) and self._first_bracket_closes_after_comma(node))

    def body(self, body: list[ast.stmt]) -> list[Any]:
        return self.stmts(body)

    def stmt_If(self, node: ast.If) -> Any:
        orelse = node.orelse
        nested_if = len(orelse) == 1 and isinstance(orelse[0], ast.If) and self.lines is not None
        if nested_if and not self.lines[orelse[0].lineno - 1].lstrip().startswith("elif"):  # type: ignore[index]
            raise Unsupported("`else:` holding only an `if`")
        return s.If(self.expr(node.test), self.body(node.body), self.body(orelse))

    def stmt_For(self, node: ast.For) -> Any:
        return s.For(self.expr(node.target), self.expr(node.iter), self.body(node.body), self.body(node.orelse))

    def stmt_While(self, node: ast.While) -> Any:
        return s.While(self.expr(node.test), self.body(node.body), self.body(node.orelse))

    def stmt_With(self, node: ast.With) -> Any:
        if len(node.items) != 1:
            raise Unsupported("several context managers")
        item = node.items[0]
        target = None if item.optional_vars is None else self.expr(item.optional_vars)
        return s.With(self.expr(item.context_expr), self.body(node.body), target)

    def stmt_Try(self, node: ast.Try) -> Any:
        handlers = [s.Except(None if h.type is None else self.expr(h.type), h.name, self.body(h.body))
                    for h in node.handlers]
        return s.Try(self.body(node.body), handlers, self.body(node.orelse), self.body(node.finalbody))

    # --- expressions ---

    def expr(self, node: ast.expr, owned_parens: int = 0) -> t.Expr:
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(type(node).__name__)
        result = method(node)
        if not isinstance(node, (ast.Tuple, ast.GeneratorExp)):
            for _ in range(self._paren_count(node) - owned_parens):
                result = t.Paren(result)
        return result

    def expr_Name(self, node: ast.Name) -> t.Expr:
        return t.Name(node.id)

    def expr_Constant(self, node: ast.Constant) -> t.Expr:
        value = node.value
        if isinstance(value, str):
            if self.source is not None and _string_tokens(self._segment(node)) != 1:
                raise Unsupported("implicitly concatenated strings")
            return t.Str(value)
        if value is None or value is True or value is False or value is Ellipsis:
            return t.Const(value)
        if isinstance(value, (int, float)):
            return t.Num(value)
        raise Unsupported(f"constant {type(value).__name__}")

    def expr_JoinedStr(self, node: ast.JoinedStr) -> t.Expr:
        if self.source is None:
            raise Unsupported("f-string without its source")
        text = self._segment(node)
        if _string_tokens(text) != 1 or "\n" in text:
            raise Unsupported("f-string over several tokens or lines")
        return t.Raw(text)

    def expr_Attribute(self, node: ast.Attribute) -> t.Expr:
        return t.Attribute(self.expr(node.value), node.attr)

    def expr_Call(self, node: ast.Call) -> t.Expr:
        trailing_comma = self._trailing_comma(node)
        single = len(node.args) + len(node.keywords) == 1 and not trailing_comma  # `f((a),)`: not the call's
        args: list[Any] = [self.expr(a, owned_parens=int(single)) for a in node.args]
        args += [self.keyword(k) for k in node.keywords]
        return t.Call(self.expr(node.func), args, trailing_comma=trailing_comma)

    def keyword(self, node: ast.keyword) -> t.Expr:
        if node.arg is None:
            return t.StarStar(self.expr(node.value))
        return t.Kw(node.arg, self.expr(node.value))

    def expr_Starred(self, node: ast.Starred) -> t.Expr:
        return t.Star(self.expr(node.value))

    def expr_Subscript(self, node: ast.Subscript) -> t.Expr:
        index = node.slice
        converted: Any
        if self._trailing_comma(node):
            raise Unsupported("a subscript with a trailing comma")
        if isinstance(index, ast.Tuple):
            parenthesized = self.source is not None and self._segment(index).startswith("(")
            if parenthesized == (len(index.elts) > 1):
                raise Unsupported("a subscript tuple written in parentheses, or one element without them")
            converted = t.Tuple([self.subscript_element(e) for e in index.elts])
        else:
            converted = self.subscript_element(index)
        return t.Subscript(self.expr(node.value), converted)

    def subscript_element(self, node: ast.expr) -> t.Expr:
        if isinstance(node, ast.Slice):
            return t.Slice(*(None if v is None else self.expr(v) for v in (node.lower, node.upper, node.step)))
        return self.expr(node)

    def expr_Tuple(self, node: ast.Tuple) -> t.Expr:
        return t.Tuple([self.expr(e) for e in node.elts], len(node.elts) > 1 and self._trailing_comma(node))

    def expr_List(self, node: ast.List) -> t.Expr:
        return t.List([self.expr(e) for e in node.elts], self._trailing_comma(node))

    def expr_Set(self, node: ast.Set) -> t.Expr:
        return t.Set([self.expr(e) for e in node.elts], self._trailing_comma(node))

    def expr_Dict(self, node: ast.Dict) -> t.Expr:
        return t.Dict([t.StarStar(self.expr(v)) if k is None else (self.expr(k), self.expr(v))
                       for k, v in zip(node.keys, node.values)], self._trailing_comma(node))

    def expr_BinOp(self, node: ast.BinOp) -> t.Expr:
        if type(node.op) not in _BINARY:
            raise Unsupported(type(node.op).__name__)
        return t.BinOp(self.expr(node.left), _BINARY[type(node.op)], self.expr(node.right))

    def expr_BoolOp(self, node: ast.BoolOp) -> t.Expr:
        return t.BoolOp("and" if isinstance(node.op, ast.And) else "or", [self.expr(v) for v in node.values])

    def expr_UnaryOp(self, node: ast.UnaryOp) -> t.Expr:
        return t.UnaryOp(_UNARY[type(node.op)], self.expr(node.operand))

    def expr_Compare(self, node: ast.Compare) -> t.Expr:
        rest: list[Any] = []
        for op, right in zip(node.ops, node.comparators):
            rest += [_COMPARE[type(op)], self.expr(right)]
        return t.Compare(self.expr(node.left), *rest)

    def expr_IfExp(self, node: ast.IfExp) -> t.Expr:
        return t.IfExp(self.expr(node.body), self.expr(node.test), self.expr(node.orelse))

    def expr_Lambda(self, node: ast.Lambda) -> t.Expr:
        args = node.args
        if args.posonlyargs or args.vararg or args.kwonlyargs or args.kwarg:
            raise Unsupported("lambda with more than plain parameters")
        defaults = [None] * (len(args.args) - len(args.defaults)) + [self.expr(d) for d in args.defaults]
        params = [a.arg if d is None else (a.arg, d) for a, d in zip(args.args, defaults)]
        return t.Lambda(params, self.expr(node.body))

    def generators(self, generators: list[ast.comprehension]) -> list[t.CompFor]:
        if any(g.is_async for g in generators):
            raise Unsupported("async comprehension")
        return [t.CompFor(self.expr(g.target), self.expr(g.iter), [self.expr(c) for c in g.ifs])
                for g in generators]

    def expr_ListComp(self, node: ast.ListComp) -> t.Expr:
        return t.ListComp(self.expr(node.elt), self.generators(node.generators))

    def expr_SetComp(self, node: ast.SetComp) -> t.Expr:
        return t.SetComp(self.expr(node.elt), self.generators(node.generators))

    def expr_GeneratorExp(self, node: ast.GeneratorExp) -> t.Expr:
        return t.GenExp(self.expr(node.elt), self.generators(node.generators))

    def expr_DictComp(self, node: ast.DictComp) -> t.Expr:
        return t.DictComp(self.expr(node.key), self.expr(node.value), self.generators(node.generators))


@lru_cache(maxsize=8)
def _bracket_tokens(source: str) -> tuple[dict[int, int], set[int], list[int]]:
    """Offsets of the bracket tokens of `source`: opening to closing, closings after a comma, openings."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    match: dict[int, int] = {}
    after_comma: set[int] = set()
    openings: list[int] = []
    stack: list[int] = []
    previous = ""
    skipped = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in skipped:
            continue
        offset = starts[token.start[0] - 1] + token.start[1]
        if token.string in ("(", "[", "{"):
            stack.append(offset)
            openings.append(offset)
        elif token.string in (")", "]", "}") and stack:
            match[stack.pop()] = offset
            if previous == ",":
                after_comma.add(offset)
        previous = token.string
    return match, after_comma, openings


def _string_tokens(text: str) -> int:
    """How many string tokens `text` holds (more than one: implicit concatenation)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return 0
    return sum(1 for tok in tokens if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1))
