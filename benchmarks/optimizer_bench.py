#!/usr/bin/env python3
"""What -O2 fusion saves on real engines, and what the optimizer itself costs.

    .venv/bin/python benchmarks/optimizer_bench.py [--sizes 10,100,1000,10000] [--repeat 3]

Engines: a pipeline of 5 independent chains of 10 small shell tasks (each appends one line to its
chain's file in the working directory) is compiled by the real CLI (`dagshift compile -t airflow`
and `-t prefect`, at -O0 and -O2) and run, each run in a fresh process inside the pinned engine
venv with a fresh working directory: Airflow's `dag.test()` on a copy of one migrated AIRFLOW_HOME,
Prefect's flow through tests/engines/prefect_runner.py on a copy of one migrated PREFECT_HOME.
Measured: the tasks the engine scheduled (Airflow: `dag.tasks`; Prefect: task runs that ran), the
run itself and the whole process, median of --repeat. Every run's files must be byte-identical to
what the unfused pipeline is meant to write, or the script stops.

Optimizer: `compiler.passes.optimize.optimize` in-process, with the Airflow cost model and the cyclic GC
paused (as in `compile_loaded`), on a validated, defaults-folded pipeline of chains of 50 tasks with
cross-chain edges, redundant edges, artifacts and conditions on literals, at -O1 and -O2.
Results go to benchmarks/results/optimizer.md.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compiler.backends import registry
from compiler.compile import fold_defaults
from compiler.gc_pause import paused_gc
from compiler.language.graph import build_graph
from compiler.language.load import load_text
from compiler.passes import validate
from compiler.passes.optimize import optimize

CHAINS, LENGTH = 5, 10  # the engine pipeline: 50 tasks
GRAPH_CHAIN = 50  # tasks per chain in the optimizer's graphs
RUNNERS = ROOT / "tests" / "engines"
RUN_TIMEOUT = 900

# Run by Airflow's Python, cwd = the working directory: argv = dag folder, dag id. Prints one JSON line.
AIRFLOW_RUN = """
import json, sys, time
from airflow.dag_processing.dagbag import BundleDagBag
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[1])
assert not bag.import_errors, bag.import_errors
dag = bag.get_dag(sys.argv[2])
started = time.perf_counter()
run = dag.test()
elapsed = time.perf_counter() - started
states = [str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()]
print(json.dumps({"run": elapsed, "scheduled": len(dag.tasks), "ran": states.count("success"),
                  "state": str(getattr(run.state, "value", run.state))}))
"""

# Run by Prefect's Python: argv = runners folder, module, flow function, working directory.
PREFECT_RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
import prefect_runner
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    client.hello()  # starts the ephemeral API before the run, so the run's time leaves it out
outcome = prefect_runner.run_flow({"module": sys.argv[2], "flow": sys.argv[3], "workdir": sys.argv[4]})
ran = sum(1 for task in outcome.get("tasks", []) if task["state"] == "COMPLETED")
print(json.dumps({"run": outcome.get("seconds"), "scheduled": len(outcome.get("tasks", [])), "ran": ran,
                  "state": (outcome.get("state") or {}).get("type"), "error": outcome.get("raised")}))
"""


# ----------------------------------------------------------------------------- pipelines


def chains_yaml() -> str:
    lines = [f"name: chains_{CHAINS}x{LENGTH}", "tasks:"]
    for chain in range(CHAINS):
        for step in range(LENGTH):
            lines.append(f"  c{chain}_{step}:")
            lines.append(f"    command: echo chain {chain} step {step} >> chain{chain}.txt")
            if step:
                lines.append(f"    after: [c{chain}_{step - 1}]")
    return "\n".join(lines) + "\n"


def expected_files() -> dict[str, bytes]:
    return {f"chain{chain}.txt": "".join(f"chain {chain} step {step}\n" for step in range(LENGTH)).encode()
            for chain in range(CHAINS)}


def graph_yaml(size: int) -> str:
    """Chains of GRAPH_CHAIN tasks (fewer when size is smaller). Every 5th step also waits for the
    chain before (cross edges, which break fusable runs), every 10th has a redundant `after`, step
    7 of each ten produces an artifact that the next chain's step 9 consumes, every 100th task has
    an always-true `when` and the last task of every 10th chain an always-false one."""
    length = min(GRAPH_CHAIN, size)
    artifacts, tasks = [], []
    for index in range(size):
        chain, step = divmod(index, length)
        after = [f"c{chain}s{step - 1}"] if step else []
        if chain and step and step % 5 == 0:
            after.append(f"c{chain - 1}s{step - 1}")
        if step % 10 == 3:
            after.append(f"c{chain}s{step - 2}")
        tasks += [f"  c{chain}s{step}:", f"    command: echo c{chain}s{step} >> c{chain}.txt"]
        if after:
            tasks.append(f"    after: [{', '.join(after)}]")
        if step % 10 == 7 and step + 2 < length and index + length < size:
            artifacts.append(f"  a{chain}_{step}: data/a{chain}_{step}.txt")
            tasks.append(f"    produces: [a{chain}_{step}]")
        if chain and step % 10 == 9:
            tasks.append(f"    consumes: [a{chain - 1}_{step - 2}]")
        if index % 100 == 50:
            tasks.append('    when: "1 == 1"')
        if step == length - 1 and chain % 10 == 9:
            tasks.append('    when: "1 > 2"')
    head = [f"name: graph_{size}", "defaults: {retries: 1}"] + (["artifacts:", *artifacts] if artifacts else [])
    return "\n".join(head + ["tasks:", *tasks]) + "\n"


def check_references(pipeline, size: int, level: int) -> None:
    """Fail loudly on an optimized graph that lost an edge: a timing of a broken result means nothing."""
    produced = {artifact for task in pipeline.tasks.values() for artifact in task.produces}
    for task_id, task in pipeline.tasks.items():
        lost = [t for t in task.after if t not in pipeline.tasks] + [a for a in task.consumes if a not in produced]
        if lost:
            raise SystemExit(f"-O{level} on {size} tasks: '{task_id}' refers to {lost}, which no task is or makes")


def folded(text: str):
    loaded = load_text(text, "bench.yaml")
    validate(loaded.pipeline, loaded.source, loaded.diagnostics)
    assert not loaded.diagnostics.has_errors, [d.message for d in loaded.diagnostics]
    return fold_defaults(loaded.pipeline)


# ----------------------------------------------------------------------------- engines


def engine_python(name: str) -> Path:
    spec = importlib.util.spec_from_file_location("engines", ROOT / "scripts" / "engines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ensure(name)


def engine_env(home_var: str, home: Path, **extra: str) -> dict[str, str]:
    """Only what the engine needs: none of this venv's or the caller's engine settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AIRFLOW", "PREFECT", "PYTHON", "VIRTUAL_ENV", "DAGSHIFT_WORKDIR"))}
    return {**env, home_var: str(home), "PYTHONDONTWRITEBYTECODE": "1", **extra}


def airflow_env(home: Path, dags: Path) -> dict[str, str]:
    return engine_env("AIRFLOW_HOME", home, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
                      AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__DAGS_FOLDER=str(dags),
                      AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(home / "logs"))


def prefect_env(home: Path) -> dict[str, str]:
    # analytics off: telemetry writing while the server starts gives SQLite "database is locked"
    return engine_env("PREFECT_HOME", home, PREFECT_SERVER_ANALYTICS_ENABLED="false",
                      PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="true")


def checked(command: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=RUN_TIMEOUT, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def migrated_home(name: str, python: Path, scratch: Path) -> Path:
    """One migrated database per engine; every run works on a copy, so migrations are not timed."""
    home = scratch / f"{name}-home"
    home.mkdir()
    if name == "airflow":
        checked([str(python.parent / "airflow"), "db", "migrate"], "airflow db migrate",
                env=airflow_env(home, scratch / "no-dags"), cwd=scratch)
    else:
        checked([str(python.parent / "prefect"), "server", "database", "upgrade", "-y"],
                "prefect server database upgrade", env=prefect_env(home), cwd=scratch)
        with sqlite3.connect(home / "prefect.db") as connection:  # fold the WAL in: a copy has it all
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return home


def compile_cli(source: Path, target: str, level: int, outdir: Path) -> Path:
    checked([sys.executable, "-m", "compiler", "compile", str(source), "-t", target, f"-O{level}", "-o",
             str(outdir), "-q"], f"dagshift compile -t {target} -O{level}", cwd=ROOT)
    (module,) = outdir.glob("*.py")
    return module


def run_once(target: str, python: Path, home: Path, module: Path, scratch: Path) -> dict:
    """One run in a fresh process, on a private copy of the home and a fresh working directory."""
    run_dir = Path(tempfile.mkdtemp(dir=scratch))
    workdir, private = run_dir / "work", run_dir / "home"
    workdir.mkdir()
    shutil.copytree(home, private)
    if target == "airflow":
        command = [str(python), "-c", AIRFLOW_RUN, str(module.parent), module.stem]  # file stem = dag id
        env = airflow_env(private, module.parent)
    else:
        flow = re.search(r"^@flow\(.*\)\ndef (\w+)\(", module.read_text(), re.MULTILINE).group(1)
        command = [str(python), "-c", PREFECT_RUN, str(RUNNERS), str(module), flow, str(workdir)]
        env = prefect_env(private)
    started = time.perf_counter()
    done = checked(command, f"{target} run of {module}", env=env, cwd=workdir)
    result = {**json.loads(done.stdout.strip().splitlines()[-1]), "total": time.perf_counter() - started}
    if result["state"] not in ("success", "COMPLETED"):
        raise SystemExit(f"{target} run of {module} ended {result}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result["files"] = {str(p.relative_to(workdir)): p.read_bytes() for p in workdir.rglob("*") if p.is_file()}
    shutil.rmtree(run_dir)
    return result


def engine_rows(repeat: int, scratch: Path) -> tuple[list[tuple], dict[str, str]]:
    source = scratch / "chains.yaml"
    source.write_text(chains_yaml())
    expected, rows, versions = expected_files(), [], {}
    for target in ("airflow", "prefect"):
        python = engine_python(target)
        versions[target] = checked([str(python), "-c", f"import {target}; print({target}.__version__)"],
                                   f"{target} version").stdout.strip()
        home = migrated_home(target, python, scratch)
        modules = {level: compile_cli(source, target, level, scratch / f"{target}-O{level}") for level in (0, 2)}
        runs: dict[int, list[dict]] = {0: [], 2: []}
        for _ in range(repeat):  # levels interleaved, so drift hits both
            files = {}
            for level, module in modules.items():
                run = run_once(target, python, home, module, scratch)
                files[level] = run.pop("files")
                runs[level].append(run)
                print(f"{target} -O{level}: {run['scheduled']} tasks scheduled, {run['ran']} ran, "
                      f"run {run['run']:.2f}s, process {run['total']:.2f}s", flush=True)
            # the acceptance point: fusion must not change a byte of what the pipeline writes
            if files[0] != expected or files[2] != files[0]:
                raise SystemExit(f"{target}: -O0 wrote {files[0]}, -O2 wrote {files[2]}; expected {expected}")
            print(f"{target}: files of -O0 and -O2 byte-identical ({len(expected)} chain files)", flush=True)
        for level, done in runs.items():
            rows.append((target, level, done[0]["scheduled"], done[0]["ran"],
                         statistics.median(r["run"] for r in done), statistics.median(r["total"] for r in done)))
    return rows, versions


# ----------------------------------------------------------------------------- optimizer


def optimizer_rows(sizes: list[int], repeat: int) -> list[tuple]:
    cost = registry.get("airflow").cost
    optimize(folded(graph_yaml(100)), 2, cost=cost)  # warm-up: lazy imports are not the optimizer's time
    rows = []
    for size in sizes:
        pipeline = folded(graph_yaml(size))
        edges = build_graph(pipeline).number_of_edges()
        for level in (1, 2):
            times = []
            for _ in range(repeat):
                gc.collect()
                with paused_gc():  # as compile_loaded runs it
                    started = time.perf_counter()
                    result = optimize(pipeline, level, cost=cost)
                    times.append(time.perf_counter() - started)
            after = result.pipeline
            check_references(after, size, level)
            seconds = statistics.median(times)
            rows.append((size, level, edges, len(after.tasks), build_graph(after).number_of_edges(),
                         len(result.actions), seconds))
            print(f"{size:>6} tasks -O{level}: {seconds:.3f}s ({seconds / size * 1e6:.0f} us/task), "
                  f"{size} -> {len(after.tasks)} tasks", flush=True)
    return rows


# ----------------------------------------------------------------------------- report


def report(engine: list[tuple], optimizer: list[tuple], versions: dict[str, str], repeat: int,
           command: str) -> str:
    lines = [
        "# Optimizer benchmark",
        "",
        (f"Machine: {os.cpu_count()} cores ({platform.machine()}, {platform.system()}), Python "
         f"{platform.python_version()}; Airflow {versions['airflow']}, Prefect {versions['prefect']} (pinned engine "
         f"venvs); dagshift {revision()}."),
        f"Regenerate: `{command}`. Times are medians of {repeat} runs.",
        "",
        f"## Engines: {CHAINS} independent chains of {LENGTH} shell tasks ({CHAINS * LENGTH} tasks, no join)",
        "",
        "Each task appends one line to its chain's file. Compiled with `dagshift compile -t TARGET -OLEVEL`;",
        "each run in a fresh process in the engine venv, with a fresh working directory and a copy of a migrated",
        "database. Scheduled = Airflow: `dag.tasks` of the imported DAG; Prefect: task runs the API recorded.",
        "Ran = task instances / task runs that succeeded. Run = `dag.test()` / the flow call alone (Prefect's",
        "ephemeral API is started before it); process = the whole engine process (imports, DAG parse, API start).",
        "`dag.test()` runs the tasks one by one in its own process, with no scheduler or executor, so the",
        f"scheduler round-trip of Airflow's cost model (2 s a task) is not in it; Prefect runs the {CHAINS} chains in",
        "parallel threads (ThreadPoolTaskRunner) at both levels.",
        "Files: after every run, the chain files written at -O0 and at -O2 are compared byte for byte (with each",
        "other and with the lines the pipeline appends); the script stops if they differ.",
        "",
        "| engine | level | scheduled tasks | ran | run (s) | process (s) | files |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for target, level, scheduled, ran, run, total in engine:
        lines.append(f"| {target} | -O{level} | {scheduled} | {ran} | {run:.2f} | {total:.2f} | identical |")
    times = {(target, level): (run, total) for target, level, _, _, run, total in engine}
    speedups = [f"{target}: run x{times[target, 0][0] / times[target, 2][0]:.1f}, "
                f"process x{times[target, 0][1] / times[target, 2][1]:.1f}" for target in ("airflow", "prefect")]
    lines += ["", f"Speed-up of -O2 over -O0: {'; '.join(speedups)}.", ""]
    lines += [
        "## Optimizer time",
        "",
        "`optimize(pipeline, level, cost=<Airflow cost model>)` in-process on a validated, defaults-folded",
        f"pipeline: chains of {GRAPH_CHAIN} tasks; every 5th step also waits for the chain before, every 10th has a",
        "redundant `after`, one artifact per ten steps crosses to the next chain, every 100th task has an",
        "always-true `when`, the last task of every 10th chain an always-false one. GC paused, as in a compile.",
        "",
        "| tasks | level | edges | tasks after | edges after | actions | time (s) | per task (µs) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size, level, edges, tasks_after, edges_after, actions, seconds in optimizer:
        lines.append(f"| {size:,} | -O{level} | {edges:,} | {tasks_after:,} | {edges_after:,} | {actions:,} "
                     f"| {seconds:.3f} | {seconds / size * 1e6:,.0f} |")
    return "\n".join(lines) + "\n"


def revision() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], check=False,
                          capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000", help="optimizer graph sizes (tasks)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "optimizer.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="optimizer-bench-") as scratch:
        engine, versions = engine_rows(args.repeat, Path(scratch))
    optimizer = optimizer_rows([int(s) for s in args.sizes.split(",")], args.repeat)
    command = " ".join([".venv/bin/python", "benchmarks/optimizer_bench.py", *sys.argv[1:]])
    Path(args.output).write_text(report(engine, optimizer, versions, args.repeat, command))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
