"""The Prefect importer (compiler/importers/prefect/): dagshift's own Prefect output read back,
and hand-written flows (tests/importers/fixtures/prefect/) with their losses.

tests/importers/test_round_trip.py compares the whole pipeline as the flow carries it
(PrefectImporter.carried); here the task graph is compared as the order it gives (a flow that
calls tasks one after the other holds the order, not each edge of it) with the exact upstream
tasks of every task whose trigger rule looks at them, and the param types and triggers that
`not_carried` leaves out are checked on their own.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from test_round_trip import EXAMPLES, expected_pipeline

from compiler.api import check_text
from compiler.importers import import_file, pipeline_yaml
from compiler.language.graph import build_graph

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prefect"


def edges(pipeline) -> set[tuple[str, str]]:
    return set(build_graph(pipeline).edges)


def order(pipeline) -> set[tuple[str, ...]]:
    """Which task runs before which (the graph's transitive closure), and the direct upstream
    tasks of each task with a trigger rule that reads their states."""
    graph = build_graph(pipeline)
    order = set(nx.transitive_closure_dag(graph).edges)
    ruled = {(u, t) for t, task in pipeline.tasks.items() if task.trigger_rule.value not in ("all_success", "none_failed")
             for u in graph.predecessors(t)}
    return order | {("rule", u, t) for u, t in ruled}



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
    result = cli("compile", f"examples/{example}.yaml", "-t", "prefect", "-o", str(out), "-q",
                 f"-O{level}")
    if result.exit_code != 0:
        assert result.exit_code == 1 and "error[E30" in result.stdout, result.stdout
        return
    back_result = imported(out / f"{expected.name}.py")
    assert back_result.data is not None, [str(d) for d in back_result.diagnostics]
    assert not back_result.diagnostics.warnings, [str(d) for d in back_result.diagnostics]
    back = loaded(back_result)
    assert order(back) == order(expected)
    assert {n: p.value_type for n, p in back.params.items()} == {n: p.value_type for n, p in expected.params.items()}
    assert triggers(back) == triggers(expected)


GENERAL = """\
name: general
params: {threshold: 0.5, items: [a, b]}
tasks:
  measure:
    command: echo 0.7 > ${{ outputs.score }}
    outputs: {score: float}
  left:
    command: echo left
    when: tasks.measure.outputs.score >= params.threshold
  right:
    python: tools.report:main
    args: {value: "${{ tasks.measure.outputs.score }}", label: "right {x}"}
    when: tasks.measure.outputs.score >= params.threshold
  other:
    command: echo other
    else_of: left
  join:
    command: echo join ${{ tasks.measure.outputs.score }}
    after: [left, right, other]
    trigger_rule: none_failed
  each:
    foreach: ${{ params.items }}
    command: echo ${{ item }}
    after: [join]
  cleanup:
    command: echo cleanup
    after: [each, left]
    trigger_rule: all_done
"""


def test_the_general_form_imports_back(cli, tmp_path: Path) -> None:
    """A pipeline the structured flow body cannot hold (a fallback after conditional tasks that run
    side by side) is written in the general form, and read back as exactly."""
    from compiler.importers import get

    source = tmp_path / "general.yaml"
    source.write_text(GENERAL)
    result = cli("compile", str(source), "-t", "prefect", "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stdout
    module = tmp_path / "out" / "general.py"
    assert "runs = {}" in module.read_text()
    back_result = imported(module)
    assert not back_result.diagnostics.warnings, [str(d) for d in back_result.diagnostics]
    importer = get("prefect")
    expected = check_text(GENERAL, "general.yaml").pipeline
    assert importer.carried(loaded(back_result)) == importer.carried(expected)


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


def losses(result) -> set[tuple[str, int, str]]:
    return {(Path(d.loc.file).name, d.loc.line, d.code) for d in result.diagnostics if d.loc}


def test_flow_features_import_with_their_settings_edges_and_conditions() -> None:
    result = imported(FIXTURES / "features_flow.py")
    pipeline = loaded(result)
    tasks = pipeline.tasks
    assert list(tasks) == ["fetch", "double", "scale", "report", "report_2", "report_3", "report_4", "report_5",
                           "report_6"]
    fetch, double, scale = tasks["fetch"], tasks["double"], tasks["scale"]
    # retries with a list of delays (a doubling), timeout, the first tag as the pool
    assert (fetch.retries, fetch.retry_delay, fetch.retry_backoff, fetch.timeout, fetch.pool) == (3, 5, 2.0, 30, "db")
    assert double.cache.enabled and double.cache.expire == 600
    assert double.args == {"value": "${{ tasks.fetch.outputs.result }}"}
    # .map over the first argument, unmapped(3) passed whole
    assert scale.foreach == "${{ params.factors }}" and scale.args == {"value": "${{ item }}", "factor": 3}
    # allow_failure(doubled) in wait_for: all_done (exact: fetch, called directly, has succeeded by then)
    assert tasks["report"].trigger_rule.value == "all_done"
    assert tasks["report_2"].args == {"label": "quoted", "data": [1, 2]}
    assert tasks["report_3"].args["data"] == "${{ tasks.double.outputs.result }}"
    assert tasks["report_4"].when == "params.verbose"
    assert tasks["report_5"].when == "tasks.fetch.outputs.result > 2"
    assert tasks["report_6"].when == "not tasks.fetch.outputs.result > 2"
    # fetch is called directly: the flow waits for it, so every later task runs after it
    assert edges(pipeline) == {("fetch", t) for t in tasks if t != "fetch"} | {("double", "report"),
                                                                                ("double", "report_3")}
    assert losses(result) == {("features_flow.py", 9, "W601"),   # tags after the first
                              ("features_flow.py", 14, "W602"),  # cache_key_fn
                              ("features_flow.py", 36, "W602")}  # quote(future): the task gets the future


def test_loops_and_subflows_are_manual_with_the_reason() -> None:
    results = {r.origin: r for r in import_file(FIXTURES / "loops_flow.py", "prefect")}
    assert loaded(results["flow child"]).tasks["step"].args == {"value": "${{ params.value }}"}
    looping, parent = results["flow looping"], results["flow parent"]
    assert looping.data is None and parent.data is None
    assert [(d.loc.line, d.code) for d in looping.diagnostics.errors] == [(16, "E602")]
    assert "loop calls tasks" in looping.diagnostics.errors[0].message
    assert [(d.loc.line, d.code) for d in parent.diagnostics.errors] == [(23, "E602")]
    assert "subflow" in parent.diagnostics.errors[0].message


def test_deployments_give_schedule_tags_and_parameter_defaults() -> None:
    results = {r.origin: r for r in import_file(FIXTURES / "deployed" / "flows.py", "prefect")}
    nightly = loaded(results["flow nightly"])
    assert (nightly.schedule.cron, nightly.schedule.timezone) == ("0 2 * * *", "Europe/Berlin")
    assert nightly.tags == ["etl"] and nightly.params["days"].default == 7
    assert losses(results["flow nightly"]) == {("prefect.yaml", 7, "W602"),   # days: 7 as the default
                                               ("prefect.yaml", 13, "W601")}  # job_variables
    for name, line in (("hourly", 18), ("calendar", 24)):  # interval and rrule schedules
        assert loaded(results[f"flow {name}"]).schedule is None
        assert losses(results[f"flow {name}"]) == {("prefect.yaml", line, "W601")}


def test_invalid_module_is_reported_at_the_line_of_the_error(tmp_path: Path) -> None:
    """The module is parsed a group of statements at a time (compiler/importers/prefect/module.py):
    a syntax error is still reported where ast.parse reports it."""
    lines = ["from prefect import flow, task", ""] + [f"X{i} = {i}" for i in range(3000)] + ["def broken(:", "    pass"]
    path = tmp_path / "broken.py"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = imported(path)
    assert result.data is None and [(d.loc.line, d.code) for d in result.diagnostics.errors] == [(3003, "E601")]


# ----------------------------------------------------------------------------- files whose parts do not agree


def errors(result) -> list[tuple[str, int, str]]:
    return [(d.code, d.loc.line, d.message) for d in result.diagnostics.errors]


def test_what_no_pipeline_holds_is_an_error_at_the_line_it_is_read_from(tmp_path: Path) -> None:
    """A retries beyond the limit, two task names that are one Python name: reported where the
    task is called, not as an importer bug (E603)."""
    path = tmp_path / "disagree.py"
    path.write_text("""\
from prefect import flow, task


@task(retries=1000)
def fetch():
    pass


@task(name="load-rows")
def load_a():
    pass


@task(name="load_rows")
def load_b():
    pass


@flow
def disagree():
    fetch()
    load_a()
    load_b()
""", encoding="utf-8")
    result = imported(path)
    invalid = "the pipeline read from the file is not valid: "
    assert result.data is None and errors(result) == [
        ("E602", 21, invalid + "E013 tasks.fetch.retries must be at most 100, not 1000"),
        ("E602", 23, invalid + "E111 task ids 'load-rows' and 'load_rows' both become 'load_rows' as a Python "
                               "identifier"),
    ]


def test_literals_are_read_as_pipeline_data(tmp_path: Path) -> None:
    """Tuples inside a default are lists; a Literal choice no pipeline holds (bytes) is a loss."""
    path = tmp_path / "literals.py"
    path.write_text("""\
from typing import Literal

from prefect import flow, task


@task
def step(pairs):
    pass


@flow
def literals(mode: Literal["fast", b"slow"] = "fast", pairs: list = [(1, 2), (3, 4)]):
    step(pairs)
""", encoding="utf-8")
    result = imported(path)
    assert loaded(result).params["pairs"].default == [[1, 2], [3, 4]]
    assert result.data["params"]["mode"] == {"default": "fast"}
    assert [(d.code, d.loc.line, d.message) for d in result.diagnostics] == [
        ("W601", 12, ("parameter 'mode': a Literal choice is not a value a pipeline can hold: imported as str, "
                      "without choices"))]


def test_a_map_over_items_dagshift_cannot_read_is_an_error_at_the_items(tmp_path: Path) -> None:
    """dagshift's output, edited: a mapping key that is a tuple (no pipeline holds one)."""
    source = (ROOT / "golden/fan_out/prefect/fan_out.py").read_text(encoding="utf-8")
    source = source.replace('{"name": "lr_fast", "lr": 0.5}', '{("name",): "lr_fast", "lr": 0.5}')
    path = tmp_path / "fan_out.py"
    path.write_text(source, encoding="utf-8")
    items = source.splitlines().index("    tune_lr_futures = tune_lr.map(") + 2
    result = imported(path)
    assert result.data is None and [(code, line) for code, line, _ in errors(result)] == [("E602", items)]
    assert errors(result)[0][2].startswith("task tune_lr maps over \"[{'name': 'lr_slow', 'lr': 0.01}")
    assert errors(result)[0][2].endswith(", which is not a list, a param or an upstream result")
