"""`dagshift import` and `dagshift convert` as a user meets them: what they write, what they
refuse, and that a refusal writes nothing. The importers' own mapping is tested per format."""

from __future__ import annotations

import json
from pathlib import Path

import external_corpus
import pytest

from compiler.importers import FORMATS, get

ROOT = Path(__file__).resolve().parents[2]


def test_every_format_has_an_importer() -> None:
    for name in FORMATS:
        importer = get(name)
        assert importer.name == name and importer.title


def test_a_file_in_no_known_format_is_an_error_and_nothing_is_written(cli, tmp_path: Path) -> None:
    source = tmp_path / "notes.yaml"
    source.write_text("shopping: [milk, eggs]\n", encoding="utf-8")
    out = tmp_path / "out"
    result = cli("import", str(source), "-o", str(out))
    assert result.exit_code == 1, result.stdout
    assert "error[E601]: not a pipeline dagshift can import" in result.stdout and "--from" in result.stdout
    assert "nothing written" in result.stdout and not out.exists()


def test_a_file_that_is_not_utf8_is_an_error(cli, tmp_path: Path) -> None:
    source = tmp_path / "dag.py"
    source.write_bytes(b"\xff\xfe\x00garbage")
    result = cli("import", str(source), "-o", str(tmp_path / "out.yaml"))
    assert result.exit_code == 1 and "error[E601]: the file is not UTF-8 text" in result.stdout
    assert "Traceback" not in result.stdout and not (tmp_path / "out.yaml").exists()


def test_one_bad_file_among_good_ones_writes_nothing(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n", encoding="utf-8")
    compiled = tmp_path / "argo"
    assert cli("compile", "examples/minimal.yaml", "-t", "argo", "-o", str(compiled), "-q").exit_code == 0
    result = cli("import", str(compiled / "workflow.yaml"), str(bad), "-o", str(out))
    assert result.exit_code == 1, result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_import_writes_the_pipeline_and_it_validates(cli, tmp_path: Path) -> None:
    compiled = tmp_path / "argo"
    assert cli("compile", "examples/sequential.yaml", "-t", "argo", "-o", str(compiled), "-q").exit_code == 0
    target = tmp_path / "back" / "sequential.yaml"
    result = cli("import", str(compiled / "cronworkflow.yaml"), "-o", str(target))
    assert result.exit_code == 0, result.stdout
    assert f"wrote {target}" in result.stdout
    text = target.read_text(encoding="utf-8")
    assert text.startswith(f"# Imported by dagshift from {compiled / 'cronworkflow.yaml'}")
    assert cli("validate", str(target), "-q").exit_code == 0


def test_convert_moves_a_pipeline_between_orchestrators(cli, tmp_path: Path) -> None:
    compiled = tmp_path / "prefect"
    assert cli("compile", "examples/parallel.yaml", "-t", "prefect", "-o", str(compiled), "-q").exit_code == 0
    out = tmp_path / "argo"
    result = cli("convert", str(compiled / "parallel.py"), "--to", "argo", "-o", str(out), "--keep-ir")
    assert result.exit_code == 0, result.stdout
    assert (out / "workflow.yaml").is_file() and (out / "parallel.yaml").is_file()


def test_assess_counts_grades_and_writes_nothing(cli, tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    assert cli("compile", "examples/minimal.yaml", "-t", "airflow", "-o", str(sources), "-q").exit_code == 0
    (sources / "notes.yaml").write_text("shopping: [milk]\n", encoding="utf-8")
    before = sorted(p.name for p in sources.iterdir())
    result = cli("import", "--assess", str(sources), "--format", "json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    grades = {Path(entry["file"]).name: entry["grade"] for entry in report["pipelines"]}
    assert grades == {"minimal.py": "automatic", "notes.yaml": "skipped"}
    assert report["counts"] == {"automatic": 1, "review": 0, "manual": 0, "skipped": 1}
    assert sorted(p.name for p in sources.iterdir()) == before
    text = cli("import", "--assess", str(sources))
    assert "1 pipeline(s): 1 automatic, 0 review, 0 manual; 1 file(s) skipped (no pipeline in them)" in text.stdout


CORPORA = {"argo": ("argo", "examples"), "dvc": ("dvc", "files")}  # in the external corpus


@pytest.mark.corpus
@pytest.mark.parametrize("source_format", sorted(CORPORA))
def test_detection_grades_a_corpus_as_naming_the_format_does(cli, source_format: str) -> None:
    """Without --from, every file of the real-world corpus is recognized as its format."""
    corpus = external_corpus.path(*CORPORA[source_format])
    named = json.loads(cli("import", "--assess", str(corpus), "--from", source_format, "--format", "json").stdout)
    detected = json.loads(cli("import", "--assess", str(corpus), "--format", "json").stdout)
    assert [(p["file"], p["grade"]) for p in detected["pipelines"]] == [
        (p["file"], p["grade"]) for p in named["pipelines"]]


@pytest.mark.corpus
@pytest.mark.parametrize("source_format", sorted(CORPORA))
def test_the_readme_reports_the_corpus_grades(cli, source_format: str) -> None:
    corpus = external_corpus.path(*CORPORA[source_format])
    counts = json.loads(cli("import", "--assess", str(corpus), "--format", "json").stdout)["counts"]
    row = next(line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| ") and f"`corpus/{source_format}/" in line)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    graded = counts["automatic"] + counts["review"] + counts["manual"]
    assert [int(cell) for cell in cells[1:6]] == [graded, counts["automatic"], counts["review"], counts["manual"],
                                                  counts["skipped"]], row


def test_an_importer_that_crashes_gives_a_diagnostic_not_a_traceback(cli, tmp_path: Path, monkeypatch) -> None:
    """The guard in import_file: a bug in an importer is reported (E603) and nothing is written."""
    import compiler.importers as importers

    class Broken(importers.Importer):
        name, title = "dvc", "DVC"

        def read(self, path, text, display):
            raise KeyError("stages")

    monkeypatch.setattr(importers, "get", lambda name: Broken())
    source = tmp_path / "dvc.yaml"
    source.write_text("stages: {}\n", encoding="utf-8")
    result = cli("import", str(source), "--from", "dvc", "-o", str(tmp_path / "out.yaml"))
    assert result.exit_code == 1 and "error[E603]: the DVC importer failed on this file: KeyError" in result.stdout
    assert "Traceback" not in result.stdout and not (tmp_path / "out.yaml").exists()


def test_an_invalid_pipeline_is_the_files_where_the_importer_read_the_part(tmp_path: Path, monkeypatch) -> None:
    """A problem in a part of the pipeline the importer read from a line of the file is an E602
    there (the file's parts do not agree); in any other part, an importer bug (E603)."""
    from compiler import importers

    class Reading(importers.Importer):
        name, title = "dvc", "DVC"

        def read(self, path, text, display):
            report = importers.Reporter(display, text)
            report.place(("tasks", "a"), 2)
            data = {"name": "p", "params": {"class": 1}, "tasks": {"a": {"command": "echo ${{ params.rows }}"}}}
            return [importers.Imported(display, data, report.diagnostics, places=report.places)]

    monkeypatch.setattr(importers, "get", lambda name: Reading())
    source = tmp_path / "dvc.yaml"
    source.write_text("stages:\n  a: {cmd: echo}\n", encoding="utf-8")
    (result,) = importers.import_file(source, "dvc")
    assert result.data is None
    assert sorted((d.code, d.loc.line if d.loc else None, d.message.split(" (at ")[0])
                  for d in result.diagnostics) == [
        ("E602", 2, "the pipeline read from the file is not valid: E106 task 'a': unknown param 'rows'"),
        ("E603", None, "the imported pipeline is not valid: E112 param name 'class' is a Python keyword"),
    ]


def test_a_directory_walk_skips_tool_directories_and_stops_at_the_limit(cli, tmp_path, monkeypatch) -> None:
    from compiler.cli import imports as cli_import

    (tmp_path / "dags").mkdir()
    for skipped in (".git/objects", "node_modules/pkg", "venv", "__pycache__"):
        (tmp_path / skipped).mkdir(parents=True)
        (tmp_path / skipped / "x.yaml").write_text("name: not read\n")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "dags" / "a.yaml").write_text("name: a\n")
    assert cli_import._sources((str(tmp_path),)) == [tmp_path / "dags" / "a.yaml"]
    monkeypatch.setattr(cli_import, "MAX_SOURCES", 3)
    for index in range(4):
        (tmp_path / "dags" / f"p{index}.yaml").write_text("name: p\n")
    result = cli("import", "--assess", str(tmp_path))
    assert result.exit_code == 2 and "more than 3 .py/.yaml/.json files" in result.stderr


def test_a_device_given_as_a_source_is_read_only_up_to_the_limit(cli) -> None:
    result = cli("import", "/dev/zero", "--from", "argo", "-o", "/tmp/never")
    assert result.exit_code == 1 and "larger than" in result.stdout and "Traceback" not in result.traceback_text
