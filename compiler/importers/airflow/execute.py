"""`dagshift import --execute`: an Airflow DAG file loaded by a real Airflow 3, for DAGs built
dynamically (loops, comprehensions, helper functions) that static analysis grades manual.

This runs the user's DAG file: it is opt-in. loader.py runs in the Airflow interpreter
(--airflow-python, else $DAGSHIFT_AIRFLOW_PYTHON, else `python3` / `python` on PATH), loads the file
with Airflow's DagBag and writes each DAG's arguments and tasks as JSON. That JSON is written back
as a flat, literal DAG file (one line per task, every value static) and read by the static
importer, so both modes carry and report exactly the same things; each loss is then moved to the
line of the real file where Airflow made the task (or the DAG).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostics, SourceLoc
from compiler.importers.base import Imported, Reporter

PYTHON_ENV = "DAGSHIFT_AIRFLOW_PYTHON"
LOADER = Path(__file__).with_name("loader.py")
TIMEOUT = 300  # seconds; Airflow itself stops one file's import after 30 by default
_HELP = (f"point dagshift at an interpreter with Airflow 3 installed: --airflow-python PATH or ${PYTHON_ENV} "
         "(e.g. your Airflow virtualenv's bin/python)")
# TaskFlow operators as the classic operator the static importer reads the same way.
_DECORATED = {
    "_PythonDecoratedOperator": "PythonOperator",
    "_BranchPythonDecoratedOperator": "BranchPythonOperator",
    "_ShortCircuitDecoratedOperator": "ShortCircuitOperator",
    "_PythonVirtualenvDecoratedOperator": "PythonVirtualenvOperator",
    "_PythonExternalDecoratedOperator": "ExternalPythonOperator",
    "_BashDecoratedOperator": "BashOperator",
    "_DockerDecoratedOperator": "DockerOperator",
    "_KubernetesDecoratedOperator": "KubernetesPodOperator",
}


class ExecuteError(Exception):
    """The file could not be loaded in Airflow (message for an E601)."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.help = help


def airflow_python(option: str | None) -> str:
    """The interpreter to load DAG files with: the option, the environment, or python on PATH."""
    chosen = option or os.environ.get(PYTHON_ENV)
    if chosen:
        return chosen
    return shutil.which("python3") or shutil.which("python") or "python3"


def is_airflow_file(path: Path, source_format: str | None) -> bool:
    """Whether --execute applies to the file: --from airflow, or an Airflow file by detection."""
    if source_format is not None:
        return source_format == "airflow"
    from .importer import IMPORTER

    try:
        return IMPORTER.detect(path, path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        return False  # import_file reports it


def import_executed(path: Path, python: str, display: str | None = None) -> list[Imported]:
    """Every DAG of the file as Airflow loads it; E601 when Airflow cannot load it."""
    display = display or str(path)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        loaded = run_loader(path, python)
        dags = loaded_dags(loaded, path)
    except ExecuteError as error:
        reporter = Reporter(display, text)
        reporter.error(str(error), code="E601", help=error.help)
        return [Imported(display, None, reporter.diagnostics)]
    from compiler.importers import _check

    rendered = [render_dag(dag) for dag in dags]
    results = [read_rendered(item, path, text, display, len(rendered) > 1) for item in rendered]
    for result in results:
        _check(result, text)  # validated like every import (E603 would be a dagshift bug)
    return results


# ----------------------------------------------------------------------------- running Airflow


def run_loader(path: Path, python: str) -> dict[str, Any]:
    """Run loader.py in the Airflow interpreter; its JSON result."""
    with tempfile.TemporaryDirectory(prefix="dagshift-airflow-") as scratch:
        # A copy of the loader, alone in its folder: run from compiler/importers, `import airflow`
        # would find dagshift's own airflow.py first (a script's folder leads sys.path).
        loader = Path(scratch) / "loader.py"
        shutil.copy2(LOADER, loader)
        out = Path(scratch) / "result.json"
        command = [python, str(loader), str(path.resolve()), str(out)]
        try:
            process = subprocess.run(command, env=_loader_env(Path(scratch)), capture_output=True, text=True,
                                     timeout=TIMEOUT, check=False)  # the result file says what happened
        except FileNotFoundError:
            raise ExecuteError(f"--execute: no Python interpreter at '{python}'", _HELP) from None
        except subprocess.TimeoutExpired:
            raise ExecuteError(f"--execute: Airflow did not load the file in {TIMEOUT}s") from None
        if not out.is_file():
            tail = (process.stderr or process.stdout).strip().splitlines()[-5:]
            raise ExecuteError(f"--execute: '{python}' did not run the Airflow loader (exit {process.returncode}): "
                               + " / ".join(tail), _HELP)
        return json.loads(out.read_text())


def _loader_env(scratch: Path) -> dict[str, str]:
    """The user's environment, so their Airflow configuration applies; a scratch AIRFLOW_HOME when
    none is set (loading a file must not create ~/airflow), examples off, and import errors as one
    message rather than a traceback."""
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(scratch / "airflow-home"))
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env["AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACKS"] = "False"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def loaded_dags(loaded: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """The DAGs of the loader's result; ExecuteError for what stops the import."""
    if "no_airflow" in loaded:
        raise ExecuteError(f"--execute: this interpreter has no Airflow 3 ({loaded['no_airflow']})", _HELP)
    if "failed" in loaded:
        raise ExecuteError(f"--execute: Airflow failed while loading the file: {loaded['failed']}")
    errors = loaded.get("import_errors") or {}
    if errors:
        message = "; ".join(str(m).strip() for m in errors.values())
        raise ExecuteError(f"Airflow {loaded.get('airflow', '')} cannot import the file: {message}")
    if not loaded.get("dags"):
        raise ExecuteError(f"Airflow {loaded.get('airflow', '')} loads the file but finds no DAG in it "
                           "(a @dag function must be called)")
    return loaded["dags"]


# ----------------------------------------------------------------------------- the flat DAG file


@dataclass
class Rendered:
    """A loaded DAG written as a literal DAG file, with the real line of each of its lines."""

    dag_id: str
    lines: list[str] = field(default_factory=list)
    origin: list[int | None] = field(default_factory=list)  # rendered line (0-based) -> real line
    notes: list[tuple[str, int | None]] = field(default_factory=list)  # losses found while rendering

    def add(self, text: str, line: int | None) -> None:
        self.lines.append(text)
        self.origin.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render_dag(dag: dict[str, Any]) -> Rendered:
    out = Rendered(dag["dag_id"])
    dag_line = dag.get("line")
    out.add("from datetime import datetime, timedelta", None)
    functions = _local_functions(dag)
    for name in sorted(functions):
        out.add(f"def {name}(*args, **kwargs): pass", dag_line)  # so the importer knows it is in the file
    arguments = _dag_arguments(dag, out)
    out.add(f"with DAG({dag['dag_id']!r}, {arguments}) as dag:", dag_line)
    names = {task["task_id"]: f"t{index}" for index, task in enumerate(dag["tasks"])}
    for task in dag["tasks"]:
        out.add(f"    {names[task['task_id']]} = {_task_call(task, out)}", task.get("line") or dag_line)
    for task in dag["tasks"]:
        for upstream in task["upstream"]:
            out.add(f"    {names[upstream]} >> {names[task['task_id']]}", task.get("line") or dag_line)
    if not dag["tasks"]:
        out.add("    pass", dag_line)
    return out


def _local_functions(dag: dict[str, Any]) -> set[str]:
    """Functions defined at the top of the DAG file that tasks or callbacks refer to."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict) and "__callable__" in value:
            module, _, qualname = value["__callable__"].partition(":")
            if _is_dag_module(module) and qualname.isidentifier():
                found.add(qualname)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(dag)
    return found


def _is_dag_module(module: str) -> bool:
    """Airflow imports a DAG file as `unusual_prefix_<hash>_<stem>`."""
    return module.startswith("unusual_prefix_")


def _dag_arguments(dag: dict[str, Any], out: Rendered) -> str:
    arguments = dict(dag.get("arguments") or {})
    # Airflow fills these in with its own defaults; only a value a user chose says something.
    for key, default in (("max_active_runs", 16), ("max_active_tasks", 16), ("render_template_as_native_obj", False),
                         ("fail_fast", False), ("dag_display_name", dag["dag_id"]), ("catchup", False)):
        if arguments.get(key) == default:
            arguments.pop(key)
    if dag.get("params"):
        arguments["params"] = dag["params"]
    if dag.get("default_args"):
        arguments["default_args"] = dag["default_args"]
    return ", ".join(f"{key}={_literal(value, out)}" for key, value in arguments.items())


def _task_call(task: dict[str, Any], out: Rendered) -> str:
    cls = _DECORATED.get(task["operator"], task["operator"])
    kwargs = dict(task.get("kwargs") or {})
    if cls == "BashOperator" and task["operator"] == "_BashDecoratedOperator":
        kwargs.pop("bash_command", None)  # made by the function when the task runs
    for name, value in list((kwargs.get("op_kwargs") or {}).items()):
        if _has_xcom(value):
            message = (f"{task['task_id']}: argument '{name}' is another task's return value (XCom); the edge is "
                       "kept, the value is not passed")
            out.notes.append((message, task.get("line")))
            del kwargs["op_kwargs"][name]
    if not kwargs.get("op_kwargs"):
        kwargs.pop("op_kwargs", None)
    given = ", ".join(f"{key}={_literal(value, out)}" for key, value in kwargs.items())
    task_id = repr(task["task_id"])
    if task.get("mapped"):
        expand = ", ".join(f"{key}={_literal(value, out)}" for key, value in (task.get("expand") or {}).items())
        return f"{cls}.partial(task_id={task_id}{', ' if given else ''}{given}).expand({expand})"
    return f"{cls}(task_id={task_id}{', ' if given else ''}{given})"


def _has_xcom(value: Any) -> bool:
    if isinstance(value, dict):
        return "__xcom__" in value or any(_has_xcom(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_xcom(v) for v in value)
    return False


def _literal(value: Any, out: Rendered) -> str:
    """A loader value as Python source the static importer reads (tags back as calls)."""
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v, out) for v in value) + "]"
    if not isinstance(value, dict):
        return repr(value)
    tagged = _tagged(value, out)
    if tagged is not None:
        return tagged
    return "{" + ", ".join(f"{k!r}: {_literal(v, out)}" for k, v in value.items()) + "}"


def _tagged(value: dict[str, Any], out: Rendered) -> str | None:
    if "__timedelta__" in value:
        return f"timedelta(seconds={value['__timedelta__']!r})"
    if "__datetime__" in value:
        return _datetime(value)
    if "__callable__" in value:
        return _callable(value["__callable__"])
    if "__param__" in value:
        return _param(value["__param__"], out)
    if "__asset__" in value:
        asset = value["__asset__"]
        name = f", name={asset['name']!r}" if asset.get("name") and asset["name"] != asset.get("uri") else ""
        return f"Asset(uri={asset.get('uri')!r}{name})"
    if "__timetable__" in value:
        return _timetable(value)
    if "__xcom__" in value:
        return f"XComArg({value['__xcom__']!r})"
    if "__k8s__" in value:
        return f"{value['__k8s__']}(**{_literal(value['value'], out)})"
    if "__object__" in value or "__assets__" in value:
        # Not a literal: the static importer reports it where it is used, as computed at run time.
        return f"RUNTIME_OBJECT[{str(value.get('__object__') or value.get('__assets__'))!r}]"
    return None


def _datetime(value: dict[str, Any]) -> str:
    from datetime import datetime

    moment = datetime.fromisoformat(value["__datetime__"])
    parts = [moment.year, moment.month, moment.day]
    if (moment.hour, moment.minute, moment.second) != (0, 0, 0):
        parts += [moment.hour, moment.minute, moment.second]
    zone = value.get("tz")
    tz = f", tz={zone!r}" if zone and zone not in ("UTC", "+00:00") else ""
    return f"datetime({', '.join(map(str, parts))}{tz})"


def _callable(reference: str) -> str:
    module, _, qualname = reference.partition(":")
    if not qualname.replace(".", "_").isidentifier():  # a lambda or a function made in a function
        return f"RUNTIME_OBJECT[{reference!r}]"
    if _is_dag_module(module):
        return qualname
    return f"{module}.{qualname}" if module else qualname


def _param(param: dict[str, Any], out: Rendered) -> str:
    schema = dict(param.get("schema") or {})
    if param.get("description") and "description" not in schema:
        schema["description"] = param["description"]
    keys = ", ".join(f"{k}={_literal(v, out)}" for k, v in schema.items() if str(k).isidentifier())
    return f"Param({_literal(param.get('default'), out)}{', ' if keys else ''}{keys})"


def _timetable(value: dict[str, Any]) -> str:
    cls = value["__timetable__"]
    if "expression" in value:
        zone = value.get("timezone")
        tz = f", timezone={zone!r}" if zone and zone != "UTC" else ""
        return f"{cls}({value['expression']!r}{tz})"
    if "delta" in value:
        return f"timedelta(seconds={value['delta']!r})"
    return f"{cls}()"


# ----------------------------------------------------------------------------- reading it back


def read_rendered(rendered: Rendered, path: Path, text: str, display: str, several: bool) -> Imported:
    """The flat file read by the static importer; its diagnostics moved to the real file."""
    from .importer import AirflowImporter

    results = AirflowImporter().read(path, rendered.text, display)
    result = results[0]
    result.origin = f"dag {rendered.dag_id}" if several else ""
    result.diagnostics = _moved(result.diagnostics, rendered, display, text)
    moved = {part: _real_line(rendered, line) for part, line in result.places.items()}
    result.places = {part: line for part, line in moved.items() if line}
    reporter = Reporter(display, text)
    for message, line in rendered.notes:
        reporter.loss(message, line)
    result.diagnostics.extend(reporter.diagnostics.items)
    return result


def _real_line(rendered: Rendered, line: int) -> int | None:
    """The line of the real file a line of the rendered one comes from."""
    return rendered.origin[line - 1] if 0 < line <= len(rendered.origin) else None


def _moved(diagnostics: Diagnostics, rendered: Rendered, display: str, text: str) -> Diagnostics:
    lines = text.splitlines()
    moved = Diagnostics()
    for diagnostic in diagnostics.items:
        line = _real_line(rendered, diagnostic.loc.line) if diagnostic.loc is not None else None
        loc = SourceLoc(display, line, 1) if line else None
        source = lines[line - 1] if line and line <= len(lines) else None
        moved.add(replace(diagnostic, loc=loc, source_line=source, span=1))
    return moved


__all__ = ["PYTHON_ENV", "ExecuteError", "airflow_python", "import_executed"]
