"""The Kubeflow backend's output on the real kfp 2.17.3 (the kubeflow engine venv): every golden
module (and every example, compiled without --strict) compiles with kfp's own compiler
without warnings, reads back strictly as a PipelineSpec (tests/engines/kfp_inspect.py), and its
DAG, read from the compiled spec, has the IR's tasks and edges. kfp's own CLI (`kfp dsl compile
--py`) compiles every example's module to the same PipelineSpec dagshift writes.

Failure trigger rules and task alerts are read back structurally (compare_dag): kfp.local runs every
task that reads a PipelineTaskFinalStatus after all the others, as an exit handler's task, so it
cannot run a fallback that waits for a probe (tests/engines/kubeflow/test_kubeflow_local.py runs task alerts).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from test_kfp_harness import inspect_module, inspect_yaml

from compiler.api import check_file
from compiler.backends import registry
from compiler.compile import fold_defaults
from compiler.language.graph import build_graph
from compiler.passes.optimize import optimize

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))


def _compiled(cli, example: str, outdir: Path, level: str = "-O1") -> Path | None:
    result = cli("compile", f"examples/{example}.yaml", "-t", "kubeflow", "-o", str(outdir), "-q", level)
    assert "Traceback" not in result.stdout + result.traceback_text
    modules = sorted(outdir.glob("*.py")) if result.exit_code == 0 else []
    return modules[0] if modules else None


def test_every_example_compiles_for_kubeflow(cli, tmp_path: Path) -> None:
    """Without --strict (which leaves out only what KFP has no place for: triggers, pools, a per-run
    task limit, labels), every example compiles: none is skipped by the test below."""
    compiled = [e for e in EXAMPLES if _compiled(cli, e, tmp_path / e)]
    assert compiled == EXAMPLES


@pytest.mark.parametrize("level", ["-O1", "-O2"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_kfp_compiles_the_module_and_its_dag_is_the_pipelines(cli, kubeflow_python: Path, tmp_path: Path,
                                                               example: str, level: str) -> None:
    module = _compiled(cli, example, tmp_path / "out", level)
    assert module is not None, f"{example} does not compile for kubeflow"
    code, report, stderr = inspect_module(kubeflow_python, module, tmp_path / "out" / "pipeline.yaml")
    assert code == 0 and report["ok"], stderr[-3000:]
    assert report["warnings"] == [], report["warnings"]
    cost = registry.get("kubeflow").cost
    pipeline = optimize(fold_defaults(check_file(f"examples/{example}.yaml").pipeline), int(level[2]),
                        cost=cost).pipeline
    compare_dag(report, pipeline)


def compare_dag(report: dict, pipeline) -> None:
    """The compiled spec's tasks, order and nesting are the pipeline's: same tasks (by display
    name), the same order between every pair (reachability: KFP states a dependency on a task in a
    condition through the condition's group, and on a watched task through its probe), every
    conditional task (and only those and what runs after them) inside a condition group, every
    fanned-out task inside a loop with its parallelism. A none_failed join after a condition's
    branches appears once in each branch; the else branch of an `and` of n comparisons appears n
    times (one dsl.Else after each nested dsl.If).

    The helper tasks are checked too: each task with alerts has one alerts task that reads its
    final state; a one_failed / all_failed / one_success task runs inside dsl.Ifs on the states
    its probes read, one probe per task in its `after:`, each reading that task's final state."""
    entries = {task["task"]: task for task in report["tasks"]}
    executors = {key: task for key, task in entries.items() if task["kind"] == "executor"
                 and not (pipeline.alerts and task["name"] == "dagshift-alerts")}  # the alerts' exit task
    watchers = {key: task for key, task in executors.items() if _final_state_of(task)}
    ir_tasks = {key: task for key, task in executors.items() if key not in watchers}
    names = [task["name"] for task in ir_tasks.values()]
    assert sorted(set(names)) == sorted(pipeline.tasks)
    copies = {name: names.count(name) for name in names if names.count(name) > 1}
    for name, count in copies.items():
        task = pipeline.tasks[name]
        if task.trigger_rule.value != "none_failed":  # a join runs in each branch; else, an else branch
            assert task.else_of is not None and count == _parts(pipeline.tasks[task.else_of].when), (name, count)
    _check_watchers(entries, watchers, pipeline, copies)

    members = {key: [e for e, task in executors.items() if key in task["dag"] or e == key] for key in entries}
    kfp_order = nx.DiGraph()
    kfp_order.add_nodes_from(task["name"] for task in executors.values())
    for key, task in executors.items():
        for holder in [*task["dag"], key]:
            for upstream in entries[holder]["dependentTasks"]:
                kfp_order.add_edges_from((executors[u]["name"], task["name"]) for u in members[upstream])
    # the order between the pipeline's own tasks, through the helpers (a probe stands between a
    # watched task and the fallback)
    closure = nx.transitive_closure_dag(kfp_order)
    ir_graph = build_graph(pipeline)
    assert {(a, b) for a, b in closure.edges if a in pipeline.tasks and b in pipeline.tasks} == set(
        nx.transitive_closure_dag(ir_graph).edges)
    watching = {t for t, task in pipeline.tasks.items() if task.trigger_rule.value in _WATCHED_STATE}
    conditional = {t for t, task in pipeline.tasks.items() if task.when or task.else_of} | watching
    conditional |= {d for t in conditional for d in nx.descendants(ir_graph, t)}
    for task in ir_tasks.values():
        groups = [entries[g] for g in task["dag"]]
        in_condition = any((g["trigger"] or {}).get("condition") for g in groups)
        assert in_condition == (task["name"] in conditional), task["name"]
        loops = [g["iterator"] for g in groups if g["iterator"]]
        ir_task = pipeline.tasks[task["name"]]
        assert len(loops) == (1 if ir_task.is_mapped else 0), task["name"]
        if loops:
            assert loops[0]["parallelism"] in (ir_task.max_parallel, None, 0)
        assert task["caching"] in (None, {}) or bool(task["caching"].get("enableCache")) == bool(
            ir_task.cache and ir_task.cache.enabled)


_WATCHED_STATE = {"one_failed": "FAILED", "all_failed": "FAILED", "one_success": "SUCCEEDED"}


def _final_state_of(task: dict) -> str | None:
    """The task whose final state this task reads (an alerts task or a probe), if any."""
    sources = [source["taskFinalStatus"] for source in task["inputs"]["parameters"].values()
               if "taskFinalStatus" in source]
    return sources[0] if sources else None


def _parts(when: str) -> int:
    from compiler.language import conditions

    expr = conditions.parse(when)
    return len(expr.operands) if isinstance(expr, conditions.BoolOp) and expr.op == "and" else 1


def _check_watchers(entries: dict, watchers: dict, pipeline, copies: dict) -> None:
    alerting = {t for t, task in pipeline.tasks.items() if any(a.on.value != "retry" for a in task.alerts)}
    alerts_tasks, probes = {}, {}
    for key, task in watchers.items():
        watched = _final_state_of(task)
        # it runs after its one task, failed or not, in the same block
        assert task["dependentTasks"] == [watched], task
        assert (task["trigger"] or {}).get("strategy") == "ALL_UPSTREAM_TASKS_COMPLETED", task
        assert entries[watched]["dag"] == task["dag"], task
        owner, _, what = task["name"].partition(": ")
        if what == "alerts":
            assert entries[watched]["name"] == owner, task
            alerts_tasks.setdefault(owner, []).append(key)
        else:
            assert what.startswith("state of "), task
            assert entries[watched]["name"] == what.removeprefix("state of "), task
            probes.setdefault(owner, {})[entries[watched]["name"]] = key
    assert set(alerts_tasks) == alerting
    assert all(len(keys) == copies.get(owner, 1) for owner, keys in alerts_tasks.items()), alerts_tasks
    for task_id, task in pipeline.tasks.items():
        if task.trigger_rule.value not in _WATCHED_STATE:
            assert task_id not in probes
            continue
        after = {u for u in task.after}
        assert set(probes[task_id]) == after, (task_id, probes.get(task_id))
        (fallback,) = [t for t in entries.values() if t["name"] == task_id and t["kind"] == "executor"]
        conditions = " and ".join((entries[g]["trigger"] or {}).get("condition") or "" for g in fallback["dag"])
        for probe in probes[task_id].values():
            wanted = f"inputs.parameter_values['pipelinechannel--{probe}-Output'] == '{_WATCHED_STATE[task.trigger_rule.value]}'"
            assert wanted in conditions, (task_id, conditions)


CONDITIONS = """\
name: conditions
params: {threshold: 0.5, mode: fast, shards: [a, b]}
tasks:
  score: {command: "echo 0.7 > ${{ outputs.acc }}", outputs: {acc: float}}
  deploy: {command: "echo deploy", when: "tasks.score.outputs.acc >= params.threshold"}
  notify: {command: "echo notify", after: [deploy]}
  reject: {command: "echo reject", else_of: deploy}
  both: {command: "echo both", after: [score], when: "params.mode == 'fast' and not tasks.score.outputs.acc < 0.2"}
  each: {command: "echo ${{ item }}", foreach: "${{ params.shards }}", max_parallel: 1, after: [both]}
  gather: {command: "echo done", after: [each]}
  plain: {command: "echo plain", after: [score]}
"""


def test_conditions_and_loops_nest_as_the_pipeline_says(cli, kubeflow_python: Path, tmp_path: Path) -> None:
    source = tmp_path / "conditions.yaml"
    source.write_text(CONDITIONS, encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stdout
    code, report, stderr = inspect_module(kubeflow_python, tmp_path / "out" / "conditions.py",
                                          tmp_path / "out" / "conditions.yaml")
    assert code == 0 and report["ok"] and not report["warnings"], stderr[-3000:]
    compare_dag(report, optimize(fold_defaults(check_file(str(source)).pipeline)).pipeline)
    conditions = sorted((t["trigger"] or {}).get("condition") or "" for t in report["tasks"])
    assert any(c.startswith("!(") for c in conditions)  # the else branch


FALLBACKS = """\
name: fallbacks
params: {go: true}
tasks:
  a:
    command: "echo a"
    alerts: [{on: failure, command: "echo a failed"}, {on: success, python: "tinyml.notify:main", args: {message: ok}}]
  b: {command: "echo b > ${{ outputs.v }}", outputs: {v: str}}
  both_failed: {command: "echo both", after: [a, b], trigger_rule: all_failed}
  rescue: {command: "echo rescue ${{ tasks.b.outputs.v }}", after: [a], trigger_rule: one_failed}
  then: {command: "echo then", after: [rescue]}
  good: {command: "echo good", after: [b], trigger_rule: one_success}
  gated: {command: "echo gated", when: "params.go == true", alerts: [{on: failure, command: "echo gated failed"}]}
  page: {command: "echo page", after: [gated], trigger_rule: one_failed}
  each: {command: "echo ${{ item }}", foreach: [1, 2], alerts: [{on: failure, command: "echo each failed"}]}
"""


def test_failure_rules_and_task_alerts_watch_final_states(cli, kubeflow_python: Path, tmp_path: Path) -> None:
    """one_failed / all_failed / one_success (also inside a condition, and reading another task's
    value) and task alerts (also in a condition and in a loop): kfp compiles them, and each helper
    reads the final state of the task it should (compare_dag)."""
    source = tmp_path / "fallbacks.yaml"
    source.write_text(FALLBACKS, encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stdout
    code, report, stderr = inspect_module(kubeflow_python, tmp_path / "out" / "fallbacks.py",
                                          tmp_path / "out" / "fallbacks.yaml")
    assert code == 0 and report["ok"] and not report["warnings"], stderr[-3000:]
    pipeline = optimize(fold_defaults(check_file(str(source)).pipeline)).pipeline
    compare_dag(report, pipeline)
    by_name = {task["name"]: task for task in report["tasks"]}
    assert by_name["each: alerts"]["dag"] == by_name["each"]["dag"]  # inside the loop, one per run
    assert len([t for t in report["tasks"] if t["name"].startswith("both_failed: state of ")]) == 2


def _dagshift_with_kfp(kubeflow_python: Path, *args: str, seed: str = "0") -> subprocess.CompletedProcess:
    """dagshift run by the engine venv's Python, where kfp is importable (the `kubeflow` extra)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": seed, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([str(kubeflow_python), "-m", "compiler", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False, timeout=300)


@pytest.mark.parametrize("example", ["sequential", "fan_out"])
def test_with_the_kubeflow_extra_dagshift_writes_kfps_own_pipelinespec(kubeflow_python: Path, tmp_path: Path,
                                                                      example: str) -> None:
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}"
        run = _dagshift_with_kfp(kubeflow_python, "compile", f"examples/{example}.yaml", "-t", "kubeflow", "-o",
                                 str(out), seed=seed)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"wrote {out / (example + '.yaml')}" in run.stdout and "note:" not in run.stdout
        outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outputs[0] == outputs[1]  # byte-identical whatever the hash seed
    # the same spec kfp compiles from the module by itself, and it reads back strictly
    code, report, stderr = inspect_module(kubeflow_python, tmp_path / "out-1" / f"{example}.py",
                                          tmp_path / "by-kfp.yaml")
    assert code == 0 and report["ok"], stderr[-3000:]
    assert (tmp_path / "by-kfp.yaml").read_bytes() == outputs[0][f"{example}.yaml"]


def _kfp_cli_compile(kubeflow_python: Path, module: Path, output: Path, *options: str) -> subprocess.CompletedProcess:
    """`kfp dsl compile --py MODULE --output OUTPUT`: kfp's own CLI, as users run it, from the engine venv."""
    kfp = kubeflow_python.parent / "kfp"
    assert kfp.is_file(), f"the kubeflow engine venv has no kfp command: {kfp}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([str(kfp), "dsl", "compile", "--py", str(module), "--output", str(output), *options],
                          cwd=output.parent, env=env, capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.parametrize("example", EXAMPLES)
def test_kfps_own_cli_compiles_every_example_module(kubeflow_python: Path, tmp_path: Path, example: str) -> None:
    """`kfp dsl compile --py` takes a module only when exactly one module-level name holds a pipeline
    (issue 17: an alias made two). Without --function and with it, it writes the very PipelineSpec
    dagshift writes beside the module, and that spec has the pipeline's tasks and order."""
    out = tmp_path / "out"
    run = _dagshift_with_kfp(kubeflow_python, "compile", f"examples/{example}.yaml", "-t", "kubeflow", "-o", str(out),
                             "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    (module,) = out.glob("*.py")
    by_dagshift = module.with_suffix(".yaml").read_bytes()
    for options, written in [((), tmp_path / "by-cli.yaml"), (("--function", module.stem), tmp_path / "named.yaml")]:
        cli = _kfp_cli_compile(kubeflow_python, module, written, *options)
        assert cli.returncode == 0, f"kfp dsl compile --py {module.name} {' '.join(options)}:\n{cli.stderr[-3000:]}"
        assert written.read_bytes() == by_dagshift, options
    code, report, stderr = inspect_yaml(kubeflow_python, tmp_path / "by-cli.yaml")
    assert code == 0 and report["ok"], stderr[-3000:]
    compare_dag(report, optimize(fold_defaults(check_file(f"examples/{example}.yaml").pipeline),
                                 cost=registry.get("kubeflow").cost).pipeline)


def test_without_kfp_the_command_says_how_to_get_the_yaml(cli, tmp_path: Path) -> None:
    result = cli("compile", "examples/minimal.yaml", "-t", "kubeflow", "-o", str(tmp_path))
    assert result.exit_code == 0, result.stdout
    if importlib.util.find_spec("kfp") is None:
        assert "note: the Kubeflow PipelineSpec is compiled by kfp itself: `pip install 'dagshift[kubeflow]'`" \
            in result.stdout
        assert sorted(p.name for p in tmp_path.iterdir()) == ["minimal.py"]
    else:
        assert sorted(p.name for p in tmp_path.iterdir()) == ["minimal.py", "minimal.yaml"]


def test_a_volume_is_mounted_at_every_tasks_working_directory(cli, kubeflow_python: Path, tmp_path: Path) -> None:
    """--option volume=CLAIM: kfp compiles the module (kfp-kubernetes mount_pvc) and every task's
    executor mounts the claim at the directory the task runs in (fan_out has no workdir: /mnt/CLAIM)."""
    out = tmp_path / "out"
    result = cli("compile", "examples/fan_out.yaml", "-t", "kubeflow", "--option", "volume=pipeline-data",
                 "-o", str(out), "-q")
    assert result.exit_code == 0, result.stdout
    code, report, stderr = inspect_module(kubeflow_python, out / "fan_out.py", out / "pipeline.yaml")
    assert code == 0 and report["ok"], stderr[-3000:]
    assert report["warnings"] == [], report["warnings"]
    executors = {task["name"]: task["executor"] for task in report["tasks"] if task["kind"] == "executor"}
    assert sorted(executors) == sorted(check_file("examples/fan_out.yaml").pipeline.tasks)
    for name, executor in executors.items():
        mounts = report["executors"][executor]["kubernetes"]["pvcMount"]
        assert [(m["pvcNameParameter"]["runtimeValue"]["constant"], m["mountPath"]) for m in mounts] == [
            ("pipeline-data", "/mnt/pipeline-data")], name
