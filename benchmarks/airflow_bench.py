#!/usr/bin/env python3
"""Compile time, memory and Airflow parse time for layered pipelines of growing size.

    .venv/bin/python benchmarks/airflow_bench.py [--sizes 10,100,1000,5000,10000] [--repeat 3]

For each size N: a layered pipeline (layers of 10 shell tasks, each task after two tasks of the
layer before, every command reading a param) is compiled by dagshift in-process (time and peak
Python memory), and Airflow's DagBag parses the generated file and a plain hand-written DAG file
of the same pipeline (BashOperators and `>>`, what a person would write), each in a fresh Airflow
process inside the pinned engine venv. Results go to benchmarks/results/airflow.md as a table.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compiler.compile import compile_loaded  # noqa: E402
from compiler.language.load import load_text  # noqa: E402
from compiler.passes import validate  # noqa: E402

WIDTH = 10
PARSE = """
import sys, time
from airflow.dag_processing.dagbag import BundleDagBag
t = time.perf_counter()
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[1])
elapsed = time.perf_counter() - t
assert not bag.import_errors, bag.import_errors
dag = bag.dags[sys.argv[2]]
print(elapsed, len(dag.tasks))
"""


def pipeline_yaml(size: int) -> str:
    lines = [f"name: layered_{size}", "params:", "  greeting: hello", "tasks:"]
    for index in range(size):
        layer, position = divmod(index, WIDTH)
        lines.append(f"  t{index}:")
        lines.append(f"    command: echo ${{{{ params.greeting }}}} from t{index}")
        if layer:
            first = (layer - 1) * WIDTH + position
            second = (layer - 1) * WIDTH + (position + 1) % WIDTH
            lines.append(f"    after: [t{first}, t{second}]")
    return "\n".join(lines) + "\n"


def hand_written(size: int) -> str:
    """The same DAG as a person would write it for Airflow 3."""
    out = [
        "from airflow.providers.standard.operators.bash import BashOperator",
        "from airflow.sdk import DAG, Param",
        "",
        f'with DAG(dag_id="hand_{size}", schedule=None, params={{"greeting": Param("hello", type="string")}}):',
    ]
    for index in range(size):
        out.append(f'    t{index} = BashOperator(task_id="t{index}", '
                   f'bash_command="echo {{{{ params.greeting }}}} from t{index}")')
    for index in range(WIDTH, size):
        layer, position = divmod(index, WIDTH)
        first = (layer - 1) * WIDTH + position
        second = (layer - 1) * WIDTH + (position + 1) % WIDTH
        out.append(f"    [t{first}, t{second}] >> t{index}")
    return "\n".join(out) + "\n"


def compile_text(text: str) -> str:
    loaded = load_text(text, "bench.yaml")
    validate(loaded.pipeline, loaded.source, loaded.diagnostics)
    result = compile_loaded(loaded, ["airflow"])
    assert not result.diagnostics.has_errors, [d.message for d in result.diagnostics]
    (source,) = result.files.values()
    return source


def compile_once(text: str) -> tuple[float, int, str]:
    """Wall time of a plain run, then peak memory of a second, traced run (tracing slows it)."""
    started = time.perf_counter()
    source = compile_text(text)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    compile_text(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak, source


def parse_times(engine_python: Path, files: dict[str, str], repeat: int) -> dict[str, float]:
    """Median DagBag parse time of each {dag_id: source}, runs interleaved so drift hits both."""
    times: dict[str, list[float]] = {dag_id: [] for dag_id in files}
    with tempfile.TemporaryDirectory() as home:
        env = {"AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin"}
        folders = {}
        for dag_id, source in files.items():
            folders[dag_id] = Path(tempfile.mkdtemp(dir=home))
            (folders[dag_id] / f"{dag_id}.py").write_text(source)
        for _ in range(repeat):
            for dag_id, folder in folders.items():
                done = subprocess.run([str(engine_python), "-c", PARSE, str(folder), dag_id], env=env,
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    raise SystemExit(f"Airflow could not parse {dag_id}:\n{done.stderr[-3000:]}")
                times[dag_id].append(float(done.stdout.split()[-2]))
    return {dag_id: statistics.median(values) for dag_id, values in times.items()}


def engine() -> Path:
    spec = importlib.util.spec_from_file_location("engines", ROOT / "scripts" / "engines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ensure("airflow")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000,10000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "airflow.md"))
    args = parser.parse_args()
    engine_python = engine()
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        text = pipeline_yaml(size)
        compile_s, peak, source = compile_once(text)
        parsed = parse_times(engine_python, {f"hand_{size}": hand_written(size), f"layered_{size}": source},
                             args.repeat)
        manual, generated = parsed[f"hand_{size}"], parsed[f"layered_{size}"]
        rows.append((size, compile_s, peak / 2**20, len(source.encode()) / 1024, generated, manual))
        print(f"{size:>6} tasks: compile {compile_s:.2f}s, peak {peak / 2**20:.1f} MiB, "
              f"parse generated {generated:.2f}s vs hand-written {manual:.2f}s", flush=True)
    lines = [
        "# Airflow backend benchmark",
        "",
        "Layered pipelines (10 shell tasks per layer, each after two tasks of the layer before).",
        "Compile = load + validate + emit + black, in-process; peak = Python heap (tracemalloc).",
        f"Parse = BundleDagBag in a fresh Airflow 3.3.2 process, median of {args.repeat}.",
        "Machine: 2 cores, as in CI. Regenerate: `.venv/bin/python benchmarks/airflow_bench.py`.",
        "",
        "| tasks | compile (s) | peak memory (MiB) | file (KiB) | parse generated (s) | parse hand-written (s) | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, compile_s, peak_mib, kib, generated, manual in rows:
        lines.append(f"| {size:,} | {compile_s:.2f} | {peak_mib:.1f} | {kib:.0f} | {generated:.2f} | {manual:.2f} "
                     f"| {generated / manual:.2f} |")
    Path(args.output).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
