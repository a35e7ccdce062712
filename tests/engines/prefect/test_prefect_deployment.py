"""Every generated prefect.yaml is read by Prefect 3.9.1's own deployment models (the code
`prefect deploy` runs), and its entrypoint loads the flow with the pipeline's parameters."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

from compiler.language.load import load_file

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CHECKER = Path(__file__).resolve().parents[1] / "prefect_deployment_check.py"


@pytest.fixture(scope="module")
def prefect_python() -> Path:
    spec = importlib.util.spec_from_file_location("engines", ROOT / "scripts" / "engines.py")
    engines = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(engines)
    try:
        return engines.ensure("prefect")
    except BaseException as exc:  # setup failures fail loudly, never skip
        pytest.fail(f"could not build the Prefect engine environment: {exc!r}")


def test_generated_deployments_load_in_prefect(cli, tmp_path: Path, prefect_python: Path) -> None:
    directories, pipelines = [], {}
    for example in EXAMPLES:
        out = tmp_path / example.stem
        result = cli("compile", str(example), "-t", "prefect", "-o", str(out), "-q")
        if result.exit_code != 0:
            assert "E301" in result.stdout, result.stdout  # only capability errors (churn's containers)
            continue
        directories.append(str(out))
        pipelines[str(out)] = load_file(example).pipeline
    assert len(directories) >= 7
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    done = subprocess.run([str(prefect_python), str(CHECKER), *directories], capture_output=True, text=True,
                          env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for directory, pipeline in pipelines.items():
        (deployment,) = report[directory]["deployments"]
        assert report[directory]["problems"] == []
        assert deployment["name"] == deployment["flow"] == pipeline.name
        assert deployment["parameters"] == sorted(pipeline.params)
        if pipeline.schedule is not None:
            assert deployment["timezones"] == [pipeline.schedule.timezone]
        else:
            assert deployment["schedules"] == []
        data_triggers = [t for t in pipeline.triggers if t.type.value in ("data", "continuous")]
        assert len(deployment["triggers"]) == len(data_triggers)
        assert deployment["concurrency_limit"] == pipeline.max_active_runs
