"""What the engine tests share: compiling through the real CLI, reading a pipeline's IR, and
driving the real engines in their engine venvs (fixtures: conftest.py): Airflow through
airflow_runner.py, Prefect through prefect_runner.py and the generated modules themselves.

Every DAG run gets a copy of the session's migrated database (so runs can go in parallel and never
see each other's state) and a fresh copy of examples/ as its working directory. Every Prefect
process gets a copy of the session's migrated PREFECT_HOME for its ephemeral local API.
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
PREFECT_RUNNER = Path(__file__).resolve().with_name("prefect_runner.py")

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
    """`dagshift compile SOURCE -t TARGET -o OUTDIR OPTIONS` via click (compiler.cli.main:main)."""
    from compiler.cli.main import main

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


class _Engine:
    """Scratch directories, fresh working directories and a thread pool for background runs."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self._counter = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(2, min(4, (os.cpu_count() or 2) + 1)))

    def scratch_dir(self, prefix: str) -> Path:
        with self._lock:
            self._counter += 1
            path = self.scratch / f"{prefix}-{self._counter}"
        path.mkdir(parents=True)
        return path

    def workdir(self) -> Path:
        """A fresh copy of examples/ to run tasks in (they use paths relative to it)."""
        path = self.scratch_dir("work") / "examples"
        shutil.copytree(EXAMPLES, path, ignore=lambda d, names: [n for n in names if n in _NOT_COPIED])
        return path

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class AirflowEngine(_Engine):
    """The real Airflow 3 of scripts/engines/airflow.txt, driven through airflow_runner.py."""

    def __init__(self, python: Path, home: Path, scratch: Path):
        super().__init__(scratch)
        self.python = python
        self.home = home  # migrated once; every run works on a copy of its database

    # -- environment

    def run_home(self) -> Path:
        """A private AIRFLOW_HOME: a copy of the session's migrated database."""
        home = self.scratch_dir("home")
        shutil.copy2(self.home / "airflow.db", home / "airflow.db")
        return home

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


def inspected_graphs(output: EngineOutput, expected: dict[str, tuple[set, set]], source: str) -> list[str]:
    """What differs between the DAGs Airflow imported (AirflowEngine.inspect) and the expected ones
    (dag id -> task ids, (upstream, downstream) edges), after checking Airflow imported exactly
    those DAGs without errors; `source` names where the expected graphs came from. An edge the DAG
    file leaves out because a path keeps it (kept_through_a_path) is no difference."""
    data = output.data
    assert "dags" in data, output.tail()
    assert data["import_errors"] == {}, data["import_errors"]
    assert sorted(data["dags"]) == sorted(expected)
    wrong = []
    for dag_id, (tasks_expected, edges) in expected.items():
        assert "inspect_error" not in data["dags"][dag_id], data["dags"][dag_id]["inspect_error"]
        tasks = data["dags"][dag_id]["tasks"]
        got = {(upstream, task_id) for task_id, facts in tasks.items() for upstream in facts["upstream"]}
        left_out = {(u, d) for u, d in edges - got if d in tasks and kept_through_a_path(tasks, u, d)}
        if set(tasks) != tasks_expected or got != edges - left_out:
            wrong.append(f"{dag_id}: Airflow {sorted(tasks)} {sorted(got)}\n  {source}: {sorted(tasks_expected)} "
                         f"{sorted(edges)}")
    return wrong


def kept_through_a_path(tasks: dict[str, Any], upstream: str, downstream: str) -> bool:
    """Airflow orders `downstream` after `upstream` through all_success tasks, and the rule of
    `downstream` reads the same outcome through them."""
    if tasks[downstream]["trigger_rule"] not in ("all_success", "none_failed", "all_done", "one_failed"):
        return False
    reached, pending = set(), [t for t, facts in tasks.items() if upstream in facts["upstream"]]
    while pending:
        current = pending.pop()
        if current in reached or current == downstream or tasks[current]["trigger_rule"] != "all_success":
            continue
        reached.add(current)
        pending += [t for t, facts in tasks.items() if current in facts["upstream"]]
    return any(w in tasks[downstream]["upstream"] for w in reached)


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


# ----------------------------------------------------------------------------- Prefect


class FlowRun:
    """One flow run of prefect_runner.py: its final state and every task run the API recorded."""

    def __init__(self, key: str, data: dict[str, Any], log: str, workdir: Path | None, cwd: Path | None):
        self.key = key
        self.data = data
        self.log = log
        self.workdir = workdir  # where the tasks ran (DAGSHIFT_WORKDIR)
        self.cwd = cwd  # where the flow was started

    @property
    def state(self) -> str | None:
        """COMPLETED, FAILED, ... (None when the call raised, or the runner broke)."""
        return (self.data.get("state") or {}).get("type")

    @property
    def message(self) -> str | None:
        return (self.data.get("state") or {}).get("message")

    @property
    def exception(self) -> dict[str, str] | None:
        return (self.data.get("state") or {}).get("exception")

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.data.get("tasks", [])

    def runs(self, task_id: str) -> list[dict[str, Any]]:
        return [run for run in self.tasks if run["task_id"] == task_id]

    def run(self, task_id: str) -> dict[str, Any]:
        found = self.runs(task_id)
        assert len(found) == 1, f"expected one task run of {task_id!r}, got {len(found)}\n{self.summary()}"
        return found[0]

    def ran(self) -> set[str]:
        return {run["task_id"] for run in self.tasks}

    def states(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for run in self.tasks:
            found.setdefault(str(run["task_id"]), []).append(f"{run['state']}/{run['state_name']}")
        return found

    def run_log(self) -> str:
        """This run's part of the engine log (prefect_runner.py marks where each run starts)."""
        marker = f"{RUN_MARKER}{self.key}\n"
        if marker not in self.log:
            return self.log
        return self.log.split(marker, 1)[1].split(RUN_MARKER, 1)[0]

    def summary(self) -> str:
        problems = {key: self.data[key] for key in ("raised", "run_error") if key in self.data}
        return (f"{self.key}: state {self.state!r} ({self.message!r}), exception {self.exception!r}, {problems}\n"
                f"tasks {self.states()}\n--- engine log of the run (tail) ---\n{tail(self.run_log(), 60)}")


RUN_MARKER = "==> dagshift run "  # prefect_runner.py prints it, then the run's key, before each run


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass
class PrefectReport:
    """What one prefect_runner.py process found: {"inspect": {...}, "runs": {...}}."""

    data: dict[str, Any]
    log: str  # the process's output, stdout and stderr interleaved (Prefect's logs)
    plan: dict[str, Any]

    def inspected(self, key: str) -> dict[str, Any]:
        facts = self.data["inspect"].get(key)
        assert facts is not None, f"no inspect result for {key!r}\n{tail(self.log)}"
        assert "inspect_error" not in facts, facts["inspect_error"]
        return facts

    def flow_run(self, key: str) -> FlowRun:
        data = self.data["runs"].get(key)
        assert data is not None, f"no run result for {key!r}\n{tail(self.log)}"
        item = next(item for item in self.plan["runs"] if item["key"] == key)
        return FlowRun(key, data, self.log, Path(item["workdir"]), Path(item.get("cwd") or item["workdir"]))


@dataclass
class ModuleRun:
    """`python <generated module> ARGS`: exit code and output (stdout and stderr interleaved)."""

    returncode: int
    output: str
    cwd: Path


class PrefectEngine(_Engine):
    """The real Prefect 3 of scripts/engines/prefect.txt. Generated modules run in its venv, each
    process with its own ephemeral local API (Prefect starts it on first use) on a private copy
    of one migrated PREFECT_HOME, so processes may run in parallel without sharing a database."""

    def __init__(self, python: Path, home: Path, scratch: Path):
        super().__init__(scratch)
        self.python = python
        self.home = home  # `prefect server database upgrade` ran here once

    def run_home(self) -> Path:
        home = self.scratch_dir("prefect-home")
        shutil.copytree(self.home, home, dirs_exist_ok=True)
        return home

    def _run(self, command: list[str], cwd: Path, timeout: int, what: str,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(command, cwd=cwd, env=env or prefect_env(self.run_home()), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired as error:
            out = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) else (error.stdout or "")
            raise AssertionError(f"{what}: no result after {timeout}s\n{tail(out)}") from None

    def runner(self, plan: dict[str, Any], timeout: int = RUN_TIMEOUT) -> PrefectReport:
        """prefect_runner.py on PLAN in one engine process; its report is a JSON file."""
        scratch = self.scratch_dir("runner")
        plan_file, report_file = scratch / "plan.json", scratch / "report.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        process = self._run([str(self.python), str(PREFECT_RUNNER), str(plan_file), str(report_file)],
                            cwd=scratch, timeout=timeout, what="prefect_runner.py")
        log = process.stdout
        try:
            data = json.loads(report_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise AssertionError(f"prefect_runner.py wrote no report (exit {process.returncode})\n{tail(log, 80)}") \
                from None
        if process.returncode != 0 or not data.get("done"):
            raise AssertionError(f"prefect_runner.py stopped early (exit {process.returncode})\n{tail(log, 80)}")
        return PrefectReport(data, log, plan)

    def run_module(self, module: Path, *args: str, cwd: Path, timeout: int = RUN_TIMEOUT) -> ModuleRun:
        """`python MODULE ARGS` in CWD, as a user runs a generated flow (no DAGSHIFT_WORKDIR)."""
        process = self._run([str(self.python), str(module), *args], cwd=cwd, timeout=timeout,
                            what=f"python {module.name} {' '.join(args)}")
        return ModuleRun(process.returncode, process.stdout, cwd)

    def submit(self, function, *args, **kwargs) -> Future:
        """Any of the above in the background: start every process a module needs, then read."""
        return self._pool.submit(function, *args, **kwargs)


def prefect_env(home: Path) -> dict[str, str]:
    """The environment of a Prefect process: its own PREFECT_HOME and nothing of the caller's
    Prefect settings (a PREFECT_API_URL would send the runs to a real server)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PREFECT", "AIRFLOW", "PYTHON", "VIRTUAL_ENV", "DAGSHIFT_WORKDIR"))}
    env.update({
        "PREFECT_HOME": str(home),
        # Telemetry writes to the database while the server starts: SQLite "database is locked".
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true",
        # Prefect waits 20 s by default for its ephemeral API to answer; on a busy machine the
        # server takes longer to start, and a server that missed the deadline is never stopped:
        # it keeps the process's output pipe open, so the run then hangs until RUN_TIMEOUT.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env
