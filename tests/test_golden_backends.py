"""Golden files for every example x backend, produced through the real CLI path.

golden/<example>/<backend>/ holds exactly what `dagshift compile examples/<example>.yaml -t <backend>`
writes (at the default -O1), plus `diagnostics.txt` when the command printed any (warnings, or the
errors of a pipeline the backend cannot express). golden/<example>/O2/<backend>/ holds the -O2
output where it differs from -O1; where it does not, the test checks that it really is the same and
that no stale -O2 golden is left. Regenerate with `./scripts/test.sh --update-golden` and read the diff.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.backends import registry

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "golden"
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
BACKENDS = registry.names()
CASES = [(example, backend) for example in EXAMPLES for backend in BACKENDS]


def compile_example(cli, example: str, backend: str, outdir: Path, *flags: str) -> tuple[int, dict[str, str]]:
    result = cli("compile", f"examples/{example}.yaml", "-t", backend, "-o", str(outdir), "-q", *flags)
    assert result.exception is None, result.traceback_text
    assert "Traceback" not in result.traceback_text
    files = {p.relative_to(outdir).as_posix(): p.read_text() for p in sorted(outdir.rglob("*")) if p.is_file()}
    if result.stdout:
        files["diagnostics.txt"] = result.stdout
    return result.exit_code, files


@pytest.mark.parametrize("example, backend", CASES, ids=[f"{e}-{b}" for e, b in CASES])
def test_compiled_output_matches_golden(cli, golden, tmp_path: Path, example: str, backend: str) -> None:
    exit_code, files = compile_example(cli, example, backend, tmp_path / "out")
    assert exit_code in (0, 1)
    if exit_code == 1:
        assert set(files) == {"diagnostics.txt"}, "a failed compile must write nothing"
    else:
        assert any(name != "diagnostics.txt" for name in files)
    golden.compare_tree(GOLDEN / example / backend, files)


@pytest.mark.parametrize("example, backend", CASES, ids=[f"{e}-{b}" for e, b in CASES])
def test_level_two_output_matches_golden(cli, golden, tmp_path: Path, example: str, backend: str) -> None:
    _, default = compile_example(cli, example, backend, tmp_path / "o1")
    exit_code, files = compile_example(cli, example, backend, tmp_path / "o2", "-O2")
    assert exit_code in (0, 1)
    directory = GOLDEN / example / "O2" / backend
    if files != default:
        golden.compare_tree(directory, files)
    elif golden.update:
        shutil.rmtree(directory, ignore_errors=True)
    else:
        assert not directory.exists(), f"{directory} is stale: -O2 now gives the -O1 output (run --update-golden)"


def test_no_orphan_golden_directories() -> None:
    expected = {f"{example}/{backend}" for example, backend in CASES}
    found = {
        f"{example.name}/{backend.name}"
        for example in GOLDEN.iterdir()
        if example.is_dir() and example.name != "invalid"
        for backend in example.iterdir()
        if backend.is_dir() and backend.name != "O2"
    }
    found_o2 = {f"{o2.parent.name}/{backend.name}" for o2 in GOLDEN.glob("*/O2") for backend in o2.iterdir()}
    assert found_o2 <= expected, f"orphan -O2 golden directories: {sorted(found_o2 - expected)}"
    assert found <= expected, f"orphan golden directories: {sorted(found - expected)}"
    assert expected <= found, f"missing golden directories: {sorted(expected - found)} (run --update-golden)"


def test_output_is_deterministic_across_hash_seeds_and_directories(tmp_path: Path) -> None:
    """Byte-identical output whatever PYTHONHASHSEED and the working directory are."""
    outputs = []
    for seed, cwd in (("1", ROOT), ("2", tmp_path)):
        outdir = tmp_path / f"out-{seed}"
        # fan_out (every fan-out form) to each target that can express it; parallel to all of them
        # (Kubeflow has no max_active_tasks: it is left out, with a warning)
        for example, targets in (("fan_out", "airflow,prefect,argo"), ("parallel", "all")):
            subprocess.run(
                [sys.executable, "-m", "compiler", "compile", str(ROOT / "examples" / f"{example}.yaml"),
                 "-t", targets, "-o", str(outdir / example), "-q"],
                # PYTHONPATH: this checkout's compiler from any directory, not an installed copy
                cwd=cwd, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, check=True,
            )
        outputs.append({p.relative_to(outdir).as_posix(): p.read_bytes() for p in outdir.rglob("*") if p.is_file()})
    assert outputs[0] and outputs[0] == outputs[1]


def test_generated_airflow_files_pass_ruff_air_rules() -> None:
    files = sorted(str(p) for p in [*GOLDEN.glob("*/airflow/*.py"), *GOLDEN.glob("*/O2/airflow/*.py")])
    assert files
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--preview", "--select", "AIR", "--no-cache",
                             "--isolated", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
