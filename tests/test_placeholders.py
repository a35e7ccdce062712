"""compiler.language.placeholders: segments, the `$${{` escape, errors with did-you-mean, occurrences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.language.placeholders import (
    FORMS_HELP,
    Ref,
    escaped,
    literal,
    occurrences,
    parse,
    parse_ref,
    refs,
    strings_in,
    suggest_ref,
)


@pytest.mark.parametrize(
    "text, segments",
    [
        ("plain text", ["plain text"]),
        ("", []),
        ("${{ params.lr }}", [Ref("param", name="lr")]),
        ("--lr ${{params.lr}} --x", ["--lr ", Ref("param", name="lr"), " --x"]),
        ("${{ artifacts.raw }}${{ item }}", [Ref("artifact", name="raw"), Ref("item")]),
        ("${{ item.key }}", [Ref("item", name="key")]),
        ("${{ outputs.acc }}", [Ref("output", name="acc")]),
        ("${{ tasks.train-2.outputs.score }}", [Ref("task_output", name="score", task="train-2")]),
        ("${{\n  params.lr\n}}", [Ref("param", name="lr")]),
        # braces that are not a placeholder are literal
        ("awk '{print $1}' ${HOME} {{ x }} ${{ params.a", ["awk '{print $1}' ${HOME} {{ x }} ${{ params.a"]),
    ],
)
def test_segments(text, segments):
    assert parse(text) == (segments, [])


@pytest.mark.parametrize(
    "text, segments",
    [
        ("$${{ params.lr }}", ["${{ params.lr }}"]),
        ("a $${{ not a ref }} b", ["a ${{ not a ref }} b"]),
        ("x $${{ params.a }} ${{ params.b }}", ["x ${{ params.a }} ", Ref("param", name="b")]),
        ("$$${{ params.a }}", ["$${{ params.a }}"]),
    ],
)
def test_escape_gives_a_literal_placeholder(text, segments):
    assert parse(text) == (segments, [])
    assert refs(text) == [s for s in segments if isinstance(s, Ref)]


def test_adjacent_literals_are_merged():
    segments, errors = parse("a $${{ x }} b ${{ bad }} c")
    assert segments == ["a ${{ x }} b ${{ bad }} c"]
    assert len(errors) == 1


@pytest.mark.parametrize(
    "text, offset, raw, help",
    [
        ("run ${{ param.lr }}", 4, "${{ param.lr }}", "did you mean '${{ params.lr }}'?"),
        ("${{ artifact.raw }}", 0, "${{ artifact.raw }}", "did you mean '${{ artifacts.raw }}'?"),
        ("x ${{ task.a.output.b }}", 2, "${{ task.a.output.b }}", "did you mean '${{ tasks.a.outputs.b }}'?"),
        ("x ${{ tasks.a.output.b }}", 2, "${{ tasks.a.output.b }}", "did you mean '${{ tasks.a.outputs.b }}'?"),
        ("${{ output.acc }}", 0, "${{ output.acc }}", "did you mean '${{ outputs.acc }}'?"),
        ("${{ items }}", 0, "${{ items }}", FORMS_HELP),
        ("${{ }}", 0, "${{ }}", FORMS_HELP),
        ("${{ params.my-lr }}", 0, "${{ params.my-lr }}", FORMS_HELP),
        ("${{ params.a.b }}", 0, "${{ params.a.b }}", FORMS_HELP),
        ("ok ${{ params.a }} then ${{ zzz.y }}", 24, "${{ zzz.y }}", FORMS_HELP),
    ],
)
def test_unknown_placeholder_errors(text, offset, raw, help):
    segments, errors = parse(text)
    assert len(errors) == 1
    error = errors[0]
    assert (error.offset, error.length, error.help) == (offset, len(raw), help)
    assert text[error.offset : error.offset + error.length] == raw
    assert error.message == f"unknown placeholder '{raw}'"
    assert raw in "".join(s for s in segments if isinstance(s, str))  # kept as literal text


def test_suggest_ref_only_suggests_valid_references():
    assert suggest_ref("param.x-y") is None
    assert suggest_ref("zzz.x") is None
    assert suggest_ref("param") is None


def test_forms_help_names_every_form_and_the_escape():
    for form in ("params.NAME", "artifacts.NAME", "tasks.ID.outputs.NAME", "${{ item }}", "item.KEY",
                 "outputs.NAME", "$${{"):
        assert form in FORMS_HELP


def test_occurrences_give_the_written_text():
    text = "a ${{params.x}} $${{ params.skip }} ${{ bad }} ${{  tasks.t.outputs.o  }}"
    assert list(occurrences(text)) == [
        ("${{params.x}}", Ref("param", name="x")),
        ("${{  tasks.t.outputs.o  }}", Ref("task_output", name="o", task="t")),
    ]


@pytest.mark.parametrize(
    "expression, ref",
    [
        ("params.x", Ref("param", name="x")),
        ("  item ", Ref("item")),
        ("tasks.a_b.outputs.c", Ref("task_output", name="c", task="a_b")),
        ("params.1x", None),
        ("params", None),
        ("tasks.a.outputs", None),
        ("Params.x", None),
    ],
)
def test_parse_ref(expression, ref):
    assert parse_ref(expression) == ref
    if ref is not None:
        assert parse_ref(str(ref)) == ref  # str() is the surface form


def test_strings_in_nested_values():
    value = {"a": "x", "b": [1, "y", {"c": "z"}], "d": None}
    assert list(strings_in(value)) == [(("a",), "x"), (("b", 1), "y"), (("b", 2, "c"), "z")]
    assert list(strings_in("top")) == [((), "top")]


_literal_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20).filter(
    lambda s: "${{" not in s and not s.endswith("$")
)
_ref_strategy = st.sampled_from(
    [Ref("param", name="lr"), Ref("artifact", name="raw"), Ref("item"), Ref("item", name="k"),
     Ref("output", name="o"), Ref("task_output", name="v", task="t-1")]
)


@given(st.lists(st.one_of(_literal_text, _ref_strategy), max_size=8))
def test_writing_segments_out_and_parsing_them_back(parts):
    text = "".join(p if isinstance(p, str) else f"${{{{ {p} }}}}" for p in parts)
    segments, errors = parse(text)
    assert errors == []
    assert [s for s in segments if isinstance(s, Ref)] == [p for p in parts if isinstance(p, Ref)]
    assert "".join(s for s in segments if isinstance(s, str)) == "".join(p for p in parts if isinstance(p, str))
    assert [ref for _, ref in occurrences(text)] == [p for p in parts if isinstance(p, Ref)]


@given(_literal_text)
def test_escaping_any_literal_placeholder_text(inner):
    inner = inner.replace("}}", "")
    text = "$${{" + inner + "}}"
    assert parse(text) == (["${{" + inner + "}}"], [])


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(st.text(alphabet="${} a.\n", max_size=24))
def test_escaped_text_reads_back_as_itself(text):
    """What importers write for literal text (`escaped`) is read back (`literal`) as that text,
    and holds no placeholder, whatever braces and dollars it has."""
    written = escaped(text)
    assert literal(written) == text
    assert parse(written) == (([literal(written)] if text else []), [])


def test_literal_reads_escapes_at_any_depth_and_keeps_keys():
    value = {"$${{ k }}": ["a $${{ b }}", {"c": "$${{ unclosed"}, 1, None]}
    assert literal(value) == {"$${{ k }}": ["a ${{ b }}", {"c": "$${{ unclosed"}, 1, None]}
