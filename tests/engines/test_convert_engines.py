"""`dagshift convert` on the real engines: every runnable example compiled for one orchestrator,
converted by `dagshift convert` to another, and run there, leaves the same files, byte for byte,
as the example run directly (tests/engines/test_conformance.py runs the examples the same way).

The sources (what a user migrates from), per runnable example:

| source   | compiled with                                       | converted to |
| -------- | --------------------------------------------------- | ------------ |
| airflow  | `compile -t airflow`                                | prefect      |
| prefect  | `compile -t prefect`                                | airflow      |
| argo     | `compile -t argo` (the Workflow, CronWorkflow or     | prefect      |
|          | WorkflowTemplate document; Argo cannot run here)    |              |
| dvc      | `compile -t dvc` (the four examples DVC compiles:   | prefect      |
|          | test_conformance.DVC_LEAVES_OUT)                    |              |
| kubeflow | `compile -t kubeflow` by the kubeflow engine venv   | prefect      |
|          | (kfp writes NAME.yaml); every example: it leaves    |              |
|          | out only schedules, triggers, task limits and       |              |
|          | labels, never what a run does                       |              |

Argo, DVC and Kubeflow sources are converted to Prefect only: a Prefect run costs a second or two,
a dag.test() twenty or more, and the Airflow side of the importers and the backend is already
proven by airflow -> prefect and prefect -> airflow (the whole suite must stay under 20 minutes).

Each conversion is `dagshift convert SOURCE --to TARGET -o DIR` through the real CLI, with no
option: it must succeed. Its output runs through the engine harness (Airflow:
dag.test() through airflow_runner.py in a fresh copy of examples/; Prefect: prefect_runner.py),
with its defaults, and must end as the example does (FAILS_BY_DESIGN) and leave exactly the files
the direct Prefect run of the example leaves: created, changed and removed files, byte for byte
(test_conformance.py checks that the direct runs agree on every engine, so one direct run is the
reference). The DAG id / flow is the imported pipeline's name.

Documented losses the comparison allows for (docs/importers.md, `Importer.not_carried`):
* Kubeflow does not carry artifacts' paths (KFP chooses URIs; an imported artifact's path is its
  name): a file the converted run wrote at an artifact's imported path is compared at the path
  the example gives that artifact, and a file whose direct bytes hold one of those paths (or its
  file name) must exist but may differ: the tinyml tasks write the paths they are given into
  metrics.json and the deploy manifest, and name models after their files. Only where the
  source format lists `artifacts.*.path` as not carried; everywhere else every file must be at
  the same path with the same bytes.

A conversion whose generated file is the direct compile's file, or another conversion's, but for
comment lines (the header names the source) is not run again: its run is that one's (same file,
same engine, same defaults). All runs start at once in the background: the Airflow ones
AIRFLOW_WORKERS at a time (a dag.test() waits more than it computes), the Prefect ones in
PREFECT_PROCESSES prefect_runner.py processes.

A conversion known to differ is listed in KNOWN_DIFFERENCES with the bug (an xfail with
strict=True: it must keep failing until fixed, then leave the list).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from engine_harness import ROOT, AirflowEngine, DagRun, PrefectEngine, PrefectReport, load_pipeline
from test_conformance import (
    AIRFLOW,
    DVC_LEAVES_OUT,
    EXAMPLE_NAMES,
    FAILS_BY_DESIGN,
    PREFECT,
    RUNNABLE,
    UNTOUCHED,
    EngineRun,
    Pending,
    describe_difference,
    produced,
    snapshot,
)

from compiler.importers import get, import_file
from compiler.language.naming import python_name

pytestmark = [pytest.mark.engine, pytest.mark.slow]

ARGO, DVC, KUBEFLOW = "argo", "dvc", "kubeflow"
TARGETS = {AIRFLOW: (PREFECT,), PREFECT: (AIRFLOW,), ARGO: (PREFECT,), DVC: (PREFECT,), KUBEFLOW: (PREFECT,)}
SOURCES: dict[str, tuple[str, ...]] = {
    example: (AIRFLOW, PREFECT, ARGO) + ((DVC,) if example in DVC_LEAVES_OUT else ()) + (KUBEFLOW,)
    for example in RUNNABLE
}
CONVERSIONS = [(example, source, target) for example, sources in SOURCES.items() for source in sources
               for target in TARGETS[source]]
ARGO_DOCUMENTS = ("workflow.yaml", "cronworkflow.yaml", "workflowtemplate.yaml")  # not sensor.yaml / eventsource

# (example, source, target) -> the bug that makes the converted run differ (xfail, strict).
KNOWN_DIFFERENCES: dict[tuple[str, str, str], str] = {}


def conversion_id(conversion: tuple[str, str, str]) -> str:
    example, source, target = conversion
    return f"{example}-{source}-to-{target}"


# ----------------------------------------------------------------------------- compiling


@dataclass
class Step:
    """One `dagshift compile` or `dagshift convert` through the real CLI."""

    exit_code: int
    output: str
    outdir: Path

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def files(self) -> list[Path]:
        return sorted(p for p in self.outdir.rglob("*") if p.is_file()) if self.outdir.exists() else []


def cli(*args: str, outdir: Path) -> Step:
    from compiler.cli.main import main

    result = CliRunner().invoke(main, [*args, "-o", str(outdir), "-q"], catch_exceptions=True)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += f"\n{result.exception!r}"
    return Step(result.exit_code, output, outdir)


def kfp_compile(python: Path, example: str, outdir: Path) -> Step:
    """The kubeflow engine venv's dagshift (kfp installed) writes NAME.py and NAME.yaml."""
    process = subprocess.run([str(python), "-m", "compiler", "compile", f"examples/{example}.yaml", "-t", "kubeflow",
                              "-o", str(outdir), "-q"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300, check=False)
    return Step(process.returncode, process.stdout + process.stderr, outdir)


def source_file(source: str, step: Step) -> Path | None:
    """The file a user would hand to `dagshift convert`."""
    files = step.files()
    if source in (AIRFLOW, PREFECT):
        found = [p for p in files if p.suffix == ".py"]
    elif source == ARGO:
        found = sorted((p for p in files if p.name in ARGO_DOCUMENTS), key=lambda p: ARGO_DOCUMENTS.index(p.name))
    elif source == DVC:
        found = [p for p in files if p.name == "dvc.yaml"]
    else:
        found = [p for p in files if p.suffix == ".yaml" and p.name != "recurring_run.yaml"]
    return found[0] if found else None


def behaviour(path: Path) -> str:
    """A generated module without its comment lines (the header names the source file)."""
    return "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith("#"))


@dataclass
class Converted:
    example: str
    source: str
    target: str
    source_file: Path | None
    step: Step | None
    module: Path | None = None
    name: str = ""  # the imported pipeline's name: the DAG id / the flow
    relocate: dict[str, str] = field(default_factory=dict)  # imported artifact path -> the example's path

    @property
    def ok(self) -> bool:
        return self.step is not None and self.step.ok and self.module is not None

    def describe(self) -> str:
        if self.step is None:
            return f"{self.example}: no {self.source} file to convert"
        return f"dagshift convert {self.source_file} --to {self.target} (exit {self.step.exit_code}):\n{self.step.output}"


@dataclass
class Generated:
    root: Path
    direct: dict[tuple[str, str], Step] = field(default_factory=dict)  # (example, format) -> compile
    converted: dict[tuple[str, str, str], Converted] = field(default_factory=dict)


def _relocations(example: str, source: str, imported: dict[str, Any]) -> dict[str, str]:
    """Where the format does not carry artifact paths: imported path -> the example's path."""
    if "artifacts.*.path" not in get(source).not_carried:
        return {}
    pipeline = load_pipeline(ROOT / "examples" / f"{example}.yaml")
    moves = {}
    for name, artifact in (imported.get("artifacts") or {}).items():
        original = pipeline.artifacts.get(name)
        if original is not None and not artifact.get("external") and str(artifact["path"]) != original.path:
            moves[str(artifact["path"])] = Path(original.path).as_posix()
    return moves


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, kubeflow_python: Path) -> Generated:
    """Every example compiled to each source format, and each source converted to its targets
    (click in the main thread; kfp compiles in the background meanwhile)."""
    generated = Generated(tmp_path_factory.mktemp("convert"))
    root = generated.root
    with ThreadPoolExecutor(max_workers=2) as pool:
        kfp = {example: pool.submit(kfp_compile, kubeflow_python, example, root / "source" / KUBEFLOW / example)
               for example in RUNNABLE}
        for example, sources in SOURCES.items():
            path = str(ROOT / "examples" / f"{example}.yaml")
            for fmt in (AIRFLOW, PREFECT, ARGO, DVC):
                if fmt in sources:
                    generated.direct[(example, fmt)] = cli("compile", path, "-t", fmt,
                                                           outdir=root / "source" / fmt / example)
        for example in RUNNABLE:
            generated.direct[(example, KUBEFLOW)] = kfp[example].result()
    for example, source, target in CONVERSIONS:
        compiled = generated.direct[(example, source)]
        file = source_file(source, compiled) if compiled.ok else None
        step = None
        if file is not None:
            step = cli("convert", str(file), "--to", target, outdir=root / "converted" / f"{source}-to-{target}" / example)
        item = Converted(example, source, target, file, step)
        if step is not None and step.ok:
            modules = [p for p in step.files() if p.suffix == ".py"]
            item.module = modules[0] if len(modules) == 1 else None
            (imported,) = import_file(file, source)
            assert imported.data is not None, [str(d) for d in imported.diagnostics]
            item.name = imported.name
            item.relocate = _relocations(example, source, imported.data)
        generated.converted[(example, source, target)] = item
    return generated


# ----------------------------------------------------------------------------- the runs


def _airflow_reader(example: str, before: dict[str, bytes]) -> Callable[[DagRun], EngineRun]:
    expected = "failed" if example in FAILS_BY_DESIGN else "success"

    def read(run: DagRun) -> EngineRun:
        assert run.workdir is not None
        return EngineRun(example, AIRFLOW, run.state == expected, run.summary(), produced(before, run.workdir))
    return read


def _prefect_reader(example: str, workdir: Path, before: dict[str, bytes]) -> Callable[[PrefectReport], EngineRun]:
    expected = "FAILED" if example in FAILS_BY_DESIGN else "COMPLETED"

    def read(report: PrefectReport) -> EngineRun:
        run = report.flow_run(example)
        return EngineRun(example, PREFECT, run.state == expected, run.summary(), produced(before, workdir))
    return read


def relocated(run: EngineRun, moves: dict[str, str]) -> EngineRun:
    """The run's files with each artifact at the example's path for it (see the docstring)."""
    if not moves:
        return run
    artifacts: dict[str, bytes | None] = {}
    for path, data in run.artifacts.items():
        for imported, original in moves.items():
            if path == imported or path.startswith(imported + "/"):
                path = original + path[len(imported):]
                break
        artifacts[path] = data
    return EngineRun(run.example, run.engine, run.ok, run.detail, artifacts)


def mentions(data: Any, moves: dict[str, str]) -> bool:
    """Whether DATA (a direct run's file) holds one of the example's artifact paths, or its file
    name without the extension, that the conversion moved: a task handed the imported path writes
    that instead (the tinyml tasks record their inputs in metrics.json and the deploy manifest,
    and name models after their files)."""
    if not moves or not isinstance(data, bytes):
        return False
    words = {w for original in moves.values() for w in (original, Path(original).name, Path(original).stem)}
    return any(word.encode() in data for word in words)


@dataclass
class Runs:
    direct: dict[tuple[str, str], Pending]  # (example, engine)
    converted: dict[tuple[str, str, str], Pending]
    shared: dict[tuple[str, str, str], str]  # a conversion run as another: what it shares


AIRFLOW_WORKERS = 6  # dag.test() waits more than it computes: more runs at once than the engine's pool
PREFECT_PROCESSES = 3


@pytest.fixture(scope="module")
def runs(generated: Generated, airflow_engine: AirflowEngine, prefect_engine: PrefectEngine):
    """The direct Prefect run of every example (the reference: test_conformance.py checks that the
    direct runs agree on every engine) and one run of every distinct converted file; all in the
    background at once."""
    jobs: dict[str, list[tuple[Any, Path, str, str]]] = {AIRFLOW: [], PREFECT: []}  # key, module, name, example
    by_text: dict[tuple[str, str], Any] = {}
    shared: dict[tuple[str, str, str], str] = {}
    alias: dict[Any, Any] = {}
    for example in RUNNABLE:
        module = next(p for p in generated.direct[(example, PREFECT)].files() if p.suffix == ".py")
        key = (example, PREFECT)
        by_text[(PREFECT, behaviour(module))] = key
        jobs[PREFECT].append((key, module, load_pipeline(ROOT / "examples" / f"{example}.yaml").name, example))
    for key, item in generated.converted.items():
        if not item.ok:
            continue
        assert item.module is not None
        text = (item.target, behaviour(item.module))
        if text in by_text:
            alias[key] = by_text[text]
            shared[key] = "direct " + by_text[text][1] if len(by_text[text]) == 2 else conversion_id(by_text[text])
            continue
        by_text[text] = key
        jobs[item.target].append((key, item.module, item.name, item.example))

    pending: dict[Any, Pending] = {}
    # Prefect: a few engine processes, each running its share of the flows one after the other.
    for index in range(PREFECT_PROCESSES):
        plan, readers = [], {}
        for key, module, name, example in jobs[PREFECT][index::PREFECT_PROCESSES]:
            workdir = prefect_engine.workdir()
            run_key = f"{index}-" + "-".join(key)
            plan.append({"key": run_key, "module": str(module), "params": {}, "workdir": str(workdir),
                         "flow": python_name(name)})
            readers[key] = (run_key, _prefect_reader(example, workdir, snapshot(workdir)))
        if plan:
            report = prefect_engine.submit(prefect_engine.runner, {"inspect": [], "runs": plan})
            for key, (run_key, read) in readers.items():
                pending[key] = Pending(key[0], PREFECT, report, _keyed(run_key, read))
    before = snapshot(airflow_engine.workdir())
    with ThreadPoolExecutor(max_workers=AIRFLOW_WORKERS) as pool:
        for key, module, name, example in jobs[AIRFLOW]:
            future: Future = pool.submit(airflow_engine.dag_test, module, name)
            pending[key] = Pending(example, AIRFLOW, future, _airflow_reader(example, before))
        converted = {key: pending[alias.get(key, key)] for key, item in generated.converted.items() if item.ok}
        yield Runs({key: pending[key] for key in pending if len(key) == 2}, converted, shared)


def _keyed(run_key: str, read):
    """prefect_runner.py's report holds the run under RUN_KEY; the reader looks up the example."""
    class _Report:
        def __init__(self, report):
            self.report = report

        def flow_run(self, _example: str):
            return self.report.flow_run(run_key)

    return lambda report: read(_Report(report))


# ----------------------------------------------------------------------------- the tests


def documented_sources() -> dict[str, tuple[str, ...]]:
    """The docstring's table: source -> the targets it is converted to."""
    found: dict[str, tuple[str, ...]] = {}
    for line in (__doc__ or "").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] in TARGETS:
            found[cells[0]] = tuple(target.strip() for target in cells[2].split(","))
    return found


def test_the_matrix_is_documented() -> None:
    assert documented_sources() == TARGETS
    assert set(RUNNABLE) < set(EXAMPLE_NAMES)
    assert set(KNOWN_DIFFERENCES) <= set(CONVERSIONS)


@pytest.mark.parametrize("conversion", CONVERSIONS, ids=conversion_id)
def test_the_conversion_succeeds(generated: Generated, conversion: tuple[str, str, str]) -> None:
    example, source, _target = conversion
    compiled = generated.direct[(example, source)]
    assert compiled.ok, f"{example} does not compile for {source}:\n{compiled.output}"
    item = generated.converted[conversion]
    assert item.ok, item.describe()


def _marks(conversion: tuple[str, str, str]) -> Any:
    reason = KNOWN_DIFFERENCES.get(conversion)
    return pytest.param(conversion, id=conversion_id(conversion),
                        marks=[pytest.mark.xfail(reason=reason, strict=True)] if reason else [])


@pytest.mark.parametrize("conversion", [_marks(c) for c in CONVERSIONS])
def test_the_converted_run_leaves_the_example_files(generated: Generated, runs: Runs,
                                                    conversion: tuple[str, str, str]) -> None:
    example, _source, target = conversion
    item = generated.converted[conversion]
    assert item.ok, item.describe()
    converted = relocated(runs.converted[conversion].result(), item.relocate)
    direct = runs.direct[(example, PREFECT)].result()
    expected = FAILS_BY_DESIGN.get(example, "expected: success")
    assert direct.ok, f"the direct Prefect run of {example} did not end as it should ({expected}):\n{direct.detail}"
    shared = f" (the same file as {runs.shared[conversion]}'s, run once)" if conversion in runs.shared else ""
    assert converted.ok, (f"{conversion_id(conversion)} did not end as it should on {target} ({expected}){shared}:\n"
                          f"{converted.detail}")
    name = f"converted ({conversion_id(conversion)})"
    paths = sorted(set(direct.artifacts) | set(converted.artifacts))
    differences, written_paths = [], []
    for path in paths:
        versions = {"direct prefect": direct.artifacts.get(path, UNTOUCHED), name: converted.artifacts.get(path, UNTOUCHED)}
        if len(set(versions.values())) == 1:
            continue
        if all(isinstance(v, bytes) for v in versions.values()) and mentions(versions["direct prefect"], item.relocate):
            written_paths.append(path)  # the documented loss: the task wrote the paths it was given
            continue
        differences.append(describe_difference(path, versions))
    if differences:
        pytest.fail(f"{conversion_id(conversion)}{shared}: {len(differences)} of {len(paths)} files differ"
                    + (f" (and {written_paths}, which hold artifact paths)" if written_paths else "") + "\n"
                    + "\n".join(differences), pytrace=False)


def test_every_kubeflow_relocation_is_an_artifact_path(generated: Generated) -> None:
    """Files are moved only for formats that do not carry artifact paths (Kubeflow), and only to
    paths the example declares."""
    for (example, source, _target), item in generated.converted.items():
        if item.relocate:
            assert source == KUBEFLOW, (example, source, item.relocate)
            declared = {Path(a.path).as_posix() for a in load_pipeline(ROOT / "examples" / f"{example}.yaml")
                        .artifacts.values()}
            assert set(item.relocate.values()) <= declared
            assert all(re.fullmatch(r"[A-Za-z0-9_-]+", path) for path in item.relocate)
