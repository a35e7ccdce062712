"""check_types: param_defaults_match_types (E200), foreach_is_a_list (E201, W201) and
conditions_are_well_typed (E202, E106, E203)."""

from __future__ import annotations

import pytest

from compiler.diagnostics import Severity
from compiler.passes.check_types import conditions_are_well_typed, foreach_is_a_list, param_defaults_match_types
from tests.helpers import codes, line_of, only, run_pass

# ----------------------------------------------------------------------------- params

VALID_PARAMS = """
name: p
params:
  lr: 0.01
  whole_lr: {type: float, default: 1}
  epochs: {type: int, default: 10, min: 1, max: 100}
  mode: {type: str, default: fast, enum: [fast, slow]}
  models: {type: list, default: [a, b]}
  opts: {type: dict, default: {a: 1}}
  flag: {type: bool, default: false}
  required: {type: int}
  untyped_required: {description: no default}
  ratio: {type: float, min: 0, max: 1}
tasks:
  a: {command: echo}
"""


def test_valid_params_are_silent():
    assert not run_pass(param_defaults_match_types, VALID_PARAMS).items


@pytest.mark.parametrize(
    "param, path, message, help",
    [
        ("{type: int, default: '10'}", ("params", "x", "default"),
         "param 'x' is of type int, but its default '10' is not", "remove the quotes around the default"),
        ("{type: int, default: true}", ("params", "x", "default"),
         "param 'x' is of type int, but its default True is not", "(the default looks like a bool)"),
        ("{type: bool, default: 1}", ("params", "x", "default"),
         "param 'x' is of type bool, but its default 1 is not", "write true or false"),
        ("{type: list, default: {a: 1}}", ("params", "x", "default"),
         "param 'x' is of type list, but its default {'a': 1} is not", "(the default looks like a dict)"),
        ("2025-01-01", ("params", "x", "default"),
         "param 'x' has a default of unsupported type", "params are str, int, float, bool, list or dict"),
        ("{type: str, enum: [a, 1], default: a}", ("params", "x", "enum", 1),
         "param 'x': enum value 1 is not a str", None),
        ("{type: str, enum: [a, b], default: c}", ("params", "x", "default"),
         "param 'x': default 'c' is not one of its enum values", "allowed: 'a', 'b'"),
        ("{type: str, default: a, min: 1}", ("params", "x", "min"),
         "param 'x': `min` only applies to int and float params", None),
        ("{type: int, default: 0, min: 1}", ("params", "x", "default"),
         "param 'x': default 0 is below its min 1", "lower `min` or raise the default"),
        ("{type: float, default: 2.5, max: 2}", ("params", "x", "default"),
         "param 'x': default 2.5 is above its max 2", "raise `max` or lower the default"),
        ("{type: int, min: 5, max: 1}", ("params", "x", "min"), "param 'x': min 5 is greater than max 1", None),
    ],
)
def test_param_problems(param, path, message, help):
    text = f"""
    name: p
    params:
      x: {param}
    tasks:
      a: {{command: echo}}
    """
    d = only(run_pass(param_defaults_match_types, text))
    assert (d.code, d.severity, d.path) == ("E200", Severity.ERROR, path)
    assert d.message == message
    if help is None:
        assert d.help is None
    else:
        assert help in d.help
    assert d.loc.line == line_of(text, "x:")


def test_every_param_is_checked():
    text = """
    name: p
    params:
      a: {type: int, default: x}
      b: {type: str, default: y}
      c: {type: bool, default: 0, min: 1}
      d: {type: str, enum: [p, q], default: z, max: 1}
    tasks:
      t: {command: echo}
    """
    found = run_pass(param_defaults_match_types, text)
    assert [d.path for d in found] == [
        ("params", "a", "default"),
        ("params", "c", "default"),
        ("params", "d", "default"),
        ("params", "d", "max"),
    ]


# ----------------------------------------------------------------------------- foreach

FOREACH_BASE = """
name: p
params:
  models: [a, b]
  lr: 0.1
artifacts: {raw: {path: r.csv, external: true}}
tasks:
  up: {python: m:f, outputs: {names: list, best: str}}
  mapped: {foreach: [1, 2], python: m:g, outputs: {score: float}}
"""


@pytest.mark.parametrize(
    "foreach",
    [
        "[a, b]",
        "'${{ params.models }}'",
        "' ${{ params.models }} '",
        "'${{ tasks.up.outputs.names }}'",
        "'${{ tasks.mapped.outputs.score }}'",  # a mapped task's output is a list of its results
        "'${{ params.unknown }}'",  # reported by placeholders_resolve, not here
        "'${{ nonsense }}'",  # idem
    ],
)
def test_valid_foreach_is_silent(foreach):
    text = FOREACH_BASE + f"  t: {{foreach: {foreach}, command: 'echo ${{{{ item }}}}'}}\n"
    assert not run_pass(foreach_is_a_list, text).items


def test_empty_foreach_list_warns():
    text = FOREACH_BASE + "  t: {foreach: [], command: echo}\n"
    d = only(run_pass(foreach_is_a_list, text))
    assert (d.code, d.severity, d.path) == ("W201", Severity.WARNING, ("tasks", "t", "foreach"))
    assert d.message == "task 't' fans out over an empty list, so it never runs"


@pytest.mark.parametrize(
    "foreach, message, help",
    [
        ("'a, b, c'", "task 't': `foreach` must be a list or a single placeholder", "foreach: ${{ params.models }}"),
        ("''", "task 't': `foreach` must be a list or a single placeholder", "foreach: ${{ params.models }}"),
        ("'${{ params.models }} and ${{ params.models }}'",
         "task 't': `foreach` must be a list or a single placeholder", "foreach: ${{ params.models }}"),
        ("'${{ artifacts.raw }}'", "task 't' cannot fan out over ${{ artifacts.raw }}", "list param"),
        ("'${{ item }}'", "task 't' cannot fan out over ${{ item }}", "list param"),
        ("'${{ params.lr }}'", "task 't' fans out over 'params.lr', which is a float, not a list",
         "list param"),
        ("'${{ tasks.up.outputs.best }}'", "task 't' fans out over 'tasks.up.outputs.best', which is a str, not a list",
         "list param"),
    ],
)
def test_foreach_problems(foreach, message, help):
    text = FOREACH_BASE + f"  t: {{foreach: {foreach}, command: echo}}\n"
    d = only(run_pass(foreach_is_a_list, text))
    assert (d.code, d.severity, d.path) == ("E201", Severity.ERROR, ("tasks", "t", "foreach"))
    assert d.message == message
    assert help in d.help


@pytest.mark.parametrize(
    "foreach, path",
    [
        ("[a, 'x-${{ params.models }}']", ("tasks", "t", "foreach", 1)),
        ("[{k: [1, '${{ tasks.up.outputs.best }}']}]", ("tasks", "t", "foreach", 0, "k", 1)),
        ("['${{ nonsense }}']", ("tasks", "t", "foreach", 0)),
    ],
)
def test_literal_foreach_items_hold_no_placeholder(foreach, path):
    text = FOREACH_BASE + f"  t: {{foreach: {foreach}, command: 'echo ${{{{ item }}}}'}}\n"
    d = only(run_pass(foreach_is_a_list, text))
    assert (d.code, d.severity, d.path) == ("E114", Severity.ERROR, path)
    assert d.message == "task 't': a literal foreach item cannot hold a ${{ }} placeholder"
    assert "foreach: ${{ params.NAME }}" in d.help and "$${{" in d.help


def test_literal_foreach_items_may_hold_the_escape():
    text = FOREACH_BASE + "  t: {foreach: ['$${{ params.models }}', {k: '$${{'}], command: 'echo ${{ item }}'}\n"
    assert not run_pass(foreach_is_a_list, text).items


# ----------------------------------------------------------------------------- conditions

COND_BASE = """
name: p
params:
  threshold: 0.5
  epochs: 3
  mode: fast
  enabled: true
  models: [a]
tasks:
  up: {python: m:f, outputs: {acc: float, ok: bool, label: str, n: int, names: list}}
  mapped: {foreach: [1, 2], python: m:g, outputs: {score: float}}
"""


def cond(when: str) -> str:
    return COND_BASE + f"  t:\n    command: echo\n    when: {when}\n"


@pytest.mark.parametrize(
    "when",
    [
        "tasks.up.outputs.acc >= params.threshold",
        "'${{ tasks.up.outputs.acc }} >= ${{ params.threshold }}'",
        "'${{ tasks.up.outputs.acc >= params.threshold }}'",
        "params.enabled",
        "not params.enabled",
        "tasks.up.outputs.ok and params.enabled or not tasks.up.outputs.ok",
        "params.epochs > 2 and params.threshold < 1",  # int vs float compare fine
        "params.mode == 'fast'",
        "params.mode < 'slow'",  # strings order
        "params.enabled == true",
        "tasks.up.outputs.label != params.mode",
        "'true'",
        "(params.epochs == 1 or params.epochs == 2) and not (params.mode == 'x')",
    ],
)
def test_valid_conditions_are_silent(when):
    assert not run_pass(conditions_are_well_typed, cond(when)).items


@pytest.mark.parametrize(
    "when, message, needle, help",
    [
        ("params.epochs >", "the condition ends too early", None, None),
        ("params.epochs = 1", "unexpected character '=' in condition", "= 1", "use == to compare"),
        ("params.epochs == 1 params.mode", "unexpected 'params.mode' in condition", "params.mode",
         "combine comparisons with and / or"),
        ("params.enabled == True", "'True' is not a literal here", "True", "write true"),
        ("item == 1", "'item' is not a reference a condition can use", "item == 1",
         "use params.NAME or tasks.ID.outputs.NAME; quote text as 'text'"),
        ("(params.enabled", "the condition ends too early", None, None),
        ("'   '", "the condition is empty", None, None),
    ],
)
def test_condition_syntax_errors(when, message, needle, help):
    text = cond(when)
    d = only(run_pass(conditions_are_well_typed, text))
    assert (d.code, d.severity, d.path) == ("E202", Severity.ERROR, ("tasks", "t", "when"))
    assert d.message == f"task 't': {message}"
    assert d.help == help
    if needle is not None:  # the caret points at the problem inside the condition
        assert d.source_line[d.loc.col - 1 :].startswith(needle)


@pytest.mark.parametrize(
    "when, message, written, help",
    [
        ("params.treshold > 0", "unknown param 'treshold'", "params.treshold", "did you mean 'threshold'?"),
        ("params.zzz > 0", "unknown param 'zzz'", "params.zzz", "declare it under `params:`"),
        ("tasks.upp.outputs.acc > 0", "unknown task 'upp'", "tasks.upp.outputs.acc", "did you mean 'up'?"),
        ("tasks.zzz.outputs.acc > 0", "unknown task 'zzz'", "tasks.zzz.outputs.acc", "known tasks: up, mapped, t"),
        ("tasks.up.outputs.accuracy > 0", "task 'up' has no output 'accuracy'", "tasks.up.outputs.accuracy",
         "declare it in 'up': `outputs: {accuracy: float}`"),
        ("tasks.up.outputs.ok2", "task 'up' has no output 'ok2'", "tasks.up.outputs.ok2", "did you mean 'ok'?"),
        ("tasks.t.outputs.x", "a task's condition cannot read the task's own output", "tasks.t.outputs.x", None),
    ],
)
def test_condition_unknown_references(when, message, written, help):
    d = only(run_pass(conditions_are_well_typed, cond(when)))
    assert (d.code, d.severity, d.path) == ("E106", Severity.ERROR, ("tasks", "t", "when"))
    assert d.message == f"task 't' condition: {message}"
    assert d.help == help
    assert d.source_line[d.loc.col - 1 :].startswith(written) and d.span == len(written)


@pytest.mark.parametrize(
    "when, message, needle",
    [
        ("params.mode > 1", "`params.mode > 1` compares a str with an int", ">"),
        ("params.threshold == 'high'", "`params.threshold == 'high'` compares a float with a str", "=="),
        ("params.enabled == 1", "`params.enabled == 1` compares a bool with an int", "=="),
        ("params.enabled < false", "`params.enabled < false` orders booleans; use == or !=", "<"),
        ("params.models == 1", "cannot compare a list with an int in `params.models == 1`", "=="),
        ("tasks.mapped.outputs.score > 0.5",
         "cannot compare a list with a float in `tasks.mapped.outputs.score > 0.5`", ">"),
        ("(params.epochs > 1) == true",
         "cannot compare a condition with a bool in `(params.epochs > 1) == true`", "=="),
        ("params.epochs", "`params.epochs` is an int, not a condition", "params.epochs"),
        ("params.enabled and params.mode", "`params.mode` is a str, not a condition", "params.mode"),
        ("not tasks.up.outputs.label", "`tasks.up.outputs.label` is a str, not a condition", "tasks.up.outputs.label"),
        ("'1'", "`1` is an int, not a condition", "1"),
    ],
)
def test_condition_type_errors(when, message, needle):
    d = only(run_pass(conditions_are_well_typed, cond(when)))
    assert (d.code, d.severity, d.path) == ("E203", Severity.ERROR, ("tasks", "t", "when"))
    assert d.message == f"task 't' condition: {message}"
    assert d.source_line[d.loc.col - 1 :].startswith(needle)


def test_all_type_errors_in_one_condition():
    d = run_pass(conditions_are_well_typed, cond("params.mode > 1 or params.epochs or params.zzz == 1"))
    assert codes(d) == ["E106", "E203", "E203"]


def test_unknown_reference_is_not_also_a_type_error():
    d = run_pass(conditions_are_well_typed, cond("params.zzz > 'x' and tasks.up.outputs.nope"))
    assert codes(d) == ["E106", "E106"]
