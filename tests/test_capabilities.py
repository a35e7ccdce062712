"""The capability check's lowering: what a backend sees once the settings it lacks are left out."""

from __future__ import annotations

from compiler.backends import registry
from compiler.compile import fold_defaults
from compiler.diagnostics import Diagnostics
from compiler.language.source import Reporter
from compiler.passes.lower import check_capabilities
from tests.helpers import load

PIPELINE = """\
name: lowered
triggers:
  - {type: manual}
  - {type: data, uri: "s3://a/b"}
  - {type: data, uri: "s3://a/c"}
  - {type: data, uri: "s3://a/d"}
defaults: {retries: 2, pool: io}
tasks:
  a: {command: echo a, resources: {cpu: "1"}}
  b: {command: echo b, after: [a], retries: 0}
  c: {command: echo c, after: [b], cache: true}
"""


def _lowered(target: str):
    loaded = load(PIPELINE)
    assert loaded.pipeline is not None and not loaded.diagnostics.has_errors
    pipeline = fold_defaults(loaded.pipeline)
    report = Reporter(loaded.source, Diagnostics())
    return pipeline, check_capabilities(pipeline, registry.get(target), report, written=loaded.pipeline), report


def test_every_left_out_trigger_is_dropped_and_the_others_kept() -> None:
    """Three data triggers left out at indexes 1..3: each goes (dropping one no longer shifts the next)."""
    pipeline, lowered, report = _lowered("kubeflow")
    warned = [d for d in report.diagnostics if d.code == "W301" and "trigger" in d.message]
    assert len(warned) == 3
    assert [t.type.value for t in pipeline.triggers] == ["manual", "data", "data", "data"]
    assert [t.type.value for t in lowered.triggers] == ["manual"]


def test_left_out_task_settings_go_and_the_rest_stays_shared() -> None:
    pipeline, lowered, _ = _lowered("prefect")  # Prefect has no resources and no cache expiry per task
    assert pipeline.tasks["a"].resources is not None and lowered.tasks["a"].resources is None
    assert lowered.tasks["a"].retries == 2 and lowered.tasks["b"].retries == 0  # expressible: kept
    assert lowered.tasks["a"].pool == "io"
    assert lowered.tasks["b"] is pipeline.tasks["b"]  # untouched tasks are shared, not copied


def test_a_target_that_expresses_everything_sees_the_same_pipeline() -> None:
    pipeline, lowered, report = _lowered("argo")
    assert not [d for d in report.diagnostics if d.code == "W301" and "trigger" not in d.message]
    if not report.diagnostics.items:
        assert lowered is pipeline
