#!/usr/bin/env python3
"""Compile time, memory and Workflow size for layered pipelines, next to Hera building the same.

    .venv/bin/python benchmarks/argo_bench.py [--sizes 10,100,1000,5000,10000] [--repeat 3] [--repeat-large 1]

For each size N: the layered pipeline of airflow_bench.py (layers of 10 shell tasks, each task
after two tasks of the layer before, every command reading a param) is compiled by dagshift to
target `argo` in-process (median wall time, and peak Python memory of a separate traced run), and
the Workflow's size is measured as YAML (the generated file) and as compact JSON (the form the
Kubernetes API server receives and stores a custom resource in, checked against the 1 MiB object
budget). Then Hera 7.1.0 builds the same Workflow the idiomatic way (one `Container` template taking
the command as an input parameter, a `DAG` of tasks calling it with arguments, `[a, b] >> task`)
and serializes it with `to_yaml()`, in a fresh process inside the pinned engine venv; only building
+ `to_yaml()` is timed there (the import of hera is timed separately). Results go to
benchmarks/results/argo.md.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import itertools
import json
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.airflow_bench import WIDTH, pipeline_yaml
from compiler.compile import compile_loaded
from compiler.gc_pause import paused_gc
from compiler.language.load import load_text
from compiler.passes import validate

BUDGET = 1024 * 1024  # bytes: the Kubernetes object size budget
KINDS = ("Workflow", "WorkflowTemplate", "CronWorkflow")

# Run by the Hera engine's Python: argv = size, width. Prints one JSON line.
HERA = """
import json, sys, time
started = time.perf_counter()
import hera
from hera.workflows import DAG, Container, Parameter, Workflow
imported = time.perf_counter() - started
size, width, shape = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

started = time.perf_counter()
with Workflow(generate_name=f"layered-{size}-", entrypoint="main",
              arguments=Parameter(name="greeting", value="hello")) as workflow:
    if shape == "distinct":
        shell = Container(name="shell", image="alpine:3.20", command=["sh", "-c"],
                          args=["{{inputs.parameters.command}}"], inputs=[Parameter(name="command")])
    else:
        shell = Container(name="shell", image="alpine:3.20", command=["sh", "-c"],
                          args=["echo {{workflow.parameters.greeting}}"])
    with DAG(name="main"):
        tasks = []
        for index in range(size):
            layer, position = divmod(index, width)
            if shape == "distinct":
                task = shell(name=f"t{index}",
                             arguments={"command": f"echo {{{{workflow.parameters.greeting}}}} from t{index}"})
            else:
                task = shell(name=f"t{index}")
            if layer:
                first = (layer - 1) * width + position
                second = (layer - 1) * width + (position + 1) % width
                [tasks[first], tasks[second]] >> task
            tasks.append(task)
built = time.perf_counter() - started
started = time.perf_counter()
text = workflow.to_yaml()
serialized = time.perf_counter() - started

as_json = json.dumps(workflow.to_dict(), separators=(",", ":"))
print(json.dumps({"version": hera.__version__, "import": imported, "build": built, "to_yaml": serialized,
                  "yaml_bytes": len(text.encode()), "json_bytes": len(as_json.encode())}))
"""


def compile_text(text: str, phases: list[float] | None = None) -> dict[str, str]:
    """The generated files; appends the seconds of load, validate and compile_loaded to `phases`."""
    with paused_gc():  # as `dagshift compile` runs (compiler/cli/main.py)
        return _compile_text(text, phases)


def _compile_text(text: str, phases: list[float] | None) -> dict[str, str]:
    marks = [time.perf_counter()]
    loaded = load_text(text, "bench.yaml")
    marks.append(time.perf_counter())
    validate(loaded.pipeline, loaded.source, loaded.diagnostics)
    marks.append(time.perf_counter())
    result = compile_loaded(loaded, ["argo"])
    marks.append(time.perf_counter())
    assert not result.diagnostics.has_errors, [d.message for d in result.diagnostics]
    if phases is not None:
        phases += [end - start for start, end in itertools.pairwise(marks)]
    return result.files


def workflow_of(files: dict[str, str]) -> tuple[str, str, dict]:
    """(file name, YAML text, parsed object) of the one generated file that holds the Workflow."""
    yaml = YAML(typ="safe", pure=True)
    found = []
    for name, text in files.items():
        if name.endswith((".yaml", ".yml")):
            docs = list(yaml.load_all(text))
            if any(isinstance(doc, dict) and doc.get("kind") in KINDS for doc in docs):
                found.append((name, text, docs))
    if len(found) != 1 or len(found[0][2]) != 1:
        raise SystemExit(f"expected one file holding just the Workflow among {sorted(files)}")
    name, text, (workflow,) = found[0]
    return name, text, workflow


def compile_runs(text: str, repeat: int) -> tuple[list[float], int, dict[str, str]]:
    """Median seconds of [total, load, validate, compile_loaded] over `repeat` plain runs, then peak
    memory of one traced run (tracing slows it)."""
    runs = []
    for _ in range(repeat):
        gc.collect()
        phases: list[float] = []
        files = compile_text(text, phases)
        runs.append([sum(phases), *phases])
    gc.collect()
    tracemalloc.start()
    compile_text(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return [statistics.median(column) for column in zip(*runs)], peak, files


def pipeline_text(size: int, shape: str) -> str:
    """The layered pipeline; `shared`: every task runs the same command (so all share one template)."""
    text = pipeline_yaml(size)
    if shape == "shared":
        text = re.sub(r"(command: echo \$\{\{ params\.greeting \}\}) from t\d+", r"\1", text)
    return text


def hera_runs(engine_python: Path, size: int, repeat: int, shape: str) -> dict:
    """Median of each Hera measurement over `repeat` fresh processes."""
    runs = []
    for _ in range(repeat):
        done = subprocess.run([str(engine_python), "-c", HERA, str(size), str(WIDTH), shape],
                              check=False, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
        if done.returncode != 0:
            raise SystemExit(f"Hera could not build {size} tasks:\n{done.stderr[-3000:]}")
        runs.append(json.loads(done.stdout.splitlines()[-1]))
    medians = {key: statistics.median(run[key] for run in runs) for key in ("import", "build", "to_yaml")}
    medians["total"] = statistics.median(run["build"] + run["to_yaml"] for run in runs)
    return {**runs[0], **medians}


def engine() -> Path:
    spec = importlib.util.spec_from_file_location("engines", ROOT / "scripts" / "engines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ensure("hera")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,5000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-large", type=int, default=None,
                        help="repeats for sizes of 5,000 tasks and more (default: --repeat)")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "argo.md"))
    parser.add_argument("--hera-python", help="a Python with hera installed (default: the pinned engine venv)")
    args = parser.parse_args()
    engine_python = Path(args.hera_python) if args.hera_python else engine()
    large = args.repeat if args.repeat_large is None else args.repeat_large
    compile_text(pipeline_yaml(WIDTH))  # warm-up: imports the backend, as Hera's import is not timed either
    sections = []
    for shape in SHAPES:
        rows = measure(shape, args, large, engine_python)
        sections.append(table(shape, rows))
    repeats = [args.repeat, large]
    runs = (f"median of {args.repeat} runs" if args.repeat == large else
            f"median of {args.repeat} runs below 5,000 tasks and of {large} from 5,000 tasks up")
    flags = (f" --repeat {args.repeat}" if args.repeat != 3 else "") + (
        f" --repeat-large {large}" if large != args.repeat else "")
    del repeats
    header = [
        "# Argo Workflows backend benchmark",
        "",
        "Layered pipelines (10 shell tasks per layer, each after two tasks of the layer before), as in `airflow.md`,",
        "in two shapes: **distinct**, every task its own command (`echo ${{ params.greeting }} from tN`, the Airflow",
        "benchmark's pipeline), and **shared**, every task the same command (`echo ${{ params.greeting }}`), as in",
        "pipelines generated from one step run many times.",
        "dagshift compile = load + validate + emit of target `argo`, in-process, with the cyclic GC paused as the",
        "CLI does; `compile_loaded` = the emit alone, from the validated IR (the part that does what Hera's build",
        "does). Peak = Python heap (tracemalloc, a",
        "separate traced run). YAML = the generated Workflow file; JSON = the same object as compact JSON, the form",
        "`argo submit` and `kubectl create` send and the API server stores a custom resource in. \"Under 1 MiB\"",
        "checks the JSON against 1,048,576 bytes.",
        "Hera = Hera 7.1.0 building the same Workflow the idiomatic way (`Workflow` with one `Container` template,",
        "taking the command as an input parameter for the distinct shape; a `DAG` of tasks calling it,",
        "`[a, b] >> task`) plus `to_yaml()`, timed inside a fresh process in the pinned engine venv, import excluded.",
        f"Times are the {runs}.",
        f"Machine: 2 cores, as in CI. Regenerate: `.venv/bin/python benchmarks/argo_bench.py{flags}`.",
        "",
    ]
    Path(args.output).write_text("\n".join(header + [line for section in sections for line in section]) + "\n")
    print(f"wrote {args.output}")
    return 0


SHAPES = ("shared", "distinct")


def measure(shape: str, args: argparse.Namespace, large: int, engine_python: Path) -> list[tuple]:
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        repeat = large if size >= 5000 else args.repeat
        (compile_s, *phases), peak, files = compile_runs(pipeline_text(size, shape), repeat)
        _, text, workflow = workflow_of(files)
        yaml_bytes = len(text.encode())
        json_bytes = len(json.dumps(workflow, separators=(",", ":")).encode())
        hera = hera_runs(engine_python, size, repeat, shape)
        rows.append((size, repeat, compile_s, peak, yaml_bytes, json_bytes, hera, phases))
        fits = json_bytes < BUDGET
        print(f"{size:>6} tasks (x{repeat}): compile {compile_s:.2f}s, peak {peak / 2**20:.1f} MiB "
              f"(load {phases[0]:.2f}s, validate {phases[1]:.2f}s, backend {phases[2]:.2f}s), "
              f"{yaml_bytes / 1024:.0f} KiB YAML / {json_bytes / 1024:.0f} KiB JSON "
              f"({'under' if fits else 'OVER'} 1 MiB); hera build+to_yaml {hera['total']:.2f}s "
              f"(import {hera['import']:.2f}s)", flush=True)
    return rows


def table(shape: str, rows: list[tuple]) -> list[str]:
    lines = [
        f"## {shape} commands",
        "",
        ("| tasks | dagshift compile (s) | of which compile_loaded (s) | peak memory (MiB) | workflow YAML (KiB) "
         "| JSON (KiB) | under 1 MiB | hera build + to_yaml (s) | hera / dagshift compile | hera / compile_loaded |"),
        "|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    for size, _, compile_s, peak, yaml_bytes, json_bytes, hera, phases in rows:
        fits = "yes" if json_bytes < BUDGET else "**no**"
        lines.append(f"| {size:,} | {compile_s:.2f} | {phases[2]:.2f} | {peak / 2**20:.1f} | {yaml_bytes / 1024:.0f} "
                     f"| {json_bytes / 1024:.0f} | {fits} | {hera['total']:.2f} | {hera['total'] / compile_s:.2f} "
                     f"| {hera['total'] / phases[2]:.2f} |")
    lines += [
        "",
        "Detail. dagshift's compile split into its phases: load (parse the pipeline YAML and build the IR), validate,",
        "and compile_loaded (capability check, graph, Argo render and verification); Hera's import time and its two",
        "timed parts; the size of Hera's Workflow; bytes per task = compact JSON / tasks, for dagshift and for Hera.",
        "",
        ("| tasks | load (s) | validate (s) | compile_loaded (s) | hera import (s) | hera build (s) | hera to_yaml (s) "
         "| hera YAML (KiB) | hera JSON (KiB) | JSON bytes/task dagshift | JSON bytes/task hera |"),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, _, _, _, _, json_bytes, hera, phases in rows:
        lines.append(f"| {size:,} | {phases[0]:.2f} | {phases[1]:.2f} | {phases[2]:.2f} | {hera['import']:.2f} "
                     f"| {hera['build']:.2f} | {hera['to_yaml']:.2f} | {hera['yaml_bytes'] / 1024:.0f} "
                     f"| {hera['json_bytes'] / 1024:.0f} | {json_bytes / size:.0f} | {hera['json_bytes'] / size:.0f} |")
    return lines + [""]


if __name__ == "__main__":
    sys.exit(main())
