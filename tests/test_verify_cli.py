"""`dagshift verify` without an engine: which file runs how (forms.py), what a run changed
(workspace.py), what two runs left differently (differences.py, values.py), how the verdict is
shown, and the problems reported before any engine starts. The runs on the real engines are in
tests/engines/test_verify_engines.py."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.api import check_text
from compiler.cli.main import main
from compiler.run.differences import compare_files, compare_values
from compiler.run.events import RunResult, TaskResult, TaskState
from compiler.run.forms import resolve
from compiler.run.values import canonical, from_dvc_files, from_returns
from compiler.run.verify import Side, Verification
from compiler.run.verify_render import html_report, json_report, text_report
from compiler.run.workspace import changed, copy_workdir, snapshot

ROOT = Path(__file__).resolve().parent.parent
SEQUENTIAL = ROOT / "examples" / "sequential.yaml"
NO_ENGINE = sys.executable  # dagshift's own interpreter: no engine installed there

PIPELINE = """name: values
tasks:
  one:
    python: jobs:one
    outputs: {n: int}
  two:
    python: jobs:two
    outputs: {label: str, scores: list}
  many:
    python: jobs:many
    foreach: [a, b]
    outputs: {total: float}
  quiet:
    command: echo hi
"""


def invoke(*args: str):
    return CliRunner().invoke(main, ["verify", *args], catch_exceptions=False)


def pipeline():
    loaded = check_text(PIPELINE, "values.yaml")
    assert loaded.pipeline is not None, loaded.diagnostics.sorted()
    return loaded.pipeline


# ----------------------------------------------------------------------------- the command line


def test_a_dagshift_pipeline_needs_an_engine_named(tmp_path: Path) -> None:
    result = invoke(str(SEQUENTIAL), str(SEQUENTIAL), "--converted-target", "dvc", "--workdir", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert "error[E806]" in result.output and "--source-target" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_file_runs_on_its_own_engine_only(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    assert CliRunner().invoke(main, ["compile", str(SEQUENTIAL), "-t", "airflow", "-o", str(dags), "-q"]).exit_code == 0
    result = invoke(str(dags / "sequential.py"), str(SEQUENTIAL), "--source-target", "prefect",
                    "--converted-target", "dvc", "--workdir", str(tmp_path))
    assert result.exit_code == 1 and "error[E806]" in result.output
    assert "an Airflow DAG file: it runs on airflow, not prefect" in result.output


def test_an_argo_workflow_is_refused_with_the_way_forward(tmp_path: Path) -> None:
    out = tmp_path / "argo"
    assert CliRunner().invoke(main, ["compile", str(SEQUENTIAL), "-t", "argo", "-o", str(out), "-q"]).exit_code == 0
    workflow = next(out.glob("*.yaml"))
    result = invoke(str(workflow), str(SEQUENTIAL), "--converted-target", "dvc", "--workdir", str(tmp_path))
    assert result.exit_code == 1 and "error[E806]" in result.output and "dagshift convert" in result.output


def test_a_missing_engine_stops_before_anything_runs_and_leaves_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    before = set(Path(tempfile.gettempdir()).glob("dagshift-verify-*"))
    result = invoke(str(SEQUENTIAL), str(SEQUENTIAL), "--source-target", "airflow", "--converted-target", "prefect",
                    "--workdir", str(work), "--engine-python", NO_ENGINE, "-q")
    assert result.exit_code == 1, result.output
    assert "error[E801]" in result.output and "pip install 'dagshift[airflow]'" in result.output
    assert "Traceback" not in result.output and "not verified: a run could not start" in result.output
    assert list(work.iterdir()) == []
    assert set(Path(tempfile.gettempdir()).glob("dagshift-verify-*")) == before


@pytest.mark.parametrize("args, message", [
    (["--engine-python", "luigi=/usr/bin/python3"], "'luigi' is no engine"),
    (["-o", "report.txt"], "-o writes a json or html report"),
    (["--source-target", "argo"], "'argo' is not one of"),
])
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(str(SEQUENTIAL), str(SEQUENTIAL), *args)
    assert result.exit_code == 2 and message in result.output, result.output


# ----------------------------------------------------------------------------- which file runs how


def test_a_dvc_yaml_away_from_the_working_directory_brings_what_its_stages_read(tmp_path: Path) -> None:
    project = tmp_path / "project"
    assert CliRunner().invoke(main, ["compile", str(SEQUENTIAL), "-t", "dvc", "-o", str(project), "-q"]).exit_code == 0
    (project / ".dagshift" / "outputs").mkdir(parents=True)  # an earlier run's values: not part of the pipeline
    (project / ".dagshift" / "outputs" / "old").write_text("1")
    (project / ".dagshift" / "run.py").write_text("# a runner's stand-in\n")
    form = resolve("source", project / "dvc.yaml", None, tmp_path / "elsewhere")
    assert form.native and form.target == "dvc" and form.launch is not None, form.diagnostics.sorted()
    assert sorted(form.launch.files) == [".dagshift/run.py", "dvc.yaml", "params.yaml"]
    assert list(form.launch.prepared.pipeline.tasks) == ["ingest", "transform", "validate", "train", "evaluate",
                                                         "deploy"]
    at_top = resolve("source", project / "dvc.yaml", "dvc", project)
    assert at_top.launch is not None and at_top.launch.files == {}  # the copy of the working directory has them


def test_param_values_go_to_both_sides_as_each_pipeline_types_them(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    assert CliRunner().invoke(main, ["compile", str(SEQUENTIAL), "-t", "airflow", "-o", str(dags), "-q"]).exit_code == 0
    pairs = [("epochs", "5"), ("learning_rate", "0.5")]
    native = resolve("source", dags / "sequential.py", None, tmp_path, pairs)
    compiled = resolve("converted", SEQUENTIAL, "prefect", tmp_path, pairs)
    for form in (native, compiled):
        assert form.launch is not None, form.diagnostics.sorted()
        assert form.launch.params == {"epochs": 5, "learning_rate": 0.5}


def test_a_bad_param_or_one_a_dvc_yaml_cannot_take_stops_before_anything_runs(tmp_path: Path) -> None:
    result = invoke(str(SEQUENTIAL), str(SEQUENTIAL), "--source-target", "airflow", "--converted-target", "prefect",
                    "--param", "epoch=5", "--workdir", str(tmp_path), "-q")
    assert result.exit_code == 1 and "error[E802]" in result.output and "did you mean 'epochs'?" in result.output
    project = tmp_path / "project"
    assert CliRunner().invoke(main, ["compile", str(SEQUENTIAL), "-t", "dvc", "-o", str(project), "-q"]).exit_code == 0
    form = resolve("source", project / "dvc.yaml", None, project, [("epochs", "5")])
    assert form.launch is None and [d.code for d in form.diagnostics] == ["E806"]
    assert "params.yaml" in form.diagnostics.sorted()[0].message


def test_a_file_of_several_pipelines_is_refused(tmp_path: Path) -> None:
    dags = tmp_path / "two.py"
    dags.write_text("""from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("one", schedule=None):
    BashOperator(task_id="a", bash_command="true")

with DAG("two", schedule=None):
    BashOperator(task_id="b", bash_command="true")
""", encoding="utf-8")
    form = resolve("source", dags, None, tmp_path)
    assert form.launch is None and [d.code for d in form.diagnostics.sorted()] == ["E806"]
    assert "holds 2 pipelines: verify runs one" in form.diagnostics.sorted()[0].message


# ----------------------------------------------------------------------------- what a run changed


def test_the_copy_leaves_out_other_runs_state_and_changes_skip_bookkeeping(tmp_path: Path) -> None:
    work = tmp_path / "work"
    for relative in ["data/in.csv", ".git/HEAD", ".dvc/config", "dvc.lock", ".dagshift/runs/x/engine.log",
                     ".dagshift/run.py", "pkg/__pycache__/m.pyc"]:
        (work / relative).parent.mkdir(parents=True, exist_ok=True)
        (work / relative).write_text(relative)
    copy = tmp_path / "copy"
    copy_workdir(work, copy)
    copied = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert copied == [".dagshift/run.py", "data/in.csv"]
    before = snapshot(copy)
    (copy / "data" / "in.csv").write_text("changed")
    (copy / "data" / "out.csv").write_text("new")
    (copy / ".gitignore").write_text("/data/out.csv\n")
    (copy / ".dagshift" / "outputs").mkdir()
    (copy / ".dagshift" / "outputs" / "n").write_text("1")
    assert changed(before, snapshot(copy)) == {"data/in.csv", "data/out.csv"}
    (copy / "data" / "in.csv").unlink()
    assert "data/in.csv" in changed(before, snapshot(copy))


# ----------------------------------------------------------------------------- what differs


def test_files_differ_by_the_first_differing_line(tmp_path: Path) -> None:
    mine, theirs = tmp_path / "a", tmp_path / "b"
    for root, texts in ((mine, {"same.txt": "x\n", "line.csv": "h\n1\n2\n", "short.txt": "a\n", "only_a": "1"}),
                        (theirs, {"same.txt": "x\n", "line.csv": "h\n1\n3\n", "short.txt": "a\nb\n", "only_b": "1"})):
        root.mkdir()
        for name, text in texts.items():
            (root / name).write_text(text)
    found = {d.name: d for d in compare_files({"same.txt", "line.csv", "short.txt", "only_a", "only_b"}, mine, theirs)}
    assert sorted(found) == ["line.csv", "only_a", "only_b", "short.txt"]
    assert (found["line.csv"].line, found["line.csv"].source, found["line.csv"].converted) == (3, "2", "3")
    assert found["line.csv"].detail == "first differs at line 3"
    assert found["only_a"].detail == "only the source's run left it"
    assert found["only_b"].detail == "only the converted run left it"
    assert found["short.txt"].line == 2 and found["short.txt"].converted == "b"


def test_values_compare_by_their_canonical_text() -> None:
    assert canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    found = compare_values({"t.n": "1", "t.s": '"x"', "t.only": "2"}, {"t.n": "1", "t.s": '"y"'})
    assert [(d.name, d.detail, d.source, d.converted) for d in found] == [
        ("t.only", "only the source's run produced it", "2", None), ("t.s", "the values differ", '"x"', '"y"')]


def test_returned_values_are_split_into_the_declared_outputs() -> None:
    returned = [{"task": "one", "map_index": -1, "value": 3},
                {"task": "two", "instance": None, "value": {"label": "ok", "scores": [1, 2], "extra": 1}},
                {"task": "many", "map_index": 1, "value": 2.5}, {"task": "many", "instance": "0", "value": 1.5},
                {"task": "quiet", "value": None}, {"task": "unknown", "value": 1}]
    assert from_returns(pipeline(), returned) == {"many[0].total": "1.5", "many[1].total": "2.5", "one.n": "3",
                                                  "two.label": '"ok"', "two.scores": "[1,2]"}


def test_dvc_values_are_read_from_the_files_its_runner_wrote(tmp_path: Path) -> None:
    outputs = tmp_path / ".dagshift" / "outputs"
    for relative, text in {"one/n": "3", "two/label": "ok\n", "two/scores": "[1, 2]", "many/a/total": "1.5"}.items():
        (outputs / relative).parent.mkdir(parents=True, exist_ok=True)
        (outputs / relative).write_text(text)
    assert from_dvc_files(pipeline(), tmp_path) == {"many[a].total": "1.5", "one.n": "3", "two.label": '"ok"',
                                                    "two.scores": "[1,2]"}


# ----------------------------------------------------------------------------- the report


def _verification(tmp_path: Path, converted_value: str) -> Verification:
    from compiler.diagnostics import Diagnostics
    from compiler.run.forms import Form

    sides = []
    for role, target, value in (("source", "airflow", "1"), ("converted", "prefect", converted_value)):
        result = RunResult(target, True, [TaskResult("one", TaskState.SUCCEEDED, 1, 0.5)], values={"one.n": value})
        sides.append(Side(Form(role, tmp_path / f"{role}.py", target, True, None, Diagnostics()), tmp_path,
                          result))
    verification = Verification(sides, [], values_compared=1)
    verification.differences = compare_values(*(side.result.values for side in sides))
    return verification


def test_the_report_says_what_differs_in_text_json_and_html(tmp_path: Path) -> None:
    different = _verification(tmp_path, "<2>")
    text = text_report(different)
    assert "value one.n: the values differ\n  source:    1\n  converted: <2>\n" in text
    assert "DIFFERENT: 0 of 0 file(s) and 1 of 1 value output(s) differ" in text
    data = json.loads(json_report(different, []))
    assert data["schema"] == "dagshift.verify/1" and data["same"] is False
    assert data["differences"] == [{"kind": "value", "name": "one.n", "detail": "the values differ", "line": None,
                                    "source": "1", "converted": "<2>"}]
    page = html_report(different, [])
    assert "<code>one.n</code>" in page and "&lt;2&gt;" in page and "<2>" not in page
    same = _verification(tmp_path, "1")
    assert same.same and "no difference: both runs succeeded" in text_report(same)
    assert json.loads(json_report(same, []))["same"] is True


def test_numbers_kept_as_doubles_are_read_back_as_their_declared_type() -> None:
    """kfp.local returns every number as a double: an int output 3 comes back as 3.0."""
    returned = [{"task": "one", "value": 3.0}, {"task": "two", "value": {"label": "x", "scores": [1.0, 2.5]}},
                {"task": "many", "instance": "0", "value": 2.0}]
    assert from_returns(pipeline(), returned, doubles=True) == {"many[0].total": "2.0", "one.n": "3",
                                                                "two.label": '"x"', "two.scores": "[1,2.5]"}
    assert from_returns(pipeline(), returned)["one.n"] == "3.0"
