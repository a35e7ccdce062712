"""The Kubeflow backend's output on the real kfp 2.17.3 (the kubeflow engine venv): every golden
module (and every example compiled with --unsupported warn) compiles with kfp's own compiler
without warnings, reads back strictly as a PipelineSpec (tests/engines/kfp_inspect.py), and its
DAG, read from the compiled spec, has the IR's tasks and edges.

Not yet here (issue 8): the failure trigger rules and alerts (the backend does not map them yet),
and runs of the examples on kfp.local (its SubprocessRunner runs python components only; the examples mix in
container components for their shell tasks).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from test_kfp_harness import inspect_module

from compiler.api import check_file
from compiler.backends import registry
from compiler.compile import fold_defaults
from compiler.graph import build_graph
from compiler.optimize import optimize

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))


def _compiled(cli, example: str, outdir: Path, level: str = "-O1") -> Path | None:
    result = cli("compile", f"examples/{example}.yaml", "-t", "kubeflow", "-o", str(outdir), "-q",
                 "--unsupported", "warn", level)
    assert "Traceback" not in result.stdout + result.traceback_text
    modules = sorted(outdir.glob("*.py")) if result.exit_code == 0 else []
    return modules[0] if modules else None


def test_some_examples_compile_for_kubeflow(cli, tmp_path: Path) -> None:
    compiled = [e for e in EXAMPLES if _compiled(cli, e, tmp_path / e)]
    assert {"minimal", "sequential", "parallel", "event_triggered", "fan_out", "conditional"} <= set(compiled), compiled


@pytest.mark.parametrize("level", ["-O1", "-O2"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_kfp_compiles_the_module_and_its_dag_is_the_pipelines(cli, kubeflow_python: Path, tmp_path: Path,
                                                               example: str, level: str) -> None:
    module = _compiled(cli, example, tmp_path / "out", level)
    if module is None:
        return  # the backend reports what it cannot map yet (golden diagnostics.txt pins it)
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
    condition through the condition's group), every conditional task (and only those and what runs
    after them) inside a condition group, every fanned-out task inside a loop with its parallelism.
    A none_failed join after a condition's branches appears once in each branch."""
    entries = {task["task"]: task for task in report["tasks"]}
    executors = {key: task for key, task in entries.items() if task["kind"] == "executor"
                 and not (pipeline.alerts and task["name"] == "dagshift-alerts")}  # the alerts' exit task
    names = [task["name"] for task in executors.values()]
    assert sorted(set(names)) == sorted(pipeline.tasks)
    twice = {name for name in names if names.count(name) > 1}  # a none_failed join runs in each branch
    assert all(pipeline.tasks[name].trigger_rule.value == "none_failed" for name in twice), twice
    members = {key: [e for e, task in executors.items() if key in task["dag"] or e == key] for key in entries}
    kfp_order = nx.DiGraph()
    kfp_order.add_nodes_from(task["name"] for task in executors.values())
    for key, task in executors.items():
        for holder in [*task["dag"], key]:
            for upstream in entries[holder]["dependentTasks"]:
                kfp_order.add_edges_from((executors[u]["name"], task["name"]) for u in members[upstream])
    ir_graph = build_graph(pipeline)
    assert set(nx.transitive_closure_dag(kfp_order).edges) == set(nx.transitive_closure_dag(ir_graph).edges)
    conditional = {t for t, task in pipeline.tasks.items() if task.when or task.else_of}
    conditional |= {d for t in conditional for d in nx.descendants(ir_graph, t)}
    for task in executors.values():
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
                                 str(out), "--unsupported", "warn", seed=seed)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"wrote {out / (example + '.yaml')}" in run.stdout and "note:" not in run.stdout
        outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outputs[0] == outputs[1]  # byte-identical whatever the hash seed
    # the same spec kfp compiles from the module by itself, and it reads back strictly
    code, report, stderr = inspect_module(kubeflow_python, tmp_path / "out-1" / f"{example}.py",
                                          tmp_path / "by-kfp.yaml")
    assert code == 0 and report["ok"], stderr[-3000:]
    assert (tmp_path / "by-kfp.yaml").read_bytes() == outputs[0][f"{example}.yaml"]


def test_without_kfp_the_command_says_how_to_get_the_yaml(cli, tmp_path: Path) -> None:
    result = cli("compile", "examples/minimal.yaml", "-t", "kubeflow", "-o", str(tmp_path))
    assert result.exit_code == 0, result.stdout
    if importlib.util.find_spec("kfp") is None:
        assert "note: the Kubeflow PipelineSpec is compiled by kfp itself: `pip install 'dagshift[kubeflow]'`" \
            in result.stdout
        assert sorted(p.name for p in tmp_path.iterdir()) == ["minimal.py"]
    else:
        assert sorted(p.name for p in tmp_path.iterdir()) == ["minimal.py", "minimal.yaml"]
