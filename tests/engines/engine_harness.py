"""What the engine tests share: compiling through the real CLI, reading a pipeline's IR, and
driving the real Airflow in its engine venv through airflow_runner.py (fixtures: conftest.py).

Every DAG run gets a copy of the session's migrated database (so runs can go in parallel and never
see each other's state) and a fresh copy of examples/ as its working directory.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
RUNNER = Path(__file__).resolve().with_name("airflow_runner.py")

# What a fresh working directory leaves out of examples/: the invalid corpus (not pipelines to
# run) and everything a run writes (examples/README.md: data/, models/, metrics/, deployed/ and
# state/, all git-ignored), so a run never starts from an earlier run's files.
_NOT_COPIED = {"invalid", "data", "models", "metrics", "deployed", "state", "__pycache__", ".pytest_cache"}
RUN_TIMEOUT = 300  # seconds for one engine subprocess; a normal DAG run takes about 10


# ----------------------------------------------------------------------------- compiling


@dataclass
class Compiled:
    """One `dagshift compile` through the real CLI entry point."""

    exit_code: int
    output: str  # stdout + stderr: what a user sees
    files: list[Path]
    exception: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and bool(self.files)


def compile_pipeline(source: Path, outdir: Path, *options: str, target: str = "airflow") -> Compiled:
    """`dagshift compile SOURCE -t TARGET -o OUTDIR OPTIONS` via click (compiler.cli:main)."""
    from compiler.cli import main

    before = set(outdir.rglob("*.py")) if outdir.exists() else set()
    result = CliRunner().invoke(main, ["compile", str(source), "-t", target, "-o", str(outdir), "-q", *options],
                                catch_exceptions=True)
    files = sorted(set(outdir.rglob("*.py")) - before) if outdir.exists() else []
    exception = None if isinstance(result.exception, SystemExit) else result.exception
    # click >= 8.2: `output` is stdout and stderr interleaved, as a terminal shows them
    return Compiled(result.exit_code, result.output, files, exception)


def load_pipeline(source: Path):
    """The validated pipeline of a file with `defaults` folded in: what every backend sees."""
    from compiler.api import check_file
    from compiler.compile import fold_defaults

    loaded = check_file(source)
    assert loaded.pipeline is not None and not loaded.diagnostics.has_errors, f"{source} does not validate"
    return fold_defaults(loaded.pipeline)


# ----------------------------------------------------------------------------- running the engine


@dataclass
class EngineOutput:
    """The JSON a runner command printed last, with the process output for failure messages."""

    data: dict[str, Any]
    stdout: str
    stderr: str
    workdir: Path | None = None

    def tail(self, lines: int = 60) -> str:
        text = (self.stdout + "\n" + self.stderr).strip().splitlines()
        return "\n".join(text[-lines:])


class DagRun(EngineOutput):
    """The outcome of one dag.test(): run state and task instances (state, map index, try, XCom)."""

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.data.get("tasks", [])

    @property
    def state(self) -> str | None:
        return self.data.get("state")

    @property
    def error(self) -> dict[str, str] | None:
        return self.data.get("error")

    def instances(self, task_id: str) -> list[dict[str, Any]]:
        return [ti for ti in self.tasks if ti["task_id"] == task_id]

    def ti(self, task_id: str) -> dict[str, Any]:
        found = self.instances(task_id)
        assert len(found) == 1, f"expected one instance of {task_id!r}, got {found}\n{self.summary()}"
        return found[0]

    def states(self) -> dict[str, str | None]:
        """task id -> state, for unmapped tasks; mapped ones as `id[i]`."""
        return {
            ti["task_id"] if ti["map_index"] < 0 else f"{ti['task_id']}[{ti['map_index']}]": ti["state"]
            for ti in self.tasks
        }

    def summary(self) -> str:
        return f"run state {self.state!r}, error {self.error!r}, tasks {self.states()}\n--- log tail ---\n{self.tail()}"


class AirflowEngine:
    """The real Airflow 3 of scripts/engines/airflow.txt, driven through airflow_runner.py."""

    def __init__(self, python: Path, home: Path, scratch: Path):
        self.python = python
        self.home = home  # migrated once; every run works on a copy of its database
        self.scratch = scratch
        self._counter = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(2, min(4, (os.cpu_count() or 2) + 1)))

    # -- environment

    def scratch_dir(self, prefix: str) -> Path:
        with self._lock:
            self._counter += 1
            path = self.scratch / f"{prefix}-{self._counter}"
        path.mkdir(parents=True)
        return path

    def run_home(self) -> Path:
        """A private AIRFLOW_HOME: a copy of the session's migrated database."""
        home = self.scratch_dir("home")
        shutil.copy2(self.home / "airflow.db", home / "airflow.db")
        return home

    def workdir(self) -> Path:
        """A fresh copy of examples/ to run tasks in (they use paths relative to it)."""
        path = self.scratch_dir("work") / "examples"
        shutil.copytree(EXAMPLES, path, ignore=lambda d, names: [n for n in names if n in _NOT_COPIED])
        return path

    # -- the runner

    def runner(self, *args: str, dags_folder: Path, cwd: Path | None = None, home: Path | None = None,
               timeout: int = RUN_TIMEOUT) -> EngineOutput:
        """Run airflow_runner.py ARGS in the engine venv; its last stdout line is the result."""
        home = home or self.run_home()
        cwd = cwd or self.scratch_dir("cwd")
        command = [str(self.python), str(RUNNER), *args]
        try:
            process = subprocess.run(command, cwd=cwd, env=airflow_env(home, dags_folder), capture_output=True,
                                     text=True, timeout=timeout)
        except subprocess.TimeoutExpired as error:
            out = (error.stdout or b"").decode(errors="replace") if isinstance(error.stdout, bytes) else error.stdout
            raise AssertionError(f"{' '.join(args)}: no result after {timeout}s\n{(out or '')[-4000:]}") from None
        lines = process.stdout.strip().splitlines()
        try:
            data = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            raise AssertionError(
                f"airflow_runner.py {' '.join(args)} printed no JSON result (exit {process.returncode})\n"
                f"--- stdout ---\n{process.stdout[-4000:]}\n--- stderr ---\n{process.stderr[-6000:]}"
            ) from None
        return EngineOutput(data, process.stdout, process.stderr, cwd)

    def inspect(self, dags_folder: Path) -> EngineOutput:
        """Import every file of the folder (BundleDagBag) and describe each DAG; one subprocess."""
        return self.runner("inspect", str(dags_folder), dags_folder=dags_folder)

    def dag_test(self, dag_file: Path, dag_id: str, conf: dict[str, Any] | None = None) -> DagRun:
        """dag.test() of one generated file, in a fresh copy of examples/, on a private database."""
        workdir = self.workdir()
        args = ["test", str(dag_file), dag_id] + ([json.dumps(conf)] if conf else [])
        output = self.runner(*args, dags_folder=dag_file.parent, cwd=workdir)
        return DagRun(output.data, output.stdout, output.stderr, workdir)

    def submit(self, dag_file: Path, dag_id: str, conf: dict[str, Any] | None = None) -> Future[DagRun]:
        """dag_test in the background: submit every run a module needs first, then read the results."""
        return self._pool.submit(self.dag_test, dag_file, dag_id, conf)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def airflow_env(home: Path, dags_folder: Path) -> dict[str, str]:
    """The environment of an engine subprocess: only what Airflow needs, never the test venv's."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AIRFLOW", "PYTHON", "VIRTUAL_ENV", "DAGSHIFT_WORKDIR"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        # The generated airflow.cfg would pin the first home's paths: name the database explicitly.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),  # dag.test() needs the file inside it
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def engines_script():
    """scripts/engines.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("dagshift_engines_script", ROOT / "scripts" / "engines.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
