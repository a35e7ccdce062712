"""`dagshift compare`: the model against the backends' declarations, the renderings, determinism,
HTML escaping and self-containment, and the CLI's error paths."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.api import check_file
from compiler.backends import registry
from compiler.backends.base import Level
from compiler.cli.main import main
from compiler.compile import fold_defaults
from compiler.language.features import Feature, feature_uses
from compiler.language.graph import build_graph
from compiler.tools.compare import BLOCKS, LEFT_OUT, compare_loaded, to_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

NASTY_COMMAND = "echo '</pre><script>alert(1)</script>' \"&amp;\" {{ braces }} ü"
NASTY_DESCRIPTION = "<img src=x onerror=alert(1)> \"double\" 'single' {{ not_jinja }} {% raw %} ünïcødé 🚀"
NASTY = f"""\
name: nasty
description: "a <b>pipeline</b>"
tasks:
  fetch:
    description: {json.dumps(NASTY_DESCRIPTION, ensure_ascii=False)}
    command: {json.dumps(NASTY_COMMAND, ensure_ascii=False)}
    retries: 2
  use:
    command: cat out.txt
    after: [fetch]
    cache: true
    trigger_rule: all_done
"""


def write(tmp_path: Path, text: str, name: str = "pipeline.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("example", ["churn.yaml", "conditional.yaml", "fan_out.yaml", "event_triggered.yaml"])
def test_cells_match_the_backends_declarations(example):
    loaded = check_file(EXAMPLES / example)
    comparison = compare_loaded(loaded)
    assert [t.name for t in comparison.targets] == registry.names()
    expected_rows = list(dict.fromkeys((u.task, u.feature) for u in feature_uses(fold_defaults(loaded.pipeline))))
    assert [(row.task, row.feature) for row in comparison.rows] == expected_rows
    for row in comparison.rows:
        for name in registry.names():
            declared = registry.get(name).support(row.feature)
            cell = row.cells[name]
            assert (cell.level, cell.how) == (declared.level, declared.how), (row, name)
            assert (cell.note is None) == (declared.level is Level.NATIVE)
            if cell.note is not None:
                note = comparison.notes[cell.note - 1]
                assert (note.target, note.feature, note.how) == (name, row.feature, declared.how)


def test_json_cells_match_the_declarations_for_churn():
    code, out, _ = run_cli("compare", str(EXAMPLES / "churn.yaml"), "--format", "json")
    assert code == 0
    data = json.loads(out)
    features = {feature.value: feature for feature in Feature}
    for row in data["rows"]:
        for name, cell in row["cells"].items():
            declared = registry.get(name).support(features[row["feature"]])
            assert cell["level"] == declared.level.value and cell["how"] == declared.how
            assert cell["symbol"] == declared.symbol


def test_unsupported_feature_shows_the_cross_and_the_workaround(tmp_path):
    path = write(tmp_path, NASTY)
    comparison = compare_loaded(check_file(path))
    cells = {(row.task, row.feature): row.cells for row in comparison.rows}
    retries = cells["fetch", Feature.RETRIES]["dvc"]  # operational: left out
    assert retries.symbol == "✗" and retries.outcome == LEFT_OUT
    assert retries.how == registry.get("dvc").support(Feature.RETRIES).how
    rule = cells["use", Feature.TRIGGER_RULE]["dvc"]  # semantic: stops the target
    dvc_workaround = registry.get("dvc").support(Feature.TRIGGER_RULE).how
    assert rule.symbol == "✗" and rule.how == dvc_workaround and rule.outcome == BLOCKS
    caching = cells["use", Feature.CACHE]["airflow"]
    assert caching.symbol == "✗" and caching.outcome == LEFT_OUT
    assert caching.how == registry.get("airflow").support(Feature.CACHE).how

    text = to_text(comparison)
    row = next(line for line in text.splitlines() if line.startswith("use") and Feature.TRIGGER_RULE.value in line)
    assert f"✗{rule.note}" in row.split()
    assert f"[{rule.note}] dvc: {Feature.TRIGGER_RULE.value}: not expressible; workaround: {dvc_workaround}" in text
    assert f"[{retries.note}] dvc: {Feature.RETRIES.value}: not expressible; workaround: " in text
    dvc = next(t for t in comparison.targets if t.name == "dvc")
    assert not dvc.compiles and [d.code for d in dvc.errors] == ["E301"] and not dvc.files
    assert "W301" in [d.code for d in dvc.warnings]  # the retries, left out
    assert "dvc: cannot compile: 1 error(s)" in text
    airflow = next(t for t in comparison.targets if t.name == "airflow")
    assert airflow.compiles and "W301" in [d.code for d in airflow.warnings]


def test_json_schema_is_stable():
    code, out, _ = run_cli("compare", str(EXAMPLES / "churn.yaml"), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["schema"] == "dagshift.compare/2"
    assert list(data) == ["schema", "pipeline", "source", "strict", "legend", "targets", "rows", "notes"]
    assert data["strict"] is False
    assert [t["name"] for t in data["targets"]] == registry.names()
    for target in data["targets"]:
        assert list(target) == ["name", "title", "compiles", "files", "errors", "warnings", "limits"]
        for limit in target["limits"]:
            assert list(limit) == ["name", "code", "refuses", "why", "help"]
        for diagnostic in target["errors"] + target["warnings"]:
            assert list(diagnostic) == ["code", "severity", "message", "file", "line", "col", "path", "notes", "help"]
    for row in data["rows"]:
        assert list(row) == ["task", "feature", "feature_id", "cells"]
        assert list(row["cells"]) == registry.names()
        for cell in row["cells"].values():
            assert list(cell) == ["level", "symbol", "how", "outcome", "note"]
            assert cell["outcome"] in (None, "left out", "blocks")
    assert [n["number"] for n in data["notes"]] == list(range(1, len(data["notes"]) + 1))
    for note in data["notes"]:
        assert list(note) == ["number", "target", "feature", "level", "how", "outcome"]


def test_markdown_table_has_one_line_per_row():
    code, out, _ = run_cli("compare", str(EXAMPLES / "conditional.yaml"), "--format", "markdown")
    assert code == 0
    comparison = compare_loaded(check_file(EXAMPLES / "conditional.yaml"))
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(comparison.rows)
    assert table[0] == "| task | feature | " + " | ".join(registry.names()) + " |"


def _run_subprocess(args: list[str], cwd: Path, seed: str) -> bytes:
    # PYTHONPATH: this checkout's compiler from any directory, not an installed copy
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "compiler", *args], cwd=cwd, env=env, capture_output=True,
                          check=True)
    return done.stdout


@pytest.mark.slow
def test_output_is_byte_deterministic_across_hash_seeds_and_working_directories(tmp_path):
    source = str(EXAMPLES / "churn.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for report_format in ("text", "json", "markdown"):
        first = _run_subprocess(["compare", source, "--format", report_format], ROOT, "0")
        second = _run_subprocess(["compare", source, "--format", report_format], elsewhere, "4242")
        assert first and first == second, report_format
    html_a, html_b = tmp_path / "a.html", tmp_path / "b.html"
    _run_subprocess(["compare", source, "--html", str(html_a)], ROOT, "1")
    _run_subprocess(["compare", source, "--format", "html", "-o", str(html_b)], elsewhere, "987654")
    assert html_a.read_bytes() == html_b.read_bytes()


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _html(tmp_path: Path, pipeline: Path) -> str:
    report = tmp_path / "report.html"
    code, _, err = run_cli("compare", str(pipeline), "--html", str(report))
    assert code == 0, err
    return report.read_text(encoding="utf-8")


def test_html_escapes_user_text(tmp_path):
    page = _html(tmp_path, write(tmp_path, NASTY))
    assert "<script" not in page and "<img" not in page and "<b>pipeline" not in page
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = _Collector()
    parsed.feed(page)
    text = "".join(parsed.text)
    assert NASTY_COMMAND in text and NASTY_DESCRIPTION in text  # shown as written, braces included
    assert not any(tag in ("script", "img", "iframe") for tag, _ in parsed.tags)
    assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)


def test_html_has_no_external_references(tmp_path):
    page = _html(tmp_path, EXAMPLES / "churn.yaml")
    parsed = _Collector()
    parsed.feed(page)
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "xlink:href", "action", "data"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*([a-z]+:|//)", value, re.IGNORECASE), (tag, name, value)
    assert not any(tag in ("script", "link", "iframe", "object", "embed", "img") for tag, _ in parsed.tags)
    assert "@import" not in page and not re.search(r"url\((?!#arrow\))", page)


def test_html_has_every_part(tmp_path):
    loaded = check_file(EXAMPLES / "churn.yaml")
    page = _html(tmp_path, EXAMPLES / "churn.yaml")
    parsed = _Collector()
    parsed.feed(page)
    ids = [attrs.get("id") for _, attrs in parsed.tags]
    for name in registry.names():
        assert ids.count(f"target-{name}") == 1
    nodes = [attrs["data-task"] for tag, attrs in parsed.tags if tag == "g" and "data-task" in attrs]
    assert nodes == list(loaded.pipeline.tasks)
    edges = [tag for tag, attrs in parsed.tags if tag == "path" and attrs.get("class") == "edge"]
    assert len(edges) == build_graph(loaded.pipeline).number_of_edges()
    assert "flowchart TD" in page and "<details>" in page
    assert "without <code>--strict</code>" in page
    summary = page.split('<table class="summary">', 1)[1].split("</table>", 1)[0]
    assert all(f'href="#target-{name}"' in summary for name in registry.names())
    # The target that compiles shows its files; the one that cannot shows its errors.
    comparison = compare_loaded(check_file(EXAMPLES / "churn.yaml"))
    for target in comparison.targets:
        section = page.split(f'id="target-{target.name}"', 1)[1].split("</section>", 1)[0]
        assert target.title in section
        if target.compiles:
            assert all(f"<h3><code>{path}</code></h3>" in section for path in target.files)
        else:
            assert "Cannot compile" in section and target.errors[0].code in section


def test_invalid_pipeline_writes_nothing_and_exits_1(tmp_path):
    report = tmp_path / "report.html"
    report.write_text("old report", encoding="utf-8")
    bad = write(tmp_path, "name: broken\ntasks:\n  a:\n    after: [missing]\n")
    code, out, err = run_cli("compare", str(bad), "--html", str(report))
    assert code == 1 and out == ""
    assert "missing" in err and "no report written" in err and "Traceback" not in err
    assert report.read_text(encoding="utf-8") == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.yaml", "report.html"]


def test_unwritable_output_is_a_clear_error(tmp_path):
    code, _, err = run_cli("compare", str(EXAMPLES / "minimal.yaml"), "-o", str(tmp_path / "no" / "such" / "r.txt"))
    assert code != 0 and "Traceback" not in err and "r.txt" in err


def test_html_option_conflicts_are_usage_errors(tmp_path):
    code, _, err = run_cli("compare", str(EXAMPLES / "minimal.yaml"), "--html", str(tmp_path / "r.html"),
                           "--format", "json")
    assert code == 2 and "--html" in err
    code, _, err = run_cli("compare", str(EXAMPLES / "minimal.yaml"), "--html", str(tmp_path / "r.html"),
                           "-o", str(tmp_path / "x"))
    assert code == 2
    assert not (tmp_path / "r.html").exists()


def test_help_names_the_formats_and_warn_semantics():
    code, out, _ = run_cli("compare", "--help")
    assert code == 0
    for word in ("--html", "--format", "markdown", "not --strict", "Examples:"):
        assert word in out
