"""The line of Python a DVC python stage runs (compiler/backends/dvc/python.py) and its reading
back (compiler/importers/dvc/python.py). tests/engines/dvc/test_dvc_injection.py runs it on DVC."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backends.dvc.python import call_line, literal, string
from compiler.importers.dvc.python import read

_texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), _texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_texts, inner, max_size=3)),
    max_leaves=8,
)


def untouchable(code: str) -> bool:
    """Nothing a shell (inside single quotes, fish included) or DVC would read in the code."""
    return code.isascii() and code.isprintable() and not any(s in code for s in ("'", "\\\\", "${"))


@settings(max_examples=300, deadline=None)
@given(value=_values)
def test_literals_are_exact_and_untouchable(value) -> None:
    code = literal(value)
    assert ast.literal_eval(code) == value
    assert untouchable(code), code


@settings(max_examples=200, deadline=None)
@given(args=st.dictionaries(_texts, _values, max_size=4), returned=st.sampled_from([None, "str", "float", "dict"]))
def test_the_line_reads_back(args, returned) -> None:
    outputs = [] if returned is None else [("value", returned, ".dagshift/outputs/t/value")]
    line = call_line("pkg.mod:main", {key: literal(value) for key, value in args.items()}, outputs)
    assert untouchable(line), line
    called = read(f"python3 -c '{line}'")
    assert called is not None, line
    assert called["python"] == "pkg.mod:main"
    assert called.get("args", {}) == {key: _texts_escaped(value) for key, value in args.items()}
    if returned is not None:
        assert called["outputs"] == {"value": (returned, ".dagshift/outputs/t/value")}


def _texts_escaped(value):
    """Every string of VALUE but mapping keys with `${{` as dagshift syntax writes it (`$${{`)."""
    if isinstance(value, str):
        return value.replace("${{", "$${{")
    if isinstance(value, list):
        return [_texts_escaped(item) for item in value]
    if isinstance(value, dict):
        return {key: _texts_escaped(item) for key, item in value.items()}
    return value


def test_number_params_are_dvc_interpolations_and_read_back_as_placeholders() -> None:
    line = call_line("m:json", {"n": "${n}", "text": string("n=", _dvc("${n}"), " ${x}")}, [("json", "int", "o/json")])
    assert line == ('import json; from m import json as json_; json_value: int = json_(n=${n}, text="n=${n} $\\x7bx}"); '
                    'open("o/json", "w", encoding="utf-8").write(json.dumps(json_value))')
    # the importer gets the command resolved: DVC's ${n} as the placeholder
    resolved = f"python3 -c '{line}'".replace("${n}", "${{ params.n }}")
    assert read(resolved) == {"python": "m:json", "args": {"n": "${{ params.n }}", "text": "n=${{ params.n }} ${x}"},
                              "outputs": {"json": ("int", "o/json")}}


def test_other_commands_are_not_this_form() -> None:
    assert read("python3 -c 'print(1)'") is None
    assert read("python3 -m x") is None
    assert read("python3 -c 'import os; from m import f; f()'") is None


def _dvc(text: str):
    from compiler.backends.dvc.shell import Interpolation

    return Interpolation(text)
