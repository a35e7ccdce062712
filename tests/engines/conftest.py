"""Session setup for the engine tests: the real Airflow, Prefect and DVC (and hera's Argo models),
each in its own pinned virtual environment.

`airflow_engine` builds (or reuses) the engine venv through scripts/engines.py and migrates one
SQLite AIRFLOW_HOME for the whole session; engine_harness.AirflowEngine then runs
tests/engines/airflow_runner.py inside the venv. `prefect_engine` does the same for Prefect: one
migrated PREFECT_HOME (`prefect server database upgrade`), copied for every Prefect process, which
starts its own ephemeral local API. `dvc_engine` (dvc_harness.py) makes fresh git + DVC
repositories and runs the venv's `dvc` in them. Nothing is ever mocked or skipped: when an engine
cannot be built or migrated, every test that needs it fails with the reason.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from dvc_harness import DvcEngine
from engine_harness import RUN_TIMEOUT, AirflowEngine, PrefectEngine, airflow_env, engines_script, prefect_env


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "engine: runs generated files on a real orchestrator (scripts/engines.py)")


def _engine_python(name: str, title: str) -> Path:
    """The engine venv's python, built on first use and then cached (scripts/engines.py)."""
    try:
        return Path(engines_script().ensure(name))
    except (Exception, SystemExit) as error:  # fail, never skip: a missing engine is a broken setup
        pytest.fail(f"could not build the {title} engine environment with scripts/engines.py: {error!r}",
                    pytrace=False)


@pytest.fixture(scope="session")
def black_oldest_python() -> Path:
    """dagshift's runtime dependencies with the oldest black they admit (test_black_range.py)."""
    return _engine_python("black-oldest", "oldest black")


@pytest.fixture(scope="session")
def airflow_python() -> Path:
    """The engine venv's python (built on first use, then cached; see scripts/engines.py)."""
    return _engine_python("airflow", "Airflow")


@pytest.fixture(scope="session")
def airflow_engine(airflow_python: Path, tmp_path_factory: pytest.TempPathFactory):
    """The engine with one migrated AIRFLOW_HOME for the session (`airflow db migrate`, ~5 s)."""
    scratch = tmp_path_factory.mktemp("airflow")
    home = scratch / "home"
    home.mkdir()
    airflow = airflow_python.parent / "airflow"
    try:
        process = subprocess.run([str(airflow), "db", "migrate"], env=airflow_env(home, scratch / "no-dags"),
                                 capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=scratch)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"`airflow db migrate` did not run: {error!r}", pytrace=False)
    if process.returncode != 0 or not (home / "airflow.db").is_file():
        pytest.fail(f"`airflow db migrate` failed (exit {process.returncode}):\n{process.stdout[-3000:]}\n"
                    f"{process.stderr[-3000:]}", pytrace=False)
    engine = AirflowEngine(airflow_python, home, scratch)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def prefect_python() -> Path:
    """The Prefect engine venv's python (built on first use, then cached; see scripts/engines.py)."""
    return _engine_python("prefect", "Prefect")


@pytest.fixture(scope="session")
def prefect_engine(prefect_python: Path, tmp_path_factory: pytest.TempPathFactory):
    """The engine with one migrated PREFECT_HOME for the session (~10 s); every Prefect process
    works on a copy, so none pays for the migrations and none shares another's database."""
    scratch = tmp_path_factory.mktemp("prefect")
    home = scratch / "home"
    home.mkdir()
    prefect = prefect_python.parent / "prefect"
    try:
        process = subprocess.run([str(prefect), "server", "database", "upgrade", "-y"], env=prefect_env(home),
                                 capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=scratch)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"`prefect server database upgrade` did not run: {error!r}", pytrace=False)
    database = home / "prefect.db"
    if process.returncode != 0 or not database.is_file():
        pytest.fail(f"`prefect server database upgrade` failed (exit {process.returncode}):\n"
                    f"{process.stdout[-3000:]}\n{process.stderr[-3000:]}", pytrace=False)
    connection = sqlite3.connect(database)
    try:  # fold the WAL into the file: a copy of the file then holds everything
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    engine = PrefectEngine(prefect_python, home, scratch)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def hera_python() -> Path:
    """The hera venv's python (Argo Workflows and Argo Events models; scripts/engines/hera.txt)."""
    return _engine_python("hera", "hera")


@pytest.fixture(scope="session")
def kubeflow_python() -> Path:
    """The Kubeflow Pipelines venv's python (kfp + kfp-kubernetes; scripts/engines/kubeflow.txt):
    compiles and reads back generated modules (kfp_inspect.py), runs them on kfp.local
    (kfp_local_runner.py)."""
    return _engine_python("kubeflow", "Kubeflow")


@pytest.fixture(scope="session")
def dvc_python() -> Path:
    """The DVC engine venv's python (scripts/engines/dvc.txt; its `dvc` sits next to it)."""
    return _engine_python("dvc", "DVC")


@pytest.fixture(scope="session")
def dvc_engine(dvc_python: Path, tmp_path_factory: pytest.TempPathFactory) -> DvcEngine:
    """Fresh git + DVC repositories (a copy of examples/ plus generated files) to run `dvc` in."""
    try:
        return DvcEngine(dvc_python, tmp_path_factory.mktemp("dvc"))
    except AssertionError as error:
        pytest.fail(f"the DVC engine is not usable: {error}", pytrace=False)


@pytest.fixture(scope="session")
def tools_python() -> str:
    """The test venv's python, for tools the tests call as modules (ruff, from the test extras)."""
    return sys.executable
