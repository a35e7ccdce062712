"""The generated Airflow DAGs on a real Airflow 3 (scripts/engines/airflow.txt), never a mock.

Every example is compiled through the real CLI into one DAG folder. That folder is imported and
described once (BundleDagBag, as the DAG processor does); every runnable example then runs with
dag.test() in a fresh copy of examples/, and the runs go in parallel on copies of one migrated
database. Expectations come from the pipeline IR wherever they can: task ids, edges, produced
artifact paths, map counts, retry settings, param defaults.
"""

from __future__ import annotations

import ast
import subprocess
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from engine_harness import (
    EXAMPLES,
    AirflowEngine,
    Compiled,
    DagRun,
    compile_pipeline,
    kept_through_a_path,
    load_pipeline,
)

from compiler.backends import registry
from compiler.backends.base import Level
from compiler.language.features import feature_uses
from compiler.language.graph import build_graph
from compiler.language.ir import Pipeline, TriggerRule
from compiler.language.placeholders import parse as parse_placeholders

pytestmark = [pytest.mark.engine, pytest.mark.slow]

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
EXAMPLE_NAMES = [path.stem for path in EXAMPLE_FILES]
CAPABILITY_ERRORS = {"E301", "E302"}  # "Airflow cannot express ...": a refusal, not a crash
FALLBACK_RULES = {TriggerRule.ONE_FAILED, TriggerRule.ALL_FAILED}

NOT_RUNNABLE = {"churn": "container images, s3:// paths and secrets that do not exist (its header says so)"}
# Default runs that end failed on purpose, and why (the pipeline file's header says so).
FAILS_BY_DESIGN = {"error_handling": "deploy_primary fails while params.primary_down is true (the default)"}

# Not an example: the container side of the backend (KubernetesPodOperator, Kubernetes secrets,
# resources and GPUs, pod overrides, asset outlets, cron + data triggers, task and pipeline
# alerts), which no runnable example uses (churn.yaml does, but cannot run here). Imported and
# inspected, never run; `args_reach`'s rendered command runs in a local shell.
CONTAINER_FEATURES = """\
name: container_features
description: Container tasks, secrets, resources and GPUs, asset outlets, a cron schedule plus data triggers.
owner: ml-platform
schedule: {cron: "30 2 * * 1-5", timezone: Europe/Berlin, start_date: 2025-01-01}
triggers:
  - {type: data, artifact: raw}
  - {type: data, uri: "s3://bucket/labels/"}
max_active_tasks: 2
max_active_runs: 1
timeout: 1h
alerts: [{on: failure, command: "echo pipeline failed"}]
params:
  epochs: {type: int, default: 3, min: 1}
  models: [a, b]
artifacts:
  raw: {path: "s3://bucket/raw.csv", external: true}
  model: {path: "s3://bucket/model/", kind: directory}
defaults:
  retries: 2
  retry_delay: 30s
  retry_backoff: 3.0
  retry_max_delay: 10m
  timeout: 30m
  env: {LOG_LEVEL: info}
tasks:
  train:
    description: one container with a GPU
    image: ghcr.io/acme/train:1.4
    command: [python3, -m, train]
    args: ["--epochs", "${{ params.epochs }}", "--in", "${{ artifacts.raw }}"]
    consumes: [raw]
    produces: [model]
    secrets: {TOKEN: {name: creds, key: token}}
    resources: {cpu: "2", memory: 4Gi, gpu: 1}
    pool: gpu
    alerts: [{on: retry, command: "echo retrying"}]
  sweep:
    image: ghcr.io/acme/train:1.4
    command: python3 -m sweep --lr ${{ item }}
    foreach: [0.1, 0.01]
    max_parallel: 1
    after: [train]
  sweep_param:
    description: a pod per element of a list param (a run-time list)
    image: ghcr.io/acme/train:1.4
    command: [python3, -m, sweep]
    args: ["--model", "${{ item }}", "--epochs", "${{ params.epochs }}"]
    foreach: ${{ params.models }}
    after: [train]
  args_reach:
    description: a string command with args, which follow it as "$@"
    image: alpine:3.20
    command: printf '[%s]' ${{ params.epochs }}
    args: ["a b", "${{ params.epochs }}", 'it''s "q" $HOME']
  score:
    description: a pod returning a value through the XCom sidecar
    image: ghcr.io/acme/train:1.4
    command: python3 -m score --model ${{ artifacts.model }} --out ${{ outputs.accuracy }}
    consumes: [model]
    outputs: {accuracy: float}
  check:
    description: a python callable inside an image, returning a value
    image: ghcr.io/acme/train:1.4
    python: acme.checks:rows
    args: {limit: "${{ params.epochs }}", label: "epochs ${{ params.epochs }}", file: x.json}
    outputs: {rows: int}
    after: [train]
  report:
    command: echo done ${{ tasks.score.outputs.accuracy }} ${{ tasks.check.outputs.rows }}
    after: [sweep]
    secrets: {TOKEN: {name: creds, key: token}}
    resources: {cpu: 500m, memory: 1Gi}
    alerts: [{on: success, python: "tinyml.notify:main", args: {file: state/report.log, message: ok}}]
"""

# The same container side through DockerOperator (`--option container=docker`).
DOCKER_FEATURES = """\
name: docker_features
tasks:
  train:
    image: ghcr.io/acme/train:1.4
    command: python3 -m train --config run.env
    env: {MODE: fast}
    resources: {cpu: 1500m, memory: 2Gi, gpu: 1}
  sweep:
    image: ghcr.io/acme/train:1.4
    command: [python3, -m, sweep]
    args: ["--lr", "${{ item }}"]
    foreach: [0.1, 0.01]
    after: [train]
"""

# A python task whose function fails: the traceback goes from the task's function into tinyml's.
PYTHON_FAILS = """\
name: python_fails
tasks:
  split_nothing:
    python: tinyml.split:main
    args: {src: data/no-such-file.csv}
"""

# A command's exit code is its verdict: BashOperator's default would *skip* the task on 99.
EXIT_99 = """\
name: exit_99
tasks:
  broken:
    command: exit 99
  downstream:
    command: echo must not run
    after: [broken]
"""


# ----------------------------------------------------------------------------- compiling


@dataclass
class Generated:
    dags: Path  # one folder holding every generated DAG file
    strict: dict[str, Compiled] = field(default_factory=dict)  # example -> `compile -t airflow --strict`
    warn: dict[str, Compiled] = field(default_factory=dict)  # ... without --strict, if strict failed
    files: dict[str, Path] = field(default_factory=dict)  # pipeline name -> its DAG file
    pipelines: dict[str, Pipeline] = field(default_factory=dict)  # pipeline name -> IR (defaults folded)

    def runnable(self) -> list[str]:
        """Examples that compile, leaving out at most what only changes how runs are operated (an
        owner, say): all of them run, but churn (its header says why)."""
        return [name for name in EXAMPLE_NAMES
                if (self.warn.get(name) or self.strict[name]).ok and name not in NOT_RUNNABLE]


def _compile_into(generated: Generated, name: str, source: Path, *options: str) -> Compiled:
    compiled = compile_pipeline(source, generated.dags, *options)
    assert compiled.exception is None, f"{name}: the compiler raised {compiled.exception!r}\n{compiled.output}"
    assert "Traceback" not in compiled.output, compiled.output
    if compiled.ok:
        assert len(compiled.files) == 1, compiled.files
        generated.files[name] = compiled.files[0]
        generated.pipelines[name] = load_pipeline(source)
    return compiled


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    generated = Generated(tmp_path_factory.mktemp("dags"))
    for path in EXAMPLE_FILES:
        generated.strict[path.stem] = _compile_into(generated, path.stem, path, "--strict")
        if not generated.strict[path.stem].ok:
            generated.warn[path.stem] = _compile_into(generated, path.stem, path)
    sources = tmp_path_factory.mktemp("sources")
    for name, text in (("container_features", CONTAINER_FEATURES), ("exit_99", EXIT_99),
                       ("python_fails", PYTHON_FAILS)):
        (sources / f"{name}.yaml").write_text(text)
        compiled = _compile_into(generated, name, sources / f"{name}.yaml")
        assert compiled.ok, compiled.output
    (sources / "docker_features.yaml").write_text(DOCKER_FEATURES)
    compiled = _compile_into(generated, "docker_features", sources / "docker_features.yaml",
                             "--option", "container=docker")
    assert compiled.ok, compiled.output
    return generated


@pytest.fixture(scope="module")
def inspected(airflow_engine: AirflowEngine, generated: Generated) -> dict[str, Any]:
    """Every generated file imported by Airflow and described (airflow_runner.py inspect)."""
    output = airflow_engine.inspect(generated.dags)
    data = output.data
    assert "dags" in data, output.tail()
    return data


# ----------------------------------------------------------------------------- the runs


@dataclass(frozen=True)
class Run:
    example: str
    conf: dict[str, Any] | None = None


# Besides every runnable example with its defaults: the other side of each branch and fallback,
# a retry-free fetch, params the engine must reject, and a command exiting 99.
EXTRA_RUNS = {
    "conditional:high_threshold": Run("conditional", {"threshold": 0.99}),
    "error_handling:healthy": Run("error_handling", {"fail_times": 0, "primary_down": False}),
    "parallel:rows_wrong_type": Run("parallel", {"rows": "many"}),
    "conditional:model_not_in_enum": Run("conditional", {"model": "forest"}),
    "exit_99": Run("exit_99"),
    "python_fails": Run("python_fails"),
}


@pytest.fixture(scope="module", autouse=True)
def runs(airflow_engine: AirflowEngine, generated: Generated) -> dict[str, Future[DagRun]]:
    """Every run this module checks, started at once in the background (slowest first), so the
    import and lint tests go on while they run."""
    plan = {name: Run(name) for name in generated.runnable()} | EXTRA_RUNS
    slow_first = sorted(plan.items(), key=lambda item: (item[1].conf is not None, item[0] != "fan_out"))
    return {key: airflow_engine.submit(generated.files[run.example], generated.pipelines[run.example].name,
                                       run.conf)
            for key, run in slow_first}


def _result(runs: dict[str, Future[DagRun]], key: str) -> DagRun:
    return runs[key].result()


# ----------------------------------------------------------------------------- helpers from the IR


def maps_through_helper(pipeline: Pipeline, task_id: str) -> bool:
    """A task mapped over a list Airflow cannot map over itself (docs/backends/airflow.md): a list
    param, one of several values a task returns (one XCom each), or any run-time list of a pod
    (each item's arguments are computed by the helper)."""
    task = pipeline.tasks[task_id]
    if not isinstance(task.foreach, str):
        return False
    (ref,) = [s for s in parse_placeholders(task.foreach)[0] if not isinstance(s, str)]
    return ref.kind == "param" or task.image is not None or len(pipeline.tasks[ref.task].outputs) > 1


def xcom_value(pipeline: Pipeline, ref, xcom: Any) -> Any:
    """An output's value in its task's XCom: the value of a task with one, else a dict of them."""
    return xcom if len(pipeline.tasks[ref.task].outputs) == 1 else xcom[ref.name]


def expected_task_ids(pipeline: Pipeline) -> set[str]:
    """The IR's task ids plus the documented helpers (docs/backends/airflow.md)."""
    graph = build_graph(pipeline)
    ids = set(pipeline.tasks)
    for task_id, task in pipeline.tasks.items():
        if task.when is not None:
            ids.add(f"{task_id}__branch")
        if maps_through_helper(pipeline, task_id):
            ids.add(f"{task_id}__items")
        if any(pipeline.tasks[d].trigger_rule in FALLBACK_RULES for d in graph.successors(task_id)):
            ids.add(f"{task_id}__succeeded")
    return ids


def produced_paths(pipeline: Pipeline, task_ids: set[str]) -> list[str]:
    """Local paths of the artifacts these tasks produce."""
    paths = []
    for task_id in task_ids:
        for name in pipeline.tasks[task_id].produces:
            artifact = pipeline.artifacts[name]
            if not artifact.is_uri:
                paths.append(artifact.path)
    return sorted(paths)


def expected_map_count(pipeline: Pipeline, task_id: str, run: DagRun) -> int:
    """How many instances a fanned-out task must have: the literal list's length, the list
    param's default length, or the length of the upstream output the run produced."""
    foreach = pipeline.tasks[task_id].foreach
    if isinstance(foreach, list):
        return len(foreach)
    (ref,) = [s for s in parse_placeholders(foreach)[0] if not isinstance(s, str)]
    if ref.kind == "param":
        return len(pipeline.params[ref.name].default)
    assert ref.kind == "task_output", ref
    value = xcom_value(pipeline, ref, run.ti(ref.task)["xcom"])
    assert isinstance(value, list), f"{ref}: XCom {value!r}"
    return len(value)


def compiled_or_refused(generated: Generated, example: str) -> Pipeline | None:
    """The example's IR when it compiled for Airflow; None when it was refused, which must be for
    capabilities only (the other tests would otherwise pass vacuously)."""
    if example in generated.pipelines:
        return generated.pipelines[example]
    outcome = generated.warn.get(example) or generated.strict[example]
    codes = {line.split("[", 1)[1].split("]", 1)[0] for line in outcome.output.splitlines()
             if line.startswith("error[")}
    assert codes and codes <= CAPABILITY_ERRORS, f"{example} failed to compile:\n{outcome.output}"
    return None


def dag_facts(inspected: dict[str, Any], pipeline: Pipeline) -> dict[str, Any]:
    assert pipeline.name in inspected["dags"], (
        f"Airflow has no DAG {pipeline.name!r}; DAGs: {sorted(inspected['dags'])}, "
        f"import errors: {inspected['import_errors']}")
    facts = inspected["dags"][pipeline.name]
    assert "inspect_error" not in facts, facts.get("inspect_error")
    return facts


# ----------------------------------------------------------------------------- compile and import


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_examples_compile_or_are_refused_for_capabilities(generated: Generated, example: str) -> None:
    """An example compiles for Airflow unless it uses a feature the backend declares unsupported;
    then it is refused with capability errors only (even without --strict), never a crash."""
    backend = registry.get("airflow")
    pipeline = load_pipeline(EXAMPLES / f"{example}.yaml")
    unsupported = sorted({use.feature.value for use in feature_uses(pipeline)
                          if backend.support(use.feature).level is Level.UNSUPPORTED})
    strict = generated.strict[example]
    if not unsupported:
        assert strict.ok, f"{example} uses nothing Airflow lacks, yet:\n{strict.output}"
        return
    assert strict.exit_code == 1 and not strict.files, strict.output
    compiled_or_refused(generated, example)  # without --strict: compiled, or refused cleanly


def test_every_generated_file_imports_without_errors(generated: Generated, inspected: dict[str, Any]) -> None:
    assert inspected["import_errors"] == {}, "\n\n".join(f"{k}:\n{v}" for k, v in inspected["import_errors"].items())
    assert sorted(inspected["dags"]) == sorted(p.name for p in generated.pipelines.values())


@pytest.mark.parametrize("example", EXAMPLE_NAMES + ["container_features", "docker_features"])
def test_dag_has_exactly_the_pipelines_task_ids(generated: Generated, inspected: dict[str, Any],
                                                example: str) -> None:
    pipeline = compiled_or_refused(generated, example)
    if pipeline is None:
        return  # nothing to import
    facts = dag_facts(inspected, pipeline)
    assert set(facts["tasks"]) == expected_task_ids(pipeline)


@pytest.mark.parametrize("example", EXAMPLE_NAMES + ["container_features", "docker_features"])
def test_every_dependency_reaches_airflow(generated: Generated, inspected: dict[str, Any], example: str) -> None:
    """Each IR edge u -> v is an Airflow upstream of v (for an edge that only feeds v's condition:
    of v's branch task, which then decides v), or Airflow keeps it through a path u -> w ... -> v
    of tasks that run only when all their upstreams succeeded, into a task whose rule such a
    path keeps (the edges the DAG file leaves out, docs/backends/airflow.md). Airflow's own
    upstreams and trigger rules, as it loaded the file."""
    pipeline = compiled_or_refused(generated, example)
    if pipeline is None:
        return
    tasks = dag_facts(inspected, pipeline)["tasks"]
    missing = []
    for upstream, downstream in build_graph(pipeline).edges:
        task = pipeline.tasks[downstream]
        decider = task.else_of if task.else_of is not None else downstream
        via_branch = f"{decider}__branch" if (task.when is not None or task.else_of is not None) else None
        if upstream in tasks[downstream]["upstream"] or kept_through_a_path(tasks, upstream, downstream):
            continue
        if via_branch and upstream in tasks[via_branch]["upstream"] and via_branch in tasks[downstream]["upstream"]:
            continue
        missing.append((upstream, downstream))
    assert not missing, f"edges missing in Airflow: {missing}"


@pytest.mark.parametrize("example", EXAMPLE_NAMES + ["container_features", "docker_features"])
def test_task_settings_and_params_reach_airflow(generated: Generated, inspected: dict[str, Any],
                                                example: str) -> None:
    """Retries (the backoff a float multiplier, Airflow >= 3.2), delays, timeouts, trigger rules,
    pools, max_parallel, descriptions and param defaults, as the real task objects hold them."""
    pipeline = compiled_or_refused(generated, example)
    if pipeline is None:
        return
    facts = dag_facts(inspected, pipeline)
    assert facts["description"] == pipeline.description
    assert facts["params"] == {name: p.default for name, p in pipeline.params.items()}
    for task_id, task in pipeline.tasks.items():
        actual = facts["tasks"][task_id]
        expected = {
            "retries": task.retries or 0,
            "trigger_rule": task.trigger_rule.value,
            "doc_md": task.description,
            "pool": task.pool or "default_pool",
            "max_active_tis_per_dagrun": task.max_parallel,
            "execution_timeout": None if task.timeout is None else float(task.timeout),
        }
        if task.retries:
            if task.retry_delay is not None:
                expected["retry_delay"] = float(task.retry_delay)
            if task.retry_backoff is not None and task.retry_backoff != 1.0:
                expected["retry_exponential_backoff"] = float(task.retry_backoff)
                expected["retry_exponential_backoff_type"] = "float"
            expected["max_retry_delay"] = None if task.retry_max_delay is None else float(task.retry_max_delay)
        assert {key: actual[key] for key in expected} == expected, task_id


def test_retry_backoff_is_written_as_a_float(generated: Generated) -> None:
    """`retry_exponential_backoff=2.0`, never `True` (which Airflow 3.2+ reads as 1.0: constant),
    whether a task or `default_args` says it; what each task ends up with is checked on the real
    task objects (test_task_settings_and_params_reach_airflow)."""
    checked = 0
    for name, path in generated.files.items():
        pipeline = generated.pipelines[name]
        module = ast.parse(path.read_text())
        found = [node.value for node in ast.walk(module)
                 if isinstance(node, ast.keyword) and node.arg == "retry_exponential_backoff"]
        found += [value for node in ast.walk(module) if isinstance(node, ast.Dict)
                  for key, value in zip(node.keys, node.values)
                  if isinstance(key, ast.Constant) and key.value == "retry_exponential_backoff"]
        assert all(isinstance(v, ast.Constant) and type(v.value) is float for v in found), ast.dump(found[0])
        backoffs = {float(t.retry_backoff) for t in pipeline.tasks.values()
                    if t.retries and t.retry_backoff is not None and t.retry_backoff != 1.0}
        assert backoffs <= {v.value for v in found}, name
        checked += len(backoffs)
    assert checked, "no pipeline exercises retry_backoff: the check would prove nothing"


def test_generated_files_pass_ruff_airflow_rules(generated: Generated, tools_python: str) -> None:
    """`ruff check --preview --select AIR` (Airflow 3 migration rules) on every generated file."""
    files = sorted(str(path) for path in generated.files.values())
    try:
        process = subprocess.run([tools_python, "-m", "ruff", "check", "--preview", "--select", "AIR",
                                  "--no-cache", "--isolated", *files], capture_output=True, text=True, timeout=120,
                                 check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"ruff did not run: {error!r}", pytrace=False)
    assert "No module named ruff" not in process.stderr, "ruff is not installed in the test venv (test extras)"
    assert process.returncode == 0, process.stdout + process.stderr


# ----------------------------------------------------------------------------- runs


def test_every_runnable_example_is_run(generated: Generated) -> None:
    """Only churn (containers, s3, secrets: see its header) is not run; keep that visible."""
    assert set(generated.runnable()) == set(EXAMPLE_NAMES) - set(NOT_RUNNABLE)


def test_churn_compiles_and_airflow_imports_it(generated: Generated, inspected: dict[str, Any]) -> None:
    """churn.yaml, whose pods fan out over a list param, compiles (its cache settings left out,
    with a warning) and Airflow imports it with every task, its pods mapped."""
    compiled = generated.warn["churn"]
    assert compiled.ok and "error[" not in compiled.output, compiled.output
    pipeline = generated.pipelines["churn"]
    facts = dag_facts(inspected, pipeline)
    assert inspected["import_errors"] == {}
    assert set(facts["tasks"]) == expected_task_ids(pipeline)
    assert facts["tasks"]["train"]["mapped"] and facts["tasks"]["train"]["class"] == "KubernetesPodOperator"


def test_a_container_tasks_args_reach_its_command(inspected: dict[str, Any]) -> None:
    """A string command with `args` runs as `sh -c 'COMMAND "$@"' sh ARG...`: Airflow renders the
    pod's command and arguments so, and a shell given them runs the command with the args, each
    one word, exactly as written."""
    rendered = inspected["dags"]["container_features"]["tasks"]["args_reach"]["rendered"]
    cmds, arguments = rendered["cmds"]["value"], rendered["arguments"]["value"]
    assert arguments == ["a b", "3", 'it\'s "q" $HOME'], rendered
    assert cmds[:2] == ["sh", "-c"] and cmds[2].endswith(' "$@"'), cmds
    process = subprocess.run([*cmds, *arguments], capture_output=True, text=True, timeout=30, check=True)
    assert process.stdout == '[3][a b][3][it\'s "q" $HOME]', process.stdout


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_example_runs_on_airflow_and_writes_its_artifacts(generated: Generated, runs, example: str) -> None:
    if example not in generated.runnable():
        return  # not compilable for Airflow; test_every_runnable_example_is_run says which
    pipeline = generated.pipelines[example]
    run = _result(runs, example)
    expected_state = "failed" if example in FAILS_BY_DESIGN else "success"
    assert run.state == expected_state, f"{FAILS_BY_DESIGN.get(example, '')}\n{run.summary()}"
    ran = {ti["task_id"] for ti in run.tasks}
    assert ran == expected_task_ids(pipeline), run.summary()
    for ti in run.tasks:
        if ti["state"] == "skipped":  # only a branch not taken or a fallback not needed may skip
            task = pipeline.tasks.get(ti["task_id"])
            assert task is not None and (task.when or task.else_of or task.trigger_rule in FALLBACK_RULES), \
                f"{ti['task_id']} was skipped\n{run.summary()}"
        elif example not in FAILS_BY_DESIGN:
            assert ti["state"] == "success", run.summary()
    succeeded = {t for t in pipeline.tasks if run.instances(t) and all(ti["state"] == "success"
                                                                         for ti in run.instances(t))}
    paths = produced_paths(pipeline, succeeded)
    assert paths or not any(task.produces for task in pipeline.tasks.values()), "no produced artifact checked"
    missing = [path for path in paths if not (run.workdir / path).exists()]
    assert not missing, f"artifacts not written: {missing}\n{run.summary()}"
    for task_id, task in pipeline.tasks.items():
        if task.is_mapped:
            indexes = sorted(ti["map_index"] for ti in run.instances(task_id))
            assert indexes == list(range(expected_map_count(pipeline, task_id, run))), (task_id, run.summary())


def test_a_flaky_task_is_retried_until_it_succeeds(generated: Generated, runs) -> None:
    pipeline = generated.pipelines["error_handling"]
    fail_times = pipeline.params["fail_times"].default
    assert 0 < fail_times <= pipeline.tasks["fetch"].retries, "the example must fail fewer times than it retries"
    fetch = _result(runs, "error_handling").ti("fetch")
    assert (fetch["state"], fetch["try_number"]) == ("success", fail_times + 1)
    healthy = _result(runs, "error_handling:healthy").ti("fetch")
    assert (healthy["state"], healthy["try_number"]) == ("success", 1)


def test_a_fallback_runs_only_when_its_primary_failed_and_the_run_stays_failed(generated: Generated, runs) -> None:
    down = _result(runs, "error_handling")
    assert down.state == "failed", down.summary()
    assert down.ti("deploy_primary")["state"] == "failed", down.summary()
    assert down.ti("deploy_fallback")["state"] == "success", down.summary()
    assert down.ti("deploy_primary__succeeded")["state"] == "upstream_failed", down.summary()
    pipeline = generated.pipelines["error_handling"]
    assert all((down.workdir / path).exists() for path in produced_paths(pipeline, {"deploy_fallback"}))
    assert not any((down.workdir / path).exists() for path in produced_paths(pipeline, {"deploy_primary"}))
    healthy = _result(runs, "error_handling:healthy")
    assert healthy.state == "success", healthy.summary()
    assert healthy.ti("deploy_primary")["state"] == "success", healthy.summary()
    assert healthy.ti("deploy_fallback")["state"] == "skipped", healthy.summary()
    assert all((healthy.workdir / path).exists() for path in produced_paths(pipeline, {"deploy_primary"}))
    assert not any((healthy.workdir / path).exists() for path in produced_paths(pipeline, {"deploy_fallback"}))


@pytest.mark.parametrize("key", ["conditional", "conditional:high_threshold"])
def test_the_branch_not_taken_is_skipped_and_the_join_still_runs(generated: Generated, runs, key: str) -> None:
    pipeline = generated.pipelines["conditional"]
    (gated,) = [t for t, task in pipeline.tasks.items() if task.when]
    (other,) = [t for t, task in pipeline.tasks.items() if task.else_of == gated]
    (join,) = [t for t, task in pipeline.tasks.items() if task.trigger_rule is TriggerRule.NONE_FAILED]
    run = _result(runs, key)
    threshold = (EXTRA_RUNS[key].conf if key in EXTRA_RUNS else {}).get("threshold",
                                                                         pipeline.params["threshold"].default)
    accuracy = run.ti("evaluate")["xcom"]  # its one value output
    taken, skipped = (gated, other) if accuracy >= threshold else (other, gated)
    if key == "conditional":
        assert taken == gated, f"the default run should take `{gated}` (accuracy {accuracy})"
    else:
        assert taken == other, f"threshold {threshold} should take `{other}` (accuracy {accuracy})"
    assert run.state == "success", run.summary()
    states = run.states()
    assert (states[taken], states[skipped], states[join]) == ("success", "skipped", "success"), run.summary()
    for path in produced_paths(pipeline, {skipped}):
        assert not (run.workdir / path).exists(), f"{path} written by the skipped {skipped}"


def test_each_mapped_task_runs_once_per_element(generated: Generated, runs) -> None:
    pipeline = generated.pipelines["fan_out"]
    run = _result(runs, "fan_out")
    counts = {task_id: len(run.instances(task_id)) for task_id in ("train", "tune_lr", "score_shard")}
    shards = run.ti("shard")["xcom"]  # its one value output
    assert counts == {
        "train": len(pipeline.params["models"].default),
        "tune_lr": len(pipeline.tasks["tune_lr"].foreach),
        "score_shard": len(shards),
    }, run.summary()
    assert len(shards) == pipeline.params["shards"].default
    results = [ti["xcom"]["name"] for ti in run.instances("train")]  # each instance's `result` dict
    assert results == pipeline.params["models"].default  # in map order: item i is element i


@pytest.mark.parametrize("key, param", [("parallel:rows_wrong_type", "rows"),
                                        ("conditional:model_not_in_enum", "model")])
def test_params_are_validated_by_airflow(runs, key: str, param: str) -> None:
    run = _result(runs, key)
    assert run.error is not None, f"conf {EXTRA_RUNS[key].conf} was accepted\n{run.summary()}"
    assert run.error["type"] == "ParamValidationError" and param in run.error["message"], run.error
    assert not run.tasks


def test_a_failing_python_tasks_traceback_goes_from_the_task_into_the_function(runs) -> None:
    """No runtime between them: the frame of the task's own function calls the user's function."""
    run = _result(runs, "python_fails")
    assert run.states() == {"split_nothing": "failed"}, run.summary()
    log = (run.stdout + run.stderr).splitlines()
    frames = [line.strip() for line in log if line.strip().startswith('File "')]
    called = [index for index, frame in enumerate(frames) if frame.endswith("in split_nothing")]
    assert called and frames[called[-1]].startswith('File "') and "python_fails.py" in frames[called[-1]], frames
    assert "tinyml/split.py" in frames[called[-1] + 1] and frames[called[-1] + 1].endswith("in main"), frames


def test_a_command_exiting_99_fails_instead_of_skipping(runs) -> None:
    run = _result(runs, "exit_99")
    assert run.state == "failed", run.summary()
    assert run.states() == {"broken": "failed", "downstream": "upstream_failed"}
