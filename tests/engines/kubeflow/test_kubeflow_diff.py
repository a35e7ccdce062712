"""`dagshift diff EXAMPLE SPEC` for Kubeflow, as tests/test_diff_backends.py does for the other
backends: the PipelineSpec is compiled by kfp (the kubeflow engine venv's python runs dagshift),
then diffed by the main venv's dagshift. Every difference must be something Kubeflow declares it
cannot hold, and every setting the compile left out must show."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from test_diff_backends import EXAMPLES, _path, _related, _reported_paths, _unsupported_paths

from compiler.importers import get

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("example", EXAMPLES)
def test_diff_with_the_kfp_spec_shows_only_what_kubeflow_cannot_hold(kubeflow_python: Path, cli, tmp_path: Path,
                                                                     example: str) -> None:
    out = tmp_path / "out"
    compiled = subprocess.run([str(kubeflow_python), "-m", "compiler", "compile", f"examples/{example}.yaml", "-t",
                               "kubeflow", "-o", str(out), "-q", "--format", "json"],
                              check=False, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    diagnostics = json.loads(compiled.stdout) if compiled.stdout.strip() else []
    (spec,) = [p for p in out.glob("*.yaml") if p.name != "recurring_run.yaml"]

    result = cli("diff", f"examples/{example}.yaml", str(spec), "--format", "json")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["tasks"] == {**report["tasks"], "added": [], "removed": [], "renamed": []}, report["tasks"]
    assert report["edges"] == {"added": [], "removed": []}

    explained = _unsupported_paths(example, "kubeflow")
    explained += [_path(d["path"]) for d in diagnostics if d["severity"] == "warning" and d["code"].startswith("W3")]
    explained += [tuple(p.split(".")) for p in get("kubeflow").not_carried]
    reported = _reported_paths(report)
    unexplained = [p for p in reported if not any(_related(p, e) for e in explained)]
    assert not unexplained, f"differences Kubeflow declares it can hold: {unexplained}"
    dropped = [_path(d["path"]) for d in diagnostics if d["code"] == "W301"]
    assert not [p for p in dropped if not any(_related(p, r) for r in reported)]
