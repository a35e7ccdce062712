"""dagshift depends on a range of black (`black>=26.1,<27`), not one release, and its output is the
same across that range. dagshift writes black's layout itself (compiler/pylayout, checked against
the test extra's exact pin by tests/test_black_stable.py) and runs black only on source pylayout
refuses; here, in a venv with the range's oldest release (scripts/engines/black-oldest.txt),
dagshift compiles every example and that black must leave every generated Python file byte for byte
as it is, and as the golden file says: the fallback and a user's own black agree with the output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden"
PYTHON_TARGETS = ("airflow", "prefect", "kubeflow")

# Run inside the old-black venv: compile every example to each Python target, as `dagshift compile`
# does, and print black's version and what that black makes of every generated Python file.
_COMPILE_EVERYTHING = """
import json, sys
from pathlib import Path
import black
from compiler.api import check_file
from compiler.compile import compile_loaded

files = {}
for example in sorted(Path("examples").glob("*.yaml")):
    for target in sys.argv[1:]:
        result = compile_loaded(check_file(str(example)), [target])
        for relative, text in result.files.items():
            if relative.endswith(".py"):
                files[f"{example.stem}/{target}/{relative}"] = black.format_str(text, mode=black.Mode(line_length=88))
print(json.dumps({"black": black.__version__, "files": files}))
"""


def _pins(name: str) -> dict[str, str]:
    lines = (ROOT / "scripts" / "engines" / f"{name}.txt").read_text().splitlines()
    return {Requirement(line).name.lower(): str(Requirement(line).specifier)[2:]
            for line in lines if line.strip() and not line.startswith("#")}


def _requirement(requirements: list[str], name: str) -> Requirement:
    (found,) = [Requirement(text) for text in requirements if Requirement(text).name.lower() == name]
    return found


def test_black_is_a_range_for_users_and_exact_for_the_golden_files() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _requirement(project["dependencies"], "black")
    assert not any(spec.operator in ("==", "===") for spec in runtime.specifier), runtime
    (pinned,) = _requirement(project["optional-dependencies"]["test"], "black").specifier
    assert pinned.operator == "=="
    oldest = _pins("black-oldest")["black"]
    assert runtime.specifier.contains(pinned.version) and runtime.specifier.contains(oldest)
    assert not runtime.specifier.contains(f"{int(oldest.split('.')[0]) - 1}.12.0"), "the range admits last year's style"


def test_the_oldest_black_of_the_range_writes_the_golden_files(black_oldest_python: Path) -> None:
    process = subprocess.run([str(black_oldest_python), "-c", _COMPILE_EVERYTHING, *PYTHON_TARGETS], cwd=ROOT,
                             check=False, capture_output=True, text=True, timeout=600,
                             env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    assert process.returncode == 0, process.stderr[-3000:]
    report = json.loads(process.stdout)
    assert report["black"] == _pins("black-oldest")["black"], "dagshift did not run with the oldest black"
    golden = {path.relative_to(GOLDEN).as_posix(): path.read_text() for path in sorted(GOLDEN.glob("*/*/**/*.py"))
              if path.relative_to(GOLDEN).parts[1] in PYTHON_TARGETS}
    assert golden, "no golden Python files found"
    assert sorted(report["files"]) == sorted(golden)
    differ = [name for name in golden if report["files"][name] != golden[name]]
    assert not differ, f"black {report['black']} formats these differently from the golden files: {differ}"
