"""Cross-engine conformance: every runnable example, run on every engine that can run it, must
leave byte-identical artifacts behind.

Which engine runs which example (test_the_table_covers_every_example checks this table against
ENGINES; test_the_example_compiles_for_each_engine_that_runs_it keeps both honest against the
backends' capability tables):

| example         | Airflow | Prefect | DVC                                                   | Kubeflow (kfp.local) |
| --------------- | ------- | ------- | ----------------------------------------------------- | -------------------- |
| minimal         | yes     | yes     | yes                                                   | no: no-op tasks      |
| sequential      | yes     | yes     | yes, leaving out the cron schedule, owner and tags    | no: shell tasks      |
| parallel        | yes     | yes     | yes, leaving out the tags                             | no: shell tasks      |
| event_triggered | yes     | yes     | yes, leaving out the data trigger and the tags        | no: shell tasks      |
| conditional     | yes     | yes     | no: when / else_of, the none_failed join              | no: shell tasks      |
| fan_out         | yes     | yes     | no: the dynamic fan-out over shard's output           | no: shell tasks      |
| error_handling  | yes     | yes     | no: retries with delays, timeouts, alerts, one_failed | no: shell tasks      |
| python_tasks    | yes     | yes     | no: when / else_of                                    | yes: all python      |
| churn           | no      | no      | no: images, s3:// paths, secrets (runnable nowhere)   | no                   |
| bash_only       | yes     | yes     | yes                                                   | no: shell tasks      |

bash_only is not an example: tests/engines/fixtures/bash_only.yaml, one shell command made of what
only bash reads that way (an array, `[[ ]]`, `${#...}`, brace expansion, `$'...'`). Every target
runs shell commands with bash (DVC wraps such a command in `bash -c`, whatever `$SHELL` is), so
the engines must leave the same file. kfp.local runs shell tasks only with Docker.

DVC compiles its examples as `dagshift compile` does by default: what it leaves out (with a
warning) is only when a run starts and the pipeline's labels, never what a run does. Every compared example runs on at least
two engines (minimal too, though its no-op tasks leave nothing: the engines must agree on that).

Kubeflow runs an example on kfp.local (tests/engines/kfp_local_runner.py: SubprocessRunner, the
kubeflow engine venv's Python) exactly when every one of its tasks is a `python:` task
(PYTHON_ONLY, decided from the pipeline, not from this table): the backend makes those lightweight
python components, the only kind the SubprocessRunner runs. Shell and container tasks become
container components, which kfp.local runs only with Docker (DockerRunner), and no-ops are not
python tasks. kfp.local keeps each declared artifact as a KFP artifact file under the pipeline
root (`.kfp-local/` in the working directory, bookkeeping here); the comparison puts it back at
its pipeline path: the output `a_NAME` of the task that produced artifact NAME (the generated
module's naming; the runner's report gives its uri) is the file, or directory, at artifacts.NAME's
path. Files the tasks write at plain relative paths land in the working directory itself.

Each example runs once per engine, with its defaults, in a fresh copy of examples/ (Airflow:
dag.test() through airflow_runner.py; Prefect: one prefect_runner.py process for all of them; DVC:
`dvc repro` in a fresh git + DVC repository holding the copy and the generated files; Kubeflow:
kfp_local_runner.py with the copy as its working directory), all in the background at once. These
runs are this module's own: the engine test modules keep their runs in module-scoped fixtures, and
test_dvc_engine.py changes params (and so artifacts) after its first repro, so their working
directories cannot be reused as they stand.

The artifacts of a run are every file under its working directory that the run created, changed or
removed, compared with the directory as it was before the run, minus engine bookkeeping
(BOOKKEEPING_DIRS, BOOKKEEPING_FILES: DVC's .dvc/, dvc.lock and .gitignore entries, the generated
runner and value outputs under .dagshift/, git's .git/, kfp.local's pipeline root .kfp-local/,
__pycache__/; a Kubeflow run's artifacts are then added back at their pipeline paths). The
generated files the DVC repository starts with (dvc.yaml, params.yaml) are part of its "before",
so they never count. For each example the engines must agree on the set of those files and on
every file's bytes.
"""

from __future__ import annotations

import difflib
import os
import shutil
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from dvc_harness import DvcEngine, compile_dvc
from engine_harness import (
    _NOT_COPIED,
    EXAMPLES,
    AirflowEngine,
    Compiled,
    DagRun,
    PrefectEngine,
    PrefectReport,
    compile_pipeline,
    load_pipeline,
)
from test_kfp_harness import LOCAL_RUNNER, pipeline_name, run_script

from compiler.backends import registry
from compiler.backends.base import Level
from compiler.language.features import Feature, feature_uses
from compiler.language.naming import python_name

pytestmark = [pytest.mark.engine, pytest.mark.slow]

EXAMPLE_NAMES = sorted(path.stem for path in EXAMPLES.glob("*.yaml"))
# Pipelines of this test's own, run in a copy of examples/ like the examples.
WRITTEN_HERE = {"bash_only": Path(__file__).parent / "fixtures" / "bash_only.yaml"}
NOT_RUNNABLE = {"churn": "container images, s3:// paths and secrets that do not exist (its header says so)"}

AIRFLOW, PREFECT, DVC, KUBEFLOW = "airflow", "prefect", "dvc", "kubeflow"
# The examples DVC can express, and what its output leaves out of each.
DVC_LEAVES_OUT: dict[str, set[Feature]] = {
    "minimal": set(),
    "parallel": {Feature.TAGS},
    "sequential": {Feature.SCHEDULE, Feature.OWNER, Feature.TAGS},
    "event_triggered": {Feature.DATA_TRIGGER, Feature.TAGS},
}
DVC_CANNOT = {
    "conditional": "when / else_of, and the none_failed join",
    "fan_out": "the dynamic fan-out (score_shard over shard's output)",
    "error_handling": "retries with delays, timeouts, alerts, and the one_failed fallback",
    "python_tasks": "when / else_of (deploy, keep_previous)",
}
# Labels of the pipeline, which no run reads.
LABELS = {Feature.OWNER, Feature.TAGS}
# What a target may leave out here: when a run starts and the labels, not what a run does.
DROPPABLE = {Feature.SCHEDULE, Feature.DATA_TRIGGER} | LABELS


def source_of(name: str) -> Path:
    return WRITTEN_HERE.get(name, EXAMPLES / f"{name}.yaml")


def python_only(example: str) -> bool:
    """Every task of the example is a `python:` task: the Kubeflow backend makes each one a
    lightweight python component, which kfp.local's SubprocessRunner runs without Docker."""
    return all(task.kind == "python" for task in load_pipeline(source_of(example)).tasks.values())


RUNNABLE = [name for name in EXAMPLE_NAMES if name not in NOT_RUNNABLE]
PYTHON_ONLY = {name for name in RUNNABLE if python_only(name)}  # also run on kfp.local
ENGINES: dict[str, tuple[str, ...]] = {
    name: (AIRFLOW, PREFECT) + ((DVC,) if name in DVC_LEAVES_OUT else ()) + ((KUBEFLOW,) if name in PYTHON_ONLY else ())
    for name in RUNNABLE
}
# Everything this test compares: the examples (ENGINES, which other engine tests reuse) and its own
# pipelines, which DVC compiles leaving nothing out and kfp.local cannot run (shell tasks).
COMPARED: dict[str, tuple[str, ...]] = {**ENGINES, **{name: (AIRFLOW, PREFECT, DVC) for name in WRITTEN_HERE}}
DVC_COMPILES: dict[str, set[Feature]] = {**DVC_LEAVES_OUT, **{name: set() for name in WRITTEN_HERE}}
# Default runs that end failed on purpose (the example's header): the run's artifacts still count.
FAILS_BY_DESIGN = {"error_handling": "deploy_primary fails while params.primary_down is true (the default)"}

KFP_LOCAL_DIR = ".kfp-local"  # kfp_local_runner.py's pipeline root: WORKDIR/.kfp-local/outputs
BOOKKEEPING_DIRS = {".dvc", ".dagshift", ".git", KFP_LOCAL_DIR, "__pycache__", ".pytest_cache"}
BOOKKEEPING_FILES = {"dvc.lock", ".gitignore", ".dvcignore"}
CAPABILITY_ERRORS = {"E301", "E302"}  # "DVC cannot express ...": a refusal, not a crash
REMOVED = None  # an input file a run deleted


class _Untouched:
    def __repr__(self) -> str:
        return "UNTOUCHED"


UNTOUCHED = _Untouched()  # a path a run neither wrote nor removed


# ----------------------------------------------------------------------------- files


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ROOT but engine bookkeeping: relative POSIX path -> bytes."""
    files = {}
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if name not in BOOKKEEPING_DIRS)
        for name in filenames:
            if name not in BOOKKEEPING_FILES:
                path = Path(directory, name)
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def produced(before: dict[str, bytes], root: Path) -> dict[str, bytes | None]:
    """What a run left in ROOT compared with BEFORE: new and changed files with their bytes,
    removed ones as REMOVED."""
    after = snapshot(root)
    changes: dict[str, bytes | None] = {path: data for path, data in after.items() if before.get(path) != data}
    changes.update({path: REMOVED for path in before if path not in after})
    return changes


def describe_difference(path: str, versions: dict[str, Any]) -> str:
    """Which engines left what at PATH, with a diff of every other version against the first."""
    groups: dict[Any, list[str]] = {}
    for engine, data in versions.items():
        groups.setdefault(data, []).append(engine)
    lines = [f"{path}:"]
    for data, engines in groups.items():
        what = "(removed)" if data is REMOVED else "(not written)" if data is UNTOUCHED else f"{len(data)} bytes"
        lines.append(f"  {'/'.join(engines)}: {what}")
    written = [("/".join(engines), data) for data, engines in groups.items() if isinstance(data, bytes)]
    for name, data in written[1:]:
        try:
            diff = difflib.unified_diff(written[0][1].decode().splitlines(), data.decode().splitlines(),
                                        written[0][0], name, lineterm="", n=1)
            lines += ["    " + line for line in list(diff)[:40]]
        except UnicodeDecodeError:
            lines.append(f"    {written[0][0]} vs {name}: binary, no diff")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the runs


@dataclass
class EngineRun:
    """One example on one engine: did it end as it should, and what did it leave behind."""

    example: str
    engine: str
    ok: bool = False
    detail: str = ""  # the engine's own account, for failure messages
    artifacts: dict[str, bytes | None] = field(default_factory=dict)


class Pending:
    """A run in the background and how to read it; result() never raises (a broken run is an
    EngineRun that is not ok, saying why)."""

    def __init__(self, example: str, engine: str, future: Future | None, read: Callable[[Any], EngineRun] | None,
                 detail: str = ""):
        self.example, self.engine, self.future, self.read, self.detail = example, engine, future, read, detail
        self._result: EngineRun | None = None

    def result(self) -> EngineRun:
        if self._result is None:
            if self.future is None or self.read is None:
                self._result = EngineRun(self.example, self.engine, detail=self.detail)
            else:
                try:
                    self._result = self.read(self.future.result())
                except Exception:  # noqa: BLE001 - reported by the example's test
                    self._result = EngineRun(self.example, self.engine, detail=traceback.format_exc())
        return self._result


def _not_compiled(example: str, engine: str, compiled: Compiled) -> Pending:
    return Pending(example, engine, None, None,
                   f"did not compile for {engine}:\n{compiled.output}\n{compiled.exception!r}")


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


def _dvc_run(engine: DvcEngine, example: str, compiled: Compiled) -> EngineRun:
    """A fresh repository with the generated files, then `dvc repro`."""
    outdir = next(path.parent for path in compiled.files if path.name == "dvc.yaml")
    repo = engine.repo(outdir)
    before = snapshot(repo.path)
    repro = repo.repro(check=False)
    return EngineRun(example, DVC, repro.ok, f"repository {repo.path}\n{repro.describe()}",
                     produced(before, repo.path))


def kfp_artifacts(report: dict[str, Any], example: str) -> dict[str, bytes]:
    """The pipeline's artifacts as a kfp.local run stored them, keyed by their pipeline paths.

    The generated module names the output artifact of pipeline artifact NAME `NAME` (`a_NAME` where
    names would clash, and before issue 19: test_kfp_harness.pipeline_name reads both); the runner's
    report lists each task's output artifacts with their uri (a file, or a directory for a
    `kind: directory` artifact). Every artifact has one producer, so exactly one task may list it."""
    pipeline = load_pipeline(source_of(example))
    stored: dict[str, bytes] = {}
    seen: dict[str, str] = {}
    for key, task in sorted(report["tasks"].items()):
        assert "error" not in task, f"{key}: {task['error']}"
        for output, entries in task["artifacts"].items():
            name = pipeline_name(output)
            assert name in pipeline.artifacts, (
                f"{key} stored an output artifact {output!r} that names no artifact of {example}")
            assert name not in seen, f"artifact {name!r} stored by both {seen[name]} and {key}"
            assert len(entries) == 1, f"{key}: {len(entries)} artifacts for {output!r}: {entries}"
            seen[name] = key
            uri, path = Path(entries[0]["uri"]), Path(pipeline.artifacts[name].path).as_posix()
            if uri.is_dir():
                stored.update({f"{path}/{file.relative_to(uri).as_posix()}": file.read_bytes()
                               for file in sorted(uri.rglob("*")) if file.is_file()})
            elif uri.is_file():
                stored[path] = uri.read_bytes()
    return stored


def _kubeflow_run(python: Path, example: str, compiled: Compiled, workdir: Path) -> EngineRun:
    """kfp_local_runner.py on the generated module, in a fresh copy of examples/; the KFP artifact
    files go back to their pipeline paths, next to what the tasks wrote in the working directory."""
    shutil.copytree(EXAMPLES, workdir, ignore=lambda d, names: [n for n in names if n in _NOT_COPIED])
    before = snapshot(workdir)
    code, report, stderr = run_script(python, LOCAL_RUNNER, str(compiled.files[0]), str(workdir), cwd=workdir)
    expected = ("FAILURE", 1) if example in FAILS_BY_DESIGN else ("SUCCESS", 0)
    detail = (f"working directory {workdir}\nexit {code}, status {report.get('status')!r}, "
              f"stage {report.get('stage')!r}, error {report.get('error')!r}\n"
              f"tasks with outputs: {sorted(report.get('tasks', {}))}\n"
              "--- stderr tail ---\n" + "\n".join(stderr.strip().splitlines()[-60:]))
    artifacts = produced(before, workdir)
    stored = kfp_artifacts(report, example)
    both = sorted(set(stored) & set(artifacts))
    assert not both, f"{example}: {both} both written in the working directory and stored as KFP artifacts"
    artifacts.update(stored)
    return EngineRun(example, KUBEFLOW, (report.get("status"), code) == expected, detail, artifacts)


@dataclass
class Generated:
    root: Path
    airflow: dict[str, Compiled] = field(default_factory=dict)
    prefect: dict[str, Compiled] = field(default_factory=dict)
    dvc: dict[str, Compiled] = field(default_factory=dict)
    kubeflow: dict[str, Compiled] = field(default_factory=dict)
    pipeline_names: dict[str, str] = field(default_factory=dict)  # example -> its pipeline name


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """Every example compiled for each engine that runs it (in the main thread: click's runner
    swaps sys.stdout)."""
    generated = Generated(tmp_path_factory.mktemp("conformance"))
    root = generated.root
    for example, engines in COMPARED.items():
        source = source_of(example)
        generated.pipeline_names[example] = load_pipeline(source).name
        generated.airflow[example] = compile_pipeline(source, root / "airflow" / example)
        generated.prefect[example] = compile_pipeline(source, root / "prefect" / example, target="prefect")
        if DVC in engines:
            generated.dvc[example] = compile_dvc(source, root / "dvc" / example)
        if KUBEFLOW in engines:
            generated.kubeflow[example] = compile_pipeline(source, root / "kubeflow" / example, target="kubeflow")
    return generated


@pytest.fixture(scope="module")
def runs(generated: Generated, airflow_engine: AirflowEngine, prefect_engine: PrefectEngine,
         dvc_engine: DvcEngine, kubeflow_python: Path):
    """example -> engine -> its run; every run started at once, in the background."""
    pending: dict[str, dict[str, Pending]] = {example: {} for example in COMPARED}
    # Prefect first: one engine process runs the examples one after the other, so it takes longest.
    plan, readers = [], {}
    for example in COMPARED:
        compiled = generated.prefect[example]
        if compiled.ok:
            workdir = prefect_engine.workdir()
            plan.append({"key": example, "module": str(compiled.files[0]), "params": {}, "workdir": str(workdir),
                         "flow": python_name(generated.pipeline_names[example])})
            readers[example] = _prefect_reader(example, workdir, snapshot(workdir))
    report = prefect_engine.submit(prefect_engine.runner, {"inspect": [], "runs": plan})
    airflow_before = snapshot(airflow_engine.workdir())  # what dag_test's own fresh copy holds
    with ThreadPoolExecutor(max_workers=2) as dvc_pool, ThreadPoolExecutor(max_workers=2) as kfp_pool:
        for example, engines in COMPARED.items():
            compiled = generated.prefect[example]
            pending[example][PREFECT] = (Pending(example, PREFECT, report, readers[example]) if compiled.ok
                                         else _not_compiled(example, PREFECT, compiled))
            compiled = generated.airflow[example]
            if compiled.ok:
                future = airflow_engine.submit(compiled.files[0], generated.pipeline_names[example])
                pending[example][AIRFLOW] = Pending(example, AIRFLOW, future, _airflow_reader(example, airflow_before))
            else:
                pending[example][AIRFLOW] = _not_compiled(example, AIRFLOW, compiled)
            if DVC in engines:
                compiled = generated.dvc[example]
                if compiled.ok:
                    future = dvc_pool.submit(_dvc_run, dvc_engine, example, compiled)
                    pending[example][DVC] = Pending(example, DVC, future, lambda run: run)
                else:
                    pending[example][DVC] = _not_compiled(example, DVC, compiled)
            if KUBEFLOW in engines:
                compiled = generated.kubeflow[example]
                if compiled.ok:
                    workdir = generated.root / "kfp-local" / example / "examples"
                    future = kfp_pool.submit(_kubeflow_run, kubeflow_python, example, compiled, workdir)
                    pending[example][KUBEFLOW] = Pending(example, KUBEFLOW, future, lambda run: run)
                else:
                    pending[example][KUBEFLOW] = _not_compiled(example, KUBEFLOW, compiled)
        yield pending


# ----------------------------------------------------------------------------- the tests


def documented_engines() -> dict[str, set[str]]:
    """The module docstring's table: example -> the engines whose cell says "yes"."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in (__doc__ or "").splitlines() if line.startswith("|")]
    engines = [header.split()[0].lower() for header in rows[0][1:]]
    return {row[0]: {engine for engine, cell in zip(engines, row[1:], strict=True) if cell.startswith("yes")}
            for row in rows[2:]}


def test_the_table_covers_every_example() -> None:
    """Every example is compared or named as not runnable; every DVC example has its options;
    exactly the python-only examples run on Kubeflow; the docstring's table says the same."""
    assert set(ENGINES) | set(NOT_RUNNABLE) == set(EXAMPLE_NAMES)
    assert set(DVC_LEAVES_OUT) | set(DVC_CANNOT) == set(ENGINES)
    assert all(len(engines) >= 2 for engines in ENGINES.values()), ENGINES
    assert PYTHON_ONLY, "no example is made of python tasks only: nothing runs on kfp.local"
    assert {example for example, engines in ENGINES.items() if KUBEFLOW in engines} == PYTHON_ONLY
    assert all({AIRFLOW, PREFECT, KUBEFLOW} <= set(ENGINES[example]) for example in PYTHON_ONLY), ENGINES
    assert documented_engines() == {name: set(COMPARED.get(name, ())) for name in [*EXAMPLE_NAMES, *WRITTEN_HERE]}, (
        "the module docstring's table is stale")


@pytest.mark.parametrize("example", sorted(COMPARED))
def test_the_example_compiles_for_each_engine_that_runs_it(generated: Generated, example: str) -> None:
    """The table above is what the backends say: Airflow and Prefect compile every runnable
    example as it is; Kubeflow compiles every python-only example as it is, into lightweight
    python components only (what kfp.local's SubprocessRunner runs); DVC compiles its examples,
    leaving out at most a schedule, a trigger and the labels, and refuses the others for what a
    run does."""
    for engine, compiled in ((AIRFLOW, generated.airflow[example]), (PREFECT, generated.prefect[example])):
        assert compiled.ok, f"{example} does not compile for {engine}:\n{compiled.output}"
    if KUBEFLOW in COMPARED[example]:
        compiled = generated.kubeflow[example]
        assert compiled.ok, f"{example} does not compile for Kubeflow:\n{compiled.output}"
        kubeflow = registry.get("kubeflow")
        unsupported = {use.feature for use in feature_uses(load_pipeline(source_of(example)))
                       if kubeflow.support(use.feature).level is Level.UNSUPPORTED}
        assert not unsupported - LABELS, f"{example}: Kubeflow cannot express {sorted(unsupported)}"
        module = compiled.files[0].read_text(encoding="utf-8")
        assert "@dsl.component(" in module and "container_component" not in module, (
            f"{example}: the Kubeflow module is not made of lightweight python components only")
    backend = registry.get("dvc")
    unsupported = {use.feature for use in feature_uses(load_pipeline(source_of(example)))
                   if backend.support(use.feature).level is Level.UNSUPPORTED}
    if example in DVC_COMPILES:
        compiled = generated.dvc[example]
        assert compiled.ok, f"{example} does not compile for DVC:\n{compiled.output}"
        assert unsupported <= DROPPABLE, f"{example}: DVC would leave out {sorted(unsupported)}"
        assert unsupported == DVC_COMPILES[example], (example, sorted(unsupported))
        return
    assert unsupported - DROPPABLE, f"{example}: DVC lacks only {sorted(unsupported)}: add it to DVC_LEAVES_OUT"
    strict = compile_dvc(source_of(example), generated.root / "dvc-strict" / example)
    codes = {line.split("[", 1)[1].split("]", 1)[0] for line in strict.output.splitlines() if line.startswith("error[")}
    assert strict.exit_code == 1 and codes and codes <= CAPABILITY_ERRORS, (
        f"{example}: DVC should refuse it for capabilities ({DVC_CANNOT[example]}), got exit {strict.exit_code}:\n"
        f"{strict.output}")


@pytest.mark.parametrize("example", sorted(COMPARED))
def test_artifacts_are_byte_identical_across_engines(runs, example: str) -> None:
    results = {engine: pending.result() for engine, pending in runs[example].items()}
    broken = [run for run in results.values() if not run.ok]
    if broken:
        pytest.fail("\n\n".join(f"{example} did not end as it should on {run.engine} "
                                 f"({FAILS_BY_DESIGN.get(example, 'expected: success')}):\n{run.detail}"
                                 for run in broken), pytrace=False)
    assert len(results) >= 2, f"{example} ran on {sorted(results)} only: nothing to compare"
    paths = sorted(set().union(*(run.artifacts for run in results.values())))
    pipeline = load_pipeline(source_of(example))
    declared = sorted(a.path for a in pipeline.artifacts.values() if not a.is_uri and not a.external)
    if any(task.produces for task in pipeline.tasks.values()):
        assert paths, f"{example}: no engine left any artifact (it declares {declared})"
    differences = []
    for path in paths:
        versions = {engine: run.artifacts.get(path, UNTOUCHED) for engine, run in results.items()}
        if len(set(versions.values())) > 1:
            differences.append(describe_difference(path, versions))
    if differences:
        pytest.fail(f"{example}: the engines ({', '.join(results)}) left different artifacts "
                    f"({len(differences)} of {len(paths)} files differ)\n" + "\n".join(differences), pytrace=False)
