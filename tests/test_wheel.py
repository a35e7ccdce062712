"""The built wheel is complete: installed into a fresh venv outside the checkout, `dagshift` runs
and finds its templates (which live at the top level of the checkout, not inside the package)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    wheels = list(out.glob("dagshift-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contains_package_and_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    templates = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file())
    assert templates, "templates/ is empty"
    for template in templates:
        assert f"compiler/{template}" in names
    assert "compiler/cli/main.py" in names
    # Scripts run by path inside an engine's interpreter (not modules of a package)
    assert {"compiler/importers/airflow/loader.py", "compiler/run/scripts/airflow_run.py",
            "compiler/run/scripts/prefect_run.py"} <= set(names)
    assert not any(name.startswith(("tests/", "examples/", "golden/")) for name in names)


def test_installed_wheel_runs_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   capture_output=True, text=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "p.yaml").write_text("name: hello\ntasks:\n  greet: {command: echo hello}\n  bye: [greet]\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    dagshift = str(env_dir / "bin" / "dagshift")

    version = subprocess.run([dagshift, "--version"], cwd=work, env=env, capture_output=True, text=True)
    assert version.returncode == 0 and "dagshift" in version.stdout

    checked = subprocess.run([dagshift, "validate", "p.yaml"], cwd=work, env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok: p.yaml" in checked.stdout

    graph = subprocess.run([dagshift, "graph", "p.yaml"], cwd=work, env=env, capture_output=True, text=True)
    assert graph.returncode == 0 and "t_greet --> t_bye" in graph.stdout

    where = subprocess.run(
        [str(python), "-c", "import compiler; print(compiler.__file__); print(compiler.templates_dir())"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()
    package_file, templates = Path(where[0]), Path(where[1])
    assert ROOT not in package_file.parents, "the test imported the checkout, not the wheel"
    assert templates.parent == package_file.parent and (templates / "README.md").is_file()
