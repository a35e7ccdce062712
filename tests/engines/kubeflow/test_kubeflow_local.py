"""A pipeline made of python tasks, compiled by the Kubeflow backend and run to success on
kfp.local (SubprocessRunner, the engine venv's Python: tests/engines/kfp_local_runner.py), with a
param, artifacts between tasks, a value output read by a condition and an else branch, a
none_failed join after the branches, an all_done task and a loop.

Its artifacts must be the expected ones: byte for byte what the same tinyml calls write when made
directly, one after another, in a plain Python process. The python-only example
(examples/python_tasks.yaml) runs on kfp.local in tests/engines/test_conformance.py; the other
examples' shell tasks are container components, which kfp.local runs only with Docker.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_kfp_harness import LOCAL_RUNNER, pipeline_name, run_script

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[3]
PIPELINE = """\
name: local_python
params: {rows: 300, seed: 7, threshold: 0.0}
artifacts:
  raw: data/raw.csv
  clean: data/clean.csv
  train_set: data/train.csv
  test_set: data/test.csv
  model: {path: models/model.json, kind: model}
  metrics: {path: metrics/metrics.json, kind: metrics}
tasks:
  ingest:
    python: tinyml.ingest:main
    args: {out: "${{ artifacts.raw }}", rows: "${{ params.rows }}", seed: "${{ params.seed }}"}
    produces: [raw]
  clean:
    python: tinyml.clean:main
    args: {src: "${{ artifacts.raw }}", dst: "${{ artifacts.clean }}"}
    consumes: [raw]
    produces: [clean]
  split:
    python: tinyml.transform:main
    args: {src: "${{ artifacts.clean }}", train_out: "${{ artifacts.train_set }}",
           test_out: "${{ artifacts.test_set }}", seed: "${{ params.seed }}"}
    consumes: [clean]
    produces: [train_set, test_set]
  train:
    python: tinyml.train:main
    args: {train: "${{ artifacts.train_set }}", model_out: "${{ artifacts.model }}", seed: "${{ params.seed }}"}
    consumes: [train_set]
    produces: [model]
  evaluate:
    python: tinyml.evaluate:main
    args: {model: "${{ artifacts.model }}", data: "${{ artifacts.test_set }}", metrics_out: "${{ artifacts.metrics }}"}
    consumes: [model, test_set]
    produces: [metrics]
    outputs: {accuracy: float}
  good:
    python: tinyml.notify:main
    args: {message: "accuracy ${{ tasks.evaluate.outputs.accuracy }}", file: state/good.log}
    when: "tasks.evaluate.outputs.accuracy >= params.threshold"
  bad:
    python: tinyml.notify:main
    args: {message: "too low", file: state/bad.log}
    else_of: good
  record:
    python: tinyml.notify:main
    args: {message: "decided", file: state/record.log}
    after: [good, bad]
    trigger_rule: none_failed
  finish:
    python: tinyml.notify:main
    args: {message: "finished", file: state/finish.log}
    after: [train]
    trigger_rule: all_done
  extra:
    python: tinyml.ingest:main
    args: {out: "data/extra_${{ item }}.csv", rows: "${{ item }}", seed: 1}
    foreach: [20, 30]
    after: [clean]
"""
EXPECTED_CALLS = """
import json, sys
from tinyml import clean, evaluate, ingest, notify, train, transform
ingest.main(out="raw", rows=300, seed=7)
clean.main(src="raw", dst="clean")
transform.main(src="clean", train_out="train_set", test_out="test_set", seed=7)
train.main(train="train_set", model_out="model", seed=7)
accuracy = evaluate.main(model="model", data="test_set", metrics_out="metrics")
notify.main(message=f"accuracy {json.dumps(accuracy)}", file="state/good.log")
notify.main(message="decided", file="state/record.log")
notify.main(message="finished", file="state/finish.log")
for rows in (20, 30):
    ingest.main(out=f"data/extra_{rows}.csv", rows=rows, seed=1)
"""


def test_python_pipeline_runs_on_kfp_local_with_the_expected_artifacts(cli, kubeflow_python: Path,
                                                                       tmp_path: Path) -> None:
    source = tmp_path / "local_python.yaml"
    source.write_text(PIPELINE, encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "kfp"), "-q")
    assert result.exit_code == 0, result.stdout
    workdir = tmp_path / "work"
    shutil.copytree(ROOT / "examples" / "tinyml", workdir / "tinyml")
    code, report, stderr = run_script(kubeflow_python, LOCAL_RUNNER, str(tmp_path / "kfp" / "local_python.py"),
                                      str(workdir), cwd=workdir)
    assert code == 0 and report["status"] == "SUCCESS", (report.get("error"), stderr[-4000:])

    expected_dir = tmp_path / "expected"
    shutil.copytree(ROOT / "examples" / "tinyml", expected_dir / "tinyml")
    subprocess.run([sys.executable, "-c", EXPECTED_CALLS], cwd=expected_dir, check=True)

    artifacts = {pipeline_name(name): Path(entries[0]["uri"]) for task in report["tasks"].values()
                 for name, entries in task["artifacts"].items()}
    for name in ("raw", "clean", "train_set", "test_set", "model"):
        assert artifacts[name].read_bytes() == (expected_dir / name).read_bytes(), name
    # the metrics record where their inputs were: KFP's artifact paths there, plain names here
    metrics, expected_metrics = (json.loads(path.read_text()) for path in (artifacts["metrics"],
                                                                          expected_dir / "metrics"))
    inputs = {key for key, value in expected_metrics.items() if value in ("model", "test_set")}
    assert inputs and {k: v for k, v in metrics.items() if k not in inputs} == {
        k: v for k, v in expected_metrics.items() if k not in inputs}
    # files the tasks wrote into the working directory: the condition's branch and the loop's runs
    for relative in ("state/good.log", "state/record.log", "state/finish.log", "data/extra_20.csv",
                     "data/extra_30.csv"):
        assert (workdir / relative).read_bytes() == (expected_dir / relative).read_bytes(), relative
    assert not (workdir / "state" / "bad.log").exists()
    accuracy = report["tasks"]["evaluate"]["parameters"]["Output"]  # a python task's one output: kfp's `Output`
    assert json.loads((expected_dir / "metrics").read_text())["accuracy"] == pytest.approx(accuracy)


FAILING = """\
name: failing
alerts:
  - {on: failure, python: tinyml.notify:main, args: {message: "run failed", file: state/alerts.log}}
  - {on: success, command: "echo never > state/ok.log"}
tasks:
  ready:
    python: tinyml.notify:main
    args: {message: ready, file: state/ready.log}
    alerts:
      - {on: success, python: tinyml.notify:main, args: {message: "ready ok", file: state/task_alerts.log}}
      - {on: failure, command: "echo never > state/ready_failed.log"}
  deploy:
    python: tinyml.deploy:main
    args: {fail: true}
    after: [ready]
    alerts:
      - {on: failure, command: "echo 'deploy failed' >> state/task_alerts.log"}
"""


def test_pipeline_and_task_alerts_run_on_kfp_local(cli, kubeflow_python: Path, tmp_path: Path) -> None:
    source = tmp_path / "failing.yaml"
    source.write_text(FAILING, encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "kfp"), "-q")
    assert result.exit_code == 0, result.stdout
    workdir = tmp_path / "work"
    shutil.copytree(ROOT / "examples" / "tinyml", workdir / "tinyml")
    code, report, stderr = run_script(kubeflow_python, LOCAL_RUNNER, str(tmp_path / "kfp" / "failing.py"),
                                      str(workdir), cwd=workdir)
    assert code == 1 and report["status"] == "FAILURE", (report.get("error"), stderr[-4000:])
    assert (workdir / "state" / "ready.log").read_text() == "ready\n"
    assert (workdir / "state" / "alerts.log").read_text() == "run failed\n"  # the failure alert ran
    assert not (workdir / "state" / "ok.log").exists()  # the success alert did not
    # each task's alerts task acted on that task's own final state
    assert sorted((workdir / "state" / "task_alerts.log").read_text().splitlines()) == ["deploy failed", "ready ok"]
    assert not (workdir / "state" / "ready_failed.log").exists()
