"""compiler.passes.validate: every pass is registered and tested, all problems come at once, and a
rich valid pipeline (or any generated DAG) is silent."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.diagnostics import Diagnostics, Severity
from compiler.passes import _validation_passes, validate
from tests.helpers import check, check_data, codes, dag_edges, load, pipeline_data, run_pass

# One small file per pass that only that pass objects to (the code it must report).
PASS_CASES = {
    "ids_are_portable": ("E110", "name: p\ntasks: {'bad id': {command: echo}}\n"),
    "names_are_identifiers": ("E112", "name: p\nparams: {learning-rate: 1}\ntasks: {a: {command: echo}}\n"),
    "env_names_are_names": ("E113", "name: p\ntasks: {a: {command: echo, env: {1X: y}}}\n"),
    "secrets_are_portable": ("E115", "name: p\ntasks: {a: {command: echo, secrets: {X: {name: My_Creds, key: k}}}}\n"),
    "text_and_numbers_are_portable": ("E216", '{"name": "p", "tasks": {"a": {"command": "echo \\u0000"}}}\n'),
    "paths_name_files": ("E218", "name: p\nartifacts: {x: /}\ntasks: {a: {produces: [x]}}\n"),
    "task_kind_is_clear": ("E204", "name: p\ntasks: {a: {command: echo, python: 'm:f'}}\n"),
    "fan_out_settings": ("E212", "name: p\ntasks: {a: {command: echo, max_parallel: 2}}\n"),
    "after_names_known_tasks": ("E100", "name: p\ntasks: {a: {after: [b]}}\n"),
    "artifacts_have_one_producer": (
        "E104",
        "name: p\nartifacts: {x: x.csv}\ntasks: {a: {produces: [x]}, b: {produces: [x]}, c: {consumes: [x]}}\n",
    ),
    "placeholders_resolve": ("E105", "name: p\ntasks: {a: {command: 'echo ${{ foo }}'}}\n"),
    "else_branches_pair_up": ("E108", "name: p\ntasks: {a: {command: echo}, b: {else_of: a}}\n"),
    "triggers_are_complete": ("E109", "name: p\ntriggers: [{type: data}]\ntasks: {a: {command: echo}}\n"),
    "no_cycles": ("E101", "name: p\ntasks: {a: {after: [b]}, b: {after: [a]}}\n"),
    "param_defaults_match_types": (
        "E200", "name: p\nparams: {x: {type: int, default: x}}\ntasks: {a: {command: echo}}\n"),
    "foreach_is_a_list": ("E201", "name: p\nparams: {x: 1}\ntasks: {a: {foreach: '${{ params.x }}', command: echo}}\n"),
    "conditions_are_well_typed": ("E203", "name: p\nparams: {x: 1}\ntasks: {a: {command: echo, when: params.x}}\n"),
    "no_literal_secrets": ("E206", "name: p\ntasks: {a: {command: echo, env: {API_TOKEN: abc}}}\n"),
    "retry_settings_are_consistent": ("W209", "name: p\ntasks: {a: {command: echo, retry_delay: 1m}}\n"),
    "schedule_is_complete": (
        "E210", "name: p\nschedule: {cron: '@daily', catchup: true}\ntasks: {a: {command: echo}}\n"),
    "alerts_are_runnable": ("E208", "name: p\nalerts: [{on: failure}]\ntasks: {a: {command: echo}}\n"),
}


def test_every_pass_has_a_case():
    assert sorted(PASS_CASES) == sorted(p.__name__ for p in _validation_passes())


@pytest.mark.parametrize("check_fn", _validation_passes(), ids=lambda p: p.__name__)
def test_each_pass_reports_its_case_alone_and_through_validate(check_fn):
    code, text = PASS_CASES[check_fn.__name__]
    assert code in codes(run_pass(check_fn, text))
    assert codes(check(text)) == [code]  # and no other pass objects to the file


def test_passes_do_not_overlap_on_their_cases():
    for name, (code, text) in PASS_CASES.items():
        for other in _validation_passes():
            if other.__name__ != name:
                assert not run_pass(other, text).items, (name, other.__name__)


RICH_VALID = """
name: churn-training
description: Daily retraining
owner: ml-platform
tags: [ml, churn]
params:
  learning_rate: 0.01
  threshold: {type: float, default: 0.8, min: 0, max: 1}
  epochs: {type: int, default: 10, description: passes over the data, min: 1, max: 100}
  mode: {type: str, default: fast, enum: [fast, slow]}
  models: {type: list, default: [stump, centroid]}
schedule: {cron: "0 2 * * 1-5", timezone: Europe/Berlin, start_date: 2025-01-01, catchup: false}
triggers:
  - {type: data, artifact: batch}
  - {type: data, uri: "s3://bucket/incoming/", poll_interval: 5m}
max_active_tasks: 4
max_active_runs: 1
timeout: 2h
alerts:
  - {on: failure, command: "echo pipeline failed >> alerts.log"}
artifacts:
  raw: data/raw.csv
  clean: data/clean.csv
  model: {path: models/model.json, kind: model, description: the trained model}
  batch: {path: data/incoming/batch.csv, external: true}
defaults:
  retries: 3
  retry_delay: 5m
  retry_backoff: 2.0
  retry_max_delay: 1h
  timeout: 30m
  env: {LOG_LEVEL: info}
  secrets: {API_TOKEN: {name: acme-secrets, key: token}}
  resources: {cpu: 500m, memory: 1Gi}
  pool: default
  cache: false
  alerts: [{on: failure, command: "echo task failed"}]
tasks:
  ingest:
    command: python3 -m tinyml.ingest --in ${{ artifacts.batch }} --out ${{ artifacts.raw }}
    consumes: [batch]
    produces: [raw]
  clean:
    python: tinyml.clean:main
    args: {src: "${{ artifacts.raw }}", dst: "${{ artifacts.clean }}"}
    consumes: [raw]
    produces: [clean]
  train:
    image: ghcr.io/acme/train:1.4
    command: [python, train.py]
    args: ["--lr", "${{ params.learning_rate }}", "--epochs", "${{ params.epochs }}", "--out", "${{ artifacts.model }}"]
    consumes: [clean]
    produces: [model]
    retries: 5
    timeout: 2h
  evaluate:
    command: python3 -m tinyml.evaluate --model ${{ artifacts.model }} --accuracy-out ${{ outputs.accuracy }}
    consumes: [model]
    outputs:
      accuracy: float
  deploy:
    command: python3 -m tinyml.deploy
    when: tasks.evaluate.outputs.accuracy >= params.threshold and params.mode == 'fast'
  keep_previous:
    command: echo keeping the previous model
    else_of: deploy
  train_many:
    foreach: ${{ params.models }}
    max_parallel: 2
    command: python3 -m tinyml.train --model ${{ item }} --score-out ${{ outputs.score }}
    outputs: {score: float}
  pick_best:
    python: tinyml.select:best
    args: {scores: "${{ tasks.train_many.outputs.score }}"}
    outputs: {best: str}
  fallback:
    command: echo primary failed
    after: [deploy]
    trigger_rule: one_failed
  nothing:
    after: [fallback, pick_best]
"""


def test_rich_valid_pipeline_is_silent():
    found = check(RICH_VALID)
    assert not found.items, [d.message for d in found]


def test_all_problems_are_reported_at_once():
    text = """
    name: bad pipeline
    params:
      epochs: {type: int, default: ten}
    artifacts:
      raw: data/raw.csv
    schedule: {cron: "@daily", catchup: true}
    alerts: [{on: failure}]
    tasks:
      ingest:
        command: echo ${{ params.epoch }}
        python: m:f
        env: {DB_PASSWORD: hunter2}
      train:
        after: [ingset]
        consumes: [raw]
        max_parallel: 2
        when: params.epochs
      loop-a: {after: [loop_a]}
      loop_a: {after: [loop-a]}
    """
    found = check(text)
    assert codes(found) == sorted([
        "E110",  # pipeline name
        "E111",  # loop-a / loop_a
        "E204",  # command and python
        "E212",  # max_parallel without foreach
        "E100",  # unknown 'ingset'
        "E103",  # raw consumed, never produced
        "E106",  # unknown param 'epoch'
        "E101",  # cycle
        "E200",  # default 'ten' is not an int
        "E203",  # `params.epochs` is an int, not a condition
        "E206",  # literal password
        "E210",  # catchup without start_date
        "E208",  # alert runs nothing
    ])
    assert all(d.severity is Severity.ERROR for d in found)
    assert all(d.loc is not None and d.loc.line > 1 or d.path == ("name",) for d in found)


def test_validate_adds_to_a_given_collector():
    loaded = load("name: 'x y'\ntasks: {a: {command: echo}}\n")
    collector = Diagnostics()
    returned = validate(loaded.pipeline, loaded.source, collector)
    assert returned is collector and codes(collector) == ["E110"]
    assert codes(validate(loaded.pipeline, loaded.source)) == ["E110"]  # a fresh collector otherwise


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 30), st.floats(0, 0.4), st.integers(0, 10_000), st.sampled_from(["after", "artifact", "ref"]))
def test_generated_dags_are_valid_pipelines(n, p, seed, style):
    edges = dag_edges(nx.gnp_random_graph(n, p, seed=seed, directed=True))
    found = check_data(pipeline_data(range(n), edges, style))
    assert not found.items, [d.message for d in found]
