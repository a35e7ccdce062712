"""dvc_harness.py on a small hand-written dvc.yaml, on the real DVC of scripts/engines/dvc.txt:
repro, dag_edges, status, stages_run and set_param do what test_dvc_engine.py relies on.

The pipeline: `make` reads param `n` and writes data/a.txt; `mark` writes only an empty sentinel
(`cache: false`), DVC's way to express an order-only edge; `use` depends on both and reads the
nested param `train.lr`; `where` records which python3 a stage runs.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from dvc_harness import DvcEngine, DvcError, task_of

pytestmark = pytest.mark.engine

PARAMS = """\
# params of the harness self-test (this comment must survive set_param)
n: 3
train:
  lr: 0.1  # the learning rate
other: 1
"""

DVC_YAML = """\
stages:
  make:
    cmd: mkdir -p data && echo n=${n} > data/a.txt
    params:
      - n
    outs:
      - data/a.txt
  mark:
    cmd: 'mkdir -p .flags && : > .flags/mark.done'
    outs:
      - .flags/mark.done:
          cache: false
  use:
    cmd: cat data/a.txt > b.txt && echo lr=${train.lr} >> b.txt
    deps:
      - data/a.txt
      - .flags/mark.done
    params:
      - train.lr
    outs:
      - b.txt
  where:
    cmd: python3 -c "import sys; print(sys.prefix)" > where.txt
    outs:
      - where.txt
"""


def test_repro_dag_status_stages_run_and_set_param(dvc_engine: DvcEngine) -> None:
    repo = dvc_engine.repo(files={"dvc.yaml": DVC_YAML, "params.yaml": PARAMS}, examples=False)

    first = repo.repro()
    assert sorted(first.ran) == ["make", "mark", "use", "where"], first.describe()
    assert first.ran.index("use") > max(first.ran.index("make"), first.ran.index("mark"))
    assert (repo.path / "b.txt").read_text() == "n=3\nlr=0.1\n"
    assert repo.stages_run() == first.ran

    nodes, edges = repo.dag()
    assert nodes == {"make", "mark", "use", "where"}
    assert edges == {("make", "use"), ("mark", "use")}
    assert repo.dag_edges() == edges

    again = repo.repro()
    assert again.ran == [] and again.cached == [], again.describe()
    assert sorted(again.unchanged) == ["make", "mark", "use", "where"]
    assert repo.status() == {} and repo.up_to_date()

    # A param listed by `make`: make re-runs, and `use` because data/a.txt changed; not `mark`.
    repo.set_param("n", 4)
    # (`${n}` is in its cmd too, so the resolved command changed as well)
    assert repo.status() == {"make": [{"changed deps": {"params.yaml": {"n": "modified"}}}, "changed command"]}
    assert sorted(repo.repro().ran) == ["make", "use"]
    assert (repo.path / "b.txt").read_text() == "n=4\nlr=0.1\n"

    # A nested param, listed as `train.lr` by `use` only.
    repo.set_param("train.lr", 0.2)
    assert repo.stages_run() == ["make", "use"]  # still the last repro's
    assert repo.repro().ran == ["use"]
    assert (repo.path / "b.txt").read_text() == "n=4\nlr=0.2\n"

    # A param no stage lists re-runs nothing; the file kept its comments.
    repo.set_param("other", 2)
    assert repo.repro().ran == []
    text = (repo.path / "params.yaml").read_text()
    assert text == PARAMS.replace("n: 3", "n: 4").replace("lr: 0.1", "lr: 0.2").replace("other: 1", "other: 2")
    assert repo.get_param("train.lr") == 0.2

    # Back to a value DVC has seen: the run cache restores `make`'s output instead of running it.
    repo.set_param("n", 3)
    back = repo.repro()
    assert back.cached == ["make"] and back.reproduced == {"make", "use"}, back.describe()
    assert repo.up_to_date()

    # Stages run the system's python3, never the engine venv's (its bin dir is last on PATH).
    prefix = (repo.path / "where.txt").read_text().strip()
    assert prefix and prefix != str(dvc_engine.python.parent.parent), prefix
    assert all(call.seconds < 60 for call in repo.calls), repo.timings()


def test_set_param_keeps_a_json_params_file_json(dvc_engine: DvcEngine) -> None:
    params = {"rows": 400, "model": {"kind": "logreg", "lr": 0.1}, "tags": ["a", "b"]}
    dvc_yaml = textwrap.dedent("""\
        stages:
          show:
            cmd: echo ${model.kind} ${rows} > shown.txt
            params:
              - model.kind
              - rows
            outs:
              - shown.txt
        """)
    repo = dvc_engine.repo(files={"dvc.yaml": dvc_yaml, "params.yaml": json.dumps(params, indent=2) + "\n"},
                           examples=False)
    repo.set_param("model.kind", "stump")
    expected = {"rows": 400, "model": {"kind": "stump", "lr": 0.1}, "tags": ["a", "b"]}
    assert (repo.path / "params.yaml").read_text() == json.dumps(expected, indent=2) + "\n"
    with pytest.raises(KeyError, match="no 'missing'"):
        repo.set_param("missing.key", 1)
    assert repo.repro().ran == ["show"]
    assert (repo.path / "shown.txt").read_text() == "stump 400\n"


def test_failed_repro_is_reported_with_dvc_output(dvc_engine: DvcEngine) -> None:
    repo = dvc_engine.repo(files={"dvc.yaml": "stages:\n  broken:\n    cmd: exit 7\n"}, examples=False)
    failed = repo.repro(check=False)
    assert not failed.ok and failed.ran == ["broken"]
    assert "exited with 7" in failed.call.output
    with pytest.raises(DvcError, match="exited with 7"):
        repo.repro()


def test_examples_copy_and_task_names(dvc_engine: DvcEngine) -> None:
    repo = dvc_engine.repo(files={"dvc.yaml": "stages:\n  noop:\n    cmd: 'true'\n"})
    assert (repo.path / "tinyml" / "ingest.py").is_file()
    assert not (repo.path / "invalid").exists() and not (repo.path / "data").exists()
    assert repo.git("status", "--porcelain").stdout == ""  # everything committed
    with pytest.raises(DvcError, match="would overwrite"):
        dvc_engine.repo(files={"README.md": "clobbered"})
    assert [task_of(s) for s in ("train@logreg", "tune_lr@0", "score@data/x.csv", "plain")] == [
        "train", "tune_lr", "score", "plain"]
