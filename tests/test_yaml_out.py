"""compiler.output.yaml_out: any data the backends build reads back exactly, as YAML 1.2 and as YAML 1.1
(what Go, Argo and Kubernetes read), whatever its strings hold."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compiler.output import emit, yaml_out

_words = st.sampled_from([
    "yes", "No", "ON", "off", "y", "N", "null", "~", "true", "False", "1:20", "0x1f", "0o17", "017", "1_000", ".5",
    "1e5", ".inf", "-.nan", "2025-01-01", "2025-01-01T00:00:00Z", "=", "<<", "- a", "? x", "a: b", "a #b", "#x",
    "{{x}}", "[a]", "&a", "*a", "!t", "|", ">", "%x", "@x", "`x`", "'", '"', "\\", "", " ", "x ", " x", "a\tb",
    "\n", "a\r\nb", "\x85", "\u2028", "\u2029", "\ufeff", "\x7f", "\x9f", "\x00", "é中\U0001f600",
])
_text = st.lists(st.one_of(_words, st.text(st.characters(exclude_categories=["Cs"]), max_size=6)),
                 max_size=4).map("".join)
_scalars = st.one_of(_text, st.integers(-10**12, 10**12), st.booleans(), st.none(),
                     st.floats(allow_nan=False, allow_infinity=True))
_data = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(_text, inner, max_size=4)), max_leaves=20)


_REAL_DUMPS = yaml_out.dumps


def _read(text: str, version: str) -> object:
    return YAML(typ="safe", pure=True).load(f"%YAML {version}\n---\n{text}")


@settings(max_examples=300, deadline=None)
@given(data=st.dictionaries(_text, _data, max_size=5))
def test_any_data_reads_back_the_same_in_yaml_1_2_and_1_1(data: dict) -> None:
    text = yaml_out.dumps(data)
    assert _read(text, "1.2") == data
    assert _read(text, "1.1") == data


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=12), min_size=1, max_size=5),
       end=st.sampled_from(["", "\n", "\n\n"]))
def test_block_text_is_exact_or_quoted(lines: list[str], end: str) -> None:
    value = yaml_out.BlockText("\n".join(lines) + end)
    text = yaml_out.dumps({"source": value})
    assert _read(text, "1.2") == {"source": str(value)}


def test_floats_keep_a_dot_for_yaml_1_1() -> None:
    assert yaml_out.scalar(1e-07) == "1.0e-07"
    assert math.isinf(_read(yaml_out.dumps({"x": float("-inf")}), "1.1")["x"])


def test_keys_longer_than_yaml_allows_inline_are_written_explicitly() -> None:
    """YAML refuses an implicit key over 1024 characters; a param or item key may be longer."""
    data = {"k" * 1100: 1, "b": {"é\n" * 600: [1, {"y" * 1500: "z"}]}, "list": [{"q" * 1200: {"a": 1}}]}
    text = yaml_out.dumps(data)
    assert "? " in text
    assert _read(text, "1.2") == data
    assert _read(text, "1.1") == data


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_data)
def test_emit_to_yaml_checks_its_text_against_the_data(data):
    """compiler.output.emit.to_yaml reads its text back: it passes on yaml_out's text, and a text that reads as
    other data (one scalar or one level changed) is refused as a dagshift bug."""
    wrapped = {"data": data}
    assert emit.to_yaml(wrapped) == yaml_out.dumps(wrapped)
    for other in ({"data": [data]}, {"data": data, "extra": 1}, {"data": "x" if data != "x" else "y"}):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(yaml_out, "dumps", lambda _, other=other: _REAL_DUMPS(other))
            with pytest.raises(emit.InvalidOutput):
                emit.to_yaml(wrapped)

