"""`dagshift diff EXAMPLE COMPILED`: every example, compiled by the real CLI to each non-engine
backend (not --strict), diffed with its own output. The diff must show exactly what
that backend cannot hold, nothing else:
- every difference is explained by the backend's own declarations: a feature it declares
  unsupported (`backend.support`, which the compile leaves out with W301), a compile warning
  at that path (W3xx), or a field its importer declares not carried (`Importer.not_carried`);
- every setting the compile step dropped shows up in the diff.
Kubeflow is left out here: its PipelineSpec is produced by kfp, which lives in the engine venv.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from compiler.api import check_file
from compiler.backends import registry
from compiler.backends.base import Level
from compiler.compile import fold_defaults
from compiler.importers import get
from compiler.language.features import feature_uses
from compiler.passes.optimize import optimize

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
BACKENDS = ("airflow", "argo", "dvc", "prefect")


def _entry(backend: str, out: Path, name: str) -> Path:
    """The file of a backend's output that diff reads (its importer finds the companions)."""
    if backend in ("airflow", "prefect"):
        return out / f"{name}.py"
    if backend == "dvc":
        return out / "dvc.yaml"
    return next(p for p in (out / "workflow.yaml", out / "cronworkflow.yaml", out / "workflowtemplate.yaml")
                if p.exists())


def _path(text: str) -> tuple[str, ...]:
    """`triggers[1].poll_interval` -> ('triggers', '1', 'poll_interval'). A diagnostic at a
    `defaults` key is about the tasks that inherit it, which is where the diff (of the pipeline
    with defaults applied) shows it: `defaults.pool` -> ('tasks', '*', 'pool')."""
    parts = tuple(part for part in re.split(r"[.\[\]]+", text) if part)
    return ("tasks", "*", *parts[1:]) if parts[:1] == ("defaults",) else parts


def _related(one: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """One path is within the other (`*` matches any one part)."""
    size = min(len(one), len(other))
    return all(x == y or "*" in (x, y) for x, y in zip(one[:size], other[:size]))


def _compile(cli, example: str, backend: str, out: Path):
    result = cli("compile", f"examples/{example}.yaml", "-t", backend, "-o", str(out), "-q",
                 "--format", "json")
    return result, (json.loads(result.stdout) if result.stdout.strip() else [])


def _unsupported_paths(example: str, backend_name: str) -> list[tuple[str, ...]]:
    """Where the pipeline (as compiled, -O1) uses a feature the backend declares unsupported."""
    loaded = check_file(ROOT / "examples" / f"{example}.yaml")
    pipeline = optimize(fold_defaults(loaded.pipeline), 1).pipeline
    backend = registry.get(backend_name)
    return [tuple(str(p) for p in use.path) for use in feature_uses(pipeline)
            if backend.support(use.feature, {}).level is Level.UNSUPPORTED]


def _field_path(field: str) -> tuple[str, ...]:
    """A diff's field path as parts; an artifact's name may hold dots (DVC names it by its path)."""
    if field.startswith("artifacts.") and field.count(".") > 1:
        name, _, rest = field[len("artifacts."):].rpartition(".")
        return ("artifacts", name, rest)
    return tuple(field.split("."))


def _reported_paths(report: dict) -> list[tuple[str, ...]]:
    paths = [_field_path(field) for field in report["pipeline"]]
    for task, fields in report["tasks"]["changed"].items():
        paths += [("tasks", task, *field.split(".")) for field in fields]
    return paths


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_diff_with_compiled_output_shows_only_what_the_backend_cannot_hold(cli, tmp_path: Path, example: str,
                                                                          backend: str) -> None:
    out = tmp_path / "out"
    compiled, diagnostics = _compile(cli, example, backend, out)
    if compiled.exit_code != 0:  # the backend cannot express it at all (golden diagnostics pin why)
        assert compiled.exit_code == 1 and any(d["code"].startswith("E30") for d in diagnostics), compiled.stdout
        return
    name = check_file(ROOT / "examples" / f"{example}.yaml").pipeline.name
    result = cli("diff", f"examples/{example}.yaml", str(_entry(backend, out, name)), "--format", "json")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["same"] is (result.exit_code == 0)

    # A backend keeps every task and the order between them.
    assert report["tasks"] == {**report["tasks"], "added": [], "removed": [], "renamed": []}, report["tasks"]
    assert report["edges"] == {"added": [], "removed": []}

    unsupported = _unsupported_paths(example, backend)
    warned = [_path(d["path"]) for d in diagnostics if d["severity"] == "warning" and d["code"].startswith("W3")]
    not_carried = [tuple(p.split(".")) for p in get(backend).not_carried]
    explained = unsupported + warned + not_carried
    reported = _reported_paths(report)
    unexplained = [p for p in reported if not any(_related(p, e) for e in explained)]
    assert not unexplained, f"differences the {backend} backend declares it can hold: {unexplained}"

    dropped = [_path(d["path"]) for d in diagnostics if d["code"] == "W301"]
    missing = [p for p in dropped if not any(_related(p, r) for r in reported)]
    assert not missing, f"settings the compile left out that the diff does not show: {missing}"


def test_dvc_diff_shows_the_schedule_it_cannot_hold(cli, tmp_path: Path) -> None:
    out = tmp_path / "dvc"
    compiled, _ = _compile(cli, "sequential", "dvc", out)
    assert compiled.exit_code == 0, compiled.stdout
    result = cli("diff", "examples/sequential.yaml", str(out / "dvc.yaml"))
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "- schedule:" in result.stdout and '"0 3 * * *"' in result.stdout


def test_minimal_example_survives_airflow_whole(cli, tmp_path: Path) -> None:
    out = tmp_path / "airflow"
    compiled, _ = _compile(cli, "minimal", "airflow", out)
    assert compiled.exit_code == 0, compiled.stdout
    result = cli("diff", "examples/minimal.yaml", str(out / "minimal.py"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "no differences" in result.stdout


def test_the_check_catches_a_difference_the_backend_could_hold(cli, tmp_path: Path) -> None:
    """The explanation check above is not vacuous: a compiled output of an edited pipeline differs
    in a setting Airflow holds (the command), and nothing declares it lost."""
    edited = tmp_path / "sequential.yaml"
    edited.write_text((ROOT / "examples" / "sequential.yaml").read_text().replace("tinyml.ingest", "tinyml.fetch"))
    out = tmp_path / "airflow"
    compiled = cli("compile", str(edited), "-t", "airflow", "-o", str(out), "-q")
    assert compiled.exit_code == 0, compiled.stdout
    result = cli("diff", "examples/sequential.yaml", str(out / "sequential.py"), "--format", "json")
    assert result.exit_code == 1
    reported = _reported_paths(json.loads(result.stdout))
    explained = _unsupported_paths("sequential", "airflow") + [tuple(p.split(".")) for p in get("airflow").not_carried]
    assert [p for p in reported if not any(_related(p, e) for e in explained)] == [("tasks", "ingest", "command")]
