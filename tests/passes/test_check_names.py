"""check_names: ids_are_portable (E110, E111, E215) and names_are_identifiers (E112)."""

from __future__ import annotations

import json

import pytest

from compiler.diagnostics import Severity
from compiler.language import naming
from compiler.passes.check_names import ids_are_portable, names_are_identifiers, secrets_are_portable
from tests.helpers import codes, line_of, only, run_pass

VALID = """
name: churn-training_2
params: {learning_rate: 0.01, _private: 1}
artifacts: {raw: data/raw.csv, model_v2: models/m.json}
tasks:
  ingest: {command: echo, outputs: {rows: {type: int, path: rows.txt}}}
  Train-Model: {after: [ingest]}
  class: {after: [ingest]}
  evaluate_2: {after: [ingest]}
"""


def test_valid_names_are_silent():
    assert not run_pass(ids_are_portable, VALID).items
    assert not run_pass(names_are_identifiers, VALID).items


# ----------------------------------------------------------------------------- E110


def test_invalid_pipeline_name():
    text = """
    name: my pipeline!
    tasks: {a: {command: echo}}
    """
    d = only(run_pass(ids_are_portable, text))
    assert (d.code, d.severity, d.path) == ("E110", Severity.ERROR, ("name",))
    assert d.message.startswith("pipeline name: 'my pipeline!'")
    assert d.help == "use 'my_pipeline'"
    assert d.loc.line == line_of(text, "name:")


@pytest.mark.parametrize(
    "bad, suggestion",
    [
        ("load data", "load_data"),
        ("2nd-step", "t_2nd-step"),
        ("step-", "step"),
        ("step_", "step"),
        ("a.b", "a_b"),
        ("x" * 70, "x" * 63),
    ],
)
def test_invalid_task_id(bad, suggestion):
    text = f"""
    name: p
    tasks:
      ok: {{command: echo}}
      "{bad}": {{command: echo}}
    """
    d = only(run_pass(ids_are_portable, text))
    assert (d.code, d.severity, d.path) == ("E110", Severity.ERROR, ("tasks", bad))
    assert d.message.startswith("task id ")
    assert d.help == f"use '{suggestion}' (letters, digits, '-' and '_')"
    assert naming.id_problem(suggestion) is None  # the suggestion itself is valid
    assert d.loc.line == line_of(text, bad[:20]) and d.loc.col == 3  # at the key


def test_no_tasks():
    d = only(run_pass(ids_are_portable, "name: p\ntasks: {}\n"))
    assert (d.code, d.severity, d.path) == ("E215", Severity.ERROR, ("tasks",))
    assert "hello" in d.help


# ----------------------------------------------------------------------------- E111


@pytest.mark.parametrize(
    "first, second, mapped, target",
    [
        ("load-data", "load_data", "load_data", "Python identifier"),
        ("Train", "train", "train", "DNS-1123 name (Argo)"),
        ("Load-Data", "load_data", "load-data", "DNS-1123 name (Argo)"),
    ],
)
def test_colliding_ids(first, second, mapped, target):
    text = f"""
    name: p
    tasks:
      {first}: {{command: echo}}
      other: {{command: echo}}
      {second}: {{command: echo}}
    """
    d = only(run_pass(ids_are_portable, text))
    assert (d.code, d.severity, d.path) == ("E111", Severity.ERROR, ("tasks", second))
    assert d.message == f"task ids '{first}' and '{second}' both become '{mapped}' as a {target}"
    assert "rename one of them" in d.help
    assert d.loc.line == line_of(text, f"{second}:")


def test_one_collision_reported_once_even_if_it_collides_on_two_targets():
    # 'a-b' and 'a_b' collide as Python identifiers ('a_b') and as DNS names ('a-b'): one E111.
    text = """
    name: p
    tasks:
      a-b: {command: echo}
      a_b: {command: echo}
    """
    assert codes(run_pass(ids_are_portable, text)) == ["E111"]


def test_three_way_collision_reports_each_later_id():
    text = """
    name: p
    tasks:
      a-b: {command: echo}
      a_b: {command: echo}
      A-B: {command: echo}
    """
    found = run_pass(ids_are_portable, text)
    assert codes(found) == ["E111", "E111"]
    assert [d.path for d in found] == [("tasks", "a_b"), ("tasks", "A-B")]
    assert all("'a-b'" in d.message for d in found)


def test_keyword_ids_cannot_collide_with_their_mapped_name():
    # 'class' becomes 'class_' in Python, but 'class_' is not a valid id itself (trailing '_').
    text = """
    name: p
    tasks:
      class: {command: echo}
      class_: {command: echo}
    """
    d = only(run_pass(ids_are_portable, text))
    assert (d.code, d.path) == ("E110", ("tasks", "class_"))


def test_invalid_id_is_not_also_reported_as_collision():
    text = """
    name: p
    tasks:
      a_: {command: echo}
      a-: {command: echo}
    """
    assert codes(run_pass(ids_are_portable, text)) == ["E110", "E110"]


# ----------------------------------------------------------------------------- E112


@pytest.mark.parametrize(
    "section, name, suggestion, problem",
    [
        ("params", "learning-rate", "learning_rate", "is not an identifier"),
        ("params", "class", "class_", "is a Python keyword"),
        ("artifacts", "raw-data", "raw_data", "is not an identifier"),
        ("artifacts", "2nd", "t_2nd", "is not an identifier"),
    ],
)
def test_param_and_artifact_names(section, name, suggestion, problem):
    value = "1" if section == "params" else "data/x.csv"
    text = f"""
    name: p
    {section}:
      "{name}": {value}
    tasks: {{a: {{command: echo}}}}
    """
    d = only(run_pass(names_are_identifiers, text))
    assert (d.code, d.severity, d.path) == ("E112", Severity.ERROR, (section, name))
    assert d.message == f"{section[:-1]} name '{name}' {problem}" + (
        " (letters, digits and '_', not starting with a digit)" if "identifier" in problem else ""
    )
    assert d.help == f"use '{suggestion}'"
    assert naming.identifier_problem(suggestion) is None
    assert d.loc.line == line_of(text, f'"{name}"')


def test_output_names():
    text = """
    name: p
    tasks:
      a:
        python: m:f
        outputs: {acc-score: float, ok: bool, "if": int}
    """
    found = run_pass(names_are_identifiers, text)
    assert [(d.code, d.path, d.help) for d in found] == [
        ("E112", ("tasks", "a", "outputs", "acc-score"), "use 'acc_score'"),
        ("E112", ("tasks", "a", "outputs", "if"), "use 'if_'"),
    ]
    assert found.items[0].message.startswith("output name 'acc-score' is not an identifier")
    assert found.items[0].loc.line == line_of(text, "acc-score")


@pytest.mark.parametrize(
    "name, key, fields",
    [
        ("creds", "token", []),
        ("a", "A.b-c_1", []),
        ("s3-credentials", "x" * 253, []),
        ("My_Creds", "k", ["name"]),
        ("creds.prod", "k", ["name"]),  # Kubernetes takes the dot, a Prefect block does not
        ("-creds", "k", ["name"]),
        ("creds\n", "k", ["name"]),
        ("c" * 254, "k", ["name"]),
        ("creds", "a b/c", ["key"]),
        ("creds", "", ["key"]),
        ("{{ x }}", "{{", ["name", "key"]),
    ],
)
def test_secret_references_are_portable(name, key, fields):
    text = f"""
    name: p
    defaults:
      secrets: {{S: {{name: {json.dumps(name)}, key: {json.dumps(key)}}}}}
    tasks:
      a: {{command: echo}}
    """
    found = run_pass(secrets_are_portable, text)
    assert [(d.code, d.path[-1]) for d in found] == [("E115", f) for f in fields]
    assert all("Kubernetes" in d.message or "every target" in d.message for d in found)
