"""The runner's specs on the real DVC (scripts/engines/dvc.txt): every spec is in one file,
`.dagshift/tasks.json`, which no stage depends on; a runner stage's cmd names its spec's digest.

- Precise invalidation: after one task's command changes and the pipeline is compiled again into
  the repository, DVC finds exactly that stage changed (its cmd), and `dvc repro` re-runs it and
  nothing else, fanned-out runs through the runner included.
- A `tasks.json` edited by hand no longer matches the digest in the cmd: the runner stops the
  stage with a message that says so, before running anything.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from dvc_harness import DvcEngine, compile_dvc

pytestmark = pytest.mark.engine

# Every command reads a text param, so every task runs through the runner (DVC would rewrite the
# value in a cmd); `c` fans out; `d` runs after `a` (a sentinel); `e` is a direct cmd.
PIPELINE = """\
name: specs
params: {s: text, n: 2}
tasks:
  a: {command: "echo a ${{ params.s }} > a.txt"}
  b: {command: "echo b ${{ params.s }} > b.txt"}
  c: {command: "echo c ${{ item }} ${{ params.s }} > c-${{ item }}.txt", foreach: [x, y]}
  d: {command: "echo d ${{ params.s }} > d.txt", after: [a]}
  e: {command: "echo e ${{ params.n }} > e.txt"}
"""
STAGES = ["a", "b", "c@0", "c@1", "d", "e"]


def _compile(source_dir: Path, text: str, out: Path) -> None:
    source = source_dir / "specs.yaml"
    source.write_text(textwrap.dedent(text), encoding="utf-8")
    compiled = compile_dvc(source, out)
    assert compiled.exit_code == 0, compiled.output


def test_changing_one_task_reruns_exactly_its_stage(dvc_engine: DvcEngine, tmp_path: Path) -> None:
    _compile(tmp_path, PIPELINE, tmp_path / "out")
    assert not (tmp_path / "out" / ".dagshift" / "tasks").exists()
    specs = json.loads((tmp_path / "out" / ".dagshift" / "tasks.json").read_text(encoding="utf-8"))
    assert list(specs) == ["a", "b", "c", "d"]
    repo = dvc_engine.repo(tmp_path / "out", examples=False)
    first = repo.repro()
    assert sorted(first.ran) == STAGES, first.describe()
    assert (repo.path / "b.txt").read_text() == "b text\n" and (repo.path / "c-y.txt").read_text() == "c y text\n"
    assert repo.up_to_date(), repo.status()

    # b's command changes, and the pipeline is compiled again into the repository
    runner = (repo.path / ".dagshift" / "run.py").read_bytes()
    _compile(tmp_path, PIPELINE.replace("echo b ", "echo B "), repo.path)
    assert (repo.path / ".dagshift" / "run.py").read_bytes() == runner  # else every runner stage would re-run
    assert repo.status() == {"b": ["changed command"]}, repo.status()
    second = repo.repro()
    assert second.ran == ["b"] and second.cached == [], second.describe()
    assert (repo.path / "b.txt").read_text() == "B text\n"
    assert repo.up_to_date(), repo.status()

    # and a fanned-out task's runs change together, nothing else
    _compile(tmp_path, PIPELINE.replace("echo b ", "echo B ").replace("echo c ", "echo C "), repo.path)
    third = repo.repro()
    assert sorted(third.ran) == ["c@0", "c@1"] and third.cached == [], third.describe()
    assert (repo.path / "c-x.txt").read_text() == "C x text\n"
    assert repo.up_to_date(), repo.status()


def test_a_hand_edited_tasks_json_stops_the_stage_with_a_clear_message(dvc_engine: DvcEngine,
                                                                       tmp_path: Path) -> None:
    _compile(tmp_path, PIPELINE, tmp_path / "out")
    repo = dvc_engine.repo(tmp_path / "out", examples=False)
    assert sorted(repo.repro().ran) == STAGES
    path = repo.path / ".dagshift" / "tasks.json"
    specs = json.loads(path.read_text(encoding="utf-8"))
    specs["b"]["command"]["$dagshift"][1] = "echo edited "
    path.write_text(json.dumps(specs, indent=2) + "\n", encoding="utf-8")
    # the spec is no dep: DVC sees nothing to do until the stage runs again
    assert repo.up_to_date(), repo.status()
    result = repo.repro("--force", "b", check=False)
    assert not result.ok and result.ran == ["b"], result.describe()
    message = ("dagshift: the spec of task b in .dagshift/tasks.json does not match dvc.yaml: "
               "run `dagshift compile` again")
    assert message in result.call.output, result.describe()
    written = repo.path / "b.txt"
    assert not written.exists() or "edited" not in written.read_text()  # the edited command never ran
    # compiling again makes tasks.json match dvc.yaml, and the stage runs
    _compile(tmp_path, PIPELINE, repo.path)
    assert repo.repro("--force", "b").ran == ["b"]
