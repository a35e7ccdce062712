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

Kubeflow runs an example on kfp.local (SubprocessRunner, the kubeflow engine venv's Python)
exactly when every one of its tasks is a `python:` task (PYTHON_ONLY, decided from the pipeline,
not from this table): the backend makes those lightweight python components, the only kind the
SubprocessRunner runs. Shell and container tasks become container components, which kfp.local
runs only with Docker (DockerRunner), and no-ops are not python tasks. kfp.local keeps each
declared artifact in its store; `dagshift run -t kubeflow` copies it back to its pipeline path in
the working directory, where the other engines' tasks write it.

Each example runs once per engine, with its defaults, in a fresh copy of examples/, through
`dagshift run PIPELINE -t ENGINE --engine-python VENV --format json` as a user runs it (Airflow:
dag.test() in a throwaway home; Prefect: the flow against a temporary local API; DVC: `dvc repro`
in a git + DVC repository made in the copy; Kubeflow: kfp.local), RUN_WORKERS at a time in the
background. These runs are this module's own: the engine test modules keep their runs in
module-scoped fixtures, and test_dvc_engine.py changes params (and so artifacts) after its first
repro, so their working directories cannot be reused as they stand.

The artifacts of a run are every file under its working directory that the run created, changed or
removed, compared with the directory as it was before the run, minus engine bookkeeping
(BOOKKEEPING_DIRS, BOOKKEEPING_FILES: DVC's .dvc/, dvc.lock and .gitignore entries, the generated
runner, value outputs and run logs under .dagshift/, git's .git/, __pycache__/) and the files
`dagshift run -t dvc` writes before `dvc repro` starts (DVC_INSTALLS: dvc.yaml, params.yaml). For
each example the engines must agree on the set of those files and on every file's bytes, and on
every task's value outputs (`dagshift run`'s `values`); each run's report must list every task.
"""

from __future__ import annotations

import difflib
import os
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from dvc_harness import compile_dvc
from engine_harness import EXAMPLES, Compiled, compile_pipeline, load_pipeline
from run_harness import dagshift_run, fresh_workdir

from compiler.backends import registry
from compiler.backends.base import Level
from compiler.language.features import Feature, feature_uses

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
# What `dagshift run -t dvc` writes into the working directory before `dvc repro`: not the tasks'.
DVC_INSTALLS = {"dvc.yaml", "params.yaml"}
RUN_WORKERS = 3  # runs at once: each mostly waits on one engine process, on two cores

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
    report: dict[str, Any] = field(default_factory=dict)  # `dagshift run --format json`'s document


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


def _dagshift_run(example: str, engine: str, python: Path, workdir: Path) -> EngineRun:
    """`dagshift run` of the example on ENGINE in WORKDIR (a fresh copy of examples/), as a user
    runs it: what the run reported (--format json) and what it left there."""
    before = snapshot(workdir)
    run = dagshift_run(str(source_of(example)), "-t", engine, "--engine-python", str(python), "--format", "json",
                       "-q", workdir=workdir)
    try:
        report = run.report
    except ValueError:
        return EngineRun(example, engine, detail=f"working directory {workdir}\n{run.describe()}")
    succeeds = example not in FAILS_BY_DESIGN
    ok = report["succeeded"] is succeeds and run.code == (0 if succeeds else 1) and report["error"] is None
    log = Path(report["logs"] or workdir) / "engine.log"
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-60:] if log.is_file() else []
    detail = (f"working directory {workdir}\n{run.describe()}\n--- {log} (tail) ---\n" + "\n".join(tail))
    artifacts = {path: data for path, data in produced(before, workdir).items()
                 if not (engine == DVC and path in DVC_INSTALLS)}
    return EngineRun(example, engine, ok, detail, artifacts, report)


@dataclass
class Generated:
    root: Path
    airflow: dict[str, Compiled] = field(default_factory=dict)
    prefect: dict[str, Compiled] = field(default_factory=dict)
    dvc: dict[str, Compiled] = field(default_factory=dict)
    kubeflow: dict[str, Compiled] = field(default_factory=dict)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """Every example compiled for each engine that runs it (in the main thread: click's runner
    swaps sys.stdout)."""
    generated = Generated(tmp_path_factory.mktemp("conformance"))
    root = generated.root
    for example, engines in COMPARED.items():
        source = source_of(example)
        generated.airflow[example] = compile_pipeline(source, root / "airflow" / example)
        generated.prefect[example] = compile_pipeline(source, root / "prefect" / example, target="prefect")
        if DVC in engines:
            generated.dvc[example] = compile_dvc(source, root / "dvc" / example)
        if KUBEFLOW in engines:
            generated.kubeflow[example] = compile_pipeline(source, root / "kubeflow" / example, target="kubeflow")
    return generated


@pytest.fixture(scope="module")
def runs(generated: Generated, airflow_python: Path, prefect_python: Path, dvc_python: Path, kubeflow_python: Path):
    """example -> engine -> its `dagshift run`; every run started at once, in the background."""
    pythons = {AIRFLOW: airflow_python, PREFECT: prefect_python, DVC: dvc_python, KUBEFLOW: kubeflow_python}
    pending: dict[str, dict[str, Pending]] = {example: {} for example in COMPARED}
    with ThreadPoolExecutor(max_workers=RUN_WORKERS) as pool:
        for engine in (PREFECT, AIRFLOW, KUBEFLOW, DVC):  # the slowest first: Prefect starts a local API each time
            for example, engines in COMPARED.items():
                if engine not in engines:
                    continue
                compiled = getattr(generated, engine)[example]
                if not compiled.ok:
                    pending[example][engine] = _not_compiled(example, engine, compiled)
                    continue
                workdir = fresh_workdir(generated.root / "runs" / engine / example)
                future = pool.submit(_dagshift_run, example, engine, pythons[engine], workdir)
                pending[example][engine] = Pending(example, engine, future, lambda run: run)
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
    results = _results(runs, example)
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


def _results(runs, example: str) -> dict[str, EngineRun]:
    """The example's runs, every one ended as it should (else the test fails, saying how)."""
    results = {engine: pending.result() for engine, pending in runs[example].items()}
    broken = [run for run in results.values() if not run.ok]
    if broken:
        pytest.fail("\n\n".join(f"{example} did not end as it should on {run.engine} "
                                 f"({FAILS_BY_DESIGN.get(example, 'expected: success')}):\n{run.detail}"
                                 for run in broken), pytrace=False)
    return results


@pytest.mark.parametrize("example", sorted(COMPARED))
def test_value_outputs_are_identical_across_engines(runs, example: str) -> None:
    """Every task's value outputs (`dagshift run`'s `values`: Airflow's XComs, Prefect's results,
    kfp.local's output parameters, the files DVC's runner writes), as canonical JSON."""
    results = _results(runs, example)
    values = {engine: run.report["values"] for engine, run in results.items()}
    pipeline = load_pipeline(source_of(example))
    if any(task.outputs for task in pipeline.tasks.values()):
        assert all(values.values()), f"{example}: an engine reported no value output: {values}"
    names = sorted(set().union(*values.values()))
    differences = [f"{name}: " + ", ".join(f"{engine} {found.get(name, '(none)')}" for engine, found in values.items())
                   for name in names if len({found.get(name) for found in values.values()}) > 1]
    assert not differences, f"{example}: the engines' value outputs differ\n" + "\n".join(differences)


@pytest.mark.parametrize("example", sorted(COMPARED))
def test_each_run_reports_every_task_and_keeps_its_logs(runs, example: str) -> None:
    """`dagshift run`'s report: every task of the pipeline, in its order, in a final state (each
    run of a fanned-out task numbered in order where the engine numbers them), and the engine's
    log in the working directory's .dagshift/runs/."""
    pipeline = load_pipeline(source_of(example))
    for engine, run in _results(runs, example).items():
        tasks = run.report["tasks"]
        assert list(dict.fromkeys(task["task"] for task in tasks)) == list(pipeline.tasks), (engine, tasks)
        final = {"succeeded", "skipped"} | ({"failed", "not_run"} if example in FAILS_BY_DESIGN else set())
        assert {task["state"] for task in tasks} <= final, (engine, tasks)
        ended = [task for task in tasks if task["state"] in ("succeeded", "failed")]
        assert all(task["tries"] >= 1 and task["seconds"] is not None and task["seconds"] >= 0 for task in ended), (
            engine, tasks)
        if engine != DVC:  # DVC names a foreach stage's runs by their keys
            for task_id in {task["task"] for task in tasks if task["instance"] is not None}:
                instances = [task["instance"] for task in tasks if task["task"] == task_id]
                assert instances == [str(index) for index in range(len(instances))], (engine, task_id, instances)
        logs = Path(run.report["logs"])
        assert logs.parent == Path(run.report["workdir"]) / ".dagshift" / "runs", (engine, logs)
        assert (logs / "engine.log").stat().st_size > 0, (engine, logs)
