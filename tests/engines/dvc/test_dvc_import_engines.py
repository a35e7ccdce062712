"""The DVC importer against the real engines, on the real-world corpus (../shared/corpus/dvc/files).

- The real DVC 3 (engine venv) loads every corpus file as `dvc dag` does
  (tests/importers/fixtures/dvc/dvc_graph.py): a file DVC parses must import without error, and a
  file DVC refuses must be graded manual with a reason.
- Every imported pipeline, converted to Airflow, must import in the real Airflow 3 with no import
  error, and its DAG must have the task graph `dvc dag` draws for the original.
- dagshift's own DVC output of every example: the graph real DVC builds is the imported one.

The tests on the real-world files need the external corpus (marked `corpus`: skipped without it,
except on CI; tests/external_corpus.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import external_corpus
import pytest
from engine_harness import inspected_graphs

from compiler.api import check_text
from compiler.compile import compile_loaded
from compiler.importers import import_file, pipeline_yaml
from compiler.importers.dvc.importer import NO_STAGES, stage_id

ROOT = Path(__file__).resolve().parents[3]
DVC_GRAPH = ROOT / "tests" / "importers" / "fixtures" / "dvc" / "dvc_graph.py"

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def corpus() -> list[Path]:
    files = sorted(external_corpus.path("dvc", "files").glob("*"))
    assert files, "the external corpus's dvc/files is empty"
    return files


def dvc_graphs(dvc_python: Path, files: list[Path]) -> dict[str, dict]:
    """What the real DVC makes of each file: ok / error, stages, edges (upstream, downstream)."""
    process = subprocess.run([str(dvc_python), str(DVC_GRAPH), *map(str, files)], capture_output=True, text=True,
                             timeout=600, check=False)
    assert process.returncode == 0, process.stderr[-4000:]
    return json.loads(process.stdout)


@pytest.fixture(scope="module")
def truth(dvc_python: Path, corpus: list[Path], imported: dict, tmp_path_factory) -> dict[str, dict]:
    """What DVC makes of each file. A file DVC refuses alone that the import reads with required
    params (a lone dvc.yaml whose params.yaml was not copied with it) is given to DVC with a
    params.yaml holding a value for each: what DVC makes of that, with `lone_error` (why DVC
    refused it alone) and `given` (the values)."""
    graphs = dvc_graphs(dvc_python, corpus)
    folder = tmp_path_factory.mktemp("given")
    copies: dict[str, tuple[Path, dict]] = {}
    for file, graph in graphs.items():
        data = imported[file].data
        if not graph["ok"] and data is not None and required_params(data):
            values = {expression: f"value-of-{name}" for name, expression in required_params(data).items()}
            copies[file] = (with_params_given(Path(file), values, folder / Path(file).stem), values)
    given = dvc_graphs(dvc_python, [copy for copy, _ in copies.values()]) if copies else {}
    for file, (copy, values) in copies.items():
        graphs[file] = {**given[str(copy)], "lone_error": graphs[file]["error"], "given": values}
    return graphs


@pytest.fixture(scope="module")
def imported(corpus: list[Path]) -> dict[str, object]:
    return {str(path): import_file(path, "dvc")[0] for path in corpus}


def required_params(data: dict) -> dict[str, str]:
    """The params the import found no value for: name -> the DVC `${}` it stands for (its description)."""
    found = {}
    for name, spec in (data.get("params") or {}).items():
        if isinstance(spec, dict) and "default" not in spec:
            match = re.match(r"\$\{(.+?)\} in DVC, from params\.yaml next to dvc\.yaml", spec.get("description", ""))
            assert match, f"required param {name} does not say it stands for a value of params.yaml: {spec}"
            found[name] = match.group(1)
    return found


def with_params_given(file: Path, values: dict[str, str], folder: Path) -> Path:
    """FILE as `dvc.yaml` in FOLDER with the params.yaml its repository would have: each DVC
    expression (`train.lr`, nested keys dotted) given its value."""
    params: dict = {}
    for expression, value in values.items():
        *parents, last = expression.split(".")
        node = params
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    folder.mkdir(parents=True)
    shutil.copy(file, folder / "dvc.yaml")
    (folder / "params.yaml").write_text(json.dumps(params, indent=1))  # JSON is YAML
    return folder / "dvc.yaml"


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


@pytest.mark.corpus
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


@pytest.mark.corpus
def test_lone_files_dvc_refuses_for_want_of_values_import_with_one_required_param_each(truth, imported) -> None:
    """DVC refuses these alone only because a `${}` has no value (checked above: given params.yaml,
    DVC parses them); the import asks for each value once, as a W601."""
    given = {file: graph for file, graph in truth.items() if "lone_error" in graph}
    assert given, "no corpus file is read with required params any more"
    wrong = []
    for file, graph in given.items():
        result = imported[file]
        asked = sorted(re.search(r"required param '([^']+)'", d.message)[1]
                       for d in result.diagnostics.warnings if d.code == "W601" and "required param" in d.message)
        if "Could not find" not in graph["lone_error"] or asked != sorted(required_params(result.data)):
            wrong.append(f"{file}: DVC alone: {graph['lone_error'][:300]}; W601 for {asked}; "
                         f"params {sorted(required_params(result.data))}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.corpus
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


@pytest.mark.corpus
def test_conversions_to_airflow_import_with_the_dvc_graph(truth, imported, airflow_engine, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    expected: dict[str, tuple[set[str], set[tuple[str, str]]]] = {}
    for file, graph in truth.items():
        result = imported[file]
        if not graph["ok"]:
            continue
        loaded = check_text(pipeline_yaml(result), f"{file} (imported)")
        compiled = compile_loaded(loaded, ["airflow"], strict=["airflow"], per_target_dirs=False)
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
        result = cli("compile", f"examples/{example}.yaml", "-t", "dvc", "-o", str(out), "-q")
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


LONE_DVC_YAML = textwrap.dedent("""\
    stages:
      greet:
        cmd: echo ${greeting.text} ${count} > greeting.txt
        outs: [greeting.txt]
      shout:
        foreach: [a, b]
        do:
          cmd:
            - mkdir -p shout
            - cp greeting.txt shout/${item}.txt && echo ${item} ${greeting.text} >> shout/${item}.txt
          deps: [greeting.txt]
          outs: ["shout/${item}.txt"]
    """)
LONE_OUTPUTS = ["greeting.txt", "shout/a.txt", "shout/b.txt"]


def test_a_lone_dvc_yaml_given_its_params_runs_in_real_dvc_as_the_original(cli, dvc_engine, tmp_path: Path) -> None:
    """A dvc.yaml copied without its params.yaml imports with required params; with the values the
    W601s ask for, it compiles back to DVC and `dvc repro` writes what the original writes next to
    a params.yaml holding those values."""
    (tmp_path / "lone").mkdir()
    (tmp_path / "lone" / "dvc.yaml").write_text(LONE_DVC_YAML)
    (result,) = import_file(tmp_path / "lone" / "dvc.yaml", "dvc")
    assert result.data is not None, [str(d) for d in result.diagnostics]
    assert required_params(result.data) == {"greeting_text": "greeting.text", "count": "count"}
    values = {"greeting_text": "hello", "count": 3}
    for name, value in values.items():
        result.data["params"][name]["default"] = value
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(pipeline_yaml(result))
    compiled = cli("compile", str(pipeline), "-t", "dvc", "-o", str(tmp_path / "compiled"), "-q")
    assert compiled.exit_code == 0, compiled.stdout + compiled.stderr

    imported_run = dvc_engine.repo(tmp_path / "compiled", examples=False)
    imported_run.repro()
    original = dvc_engine.repo(examples=False, files={"dvc.yaml": LONE_DVC_YAML,
                                                      "params.yaml": "greeting: {text: hello}\ncount: 3\n"})
    original.repro()
    assert (imported_run.path / "greeting.txt").read_text() == "hello 3\n"
    for output in LONE_OUTPUTS:
        assert (imported_run.path / output).read_bytes() == (original.path / output).read_bytes(), output
