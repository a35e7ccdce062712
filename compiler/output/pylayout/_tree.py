"""Builder objects for the Python subset dagshift generates, and their lowering to tokens.

Expressions `emit` their tokens (`Leaf`) with the spacing black's `whitespace()` gives them, the delimiter
priorities of `brackets.py`, and the invisible parentheses black's `normalize_invisible_parens` and
`visit_test` insert; statements lower to logical lines that `_split` lays out.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Iterable, Sequence
from typing import Any

from . import _text
from ._split import (
    ARGLIST_COMMA,
    ATOM,
    ATTR_DOT,
    COLON,
    COMMA,
    COMMA_PRIORITY,
    COMPARATOR_PRIORITY,
    COMPREHENSION_PRIORITY,
    DOT,
    DOT_PRIORITY,
    DOUBLESTAR,
    EQUAL,
    LBRACE,
    LOGIC_PRIORITY,
    LPAR,
    LSQB,
    NAME,
    NUMBER,
    OP,
    RBRACE,
    RPAR,
    RSQB,
    SLICE_WS,
    STAR,
    STICKY,
    STRING,
    TERNARY_PRIORITY,
    TRAILER,
    VARARG_CALL,
    Leaf,
)

# Operator precedence, lowest first (as `ast.unparse` orders it).
P_TEST, P_OR, P_AND, P_NOT, P_CMP, P_BOR, P_BXOR, P_BAND, P_SHIFT, P_ARITH, P_TERM, P_FACTOR, P_ATOM = range(1, 14)

BINARY = {  # operator: (precedence, black delimiter priority)
    "|": (P_BOR, 9), "^": (P_BXOR, 8), "&": (P_BAND, 7), "<<": (P_SHIFT, 6), ">>": (P_SHIFT, 6),
    "+": (P_ARITH, 5), "-": (P_ARITH, 5), "*": (P_TERM, 4), "/": (P_TERM, 4), "//": (P_TERM, 4),
    "%": (P_TERM, 4), "@": (P_TERM, 4),
}
COMPARE = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not")
AUGMENTED = frozenset(op + "=" for op in BINARY)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"not a Python identifier: {name!r}")
    return name


def _check_dotted(name: str) -> str:
    for part in name.split("."):
        _check_name(part)
    return name


def to_expr(value: Any) -> Expr:
    """An `Expr` as is; a `str` is a (dotted) name; any other Python value becomes its `literal`."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, str):
        return Name(value)
    return literal(value)


# --- expressions ------------------------------------------------------------------------------------


class Expr:
    """An expression. `str(expr)` is its one-line text, as black spells it."""

    prec = P_ATOM
    __slots__ = ()

    def emit(self, out: list[Leaf], ws: str) -> None:
        """Append this expression's tokens; the first gets the spacing `ws`."""
        raise NotImplementedError

    def emit_in_parens(self, out: list[Leaf], ws: str) -> None:
        """Tokens right after an opening parenthesis (only a conditional expression differs)."""
        self.emit(out, ws)

    def __str__(self) -> str:
        out: list[Leaf] = []
        self.emit(out, "")
        return "".join([leaf.prefix + leaf.value for leaf in out])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"

    # black `nodes.TEST_DESCENDANTS`: does the expression hold a node that makes a subscript complex?
    complex_subscript = True


def emit_child(child: Expr, out: list[Leaf], ws: str, min_prec: int) -> None:
    """`child` in a position that needs at least `min_prec`: parenthesized below it."""
    if child.prec < min_prec:
        _paren(child, out, ws, "(", ")")
    else:
        child.emit(out, ws)


def _paren(inner: Expr, out: list[Leaf], ws: str, lpar: str, rpar: str, flags: int = 0) -> None:
    """`inner` in parentheses (visible, or black's invisible ones with empty values)."""
    opening = Leaf(LPAR, lpar, ws, flags=flags, role=ATOM)
    out.append(opening)
    inner.emit_in_parens(out, "")
    closing = Leaf(RPAR, rpar, "", flags=flags, role=ATOM)
    closing.opening = opening
    out.append(closing)


def _emit_list(items: Sequence[Expr], out: list[Leaf], comma_flags: int = 0, comma_after: int = COMMA_PRIORITY,
               prec: int = P_TEST) -> None:
    for index, item in enumerate(items):
        if index:
            out.append(Leaf(COMMA, ",", "", after=comma_after, flags=comma_flags))
        emit_child(item, out, " " if index else "", prec)


def _bracket(out: list[Leaf], kind: int, value: str, ws: str, role: int, flags: int = 0) -> Leaf:
    leaf = Leaf(kind, value, ws, flags=flags, role=role)
    out.append(leaf)
    return leaf


def _close(out: list[Leaf], kind: int, value: str, opening: Leaf, flags: int = 0) -> None:
    leaf = Leaf(kind, value, "", flags=flags, role=opening.role)
    leaf.opening = opening
    out.append(leaf)


class Name(Expr):
    """A name, or a dotted name (`a.b.c`, an attribute chain)."""

    __slots__ = ("id",)

    def __init__(self, id: str) -> None:
        self.id = _check_dotted(id)

    def emit(self, out, ws):
        parts = self.id.split(".")
        out.append(Leaf(NAME, parts[0], ws))
        for part in parts[1:]:
            out.append(Leaf(DOT, ".", "", before=DOT_PRIORITY, flags=ATTR_DOT))
            out.append(Leaf(NAME, part, ""))

    @property
    def complex_subscript(self) -> bool:  # type: ignore[override]
        return "." in self.id  # an attribute access is a `power` node


class Const(Expr):
    """`True`, `False`, `None` or `...`."""

    __slots__ = ("value",)
    complex_subscript = False

    def __init__(self, value: Any) -> None:
        if not (value is None or value is True or value is False or value is Ellipsis):
            raise ValueError(f"not a constant: {value!r}")
        self.value = value

    def emit(self, out, ws):
        out.append(Leaf(NAME, "..." if self.value is Ellipsis else repr(self.value), ws))


class Str(Expr):
    """A string literal holding any `str` (quoted and escaped as black writes it)."""

    __slots__ = ("literal", "value")
    complex_subscript = False

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Str needs a str, got {type(value).__name__}")
        self.value = value
        self.literal = _text.string_literal(value)

    def emit(self, out, ws):
        out.append(Leaf(STRING, self.literal, ws))


class Num(Expr):
    """A non-negative int or float literal (see `literal` for negatives and infinities)."""

    __slots__ = ("literal", "value")
    complex_subscript = False

    def __init__(self, value: float) -> None:
        self.value = value
        self.literal = _text.number_literal(value)

    def emit(self, out, ws):
        out.append(Leaf(NUMBER, self.literal, ws))


class Raw(Expr):
    """Text used as one atom, verbatim: the caller guarantees black writes it so (say an f-string)."""

    __slots__ = ("text",)
    complex_subscript = False

    def __init__(self, text: str) -> None:
        if not text or "\n" in text or "\r" in text:
            raise ValueError("Raw needs one non-empty line")
        self.text = text

    def emit(self, out, ws):
        is_string = self.text.lstrip("furbFURBtT")[:1] in ("'", '"')
        out.append(Leaf(STRING if is_string else NAME, self.text, ws))


class Attribute(Expr):
    """`value.attr`."""

    __slots__ = ("attr", "value")

    def __init__(self, value: Any, attr: str) -> None:
        self.value = to_expr(value)
        self.attr = _check_name(attr)

    def emit(self, out, ws):
        if isinstance(self.value, Num):
            _paren(self.value, out, ws, "(", ")")
        else:
            emit_child(self.value, out, ws, P_ATOM)
        out.append(Leaf(DOT, ".", "", before=DOT_PRIORITY, flags=ATTR_DOT))
        out.append(Leaf(NAME, self.attr, ""))


class Kw(Expr):
    """A keyword argument `name=value` (only inside `Call`)."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Any) -> None:
        self.name = _check_name(name)
        self.value = to_expr(value)

    def emit(self, out, ws):
        out.append(Leaf(NAME, self.name, ws))
        out.append(Leaf(EQUAL, "=", ""))
        emit_child(self.value, out, "", P_TEST)


class Star(Expr):
    """`*value`: unpacking in a call, list, tuple or set."""

    __slots__ = ("value", "vararg")

    def __init__(self, value: Any) -> None:
        self.value = to_expr(value)
        self.vararg = 0

    def emit(self, out, ws):
        out.append(Leaf(STAR, "*", ws, flags=self.vararg))
        emit_child(self.value, out, "", P_BOR)


class StarStar(Expr):
    """`**value`: unpacking in a call or a dict."""

    __slots__ = ("value", "vararg")

    def __init__(self, value: Any) -> None:
        self.value = to_expr(value)
        self.vararg = 0

    def emit(self, out, ws):
        out.append(Leaf(DOUBLESTAR, "**", ws, flags=self.vararg))
        emit_child(self.value, out, "", P_BOR)


def _call_args(args: Iterable[Any], kwargs: dict[str, Any] | None) -> list[Expr]:
    items = [to_expr(arg) for arg in args]
    items += [Kw(name, value) for name, value in (kwargs or {}).items()]
    for item in items:
        if isinstance(item, (Star, StarStar)):
            item.vararg = VARARG_CALL
    return items


def magic_comma(out: list[Leaf], flags: int = 0) -> None:
    """A trailing comma written in the source: black's magic trailing comma, one item per line."""
    out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY, flags=flags))


class Call(Expr):
    """`func(args)`: `args` holds expressions, `Kw`, `Star` and `StarStar`; `kwargs` adds keywords;
    `trailing_comma` writes a magic trailing comma (black then puts one argument per line)."""

    __slots__ = ("args", "func", "trailing_comma")

    def __init__(self, func: Any, args: Iterable[Any] = (), kwargs: dict[str, Any] | None = None,
                 trailing_comma: bool = False) -> None:
        self.func = to_expr(func)
        self.args = _call_args(args, kwargs)
        self.trailing_comma = trailing_comma and bool(self.args)
        if self.trailing_comma and len(self.args) == 1 and isinstance(self.args[0], GenExp):
            raise ValueError("a lone generator argument takes no trailing comma")

    def emit(self, out, ws):
        emit_child(self.func, out, ws, P_ATOM)
        opening = _bracket(out, LPAR, "(", "", TRAILER)
        args = self.args
        if len(args) == 1 and isinstance(args[0], GenExp):
            args[0].emit_bare(out, "")  # a lone generator argument needs no parentheses of its own
        elif len(args) == 1 and not self.trailing_comma:
            args[0].emit_in_parens(out, "")  # black `visit_test`: already parenthesized
        else:
            _emit_list(args, out, comma_flags=ARGLIST_COMMA)
            if self.trailing_comma:
                magic_comma(out, ARGLIST_COMMA)
        _close(out, RPAR, ")", opening)


class Subscript(Expr):
    """`value[index]`; a `Tuple` index is written bare (`x[a, b]`), elements may be `Slice`."""

    __slots__ = ("index", "value")

    def __init__(self, value: Any, index: Any) -> None:
        self.value = to_expr(value)
        self.index = to_expr(index)

    def emit(self, out, ws):
        emit_child(self.value, out, ws, P_ATOM)
        opening = _bracket(out, LSQB, "[", "", TRAILER)
        index = self.index
        if isinstance(index, Tuple) and len(index.elts) > 1:
            for i, element in enumerate(index.elts):
                if i:
                    out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY))
                _subscript_element(element, out, " " if i else "", opening)
        else:
            _subscript_element(index, out, "", opening)
        _close(out, RSQB, "]", opening)


def _subscript_element(element: Expr, out: list[Leaf], ws: str, opening: Leaf) -> None:
    if isinstance(element, Slice):
        element.emit_slice(out, ws, opening)
    else:
        emit_child(element, out, ws, P_TEST)


class Slice(Expr):
    """`lower:upper:step` inside `Subscript` (black spaces the colons of a complex slice)."""

    __slots__ = ("lower", "step", "upper")

    def __init__(self, lower: Any = None, upper: Any = None, step: Any = None) -> None:
        self.lower, self.upper, self.step = (None if v is None else to_expr(v) for v in (lower, upper, step))

    def emit(self, out, ws):
        raise ValueError("Slice is only valid inside Subscript")

    def emit_slice(self, out: list[Leaf], ws: str, opening: Leaf) -> None:
        # black `whitespace()` with `is_complex_subscript`: a colon after a bound, and a bound after a colon,
        # are spaced when any part of the slice is more than a name, a literal or a unary minus.
        parts = [p for p in (self.lower, self.upper, self.step) if p is not None]
        complex_ = any(part.complex_subscript for part in parts)
        space = " " if complex_ else ""
        ref = opening if complex_ else None
        previous_kind = None  # what precedes the next token: None (start), "bound", "colon"
        if self.lower is not None:
            emit_child(self.lower, out, ws, P_TEST)
            previous_kind = "bound"
        for position, bound in ((1, self.upper), (2, self.step)):
            if position == 2 and self.step is None:
                break
            colon_ws = ws if previous_kind is None else (space if previous_kind == "bound" else "")
            colon = Leaf(COLON, ":", colon_ws, flags=SLICE_WS if previous_kind == "bound" else 0)
            colon.complex = ref
            out.append(colon)
            previous_kind = "colon"
            if bound is not None:
                start = len(out)
                emit_child(bound, out, space, P_TEST)
                out[start].flags |= SLICE_WS
                out[start].complex = ref
                previous_kind = "bound"


class _Display(Expr):
    """A bracketed display: tuple, list, set; `trailing_comma` writes a magic trailing comma."""

    __slots__ = ("elts", "trailing_comma")
    open_type, open_value, close_type, close_value = LPAR, "(", RPAR, ")"

    def __init__(self, elts: Iterable[Any] = (), trailing_comma: bool = False) -> None:
        self.elts = [to_expr(e) for e in elts]
        self.trailing_comma = trailing_comma and bool(self.elts)

    @property
    def complex_subscript(self) -> bool:  # type: ignore[override]
        return any(e.complex_subscript for e in self.elts)

    def emit(self, out, ws):
        opening = _bracket(out, self.open_type, self.open_value, ws, ATOM)
        self.emit_items(out)
        if self.trailing_comma and not (isinstance(self, Tuple) and len(self.elts) == 1):
            magic_comma(out)
        _close(out, self.close_type, self.close_value, opening)

    def emit_items(self, out: list[Leaf]) -> None:
        # black `visit_atom`: redundant parentheses around the one item of a list or set are made invisible
        # (on its second pass too: a conditional expression's parentheses then do not stick)
        if self.trailing_comma:
            _emit_list(self.elts, out)
        elif len(self.elts) == 1 and isinstance(self.elts[0], Paren):
            self.elts[0].emit_optional(out, "")
        elif len(self.elts) == 1 and isinstance(self.elts[0], IfExp):
            _paren(self.elts[0], out, "", "", "")
        else:
            _emit_list(self.elts, out)


class Tuple(_Display):
    """`(a, b)`; one element gets its comma `(a,)`."""

    __slots__ = ()

    def emit_items(self, out):
        _emit_list(self.elts, out)
        if len(self.elts) == 1:
            out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY))


class List(_Display):
    __slots__ = ()
    open_type, open_value, close_type, close_value = LSQB, "[", RSQB, "]"


class Set(_Display):
    __slots__ = ()
    open_type, open_value, close_type, close_value = LBRACE, "{", RBRACE, "}"

    def __init__(self, elts: Iterable[Any], trailing_comma: bool = False) -> None:
        super().__init__(elts, trailing_comma)
        if not self.elts:
            raise ValueError("an empty set has no display: use Call('set')")


class Dict(Expr):
    """`{k: v, **other}`: `items` are (key, value) pairs or `StarStar`; a dict is taken as its items;
    `trailing_comma` writes a magic trailing comma."""

    __slots__ = ("items", "trailing_comma")

    def __init__(self, items: Any = (), trailing_comma: bool = False) -> None:
        if isinstance(items, dict):
            items = items.items()
        self.items: list[tuple[Expr, Expr] | StarStar] = [
            item if isinstance(item, StarStar) else (to_expr(item[0]), to_expr(item[1])) for item in items
        ]
        self.trailing_comma = trailing_comma and bool(self.items)

    @property
    def complex_subscript(self) -> bool:  # type: ignore[override]
        return any(item.value.complex_subscript if isinstance(item, StarStar) else
                   item[0].complex_subscript or item[1].complex_subscript for item in self.items)

    def emit(self, out, ws):
        opening = _bracket(out, LBRACE, "{", ws, ATOM)
        for index, item in enumerate(self.items):
            if index:
                out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY))
            item_ws = " " if index else ""
            if isinstance(item, StarStar):
                item.emit(out, item_ws)
            else:
                emit_child(item[0], out, item_ws, P_TEST)
                out.append(Leaf(COLON, ":", ""))
                emit_child(item[1], out, " ", P_TEST)
        if self.trailing_comma:
            magic_comma(out)
        _close(out, RBRACE, "}", opening)


class Paren(Expr):
    """Explicit parentheses black keeps inside expressions (and drops where a statement's own optional
    parentheses go, as around an assignment's right-hand side)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = to_expr(value)

    @property
    def complex_subscript(self) -> bool:  # type: ignore[override]
        return self.value.complex_subscript

    def emit(self, out, ws):
        _paren(self.value, out, ws, "(", ")")

    def emit_optional(self, out: list[Leaf], ws: str) -> None:
        """Where black makes redundant parentheses invisible (`maybe_make_parens_invisible_in_atom`): one
        invisible pair is left of any nesting; a tuple or generator inside keeps its own."""
        inner = self.value
        while isinstance(inner, Paren):
            inner = inner.value
        _paren(inner, out, ws, "", "")


class BinOp(Expr):
    """`left op right` for the arithmetic, bitwise and shift operators (`**` is not supported)."""

    __slots__ = ("left", "op", "prec", "right")

    def __init__(self, left: Any, op: str, right: Any) -> None:
        if op not in BINARY:
            raise ValueError(f"unsupported binary operator {op!r}")
        self.left, self.op, self.right = to_expr(left), op, to_expr(right)
        self.prec = BINARY[op][0]

    def emit(self, out, ws):
        prec, priority = BINARY[self.op]
        emit_child(self.left, out, ws, prec)
        out.append(Leaf(OP, self.op, " ", before=priority))
        emit_child(self.right, out, " ", prec + 1)


def chain(*operands: Any, op: str = ">>") -> Expr:
    """`a >> b >> c` (left-associative) from its operands."""
    result = to_expr(operands[0])
    for operand in operands[1:]:
        result = BinOp(result, op, operand)
    return result


class BoolOp(Expr):
    """`a and b and c` / `a or b`."""

    __slots__ = ("op", "prec", "values")

    def __init__(self, op: str, values: Iterable[Any]) -> None:
        if op not in ("and", "or"):
            raise ValueError(f"unsupported boolean operator {op!r}")
        self.op, self.values = op, [to_expr(v) for v in values]
        if len(self.values) < 2:
            raise ValueError("BoolOp needs two values or more")
        self.prec = P_AND if op == "and" else P_OR

    def emit(self, out, ws):
        for index, value in enumerate(self.values):
            if index:
                out.append(Leaf(NAME, self.op, " ", before=LOGIC_PRIORITY))
            emit_child(value, out, " " if index else ws, self.prec + 1)


class UnaryOp(Expr):
    """`not x`, `-x`, `+x`, `~x`."""

    __slots__ = ("op", "operand", "prec")

    def __init__(self, op: str, operand: Any) -> None:
        if op not in ("not", "-", "+", "~"):
            raise ValueError(f"unsupported unary operator {op!r}")
        self.op, self.operand = op, to_expr(operand)
        self.prec = P_NOT if op == "not" else P_FACTOR

    @property
    def complex_subscript(self) -> bool:  # type: ignore[override]
        return self.op == "not" or self.operand.complex_subscript  # a `factor` node is not a test

    def emit(self, out, ws):
        if self.op == "not":
            out.append(Leaf(NAME, "not", ws))
            emit_child(self.operand, out, " ", P_NOT)
        else:
            out.append(Leaf(OP, self.op, ws))
            emit_child(self.operand, out, "", P_FACTOR)


class Compare(Expr):
    """`left op right [op right ...]` with `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`, `is`, `is not`."""

    __slots__ = ("left", "pairs")
    prec = P_CMP

    def __init__(self, left: Any, op: str, right: Any, *more: Any) -> None:
        pairs = [(op, right), *zip(more[0::2], more[1::2])]
        for each_op, _ in pairs:
            if each_op not in COMPARE:
                raise ValueError(f"unsupported comparison {each_op!r}")
        self.left = to_expr(left)
        self.pairs = [(each_op, to_expr(value)) for each_op, value in pairs]

    def emit(self, out, ws):
        emit_child(self.left, out, ws, P_CMP + 1)
        for op, right in self.pairs:
            # black `is_split_before_delimiter`: a break goes before `not in`/`is not`, never inside them
            if op in ("not in", "is not"):
                first, second = op.split()
                out.append(Leaf(NAME, first, " ", before=COMPARATOR_PRIORITY))
                out.append(Leaf(NAME, second, " "))
            else:
                out.append(Leaf(OP if op[0] in "=!<>" else NAME, op, " ", before=COMPARATOR_PRIORITY))
            emit_child(right, out, " ", P_CMP + 1)


class IfExp(Expr):
    """`body if test else orelse`; black wraps it in invisible parentheses unless it directly follows one."""

    __slots__ = ("body", "orelse", "test")
    prec = P_TEST

    def __init__(self, body: Any, test: Any, orelse: Any) -> None:
        self.body, self.test, self.orelse = to_expr(body), to_expr(test), to_expr(orelse)

    def emit(self, out, ws):
        _paren(self, out, ws, "", "", STICKY)  # black `visit_test`: its own invisible parentheses

    def emit_in_parens(self, out, ws):
        emit_child(self.body, out, ws, P_TEST + 1)
        out.append(Leaf(NAME, "if", " ", before=TERNARY_PRIORITY))
        emit_child(self.test, out, " ", P_TEST + 1)
        out.append(Leaf(NAME, "else", " ", before=TERNARY_PRIORITY))
        emit_child(self.orelse, out, " ", P_TEST)


class Lambda(Expr):
    """`lambda a, b=1: body` with plain positional parameters."""

    __slots__ = ("body", "params")
    prec = P_TEST

    def __init__(self, params: Iterable[Any], body: Any) -> None:
        self.params = [p if isinstance(p, tuple) else (p, None) for p in params]
        for name, _ in self.params:
            _check_name(name)
        self.body = to_expr(body)

    def emit(self, out, ws):
        out.append(Leaf(NAME, "lambda", ws))
        for index, (name, default) in enumerate(self.params):
            if index:
                out.append(Leaf(COMMA, ",", "", after=COMMA_PRIORITY))
            out.append(Leaf(NAME, name, " "))
            if default is not None:
                out.append(Leaf(EQUAL, "=", ""))
                emit_child(to_expr(default), out, "", P_TEST)
        out.append(Leaf(COLON, ":", ""))
        emit_child(self.body, out, " ", P_TEST)


class CompFor:
    """`for target in iter if cond ...` of a comprehension; `target` a name or a tuple of names."""

    __slots__ = ("ifs", "iter", "target")

    def __init__(self, target: Any, iter: Any, ifs: Iterable[Any] = ()) -> None:
        self.target, self.iter, self.ifs = to_expr(target), to_expr(iter), [to_expr(c) for c in ifs]

    def emit(self, out: list[Leaf]) -> None:
        out.append(Leaf(NAME, "for", " ", before=COMPREHENSION_PRIORITY))
        _emit_target(self.target, out, " ")
        out.append(Leaf(NAME, "in", " "))
        emit_child(self.iter, out, " ", P_OR)
        for cond in self.ifs:
            out.append(Leaf(NAME, "if", " ", before=COMPREHENSION_PRIORITY))
            emit_child(cond, out, " ", P_OR)


def _emit_target(target: Expr, out: list[Leaf], ws: str, comma_after: int = 0) -> None:
    """A for-target: a tuple written bare. Its commas split nothing in a comprehension (black's exprlist
    under comp_for); a for statement wraps it in invisible parentheses, and there they do."""
    if isinstance(target, Tuple) and len(target.elts) > 1:
        for index, element in enumerate(target.elts):
            if index:
                out.append(Leaf(COMMA, ",", "", after=comma_after))
            emit_child(element, out, " " if index else ws, P_BOR)
    else:
        emit_child(target, out, ws, P_BOR)


class _Comprehension(Expr):
    __slots__ = ("elt", "generators")
    open_type, open_value, close_type, close_value = LSQB, "[", RSQB, "]"

    def __init__(self, elt: Any, generators: Iterable[CompFor]) -> None:
        self.elt = to_expr(elt)
        self.generators = list(generators)
        if not self.generators:
            raise ValueError("a comprehension needs a CompFor")

    def emit(self, out, ws):
        opening = _bracket(out, self.open_type, self.open_value, ws, ATOM)
        self.emit_bare(out, "")
        _close(out, self.close_type, self.close_value, opening)

    @property
    def complex_subscript(self) -> bool:  # type: ignore[override]
        parts = [self.elt, getattr(self, "value", self.elt)]
        for generator in self.generators:
            parts += [generator.target, generator.iter, *generator.ifs]
        return any(part.complex_subscript for part in parts)

    def emit_bare(self, out: list[Leaf], ws: str) -> None:
        emit_child(self.elt, out, ws, P_TEST)
        for generator in self.generators:
            generator.emit(out)


class ListComp(_Comprehension):
    __slots__ = ()


class SetComp(_Comprehension):
    __slots__ = ()
    open_type, open_value, close_type, close_value = LBRACE, "{", RBRACE, "}"


class GenExp(_Comprehension):
    """`(elt for ...)`; as the only argument of a call it is written without its own parentheses."""

    __slots__ = ()
    open_type, open_value, close_type, close_value = LPAR, "(", RPAR, ")"


class DictComp(_Comprehension):
    """`{key: value for ...}`."""

    __slots__ = ("value",)
    open_type, open_value, close_type, close_value = LBRACE, "{", RBRACE, "}"

    def __init__(self, key: Any, value: Any, generators: Iterable[CompFor]) -> None:
        super().__init__(key, generators)
        self.value = to_expr(value)

    def emit_bare(self, out, ws):
        emit_child(self.elt, out, ws, P_TEST)
        out.append(Leaf(COLON, ":", ""))
        emit_child(self.value, out, " ", P_TEST)
        for generator in self.generators:
            generator.emit(out)


def literal(value: Any) -> Expr:
    """The expression for a nested str/int/float/bool/None/list/tuple/dict value (what `python_literal` in
    `compiler/output/emit.py` writes before black): negative numbers as `-x`, infinities and NaN as `float("inf")`."""
    if value is None or isinstance(value, bool):
        return Const(value)
    if isinstance(value, str):
        return Str(value)
    if isinstance(value, int):
        return UnaryOp("-", Num(-value)) if value < 0 else Num(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return Call(Name("float"), [Str(str(value))])
        if math.copysign(1.0, value) < 0:
            return UnaryOp("-", Num(-value))
        return Num(value)
    if isinstance(value, tuple):
        return Tuple([literal(v) for v in value])
    if isinstance(value, list):
        return List([literal(v) for v in value])
    if isinstance(value, dict):
        return Dict([(literal(k), literal(v)) for k, v in value.items()])
    raise TypeError(f"no Python literal for {type(value).__name__}")
