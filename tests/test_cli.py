"""The command line: help, version, exit codes, output formats, schema and graph."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from compiler import __version__
from compiler.cli.main import main
from compiler.language.load import load_file

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

VALID = """\
name: cli-demo
params:
  threshold: 0.5
artifacts:
  raw: data/raw.csv
tasks:
  ingest:
    command: echo 1 > ${{ artifacts.raw }}
    produces: [raw]
  score:
    command: echo 0.9 > ${{ outputs.accuracy }}
    consumes: [raw]
    outputs: {accuracy: float}
  deploy:
    command: echo deploy
    when: tasks.score.outputs.accuracy >= params.threshold
  keep:
    command: echo keep
    else_of: deploy
"""


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args))
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(main, list(args))


@pytest.fixture
def pipeline_file(tmp_path: Path) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(VALID)
    return path


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output and "dagshift" in result.output


@pytest.mark.parametrize("command", [[], ["validate"], ["graph"], ["schema"]])
def test_help_texts(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 4


def test_validate_clean_file(pipeline_file: Path) -> None:
    result = run("validate", str(pipeline_file))
    assert result.exit_code == 0, result.output
    assert f"ok: {pipeline_file}: pipeline 'cli-demo' with 4 tasks" in result.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("validate").exit_code == 2
    assert run("validate", str(tmp_path / "missing.yaml")).exit_code == 2
    assert run("graph", str(tmp_path / "missing.yaml")).exit_code == 2
    assert run("validate", "--format", "xml", str(tmp_path)).exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_errors_exit_1_and_all_files_are_reported(tmp_path: Path, pipeline_file: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntasks:\n  a: {after: [nope]}\n")
    result = run("validate", str(pipeline_file), str(bad))
    assert result.exit_code == 1
    assert "E100" in result.output and f"{bad}:3:15" in result.output
    assert f"ok: {pipeline_file}" in result.output


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    path = tmp_path / "warn.yaml"
    path.write_text("name: w\nartifacts: {unused: x.csv}\ntasks:\n  a: {command: echo}\n")
    assert run("validate", str(path)).exit_code == 0
    strict = run("validate", "--strict", str(path))
    assert strict.exit_code == 1 and "W120" in strict.output


def test_json_and_github_formats(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ntasks:\n  a: {command: echo, retries: many}\n  b: {after: [c]}\n")
    result = run("validate", "--format", "json", str(path))
    assert result.exit_code == 1
    items = json.loads(result.output)
    assert {item["code"] for item in items} == {"E012", "E100"}
    assert all(item["file"] == str(path) and item["line"] and item["col"] for item in items)
    github = run("validate", "--format", "github", str(path))
    assert github.exit_code == 1
    lines = github.output.splitlines()
    assert len(lines) == 2 and all(line.startswith("::error file=") for line in lines)


def test_schema_is_valid_json_schema_and_accepts_every_example() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert EXAMPLES
    for example in EXAMPLES:
        data = json.loads(json.dumps(load_file(example).data, default=str))
        errors = list(validator.iter_errors(data))
        assert not errors, f"{example.name}: {[e.message for e in errors]}"


def test_schema_rejects_a_misspelled_key() -> None:
    schema = json.loads(run("schema").output)
    validator = jsonschema.Draft202012Validator(schema)
    data = {"name": "x", "tasks": {"a": {"command": "echo", "dependz": ["b"]}}}
    assert list(validator.iter_errors(data))
    assert not list(validator.iter_errors({"name": "x", "tasks": {"a": {"command": "echo", "after": "b"}}}))


@pytest.mark.parametrize("fmt", ["mermaid", "dot", "json"])
def test_graph_formats(pipeline_file: Path, fmt: str) -> None:
    result = run("graph", "--format", fmt, str(pipeline_file))
    assert result.exit_code == 0, result.output
    if fmt == "json":
        data = json.loads(result.output)
        edges = {(e["from"], e["to"]) for e in data["edges"]}
        assert edges == {("ingest", "score"), ("score", "deploy"), ("score", "keep")}
    elif fmt == "mermaid":
        assert result.output.startswith("flowchart TD\n")
        assert 't_ingest -- "raw" --> t_score' in result.output
    else:
        assert result.output.startswith('digraph "cli-demo" {')
        assert '"ingest" -> "score" [label="raw"];' in result.output


def test_graph_of_invalid_file_prints_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ntasks:\n  a: {after: [b]}\n  b: {after: [a]}\n")
    result = run("graph", str(path))
    assert result.exit_code == 1
    assert "E101" in result.output and "dependency cycle: a -> b -> a" in result.output


def test_output_is_deterministic(pipeline_file: Path) -> None:
    first = [run("graph", "--format", f, str(pipeline_file)).output for f in ("mermaid", "dot", "json")]
    second = [run("graph", "--format", f, str(pipeline_file)).output for f in ("mermaid", "dot", "json")]
    assert first == second
    assert run("schema").output == run("schema").output


def test_a_dash_reads_the_pipeline_from_standard_input(tmp_path: Path) -> None:
    text = "name: piped\ntasks: {a: {command: echo a}, b: {after: [zz]}}\n"
    runner = CliRunner()
    bad = runner.invoke(main, ["validate", "-"], input=text)
    assert bad.exit_code == 1 and "--> <stdin>:2:" in bad.output and "Traceback" not in bad.output
    good = text.replace("zz", "a")
    assert runner.invoke(main, ["validate", "-"], input=good).output.startswith("ok: <stdin>: pipeline 'piped'")
    compiled = runner.invoke(main, ["compile", "-", "-t", "airflow", "-o", str(tmp_path)], input=good)
    assert compiled.exit_code == 0, compiled.output
    assert "# <stdin>:2 tasks.a" in (tmp_path / "piped.py").read_text()
    assert runner.invoke(main, ["graph", "-"], input=good).output.startswith("flowchart")
