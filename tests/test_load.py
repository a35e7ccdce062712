"""The loader: text/bytes/file -> IR with the position of every key and value, and every problem
as a diagnostic (never an exception)."""

from __future__ import annotations

import json
import re
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from compiler.diagnostics import Diagnostic, render_github, render_json, render_text
from compiler.language import load as load_module
from compiler.language.ir import ArtifactKind, ValueType
from compiler.language.load import MAX_DEPTH, Loaded, load_bytes, load_file, load_text
from compiler.language.source import NodeLoc
from compiler.passes import validate


def load(text: str, name: str = "pipeline.yaml") -> Loaded:
    return load_text(textwrap.dedent(text).lstrip("\n"), name)


def ok(text: str, name: str = "pipeline.yaml") -> Loaded:
    loaded = load(text, name)
    assert loaded.pipeline is not None, render_text(loaded.diagnostics.items)
    assert not loaded.diagnostics.items, render_text(loaded.diagnostics.items)
    return loaded


def only_error(loaded: Loaded, code: str) -> Diagnostic:
    assert loaded.pipeline is None
    errors = loaded.diagnostics.errors
    assert [d.code for d in errors] == [code], render_text(errors)
    return errors[0]


def where(d: Diagnostic) -> tuple[int, int]:
    assert d.loc is not None
    return d.loc.line, d.loc.col


# ----------------------------------------------------------------------------- locations

LOCATED = """\
name: located
params:
  lr: 0.01
tasks:
  ingest:
    command: echo hi
  train:
    after: [ingest, ingest]
    env: {MODE: fast}
"""


def test_keys_and_values_have_0_based_positions_and_widths() -> None:
    source = ok(LOCATED).source
    assert source.keys[("name",)] == NodeLoc(0, 0, 4)
    assert source.values[("name",)] == NodeLoc(0, 6, 7)
    assert source.keys[("tasks", "ingest")] == NodeLoc(4, 2, 6)
    assert source.values[("tasks", "ingest", "command")] == NodeLoc(5, 13, 7)
    assert source.values[("tasks", "train", "after", 1)] == NodeLoc(7, 20, 6)
    assert source.keys[("tasks", "train", "env", "MODE")] == NodeLoc(8, 10, 4)
    assert source.values[("tasks", "train", "env", "MODE")] == NodeLoc(8, 16, 4)
    assert source.values[("params", "lr")] == NodeLoc(2, 6, 4)


def test_diagnostics_are_1_based_with_the_source_line() -> None:
    source = ok(LOCATED).source
    value = source.diagnostic("E999", load_module.Severity.ERROR, "x", ("tasks", "train", "after", 1))
    assert where(value) == (8, 21)
    assert value.source_line == "    after: [ingest, ingest]"
    assert value.span == 6
    key = source.diagnostic("E999", load_module.Severity.ERROR, "x", ("tasks", "ingest"), at_key=True)
    assert where(key) == (5, 3)
    # A path below a node without its own position falls back to the closest enclosing one.
    missing = source.diagnostic("E999", load_module.Severity.ERROR, "x", ("tasks", "ingest", "nothing", 3))
    assert where(missing) == (6, 5)  # the mapping that is the value of tasks.ingest


def test_schema_errors_point_at_the_key_or_the_value() -> None:
    loaded = load("""
        name: demo
        tasks:
          a:
            command: echo
            retries: many
            depends_on: [b]
    """)
    by_code = {d.code: d for d in loaded.diagnostics}
    assert where(by_code["E012"]) == (5, 14)  # the value `many`
    assert where(by_code["E010"]) == (6, 5)  # the key `depends_on`
    assert by_code["E010"].help == "did you mean 'after'?"
    assert by_code["E010"].span == len("depends_on")


def test_empty_value_points_at_its_key_with_help() -> None:
    d = only_error(load("name: x\ntasks:\n"), "E012")
    assert where(d) == (2, 1)
    assert d.source_line == "tasks:"
    assert d.help and "has no value" in d.help


def test_missing_required_keys() -> None:
    loaded = load("description: nothing else\n")
    codes = sorted((d.code, d.message) for d in loaded.diagnostics)
    assert codes == [("E011", "missing required key 'name' in the top level"),
                     ("E011", "missing required key 'tasks' in the top level")]


def test_unknown_key_did_you_mean_inside_optional_short_form_models() -> None:
    loaded = load("""
        name: x
        schedule: {cron: "0 2 * * *", timzone: UTC}
        tasks:
          a: {command: echo, cache: {expir: 1d}}
    """)
    helps = {d.message: d.help for d in loaded.diagnostics}
    assert helps["unknown key 'timzone' in schedule"] == "did you mean 'timezone'?"
    assert helps["unknown key 'expir' in tasks.a.cache"] == "did you mean 'expire'?"


def test_bounds_and_enums_in_plain_words() -> None:
    loaded = load("""
        name: x
        tasks:
          a: {command: echo, max_parallel: 0, foreach: [1], trigger_rule: all_sucess}
    """)
    messages = {d.message: d.help for d in loaded.diagnostics}
    assert "tasks.a.max_parallel must be at least 1, not 0" in messages
    enum = next(m for m in messages if m.startswith("tasks.a.trigger_rule must be one of"))
    assert messages[enum] == "did you mean 'all_success'?"


# ----------------------------------------------------------------------------- YAML features


def test_merge_keys_explicit_keys_win() -> None:
    pipeline = ok("""
        name: merged
        tasks:
          base: &base
            command: echo base
            retries: 1
            env: {A: "1"}
          child:
            <<: *base
            retries: 5
    """).pipeline
    child = pipeline.tasks["child"]
    assert child.command == "echo base"
    assert child.retries == 5
    assert child.env == {"A": "1"}


def test_merge_of_several_mappings_first_one_wins() -> None:
    pipeline = ok("""
        name: merged
        tasks:
          a:
            <<: [{retries: 2}, {retries: 9, pool: p}]
            command: echo
    """).pipeline
    assert pipeline.tasks["a"].retries == 2
    assert pipeline.tasks["a"].pool == "p"


def test_merge_of_a_scalar_is_an_error() -> None:
    d = only_error(load("name: x\nparams: {b: &b 1}\ntasks:\n  a:\n    <<: *b\n"), "E012")
    assert d.message == "`<<` merges a mapping (or a list of mappings), not '1'"
    assert where(d) == (5, 5)  # the `<<` (an alias has no position of its own)


def test_recursive_merge_and_recursive_alias_are_errors() -> None:
    d = only_error(load("name: x\ntasks:\n  a: &a\n    <<: *a\n    command: echo\n"), "E004")
    assert "recursive" in d.message
    assert where(d) == (3, 6)
    d = only_error(load("name: x\nparams:\n  p: &p [1, *p]\ntasks: {a: null}\n"), "E004")
    assert "recursive" in d.message


def test_aliases_are_expanded() -> None:
    pipeline = ok("""
        name: aliases
        params:
          models: &models [stump, centroid]
        tasks:
          train:
            foreach: *models
            command: echo ${{ item }}
    """).pipeline
    assert pipeline.tasks["train"].foreach == ["stump", "centroid"]


def test_alias_bomb_stops_quickly_at_the_repeated_anchor() -> None:
    lines = ["name: laughs", "params:", "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"  {name}: &{name} [{', '.join(['*' + previous] * 10)}]")
    lines.append("tasks: {a: null}")
    started = time.perf_counter()
    d = only_error(load_text("\n".join(lines) + "\n", "bomb.yaml"), "E004")
    assert time.perf_counter() - started < 30
    assert "expands to more than" in d.message and "&" in d.message
    assert d.help and "alias bomb" in d.help


def test_value_limit_without_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "MAX_NODES", 50)
    items = ", ".join(str(i) for i in range(60))
    d = only_error(load_text(f"name: big\nparams:\n  p: [{items}]\ntasks: {{a: null}}\n"), "E004")
    assert d.message == "the document has more than 50 values"


def _nested(levels: int) -> str:
    return f"name: deep\nparams:\n  p: {'[' * levels}1{']' * levels}\ntasks: {{a: null}}\n"


def test_depth_limit_boundary() -> None:
    # root (0) -> params (1) -> p (2): the outermost list is at depth 2, its scalar at 2 + levels.
    allowed = MAX_DEPTH - 2
    assert load_text(_nested(allowed)).pipeline is not None
    d = only_error(load_text(_nested(allowed + 1)), "E004")
    assert f"more than {MAX_DEPTH} levels" in d.message


@pytest.mark.parametrize("levels", [500, 5_000, 50_000])
def test_very_deep_flow_nesting_is_reported_with_a_position(levels: int) -> None:
    d = only_error(load_text(_nested(levels)), "E004")
    assert d.loc is not None and d.loc.line == 3 and d.source_line is not None


@pytest.mark.parametrize("levels", [100, 1_500])
def test_very_deep_block_nesting_is_reported_with_a_position(levels: int) -> None:
    text = "name: deep\ntasks:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(levels))
    d = only_error(load_text(text), "E004")
    assert d.loc is not None and d.source_line is not None and d.source_line.strip() == "a:"


def test_duplicate_keys_name_both_lines() -> None:
    loaded = load("""
        name: dup
        tasks:
          a: {command: echo}
          b: {command: echo}
          a: {command: echo again}
    """)
    d = only_error(loaded, "E003")
    assert where(d) == (5, 3)
    assert d.message == "duplicate key 'a' in tasks"
    assert d.help == "'a' is first defined on line 3; remove or rename one"
    assert loaded.data["tasks"]["a"] == {"command": "echo"}  # the first one is kept


def test_duplicate_key_at_the_top_level() -> None:
    d = only_error(load("name: a\ntasks: {x: null}\nname: b\n"), "E003")
    assert d.message == "duplicate key 'name' in the top level"
    assert "line 1" in (d.help or "")


@pytest.mark.parametrize("text, tag", [
    ("name: !!python/object/apply:os.system [ls]\ntasks: {a: null}\n", "!!python/object/apply:os.system"),
    ("name: !env NAME\ntasks: {a: null}\n", "!env"),
    ("name: x\nparams: {s: !!set {a, b}}\ntasks: {a: null}\n", "!!set"),
])
def test_tags_outside_the_core_schema_are_refused(text: str, tag: str) -> None:
    d = only_error(load_text(text), "E005")
    assert d.message == f"the YAML tag '{tag}' is not supported"


def test_every_refused_value_is_reported_without_follow_on_errors() -> None:
    loaded = load_text("name: !foo x\ntasks:\n  a: {command: !bar y, env: {K: !baz z}}\n")
    assert [(d.code, d.loc.line) for d in loaded.diagnostics.sorted()] == [("E005", 1), ("E005", 3), ("E005", 3)]


def test_binary_values_are_refused() -> None:
    only_error(load_text("name: !!binary aGVsbG8=\ntasks: {a: null}\n"), "E005")


def test_standard_tags_are_accepted() -> None:
    pipeline = ok('name: !!str 2024\nparams: {n: !!int "3"}\ntasks: {a: null}\n').pipeline
    assert pipeline.name == "2024"
    assert pipeline.params["n"].default == 3


def test_lone_surrogate_escapes_are_refused_in_values_and_keys() -> None:
    d = only_error(load_text('name: "\\ud800"\ntasks: {a: null}\n'), "E002")
    assert "surrogate" in d.message and where(d) == (1, 7)
    d = only_error(load_text('name: x\ntasks:\n  "\\udfffa": null\n'), "E002")
    assert where(d) == (3, 3)
    render_text([d]).encode("utf-8")


def test_multiple_documents() -> None:
    d = only_error(load_text("name: a\ntasks: {x: null}\n---\nname: b\n"), "E002")
    assert where(d) == (3, 1)
    assert "more than one YAML document" in d.message
    assert d.help and "one YAML document" in d.help


# ----------------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize("text, line, col, help_words", [
    ("name: x\ntasks:\n\tingest: {}\n", 3, 1, "not tabs"),
    ("name: x\ntasks:\n  a:\n    command: echo a: b\n", 4, 20, "quote values"),
    ("name: x\ntasks: {a: {after: [b}\n", 2, 22, "comma is missing"),
    ("name: x\ntasks: {a: {after: [b\n", 2, 20, "close it with ']'"),
    ("name: 'x\ntasks: {}\n", 1, 7, "closing quote"),
    ("name: x\n- a\n", 2, 1, "indentation"),
    ("name: @x\ntasks: {}\n", 1, 7, "quote the value"),
    ("name: *nope\n", 1, 7, "define the anchor"),
    ('name: "a\\qb"\n', 1, 10, "backslash"),
    ("This is not YAML: it is prose.\nSecond line here.\n", 2, 1, "key: value"),
    ("name: x\ntasks:\n  a:\n    command: echo\n   b: 1\n", 5, 4, "indentation"),
])
def test_yaml_syntax_errors_point_at_real_text(text: str, line: int, col: int, help_words: str) -> None:
    d = only_error(load_text(text), "E002")
    assert where(d) == (line, col), render_text([d])
    assert d.source_line is not None and d.source_line.strip()
    assert help_words in (d.help or ""), render_text([d])


def test_error_at_the_end_of_the_file_points_at_the_last_text() -> None:
    d = only_error(load_text('{\n  "name": "x",\n  "tasks": {\n', "p.json"), "E002")
    assert where(d) == (3, 13)


@pytest.mark.parametrize("text", ["", "   \n\n", "# only\n# comments\n", "---\n", "--- # nothing\n...\n", "null\n", "~\n"])
def test_empty_documents(text: str) -> None:
    d = only_error(load_text(text), "E001")
    assert d.help == "a pipeline needs at least `name:` and `tasks:`"


@pytest.mark.parametrize("text, kind", [("- a\n- b\n", "a list"), ("just text\n", "a string ('just text')"),
                                        ("42\n", "an integer (42)")])
def test_top_level_must_be_a_mapping(text: str, kind: str) -> None:
    d = only_error(load_text(text), "E012")
    assert d.message == f"the top level must be a mapping with `name:` and `tasks:`, not {kind}"
    assert where(d) == (1, 1)


def test_long_values_are_shortened_in_messages() -> None:
    d = only_error(load_text("x" * 5000 + "\n"), "E012")
    assert len(d.message) < 200


def test_control_characters() -> None:
    d = only_error(load_text("name: a\x00b\ntasks: {a: null}\n"), "E002")
    assert d.message == "the file contains the control character U+0000, which YAML does not allow"
    assert where(d) == (1, 8)
    assert "\x00" not in render_text([d]) and "\u2400" in render_text([d])


# ----------------------------------------------------------------------------- JSON, encodings


JSON_WITH_TABS = '{\n\t"name": "from-json",\n\t"tasks": {\n\t\t"a": {"command": "echo"},\n\t\t"b": ["a"]\n\t}\n}\n'


def test_json_with_tab_indentation() -> None:
    loaded = load_text(JSON_WITH_TABS, "pipeline.json")
    assert loaded.pipeline is not None, render_text(loaded.diagnostics.items)
    assert loaded.pipeline.tasks["b"].after == ["a"]
    # Tabs were replaced one for one: columns are those of the file.
    assert loaded.source.keys[("tasks", "a")] == NodeLoc(3, 2, 3)
    assert loaded.source.line_text(3) == '\t\t"a": {"command": "echo"},'


def test_tabs_are_not_indentation_in_yaml_files() -> None:
    d = only_error(load_text("name: tabs\ntasks:\n\ta: null\n", "pipeline.yaml"), "E002")
    assert where(d) == (3, 1)


def test_json_is_yaml() -> None:
    data = {"name": "j", "params": {"lr": 0.1}, "tasks": {"a": {"command": "echo", "retries": 2}}}
    pipeline = load_text(json.dumps(data), "p.json").pipeline
    assert pipeline is not None and pipeline.tasks["a"].retries == 2


def test_utf8_bom_is_skipped() -> None:
    loaded = load_bytes(b"\xef\xbb\xbfname: bom\ntasks: {a: null}\n", "bom.yaml")
    assert loaded.pipeline is not None and loaded.pipeline.name == "bom"
    assert loaded.source.keys[("name",)] == NodeLoc(0, 0, 4)


def test_utf16_is_named() -> None:
    d = only_error(load_bytes("name: x\n".encode("utf-16"), "u16.yaml"), "E001")
    assert "UTF-16" in d.message


def test_not_utf8_points_at_the_byte_in_characters() -> None:
    d = only_error(load_bytes("name: x\ntasks: {é: \xff}\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff"), "b.yaml"),
                   "E001")
    assert d.message == "the file is not UTF-8 text (byte 0xff at offset 20)"
    assert where(d) == (2, 12)  # 'é' is two bytes but one column
    assert d.source_line == "tasks: {é: "


def test_load_bytes_size_limit() -> None:
    d = only_error(load_bytes(b"#" * (load_module.MAX_FILE_BYTES + 1), "big.yaml"), "E001")
    assert "larger than 5 MB" in d.message


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: from-file\ntasks: {a: null}\n")
    assert load_file(path).pipeline.name == "from-file"
    assert load_file(path, "shown.yaml").source.name == "shown.yaml"
    d = only_error(load_file(tmp_path / "missing.yaml"), "E001")
    assert d.message.startswith("cannot read the file")
    only_error(load_file(tmp_path), "E001")  # a directory


def test_load_file_size_limit_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as out:
        out.truncate(12 * 1024 * 1024)
    d = only_error(load_file(path), "E001")
    assert d.message == "the file is 12.0 MB; pipeline files are limited to 5 MB"
    assert d.help


def test_a_device_or_pipe_with_no_size_is_read_only_up_to_the_limit() -> None:
    """/dev/zero reports size 0 and never ends: the read stops one byte past the limit."""
    d = only_error(load_file("/dev/zero"), "E001")
    assert d.message == "the input is larger than 5 MB"


# ----------------------------------------------------------------------------- surface forms


def test_seed_minimal_form() -> None:
    pipeline = ok("""
        name: seed
        tasks: {ingest: null, transform: [ingest], validate: [transform]}
    """).pipeline
    assert list(pipeline.tasks) == ["ingest", "transform", "validate"]
    assert pipeline.tasks["ingest"].kind == "noop"
    assert pipeline.tasks["transform"].after == ["ingest"]
    assert pipeline.tasks["validate"].after == ["transform"]


def test_seed_block_form_with_empty_tasks_and_after() -> None:
    pipeline = ok("""
        name: seed
        tasks:
          ingest:
          transform:
            after: ingest
          train:
            after: [transform]
    """).pipeline
    assert pipeline.tasks["ingest"].kind == "noop"
    assert pipeline.tasks["transform"].after == ["ingest"]
    assert pipeline.tasks["train"].after == ["transform"]


def test_short_forms_are_normalized() -> None:
    pipeline = ok("""
        name: short
        params:
          lr: 0.01
          epochs: 10
          fast: true
          label: churn
          models: [a, b]
          required:
        schedule: "0 2 * * *"
        artifacts:
          raw: data/raw.csv
          model: {path: models/m.json, kind: model}
        tasks:
          ingest:
            command: echo > ${{ artifacts.raw }}; echo 0.9 > ${{ outputs.score }}
            produces: [raw]
            cache: true
            outputs: {score: float}
          train:
            command: echo ${{ artifacts.raw }} > ${{ artifacts.model }}
            consumes: [raw]
            produces: [model]
            cache: {enabled: true, expire: 1d}
    """).pipeline
    params = pipeline.params
    assert (params["lr"].default, params["lr"].value_type) == (0.01, ValueType.FLOAT)
    assert params["epochs"].value_type is ValueType.INT
    assert params["fast"].value_type is ValueType.BOOL
    assert params["label"].value_type is ValueType.STR
    assert params["models"].value_type is ValueType.LIST
    assert params["required"].required
    assert pipeline.schedule.cron == "0 2 * * *" and pipeline.schedule.timezone == "UTC"
    assert pipeline.artifacts["raw"].path == "data/raw.csv"
    assert pipeline.artifacts["raw"].kind is ArtifactKind.DATASET
    assert pipeline.artifacts["model"].kind is ArtifactKind.MODEL
    assert pipeline.tasks["ingest"].cache.enabled is True
    assert pipeline.tasks["ingest"].cache.expire is None
    assert pipeline.tasks["ingest"].outputs["score"].type is ValueType.FLOAT
    assert pipeline.tasks["train"].cache.expire == 86400


def test_loaded_pipeline_is_frozen() -> None:
    pipeline = ok(LOCATED).pipeline
    with pytest.raises(ValidationError):
        pipeline.name = "changed"
    with pytest.raises(ValidationError):
        pipeline.tasks["ingest"].command = "rm -rf /"
    with pytest.raises(ValidationError):
        pipeline.params["lr"].default = 1.0
    assert pipeline.name == "located"


def test_task_order_is_kept() -> None:
    names = [f"t{i}" for i in (5, 3, 9, 1, 7)]
    pipeline = ok("name: order\ntasks:\n" + "".join(f"  {n}: null\n" for n in names)).pipeline
    assert list(pipeline.tasks) == names


# ----------------------------------------------------------------------------- never raises


# Characters str.splitlines() breaks lines at but YAML does not (see the xfail test below).
_NOT_YAML_LINE_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _check_never_raises(loaded: Loaded) -> None:
    assert isinstance(loaded, Loaded)
    if loaded.pipeline is None:
        assert loaded.diagnostics.has_errors
    else:
        validate(loaded.pipeline, loaded.source, loaded.diagnostics)
    items = loaded.diagnostics.sorted()
    for render in (render_text, render_json, render_github):
        render(items).encode("utf-8")  # printable and encodable
    json.loads(render_json(items))
    lines_agree = not _NOT_YAML_LINE_BREAKS.search(loaded.source.text)
    for d in items:
        assert d.loc is not None and d.loc.line >= 1 and d.loc.col >= 1
        if d.source_line is not None and lines_agree:
            assert d.loc.col - 1 <= len(d.source_line), render_text([d])


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_separators_do_not_shift_source_lines(separator: str) -> None:
    loaded = load_text(f"name: a{separator}b\ntasks: {{x: 1}}\n")
    d = only_error(loaded, "E012")
    assert where(d) == (2, 12)
    assert d.source_line == "tasks: {x: 1}"


YAMLISH = st.lists(st.sampled_from(list("ab:-[]{},\"'&*!|>#?%@`\\\t\n\r 019.") +
                                   ["name: ", "tasks:", "<<: ", "\n  ", "- ", "&x ", "*x", "!!str ", "\x00", "\x0b",
                                    "\x85", "\u2028", "\ufeff", "é", "\\ud800", "${{ "]),
                   max_size=60).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    _check_never_raises(load_bytes(raw, "fuzz.yaml"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), YAMLISH,
                 st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=50)))
def test_arbitrary_text_never_raises(text: str) -> None:
    _check_never_raises(load_text(text, "fuzz.yaml"))
    _check_never_raises(load_text(text, "fuzz.json"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
def test_arbitrary_yamlish_bytes_never_raise(text: str) -> None:
    _check_never_raises(load_bytes(text.encode("utf-8", "surrogatepass"), "fuzz.yaml"))


# Pipeline-shaped data: the right keys with arbitrary values, so the schema and the passes run too.
_KEYS = ["name", "tasks", "params", "artifacts", "after", "command", "python", "image", "args", "consumes",
         "produces", "outputs", "when", "else_of", "foreach", "max_parallel", "retries", "timeout", "env", "cache",
         "schedule", "triggers", "type", "default", "enum", "min", "max", "path", "external", "secrets", "a", "b"]
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["a", "b", "echo ${{ params.a }}", "${{ tasks.a.outputs.b }}", "${{ item }}", "5m", "0 2 * * *",
                     "a >= 1", "tasks.b.outputs.a == 'x'", "str", "int", "float", "list", "data", "x:y",
                     "${{ outputs.a }}", "AKIAIOSFODNN7EXAMPLE", "", "-", "a-b", "A_b"]),
)
_DATA = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5)),
                     max_leaves=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({"name": _SCALARS, "tasks": st.dictionaries(st.sampled_from(["a", "b", "c"]), _DATA,
                                                                         max_size=3)},
                             optional={k: _DATA for k in ("params", "artifacts", "triggers", "schedule", "defaults")}))
def test_pipeline_shaped_data_never_raises(data: dict) -> None:
    text = json.dumps(data, allow_nan=True).replace("NaN", ".nan").replace("-Infinity", "-.inf")
    text = text.replace("Infinity", ".inf")
    _check_never_raises(load_text(text, "fuzz.yaml"))


# ----------------------------------------------------------------------------- big files: libyaml


def _big_pipeline(tasks: int) -> str:
    lines = ["name: big", "params: {greeting: 'hi # there', n: 3}", "tasks:"]
    for index in range(tasks):
        lines += [f"  t{index}:", f"    command: \"echo ${{{{ params.greeting }}}} \\u00e9 {index}\"",
                  f"    after: [t{index - 1}]" if index else "    description: |\n      first\n      task"]
    return "\n".join(lines) + "\n"


def test_big_files_load_the_same_through_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files of FAST_PARSE_BYTES and more are parsed by libyaml: same data, same positions."""
    from compiler.language import load as load_module

    text = _big_pipeline(4000)
    assert len(text) >= load_module.FAST_PARSE_BYTES
    assert load_module._compose_fast(text) is not None  # libyaml read it (no silent fallback)
    fast = load_module.load_text(text, "big.yaml")
    monkeypatch.setattr(load_module, "FAST_PARSE_BYTES", 10**12)
    exact = load_module.load_text(text, "big.yaml")
    assert fast.pipeline == exact.pipeline and fast.pipeline is not None
    assert fast.source.values == exact.source.values and fast.source.keys == exact.source.keys
    assert not fast.diagnostics.items and not exact.diagnostics.items


def test_big_files_with_errors_report_what_the_exact_parser_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.language import load as load_module

    text = _big_pipeline(4000) + "  broken: [unclosed\n"
    fast = [d.message for d in load_module.load_text(text, "big.yaml").diagnostics.items]
    monkeypatch.setattr(load_module, "FAST_PARSE_BYTES", 10**12)
    exact = [d.message for d in load_module.load_text(text, "big.yaml").diagnostics.items]
    assert fast == exact and fast


def test_big_files_with_anchors_load_the_same_through_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.language import load as load_module

    text = ("defaults: &d {retries: 2, env: {A: '1'}}\n" + _big_pipeline(4000)
            .replace("name: big", "name: big\nx-common: &cmd \"echo shared\"")
            .replace("    command: \"echo ${{ params.greeting }} \\u00e9 7\"", "    command: *cmd"))
    text = text.replace("defaults: &d {retries: 2, env: {A: '1'}}\n", "") 
    assert "*cmd" in text
    assert load_module._compose_fast(text) is not None
    fast = load_module.load_text(text, "big.yaml")
    monkeypatch.setattr(load_module, "FAST_PARSE_BYTES", 10**12)
    exact = load_module.load_text(text, "big.yaml")
    assert [d.message for d in fast.diagnostics.items] == [d.message for d in exact.diagnostics.items]
    assert fast.source.values == exact.source.values and fast.source.keys == exact.source.keys
