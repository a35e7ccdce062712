"""The generated Prefect flows on a real Prefect 3 (scripts/engines/prefect.txt), never a mock.

Every example is compiled through the real CLI, each into its own folder. ONE engine process
(prefect_runner.py, with the ephemeral local API Prefect starts by itself) then imports every
generated module and describes what Prefect made of it, and runs every scenario: each runnable
example with its defaults, the other side of each branch and fallback, params Prefect must
reject, and a few hand-written pipelines. Each scenario runs in a fresh copy of examples/ and its
task runs are read back from the Prefect API. Besides that process, the generated modules are run
as a user runs them, `python <module> [--param NAME=VALUE]`, in the background meanwhile.
Expectations come from the pipeline IR wherever they can: task ids, produced artifact paths, map
counts, retry settings, param defaults, alert messages.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from engine_harness import (
    EXAMPLES,
    Compiled,
    FlowRun,
    ModuleRun,
    PrefectEngine,
    PrefectReport,
    compile_pipeline,
    load_pipeline,
)

from compiler.backends import registry
from compiler.backends.base import Level
from compiler.language.features import feature_uses
from compiler.language.ir import AlertEvent, Pipeline, TriggerRule
from compiler.language.naming import python_name
from compiler.language.placeholders import parse as parse_placeholders

pytestmark = [pytest.mark.engine, pytest.mark.slow]

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
EXAMPLE_NAMES = [path.stem for path in EXAMPLE_FILES]
CAPABILITY_ERRORS = {"E301", "E302"}  # "Prefect cannot express ...": a refusal, not a crash
FALLBACK_RULES = {TriggerRule.ONE_FAILED, TriggerRule.ALL_FAILED}

# Default runs that end failed on purpose, and why (the pipeline file's header says so).
FAILS_BY_DESIGN = {"error_handling": "deploy_primary fails while params.primary_down is true (the default)"}

# A command's exit code is its verdict; what comes after a failure never runs.
EXIT_99 = """\
name: exit_99
tasks:
  broken:
    command: exit 99
  downstream:
    command: echo must not run > downstream.txt
    after: [broken]
"""

# A task timeout must stop the command: Prefect cannot interrupt a task in a worker thread, so
# the generated module kills the command (and what it started) itself.
TIMEOUT_KILL = """\
name: timeout_kill
tasks:
  slow:
    command: sleep 30 && echo finished > slow.txt
    timeout: 1s
  downstream:
    command: echo must not run > downstream.txt
    after: [slow]
"""
# Python tasks run in threads of one process, which has one cwd (the flow moves into WORKDIR):
# `quick` ends while `slow` is still generating rows, and `slow` writes its file only then
# (relative to the cwd).
SHARED_CWD = """\
name: shared_cwd
artifacts:
  quick_rows: data/quick.csv
  slow_rows: data/slow.csv
tasks:
  quick:
    python: tinyml.ingest:main
    args: {out: "${{ artifacts.quick_rows }}", rows: 20000}
    produces: [quick_rows]
  slow:
    python: tinyml.ingest:main
    args: {out: "${{ artifacts.slow_rows }}", rows: 300000}
    produces: [slow_rows]
"""
# A cached task runs again when its command changes (cache_edited: the same task, another
# command), not when a param it does not read changes (the run with another `unrelated`).
CACHED = """\
name: cache
params: {word: one, unrelated: 1}
tasks:
  say:
    command: echo ${{ params.word }} > said.txt
    cache: true
"""
CACHED_EDITED = CACHED.replace("name: cache", "name: cache_edited").replace("echo ", "echo edited ")
# max_parallel is a sliding window beside the rest of the flow: `independent` starts while `fan`
# is still running, and at most two items of `fan` run at once (the tasks log when they run).
WINDOW = """\
name: window
tasks:
  fan:
    foreach: [1, 2, 3, 4]
    max_parallel: 2
    command: echo start fan ${{ item }} $(date +%s.%N) >> times.log; sleep 2; echo end fan ${{ item }} $(date +%s.%N) >> times.log
  independent:
    command: echo start independent $(date +%s.%N) >> times.log
"""
# A python task past its timeout is stopped (it runs in a child process, which is killed).
PYTHON_TIMEOUT = """\
name: python_timeout
tasks:
  slow:
    python: dagshift_probe:nap
    args: {seconds: 40, path: napped.txt}
    timeout: 2s
  downstream:
    command: echo must not run > downstream.txt
    after: [slow]
"""
# A secret reaches a shell task's command and a python task's environment from a Prefect Secret
# block (the runner saves SECRETS before the runs).
SECRET_ENV = """\
name: secret_env
tasks:
  shell:
    command: printf %s "$TOKEN" > shell_token.txt
    secrets: {TOKEN: {name: dagshift-secret, key: token}}
  python:
    python: dagshift_probe:write_env
    args: {name: TOKEN, path: python_token.txt}
    secrets: {TOKEN: {name: dagshift-secret, key: token}}
"""
# The general form (a pipeline the structured flow body cannot hold: the fallback after
# everything keeps every task submitted, so the conditional tasks run side by side in a branch).
GENERAL = """\
name: general
params: {threshold: 0.5, items: [a, b]}
tasks:
  measure:
    command: echo 0.7 > ${{ outputs.score }}
    outputs: {score: float}
  left:
    command: echo left >> log.txt
    when: tasks.measure.outputs.score >= params.threshold
  right:
    command: echo right >> log.txt
    when: tasks.measure.outputs.score >= params.threshold
  other:
    command: echo other >> log.txt
    else_of: left
  join:
    command: echo join ${{ tasks.measure.outputs.score }} >> log.txt
    after: [left, right, other]
    trigger_rule: none_failed
  each:
    foreach: ${{ params.items }}
    command: echo each ${{ item }} >> log.txt
    after: [join]
  cleanup:
    command: echo cleanup >> log.txt
    after: [each, left]
    trigger_rule: all_done
"""
# A python task's failure: its traceback goes from the task function straight into the user's.
PYTHON_FAILURE = """\
name: python_failure
tasks:
  boom:
    python: dagshift_probe:fail
    args: {message: the user's code failed}
"""
SECRETS = {"dagshift-secret": {"token": "t0k'en \"$HOME\" {{ x }} 😀"}}
PROBE = """\
import os
import time


def nap(seconds, path):
    time.sleep(seconds)
    with open(path, "w") as file:
        file.write("woke up")


def fail(message):
    raise ValueError(message)


def write_env(name, path):
    with open(path, "w", encoding="utf-8") as file:
        file.write(os.environ[name])
"""
HAND_WRITTEN = {"exit_99": EXIT_99, "timeout_kill": TIMEOUT_KILL, "shared_cwd": SHARED_CWD, "cache": CACHED,
                "cache_edited": CACHED_EDITED, "window": WINDOW, "python_timeout": PYTHON_TIMEOUT,
                "secret_env": SECRET_ENV, "general": GENERAL, "python_failure": PYTHON_FAILURE}


# ----------------------------------------------------------------------------- compiling


@dataclass
class Generated:
    root: Path  # one folder per pipeline: <root>/<name>/{<module>.py, prefect.yaml}
    strict: dict[str, Compiled] = field(default_factory=dict)  # example -> `compile -t prefect --strict`
    warn: dict[str, Compiled] = field(default_factory=dict)  # ... without --strict, if strict failed
    files: dict[str, Path] = field(default_factory=dict)  # pipeline name -> its flow module
    pipelines: dict[str, Pipeline] = field(default_factory=dict)  # pipeline name -> IR (defaults folded)

    def runnable(self) -> list[str]:
        """Examples that compile, leaving out at most what only changes how runs are operated (an
        owner, say): all of them run."""
        return [name for name in EXAMPLE_NAMES if (self.warn.get(name) or self.strict[name]).ok]

    def flow_function(self, name: str) -> str:
        return python_name(self.pipelines[name].name)


def _compile_into(generated: Generated, name: str, source: Path, *options: str) -> Compiled:
    compiled = compile_pipeline(source, generated.root / name, *options, target="prefect")
    assert compiled.exception is None, f"{name}: the compiler raised {compiled.exception!r}\n{compiled.output}"
    assert "Traceback" not in compiled.output, compiled.output
    if compiled.ok:
        assert [path.name for path in compiled.files] == [f"{python_name(name)}.py"], compiled.files
        assert (generated.root / name / "prefect.yaml").is_file()
        generated.files[name] = compiled.files[0]
        generated.pipelines[name] = load_pipeline(source)
    return compiled


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    generated = Generated(tmp_path_factory.mktemp("flows"))
    for path in EXAMPLE_FILES:
        generated.strict[path.stem] = _compile_into(generated, path.stem, path, "--strict")
        if not generated.strict[path.stem].ok:
            generated.warn[path.stem] = _compile_into(generated, path.stem, path)
    sources = tmp_path_factory.mktemp("sources")
    for name, text in HAND_WRITTEN.items():
        (sources / f"{name}.yaml").write_text(text)
        compiled = _compile_into(generated, name, sources / f"{name}.yaml")
        assert compiled.ok, compiled.output
    return generated


# ----------------------------------------------------------------------------- the engine process


@dataclass(frozen=True)
class Run:
    pipeline: str
    params: dict[str, Any] | None = None
    start_elsewhere: bool = False  # start the flow in an empty folder, DAGSHIFT_WORKDIR the copy
    probe: bool = False  # dagshift_probe.py (PROBE) in the working directory


# Besides every runnable example with its defaults: the other side of each branch and fallback,
# a retry-free fetch, params Prefect must reject, a flow started outside its working directory
# (python tasks in parallel threads share one process cwd), a command exiting 99, a timeout.
EXTRA_RUNS = {
    "conditional:high_threshold": Run("conditional", {"threshold": 0.99}),
    "error_handling:healthy": Run("error_handling", {"fail_times": 0, "primary_down": False}),
    "parallel:rows_wrong_type": Run("parallel", {"rows": "many"}),
    "conditional:model_not_in_enum": Run("conditional", {"model": "forest"}),
    "sequential:epochs_above_max": Run("sequential", {"epochs": 500}),
    "fan_out:started_elsewhere": Run("fan_out", start_elsewhere=True),
    "shared_cwd": Run("shared_cwd", start_elsewhere=True),
    "exit_99": Run("exit_99"),
    "timeout_kill": Run("timeout_kill"),
    # in this order, in one process: the second run finds the first one's cached result
    "cache": Run("cache"),
    "cache:unrelated_param": Run("cache", {"unrelated": 2}),
    "cache_edited": Run("cache_edited"),
    "window": Run("window"),
    "python_timeout": Run("python_timeout", probe=True),
    "secret_env": Run("secret_env", probe=True),
    "general": Run("general"),
    "python_failure": Run("python_failure", probe=True),
    "general:other_branch": Run("general", {"threshold": 0.9}),
}
REJECTED_PARAMS = {"parallel:rows_wrong_type": "rows", "conditional:model_not_in_enum": "model",
                   "sequential:epochs_above_max": "epochs"}


def _plan(engine: PrefectEngine, generated: Generated) -> dict[str, Any]:
    inspect = [{"key": name, "module": str(path), "flow": generated.flow_function(name)}
               for name, path in generated.files.items()]
    plan = {name: Run(name) for name in generated.runnable()} | EXTRA_RUNS
    runs = []
    for key, run in plan.items():
        workdir = engine.workdir()
        if run.probe:
            (workdir / "dagshift_probe.py").write_text(PROBE, encoding="utf-8")
        item = {"key": key, "module": str(generated.files[run.pipeline]), "flow": generated.flow_function(run.pipeline),
                "params": run.params or {}, "workdir": str(workdir)}
        if run.start_elsewhere:
            item["cwd"] = str(engine.scratch_dir("elsewhere"))
        runs.append(item)
    return {"inspect": inspect, "runs": runs, "secrets": SECRETS}


@pytest.fixture(scope="module")
def report(prefect_engine: PrefectEngine, generated: Generated) -> Future[PrefectReport]:
    """The one engine process: every module inspected, every scenario run (in the background)."""
    return prefect_engine.submit(prefect_engine.runner, _plan(prefect_engine, generated))


@pytest.fixture(scope="module")
def module_runs(prefect_engine: PrefectEngine, generated: Generated, report) -> dict[str, Future[ModuleRun]]:
    """`python parallel.py [...]` as a user runs it, each in a fresh copy of examples/, in the
    background beside the engine process (started after it: it takes longest)."""
    module = generated.files["parallel"]
    commands = {
        "defaults": [],
        "override": ["--param", "rows=57", "--param", "seed=7"],
        "wrong_type": ["--param", "rows=many"],
        "unknown_param": ["--param", "nosuch=1"],
    }
    return {key: prefect_engine.submit(prefect_engine.run_module, module, *args, cwd=prefect_engine.workdir())
            for key, args in commands.items()}


@pytest.fixture(scope="module", autouse=True)
def _start_engine_processes(report, module_runs) -> None:
    """Start every engine process before the first test, so the compile checks go on meanwhile."""


def _report(report: Future[PrefectReport]) -> PrefectReport:
    return report.result()


def _run(report: Future[PrefectReport], key: str) -> FlowRun:
    return report.result().flow_run(key)


# ----------------------------------------------------------------------------- helpers from the IR


def produced_paths(pipeline: Pipeline, task_ids) -> list[str]:
    """Local paths of the artifacts these tasks produce."""
    paths = []
    for task_id in task_ids:
        for name in pipeline.tasks[task_id].produces:
            artifact = pipeline.artifacts[name]
            if not artifact.is_uri:
                paths.append(artifact.path)
    return sorted(paths)


def may_not_run(pipeline: Pipeline, task_id: str) -> bool:
    """A branch not taken or a fallback not needed has no task run at all."""
    task = pipeline.tasks[task_id]
    return bool(task.when or task.else_of or task.trigger_rule in FALLBACK_RULES)


def expected_retry_delays(task) -> list[float]:
    """retry_delay * retry_backoff ** i for each retry i, capped at retry_max_delay."""
    delays = []
    for attempt in range(task.retries or 0):
        delay = (task.retry_delay or 0) * (task.retry_backoff or 1.0) ** attempt
        delays.append(min(delay, task.retry_max_delay) if task.retry_max_delay is not None else delay)
    return delays


def expected_map_count(pipeline: Pipeline, task_id: str, run: FlowRun) -> int:
    """How many runs a fanned-out task must have: the literal list's length, the list param's
    default length, or, over an upstream output, the number of files that upstream wrote into its
    `out_dir` arg (the only dynamic fan-out of the examples: fan_out's shard -> score_shard)."""
    foreach = pipeline.tasks[task_id].foreach
    if isinstance(foreach, list):
        return len(foreach)
    (ref,) = [s for s in parse_placeholders(foreach)[0] if not isinstance(s, str)]
    if ref.kind == "param":
        return len(pipeline.params[ref.name].default)
    assert ref.kind == "task_output", ref
    out_dir = (pipeline.tasks[ref.task].args or {}).get("out_dir")
    assert isinstance(out_dir, str), f"{task_id} fans out over {ref.task}, which names no out_dir"
    return len(list((run.workdir / out_dir).iterdir()))


def alert_messages(alerts, event: AlertEvent) -> list[str]:
    """The `--message` of each `tinyml.notify` alert command for the event (examples' alerts)."""
    messages = []
    for alert in alerts:
        if alert.on is event and alert.command:
            words = shlex.split(alert.command)
            messages.append(words[words.index("--message") + 1])
    return messages


def compiled_or_refused(generated: Generated, example: str) -> Pipeline | None:
    """The example's IR when it compiled for Prefect; None when it was refused, which must be for
    capabilities only (the other tests would otherwise pass vacuously)."""
    if example in generated.pipelines:
        return generated.pipelines[example]
    outcome = generated.warn.get(example) or generated.strict[example]
    codes = {line.split("[", 1)[1].split("]", 1)[0] for line in outcome.output.splitlines()
             if line.startswith("error[")}
    assert codes and codes <= CAPABILITY_ERRORS, f"{example} failed to compile:\n{outcome.output}"
    return None


# ----------------------------------------------------------------------------- compile and import


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_examples_compile_or_are_refused_for_capabilities(generated: Generated, example: str) -> None:
    """An example compiles for Prefect unless it uses a feature the backend declares unsupported;
    then it is refused with capability errors only (even without --strict), never a crash."""
    backend = registry.get("prefect")
    pipeline = load_pipeline(EXAMPLES / f"{example}.yaml")
    unsupported = sorted({use.feature.value for use in feature_uses(pipeline)
                          if backend.support(use.feature).level is Level.UNSUPPORTED})
    strict = generated.strict[example]
    if not unsupported:
        assert strict.ok, f"{example} uses nothing Prefect lacks, yet:\n{strict.output}"
        return
    assert strict.exit_code == 1 and not strict.files, strict.output
    compiled_or_refused(generated, example)


def test_every_runnable_example_is_run(generated: Generated) -> None:
    """Only churn (containers per task: see its header and the capability table) is not run."""
    assert set(generated.runnable()) == set(EXAMPLE_NAMES) - {"churn"}


@pytest.mark.parametrize("name", EXAMPLE_NAMES + sorted(HAND_WRITTEN))
def test_flow_and_params_reach_prefect(generated: Generated, report, name: str) -> None:
    """The flow Prefect builds from the module: name, description, parameters with the IR's
    defaults (as the signature and as Prefect's own parameter schema hold them, and validated
    by Prefect), the task runner's worker limit, the run timeout and the pipeline alerts."""
    pipeline = compiled_or_refused(generated, name) if name in EXAMPLE_NAMES else generated.pipelines[name]
    if pipeline is None:
        return
    flow = _report(report).inspected(name)["flow"]
    defaults = {p_name: p.default for p_name, p in pipeline.params.items() if not p.required}
    assert flow["name"] == pipeline.name
    assert flow["description"] == (pipeline.description or None)
    assert sorted(flow["parameters"]) == sorted(pipeline.params)
    assert flow["required"] == [p_name for p_name, p in pipeline.params.items() if p.required]
    assert flow["defaults"] == defaults
    assert flow["schema_defaults"] == defaults
    assert flow["validated_defaults"] == {"value": defaults}
    for p_name, param in pipeline.params.items():
        schema = flow["schema"]["properties"][p_name]
        if param.enum is not None:
            assert schema.get("enum") == list(param.enum), (p_name, schema)
        if param.min is not None:
            assert schema.get("minimum") == param.min, (p_name, schema)
        if param.max is not None:
            assert schema.get("maximum") == param.max, (p_name, schema)
    assert flow["task_runner"] == "ThreadPoolTaskRunner"
    if pipeline.max_active_tasks is not None:
        assert flow["max_workers"] == pipeline.max_active_tasks
    assert flow["timeout_seconds"] == (None if pipeline.timeout is None else float(pipeline.timeout))
    assert flow["on_failure"] == sum(1 for a in pipeline.alerts if a.on is AlertEvent.FAILURE)
    assert flow["on_completion"] == sum(1 for a in pipeline.alerts if a.on is AlertEvent.SUCCESS)


@pytest.mark.parametrize("name", EXAMPLE_NAMES + sorted(HAND_WRITTEN))
def test_task_settings_reach_prefect(generated: Generated, report, name: str) -> None:
    """One @task per IR task, named by its id, holding its description, retries, the growing
    retry delays (backoff and cap applied), timeout, pool tag and alert hooks."""
    pipeline = compiled_or_refused(generated, name) if name in EXAMPLE_NAMES else generated.pipelines[name]
    if pipeline is None:
        return
    tasks = _report(report).inspected(name)["tasks"]
    assert set(tasks) == set(pipeline.tasks)
    for task_id, task in pipeline.tasks.items():
        actual = tasks[task_id]
        expected = {
            "description": task.description or None,
            "retries": task.retries or 0,
            "timeout_seconds": None if task.timeout is None else float(task.timeout),
            "tags": [task.pool] if task.pool else [],
            "on_failure": sum(1 for a in task.alerts if a.on is AlertEvent.FAILURE),
            "on_completion": sum(1 for a in task.alerts if a.on is AlertEvent.SUCCESS),
        }
        assert {key: actual[key] for key in expected} == expected, task_id
        if task.retries:
            delays = actual["retry_delay_seconds"]  # one number when every retry waits as long
            delays = delays if isinstance(delays, list) else [delays] * task.retries
            assert delays == expected_retry_delays(task), task_id


# ----------------------------------------------------------------------------- runs


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_example_runs_on_prefect_and_writes_its_artifacts(generated: Generated, report, example: str) -> None:
    if example not in generated.runnable():
        return  # not compilable for Prefect; test_every_runnable_example_is_run says which
    pipeline = generated.pipelines[example]
    run = _run(report, example)
    expected_state = "FAILED" if example in FAILS_BY_DESIGN else "COMPLETED"
    assert run.state == expected_state, f"{FAILS_BY_DESIGN.get(example, '')}\n{run.summary()}"
    assert None not in run.ran(), f"a task run of no task of the module\n{run.summary()}"
    assert run.ran() <= set(pipeline.tasks), run.summary()
    not_run = set(pipeline.tasks) - run.ran()
    assert all(may_not_run(pipeline, t) for t in not_run), f"tasks without a run: {not_run}\n{run.summary()}"
    if example not in FAILS_BY_DESIGN:
        assert all(r["state"] == "COMPLETED" for r in run.tasks), run.summary()
    completed = {t for t in run.ran() if all(r["state"] == "COMPLETED" for r in run.runs(t))}
    paths = produced_paths(pipeline, completed)
    assert paths or not any(task.produces for task in pipeline.tasks.values()), "no produced artifact checked"
    missing = [path for path in paths if not (run.workdir / path).exists()]
    assert not missing, f"artifacts not written: {missing}\n{run.summary()}"
    for task_id, task in pipeline.tasks.items():
        if task.is_mapped:
            assert len(run.runs(task_id)) == expected_map_count(pipeline, task_id, run), (task_id, run.summary())


def test_a_flaky_task_is_retried_until_it_succeeds(generated: Generated, report) -> None:
    """fetch fails `fail_times` attempts on purpose: Prefect runs it fail_times + 1 times, waiting
    the configured delays in between; with fail_times=0 it runs once."""
    pipeline = generated.pipelines["error_handling"]
    fetch_task = pipeline.tasks["fetch"]
    fail_times = pipeline.params["fail_times"].default
    assert 0 < fail_times <= fetch_task.retries, "the example must fail fewer times than it retries"
    fetch = _run(report, "error_handling").run("fetch")
    assert (fetch["state"], fetch["run_count"], fetch["running_states"]) == ("COMPLETED", fail_times + 1,
                                                                             fail_times + 1), fetch
    assert [name for name, _ in fetch["history"]].count("AwaitingRetry") == fail_times, fetch["history"]
    starts = [stamp for name, stamp in fetch["history"] if name in ("Running", "Retrying")]
    waited = [later - earlier for earlier, later in itertools.pairwise(starts)]
    for delay, gap in zip(expected_retry_delays(fetch_task), waited):
        assert gap >= delay * 0.9, f"retry after {gap:.2f}s, configured {delay}s: {fetch['history']}"
    healthy = _run(report, "error_handling:healthy").run("fetch")
    assert (healthy["state"], healthy["run_count"], healthy["running_states"]) == ("COMPLETED", 1, 1), healthy


def test_a_fallback_runs_only_when_its_primary_failed_and_the_run_stays_failed(generated: Generated, report) -> None:
    pipeline = generated.pipelines["error_handling"]
    down = _run(report, "error_handling")
    assert down.state == "FAILED", down.summary()
    assert down.run("deploy_primary")["state"] == "FAILED", down.summary()
    assert down.run("deploy_fallback")["state"] == "COMPLETED", down.summary()
    assert all((down.workdir / path).exists() for path in produced_paths(pipeline, {"deploy_fallback"}))
    assert not any((down.workdir / path).exists() for path in produced_paths(pipeline, {"deploy_primary"}))
    healthy = _run(report, "error_handling:healthy")
    assert healthy.state == "COMPLETED", healthy.summary()
    assert healthy.run("deploy_primary")["state"] == "COMPLETED", healthy.summary()
    assert not healthy.runs("deploy_fallback"), healthy.summary()
    assert all((healthy.workdir / path).exists() for path in produced_paths(pipeline, {"deploy_primary"}))
    assert not any((healthy.workdir / path).exists() for path in produced_paths(pipeline, {"deploy_fallback"}))


def test_failure_alerts_fire_once_per_final_failure_not_per_retry(generated: Generated, report) -> None:
    """Task alerts run when the task failed for good (fetch's failed attempts do not count), the
    pipeline's alert when the run failed; a healthy run alerts nobody. The examples' alerts
    append their `--message` to state/alerts.log (tinyml.notify)."""
    pipeline = generated.pipelines["error_handling"]
    for key in ("error_handling", "error_handling:healthy"):
        run = _run(report, key)
        expected = []
        for task_id, task in pipeline.tasks.items():
            if any(r["state"] == "FAILED" for r in run.runs(task_id)):
                expected += alert_messages(task.alerts, AlertEvent.FAILURE)
        if run.state == "FAILED":
            expected += alert_messages(pipeline.alerts, AlertEvent.FAILURE)
        log = run.workdir / "state" / "alerts.log"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        assert sorted(lines) == sorted(expected), f"{key}: {lines}\n{run.summary()}"
    assert _run(report, "error_handling").run("fetch")["run_count"] > 1  # the retries really failed first


@pytest.mark.parametrize("key", ["conditional", "conditional:high_threshold"])
def test_the_branch_not_taken_does_not_run_and_the_join_still_runs(generated: Generated, report, key: str) -> None:
    pipeline = generated.pipelines["conditional"]
    (gated,) = [t for t, task in pipeline.tasks.items() if task.when]
    (other,) = [t for t, task in pipeline.tasks.items() if task.else_of == gated]
    (join,) = [t for t, task in pipeline.tasks.items() if task.trigger_rule is TriggerRule.NONE_FAILED]
    run = _run(report, key)
    params = EXTRA_RUNS[key].params if key in EXTRA_RUNS else {}
    threshold = params.get("threshold", pipeline.params["threshold"].default)
    (metrics,) = produced_paths(pipeline, {"evaluate"})  # what evaluate measured, in its own file
    accuracy = json.loads((run.workdir / metrics).read_text())["accuracy"]
    taken, skipped = (gated, other) if accuracy >= threshold else (other, gated)
    expected_taken = gated if key == "conditional" else other
    assert taken == expected_taken, f"accuracy {accuracy}, threshold {threshold}: the run should take {expected_taken}"
    assert run.state == "COMPLETED", run.summary()
    assert run.run(taken)["state"] == "COMPLETED", run.summary()
    assert not run.runs(skipped), f"{skipped} ran\n{run.summary()}"
    assert run.run(join)["state"] == "COMPLETED", run.summary()
    for path in produced_paths(pipeline, {skipped}):
        assert not (run.workdir / path).exists(), f"{path} written by the skipped {skipped}"


def test_each_mapped_task_runs_once_per_element(generated: Generated, report) -> None:
    pipeline = generated.pipelines["fan_out"]
    run = _run(report, "fan_out")
    shards = sorted((run.workdir / pipeline.tasks["shard"].args["out_dir"]).iterdir())
    counts = {task_id: len(run.runs(task_id)) for task_id in ("train", "tune_lr", "score_shard")}
    assert counts == {
        "train": len(pipeline.params["models"].default),
        "tune_lr": len(pipeline.tasks["tune_lr"].foreach),
        "score_shard": len(shards),
    }, run.summary()
    assert len(shards) == pipeline.params["shards"].default
    for model in pipeline.params["models"].default:  # each run got its own element
        assert (run.workdir / "models" / f"{model}.json").is_file(), model
    for item in pipeline.tasks["tune_lr"].foreach:
        assert (run.workdir / "models" / f"{item['name']}.json").is_file(), item


@pytest.mark.parametrize("key", ["fan_out:started_elsewhere", "shared_cwd"])
def test_a_flow_started_elsewhere_runs_every_task_in_its_workdir(generated: Generated, report, key: str) -> None:
    """DAGSHIFT_WORKDIR decides where tasks run, whatever the process cwd; python tasks run in
    parallel threads of one process (fan_out's train: max_parallel 2), which share that cwd."""
    pipeline = generated.pipelines[EXTRA_RUNS[key].pipeline]
    run = _run(report, key)
    assert run.cwd != run.workdir
    assert run.state == "COMPLETED", run.summary()
    assert run.data["workdir"] == str(run.workdir)
    missing = [p for p in produced_paths(pipeline, pipeline.tasks) if not (run.workdir / p).exists()]
    assert not missing, f"{missing}\n{run.summary()}"
    assert sorted(p.name for p in run.cwd.iterdir()) == [], "a task wrote into the cwd the flow started in"


@pytest.mark.parametrize("key", sorted(REJECTED_PARAMS))
def test_params_are_validated_by_prefect(report, key: str) -> None:
    """A wrong type, a value outside the enum or above the max: Prefect's own validation fails
    the flow run (ParameterTypeError) before any task runs."""
    run = _run(report, key)
    assert run.state == "FAILED", run.summary()
    assert run.exception is not None and run.exception["type"] == "ParameterTypeError", run.summary()
    assert REJECTED_PARAMS[key] in run.exception["message"], run.exception
    assert not run.tasks, run.summary()


def test_a_command_exiting_99_fails_and_nothing_after_it_runs(report) -> None:
    run = _run(report, "exit_99")
    assert run.state == "FAILED", run.summary()
    assert run.run("broken")["state"] == "FAILED", run.summary()
    assert all(r["state"] != "COMPLETED" for r in run.runs("downstream")), run.summary()
    assert not (run.workdir / "downstream.txt").exists()


def test_a_task_timeout_stops_the_command(generated: Generated, report) -> None:
    """`sleep 30` under a 1 s timeout: the task fails within seconds and the command never gets
    to write its file (it is killed, not merely reported late)."""
    run = _run(report, "timeout_kill")
    slow = run.run("slow")
    assert run.state == "FAILED", run.summary()
    assert slow["state"] == "FAILED", run.summary()
    started = [stamp for name, stamp in slow["history"] if name == "Running"]
    ended = [stamp for name, stamp in slow["history"] if name in ("Failed", "TimedOut")]
    assert started and ended and ended[-1] - started[0] < 15, slow["history"]
    assert all(r["state"] != "COMPLETED" for r in run.runs("downstream")), run.summary()
    assert not (run.workdir / "slow.txt").exists(), "the timed-out command kept running"
    assert not (run.workdir / "downstream.txt").exists()


def test_a_cached_task_reruns_when_its_command_changes_not_when_an_unrelated_param_does(report) -> None:
    first, unrelated, edited = (_run(report, key) for key in ("cache", "cache:unrelated_param", "cache_edited"))
    for run in (first, unrelated, edited):
        assert run.state == "COMPLETED", run.summary()
    assert first.run("say")["state_name"] == "Completed", first.summary()
    assert (first.workdir / "said.txt").read_text() == "one\n"
    assert unrelated.run("say")["state_name"] == "Cached", unrelated.summary()
    assert not (unrelated.workdir / "said.txt").exists(), "the cached task ran again"
    assert edited.run("say")["state_name"] == "Completed", edited.summary()
    assert (edited.workdir / "said.txt").read_text() == "edited one\n"


def test_a_limited_fan_out_is_a_sliding_window_beside_the_rest_of_the_flow(report) -> None:
    """The tasks write when they start and end: `independent` starts while `fan` still runs, and
    no more than max_parallel items of `fan` run at any time, four of them in all."""
    run = _run(report, "window")
    assert run.state == "COMPLETED", run.summary()
    events = [line.split() for line in (run.workdir / "times.log").read_text().splitlines()]
    fan = {(what, item): float(stamp) for what, task, item, stamp in (e for e in events if e[1] == "fan")}
    (independent,) = [float(e[-1]) for e in events if e[1] == "independent"]
    items = sorted({item for _, item in fan})
    assert items == ["1", "2", "3", "4"], events
    assert independent < max(fan["end", item] for item in items), f"independent started after the fan-out: {events}"
    for item in items:  # how many ran when this one started
        start = fan["start", item]
        running = [i for i in items if fan["start", i] <= start < fan["end", i]]
        assert len(running) <= 2, f"{running} ran at once: {events}"


def test_a_python_task_past_its_timeout_is_stopped(report) -> None:
    """`time.sleep(40)` under a 2 s timeout: the task fails within seconds, and the function never
    writes its file, however long one waits (the child process it runs in is killed)."""
    run = _run(report, "python_timeout")
    slow = run.run("slow")
    assert run.state == "FAILED" and slow["state"] == "FAILED", run.summary()
    started = [stamp for name, stamp in slow["history"] if name == "Running"]
    ended = [stamp for name, stamp in slow["history"] if name in ("Failed", "TimedOut")]
    assert started and ended and ended[-1] - started[0] < 15, slow["history"]
    assert all(r["state"] != "COMPLETED" for r in run.runs("downstream")), run.summary()
    time.sleep(max(0.0, started[0] + 45 - time.time()))  # past the end of the nap
    assert not (run.workdir / "napped.txt").exists(), "the timed-out python function kept running"
    assert not (run.workdir / "downstream.txt").exists()


def test_a_python_tasks_traceback_goes_from_the_task_into_the_users_function(report) -> None:
    run = _run(report, "python_failure")
    assert run.state == "FAILED" and (run.exception or {}).get("type") == "ValueError", run.summary()
    frames = re.findall(r'File "([^"]+)", line \d+, in (\w+)', run.run_log())
    user = next(i for i, (path, function) in enumerate(frames) if function == "fail")
    assert frames[user][0].endswith("dagshift_probe.py"), frames
    assert frames[user - 1][0].endswith("python_failure.py") and frames[user - 1][1] == "boom", frames


def test_a_secret_reaches_the_tasks_from_a_prefect_secret_block(report) -> None:
    run = _run(report, "secret_env")
    assert run.state == "COMPLETED", run.summary()
    (token,) = [value["token"] for value in SECRETS.values()]
    assert (run.workdir / "shell_token.txt").read_text(encoding="utf-8") == token
    assert (run.workdir / "python_token.txt").read_text(encoding="utf-8") == token


@pytest.mark.parametrize("key, taken", [("general", ["left", "right"]), ("general:other_branch", ["other"])])
def test_the_general_form_runs_the_branches_joins_and_fallbacks(generated: Generated, report, key: str,
                                                                 taken: list[str]) -> None:
    assert "runs = {}" in generated.files["general"].read_text(), "general.yaml is written in the structured form"
    run = _run(report, key)
    assert run.state == "COMPLETED", run.summary()
    lines = (run.workdir / "log.txt").read_text().splitlines()
    assert sorted(lines[:len(taken)]) == taken, lines
    assert lines[len(taken):] == ["join 0.7", "each a", "each b", "cleanup"] or \
        lines[len(taken):] == ["join 0.7", "each b", "each a", "cleanup"], lines


# ----------------------------------------------------------------------------- `python <module>`


def _raw_rows(run: ModuleRun) -> int:
    """Data rows of data/raw.csv (a header line, then one line per row)."""
    return len((run.cwd / "data" / "raw.csv").read_text().splitlines()) - 1


def test_running_the_module_runs_the_flow_once_with_its_defaults(generated: Generated, module_runs) -> None:
    pipeline = generated.pipelines["parallel"]
    run = module_runs["defaults"].result()
    assert run.returncode == 0, run.output[-4000:]
    finished = [line for line in run.output.splitlines() if "Flow run" in line and "Finished in state" in line]
    assert len(finished) == 1 and "Finished in state Completed(" in finished[0], run.output[-4000:]
    missing = [p for p in produced_paths(pipeline, pipeline.tasks) if not (run.cwd / p).exists()]
    assert not missing, missing
    assert _raw_rows(run) == pipeline.params["rows"].default


def test_param_overrides_on_the_command_line_reach_the_tasks(generated: Generated, module_runs) -> None:
    pipeline = generated.pipelines["parallel"]
    run = module_runs["override"].result()
    assert run.returncode == 0, run.output[-4000:]
    assert _raw_rows(run) == 57 != pipeline.params["rows"].default


def test_a_wrong_param_type_on_the_command_line_fails_the_run(module_runs) -> None:
    run = module_runs["wrong_type"].result()
    assert run.returncode == 1, run.output[-4000:]
    assert "ParameterTypeError" in run.output and "Finished in state Failed(" in run.output, run.output[-4000:]
    assert not (run.cwd / "data" / "raw.csv").exists()


def test_an_unknown_param_on_the_command_line_is_a_usage_error(module_runs) -> None:
    run = module_runs["unknown_param"].result()
    assert run.returncode == 2, run.output[-4000:]
    assert "nosuch=1" in run.output and "rows" in run.output, run.output
    assert "Starting temporary server" not in run.output, "the flow ran with an unknown param"
