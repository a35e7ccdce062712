"""The Prefect importer (compiler/importers/prefect.py): dagshift's own Prefect output read back,
and hand-written flows (tests/importers/fixtures/prefect/) with their losses.

tests/importers/test_round_trip.py compares the whole pipeline as the flow carries it
(PrefectImporter.carried); here the task graph is compared edge by edge, and the param types
and triggers that `not_carried` leaves out are checked on their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_round_trip import EXAMPLES, expected_pipeline

from compiler.api import check_text
from compiler.graph import build_graph
from compiler.importers import import_file, pipeline_yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "prefect"
def edges(pipeline) -> set[tuple[str, str]]:
    return set(build_graph(pipeline).edges)


def triggers(pipeline) -> list[tuple[str, str | None]]:
    found = []
    for trigger in pipeline.triggers:
        if trigger.type.value == "manual":
            continue  # a deployment without schedules: nothing to read back
        path = trigger.uri or (pipeline.artifacts[trigger.artifact].path if trigger.artifact else None)
        found.append((trigger.type.value, path))
    return found


def imported(path: Path, source_format: str | None = "prefect"):
    (result,) = import_file(path, source_format)
    return result


def loaded(result):
    back = check_text(pipeline_yaml(result), result.file)
    assert not back.diagnostics.has_errors, [str(d) for d in back.diagnostics]
    return back.pipeline


@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("example", EXAMPLES)
def test_prefect_output_imports_back_with_its_graph_types_and_triggers(cli, tmp_path: Path, example: str, level: int) -> None:
    expected = expected_pipeline(example, "prefect", level)
    out = tmp_path / "out"
    result = cli("compile", f"examples/{example}.yaml", "-t", "prefect", "-o", str(out), "-q", "--unsupported", "warn",
                 f"-O{level}")
    if result.exit_code != 0:
        assert result.exit_code == 1 and "error[E30" in result.stdout, result.stdout
        return
    back_result = imported(out / f"{expected.name}.py")
    assert back_result.data is not None, [str(d) for d in back_result.diagnostics]
    assert not back_result.diagnostics.warnings, [str(d) for d in back_result.diagnostics]
    back = loaded(back_result)
    assert edges(back) == edges(expected)
    assert {n: p.value_type for n, p in back.params.items()} == {n: p.value_type for n, p in expected.params.items()}
    assert triggers(back) == triggers(expected)


def test_hand_written_flow_imports_with_losses_at_their_lines() -> None:
    result = imported(FIXTURES / "etl_flow.py")
    assert result.data is not None, [str(d) for d in result.diagnostics]
    pipeline = loaded(result)
    assert pipeline.name == "etl" and pipeline.description == "Extract, transform, load."
    assert list(pipeline.params) == ["source", "scale", "regions"]
    extract, transform, load = (pipeline.tasks[t] for t in ("extract", "transform", "load"))
    assert extract.python == "etl_flow:extract" and extract.args == {"source": "${{ params.source }}"}
    assert (extract.retries, extract.retry_delay, extract.retry_backoff, extract.timeout, extract.pool) == \
        (2, 10, 2.0, 60, "db")
    assert extract.outputs["result"].type.value == "list"
    assert transform.args == {"rows": "${{ tasks.extract.outputs.result }}", "scale": "${{ params.scale }}"}
    assert transform.cache.expire == 3600
    assert load.foreach == "${{ tasks.transform.outputs.result }}" and load.args == {"record": "${{ item }}"}
    assert load.when == "params.scale > 1"
    losses = {(d.loc.line, d.code) for d in result.diagnostics.warnings}
    assert (21, "W601") in losses  # flow retries
    assert (25, "W601") in losses  # print() in the flow body
    assert not result.diagnostics.has_errors
