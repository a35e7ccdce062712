"""`when:` conditions: a tiny expression language every target can express.

    condition := or
    or        := and ('or' and)*
    and       := not ('and' not)*
    not       := 'not' not | compare
    compare   := operand (('==' | '!=' | '<' | '<=' | '>' | '>=') operand)?
    operand   := '(' condition ')' | reference | number | 'string' | true | false

References are `params.NAME` and `tasks.ID.outputs.NAME`, bare or wrapped in `${{ }}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Union

from . import values
from .placeholders import Ref, parse_ref

COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
# Deeper nesting of ( ) and `not` is refused: every target writes the condition in its own syntax,
# and some (Argo's expression language, Python's parser) recurse once per level.
MAX_NESTING = 32


@dataclass(frozen=True)
class Literal:
    value: Union[int, float, str, bool]


@dataclass(frozen=True)
class RefOperand:
    ref: Ref
    offset: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class BoolOp:
    op: str  # 'and' | 'or'
    operands: tuple["Expr", ...]


@dataclass(frozen=True)
class Not:
    operand: "Expr"


Expr = Union[Literal, RefOperand, Compare, BoolOp, Not]


class ConditionError(ValueError):
    def __init__(self, message: str, offset: int, help: str | None = None):
        super().__init__(message)
        self.offset = offset
        self.help = help


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>==|!=|<=|>=|<|>|\(|\))
      | (?P<word>[A-Za-z_][A-Za-z0-9_.-]*)
    )""",
    re.X,
)
_QUOTED = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\""""
# A quoted literal is kept as it is (its text may hold `${{`); a wrapper's body may hold literals.
_WRAPPED = re.compile(rf"(?P<quoted>{_QUOTED})|\$\{{\{{(?P<body>(?:{_QUOTED}|.)*?)\}}\}}", re.S)


def _unwrap(text: str) -> str:
    """`${{ a >= b }}` and `${{ a }} >= ${{ b }}` both become `a >= b` (same length, same offsets)."""
    return _WRAPPED.sub(lambda m: m.group("quoted") or "   " + m.group("body") + "  ", text)


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            return
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            help = {"=": "use == to compare", "'": "close the quote", '"': "close the quote"}.get(
                text[start], "quote text as 'text'")
            raise ConditionError(f"unexpected character '{text[start]}' in condition", start, help)
        kind = match.lastgroup
        assert kind
        yield kind, match.group(kind), match.start(kind)
        pos = match.end()


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = list(_tokens(text))
        self.pos = 0
        self.depth = 0

    def nested(self, offset: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ConditionError(f"the condition nests ( ) and `not` more than {MAX_NESTING} levels deep", offset,
                                 "write it flatter: a and b and c needs no parentheses")

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise ConditionError("the condition ends too early", len(self.text))
        self.pos += 1
        return token

    def at_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1] == word

    def parse(self) -> Expr:
        if not self.tokens:
            raise ConditionError("the condition is empty", 0)
        expr = self.parse_or()
        token = self.peek()
        if token is not None:
            raise ConditionError(f"unexpected '{token[1]}' in condition", token[2],
                                 "combine comparisons with and / or")
        return expr

    def parse_or(self) -> Expr:
        operands = [self.parse_and()]
        while self.at_word("or"):
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def parse_and(self) -> Expr:
        operands = [self.parse_not()]
        while self.at_word("and"):
            self.take()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def parse_not(self) -> Expr:
        if self.at_word("not"):
            self.nested(self.take()[2])
            operand = self.parse_not()
            self.depth -= 1
            return Not(operand)
        left = self.parse_operand()
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in COMPARISONS:
            self.take()
            return Compare(token[1], left, self.parse_operand())
        return left

    def parse_operand(self) -> Expr:
        kind, value, offset = self.take()
        if kind == "number":
            return Literal(_number(value, offset))
        if kind == "string":
            return Literal(_unquote(value))
        if kind == "op" and value == "(":
            self.nested(offset)
            expr = self.parse_or()
            self.depth -= 1
            closing = self.take()
            if closing[1] != ")":
                raise ConditionError(f"expected ')' but found '{closing[1]}'", closing[2])
            return expr
        if kind == "word":
            if value in ("true", "false"):
                return Literal(value == "true")
            if value in ("True", "False"):
                raise ConditionError(f"'{value}' is not a literal here", offset, f"write {value.lower()}")
            ref = parse_ref(value)
            if ref is None or ref.kind not in ("param", "task_output"):
                raise ConditionError(
                    f"'{value}' is not a reference a condition can use",
                    offset,
                    "use params.NAME or tasks.ID.outputs.NAME; quote text as 'text'",
                )
            return RefOperand(ref, offset)
        raise ConditionError(f"unexpected '{value}' in condition", offset)


def _number(text: str, offset: int) -> int | float:
    number = float(text) if any(c in text for c in ".eE") else int(text)
    if not values.is_portable_number(number):
        raise ConditionError(f"the number {text} is out of range", offset, values.NUMBER_LIMITS_HELP)
    return number


def parse(text: str) -> Expr:
    """Parse a condition; raises ConditionError with the offset of the problem."""
    return _Parser(_unwrap(text)).parse()


def references(expr: Expr) -> Iterator[RefOperand]:
    if isinstance(expr, RefOperand):
        yield expr
    elif isinstance(expr, Compare):
        yield from references(expr.left)
        yield from references(expr.right)
    elif isinstance(expr, BoolOp):
        for operand in expr.operands:
            yield from references(operand)
    elif isinstance(expr, Not):
        yield from references(expr.operand)


def render(expr: Expr) -> str:
    """The canonical surface text of a condition (for messages and round trips)."""
    if isinstance(expr, Literal):
        if isinstance(expr.value, bool):
            return "true" if expr.value else "false"
        if isinstance(expr.value, str):
            return "'" + expr.value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return repr(expr.value)
    if isinstance(expr, RefOperand):
        return str(expr.ref)
    if isinstance(expr, Compare):
        return f"{_atom(expr.left)} {expr.op} {_atom(expr.right)}"
    if isinstance(expr, Not):
        return f"not {_group(expr.operand)}"
    return f" {expr.op} ".join(_group(operand) for operand in expr.operands)


def _group(expr: Expr) -> str:
    return f"({render(expr)})" if isinstance(expr, BoolOp) else render(expr)


def _atom(expr: Expr) -> str:
    """An operand of a comparison: anything but a reference or literal needs parentheses."""
    return f"({render(expr)})" if isinstance(expr, (BoolOp, Compare, Not)) else render(expr)
