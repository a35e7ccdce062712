"""`dagshift diff`: the semantic diff (compiler/tools/semantic_diff.py), its renderings
(compiler/tools/diff_render.py) and the command (compiler/cli/diff.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from compiler.api import check_text
from compiler.tools.diff_render import label, render_json, render_markdown, render_text
from compiler.tools.semantic_diff import Change, PipelineDiff, diff_pipelines

ROOT = Path(__file__).resolve().parents[1]

BASE = """
name: demo
params:
  lr: 0.1
  mode: {type: str, default: full}
schedule: "0 3 * * *"
artifacts:
  raw: data/raw.csv
  model: models/model.json
defaults:
  retries: 2
  retry_delay: 5m
tasks:
  ingest:
    command: python3 ingest.py --out ${{ artifacts.raw }}
    produces: [raw]
  train:
    command: python3 train.py --lr ${{ params.lr }} --data ${{ artifacts.raw }} --out ${{ artifacts.model }}
    consumes: [raw]
    produces: [model]
    env: {SEED: "42"}
  evaluate:
    python: tinyml.evaluate:main
    args: {model: "${{ artifacts.model }}"}
    consumes: [model]
    outputs: {accuracy: float}
  report:
    command: echo done ${{ tasks.evaluate.outputs.accuracy }}
  cleanup:
    command: rm -rf tmp
"""


def pipeline(text: str):
    loaded = check_text(textwrap.dedent(text), "test.yaml")
    assert not loaded.diagnostics.has_errors, [str(d) for d in loaded.diagnostics]
    return loaded.pipeline


def diff(a: str, b: str) -> PipelineDiff:
    return diff_pipelines(pipeline(a), pipeline(b), a_label="a.yaml", b_label="b.yaml")


def edit(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new)


# ----------------------------------------------------------------------------- sameness


def test_a_pipeline_is_the_same_as_itself() -> None:
    result = diff(BASE, BASE)
    assert result.same
    assert result.to_json()["same"] is True


def test_spelling_is_not_a_difference() -> None:
    # Durations in another unit, defaults written per task, the param type written out, and an
    # `after` edge that the data edge already implies.
    respelled = edit("defaults:\n  retries: 2\n  retry_delay: 5m\n", "")
    respelled = respelled.replace("    produces: [raw]\n", "    produces: [raw]\n    retries: 2\n    retry_delay: 300s\n")
    respelled = respelled.replace("    consumes: [raw]\n", "    consumes: [raw]\n    after: [ingest]\n    retries: 2\n"
                                  "    retry_delay: 5m\n")
    respelled = respelled.replace("    consumes: [model]\n", "    consumes: [model]\n    retries: 2\n    retry_delay: 5m\n")
    respelled = respelled.replace("    command: echo done", "    retries: 2\n    retry_delay: 5m\n    command: echo done")
    respelled = respelled.replace("  lr: 0.1\n", "  lr: {type: float, default: 0.1}\n")
    respelled = respelled.replace("    command: rm -rf tmp\n", "    command: rm -rf tmp\n    retries: 2\n    retry_delay: 5m\n")
    assert diff(BASE, respelled).same, render_text(diff(BASE, respelled))


def test_a_redundant_order_edge_is_not_a_difference() -> None:
    redundant = edit("  report:\n", "  report:\n    after: [ingest, evaluate]\n")
    assert diff(BASE, redundant).same


def test_values_differ_by_type_not_by_python_equality() -> None:
    result = diff(edit("  lr: 0.1\n", "  lr: 1.0\n"), edit("  lr: 0.1\n", "  lr: {type: float, default: 1}\n"))
    assert "params.lr.default" not in result.pipeline  # 1.0 and 1 are one float param's default
    flag = diff(edit("  lr: 0.1\n", "  lr: 1\n"), edit("  lr: 0.1\n", "  lr: true\n"))
    assert flag.pipeline["params.lr.default"] == Change(1, True)
    assert flag.pipeline["params.lr.type"] == Change("int", "bool")


# ----------------------------------------------------------------------------- tasks and edges


def test_added_and_removed_tasks_with_their_edges() -> None:
    changed = edit("  report:\n    command: echo done ${{ tasks.evaluate.outputs.accuracy }}\n",
                   "  publish:\n    command: ./publish.sh\n    after: [train]\n")
    result = diff(BASE, changed)
    assert result.added == ["publish"] and result.removed == ["report"] and result.renamed == []
    assert result.edges_added == [("train", "publish")]
    assert result.edges_removed == [("evaluate", "report")]


def test_a_renamed_task_is_a_rename_and_references_follow_it() -> None:
    renamed = BASE.replace("  evaluate:\n", "  score:\n").replace("tasks.evaluate.", "tasks.score.")
    result = diff(BASE, renamed)
    assert result.renamed == [("evaluate", "score")]
    assert result.added == [] and result.removed == []
    assert result.edges_added == [] and result.edges_removed == []
    assert result.changed == {}  # report's reference to the renamed task is not a change
    assert not result.same


def test_a_removed_and_an_added_task_that_differ_are_not_a_rename() -> None:
    other = BASE.replace("  report:\n    command: echo done", "  notify:\n    command: echo finished")
    result = diff(BASE, other)
    assert result.renamed == [] and result.added == ["notify"] and result.removed == ["report"]


def test_a_new_edge() -> None:
    result = diff(BASE, edit("  cleanup:\n", "  cleanup:\n    after: [report]\n"))
    assert result.edges_added == [("report", "cleanup")] and result.edges_removed == []


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize(("old", "new", "task", "field", "a", "b"), [
    ("python3 ingest.py", "python3 fetch.py", "ingest", "command", "python3 ingest.py --out ${{ artifacts.raw }}",
     "python3 fetch.py --out ${{ artifacts.raw }}"),
    ("    produces: [raw]\n", "    produces: [raw]\n    retries: 5\n", "ingest", "retries", 2, 5),
    ("    produces: [raw]\n", "    produces: [raw]\n    retry_delay: 1m\n", "ingest", "retry_delay", 300, 60),
    ("    produces: [raw]\n", "    produces: [raw]\n    timeout: 1h\n", "ingest", "timeout", None, 3600),
    ('{SEED: "42"}', '{SEED: "7"}', "train", "env.SEED", "42", "7"),
    ('{SEED: "42"}', '{SEED: "42", DEBUG: "1"}', "train", "env.DEBUG", None, "1"),
    ("    env:", "    resources: {cpu: 2, memory: 4Gi}\n    env:", "train", "resources", None,
     {"cpu": "2", "memory": "4Gi"}),
    ("    env:", "    pool: gpu\n    env:", "train", "pool", None, "gpu"),
    ("    env:", "    cache: true\n    env:", "train", "cache", None, {}),  # on, with the defaults
    ("tinyml.evaluate:main", "tinyml.score:main", "evaluate", "python", "tinyml.evaluate:main", "tinyml.score:main"),
    ('{model: "${{ artifacts.model }}"}', '{model: "${{ artifacts.model }}", k: 3}', "evaluate", "args.k", None, 3),
    ("outputs: {accuracy: float}", "outputs: {accuracy: float, loss: float}", "evaluate", "outputs.loss", None,
     {"type": "float"}),
    ("    command: echo done", "    trigger_rule: all_done\n    command: echo done", "report", "trigger_rule", None,
     "all_done"),
    ("    command: echo done", "    when: params.mode == 'full'\n    command: echo done", "report", "when", None,
     "params.mode == 'full'"),
    ("    command: echo done", "    alerts: [{command: ./page.sh}]\n    command: echo done", "report", "alerts", None,
     [{"command": "./page.sh"}]),
    ("    consumes: [model]\n", "    consumes: [model, raw]\n", "evaluate", "consumes", ["model"], ["model", "raw"]),
])
def test_each_task_setting_change_is_reported(old: str, new: str, task: str, field: str, a, b) -> None:
    result = diff(BASE, edit(old, new))
    assert result.changed[task][field] == Change(a, b), result.changed


def test_a_container_image_change() -> None:
    a = "name: c\ntasks:\n  run: {image: 'alpine:3.19', command: [echo, hi], args: [x]}\n"
    b = "name: c\ntasks:\n  run: {image: 'alpine:3.20', command: [echo, hi], args: [y]}\n"
    result = diff(a, b)
    assert result.changed["run"] == {"image": Change("alpine:3.19", "alpine:3.20"), "args": Change(["x"], ["y"])}


@pytest.mark.parametrize(("old", "new", "field", "a", "b"), [
    ('schedule: "0 3 * * *"', 'schedule: "0 4 * * *"', "schedule.cron", "0 3 * * *", "0 4 * * *"),
    ('schedule: "0 3 * * *"\n', "", "schedule", {"cron": "0 3 * * *"}, None),
    ("  lr: 0.1\n", "  lr: 0.2\n", "params.lr.default", 0.1, 0.2),
    ("  lr: 0.1\n", "  lr: 0.1\n  epochs: 10\n", "params.epochs", None, {"default": 10, "type": "int"}),
    ("  mode: {type: str, default: full}\n", "", "params.mode", {"default": "full", "type": "str"}, None),
    ("name: demo\n", "name: demo\nmax_active_runs: 1\n", "max_active_runs", None, 1),
    ("name: demo\n", "name: demo\nworkdir: /srv\n", "workdir", None, "/srv"),  # no field is hand-listed
    ("  model: models/model.json\n", "  model: {path: models/model.json, kind: model}\n", "artifacts.model.kind",
     None, "model"),
])
def test_each_pipeline_setting_change_is_reported(old: str, new: str, field: str, a, b) -> None:
    result = diff(BASE, edit(old, new))
    assert result.pipeline[field] == Change(a, b), result.pipeline


# ----------------------------------------------------------------------------- renderings


def _rich_diff() -> PipelineDiff:
    changed = BASE.replace("  evaluate:\n", "  score:\n").replace("tasks.evaluate.", "tasks.score.")
    changed = edit("python3 ingest.py", "python3 fetch.py", changed)
    changed = edit("  lr: 0.1\n", "  lr: 0.2\n", changed)
    changed = edit("  cleanup:\n", "  cleanup:\n    after: [train]\n", changed)
    changed = edit("    produces: [raw]\n", "    produces: [raw]\n    retry_delay: 1m\n", changed)
    changed += "  publish: {command: ./publish.sh, after: [report]}\n"
    return diff(BASE, changed)


def test_json_schema_is_stable() -> None:
    report = json.loads(render_json(_rich_diff()))
    assert sorted(report) == ["a", "b", "compared_as", "edges", "pipeline", "same", "tasks"]
    assert sorted(report["tasks"]) == ["added", "changed", "removed", "renamed"]
    assert sorted(report["edges"]) == ["added", "removed"]
    assert report["same"] is False
    assert report["tasks"]["added"] == ["publish"]
    assert report["tasks"]["renamed"] == [["evaluate", "score"]]
    assert report["edges"]["added"] == [["report", "publish"], ["train", "cleanup"]]
    assert report["tasks"]["changed"]["ingest"]["retry_delay"] == {"a": 300, "b": 60}
    assert report["pipeline"] == {"params.lr.default": {"a": 0.1, "b": 0.2}}


def test_text_reads_like_a_changelog() -> None:
    text = render_text(_rich_diff())
    assert text.startswith("--- a.yaml\n+++ b.yaml\n")
    for line in ("  ~ param lr default: 0.1 -> 0.2", "  + publish", "  ~ evaluate renamed to score",
                 "  + train -> cleanup", "task ingest:", "  ~ retry delay: 5m -> 1m"):
        assert line in text.splitlines(), text
    assert "1 task(s) added" in text


def test_markdown_renders_a_table_for_a_pull_request() -> None:
    markdown = render_markdown(_rich_diff())
    assert markdown.startswith("### dagshift diff: `a.yaml` → `b.yaml`")
    assert "| where | setting | A | B |" in markdown
    assert "| pipeline | param lr default | `0.1` | `0.2` |" in markdown
    assert "- renamed `evaluate` → `score`" in markdown
    same = render_markdown(diff(BASE, BASE))
    assert "No semantic differences." in same


def test_labels_name_the_common_fields() -> None:
    assert label("retry_delay") == "retry delay"
    assert label("params.lr.default") == "param lr default"
    assert label("env.SEED") == "env SEED"
    assert label("artifacts.models/model.json.description") == "artifact models/model.json description"
    assert label("some_new_field") == "some_new_field"


def test_markdown_escapes_pipes_in_values() -> None:
    markdown = render_markdown(diff(BASE, edit("python3 ingest.py", "python3 ingest.py | tee log")))
    row = next(line for line in markdown.splitlines() if line.startswith("| task ingest | command"))
    assert row.count(" | ") == 4 - 1 and "\\|" in row


# ----------------------------------------------------------------------------- the command


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(textwrap.dedent(BASE))
    b.write_text(textwrap.dedent(edit("python3 ingest.py", "python3 fetch.py")))
    return a, b


def test_exit_0_when_the_same(cli, files) -> None:
    a, _ = files
    result = cli("diff", str(a), str(a))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "no differences" in result.stdout


def test_exit_1_when_different_in_every_format(cli, files) -> None:
    a, b = files
    for output_format in ("text", "json", "markdown"):
        result = cli("diff", str(a), str(b), "--format", output_format)
        assert result.exit_code == 1, result.stdout + result.stderr
        assert "fetch.py" in result.stdout
    assert json.loads(cli("diff", str(a), str(b), "--format", "json").stdout)["same"] is False


def test_exit_2_on_a_missing_file(cli, files) -> None:
    a, _ = files
    result = cli("diff", str(a), "does-not-exist.yaml")
    assert result.exit_code == 2
    assert "does-not-exist.yaml: no such file" in result.stderr and "help:" in result.stderr
    assert result.exception is None and "Traceback" not in result.traceback_text


def test_exit_2_on_an_invalid_pipeline_with_its_diagnostics(cli, files, tmp_path: Path) -> None:
    a, _ = files
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntasks:\n  t: {after: [missing]}\n")
    result = cli("diff", str(a), str(bad))
    assert result.exit_code == 2
    assert "bad.yaml:3" in result.stderr and "error[" in result.stderr
    assert result.exception is None


def test_exit_2_on_a_file_no_format_reads(cli, files, tmp_path: Path) -> None:
    a, _ = files
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = cli("diff", str(notes), str(a))
    assert result.exit_code == 2
    assert "not a pipeline file dagshift reads" in result.stderr and "--from-a" in result.stderr


def test_exit_2_on_a_bad_option(cli, files) -> None:
    a, b = files
    assert cli("diff", str(a), str(b), "--format", "html").exit_code == 2
    assert cli("diff", str(a)).exit_code == 2


def test_diagnostics_as_json(cli, files) -> None:
    a, _ = files
    result = cli("diff", str(a), "missing.yaml", "--diagnostics-format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stderr)[0]["code"] == "E601"


TWO_DAGS = '''\
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("first", schedule=None) as one:
    a = BashOperator(task_id="a", bash_command="echo a")
    b = BashOperator(task_id="b", bash_command="echo b")
    a >> b

with DAG("second", schedule=None) as two:
    BashOperator(task_id="c", bash_command="echo c")
'''


def test_a_file_with_several_pipelines_needs_a_name(cli, tmp_path: Path) -> None:
    dags = tmp_path / "dags.py"
    dags.write_text(TWO_DAGS)
    unnamed = cli("diff", str(dags), str(dags))
    assert unnamed.exit_code == 2
    assert "holds 2 pipelines (pipelines: first, second)" in unnamed.stderr and "::NAME" in unnamed.stderr
    wrong = cli("diff", f"{dags}::third", f"{dags}::first")
    assert wrong.exit_code == 2 and "no pipeline named 'third'" in wrong.stderr
    picked = cli("diff", f"{dags}::first", f"{dags}::second", "--format", "json")
    assert picked.exit_code == 1, picked.stderr
    report = json.loads(picked.stdout)
    assert report["tasks"]["removed"] == ["a", "b"] and report["tasks"]["added"] == ["c"]
    assert report["edges"]["removed"] == [["a", "b"]]
    assert cli("diff", f"{dags}::first", f"{dags}::first").exit_code == 0


def test_a_dagshift_file_against_its_import(cli, tmp_path: Path) -> None:
    dags = tmp_path / "dags.py"
    dags.write_text(TWO_DAGS)
    own = tmp_path / "first.yaml"
    own.write_text("name: first\ntasks:\n  a: {command: echo a}\n  b: {command: echo b, after: a}\n")
    assert cli("diff", str(own), f"{dags}::first").exit_code == 0
    assert cli("diff", f"{dags}::first", str(own), "--from-a", "airflow", "--from-b", "dagshift").exit_code == 0
    forced = cli("diff", str(own), str(own), "--from-a", "dvc")
    assert forced.exit_code == 2 and "error[E60" in forced.stderr and forced.exception is None


def test_output_is_byte_identical_across_hash_seeds_and_directories(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text(textwrap.dedent(BASE))
    b.write_text(textwrap.dedent(_changed_for_determinism()))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outputs = []
    for seed, cwd in (("1", tmp_path), ("4242", elsewhere)):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        for output_format in ("text", "json", "markdown"):
            run = subprocess.run([sys.executable, "-m", "compiler", "diff", str(a), str(b), "--format", output_format],
                                 check=False, cwd=cwd, env=env, capture_output=True)
            assert run.returncode == 1, run.stderr
            outputs.append(run.stdout)
    assert outputs[:3] == outputs[3:]


def _changed_for_determinism() -> str:
    changed = BASE.replace("  evaluate:\n", "  score:\n").replace("tasks.evaluate.", "tasks.score.")
    changed = edit('{SEED: "42"}', '{SEED: "7", A: "1", Z: "2", M: "3"}', changed)
    return changed + "  x1: {command: echo 1}\n  x2: {command: echo 2, after: [x1, ingest]}\n"
