#!/usr/bin/env python3
"""Wall time and peak memory of `dagshift compile` and `dagshift import` from 100 to 30,000 tasks,
next to Hera and kfp building the same pipeline.

    .venv/bin/python benchmarks/scale_bench.py [--sizes 100,1000,10000,30000] [--kfp-limit 120] [--repeat 3]

For each size N, the layered pipeline of airflow_bench.py (layers of 10 shell tasks, each after two
tasks of the layer before, every command reading a param) is compiled by the real CLI, one fresh
process per run, to each target and to all five at once (`-t all`); the generated Airflow, Prefect,
Argo and DVC files are then read back with `dagshift import`. In the same run and on the same
pipeline, in the pinned engine venvs (scripts/engines.py): Hera 7.1 builds and serializes the Argo
Workflow (argo_bench.py's idiomatic form), and kfp 2.17 compiles an idiomatic pipeline of
container components (stopped after --kfp-limit seconds). Each figure is the wall time of the whole
process (interpreter start and imports included, for dagshift, Hera and kfp alike) and its peak
memory: `wait4`'s ru_maxrss, or the peak sum of RSS over the process and the workers `-t all` forks
(compiler/parallel.py), whichever is larger. Compiles and Hera run --repeat times in rounds and the
median run counts: this machine's speed drifts by half from one minute to the next. Results go to
benchmarks/results/scale.md, with the growth factor of each 10x step of size.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.airflow_bench import WIDTH, pipeline_yaml  # noqa: E402
from benchmarks.argo_bench import HERA  # noqa: E402

TARGETS = ("airflow", "prefect", "kubeflow", "argo", "dvc")
# What `dagshift import` reads back for each target (the Kubeflow module needs kfp to become the
# PipelineSpec the importer reads, and kfp does not finish at scale: see the kfp column).
IMPORTED = {"airflow": "{name}.py", "prefect": "{name}.py", "argo": "workflow.yaml", "dvc": "dvc.yaml"}

# Run by the Kubeflow engine's Python: argv = size, width, output path. The pipeline as a kfp user
# writes it: one container component, a task per step, `.after()` for the edges.
KFP = """
import sys
from kfp import compiler, dsl

size, width, output = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


@dsl.container_component
def shell(greeting: str, name: str):
    return dsl.ContainerSpec(image="alpine:3.20", command=["sh", "-c", 'echo "$0" from "$1"'], args=[greeting, name])


@dsl.pipeline(name=f"layered-{size}")
def layered(greeting: str = "hello"):
    tasks = []
    for index in range(size):
        task = shell(greeting=greeting, name=f"t{index}")
        layer, position = divmod(index, width)
        if layer:
            task.after(tasks[(layer - 1) * width + position], tasks[(layer - 1) * width + (position + 1) % width])
        tasks.append(task)


compiler.Compiler().compile(layered, output)
"""


@dataclass
class Run:
    seconds: float
    peak_mb: float
    finished: bool  # False: stopped at the time limit

    def cell(self) -> str:
        if not self.finished:
            return f"> {self.seconds:.0f} (stopped)"
        return f"{self.seconds:.2f}"


def measured(argv: list[str], *, limit: float | None = None, cwd: Path | None = None) -> Run:
    """Run `argv` to its end (or kill it after `limit` seconds): wall time and peak memory, the larger
    of its peak RSS and the largest sum of RSS over it and its worker processes (sampled every 10 ms;
    pages the workers share with it count twice, so the figure errs high, never low)."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, cwd=cwd)
        timer = threading.Timer(limit, process.kill) if limit else None
        if timer:
            timer.start()
        sampler = _TreeMemory(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        sampler.stop()
        if timer:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        stopped = limit is not None and seconds >= limit and process.returncode < 0
        if process.returncode != 0 and not stopped:
            output.seek(0)
            raise SystemExit(f"failed ({process.returncode}): {' '.join(argv)}\n{output.read()[-3000:].decode()}")
    return Run(seconds, max(usage.ru_maxrss / 1024, sampler.peak_mb), not stopped)


class _TreeMemory:
    """The largest sum of resident memory over a process and its children, sampled in a thread."""

    def __init__(self, pid: int):
        self.pid, self.peak_mb = pid, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            pids = [self.pid, *_children(self.pid)]
            self.peak_mb = max(self.peak_mb, sum(_rss_mb(pid) for pid in pids))


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def dagshift(*args: str) -> list[str]:
    return [sys.executable, "-m", "compiler", *args]


def engine(name: str) -> Path:
    spec = importlib.util.spec_from_file_location("engines", ROOT / "scripts" / "engines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ensure(name)


def measure_size(size: int, work: Path, hera: Path, kfp: Path, kfp_limit: float, repeat: int) -> dict[str, Run]:
    """Every compile and Hera `repeat` times, in rounds (each round runs all of them once, so a slow
    spell of the machine touches all columns alike), keeping each one's median run; imports and kfp once."""
    source = work / f"layered_{size}.yaml"
    source.write_text(pipeline_yaml(size))
    commands = {target: dagshift("compile", str(source), "-t", target, "-o", str(work / f"out-{size}-{target}"), "-q")
                for target in (*TARGETS, "all")}
    commands["hera"] = [str(hera), "-c", HERA, str(size), str(WIDTH), "distinct"]
    rounds: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            rounds[name].append(measured(argv))
    runs = {name: sorted(taken, key=lambda run: run.seconds)[len(taken) // 2] for name, taken in rounds.items()}
    for name in commands:
        print(f"{size:>6} compile {name:<9} {runs[name].seconds:7.2f} s {runs[name].peak_mb:7.0f} MB "
              f"({', '.join(f'{run.seconds:.2f}' for run in rounds[name])})", flush=True)
    for target, file_name in IMPORTED.items():
        path = work / f"out-{size}-{target}" / file_name.format(name=f"layered_{size}")
        runs[f"import {target}"] = measured(dagshift("import", str(path), "--from", target, "-o",
                                                     str(work / f"back-{size}-{target}.yaml"), "-q"))
        print(f"{size:>6} import  {target:<9} {runs[f'import {target}'].seconds:7.2f} s", flush=True)
    runs["kfp"] = measured([str(kfp), "-c", KFP, str(size), str(WIDTH), str(work / f"kfp-{size}.yaml")],
                           limit=kfp_limit)
    print(f"{size:>6} kfp {runs['kfp'].cell()} s", flush=True)
    return runs


def growth(by_size: dict[int, dict[str, Run]], column: str) -> str:
    """Time at each size over time at the size 10x smaller, for the sizes measured 10x apart."""
    steps = []
    for size in sorted(by_size):
        smaller = by_size.get(size // 10)
        if smaller is not None and size % 10 == 0:
            now, before = by_size[size][column], smaller[column]
            ratio = f"{now.seconds / before.seconds:.1f}x" if now.finished and before.finished else "n/a"
            steps.append(f"{size // 10:,} -> {size:,}: {ratio}")
    return "; ".join(steps) or "n/a"


def report(by_size: dict[int, dict[str, Run]], kfp_limit: float, repeat: int) -> str:
    sizes = sorted(by_size)
    compiled = [*TARGETS, "all", "hera", "kfp"]
    titles = {"all": "`-t all`", "hera": "Hera (argo)", "kfp": "kfp compile"}
    lines = [
        "# Scale: compile and import from 100 to 30,000 tasks",
        "",
        "Layered pipelines (10 shell tasks per layer, each after two tasks of the layer before, every command",
        "reading a param), as in `airflow.md`. Every figure is one fresh process, start-up and imports",
        "included: `dagshift compile -t TARGET` (and `-t all`, one load and validation for the five targets),",
        "`dagshift import` of the generated file, Hera 7.1 building and serializing the same Workflow",
        f"(argo_bench.py's form), kfp 2.17 compiling the same pipeline (stopped after {kfp_limit:.0f} s).",
        f"Each compile and Hera ran {repeat} times, in rounds (all of them once per round, so that the",
        "machine's slow spells touch every column alike); the median run is shown. Imports and kfp ran once.",
        "Peak memory is the process's peak resident set (ru_maxrss), or when larger the peak sum of resident",
        "sets over it and the worker processes it forks for `-t all` (sampled every 10 ms; shared pages count",
        "twice, so it errs high).",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}. "
        "Regenerate: `.venv/bin/python benchmarks/scale_bench.py`.",
        "",
        "## Compile: wall seconds",
        "",
        "| tasks | " + " | ".join(titles.get(c, c) for c in compiled) + " |",
        "|---:|" + "---:|" * len(compiled),
    ]
    lines += [f"| {size:,} | " + " | ".join(by_size[size][c].cell() for c in compiled) + " |" for size in sizes]
    lines += ["", "## Compile: peak memory (MB)", "",
              "| tasks | " + " | ".join(titles.get(c, c) for c in compiled) + " |",
              "|---:|" + "---:|" * len(compiled)]
    lines += [f"| {size:,} | " + " | ".join(f"{by_size[size][c].peak_mb:.0f}" for c in compiled) + " |"
              for size in sizes]
    imports = [f"import {t}" for t in IMPORTED]
    lines += ["", "## Import: wall seconds (peak MB)", "",
              "| tasks | " + " | ".join(t.removeprefix("import ") for t in imports) + " |",
              "|---:|" + "---:|" * len(imports)]
    lines += [f"| {size:,} | " + " | ".join(f"{by_size[size][c].seconds:.2f} ({by_size[size][c].peak_mb:.0f})"
                                             for c in imports) + " |" for size in sizes]
    lines += ["", "## Growth of wall time per 10x tasks", ""]
    lines += [f"- {titles.get(c, c)}: {growth(by_size, c)}" for c in (*compiled, *imports)]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,30000")
    parser.add_argument("--kfp-limit", type=float, default=120.0, help="seconds kfp may take per size")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each compile and of Hera (the median is kept)")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "scale.md"))
    args = parser.parse_args()
    hera, kfp = engine("hera"), engine("kubeflow")
    by_size = {}
    with tempfile.TemporaryDirectory(prefix="dagshift-scale-") as directory:
        for size in (int(s) for s in args.sizes.split(",")):
            by_size[size] = measure_size(size, Path(directory), hera, kfp, args.kfp_limit, args.repeat)
    Path(args.output).write_text(report(by_size, args.kfp_limit, args.repeat))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
