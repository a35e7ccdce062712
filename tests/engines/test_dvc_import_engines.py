"""The DVC importer against the real engines, on the real-world corpus (../shared/corpus/dvc/files).

- The real DVC 3 (engine venv) loads every corpus file as `dvc dag` does
  (tests/importers/fixtures/dvc/dvc_graph.py): a file DVC parses must import without error, and a
  file DVC refuses must be graded manual with a reason.
- Every imported pipeline, converted to Airflow, must import in the real Airflow 3 with no import
  error, and its DAG must have the task graph `dvc dag` draws for the original.
- dagshift's own DVC output of every example: the graph real DVC builds is the imported one.

Needs ../shared (next to the repository): the tests fail, saying so, when it is absent.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from engine_harness import inspected_graphs

from compiler.api import check_text
from compiler.compile import compile_loaded
from compiler.importers import import_file, pipeline_yaml
from compiler.importers.dvc import NO_STAGES, stage_id

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "dvc" / "files"
DVC_GRAPH = ROOT / "tests" / "importers" / "fixtures" / "dvc" / "dvc_graph.py"

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def corpus() -> list[Path]:
    files = sorted(CORPUS.glob("*")) if CORPUS.is_dir() else []
    if not files:
        pytest.fail(f"the DVC corpus is missing: expected real dvc.yaml files in {CORPUS} (../shared next to the "
                    "repository)", pytrace=False)
    return files


def dvc_graphs(dvc_python: Path, files: list[Path]) -> dict[str, dict]:
    """What the real DVC makes of each file: ok / error, stages, edges (upstream, downstream)."""
    process = subprocess.run([str(dvc_python), str(DVC_GRAPH), *map(str, files)], capture_output=True, text=True,
                             timeout=600, check=False)
    assert process.returncode == 0, process.stderr[-4000:]
    return json.loads(process.stdout)


@pytest.fixture(scope="module")
def truth(dvc_python: Path, corpus: list[Path]) -> dict[str, dict]:
    return dvc_graphs(dvc_python, corpus)


@pytest.fixture(scope="module")
def imported(corpus: list[Path]) -> dict[str, object]:
    return {str(path): import_file(path, "dvc")[0] for path in corpus}


def imported_edges(data: dict) -> set[tuple[str, str]]:
    tasks = data["tasks"]
    producer = {a: t for t, task in tasks.items() for a in task.get("produces", [])}
    edges = {(u, t) for t, task in tasks.items() for u in task.get("after", [])}
    edges |= {(producer[a], t) for t, task in tasks.items() for a in task.get("consumes", []) if a in producer}
    # an upstream value read through ${{ tasks.ID.outputs.NAME }} is an edge too
    edges |= {(upstream, t) for t, task in tasks.items()
              for upstream in re.findall(r"tasks\.([A-Za-z][A-Za-z0-9_-]*)\.outputs\.", json.dumps(task))}
    return edges


def expected_graph(graph: dict) -> tuple[set[str], set[tuple[str, str]]]:
    """DVC's stages and edges under the task ids the importer gives them."""
    stages = {stage_id(name) for name in graph["stages"]} or {NO_STAGES}
    return stages, {(stage_id(a), stage_id(b)) for a, b in graph["edges"]}


def test_files_dvc_parses_import_and_the_rest_are_manual_with_a_reason(truth, imported) -> None:
    wrong = []
    for file, graph in truth.items():
        result = imported[file]
        if graph["ok"] and result.data is None:
            wrong.append(f"{file}: DVC parses it, the import failed: {[str(d) for d in result.diagnostics.errors]}")
        if not graph["ok"] and (result.grade.value != "manual" or not result.diagnostics.errors):
            wrong.append(f"{file}: DVC refuses it ({graph['error'][:200]}), graded {result.grade.value}")
    assert not wrong, "\n".join(w[:1500] for w in wrong)
    assert sum(g["ok"] for g in truth.values()) >= 40  # the corpus is mostly valid: a broken DVC would show


def test_imported_graphs_are_dvc_dag(truth, imported) -> None:
    wrong = []
    for file, graph in truth.items():
        if not graph["ok"]:
            continue
        data = imported[file].data
        stages, edges = expected_graph(graph)
        if set(data["tasks"]) != stages or imported_edges(data) != edges:
            wrong.append(f"{file}: tasks {sorted(data['tasks'])} edges {sorted(imported_edges(data))}\n"
                         f"  dvc dag: {sorted(stages)} {sorted(edges)}")
    assert not wrong, "\n".join(w[:1500] for w in wrong)


def test_conversions_to_airflow_import_with_the_dvc_graph(truth, imported, airflow_engine, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    expected: dict[str, tuple[set[str], set[tuple[str, str]]]] = {}
    for file, graph in truth.items():
        result = imported[file]
        if not graph["ok"]:
            continue
        loaded = check_text(pipeline_yaml(result), f"{file} (imported)")
        compiled = compile_loaded(loaded, ["airflow"], unsupported="error", per_target_dirs=False)
        assert not compiled.diagnostics.has_errors, (file, [str(d) for d in compiled.diagnostics])
        for relative, text in compiled.files.items():
            target = dags / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        expected[result.name] = expected_graph(graph)
    wrong = inspected_graphs(airflow_engine.inspect(dags), expected, "dvc dag")
    assert not wrong, "\n".join(w[:1500] for w in wrong)


def test_dagshift_output_graph_in_real_dvc_is_the_imported_one(cli, dvc_python: Path, tmp_path: Path) -> None:
    entries = []
    for example in sorted(p.stem for p in (ROOT / "examples").glob("*.yaml")):
        out = tmp_path / example
        result = cli("compile", f"examples/{example}.yaml", "-t", "dvc", "-o", str(out), "-q", "--unsupported", "warn")
        if result.exit_code == 0:
            entries.append(out / "dvc.yaml")
    assert len(entries) >= 3
    graphs = dvc_graphs(dvc_python, entries)
    for entry in entries:
        graph = graphs[str(entry)]
        assert graph["ok"], graph["error"]
        (result,) = import_file(entry, "dvc")
        assert result.data is not None, [str(d) for d in result.diagnostics]
        assert set(result.data["tasks"]) == set(graph["stages"])
        assert imported_edges(result.data) == {tuple(edge) for edge in graph["edges"]}, entry
