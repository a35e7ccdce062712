"""check_policies: no_literal_secrets (E206), retry_settings_are_consistent (E209, W209),
schedule_is_complete (E210) and alerts_are_runnable (E208)."""

from __future__ import annotations

import pytest

from compiler.diagnostics import Severity
from compiler.passes.check_policies import (
    alerts_are_runnable,
    no_literal_secrets,
    retry_settings_are_consistent,
    schedule_is_complete,
)
from tests.helpers import codes, line_of, only, run_pass

VALID = """
name: p
params: {api_token: {type: str}, model: gpt-small}
schedule: {cron: "0 2 * * *", start_date: 2025-01-01, catchup: true}
alerts: [{on: failure, command: "echo failed"}, {on: retry, python: alerts.notify:send, args: {channel: ml}}]
defaults:
  retries: 2
  retry_delay: 1m
  retry_max_delay: 10m
  env: {LOG_LEVEL: info}
  secrets: {API_TOKEN: {name: acme, key: token}}
tasks:
  a:
    command: "curl -H 'Authorization: Bearer $API_TOKEN' https://x"
    env:
      MAX_TOKENS: "512"
      TOKENIZERS_PARALLELISM: "false"
      SECRETS_DIR: /run/secrets
      DB_PASSWORD: "${{ params.api_token }}"
      KEY_PATH: keys/id.pub
    retry_delay: 30s
  b:
    command: echo
    retries: 0
  c:
    command: echo
    retry_max_delay: 2m
    alerts: [{python: m:f}]
"""


def test_valid_policies_are_silent():
    for check in (no_literal_secrets, retry_settings_are_consistent, schedule_is_complete, alerts_are_runnable):
        assert not run_pass(check, VALID).items, check.__name__


# ----------------------------------------------------------------------------- secrets

FAKE_AWS = "AKIA" + "ABCDEFGHIJKLMNOP"
FAKE_GH = "ghp_" + "a" * 36


@pytest.mark.parametrize("name", ["API_TOKEN", "DB_PASSWORD", "aws_secret_access_key", "OPENAI_API_KEY", "apikey",
                                  "GITHUB_TOKEN", "PRIVATE_KEY", "SECRET", "TOKEN_2", "DB_CREDENTIAL", "dbPassword"])
def test_secret_named_env_with_literal_value(name):
    text = f"""
    name: p
    tasks:
      a:
        command: echo
        env: {{{name}: hunter2}}
    """
    d = only(run_pass(no_literal_secrets, text))
    assert (d.code, d.severity, d.path) == ("E206", Severity.ERROR, ("tasks", "a", "env", name))
    assert d.message == f"env var '{name}' looks like a secret but has a literal value"
    assert f"secrets: {{{name}: {{name: my-secret, key: {name.lower()}}}}}" in d.help
    assert d.loc.line == line_of(text, "hunter2")


@pytest.mark.parametrize("name", ["MAX_TOKENS", "TOKENIZERS_PARALLELISM", "NUM_TOKENS", "SECRETS_DIR", "KEYBOARD",
                                  "PASSWORDLESS_LOGIN", "GOOGLE_APPLICATION_CREDENTIALS"])
def test_names_that_only_contain_a_secret_word_are_not_secrets(name):
    text = f"""
    name: p
    tasks:
      a: {{command: echo, env: {{{name}: "512"}}}}
    """
    assert not run_pass(no_literal_secrets, text).items


def test_secret_named_env_with_placeholder_only_is_fine_but_mixed_literal_is_not():
    text = """
    name: p
    params: {t: x}
    tasks:
      a: {command: echo, env: {API_TOKEN: "${{ params.t }}", DB_PASSWORD: "pre-${{ params.t }}"}}
    """
    d = only(run_pass(no_literal_secrets, text))
    assert d.path == ("tasks", "a", "env", "DB_PASSWORD")


def test_credential_shaped_values():
    text = f"""
    name: p
    params: {{gh: {FAKE_GH}}}
    defaults: {{env: {{AWS_ID: {FAKE_AWS}}}}}
    tasks:
      a: {{command: "deploy --key {FAKE_AWS}", args: null}}
      b: {{python: m:f, args: {{token: {FAKE_GH}}}}}
    """
    found = run_pass(no_literal_secrets, text)
    assert [(d.code, d.path) for d in found] == [
        ("E206", ("defaults", "env", "AWS_ID")),
        ("E206", ("tasks", "a", "command")),
        ("E206", ("tasks", "b", "args", "token")),
        ("E206", ("params", "gh")),
    ]
    assert found.items[0].message == "env var 'AWS_ID' holds what looks like a credential"
    assert found.items[1].message == "task 'a' has what looks like a credential in its command"
    assert found.items[1].help.endswith("and read it from the environment")
    assert found.items[3].message == "param 'gh' has what looks like a credential as its default"
    assert all(d.severity is Severity.ERROR and "never put secret values" in d.help for d in found)


# ----------------------------------------------------------------------------- retries


@pytest.mark.parametrize(
    "defaults, task, path",
    [
        ("{}", "{retries: 1, retry_delay: 10m, retry_max_delay: 1m}", ("tasks", "a", "retry_max_delay")),
        ("{retry_delay: 10m, retry_max_delay: 1m}", "{}", ("defaults", "retry_max_delay")),
        ("{retries: 1, retry_delay: 10m}", "{retry_max_delay: 1m}", ("tasks", "a", "retry_max_delay")),
        ("{retries: 1, retry_max_delay: 1m}", "{retry_delay: 10m}", ("tasks", "a", "retry_delay")),
    ],
)
def test_max_delay_shorter_than_delay(defaults, task, path):
    text = f"""
    name: p
    defaults: {defaults}
    tasks:
      a: {task}
    """
    d = only(run_pass(retry_settings_are_consistent, text))
    assert (d.code, d.severity, d.path) == ("E209", Severity.ERROR, path)
    assert d.message.startswith("retry_max_delay is shorter than retry_delay")
    assert d.help == "retry_max_delay caps the growing delay; make it at least retry_delay"


def test_task_overriding_both_keys_is_judged_on_its_own_values():
    text = """
    name: p
    defaults: {retries: 1, retry_delay: 10m}
    tasks:
      a: {retry_delay: 1m, retry_max_delay: 5m}
    """
    assert not run_pass(retry_settings_are_consistent, text).items


@pytest.mark.parametrize("key, value", [("retry_delay", "1m"), ("retry_backoff", "2.0"), ("retry_max_delay", "1h")])
def test_retry_settings_without_retries(key, value):
    text = f"""
    name: p
    tasks:
      a:
        command: echo
        {key}: {value}
    """
    d = only(run_pass(retry_settings_are_consistent, text))
    assert (d.code, d.severity, d.path) == ("W209", Severity.WARNING, ("tasks", "a", key))
    assert d.message == f"task 'a' sets `{key}` but has no retries"
    assert d.help == "add `retries: N`"
    assert (d.loc.line, d.loc.col) == (line_of(text, key), 5)


def test_retries_from_defaults_count():
    text = """
    name: p
    defaults: {retries: 3}
    tasks:
      a: {command: echo, retry_delay: 1m}
      b: {command: echo, retry_delay: 1m, retries: 0}
    """
    d = only(run_pass(retry_settings_are_consistent, text))
    assert d.path == ("tasks", "b", "retry_delay")


# ----------------------------------------------------------------------------- schedule


def test_catchup_without_start_date():
    text = """
    name: p
    schedule: {cron: "@daily", catchup: true}
    tasks:
      a: {command: echo}
    """
    d = only(run_pass(schedule_is_complete, text))
    assert (d.code, d.severity, d.path) == ("E210", Severity.ERROR, ("schedule", "catchup"))
    assert d.message == "catchup needs a start_date to catch up from"
    assert "start_date" in d.help
    assert d.loc.line == line_of(text, "catchup")


@pytest.mark.parametrize("schedule", ['"@daily"', "{cron: '@daily'}", "{cron: '@daily', catchup: false}"])
def test_schedule_without_catchup_is_fine(schedule):
    text = f"name: p\nschedule: {schedule}\ntasks: {{a: {{command: echo}}}}\n"
    assert not run_pass(schedule_is_complete, text).items


# ----------------------------------------------------------------------------- alerts


@pytest.mark.parametrize(
    "where, alerts, path",
    [
        ("top", "[{on: failure}]", ("alerts", 0)),
        ("top", "[{command: ok}, {command: echo, python: m:f}]", ("alerts", 1)),
        ("defaults", "[{on: retry}]", ("defaults", "alerts", 0)),
        ("task", "[{on: success}]", ("tasks", "a", "alerts", 0)),
    ],
)
def test_alert_runs_exactly_one_thing(where, alerts, path):
    top = f"alerts: {alerts}" if where == "top" else ""
    defaults = f"defaults: {{alerts: {alerts}}}" if where == "defaults" else ""
    task = f", alerts: {alerts}" if where == "task" else ""
    text = f"name: p\n{top}\n{defaults}\ntasks:\n  a: {{command: echo{task}}}\n"
    d = only(run_pass(alerts_are_runnable, text))
    assert (d.code, d.severity, d.path) == ("E208", Severity.ERROR, path)
    assert d.message == "an alert runs exactly one of `command` or `python`"
    assert "command:" in d.help


def test_alert_args_need_python():
    text = """
    name: p
    alerts: [{command: echo, args: {a: 1}}]
    tasks:
      a: {command: echo}
    """
    d = only(run_pass(alerts_are_runnable, text))
    assert (d.code, d.severity, d.path) == ("E208", Severity.ERROR, ("alerts", 0, "args"))
    assert d.message == "alert `args` need `python`"


def test_alert_with_nothing_and_args_reports_both():
    text = "name: p\nalerts: [{args: {a: 1}}]\ntasks: {a: {command: echo}}\n"
    assert codes(run_pass(alerts_are_runnable, text)) == ["E208", "E208"]
