"""pylayout.format_source against black on the files dagshift generates for a 10,000-task pipeline.

A generated pipeline of N tasks (layers of 10; two in three are shell tasks with long commands, env and a
description, one in three a python task with arguments) is compiled to Airflow and to Prefect. The
backends' Python source, as the templates write it before formatting, is captured (by swapping
`emit.format_python` for the capture) and formatted by `pylayout.format_source` (best of --repeat runs)
and by `black.format_str` (the pinned version; --black-repeat runs): the two texts must be equal. The
whole compile, formatting included, is timed too. Writes benchmarks/results/layout.md.

    .venv/bin/python benchmarks/layout_bench.py [--tasks 10000] [--repeat 3] [--black-repeat 1]
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import black

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compiler.compile import compile_loaded
from compiler.language.load import load_text
from compiler.output import emit, pylayout
from compiler.passes import validate

WIDTH = 10
TARGETS = ("airflow", "prefect")


def pipeline_yaml(size: int) -> str:
    lines = [f"name: layered_{size}", "params:", "  greeting: hello", "  rows: 400", "tasks:"]
    for index in range(size):
        layer, position = divmod(index, WIDTH)
        lines.append(f"  t{index}:")
        if index % 3 == 2:
            lines.append("    python: tinyml.step:main")
            lines.append(f"    args: {{src: data/part-{index}.csv, rows: '${{{{ params.rows }}}}', "
                         "note: \"it's a \\\"quoted\\\" value\"}")
        else:
            lines.append(f"    command: python3 -m tinyml.step --input data/part-{index}.csv --rows ${{{{ params.rows }}}}"
                         f" --greeting ${{{{ params.greeting }}}} --out data/out-{index}.csv && echo done")
            lines.append(f"    env: {{PYTHONHASHSEED: '0', NOTE: 'layer {layer}'}}")
        lines.append(f"    description: step {index} of the layered pipeline")
        if layer:
            first = (layer - 1) * WIDTH + position
            second = (layer - 1) * WIDTH + (position + 1) % WIDTH
            lines.append(f"    after: [t{first}, t{second}]")
    return "\n".join(lines) + "\n"


def loaded_pipeline(size: int):
    loaded = load_text(pipeline_yaml(size), "layered.yaml")
    validate(loaded.pipeline, loaded.source, loaded.diagnostics)
    assert not loaded.diagnostics.has_errors
    return loaded


def unformatted_sources(loaded) -> dict[str, str]:
    """Each target's Python as its template writes it, before formatting."""
    captured: dict[str, str] = {}
    original = emit.format_python
    try:
        for target in TARGETS:
            emit.format_python = lambda source, name, target=target, **_: captured.setdefault(target, source)
            result = compile_loaded(loaded, [target])
            assert not result.diagnostics.has_errors, [d.message for d in result.diagnostics]
    finally:
        emit.format_python = original
    return captured


def cpu_time(repeat: int, function: Callable[[], Any]) -> tuple[float, Any]:
    """Best CPU time of `repeat` runs (the machine is shared), the collector paused as compile_loaded
    pauses it."""
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            result = function()
            times.append(time.process_time() - start)
        finally:
            gc.enable()
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--black-repeat", type=int, default=1)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "layout.md")
    args = parser.parse_args()

    loaded = loaded_pipeline(args.tasks)
    sources = unformatted_sources(loaded)
    rows, all_same = [], True
    for target in TARGETS:
        source = sources[target]
        layout_time, formatted = cpu_time(args.repeat, lambda source=source: pylayout.format_source(source))
        black_time, expected = cpu_time(args.black_repeat,
                                        lambda source=source: black.format_str(source, mode=black.Mode()))
        compile_time, _ = cpu_time(args.repeat, lambda target=target: compile_loaded(loaded, [target]))
        same = formatted == expected
        all_same = all_same and same
        rows.append(f"| {target} | {source.count(chr(10)):,} -> {formatted.count(chr(10)):,} "
                    f"({len(formatted) / 1e6:.1f} MB) | {layout_time:.2f} | {black_time:.2f} | "
                    f"{black_time / layout_time:.0f}x | {compile_time:.2f} | {'yes' if same else '**NO**'} |")
    report = [
        "# pylayout.format_source against black",
        "",
        (f"A generated {args.tasks:,}-task pipeline (`benchmarks/layout_bench.py --tasks {args.tasks}`: layers of "
         f"{WIDTH}, shell tasks with long commands and env, python tasks with arguments) compiled to each target; "
         "its Python as the templates write it, formatted by `pylayout.format_source` and by "
         f"`black.format_str` (black {black.__version__}, line length 88). Python {platform.python_version()}, "
         f"{platform.machine()}, {_cpus()}; CPU seconds, best of {args.repeat} runs (black: {args.black_repeat}), "
         "as the machine is shared. The compile column is the whole `compile_loaded` of that target, "
         "formatting (now format_source) included."),
        "",
        ("| target | lines (source -> formatted) | format_source s | black s | speed-up | whole compile s "
         "| identical to black |"),
        "|---|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(report))
    print("\n".join(report))
    if not all_same:
        sys.exit("pylayout and black differ")


def _cpus() -> str:
    import os

    return f"{os.cpu_count()} CPUs"


if __name__ == "__main__":
    main()
