"""The generated Python is black's, and pylayout writes it: compiling never runs black.

1. Every golden Airflow, Prefect and Kubeflow file: `pylayout.format_source` leaves it as it is, and so
   does black (the pinned version, the authority here and only here).
2. Drawn pipelines (shell, exec-form, python and container tasks, params, env, retries, timeouts, value
   outputs, conditions, long and hostile text: quotes, backslashes, newlines, unicode, `{{ }}`, `${ }`)
   compiled through `compile_loaded` to the three targets: no file fell back to black
   (`emit.black_fallbacks`), and black leaves every Python file unchanged.
3. The example pipelines with drawn text salted into their descriptions and python arguments, the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import black
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compiler import api
from compiler.compile import compile_loaded
from compiler.output import emit, pylayout

ROOT = Path(__file__).resolve().parent.parent
MODE = black.Mode(line_length=88)
PYTHON_TARGETS = ("airflow", "prefect", "kubeflow")


def examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


# --- 1. golden files --------------------------------------------------------------------------------

GOLDEN_PYTHON = sorted(path for target in PYTHON_TARGETS for path in ROOT.glob(f"golden/**/{target}/*.py"))


def test_there_are_golden_python_files():
    assert len(GOLDEN_PYTHON) >= 20


@pytest.mark.parametrize("path", GOLDEN_PYTHON, ids=[str(p.relative_to(ROOT / "golden")) for p in GOLDEN_PYTHON])
def test_golden_python_is_what_black_and_pylayout_write(path: Path):
    text = path.read_text(encoding="utf-8")
    assert pylayout.format_source(text) == text
    assert black.format_str(text, mode=MODE) == text


# --- 2. drawn pipelines -------------------------------------------------------------------------------

NASTY = ["'", '"', "'''", '"""', "\\", "\\\\", "\\n", "\n", "\t", " ", "\u00a0", "{{ x }}", "{{", "}}", "{", "}",
         "{% raw %}", "{#", "${ x }", "${x}", "$$", "$${{", "`id`", "$(id)", ";", "&&", "|", "#", "# not a comment",
         "%s", "{0}", "é", "中文", "\u2028", "\U0001f600", "\\N{BULLET}", "\\u00e9", "\\x41", "--flag", " -x ",
         "f'{x}'", '"""doc"""', "\\\n", "# fmt: off", "# type: ignore"]
_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r")
_plain_pieces = st.one_of(st.sampled_from(NASTY), st.text(_chars, max_size=8),
                         st.sampled_from(["lorem ipsum dolor sit amet ", "--input data/part-1.csv --rows 400 ",
                                          "python3 -m tinyml.step ", "&& echo done "]))
_pieces = st.one_of(_plain_pieces, st.sampled_from(["${{ params.p0 }}", "${{ params.n }}"]))


@st.composite
def texts(draw, placeholders: bool = True, max_pieces: int = 12) -> str:
    """Text salted with what breaks generators; with `placeholders`, references to the params too (any
    other `${{` escaped as `$${{`)."""
    if not placeholders:
        return "".join(draw(st.lists(_plain_pieces, max_size=max_pieces))).replace("${{", "${ {")
    text = "".join(draw(st.lists(_pieces, max_size=max_pieces)))
    return text.replace("${{", "$${{").replace("$$${{ params.", "${{ params.")


identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True).filter(lambda s: not s.endswith("_"))


@st.composite
def tasks(draw, task_id: str, earlier: list[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["shell", "shell", "exec", "python", "container"]))
    task: dict[str, Any] = {}
    if draw(st.booleans()):
        task["description"] = draw(texts(placeholders=False))
    if kind == "shell":
        task["command"] = "echo " + draw(texts())
    elif kind == "exec":
        task["command"] = ["printf", "%s"] + draw(st.lists(texts(), min_size=1, max_size=3))
    elif kind == "python":
        task["python"] = draw(st.sampled_from(["tinyml.step:main", "pkg.module_with_long_name:run_the_step"]))
        task["args"] = {f"k{i}": value for i, value in enumerate(draw(st.lists(
            st.one_of(texts(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                      st.booleans(), st.lists(texts(max_pieces=3), max_size=3)), max_size=4)))}
    else:
        task["image"] = draw(st.sampled_from(["alpine:3.20", "ghcr.io/acme/a-rather-long-image-name:1.2.3"]))
        task["command"] = draw(st.one_of(st.just("echo " + draw(texts())), st.lists(texts(), min_size=1, max_size=3)))
        task["args"] = draw(st.lists(texts(), max_size=2))
    if draw(st.booleans()):
        task["env"] = {name: draw(texts()) for name in draw(st.lists(st.sampled_from(["A", "B_2", "LANG_X"]),
                                                                     unique=True, max_size=2))}
    if draw(st.integers(0, 3)) == 0:
        task["retries"] = draw(st.integers(0, 5))
    if draw(st.integers(0, 3)) == 0:
        task["timeout"] = draw(st.sampled_from(["30s", "10m", "2h"]))
    if earlier and draw(st.booleans()):
        task["after"] = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=2, unique=True))
    if earlier and kind != "python" and draw(st.integers(0, 4)) == 0:
        task["when"] = draw(st.sampled_from(["params.n > 3", "params.p0 == 'x'"]))
    return task


@st.composite
def pipelines(draw) -> dict[str, Any]:
    ids = draw(st.lists(identifiers, min_size=1, max_size=5, unique=True))
    data: dict[str, Any] = {"name": draw(identifiers)}
    if draw(st.booleans()):
        data["description"] = draw(texts(placeholders=False))
    data["params"] = {
        "p0": {"type": "str", "default": draw(texts(placeholders=False)),
               "description": draw(texts(placeholders=False))},
        "n": {"type": "int", "default": draw(st.integers(-(2**31), 2**31))},
    }
    data["tasks"] = {task_id: draw(tasks(task_id, ids[:index])) for index, task_id in enumerate(ids)}
    return data


def _yaml_text(data: dict[str, Any]) -> str:
    """The pipeline as JSON (which is YAML), keys in their order, dates as their ISO text."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return re.sub("[\x7f-\x9f\ufffe\uffff]", lambda m: f"\\u{ord(m.group()):04x}", text)  # YAML refuses them raw


def compiled_python(data: dict[str, Any], name: str = "pipeline.yaml") -> dict[str, str]:
    """The Python files the three targets make of the pipeline (a target refusing it gives none)."""
    loaded = api.check_text(_yaml_text(data), name)
    if loaded.pipeline is None or loaded.diagnostics.has_errors:
        return {}
    files = {}
    for target in PYTHON_TARGETS:
        result = compile_loaded(loaded, [target], per_target_dirs=True)
        files.update({path: text for path, text in result.files.items() if path.endswith(".py")})
    return files


def assert_black_stable_without_fallback(data: dict[str, Any]) -> int:
    """Compile, check, and return how many Python files were checked."""
    fallbacks = emit.black_fallbacks
    files = compiled_python(data)
    assert emit.black_fallbacks == fallbacks, f"black ran: {emit.last_fallback_reason}"
    for path, text in files.items():
        assert black.format_str(text, mode=MODE) == text, path
    return len(files)


@examples(250)
@given(pipelines())
def test_drawn_pipelines_compile_to_black_stable_python_without_black(data):
    fallbacks = emit.black_fallbacks
    files = compiled_python(data)
    assume(files)  # a pipeline the targets refuse says nothing here
    assert emit.black_fallbacks == fallbacks, f"black ran: {emit.last_fallback_reason}"
    for path, text in files.items():
        assert black.format_str(text, mode=MODE) == text, path


def test_a_hostile_pipeline_compiles_to_every_target_without_black():
    hostile = "it's \"quoted\" \\ back\nslash {{ x }} ${ y } # hash 中文 \u2028" + " --flag value" * 12
    data = {
        "name": "hostile", "description": hostile,
        # kfp writes param defaults into a YAML comment: no line breaks there
        "params": {"p0": {"type": "str", "default": hostile.replace("\n", " ").replace("\u2028", " "),
                          "description": hostile}},
        "tasks": {
            "shell": {"command": "echo " + hostile + " ${{ params.p0 }}", "env": {"A": hostile}, "retries": 2},
            "exec": {"command": ["printf", "%s", hostile], "after": ["shell"], "description": hostile},
            "python": {"python": "tinyml.step:main", "args": {"text": hostile, "n": -3, "x": 1e-7}, "after": ["exec"]},
        },
    }
    fallbacks = emit.black_fallbacks
    files = compiled_python(data)
    assert {path.split("/")[0] for path in files} == set(PYTHON_TARGETS)
    assert emit.black_fallbacks == fallbacks, f"black ran: {emit.last_fallback_reason}"
    for path, text in files.items():
        assert black.format_str(text, mode=MODE) == text, path


def test_format_python_falls_back_to_black_only_on_refusal():
    source = "x = [1,\n  2]  # a trailing comment black keeps\n"
    fallbacks = emit.black_fallbacks
    assert emit.format_python(source, "t.py") == black.format_str(source, mode=MODE)
    assert emit.black_fallbacks == fallbacks + 1
    with pytest.raises(pylayout.Unsupported):
        emit.format_python(source, "t.py", fallback=False)
    assert emit.format_python("x = [1,\n  2]\n", "t.py", fallback=False) == "x = [1, 2]\n"


# --- 3. the examples, salted ------------------------------------------------------------------------

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def _salted(data: Any, draw) -> Any:
    """Descriptions and string python arguments replaced by drawn text."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key == "description" and isinstance(value, str):
                out[key] = draw(texts(placeholders=False))
            elif key == "args" and isinstance(value, dict):
                out[key] = {k: draw(texts(placeholders=False)) if isinstance(v, str) and "${{" not in v else v
                            for k, v in value.items()}
            else:
                out[key] = _salted(value, draw)
        return out
    if isinstance(data, list):
        return [_salted(item, draw) for item in data]
    return data


@st.composite
def salted_examples(draw) -> tuple[str, Any]:
    path = draw(st.sampled_from(EXAMPLES))
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return path.name, _salted(data, draw)


@examples(20)
@given(salted_examples())
def test_salted_examples_compile_to_black_stable_python_without_black(example):
    _, data = example
    assume(assert_black_stable_without_fallback(data) > 0)  # drawn text a pipeline may refuse (E0xx)
