"""check_references: after_names_known_tasks (E100, E102), artifacts_have_one_producer (E102-E104,
W120), placeholders_resolve (E105-E107, W121), else_branches_pair_up (E108) and
triggers_are_complete (E109)."""

from __future__ import annotations

import pytest

from compiler.diagnostics import Severity
from compiler.passes.check_references import (
    after_names_known_tasks,
    artifacts_have_one_producer,
    else_branches_pair_up,
    placeholders_resolve,
    triggers_are_complete,
)
from tests.helpers import codes, line_of, only, run_pass

VALID = """
name: p
params: {models: [a, b], threshold: 0.5}
artifacts:
  raw: data/raw.csv
  clean: data/clean.csv
  batch: {path: data/batch.csv, external: true}
  watched: {path: data/watched.csv, external: true}
triggers:
  - {type: data, artifact: watched}
  - {type: data, uri: "s3://bucket/in/", poll_interval: 5m}
alerts: [{on: failure, command: "echo failed"}]
tasks:
  ingest:
    command: "fetch --out ${{ artifacts.raw }} --batch ${{ artifacts.batch }} > ${{ outputs.rows }}"
    consumes: [batch]
    produces: [raw]
    outputs: {rows: int}
  clean:
    python: m:clean
    args: {src: "${{ artifacts.raw }}", dst: "${{ artifacts.clean }}", n: "${{ tasks.ingest.outputs.rows }}"}
    consumes: [raw]
    produces: [clean]
    outputs: {acc: float}
  fan:
    foreach: ${{ params.models }}
    command: "train ${{ item }} ${{ item.name }} $${{ not.a.placeholder }}"
    after: [clean]
  deploy:
    command: deploy
    when: tasks.clean.outputs.acc >= params.threshold
  keep:
    command: keep
    else_of: deploy
    alerts: [{command: "echo keep failed"}]
"""


def test_valid_references_are_silent():
    for check in (after_names_known_tasks, artifacts_have_one_producer, placeholders_resolve,
                  else_branches_pair_up, triggers_are_complete):
        assert not run_pass(check, VALID).items, check.__name__


# ----------------------------------------------------------------------------- after


def test_after_unknown_task_with_suggestion():
    text = """
    name: p
    tasks:
      ingest: {command: echo}
      train: {after: [ingset]}
    """
    d = only(run_pass(after_names_known_tasks, text))
    assert (d.code, d.severity, d.path) == ("E100", Severity.ERROR, ("tasks", "train", "after", 0))
    assert d.message == "task 'train' runs after unknown task 'ingset'"
    assert d.help == "did you mean 'ingest'?"
    assert d.loc.line == line_of(text, "ingset") and d.source_line[d.loc.col - 1 :].startswith("ingset]")


def test_after_unknown_task_without_close_match_lists_known_tasks():
    text = """
    name: p
    tasks:
      ingest: {command: echo}
      train: {after: [ingest, zzz]}
    """
    d = only(run_pass(after_names_known_tasks, text))
    assert d.path == ("tasks", "train", "after", 1)
    assert d.help == "known tasks: ingest"


def test_after_itself():
    text = """
    name: p
    tasks:
      train: {after: train}
    """
    d = only(run_pass(after_names_known_tasks, text))
    assert (d.code, d.severity, d.path) == ("E102", Severity.ERROR, ("tasks", "train", "after", 0))
    assert d.message == "task 'train' runs after itself"
    assert "remove it" in d.help


# ----------------------------------------------------------------------------- artifacts


def test_undeclared_artifact():
    text = """
    name: p
    artifacts: {raw: data/raw.csv}
    tasks:
      a: {command: echo, produces: [raw]}
      b: {command: echo, consumes: [raw, rwa]}
      c: {command: echo, produces: [model]}
    """
    found = run_pass(artifacts_have_one_producer, text)
    assert [(d.code, d.severity, d.path) for d in found] == [
        ("E103", Severity.ERROR, ("tasks", "b", "consumes", 1)),
        ("E103", Severity.ERROR, ("tasks", "c", "produces", 0)),
    ]
    assert found.items[0].message == "task 'b' consumes undeclared artifact 'rwa'"
    assert found.items[0].help == "did you mean 'raw'?"
    assert found.items[1].message == "task 'c' produces undeclared artifact 'model'"
    assert found.items[1].help == "declare it under `artifacts:`, e.g. `model: data/model.csv`"


def test_consumes_what_it_produces():
    text = """
    name: p
    artifacts: {raw: data/raw.csv}
    tasks:
      a: {command: echo, produces: [raw], consumes: [raw]}
    """
    d = only(run_pass(artifacts_have_one_producer, text))
    assert (d.code, d.severity, d.path) == ("E102", Severity.ERROR, ("tasks", "a", "consumes", 0))
    assert "both consumes and produces artifact 'raw'" in d.message
    assert "new artifact" in d.help


def test_two_producers():
    text = """
    name: p
    artifacts: {raw: data/raw.csv}
    tasks:
      a: {command: echo, produces: [raw]}
      b: {command: echo, produces: [raw]}
      c: {command: echo, consumes: [raw]}
    """
    d = only(run_pass(artifacts_have_one_producer, text))
    assert (d.code, d.severity, d.path) == ("E104", Severity.ERROR, ("tasks", "b", "produces", 0))
    assert d.message == "artifact 'raw' is produced by both 'a' and 'b'"
    assert "one producer" in d.help


def test_same_task_listing_an_artifact_twice_is_not_two_producers():
    text = """
    name: p
    artifacts: {raw: data/raw.csv}
    tasks:
      a: {command: echo, produces: [raw, raw]}
      b: {command: echo, consumes: [raw]}
    """
    assert not run_pass(artifacts_have_one_producer, text).items


def test_external_artifact_produced():
    text = """
    name: p
    artifacts: {batch: {path: in.csv, external: true}}
    tasks:
      a: {command: echo, produces: [batch]}
    """
    d = only(run_pass(artifacts_have_one_producer, text))  # and no W120: a task does produce it
    assert (d.code, d.severity, d.path) == ("E104", Severity.ERROR, ("tasks", "a", "produces", 0))
    assert d.message == "artifact 'batch' is external but task 'a' produces it"
    assert "external: true" in d.help


def test_consumed_but_never_produced():
    text = """
    name: p
    artifacts:
      raw: data/raw.csv
    tasks:
      a: {command: echo, consumes: [raw]}
      b: {command: echo, consumes: [raw]}
    """
    d = only(run_pass(artifacts_have_one_producer, text))
    assert (d.code, d.severity, d.path) == ("E103", Severity.ERROR, ("artifacts", "raw"))
    assert d.message == "artifact 'raw' is consumed by 'a' but no task produces it"
    assert "external: true" in d.help
    assert (d.loc.line, d.loc.col) == (line_of(text, "raw: data"), 3)


def test_unused_artifact_is_a_warning_unless_a_trigger_watches_it():
    text = """
    name: p
    artifacts: {spare: data/spare.csv, watched: {path: w.csv, external: true}}
    triggers: [{type: data, artifact: watched}]
    tasks:
      a: {command: echo}
    """
    d = only(run_pass(artifacts_have_one_producer, text))
    assert (d.code, d.severity, d.path) == ("W120", Severity.WARNING, ("artifacts", "spare"))
    assert d.message == "artifact 'spare' is declared but no task produces or consumes it"


# ----------------------------------------------------------------------------- placeholders


@pytest.mark.parametrize(
    "placeholder, help",
    [
        ("${{ param.lr }}", "did you mean '${{ params.lr }}'?"),
        ("${{ artifact.raw }}", "did you mean '${{ artifacts.raw }}'?"),
        ("${{ tasks.a.output.n }}", "did you mean '${{ tasks.a.outputs.n }}'?"),
        ("${{ lr }}", None),
        ("${{ params.learning-rate }}", None),
    ],
)
def test_unknown_placeholder(placeholder, help):
    text = f"""
    name: p
    params: {{lr: 0.1}}
    artifacts: {{raw: r.csv}}
    tasks:
      a: {{command: "echo 1 > ${{{{ outputs.n }}}}", outputs: {{n: int}}, produces: [raw]}}
      b: {{command: "train --x {placeholder}"}}
    """
    d = only(run_pass(placeholders_resolve, text))
    assert (d.code, d.severity, d.path) == ("E105", Severity.ERROR, ("tasks", "b", "command"))
    assert d.message == f"unknown placeholder '{placeholder}' in task 'b'"
    if help:
        assert d.help == help
    else:
        assert d.help.startswith("placeholders are ${{ params.NAME }}") and "$${{" in d.help
    # the caret points at the placeholder inside the command
    assert d.source_line[d.loc.col - 1 :].startswith(placeholder) and d.span == len(placeholder)


@pytest.mark.parametrize(
    "task, message, help",
    [
        ("{command: 'x ${{ params.lrr }}'}", "unknown param 'lrr'", "did you mean 'lr'?"),
        ("{command: 'x ${{ params.zzz }}'}", "unknown param 'zzz'", "declare it under `params:`"),
        ("{command: 'x ${{ artifacts.rwa }}'}", "unknown artifact 'rwa'", "did you mean 'raw'?"),
        ("{command: 'x ${{ tasks.up.outputs.nn }}'}", "task 'up' has no output 'nn' (declared: n)",
         "did you mean 'n'?"),
        ("{command: 'x ${{ tasks.up.outputs.qq }}'}", "task 'up' has no output 'qq' (declared: n)",
         "declare it in 'up': `outputs: {qq: str}`"),
        ("{command: 'x ${{ tasks.upp.outputs.n }}'}", "unknown task 'upp'", "did you mean 'up'?"),
        ("{command: 'x ${{ tasks.zzz.outputs.n }}'}", "unknown task 'zzz'", "known tasks: up, b"),
        ("{command: 'x ${{ tasks.b.outputs.n }} > ${{ outputs.n }}', outputs: {n: int}}",
         "task 'b' refers to its own output 'n'", "use ${{ outputs.n }} to write it"),
        ("{command: 'x ${{ item }}'}", "${{ item }} is only defined in a task with `foreach`",
         "add `foreach:` or remove the placeholder"),
        ("{python: 'm:f', args: {out: '${{ outputs.n }}'}, outputs: {n: int}}",
         "python tasks return their outputs instead of writing ${{ outputs.NAME }}",
         "return the value (or a dict of values, one per output)"),
        ("{command: 'x > ${{ outputs.nn }}', outputs: {n: {type: int, path: n.txt}}}",
         "${{ outputs.nn }} is not a declared output of 'b'", "did you mean 'n'?"),
    ],
)
def test_placeholder_that_does_not_resolve(task, message, help):
    text = f"""
    name: p
    params: {{lr: 0.1}}
    artifacts: {{raw: r.csv}}
    tasks:
      up: {{command: "echo 1 > ${{{{ outputs.n }}}}", outputs: {{n: int}}, produces: [raw]}}
      b: {task}
    """
    d = only(run_pass(placeholders_resolve, text), "E106")
    assert d.severity is Severity.ERROR and d.path[:2] == ("tasks", "b")
    assert d.message == f"task 'b': {message}"
    assert d.help == help


@pytest.mark.parametrize(
    "field, path",
    [
        ("args: {n: '${{ params.zzz }}'}", ("tasks", "b", "args", "n")),
        ("args: {n: [1, {deep: '${{ params.zzz }}'}]}", ("tasks", "b", "args", "n", 1, "deep")),
        ("env: {N: '${{ params.zzz }}'}", ("tasks", "b", "env", "N")),
        ("foreach: '${{ params.zzz }}'", ("tasks", "b", "foreach")),
    ],
)
def test_placeholders_are_checked_in_every_field(field, path):
    text = f"""
    name: p
    tasks:
      b:
        python: m:f
        {field}
    """
    d = only(run_pass(placeholders_resolve, text))
    assert (d.code, d.path) == ("E106", path)


def test_artifact_used_but_not_tracked_warns_once_per_task():
    text = """
    name: p
    artifacts: {raw: r.csv}
    tasks:
      a: {command: "cat ${{ artifacts.raw }} ${{ artifacts.raw }}", env: {R: "${{ artifacts.raw }}"}}
      b: {command: "cat ${{ artifacts.raw }}"}
    """
    found = run_pass(placeholders_resolve, text)
    assert [(d.code, d.severity, d.path) for d in found] == [
        ("W121", Severity.WARNING, ("tasks", "a")),
        ("W121", Severity.WARNING, ("tasks", "b")),
    ]
    assert found.items[0].message == "task 'a' uses artifact 'raw' but neither consumes nor produces it"
    assert found.items[0].help == "add `consumes: [raw]` (or `produces:`) so the dependency is tracked"


@pytest.mark.parametrize(
    "alerts, path",
    [
        ("alerts: [{command: 'echo ${{ params.x }}'}]", ("alerts", 0, "command")),
        ("defaults: {alerts: [{command: ok}, {command: 'echo ${{ params.x }}'}]}",
         ("defaults", "alerts", 1, "command")),
        ("alerts: [{command: 'echo ${{ nonsense }}'}]", ("alerts", 0, "command")),
        ("alerts: [{python: 'm:f', args: {a: [1, 'x ${{ params.x }}']}}]", ("alerts", 0, "args", "a", 1)),
    ],
)
def test_placeholders_in_alerts(alerts, path):
    text = f"""
    name: p
    params: {{x: 1}}
    {alerts}
    tasks:
      a: {{command: echo}}
    """
    d = only(run_pass(placeholders_resolve, text))
    assert (d.code, d.severity, d.path) == ("E107", Severity.ERROR, path)
    assert d.message == "alerts cannot use ${{ }} placeholders"
    assert "env" in d.help


def test_placeholders_in_task_alerts():
    text = """
    name: p
    params: {x: 1}
    tasks:
      a: {command: echo, alerts: [{command: "echo $${{ literal }}"}, {command: "echo ${{ params.x }}"}]}
    """
    d = only(run_pass(placeholders_resolve, text))
    assert (d.code, d.path) == ("E107", ("tasks", "a", "alerts", 1, "command"))


# ----------------------------------------------------------------------------- else branches


@pytest.mark.parametrize(
    "else_task, message, help",
    [
        ("{else_of: b}", "task 'b' is the else branch of itself", None),
        ("{else_of: gaurd}", "task 'b' is the else branch of unknown task 'gaurd'", "did you mean 'guard'?"),
        ("{else_of: zzz}", "task 'b' is the else branch of unknown task 'zzz'",
         "known tasks: plain, guard, otherwise, chain, b"),
        ("{else_of: plain}", "task 'b' is the else branch of 'plain', which has no `when`",
         "give 'plain' a `when:` condition"),
        ("{else_of: chain}", "'chain' is itself an else branch; chains of else_of are not supported", None),
    ],
)
def test_else_branch_problems(else_task, message, help):
    text = f"""
    name: p
    params: {{go: true}}
    tasks:
      plain: {{command: echo}}
      guard: {{command: echo, when: params.go}}
      otherwise: {{command: echo, else_of: guard}}
      chain: {{command: echo, else_of: guard, when: params.go}}
      b: {else_task}
    """
    found = run_pass(else_branches_pair_up, text)
    assert [d.path for d in found if d.path[1] != "b"] == [("tasks", "chain", "when")]  # both when and else_of
    d = only([d for d in found if d.path[1] == "b"])
    assert (d.code, d.severity, d.path) == ("E108", Severity.ERROR, ("tasks", "b", "else_of"))
    assert d.message == message
    assert d.help == help


def test_else_branch_with_its_own_when():
    text = """
    name: p
    params: {go: true}
    tasks:
      guard: {command: echo, when: params.go}
      b: {command: echo, else_of: guard, when: params.go}
    """
    d = only(run_pass(else_branches_pair_up, text))
    assert (d.code, d.path) == ("E108", ("tasks", "b", "when"))
    assert d.message == "task 'b' has both `when` and `else_of`"
    assert "condition is false" in d.help


# ----------------------------------------------------------------------------- triggers


@pytest.mark.parametrize(
    "triggers, path, message, help_part",
    [
        ("[{type: data}]", ("triggers", 0), "a data trigger needs exactly one of `artifact` or `uri`", "uri: s3://"),
        ("[{type: data, artifact: raw, uri: 's3://b/'}]", ("triggers", 0),
         "a data trigger needs exactly one of `artifact` or `uri`", "artifact: raw_batch"),
        ("[{type: data, artifact: rwa}]", ("triggers", 0, "artifact"),
         "the data trigger watches unknown artifact 'rwa'", "did you mean 'raw'?"),
        ("[{type: data, artifact: zzz}]", ("triggers", 0, "artifact"),
         "the data trigger watches unknown artifact 'zzz'", "external: true"),
        ("[{type: continuous, poll_interval: 5m}]", ("triggers", 0, "poll_interval"),
         "`poll_interval` only applies to data triggers", None),
        ("[{type: manual, uri: 's3://b/'}]", ("triggers", 0, "uri"), "`uri` only applies to data triggers", None),
        ("[{type: data, uri: 's3://b/'}, {type: manual}]", ("triggers", 1),
         "a manual trigger means manual-only, but the pipeline has other triggers", "remove {type: manual}"),
    ],
)
def test_trigger_problems(triggers, path, message, help_part):
    text = f"""
    name: p
    artifacts: {{raw: {{path: r.csv, external: true}}}}
    triggers: {triggers}
    tasks:
      a: {{command: echo, consumes: [raw]}}
    """
    d = only(run_pass(triggers_are_complete, text))
    assert (d.code, d.severity, d.path) == ("E109", Severity.ERROR, path)
    assert d.message == message
    if help_part is None:
        assert d.help is None
    else:
        assert help_part in d.help


@pytest.mark.parametrize(
    "trigger, message",
    [
        ("manual", "a manual trigger means manual-only, but the pipeline has other triggers"),
        ("continuous", "a continuous pipeline cannot also have a schedule"),
    ],
)
def test_trigger_and_schedule(trigger, message):
    text = f"""
    name: p
    schedule: "0 2 * * *"
    triggers: [{{type: {trigger}}}]
    tasks:
      a: {{command: echo}}
    """
    d = only(run_pass(triggers_are_complete, text))
    assert (d.code, d.path, d.message) == ("E109", ("triggers", 0), message)
    assert d.help


def test_manual_or_continuous_alone_is_fine():
    for trigger in ("manual", "continuous"):
        text = f"name: p\ntriggers: [{{type: {trigger}}}]\ntasks: {{a: {{command: echo}}}}\n"
        assert not run_pass(triggers_are_complete, text).items
    text = "name: p\nschedule: '@daily'\ntriggers: [{type: data, uri: 's3://x/'}]\ntasks: {a: {command: echo}}\n"
    assert not run_pass(triggers_are_complete, text).items


def test_every_trigger_is_checked():
    text = """
    name: p
    triggers: [{type: data}, {type: data, artifact: nope}, {type: continuous, uri: 's3://x/'}]
    tasks:
      a: {command: echo}
    """
    found = run_pass(triggers_are_complete, text)
    assert codes(found) == ["E109"] * 3
    assert [d.path[1] for d in found] == [0, 1, 2]


def test_unclosed_placeholder_and_repeated_after_are_warnings():
    text = """
    name: p
    tasks:
      a: {command: "echo ${{ params.x }"}
      b: {command: "echo $${{ kept }} ${{ tasks.a.outputs.y }", after: [a, a]}
      c: {command: "echo fine"}
    """
    from compiler.passes.check_references import after_names_known_tasks, placeholders_resolve

    unclosed = run_pass(placeholders_resolve, text).items
    assert [(d.code, d.path) for d in unclosed] == [("W105", ("tasks", "a", "command")),
                                                   ("W105", ("tasks", "b", "command"))]
    repeated = run_pass(after_names_known_tasks, text).items
    assert [(d.code, d.path) for d in repeated] == [("W100", ("tasks", "b", "after", 1))]
