"""Kubeflow round trip: every example compiled by kfp 2.17.3 (dagshift run by the kubeflow engine
venv's python, which then writes <name>.yaml, the PipelineSpec) and imported back by the main
venv's dagshift (compiler/importers/kubeflow/importer.py) is the pipeline the backend was given, with no
loss, as far as the format carries it (`KubeflowImporter.carried`), as
tests/importers/test_round_trip.py checks for the other formats. The schedule and max_active_runs
come back from the recurring_run.yaml the backend writes next to the spec (sequential's).

That includes what the backend writes with helper tasks: failure trigger rules (final-state
probes and a dsl.If on their output), task alerts (alerts tasks), pipeline alerts (the exit
handler's exit task), the workdir (`cd` / `os.chdir`), argv rebuilt by sh from argument groups,
the else branch of an `and` written once per nested dsl.If, and joins written in each branch.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "importers"))
from test_round_trip import EXAMPLES, expected_pipeline

from compiler.api import check_text
from compiler.importers import Grade, get, import_file, pipeline_yaml

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[3]


def _kfp_spec(kubeflow_python: Path, example: str, out: Path, level: int) -> Path:
    result = subprocess.run([str(kubeflow_python), "-m", "compiler", "compile", f"examples/{example}.yaml", "-t",
                             "kubeflow", "-o", str(out), "-q", f"-O{level}"],
                            check=False, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (spec,) = [p for p in out.glob("*.yaml") if p.name != "recurring_run.yaml"]
    return spec


@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("example", EXAMPLES)
def test_kfp_pipeline_spec_imports_back(kubeflow_python: Path, tmp_path: Path, example: str, level: int) -> None:
    expected = expected_pipeline(example, "kubeflow", level)
    assert expected is not None
    spec = _kfp_spec(kubeflow_python, example, tmp_path / "out", level)
    (imported,) = import_file(spec, "kubeflow")
    assert imported.grade is Grade.AUTOMATIC, [str(d) for d in imported.diagnostics]  # its own output: no loss
    back = check_text(pipeline_yaml(imported), imported.file)
    assert not back.diagnostics.has_errors, [str(d) for d in back.diagnostics]
    assert back.pipeline.name == re.sub(r"[^a-z0-9-]", "-", expected.name.lower())
    importer = get("kubeflow")
    assert importer.carried(back.pipeline) == importer.carried(expected)


def test_the_helpers_are_read_back_not_dropped(kubeflow_python: Path, tmp_path: Path) -> None:
    """The constructs dagshift writes with helper tasks come back as themselves (and not only
    because `carried` leaves them out)."""
    spec = _kfp_spec(kubeflow_python, "churn", tmp_path / "out", 1)
    (imported,) = import_file(spec, "kubeflow")
    data = imported.data
    assert data is not None
    assert data["workdir"] == "/srv/churn" and data["timeout"] == 10800
    assert data["alerts"] == [{"on": "failure", "command": "python3 -m tinyml.notify --file /srv/churn/alerts.log "
                                                          "--message 'churn-training failed'"}]
    tasks = data["tasks"]
    assert tasks["page_oncall"]["trigger_rule"] == "one_failed" and tasks["page_oncall"]["after"] == ["publish"]
    assert tasks["hold"]["else_of"] == "publish" and "when" not in tasks["hold"]
    assert tasks["announce"]["trigger_rule"] == "none_failed"
    assert tasks["publish"]["alerts"][0]["on"] == "failure"
    assert tasks["clean"]["command"] == "python3 -m tinyml.clean"
    assert tasks["clean"]["args"] == ["--src", "s3://acme-ml/churn/incoming/customers.csv", "--dst",
                                      "${{ artifacts.clean }}"]
    assert tasks["validate"]["image"] == "ghcr.io/acme/churn-etl:2.3"
    assert tasks["publish"]["when"] == "tasks.evaluate.outputs.accuracy >= params.threshold and params.mode == 'full'"


def test_the_schedule_comes_back_from_the_recurring_run(kubeflow_python: Path, tmp_path: Path) -> None:
    """sequential's schedule (a 6-field KFP cron, no_catchup, max_concurrency, start_time and the
    time zone of the header) is read back from recurring_run.yaml, with no loss."""
    spec = _kfp_spec(kubeflow_python, "sequential", tmp_path / "out", 1)
    assert (spec.parent / "recurring_run.yaml").is_file()
    (imported,) = import_file(spec, "kubeflow")
    assert imported.grade is Grade.AUTOMATIC, [str(d) for d in imported.diagnostics]
    back = check_text(pipeline_yaml(imported), imported.file).pipeline
    expected = expected_pipeline("sequential", "kubeflow", 1)
    assert back.schedule == expected.schedule and back.schedule is not None
    assert (back.schedule.cron, back.schedule.timezone, str(back.schedule.start_date), back.schedule.catchup) == (
        "0 3 * * *", "Europe/Berlin", "2025-01-01", False)
    assert back.max_active_runs == 1  # the backend's max_concurrency when the pipeline sets none
