"""The generated Prefect flows against careful hand-written ones (benchmarks/handwritten/prefect/):
the same behaviour, at most 1.5 times the lines (issue 18).

Each hand-written flow and the flow dagshift generates for the same example run on the real
Prefect 3 (one prefect_runner.py process, each run in a fresh copy of examples/, with the
defaults) and must end Completed and leave byte-identical artifacts (test_conformance.py's
snapshot of what a run created, changed or removed). Both files are black-formatted, and the
generated one has at most LIMIT times the hand-written one's lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_harness import EXAMPLES, ROOT, PrefectEngine, compile_pipeline
from test_conformance import describe_difference, produced, snapshot

from compiler.output import emit

pytestmark = [pytest.mark.engine, pytest.mark.slow]

HANDWRITTEN = ROOT / "benchmarks" / "handwritten" / "prefect"
EXAMPLES_COMPARED = ("sequential", "fan_out")
LIMIT = 1.5


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generated")
    files = {}
    for example in EXAMPLES_COMPARED:
        compiled = compile_pipeline(EXAMPLES / f"{example}.yaml", root / example, target="prefect")
        assert compiled.ok, compiled.output
        (files[example],) = compiled.files
    return files


@pytest.fixture(scope="module")
def artifacts(prefect_engine: PrefectEngine, generated: dict[str, Path]) -> dict[tuple[str, str], dict]:
    """(example, "generated" | "hand-written") -> what its run left, after one engine process."""
    runs, before = [], {}
    for example in EXAMPLES_COMPARED:
        for kind, module in (("generated", generated[example]), ("hand-written", HANDWRITTEN / f"{example}.py")):
            workdir = prefect_engine.workdir()
            before[example, kind] = (workdir, snapshot(workdir))
            runs.append({"key": f"{example}:{kind}", "module": str(module), "flow": example, "params": {},
                         "workdir": str(workdir)})
    report = prefect_engine.runner({"inspect": [], "runs": runs})
    found = {}
    for (example, kind), (workdir, files) in before.items():
        run = report.flow_run(f"{example}:{kind}")
        assert run.state == "COMPLETED", run.summary()
        found[example, kind] = produced(files, workdir)
    return found


@pytest.mark.parametrize("example", EXAMPLES_COMPARED)
def test_the_generated_flow_leaves_what_the_hand_written_one_does(artifacts, example: str) -> None:
    generated, hand_written = artifacts[example, "generated"], artifacts[example, "hand-written"]
    assert generated, f"{example}: the runs left nothing to compare"
    differences = [describe_difference(path, {"generated": generated.get(path), "hand-written": hand_written.get(path)})
                   for path in sorted(set(generated) | set(hand_written)) if generated.get(path) != hand_written.get(path)]
    assert not differences, "\n".join(differences)


@pytest.mark.parametrize("example", EXAMPLES_COMPARED)
def test_the_generated_flow_is_at_most_one_and_a_half_times_the_hand_written_one(generated, example: str) -> None:
    hand_written = (HANDWRITTEN / f"{example}.py").read_text(encoding="utf-8")
    text = generated[example].read_text(encoding="utf-8")
    assert emit.format_python(hand_written, f"{example}.py") == hand_written, "the hand-written flow is not black's"
    lines, hand_lines = len(text.splitlines()), len(hand_written.splitlines())
    assert lines <= LIMIT * hand_lines, f"{example}: {lines} generated lines against {hand_lines} hand-written"
