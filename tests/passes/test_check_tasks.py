"""check_tasks: task_kind_is_clear (E204, W204, E205) and fan_out_settings (E212)."""

from __future__ import annotations

import pytest

from compiler.diagnostics import Severity
from compiler.passes.check_tasks import fan_out_settings, task_kind_is_clear
from tests.helpers import codes, line_of, only, run_pass

VALID = """
name: p
params: {models: [a, b]}
tasks:
  shell: {command: "echo 1 > ${{ outputs.n }}", outputs: {n: int}}
  exec: {command: [python3, -c, "print(1)"]}
  py: {python: m.mod:main, args: {x: 1}, outputs: {score: float}}
  box: {image: "alpine:3", command: [sh, -c], args: ["echo ${{ outputs.v }} > /tmp/x"], outputs: {v: str}}
  box_py: {image: "python:3.12", python: m:f, args: {y: 2}}
  with_path: {command: "run", outputs: {acc: {type: float, path: metrics/acc.txt}}}
  nothing: {after: [shell]}
  fan: {foreach: "${{ params.models }}", max_parallel: 2, command: "echo ${{ item }}"}
"""


def test_valid_tasks_are_silent():
    assert not run_pass(task_kind_is_clear, VALID).items
    assert not run_pass(fan_out_settings, VALID).items


def test_command_and_python():
    text = """
    name: p
    tasks:
      a:
        command: echo hi
        python: m:f
    """
    d = only(run_pass(task_kind_is_clear, text))
    assert (d.code, d.severity, d.path) == ("E204", Severity.ERROR, ("tasks", "a", "python"))
    assert d.message == "task 'a' has both `command` and `python`"
    assert "split it into two tasks" in d.help
    assert (d.loc.line, d.loc.col) == (line_of(text, "python:"), 5)  # at the key


@pytest.mark.parametrize(
    "task, message, help",
    [
        ("{python: m:f, args: [1, 2]}", "`args` of a python task must be a mapping of keyword arguments",
         "write args: {name: value, ...}"),
        ("{image: alpine, command: [sh], args: {a: 1}}", "`args` of a container task must be a list",
         'write args: ["--flag", "value"]'),
        ("{command: echo, args: [x]}", "`args` needs `python` or `image`",
         "put the arguments into `command` for a shell task"),
        ("{args: {x: 1}}", "`args` needs `python` or `image`", "put the arguments into `command` for a shell task"),
    ],
)
def test_args_that_do_not_fit_the_kind(task, message, help):
    text = f"""
    name: p
    tasks:
      t: {task}
    """
    d = only(run_pass(task_kind_is_clear, text))
    assert (d.code, d.severity, d.path) == ("E204", Severity.ERROR, ("tasks", "t", "args"))
    assert d.message == f"task 't': {message}"
    assert d.help == help


def test_args_to_the_image_entrypoint_is_a_warning():
    text = """
    name: p
    tasks:
      t: {image: alpine, args: ["--verbose"]}
    """
    d = only(run_pass(task_kind_is_clear, text))
    assert (d.code, d.severity, d.path) == ("W204", Severity.WARNING, ("tasks", "t", "args"))
    assert "entrypoint" in d.message


@pytest.mark.parametrize(
    "task",
    [
        "{command: echo hi, outputs: {acc: float}}",
        "{image: alpine, command: [sh, -c, 'echo 1'], outputs: {acc: float}}",
        # writing another output does not count
        "{command: 'echo 1 > ${{ outputs.other }}', outputs: {other: int, acc: float}}",
    ],
)
def test_output_never_written(task):
    text = f"""
    name: p
    tasks:
      t: {task}
    """
    d = only(run_pass(task_kind_is_clear, text))
    assert (d.code, d.severity, d.path) == ("E205", Severity.ERROR, ("tasks", "t", "outputs", "acc"))
    assert d.message == "task 't' declares output 'acc' but never writes it"
    assert "${{ outputs.acc }}" in d.help and "path:" in d.help


@pytest.mark.parametrize(
    "where",
    [
        "command: 'echo 1 > ${{ outputs.acc }}'",
        "command: [sh, -c, 'echo 1 > ${{ outputs.acc }}']",
        "{env: {OUT: '${{ outputs.acc }}'}, command: 'echo 1 > $OUT'}",
    ],
)
def test_output_written_anywhere_in_the_task_is_enough(where):
    task = where if where.startswith("{") else "{" + where + "}"
    text = f"""
    name: p
    tasks:
      t: {{outputs: {{acc: float}}, {task[1:-1]}}}
    """
    assert not run_pass(task_kind_is_clear, text).items


def test_noop_task_with_output():
    text = """
    name: p
    tasks:
      t: {outputs: {acc: float}}
    """
    d = only(run_pass(task_kind_is_clear, text))
    assert (d.code, d.severity, d.path) == ("E205", Severity.ERROR, ("tasks", "t", "outputs", "acc"))
    assert d.message == "task 't' runs nothing, so it cannot produce output 'acc'"


def test_max_parallel_without_foreach():
    text = """
    name: p
    tasks:
      t:
        command: echo
        max_parallel: 3
    """
    d = only(run_pass(fan_out_settings, text))
    assert (d.code, d.severity, d.path) == ("E212", Severity.ERROR, ("tasks", "t", "max_parallel"))
    assert d.message == "task 't' sets `max_parallel` but has no `foreach`"
    assert "pool" in d.help
    assert (d.loc.line, d.loc.col) == (line_of(text, "max_parallel"), 5)


def test_every_task_is_checked():
    text = """
    name: p
    tasks:
      a: {command: echo, python: m:f}
      b: {command: echo, args: [x], outputs: {o: int}}
      c: {command: echo, max_parallel: 1}
      d: {max_parallel: 2}
    """
    found = run_pass(task_kind_is_clear, text)
    assert [(d.code, d.path[1]) for d in found] == [("E204", "a"), ("E204", "b"), ("E205", "b")]
    assert [d.path[1] for d in run_pass(fan_out_settings, text)] == ["c", "d"]
    assert codes(run_pass(fan_out_settings, text)) == ["E212", "E212"]
