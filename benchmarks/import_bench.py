#!/usr/bin/env python3
"""How long `dagshift import` takes, and how much memory, on pipelines of 10 to 10,000 tasks.

    .venv/bin/python benchmarks/import_bench.py [--sizes 10,100,1000,10000] [--repeat 3]

For each size N, the layered pipeline of airflow_bench.py (layers of 10 shell tasks, each after
two tasks of the layer before, every command reading a param) is compiled by dagshift to Airflow,
Prefect, Argo and DVC, and the output is imported back with `compiler.importers.import_file` (the
work of `dagshift import`: read, parse, map, and validate the pipeline it built), in-process, with
the cyclic GC paused as the CLI does. Measured: the median wall time of --repeat imports, and the
peak Python heap of a separate traced import (tracemalloc). Each import must come back as the
pipeline that was compiled (`Importer.carried`, as the round-trip test compares), or the script
stops. Results go to benchmarks/results/import.md.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.airflow_bench import pipeline_yaml
from compiler.api import check_text
from compiler.compile import compile_loaded, fold_defaults
from compiler.gc_pause import paused_gc
from compiler.importers import get, import_file
from compiler.importers import pipeline_yaml as imported_yaml
from compiler.language.load import load_text
from compiler.output.files import write_outputs
from compiler.passes import validate

FORMATS = {"airflow": "{name}.py", "prefect": "{name}.py", "argo": "workflow.yaml", "dvc": "dvc.yaml"}


def compiled(size: int, target: str, directory: Path) -> tuple[Path, object]:
    """The layered pipeline compiled to `target` in `directory`: the file to import, the pipeline."""
    loaded = load_text(pipeline_yaml(size), f"layered_{size}.yaml")
    validate(loaded.pipeline, loaded.source, loaded.diagnostics)
    result = compile_loaded(loaded, [target])
    assert not result.diagnostics.has_errors, [str(d) for d in result.diagnostics]
    write_outputs({directory: result.files})
    return directory / FORMATS[target].format(name=loaded.pipeline.name), fold_defaults(loaded.pipeline)


def timed_import(path: Path, target: str) -> float:
    with paused_gc():
        start = time.perf_counter()
        (result,) = import_file(path, target)
        elapsed = time.perf_counter() - start
    gc.collect()
    assert result.data is not None, [str(d) for d in result.diagnostics]
    return elapsed


def peak_import(path: Path, target: str) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        import_file(path, target)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def check_round_trip(path: Path, target: str, expected) -> None:
    (result,) = import_file(path, target)
    back = check_text(imported_yaml(result), str(path)).pipeline
    importer = get(target)
    if importer.carried(back) != importer.carried(expected):
        raise SystemExit(f"{target}: the import of {path} is not the pipeline that was compiled")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "import.md"))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="dagshift-import-bench-") as scratch:
        for target in FORMATS:
            get(target)  # import the importer's module outside the timings
            for size in sizes:
                path, expected = compiled(size, target, Path(scratch) / f"{target}-{size}")
                check_round_trip(path, target, expected)
                times = [timed_import(path, target) for _ in range(args.repeat)]
                median = statistics.median(times)
                peak = peak_import(path, target)
                rows.append(f"| {target} | {size:,} | {path.stat().st_size / 1024:,.0f} KiB | {median:.3f} s | "
                            f"{median / size * 1e6:,.0f} µs | {peak / 2**20:,.1f} MiB |")
                print(rows[-1], flush=True)
    flags = (f" --sizes {args.sizes}" if args.sizes != "10,100,1000,10000" else "") + (
        f" --repeat {args.repeat}" if args.repeat != 3 else "")
    text = "\n".join([
        "# Import benchmark",
        "",
        "The layered pipelines of `airflow.md` (layers of 10 shell tasks, each after two tasks of the layer",
        "before, every command reading a param), compiled by dagshift to each format and imported back with",
        "`compiler.importers.import_file`: read, parse, map, and validate the pipeline built (what `dagshift",
        "import` does before writing). In-process, cyclic GC paused as the CLI does. Every import is first",
        "checked to give back the compiled pipeline (as the round-trip test compares it).",
        f"Time = median of {args.repeat} imports; peak = Python heap of a separate traced import (tracemalloc).",
        f"Machine: 2 cores, as in CI. Regenerate: `.venv/bin/python benchmarks/import_bench.py{flags}`.",
        "",
        "| format | tasks | file | import | per task | peak |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
    ])
    Path(args.output).write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
