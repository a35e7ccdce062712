"""compiler.language.conditions: parsing, precedence, rendering round trips and errors with offsets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.language.conditions import (
    COMPARISONS,
    BoolOp,
    Compare,
    ConditionError,
    Literal,
    Not,
    RefOperand,
    parse,
    references,
    render,
)
from compiler.language.placeholders import Ref
from compiler.language.values import NUMBER_LIMITS_HELP


def P(name: str) -> Ref:
    return Ref("param", name=name)


def shape(expr):
    """The tree without offsets, with literal types kept (Literal(1) == Literal(True) otherwise)."""
    if isinstance(expr, Literal):
        return ("lit", type(expr.value).__name__, expr.value)
    if isinstance(expr, RefOperand):
        return ("ref", str(expr.ref))
    if isinstance(expr, Compare):
        return (expr.op, shape(expr.left), shape(expr.right))
    if isinstance(expr, BoolOp):
        return (expr.op, *map(shape, expr.operands))
    return ("not", shape(expr.operand))


# ----------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("params.x", ("ref", "params.x")),
        ("tasks.my-task.outputs.acc >= 0.9", (">=", ("ref", "tasks.my-task.outputs.acc"), ("lit", "float", 0.9))),
        ("params.n == -3", ("==", ("ref", "params.n"), ("lit", "int", -3))),
        ("params.n<1e3", ("<", ("ref", "params.n"), ("lit", "float", 1000.0))),
        ("params.s != 'it\\'s'", ("!=", ("ref", "params.s"), ("lit", "str", "it's"))),
        ('params.s == "double"', ("==", ("ref", "params.s"), ("lit", "str", "double"))),
        ("params.b == false", ("==", ("ref", "params.b"), ("lit", "bool", False))),
        ("${{ params.a }} > ${{ params.b }}", (">", ("ref", "params.a"), ("ref", "params.b"))),
        ("${{ params.a > 1 }}", (">", ("ref", "params.a"), ("lit", "int", 1))),
    ],
)
def test_parse(text, expected):
    assert shape(parse(text)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # and binds tighter than or
        ("params.a or params.b and params.c",
         ("or", ("ref", "params.a"), ("and", ("ref", "params.b"), ("ref", "params.c")))),
        ("params.a and params.b or params.c",
         ("or", ("and", ("ref", "params.a"), ("ref", "params.b")), ("ref", "params.c"))),
        # not binds tighter than and, looser than comparisons
        ("not params.a and params.b", ("and", ("not", ("ref", "params.a")), ("ref", "params.b"))),
        ("not params.n == 1", ("not", ("==", ("ref", "params.n"), ("lit", "int", 1)))),
        ("not not params.a", ("not", ("not", ("ref", "params.a")))),
        # parentheses override
        ("(params.a or params.b) and params.c",
         ("and", ("or", ("ref", "params.a"), ("ref", "params.b")), ("ref", "params.c"))),
        # chains are flat
        ("params.a or params.b or params.c", ("or", ("ref", "params.a"), ("ref", "params.b"), ("ref", "params.c"))),
    ],
)
def test_precedence(text, expected):
    assert shape(parse(text)) == expected


def test_reference_offsets_point_into_the_original_text():
    text = "${{ params.alpha }} == 1 and tasks.t.outputs.beta"
    found = list(references(parse(text)))
    assert [str(r.ref) for r in found] == ["params.alpha", "tasks.t.outputs.beta"]
    for operand in found:
        assert text[operand.offset :].startswith(str(operand.ref))


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text, message, offset, help",
    [
        ("", "the condition is empty", 0, None),
        ("   ", "the condition is empty", 0, None),
        ("params.a ==", "the condition ends too early", 11, None),
        ("params.a = 1", "unexpected character '=' in condition", 9, "use == to compare"),
        ("params.a == 1 @", "unexpected character '@' in condition", 14, "quote text as 'text'"),
        ("params.a == 1 == 2", "unexpected '==' in condition", 14, "combine comparisons with and / or"),
        ("params.a params.b", "unexpected 'params.b' in condition", 9, "combine comparisons with and / or"),
        ("(params.a", "the condition ends too early", 9, None),
        ("(params.a params.b)", "expected ')' but found 'params.b'", 10, None),
        ("params.a == True", "'True' is not a literal here", 12, "write true"),
        ("params.a == fast", "'fast' is not a reference a condition can use", 12,
         "use params.NAME or tasks.ID.outputs.NAME; quote text as 'text'"),
        ("artifacts.raw", "'artifacts.raw' is not a reference a condition can use", 0,
         "use params.NAME or tasks.ID.outputs.NAME; quote text as 'text'"),
        ("params.a == )", "unexpected ')' in condition", 12, None),
        ("${{ params.a ==  }}", "the condition ends too early", 19, None),
        ("params.a and 'unterminated", "unexpected character ''' in condition", 13, "close the quote"),
        ("(" * 33 + "params.a" + ")" * 33, "the condition nests ( ) and `not` more than 32 levels deep", 32,
         "write it flatter: a and b and c needs no parentheses"),
        ("not " * 33 + "params.a", "the condition nests ( ) and `not` more than 32 levels deep", 128,
         "write it flatter: a and b and c needs no parentheses"),
        ("params.a == 1e999", "the number 1e999 is out of range", 12, NUMBER_LIMITS_HELP),
        ("params.a == 99999999999999999999", "the number 99999999999999999999 is out of range", 12,
         NUMBER_LIMITS_HELP),
    ],
)
def test_errors_with_offsets(text, message, offset, help):
    """Nesting deep enough to exhaust a recursive parser is refused long before it could."""
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert (str(info.value), info.value.offset, info.value.help) == (message, offset, help)


# ----------------------------------------------------------------------------- rendering

_names = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(lambda s: s not in ("and", "or", "not"))
_refs = st.one_of(
    _names.map(lambda n: RefOperand(Ref("param", name=n), 0)),
    st.tuples(st.from_regex(r"[a-z][a-z0-9-]{0,5}", fullmatch=True), _names).map(
        lambda t: RefOperand(Ref("task_output", name=t[1], task=t[0]), 0)
    ),
)
_literals = st.one_of(
    st.booleans(),
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
).map(Literal)
_leaves = st.one_of(_refs, _literals)
expressions = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(COMPARISONS), inner, inner).map(lambda t: Compare(*t)),
        st.tuples(st.sampled_from(("and", "or")), st.lists(inner, min_size=2, max_size=4)).map(
            lambda t: BoolOp(t[0], tuple(t[1]))
        ),
        inner.map(Not),
    ),
    max_leaves=12,
)


@given(expressions)
def test_render_then_parse_gives_back_the_tree(expr):
    text = render(expr)
    assert shape(parse(text)) == shape(expr), text
    assert render(parse(text)) == text


@pytest.mark.parametrize(
    "text, rendered",
    [
        ("${{ params.a }}>=1", "params.a >= 1"),
        ("params.a and (params.b or params.c)", "params.a and (params.b or params.c)"),
        ("not (params.a and params.b)", "not (params.a and params.b)"),
        ("(params.n > 1) == true", "(params.n > 1) == true"),
        ("(not params.a) == false", "(not params.a) == false"),
        ("(params.a or params.b) != true", "(params.a or params.b) != true"),
        ("params.s == \"it's\"", "params.s == 'it\\'s'"),
        ("params.f == 2.50", "params.f == 2.5"),
    ],
)
def test_render_is_canonical(text, rendered):
    assert render(parse(text)) == rendered
    assert shape(parse(rendered)) == shape(parse(text))
