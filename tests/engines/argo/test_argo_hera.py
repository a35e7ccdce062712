"""Every generated Argo YAML reads through hera 7.1.0's models (scripts/engines/hera.txt) and comes
back exactly: same keys, same values, same types. hera's models ignore unknown keys, so this is a
second typo check next to the strict schema (tests/backends/argo), from a different reading of the API.

argo_hera_check.py runs once, in the hera venv, over all the files; the tests read its report.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from engine_harness import ROOT, RUN_TIMEOUT

pytestmark = pytest.mark.engine

GOLDEN = ROOT / "golden"
GOLDEN_ARGO = sorted({*GOLDEN.glob("*/argo/**/*.yaml"), *GOLDEN.glob("*/argo/**/*.yml"),
                      *GOLDEN.glob("*/O2/argo/*.yaml")})  # -O2 output where it differs
CHECKER = Path(__file__).resolve().parents[1] / "argo_hera_check.py"


def hera_check(python: Path, files: list[Path], cwd: Path) -> dict[str, Any]:
    """argo_hera_check.py on FILES in one hera process: {file: {"documents": [...], "error": ...}}."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        process = subprocess.run([str(python), str(CHECKER), *map(str, files)], capture_output=True, text=True,
                                 check=False, env=env, cwd=cwd, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"argo_hera_check.py: no result after {RUN_TIMEOUT}s") from None
    assert process.returncode == 0, f"argo_hera_check.py failed (exit {process.returncode}):\n{process.stderr[-4000:]}"
    return json.loads(process.stdout.strip().splitlines()[-1])


def problems(result: dict[str, Any]) -> list[str]:
    """One line per difference: where, what, and both values."""
    lines = [f"error: {result['error']}"] if result["error"] else []
    for document in result["documents"]:
        lines += [f"{d['path']}: {d['problem']} (input {d['input']!r}, hera {d['hera']!r})"
                  for d in document["differences"]]
    return lines


# ----------------------------------------------------------------------------- the goldens


EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def golden_report(hera_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every golden Argo file, plus every example compiled for Argo v4 (hera 7 models v4: it drops
    the cache key that memoize needs up to 3.7) with a shared volume (the goldens have none), read
    by hera in one process."""
    from click.testing import CliRunner

    from compiler.cli.main import main

    out = tmp_path_factory.mktemp("argo-v4")
    for example in EXAMPLES:
        result = CliRunner().invoke(main, ["compile", str(example), "-t", "argo", "--option", "argo-version=4",
                                           "--option", "volume=pipeline-data", "-o", str(out / example.stem), "-q"])
        assert result.exit_code == 0, result.output
    files = [*GOLDEN_ARGO, *sorted(out.glob("*/*.yaml"))]
    report = hera_check(hera_python, files, tmp_path_factory.mktemp("hera"))
    return {_key(Path(name), out): result for name, result in report.items()}


def _key(path: Path, v4_dir: Path) -> str:
    return f"v4/{path.relative_to(v4_dir).as_posix()}" if v4_dir in path.parents else str(path)


def test_hera_reads_every_golden_argo_file(golden_report: dict[str, Any]) -> None:
    assert GOLDEN_ARGO, "no golden/*/argo/*.yaml files: the Argo backend's golden output is missing"
    assert set(map(str, GOLDEN_ARGO)) <= set(golden_report)
    empty = [name for name, result in golden_report.items() if not result["documents"]]
    assert not empty, f"files hera read nothing from: {empty}"
    argo = [d for result in golden_report.values() for d in result["documents"] if "skipped" not in d]
    assert argo, "no Argo resource among the golden files"


@pytest.mark.parametrize("path", GOLDEN_ARGO, ids=[p.relative_to(GOLDEN).as_posix() for p in GOLDEN_ARGO])
def test_golden_round_trips_through_hera(golden_report: dict[str, Any], path: Path) -> None:
    if "memoize" in path.read_text(encoding="utf-8"):
        # hera 7 drops the key memoize needs up to 3.7; the v4 compile is checked in full below.
        found = [p for p in problems(golden_report[str(path)]) if ".memoize.cache.configMap.key" not in p]
    else:
        found = problems(golden_report[str(path)])
    assert not found, f"{path.relative_to(ROOT)} does not round-trip through hera 7.1.0:\n" + "\n".join(found)


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_version_4_output_round_trips_through_hera(golden_report: dict[str, Any], example: Path) -> None:
    results = {name: result for name, result in golden_report.items() if name.startswith(f"v4/{example.stem}/")}
    assert results, f"no v4 output for {example.name}"
    found = [f"{name}: {line}" for name, result in sorted(results.items()) for line in problems(result)]
    assert not found, (f"{example.name} (argo-version=4, volume) does not round-trip through hera 7.1.0:\n"
                       + "\n".join(found))


# ----------------------------------------------------------------------------- the check can fail

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: demo-}
spec:
  entrypoint: main
  parallelism: 4
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: echo}
      - {name: b, template: echo, depends: a}
  - name: echo
    retryStrategy: {limit: "3", backoff: {duration: 10s, factor: "2"}}
    container: {image: "alpine:3.20", command: [echo, hi], resources: {requests: {cpu: 500m}}}
"""
SENSOR = """\
apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: on-data}
spec:
  dependencies: [{name: data, eventSourceName: minio, eventName: upload}]
  triggers:
  - template:
      name: run
      argoWorkflow:
        operation: submit
        source:
          resource:
WORKFLOW
        parameters: [{src: {dependencyName: data, dataKey: key}, dest: spec.arguments.parameters.0.value}]
    retryStrategy: {steps: 3, duration: 3s, factor: 2}
""".replace("WORKFLOW\n", textwrap.indent(WORKFLOW, " " * 12))

# name -> (YAML text, the differences the check must report as (path, start of the problem))
CASES = {
    "valid workflow": (WORKFLOW, []),
    "valid sensor": (SENSOR, []),
    "misspelled depends": (WORKFLOW.replace("depends: a", "dependz: a"),
                           [("document 0:spec.templates[0].dag.tasks[1].dependz", "dropped by hera")]),
    "integer as a string": (WORKFLOW.replace("parallelism: 4", "parallelism: '4'"),
                            [("document 0:spec.parallelism", "type str became int")]),
    "explicit null": (WORKFLOW.replace("entrypoint: main", "entrypoint: main\n  onExit: null"),
                      [("document 0:spec.onExit", "dropped by hera")]),
    "typo inside a sensor's workflow": (
        SENSOR.replace("depends: a", "dependz: a"),
        [("document 0:spec.triggers[0].template.argoWorkflow.source.resource:spec.templates[0].dag.tasks[1].dependz",
          "dropped by hera")]),
    "typo in a sensor": (SENSOR.replace("steps: 3", "stepz: 3"),
                         [("document 0:spec.triggers[0].retryStrategy.stepz", "dropped by hera")]),
    "second document": (WORKFLOW + "---\n" + WORKFLOW.replace("command:", "commandd:"),
                        [("document 1:spec.templates[1].container.commandd", "dropped by hera")]),
    # hera 7 follows Argo v4: memoize.cache.configMap is a LocalObjectReference, v3.7 needs `key`
    "memoize cache key": (WORKFLOW.replace("  - name: echo\n", "  - name: echo\n    memoize: {key: k, maxAge: 1h, "
                                                               "cache: {configMap: {name: c, key: echo}}}\n"),
                          [("document 0:spec.templates[1].memoize.cache.configMap.key", "dropped by hera")]),
    "config map": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits}\ndata: {train: '2'}\n", []),
    "unquoted quantity": (WORKFLOW.replace("cpu: 500m", "cpu: 1"),
                          [("document 0:spec.templates[1].container.resources.requests.cpu", "rejected:")]),
}


@pytest.fixture(scope="module")
def case_report(hera_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("hera-cases")
    files = []
    for index, (text, _) in enumerate(CASES.values()):
        files.append(directory / f"case{index}.yaml")
        files[-1].write_text(text, encoding="utf-8")
    report = hera_check(hera_python, files, directory)
    return {name: report[str(file)] for name, file in zip(CASES, files)}


@pytest.mark.parametrize("case", list(CASES))
def test_check_reports_exactly_what_does_not_round_trip(case_report: dict[str, Any], case: str) -> None:
    result = case_report[case]
    assert result["error"] is None
    skipped = [d for d in result["documents"] if "skipped" in d]
    assert bool(skipped) == (case == "config map"), result["documents"]  # only a non-Argo kind is skipped
    found = sorted((d["path"], d["problem"]) for document in result["documents"] for d in document["differences"])
    expected = sorted(CASES[case][1])
    assert len(found) == len(expected), problems(result)
    for (path, problem), (want_path, want_problem) in zip(found, expected):
        assert path == want_path and problem.startswith(want_problem), problems(result)
