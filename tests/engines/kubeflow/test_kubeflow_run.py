"""`dagshift run -t kubeflow` on the real kfp.local (kfp 2.17.3, scripts/engines/kubeflow.txt), given
with --engine-python: the python-only example run with the SubprocessRunner, each task's (and each
ParallelFor iteration's) state changes as they happen, its artifacts copied from kfp.local's store
to their pipeline paths, so the working directory ends as the conformance test's kfp.local run
leaves it; a failing python task retried, then failing the run. A pipeline with a shell task is
refused before any engine starts: tests/test_run_cli.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_harness import EXAMPLES, load_pipeline
from run_harness import dagshift_run, fresh_workdir
from test_conformance import PYTHON_ONLY, produced, snapshot

pytestmark = [pytest.mark.engine, pytest.mark.slow]

PYTHON_TASKS = EXAMPLES / "python_tasks.yaml"
# What python_tasks writes besides its declared artifacts (its header): a model per candidate, the
# deployed model with the default threshold, and the decision. With the artifacts at their paths,
# what every engine of the conformance test leaves, kfp.local's run included.
PLAIN_FILES = {"models/logreg.json", "models/stump.json", "models/centroid.json", "deployed/model.json",
               "deployed/manifest.json", "state/decisions.log"}


def test_the_python_only_example_runs_and_leaves_what_the_conformance_run_leaves(kubeflow_python: Path,
                                                                                 tmp_path: Path) -> None:
    assert "python_tasks" in PYTHON_ONLY  # what the conformance test runs on kfp.local
    pipeline = load_pipeline(PYTHON_TASKS)
    workdir = fresh_workdir(tmp_path)
    before = snapshot(workdir)
    run = dagshift_run(str(PYTHON_TASKS), "-t", "kubeflow", "--engine-python", str(kubeflow_python), "--format",
                       "json", workdir=workdir)
    assert run.code == 0, run.describe()
    report = run.report
    assert report["succeeded"] is True and report["target"] == "kubeflow" and report["error"] is None
    expected = [(task, None) for task in ("ingest", "clean", "split", "holdout")]
    expected += [("train", str(index)) for index in range(3)]  # params.models: one iteration each
    expected += [(task, None) for task in ("pick_best", "evaluate", "deploy", "announce")]
    ran = [(t["task"], t["instance"]) for t in report["tasks"] if t["state"] == "succeeded" and t["tries"] == 1]
    assert ran == expected, report["tasks"]
    assert report["tasks"][-1] == {"task": "keep_previous", "instance": None, "state": "skipped", "tries": 0,
                                   "seconds": None}  # the else branch of deploy's condition
    assert all(t["seconds"] is not None and t["seconds"] >= 0 for t in report["tasks"][:-1])
    # every declared value output, as the pipeline names it (not kfp's `Output` or o_NAME), ints as ints
    assert set(report["values"]) == {t["task"] + (f"[{t['instance']}]" if t["instance"] is not None else "") + f".{name}"
                                     for t in report["tasks"][:-1] for name in pipeline.tasks[t["task"]].outputs}
    assert (report["values"]["pick_best.name"], report["values"]["pick_best.accuracy"]) == ('"logreg"', "0.8333")
    logs = Path(report["logs"])
    assert logs.parent == workdir / ".dagshift" / "runs" and (logs / "engine.log").stat().st_size > 0
    note = (f"kfp.local stored the pipeline's artifacts under {logs / 'pipeline-root'}: copied "
            f"{len(pipeline.artifacts)} to their paths in {workdir}")
    assert report["notes"] == [note]

    mine = produced(before, workdir)
    artifacts = {str(artifact.path): name for name, artifact in pipeline.artifacts.items()}
    assert sorted(mine) == sorted(PLAIN_FILES | set(artifacts))
    for path, name in artifacts.items():  # each the very file kfp.local stored: the output NAME (or a_NAME)
        stored = [file for file in (logs / "pipeline-root").rglob("*")
                  if file.name in (name, f"a_{name}") and file.is_file()]
        assert len(stored) == 1 and stored[0].read_bytes() == mine[path], (path, stored)
    assert mine["state/decisions.log"].decode().startswith("deployed logreg (validation accuracy 0.8333")


def test_a_failing_python_task_is_retried_then_fails_the_run(kubeflow_python: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "steps.py").write_text("from pathlib import Path\n\n\ndef ok(name):\n    Path(name).write_text('ok')\n"
                                      "\n\ndef fail():\n    raise RuntimeError('boom')\n", encoding="utf-8")
    pipeline = tmp_path / "failing.yaml"
    pipeline.write_text("name: failing\ntasks:\n  ok:\n    python: steps:ok\n    args: {name: ok.txt}\n"
                        "  fails:\n    python: steps:fail\n    after: [ok]\n    retries: 1\n    retry_delay: 1s\n"
                        "  downstream:\n    python: steps:ok\n    args: {name: never.txt}\n    after: [fails]\n",
                        encoding="utf-8")
    run = dagshift_run(str(pipeline), "-t", "kubeflow", "--engine-python", str(kubeflow_python), "--logs",
                       str(tmp_path / "logs"), workdir=workdir)
    assert run.code == 1, run.describe()
    lines = run.stdout.splitlines()
    changes = [line.split("] ", 1)[1] for line in lines if line.startswith("[")]
    assert changes == ["ok started (try 1)", "ok succeeded", "fails started (try 1)", "fails retried (try 1)",
                       "fails started (try 2)", "fails failed (try 2)", "downstream not run"], run.stdout
    table = lines[lines.index(next(line for line in lines if line.startswith("task "))):]
    assert [row.split()[:3] for row in table[2:5]] == [["ok", "succeeded", "1"], ["fails", "failed", "2"],
                                                       ["downstream", "not", "run"]]
    assert "run failed on kubeflow: fails failed" in run.stdout
    assert "RuntimeError: boom" in (tmp_path / "logs" / "engine.log").read_text()
    assert (workdir / "ok.txt").read_text() == "ok" and not (workdir / "never.txt").exists()
