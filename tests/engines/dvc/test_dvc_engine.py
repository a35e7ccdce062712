"""The generated dvc.yaml files on a real DVC 3 (scripts/engines/dvc.txt), never a mock.

Every example with a golden `golden/<example>/dvc/dvc.yaml` (it compiles for DVC as it stands,
leaving out with a warning what only changes how runs are operated, such as a schedule or a data
trigger) is compiled through the real CLI, and so is fan_out without its dynamic fan-out (the
static fan-outs, over a list param and over a literal list of objects).

Each runs in a fresh git + DVC repository holding a copy of examples/ and the generated files
(dvc_harness.py), all scenarios in parallel threads, one `dvc` process per step:
0. `dvc dag --dot` is the pipeline graph (compiler.language.graph.build_graph): stage `train@logreg` is a
   run of task `train`, and every run has the task's upstream and downstream tasks;
1. `dvc repro` runs every stage, and every task's `produces` artifacts exist afterwards;
2. a second `dvc repro` runs nothing and `dvc status` is up to date;
3. for every int/float param in turn, changing it in params.yaml makes `dvc repro` re-run every
   stage of the tasks that read it (from the IR, not from dvc.yaml), nothing outside their
   downstream, and a downstream stage only when one of its deps changed (dvc.lock before/after);
   `dvc status` is up to date afterwards;
4. editing the module file of a python task (a dep of its stage) makes exactly the stages of the
   tasks calling into it stale, and `dvc repro` brings them up to date.
Expectations come from the pipeline IR wherever they can.
"""

from __future__ import annotations

import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from dvc_harness import Compiled, DvcEngine, DvcRepo, Repro, compile_dvc, task_of
from engine_harness import EXAMPLES, ROOT, load_pipeline
from ruamel.yaml import YAML

from compiler.language.graph import build_graph
from compiler.language.ir import ArtifactKind, Pipeline, ValueType
from compiler.language.references import task_refs

pytestmark = [pytest.mark.engine, pytest.mark.slow]

GOLDEN = ROOT / "golden"
GOLDEN_DVC = sorted(path.parent.parent.name for path in GOLDEN.glob("*/dvc/dvc.yaml"))
# fan_out minus the dynamic fan-out DVC cannot express (score_shard over an upstream output, and
# summarize after it): what is left fans out over a list param and over a literal list of objects.
DERIVED = {"fan_out_static": ("fan_out", ["score_shard", "summarize"], ["predictions"])}
SCENARIOS = [*GOLDEN_DVC, *DERIVED]


# ----------------------------------------------------------------------------- running the scenarios


@dataclass
class ParamChange:
    name: str
    old: Any
    new: Any
    readers: set[str]  # tasks whose text reads ${{ params.NAME }}
    before: dict[str, Any]  # dvc.lock stages before the change
    after: dict[str, Any]
    repro: Repro
    status: dict[str, Any]


@dataclass
class Scenario:
    name: str
    source: Path
    pipeline: Pipeline
    compiled: Compiled
    repo: DvcRepo | None = None
    first: Repro | None = None
    nodes: set[str] = field(default_factory=set)
    edges: set[tuple[str, str]] = field(default_factory=set)
    second: Repro | None = None
    status: dict[str, Any] | None = None
    changes: list[ParamChange] = field(default_factory=list)
    reached: list[str] = field(default_factory=list)  # STEPS done, in order
    error: str | None = None  # what stopped the scenario early

    @property
    def graph(self) -> nx.DiGraph:
        return build_graph(self.pipeline)

    def context(self) -> str:
        where = f"\nrepository: {self.repo.path}\nDVC calls: {self.repo.timings()}" if self.repo else ""
        return f"[{self.name}: {self.source.name}]{where}"

    def require(self, step: str) -> None:
        """Fail, with what stopped the scenario, when it did not get as far as STEP."""
        if not self.compiled.ok:
            pytest.fail(f"{self.context()} did not compile:\n{self.compiled.output}", pytrace=False)
        if step not in self.reached:
            pytest.fail(f"{self.context()} stopped before `{step}`:\n{self.error}", pytrace=False)


def _derive(name: str, directory: Path) -> Path:
    """DERIVED[name] written as a pipeline file (ruamel round trip of the example)."""
    example, drop_tasks, drop_artifacts = DERIVED[name]
    yaml = YAML()
    data = yaml.load((EXAMPLES / f"{example}.yaml").read_text(encoding="utf-8"))
    data["name"] = name
    for task in drop_tasks:
        del data["tasks"][task]
    for artifact in drop_artifacts:
        del data["artifacts"][artifact]
    path = directory / f"{name}.yaml"
    with path.open("w", encoding="utf-8") as stream:
        yaml.dump(data, stream)
    return path


def _prepare(name: str, scratch: Path) -> Scenario:
    """Compile one scenario through the CLI (in the main thread: click's runner swaps sys.stdout)."""
    source = _derive(name, scratch) if name in DERIVED else EXAMPLES / f"{name}.yaml"
    compiled = compile_dvc(source, scratch / "out")
    return Scenario(name, source, load_pipeline(source), compiled)


def _bumped(pipeline: Pipeline, name: str, value: Any) -> Any:
    """A different valid value for an int or float param (within its min and max)."""
    param = pipeline.params[name]
    step = 1 if isinstance(value, int) else (abs(value) * 0.5 or 0.5)
    new = value + step
    if param.max is not None and new > param.max:
        new = value - step
    return round(new, 6) if isinstance(new, float) else new


def _run(scenario: Scenario, repo_of) -> Scenario:
    """Every DVC step of one scenario; a failure is recorded, and the tests report it."""
    try:
        repo = scenario.repo = repo_of()
        scenario.nodes, scenario.edges = repo.dag()
        scenario.reached.append("dag")
        scenario.first = repo.repro(check=False)
        if not scenario.first.ok:
            scenario.error = f"the first dvc repro failed:\n{scenario.first.describe()}"
            return scenario
        scenario.reached.append("repro")
        scenario.second = repo.repro(check=False)
        scenario.status = repo.status()
        scenario.reached.append("second repro")
        for name, param in scenario.pipeline.params.items():
            value = repo.get_param(name)
            if param.value_type not in (ValueType.INT, ValueType.FLOAT) or isinstance(value, bool):
                continue
            readers = {task_id for task_id, task in scenario.pipeline.tasks.items()
                       if any(ref.kind == "param" and ref.name == name for _, ref in task_refs(task))}
            before = repo.lock()
            new = _bumped(scenario.pipeline, name, value)
            repo.set_param(name, new)
            result = repo.repro(check=False)
            scenario.changes.append(ParamChange(name, value, new, readers, before, repo.lock(), result,
                                                repo.status()))
            if not result.ok:
                break
        scenario.reached.append("param changes")
    except Exception:  # noqa: BLE001 - reported by every test of the scenario
        scenario.error = traceback.format_exc()
    return scenario


@pytest.fixture(scope="module")
def scenarios(dvc_engine: DvcEngine, tmp_path_factory: pytest.TempPathFactory):
    prepared = {name: _prepare(name, tmp_path_factory.mktemp(f"dvc-{name}")) for name in SCENARIOS}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures: dict[str, Future[Scenario]] = {}
        for name, scenario in prepared.items():
            if scenario.compiled.ok:
                futures[name] = pool.submit(_run, scenario, partial(dvc_engine.repo, _outdir(scenario)))
            else:
                done: Future[Scenario] = Future()
                done.set_result(scenario)
                futures[name] = done
        yield futures


def _outdir(scenario: Scenario) -> Path:
    """The compile output folder (where dvc.yaml is)."""
    return next(path.parent for path in scenario.compiled.files if path.name == "dvc.yaml")


def scenario_of(scenarios: dict[str, Future[Scenario]], name: str) -> Scenario:
    return scenarios[name].result()


# ----------------------------------------------------------------------------- the tests


def test_some_examples_compile_to_dvc() -> None:
    # Without this an empty parametrization below would pass without running anything.
    assert GOLDEN_DVC, "no golden/*/dvc/dvc.yaml: the DVC backend's golden output is missing"


@pytest.mark.parametrize("name", SCENARIOS)
def test_compiles_to_dvc_yaml_and_params(scenarios, name: str) -> None:
    scenario = scenario_of(scenarios, name)
    assert scenario.compiled.ok, f"{scenario.context()} did not compile:\n{scenario.compiled.output}"
    names = {path.name for path in scenario.compiled.files}
    assert {"dvc.yaml", "params.yaml"} <= names


@pytest.mark.parametrize("name", SCENARIOS)
def test_repro_runs_every_stage_and_produces_the_artifacts(scenarios, name: str) -> None:
    scenario = scenario_of(scenarios, name)
    scenario.require("repro")
    first, pipeline = scenario.first, scenario.pipeline
    assert sorted(first.reproduced) == sorted(scenario.nodes), first.describe()
    assert len(first.ran) == len(set(first.ran)), f"a stage ran twice: {first.ran}"
    tasks = {task_of(stage) for stage in scenario.nodes}
    assert tasks == set(pipeline.tasks), f"stages {sorted(scenario.nodes)} vs tasks {sorted(pipeline.tasks)}"
    for task_id, task in pipeline.tasks.items():
        runs = sorted(stage for stage in scenario.nodes if task_of(stage) == task_id)
        if task.is_mapped:
            items = task.foreach if isinstance(task.foreach, list) else _param_list(pipeline, task.foreach)
            assert len(runs) == len(items) and all("@" in run for run in runs), (task_id, runs, items)
        else:
            assert runs == [task_id]
    workdir = scenario.repo.path / (pipeline.workdir or "")
    missing = []
    for task_id, task in pipeline.tasks.items():
        for name_ in task.produces:
            artifact = pipeline.artifacts[name_]
            if artifact.is_uri:
                continue
            path = workdir / artifact.path
            if artifact.kind is ArtifactKind.DIRECTORY:
                ok = path.is_dir() and any(path.iterdir())
            else:
                ok = path.is_file() and path.stat().st_size > 0
            if not ok:
                missing.append(f"{task_id} -> {name_} ({artifact.path})")
    assert not missing, f"{scenario.context()} artifacts not produced: {missing}\n{first.describe()}"


def _param_list(pipeline: Pipeline, text: str) -> list:
    name = text.replace("${{", "").replace("}}", "").strip().removeprefix("params.")
    return list(pipeline.params[name].default)


@pytest.mark.parametrize("name", SCENARIOS)
def test_dag_is_the_pipeline_graph(scenarios, name: str) -> None:
    scenario = scenario_of(scenarios, name)
    scenario.require("dag")
    graph = scenario.graph
    collapsed = {(task_of(a), task_of(b)) for a, b in scenario.edges}
    assert collapsed == set(graph.edges), (
        f"{scenario.context()}\nDVC has, the IR has not: {sorted(collapsed - set(graph.edges))}\n"
        f"IR has, DVC has not: {sorted(set(graph.edges) - collapsed)}")
    # And per run of a fanned-out task: each one waits for all of its task's upstream tasks and
    # feeds all of its downstream ones.
    for stage in scenario.nodes:
        upstream = {task_of(a) for a, b in scenario.edges if b == stage}
        downstream = {task_of(b) for a, b in scenario.edges if a == stage}
        assert upstream == set(graph.predecessors(task_of(stage))), (stage, upstream)
        assert downstream == set(graph.successors(task_of(stage))), (stage, downstream)


@pytest.mark.parametrize("name", SCENARIOS)
def test_second_repro_runs_nothing(scenarios, name: str) -> None:
    scenario = scenario_of(scenarios, name)
    scenario.require("second repro")
    second = scenario.second
    assert second.ok and second.ran == [] and second.cached == [], second.describe()
    assert sorted(second.unchanged) == sorted(scenario.nodes)
    assert scenario.status == {}, f"dvc status after two repros: {scenario.status}"


@pytest.mark.parametrize("name", SCENARIOS)
def test_param_change_reruns_exactly_its_dependents(scenarios, name: str) -> None:
    scenario = scenario_of(scenarios, name)
    scenario.require("param changes")
    graph = scenario.graph
    numeric = [n for n, p in scenario.pipeline.params.items() if p.value_type in (ValueType.INT, ValueType.FLOAT)]
    assert [change.name for change in scenario.changes] == numeric
    problems = []
    for change in scenario.changes:
        what = f"{change.name}: {change.old!r} -> {change.new!r}"
        if not change.repro.ok:
            problems.append(f"{what}: dvc repro failed\n{change.repro.describe()}")
            continue
        must = {stage for stage in scenario.nodes if task_of(stage) in change.readers}
        below = set().union(*(nx.descendants(graph, task) for task in change.readers)) if change.readers else set()
        allowed = must | {stage for stage in scenario.nodes if task_of(stage) in below}
        done = change.repro.reproduced
        if must - done:
            problems.append(f"{what}: did not re-run {sorted(must - done)} (they read the param)")
        if done - allowed:
            problems.append(f"{what}: re-ran {sorted(done - allowed)}, not downstream of {sorted(change.readers)}")
        for stage in sorted(done - must):
            if _deps(change.before.get(stage)) == _deps(change.after.get(stage)):
                problems.append(f"{what}: re-ran {stage} though none of its deps changed")
        if change.status != {}:
            problems.append(f"{what}: not up to date after the repro: {change.status}")
    assert not problems, f"{scenario.context()}\n" + "\n".join(problems)


def _deps(entry: dict[str, Any] | None) -> dict[str, Any]:
    """A dvc.lock stage's deps, path -> hash entry (params are not deps here: listed separately)."""
    return {dep["path"]: {k: v for k, v in dep.items() if k != "path"} for dep in (entry or {}).get("deps", [])}


@pytest.mark.parametrize("name", SCENARIOS)
def test_editing_a_python_module_makes_exactly_its_stages_stale(scenarios, name: str) -> None:
    """A python task's module file is a dep of its stage: after the param changes (up to date),
    editing the file makes exactly the stages of the tasks calling into it stale, and a repro
    re-runs them (what follows only if their outputs changed) and is up to date again."""
    scenario = scenario_of(scenarios, name)
    scenario.require("param changes")
    beside = scenario.source.parent / (scenario.pipeline.workdir or "")  # where the backend looks for modules
    modules = {task_id: _module_file(task.python) for task_id, task in scenario.pipeline.tasks.items()
               if task.kind == "python" and (beside / _module_file(task.python)).is_file()}
    if not modules:
        pytest.skip("no python task whose module is beside the pipeline file")
    module = next(iter(modules.values()))
    callers = {task_id for task_id, called in modules.items() if called == module}
    repo = scenario.repo
    source = repo.path / (scenario.pipeline.workdir or "") / module
    source.write_text(source.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    stale = set(repo.status())
    assert {task_of(stage) for stage in stale} == callers, f"{scenario.context()}\nstale after editing {module}: {stale}"
    result = repo.repro(check=False)
    assert result.ok and stale <= result.reproduced, result.describe()
    below = set().union(*(nx.descendants(scenario.graph, task) for task in callers))
    assert {task_of(stage) for stage in result.reproduced} <= callers | below, result.describe()
    assert repo.up_to_date(), repo.status()


def _module_file(target: str) -> str:
    """`tinyml.transform:main` -> `tinyml/transform.py`."""
    return target.partition(":")[0].replace(".", "/") + ".py"
