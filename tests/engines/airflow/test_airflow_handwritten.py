"""The hand-written Airflow DAGs of benchmarks/handwritten/airflow/ (the baseline the generated
files are measured against, benchmarks/size_bench.py) do what the generated ones do: each runs on
the real Airflow beside the DAG dagshift generates from the same example, and both leave the same
artifacts, byte for byte (test_conformance.py's comparison: every file a run creates, changes or
removes in its fresh copy of examples/)."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pytest
from engine_harness import EXAMPLES, ROOT, AirflowEngine, DagRun, compile_pipeline
from test_conformance import UNTOUCHED, describe_difference, produced, snapshot

pytestmark = [pytest.mark.engine, pytest.mark.slow]

HANDWRITTEN = ROOT / "benchmarks" / "handwritten" / "airflow"
EXAMPLE_NAMES = sorted(path.stem for path in HANDWRITTEN.glob("*.py"))
VERSIONS = ("generated", "handwritten")


@pytest.fixture(scope="module")
def runs(airflow_engine: AirflowEngine, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Future]:
    """(example, version) -> its dag.test(), all started at once in the background. Each DAG file
    is alone in its folder: both versions have the example's DAG id."""
    started = {}
    for example in EXAMPLE_NAMES:
        compiled = compile_pipeline(EXAMPLES / f"{example}.yaml", tmp_path_factory.mktemp(f"{example}-generated"))
        assert compiled.ok, compiled.output
        copy = tmp_path_factory.mktemp(f"{example}-handwritten") / f"{example}.py"
        copy.write_text((HANDWRITTEN / f"{example}.py").read_text(encoding="utf-8"), encoding="utf-8")
        for version, dag_file in zip(VERSIONS, (compiled.files[0], copy)):
            started[example, version] = airflow_engine.submit(dag_file, example)
    return started


def test_every_handwritten_file_has_an_example() -> None:
    assert EXAMPLE_NAMES, f"no hand-written DAG under {HANDWRITTEN}"
    assert all((EXAMPLES / f"{example}.yaml").is_file() for example in EXAMPLE_NAMES), EXAMPLE_NAMES


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_handwritten_dag_leaves_the_generated_dags_artifacts(airflow_engine: AirflowEngine, runs, example: str) -> None:
    before = snapshot(airflow_engine.workdir())  # what each run's fresh copy of examples/ starts with
    results: dict[str, DagRun] = {version: runs[example, version].result() for version in VERSIONS}
    for version, run in results.items():
        assert run.state == "success", f"{example} ({version}): {run.summary()}"
    artifacts = {version: produced(before, Path(str(run.workdir))) for version, run in results.items()}
    assert artifacts["generated"], f"{example}: the generated DAG left no artifact"
    paths = sorted(set(artifacts["generated"]) | set(artifacts["handwritten"]))
    differences = [describe_difference(path, {v: artifacts[v].get(path, UNTOUCHED) for v in VERSIONS}) for path in paths
                   if artifacts["generated"].get(path) != artifacts["handwritten"].get(path)]
    assert not differences, f"{example}: the hand-written DAG left other artifacts\n" + "\n".join(differences)
