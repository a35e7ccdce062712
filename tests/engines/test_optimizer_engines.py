"""-O2 on real engines: a pipeline compiled at -O0 and at -O2 leaves byte-identical artifacts.

-O2 (compiler/passes/optimize.py, docs/optimizer.md) runs identical tasks once and fuses linear chains of
small shell tasks into one shell task where the target pays per task: Airflow and Prefect fuse,
DVC never does. The cases (CASES) are, for Airflow and for Prefect, the REQUIRED examples (which
-O2 must keep fusing, as REQUIRED says) and every other runnable example (test_conformance.py's
table) whose file for that target differs between -O0 and -O2 (fused tasks, or settings such as
the priority weights -O1 adds), so an example that starts fusing is run here without editing this
file. With test_conformance.py's runs at -O1, every runnable example then runs at every level
(test_every_level_runs_somewhere).

Each case is compiled at -O0 and at -O2 through the real CLI and run on the real engine at both
levels, with its defaults and, for the examples in OTHER_PARAMS, with other params too (a fused
command must keep reading params rather than bake in their defaults): on Airflow with dag.test()
through airflow_runner.py, on Prefect in one prefect_runner.py process; each run in a fresh copy
of examples/, all in the background at once. Then, for each case and params:

- test_o2_runs_fewer_tasks: the engine ran fewer tasks at -O2; for a REQUIRED example exactly its
  chain is gone, replaced by one new task; every task both levels ran ended in the same state.
  So this fails if fusion silently stops happening, or fuses something else.
- test_artifacts_are_byte_identical_at_o0_and_o2: both runs ended as the example should
  (test_conformance.FAILS_BY_DESIGN), and left the same set of files created, changed or removed
  under the working directory (test_conformance's snapshot/produced, with its bookkeeping
  exclusions), with the same bytes; a failure lists each differing file with a unified diff.

test_conformance.py's runs cannot be reused: they compile at the default level (-O1) and live in
that module's fixtures. DVC is not run: its cost model never fuses (test_dvc_does_not_fuse).

That the comparison can fail is checked without mocking any engine: on hand-made working
directories (test_the_comparison_*), and on each case's real -O2 artifacts against a copy with one
byte changed or one file missing (test_a_changed_artifact_would_be_reported).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from engine_harness import (
    EXAMPLES,
    AirflowEngine,
    Compiled,
    DagRun,
    PrefectEngine,
    PrefectReport,
    compile_pipeline,
    load_pipeline,
)
from test_conformance import ENGINES, FAILS_BY_DESIGN, REMOVED, UNTOUCHED, describe_difference, produced, snapshot

from compiler.api import check_file
from compiler.backends import registry
from compiler.compile import compile_loaded
from compiler.language.naming import python_name
from compiler.passes.optimize import optimize

pytestmark = [pytest.mark.engine, pytest.mark.slow]

AIRFLOW, PREFECT = "airflow", "prefect"
TARGETS = (AIRFLOW, PREFECT)
O0, O2 = "-O0", "-O2"
LEVELS = {O0: ("-O", "0"), O2: ("-O", "2")}
# What -O2 must keep doing on Airflow and on Prefect (`dagshift plan FILE -O2 -t airflow`):
# example -> the chain of tasks it fuses into one.
REQUIRED: dict[str, tuple[str, ...]] = {
    "conditional": ("ingest", "transform"),
    "fan_out": ("ingest", "clean"),
}

# Each example also runs with these params at both levels (the fused command must keep reading
# params, not bake in their defaults); every run also runs with its defaults.
OTHER_PARAMS: dict[str, dict[str, Any]] = {
    "conditional": {"seed": 7},
    "fan_out": {"seed": 7},
}
DEFAULTS = "defaults"


def _task_count(example: str, target: str, level: int) -> int:
    pipeline = load_pipeline(EXAMPLES / f"{example}.yaml")
    return len(optimize(pipeline, level, cost=registry.get(target).cost).pipeline.tasks)


def _shrinks(example: str, target: str) -> bool:
    return _task_count(example, target, 2) < _task_count(example, target, 0)


@cache
def _output(example: str, target: str, level: int) -> dict[str, str]:
    """The files `dagshift compile -t TARGET -O LEVEL` writes for the example (in-process)."""
    compiled = compile_loaded(check_file(EXAMPLES / f"{example}.yaml"), [target], level=level)
    return compiled.files


# The REQUIRED examples, and every other runnable example (test_conformance.py's table) whose file
# for the target differs between -O0 and -O2 (fused tasks, or only settings such as priority
# weights). REQUIRED ones run even when -O2 stops shrinking them, so that the engine tests fail
# rather than run nothing.
CASES = [(example, target) for example in sorted(ENGINES) for target in TARGETS
         if example in REQUIRED or _output(example, target, 0) != _output(example, target, 2)]


def _params_label(params: dict[str, Any]) -> str:
    return ",".join(f"{name}={value}" for name, value in sorted(params.items())) or DEFAULTS


# example -> a label for its params ("defaults", "seed=7") -> the params of a pair of runs to compare
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    example: {DEFAULTS: {}, **({_params_label(OTHER_PARAMS[example]): OTHER_PARAMS[example]}
                               if example in OTHER_PARAMS else {})}
    for example, _ in CASES
}
RUN_CASES = [(example, target, variant) for example, target in CASES for variant in VARIANTS[example]]


# ----------------------------------------------------------------------------- comparing


def artifact_differences(runs: dict[str, dict[str, bytes | None]]) -> list[str]:
    """One readable entry (which run left what, and a unified diff) per path where the runs'
    artifacts differ: a file only one run wrote or removed, or different bytes."""
    paths = sorted(set().union(*runs.values()))
    differences = []
    for path in paths:
        versions = {label: artifacts.get(path, UNTOUCHED) for label, artifacts in runs.items()}
        if len(set(versions.values())) > 1:
            differences.append(describe_difference(path, versions))
    return differences


# ----------------------------------------------------------------------------- the runs


@dataclass
class LevelRun:
    """One example at one level on one engine: how it ended, what ran, what it left behind."""

    example: str
    target: str
    variant: str  # which params (a label: "defaults", "seed=7")
    level: str
    ok: bool = False
    detail: str = ""  # the engine's own account, for failure messages
    states: dict[str, Any] = field(default_factory=dict)  # task id -> state(s), as the engine reports them
    artifacts: dict[str, bytes | None] = field(default_factory=dict)

    @property
    def task_ids(self) -> set[str]:
        return set(self.states)


class Pending:
    """A run in the background; result() never raises (a broken run is a LevelRun that is not ok)."""

    def __init__(self, key: tuple[str, str, str, str], future=None, read: Callable[[Any], LevelRun] | None = None,
                 detail: str = ""):
        self.key, self.future, self.read, self.detail = key, future, read, detail
        self._result: LevelRun | None = None

    def result(self) -> LevelRun:
        if self._result is None:
            if self.future is None or self.read is None:
                self._result = LevelRun(*self.key, detail=self.detail)
            else:
                try:
                    self._result = self.read(self.future.result())
                except Exception:  # noqa: BLE001 - reported by the case's test
                    self._result = LevelRun(*self.key, detail=traceback.format_exc())
        return self._result


def _airflow_reader(key: tuple[str, str, str, str], before: dict[str, bytes]) -> Callable[[DagRun], LevelRun]:
    expected = "failed" if key[0] in FAILS_BY_DESIGN else "success"

    def read(run: DagRun) -> LevelRun:
        assert run.workdir is not None
        # every task instance, skipped ones too; a mapped task's instances under one id
        states: dict[str, list[str]] = {}
        for ti in run.tasks:
            states.setdefault(ti["task_id"], []).append(str(ti["state"]))
        return LevelRun(*key, run.state == expected, run.summary(),
                        {task: sorted(found) for task, found in states.items()}, produced(before, run.workdir))
    return read


def _prefect_reader(key: tuple[str, str, str, str], run_key: str, workdir: Path,
                    before: dict[str, bytes]) -> Callable[[PrefectReport], LevelRun]:
    expected = "FAILED" if key[0] in FAILS_BY_DESIGN else "COMPLETED"

    def read(report: PrefectReport) -> LevelRun:
        run = report.flow_run(run_key)
        return LevelRun(*key, run.state == expected, run.summary(),
                        {task: sorted(found) for task, found in run.states().items()}, produced(before, workdir))
    return read


@dataclass
class Generated:
    root: Path
    compiled: dict[tuple[str, str, str], Compiled] = field(default_factory=dict)  # (example, target, level)
    pipeline_names: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """Each case compiled at each level through the real CLI (in the main thread: click's runner
    swaps sys.stdout)."""
    generated = Generated(tmp_path_factory.mktemp("optimizer"))
    for example, target in CASES:
        source = EXAMPLES / f"{example}.yaml"
        generated.pipeline_names[example] = load_pipeline(source).name
        for level, options in LEVELS.items():
            outdir = generated.root / target / level.lstrip("-") / example
            generated.compiled[example, target, level] = compile_pipeline(source, outdir, *options, target=target)
    return generated


@pytest.fixture(scope="module")
def runs(generated: Generated, airflow_engine: AirflowEngine,
         prefect_engine: PrefectEngine) -> dict[tuple[str, str, str, str], Pending]:
    """(example, target, variant, level) -> its run; every run started at once, in the background."""
    pending: dict[tuple[str, str, str, str], Pending] = {}
    wanted = [(example, target, variant, level) for example, target, variant in RUN_CASES for level in LEVELS]
    # Prefect first: one engine process runs its flows one after the other, so it takes longest.
    plan, readers = [], {}
    for key in wanted:
        example, target, variant, level = key
        compiled = generated.compiled[example, target, level]
        if not compiled.ok:
            pending[key] = Pending(key, detail=f"did not compile for {target} at {level}:\n{compiled.output}\n"
                                               f"{compiled.exception!r}")
        elif target == PREFECT:
            workdir = prefect_engine.workdir()
            run_key = f"{example} {variant} {level}"
            plan.append({"key": run_key, "module": str(compiled.files[0]), "params": VARIANTS[example][variant],
                         "workdir": str(workdir), "flow": python_name(generated.pipeline_names[example])})
            readers[key] = _prefect_reader(key, run_key, workdir, snapshot(workdir))
    if plan:
        report = prefect_engine.submit(prefect_engine.runner, {"inspect": [], "runs": plan})
        pending.update((key, Pending(key, report, read)) for key, read in readers.items())
    airflow_before = snapshot(airflow_engine.workdir())  # what dag_test's own fresh copy holds
    for key in wanted:
        example, target, variant, level = key
        compiled = generated.compiled[example, target, level]
        if target == AIRFLOW and compiled.ok:
            future = airflow_engine.submit(compiled.files[0], generated.pipeline_names[example],
                                           VARIANTS[example][variant] or None)
            pending[key] = Pending(key, future, _airflow_reader(key, airflow_before))
    return pending


def _both(runs: dict[tuple[str, str, str, str], Pending], example: str, target: str,
          variant: str) -> tuple[LevelRun, LevelRun]:
    """The -O0 and -O2 runs of a case, failing with the engines' accounts if either went wrong."""
    at = {level: runs[example, target, variant, level].result() for level in LEVELS}
    broken = [run for run in at.values() if not run.ok]
    if broken:
        pytest.fail("\n\n".join(f"{example} ({variant}) at {run.level} did not end as it should on {target} "
                                 f"({FAILS_BY_DESIGN.get(example, 'expected: success')}):\n{run.detail}"
                                 for run in broken), pytrace=False)
    return at[O0], at[O2]


# ----------------------------------------------------------------------------- the cases


@pytest.mark.parametrize("target", TARGETS)
def test_o2_still_fuses_the_required_examples(target: str) -> None:
    """-O2 still shrinks the graph of every example REQUIRED names, for the target."""
    still = {example for example in REQUIRED if _shrinks(example, target)}
    assert still == set(REQUIRED), f"-O2 for {target} no longer shrinks {sorted(set(REQUIRED) - still)}"


@pytest.mark.parametrize("target", (*TARGETS, "dvc"))
def test_every_level_runs_somewhere(target: str) -> None:
    """Each runnable example's file at every level is run on the engine by this module or by
    test_conformance.py (-O1): the -O1 file is the -O0 or the -O2 one, and where -O0 and -O2
    differ the example is a case here. DVC is run at -O1 only: its file must not depend on the level."""
    for example in sorted(ENGINES):
        if target == "dvc" and "dvc" not in ENGINES[example]:
            continue
        at = {level: _output(example, target, level) for level in (0, 1, 2)}
        if target == "dvc":
            assert at[0] == at[1] == at[2], f"{example}: the DVC files depend on -O"
            continue
        assert at[1] in (at[0], at[2]), f"{example} for {target}: the -O1 file is neither the -O0 nor the -O2 one"
        assert at[0] == at[2] or (example, target) in CASES, example


def test_dvc_does_not_fuse() -> None:
    """DVC's cost model never fuses: its -O2 graph of the REQUIRED examples keeps every task."""
    for example in REQUIRED:
        assert not _shrinks(example, "dvc"), example


@pytest.mark.parametrize(("example", "target"), CASES)
def test_o2_output_differs(generated: Generated, example: str, target: str) -> None:
    """Both levels compile, to different files."""
    at = {level: generated.compiled[example, target, level] for level in LEVELS}
    for level, compiled in at.items():
        assert compiled.ok, f"{example} does not compile for {target} at {level}:\n{compiled.output}"
        assert len(compiled.files) == 1, compiled.files
    same = at[O0].files[0].read_bytes() == at[O2].files[0].read_bytes()
    assert not same, f"{example} for {target}: -O2 generated the same file as -O0 ({at[O2].files[0]})"


# ----------------------------------------------------------------------------- on the engines


@pytest.mark.parametrize(("example", "target", "variant"), RUN_CASES)
def test_o2_runs_fewer_tasks(runs, example: str, target: str, variant: str) -> None:
    """Where -O2 fuses: the engine ran fewer tasks at -O2, some -O0 tasks are gone, new (fused)
    ones stand for them, and every task both levels ran ended in the same state. For REQUIRED
    examples, exactly the expected chain is gone, replaced by one task that ended as the chain's
    last task did. Where only settings differ, both levels ran the same tasks to the same states."""
    plain, fused = _both(runs, example, target, variant)
    if example not in REQUIRED and not _shrinks(example, target):  # only settings differ: the same tasks ran
        assert fused.states == plain.states, (
            f"{example} ({variant}) on {target}: -O0 and -O2 ran different tasks or they ended differently\n"
            f"-O0: {plain.states}\n-O2: {fused.states}")
        return
    gone, new = plain.task_ids - fused.task_ids, fused.task_ids - plain.task_ids
    listing = f"\n-O0 ran {sorted(plain.task_ids)}\n-O2 ran {sorted(fused.task_ids)}"
    assert len(fused.task_ids) < len(plain.task_ids) and gone and new, (
        f"{example} ({variant}) on {target}: -O2 ran {len(fused.task_ids)} tasks, -O0 {len(plain.task_ids)}: "
        f"nothing was fused{listing}")
    kept = plain.task_ids & fused.task_ids
    assert {task: fused.states[task] for task in kept} == {task: plain.states[task] for task in kept}, (
        f"{example} ({variant}) on {target}: tasks both levels ran ended differently\n"
        f"-O0: {plain.states}\n-O2: {fused.states}")
    if example in REQUIRED:
        chain = REQUIRED[example]
        assert gone == set(chain) and len(new) == 1, (
            f"{example} ({variant}) on {target}: -O2 should run {' -> '.join(chain)} as one task; "
            f"it dropped {sorted(gone)} and added {sorted(new)}{listing}")
        (fused_id,) = new
        assert fused.states[fused_id] == plain.states[chain[-1]], (fused_id, fused.states, plain.states)


@pytest.mark.parametrize(("example", "target", "variant"), RUN_CASES)
def test_artifacts_are_byte_identical_at_o0_and_o2(runs, example: str, target: str, variant: str) -> None:
    plain, fused = _both(runs, example, target, variant)
    pipeline = load_pipeline(EXAMPLES / f"{example}.yaml")
    declared = sorted(a.path for a in pipeline.artifacts.values() if not a.is_uri and not a.external)
    assert plain.artifacts, f"{example} ({variant}) on {target} at -O0 left no artifact (it declares {declared})"
    differences = artifact_differences({O0: plain.artifacts, O2: fused.artifacts})
    if differences:
        pytest.fail(f"{example} ({variant}) on {target}: -O0 and -O2 left different artifacts ({len(differences)} of "
                    f"{len(set(plain.artifacts) | set(fused.artifacts))} files differ)\n" + "\n".join(differences),
                    pytrace=False)


@pytest.mark.parametrize(("example", "target", "variant"), RUN_CASES)
def test_a_changed_artifact_would_be_reported(runs, example: str, target: str, variant: str) -> None:
    """The comparison above, on the real -O2 artifacts against a copy with one byte of one file
    changed, and against a copy missing that file, reports exactly that file."""
    _, fused = _both(runs, example, target, variant)
    written = sorted(path for path, data in fused.artifacts.items() if data)
    assert written, f"{example} ({variant}) on {target} at -O2 wrote no file"
    path = written[-1]
    data = fused.artifacts[path]
    assert isinstance(data, bytes)
    assert artifact_differences({O2: fused.artifacts, "copy": dict(fused.artifacts)}) == []
    changed = {**fused.artifacts, path: data[:-1] + bytes([data[-1] ^ 1])}
    differences = artifact_differences({O2: fused.artifacts, "changed": changed})
    assert len(differences) == 1 and differences[0].startswith(f"{path}:\n"), differences
    assert f"  {O2}: {len(data)} bytes" in differences[0] and "  changed: " in differences[0], differences[0]
    missing = {name: value for name, value in fused.artifacts.items() if name != path}
    differences = artifact_differences({O2: fused.artifacts, "missing": missing})
    assert len(differences) == 1 and "  missing: (not written)" in differences[0], differences


# ----------------------------------------------------------------------------- the comparison itself


def _run_in(root: Path, before: dict[str, bytes], writes: dict[str, str], removes: tuple[str, ...] = ()):
    """A stand-in for a task run: write and remove files under ROOT; then what produced() sees."""
    for name, text in writes.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name in removes:
        (root / name).unlink()
    return produced(before, root)


def _workdirs(tmp_path: Path) -> tuple[tuple[Path, dict[str, bytes]], tuple[Path, dict[str, bytes]]]:
    dirs = []
    for name in ("a", "b"):
        root = tmp_path / name
        (root / "data").mkdir(parents=True)
        (root / "data" / "input.csv").write_text("x\n1\n", encoding="utf-8")
        (root / ".dagshift").mkdir()
        dirs.append((root, snapshot(root)))
    return dirs[0], dirs[1]


def test_the_comparison_accepts_identical_runs(tmp_path: Path) -> None:
    (a, before_a), (b, before_b) = _workdirs(tmp_path)
    writes = {"data/out.csv": "x\n2\n", "metrics/m.json": '{"accuracy": 0.9}\n'}
    left = _run_in(a, before_a, writes, removes=("data/input.csv",))
    right = _run_in(b, before_b, {**writes, ".dagshift/value.json": "differs, but bookkeeping"},
                    removes=("data/input.csv",))
    assert set(left) == {"data/out.csv", "metrics/m.json", "data/input.csv"} and left["data/input.csv"] is REMOVED
    assert artifact_differences({O0: left, O2: right}) == []


def test_the_comparison_reports_changed_missing_and_removed_files(tmp_path: Path) -> None:
    (a, before_a), (b, before_b) = _workdirs(tmp_path)
    left = _run_in(a, before_a, {"data/out.csv": "x\n2\n3\n", "metrics/m.json": "{}\n", "models/m.json": "{}\n"})
    right = _run_in(b, before_b, {"data/out.csv": "x\n2\n4\n", "metrics/m.json": "{}\n"}, removes=("data/input.csv",))
    differences = artifact_differences({O0: left, O2: right})
    assert [entry.split(":", 1)[0] for entry in differences] == ["data/input.csv", "data/out.csv", "models/m.json"]
    removed, changed, missing = differences
    assert "-O0: (not written)" in removed and "-O2: (removed)" in removed
    assert "-O0: 6 bytes" in changed and "-O2: 6 bytes" in changed
    assert {"    -3", "    +4"} <= set(changed.splitlines()), changed  # the unified diff
    assert "-O2: (not written)" in missing
