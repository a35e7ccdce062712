"""Airflow DAG files, read by static analysis of the Python source (the file is never run).

The walk over the module (scan) finds each DAG, its tasks and edges; tasks maps
each operator; this module maps the DAG's own arguments and puts the pipeline together. dagshift's
own output (compiler/backends/airflow/backend.py) is recognized by its docstring (generated): its
TaskFlow functions, `@task.branch` conditions (`<task>__branch`), fan-out helpers (`<task>__items`),
fallback guards (`<task>__succeeded`) and alert callbacks read back as the pipeline they came from.

What Airflow output does not carry, and why (AirflowImporter.carried):
- artifact names: the backend writes an artifact's path into the commands and arguments and its
  producer -> consumer link as an edge. So the texts that held `${{ artifacts.X }}` hold the
  path, the edge comes back as `after`, and data triggers (which name an artifact) are lost.
- estimate: the optimizer turns it into `priority` (priority_weight), which is carried.
- output descriptions; retry settings of a task that does not retry.
- whether start_date was a date or midnight of that day (a DAG's start_date is a datetime).
- an ordering edge another path already keeps (backends/airflow/edges.py, reduce_edges: the DAG file leaves it out).
"""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path
from typing import Any

from compiler.backends.airflow.conventions import BRANCH, HELPER_SEPARATOR, ITEMS, SUCCEEDED, WORKDIR
from compiler.importers import Importer
from compiler.importers.base import Imported, Reporter
from compiler.importers.limits import chain_links, nesting_problem
from compiler.importers.normalize import artifacts_as_paths, order_edges_as_after, without_idle_retry_settings
from compiler.language.ir import Pipeline
from compiler.language.placeholders import escaped

from .generated import GeneratedFile, is_generated, pod_argv
from .scan import Found, FoundDag, Scanner
from .tasks import (
    Context,
    bash,
    common,
    container,
    param,
    python_callable,
    static,
    taskflow,
    templated,
)
from .values import CallValue, Evaluator, NotStatic, Seconds, When, plain_data
from .xcom import RETURN_VALUE, Results, branch_condition, output_ref, read_results, takes_arguments

EXECUTE_HINT = ("port this DAG by hand, or run `dagshift import --execute` (it runs the file: trust it), which "
                "loads it in a real Airflow 3 to read DAGs built dynamically")
_CRON_PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight")
_POLICY = ("retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay", "execution_timeout", "pool",
           "trigger_rule", "on_failure_callback", "on_retry_callback", "on_success_callback", "executor_config",
           "weight_rule")
# DAG arguments dagshift's output always writes, and those that change nothing a pipeline says.
_DAG_IGNORED = {"dag_id", "user_defined_filters", "catchup", "start_date", "schedule", "schedule_interval",
                "timetable", "params", "tags", "description", "default_args", "max_active_tasks", "concurrency",
                "max_active_runs", "dagrun_timeout", "on_failure_callback", "on_success_callback", "doc_md"}
_DAG_CALLBACKS = ("on_failure_callback", "on_success_callback")
_SCHEDULE_ARGUMENTS = ("schedule", "schedule_interval", "timetable")
# The DAG arguments each pipeline setting is read from (import_file reports a setting that does
# not validate at the first of them the DAG has).
_DAG_ARGUMENTS = {("description",): ("description", "doc_md"), ("owner",): ("default_args",),
                  ("schedule",): _SCHEDULE_ARGUMENTS, ("schedule", "catchup"): ("catchup",),
                  ("schedule", "start_date"): ("start_date", "default_args"), ("triggers",): _SCHEDULE_ARGUMENTS,
                  ("tags",): ("tags",), ("max_active_tasks",): ("max_active_tasks", "concurrency"),
                  ("max_active_runs",): ("max_active_runs",), ("timeout",): ("dagrun_timeout",),
                  ("alerts",): _DAG_CALLBACKS}


class AirflowImporter(Importer):
    name = "airflow"
    title = "Airflow"
    not_carried = (
        "triggers",  # a data trigger names an artifact (see carried)
        "tasks.*.estimate",  # only its effect, priority (priority_weight), is in the DAG
        "tasks.*.outputs.*.description",  # the code keeps an output's name, type and path only
        "tasks.*.cache",  # Airflow has no result cache (an enabled one is left out when compiling, with a warning)
    )

    def carried(self, pipeline: Pipeline) -> dict[str, Any]:
        """Also as the DAG holds them: the backend writes an artifact's path into the texts and
        its producer -> consumer link as a plain edge, so artifact names are gone, `${{ artifacts.X }}`
        reads as the path, and every edge no reference of the task makes is an `after`; a task with
        0 retries has no retry settings (they would do nothing)."""
        data = artifacts_as_paths(super().carried(pipeline), pipeline.artifacts)
        start = data.get("schedule", {}).get("start_date")
        if isinstance(start, str) and start.endswith("T00:00:00"):  # a date is that day at midnight
            data["schedule"]["start_date"] = start[:-len("T00:00:00")]
        return _without_redundant_after(without_idle_retry_settings(order_edges_as_after(data, pipeline)), pipeline)

    def detect(self, path: Path, text: str) -> bool:
        return path.suffix == ".py" and "airflow" in text and re.search(r"\bDAG\b|@dag\b", text) is not None

    def read(self, path: Path, text: str, display: str) -> list[Imported]:
        reporter = Reporter(display, text)
        try:
            module = ast.parse(text, filename=display)
        except SyntaxError as exc:
            reporter.error(f"not valid Python: {exc.msg}", exc.lineno, exc.offset, code="E601")
            return [Imported(display, None, reporter.diagnostics)]
        module = chain_links(module)  # a chain of 2,000 tasks is 2,000 links, not one expression that deep
        too_deep = nesting_problem(module)
        if too_deep is not None:
            reporter.error(f"cannot read the file: {too_deep[0]}", too_deep[1], code="E601")
            return [Imported(display, None, reporter.diagnostics)]
        dags = Scanner(module).scan()
        if not dags:
            reporter.error("no DAG found (no `with DAG(...)`, `DAG(...)` or `@dag` function)", code="E601",
                           help=EXECUTE_HINT)
            return [Imported(display, None, reporter.diagnostics)]
        reading = _File(module, path, text, display)
        return [reading.dag(dag, len(dags) > 1) for dag in dags]


IMPORTER = AirflowImporter()


class _File:
    """One DAG file: its module-level constants and what dagshift's own output defines."""

    def __init__(self, module: ast.Module, path: Path, text: str, display: str):
        self.module, self.text, self.display = module, text, display
        self.module_name = path.stem
        self.constants: dict[str, ast.expr] = {}
        self.functions: dict[str, ast.FunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        for node in module.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.constants[node.targets[0].id] = node.value
            elif isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
        self.generated = is_generated(module)
        self.evaluator = Evaluator({k: v for k, v in self.constants.items() if k != WORKDIR})

    def dag(self, found: FoundDag, several: bool) -> Imported:
        reporter = Reporter(self.display, self.text)
        origin = f"dag {found.dag_id}" if several else ""
        for message, line in found.problems:
            reporter.error(f"DAG '{found.dag_id}': {message}", line, help=EXECUTE_HINT)
        if found.problems:
            return Imported(self.display, None, reporter.diagnostics, origin)
        for message, line in found.losses:
            reporter.loss(message, line)
        data = _DagReader(self, found, reporter).read()
        return Imported(self.display, data, reporter.diagnostics, origin, places=reporter.places)


class _DagReader:
    def __init__(self, file: _File, found: FoundDag, reporter: Reporter):
        self.file, self.found, self.reporter = file, found, reporter
        self.gen = GeneratedFile(file.functions, file.classes, found) if file.generated else None
        self.ctx = Context(file.evaluator, file.module_name, file.generated, self._loss, file.functions,
                           outputs={t: next(iter(o)) for t, o in self.gen.outputs.items()} if self.gen else {},
                           alerts=self.gen.alert if self.gen else None)
        self.kwargs = found.kwargs
        self.data: dict[str, Any] = {"name": found.dag_id}
        self.default_args: dict[str, ast.expr] = {}
        self.bash_env: ast.expr | None = None  # default_args env: BashOperators take it
        self.dropped: set[str] = set()  # dagshift helper tasks, read into the tasks they serve
        # Return values passed between hand-written TaskFlow tasks (dagshift's output names its own).
        self.results = Results() if file.generated else read_results(found)

    def _place(self, path: tuple, node: Any) -> None:
        self.reporter.place(path, getattr(node, "lineno", None))

    def _loss(self, message: str, node: Any, approximate: bool = False) -> None:
        line = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        self.reporter.loss(message, line, col + 1 if col is not None else None, approximate=approximate)

    # ------------------------------------------------------------------ the pipeline

    def read(self) -> dict[str, Any] | None:
        self._name()
        self._description()
        self._default_args()
        self._schedule()
        self._params()
        self._dag_settings()
        self._workdir()
        tasks = self._tasks()
        if not tasks:
            self.reporter.error(f"DAG '{self.found.dag_id}' has no tasks static analysis can find", 
                                getattr(self.found.node, "lineno", None), code="E601", help=EXECUTE_HINT)
            return None
        self.data["tasks"] = tasks
        self._edges(tasks)
        self._artifacts_for_assets(tasks)
        self._place_dag_settings()
        return self.data

    def _place_dag_settings(self) -> None:
        """The DAG's own settings were read from its arguments (tasks, params and artifacts are
        placed one by one, where each is read)."""
        self._place(("name",), self.found.node)
        self._place(("workdir",), self.file.constants.get(WORKDIR))
        for path, names in _DAG_ARGUMENTS.items():
            arguments = [self.kwargs[name] for name in names if name in self.kwargs]
            if path[0] in self.data and arguments:
                self._place(path, arguments[0])

    def _name(self) -> None:
        from compiler.language.naming import id_problem, suggest_id

        if id_problem(self.found.dag_id):
            suggested = suggest_id(self.found.dag_id)
            self._loss(f"DAG id '{self.found.dag_id}' is not a portable pipeline name; imported as '{suggested}'",
                       self.found.node, approximate=True)
            self.data["name"] = suggested

    def _description(self) -> None:
        for key in ("description", "doc_md"):
            if key in self.kwargs:
                value = static(self.ctx, self.kwargs[key], key)
                if isinstance(value, str) and "description" not in self.data:
                    self.data["description"] = value
                elif isinstance(value, str):
                    self._loss("doc_md is not carried over (the pipeline keeps `description`)", self.kwargs[key])

    def _default_args(self) -> None:
        node = self.kwargs.get("default_args")
        if node is None:
            return
        if isinstance(node, ast.Name) and node.id in self.file.constants:
            node = self.file.constants[node.id]
        if not isinstance(node, ast.Dict) or any(k is None for k in node.keys):
            self._loss("default_args cannot be read statically; left out", node)
            return
        for key_node, value in zip(node.keys, node.values):
            key = key_node.value if isinstance(key_node, ast.Constant) else None
            if key == "owner":
                owner = static(self.ctx, value, "owner")
                if isinstance(owner, str) and owner != "airflow":
                    self.data["owner"] = owner
            elif key in _POLICY:
                self.default_args[key] = value
            elif key == "env":
                self.bash_env = value
            elif key in ("cwd", "skip_on_exit_code", "do_xcom_push", "append_env") and self.file.generated:
                continue  # how dagshift's output runs commands (docs/backends/airflow.md)
            elif key in ("start_date", "end_date", "email", "email_on_failure", "email_on_retry", "depends_on_past",
                         "queue", "sla", "priority_weight", "weight_rule"):
                if key == "start_date":
                    self.default_args[key] = value
                else:
                    self._loss(f"default_args '{key}' has no dagshift equal; it is left out", value)
            else:
                self._loss(f"default_args '{key}' is not carried over", value)

    # ------------------------------------------------------------------ schedule

    def _schedule(self) -> None:
        node = None
        for key in ("schedule", "schedule_interval", "timetable"):
            if key in self.kwargs:
                node = self.kwargs[key]
        start = self.kwargs.get("start_date") or self.default_args.get("start_date")
        start_value = static(self.ctx, start, "start_date") if start is not None else None
        catchup = self._catchup()
        if node is None:
            # Airflow 3's default schedule is None (Airflow 2's was a day): only run by hand.
            return
        value = self._static_or_loss(node, "schedule")
        cron, timezone = self._schedule_value(value, node)
        if cron is None:
            self._start_without_cron(start)
            return
        schedule: dict[str, Any] = {"cron": cron}
        when = start_value if isinstance(start_value, When) else None
        timezone = timezone or (when.timezone if when else None)
        if timezone and timezone != "UTC":
            schedule["timezone"] = timezone
        if when is not None:
            schedule["start_date"] = when.moment.isoformat()
        if catchup:
            schedule["catchup"] = True
        self.data["schedule"] = schedule if len(schedule) > 1 else cron

    def _start_without_cron(self, start: ast.expr | None) -> None:
        """An asset or @continuous DAG does not start before its start_date; a dagshift trigger
        has no start date (only a cron schedule does), so the date is a loss."""
        if start is not None and self.data.get("triggers"):
            self._loss("start_date of a DAG run by assets or @continuous is not carried over (a dagshift "
                       "start_date belongs to a cron schedule)", start)

    def _catchup(self) -> bool:
        if "catchup" not in self.kwargs:
            return False  # Airflow 3's default (catchup_by_default is False)
        return static(self.ctx, self.kwargs["catchup"], "catchup") is True

    def _static_or_loss(self, node: ast.AST, what: str) -> Any:
        try:
            return self.file.evaluator.value(node)
        except NotStatic:
            self._loss(f"{what} `{ast.unparse(node)[:60]}` is computed when the file runs; left out", node)
            return None

    def _schedule_value(self, value: Any, node: ast.AST) -> tuple[str | None, str | None]:
        """(cron, time zone) of a schedule; triggers are added to self.data."""
        if value is None:
            return None, None
        if isinstance(value, str):
            return self._schedule_string(value, node), None
        if isinstance(value, Seconds):
            return self._every(value.value, node), None
        if isinstance(value, CallValue):
            return self._timetable(value, node)
        if isinstance(value, list) and all(isinstance(v, CallValue) for v in value):
            self._assets(value, node)
            return None, None
        self._loss(f"schedule `{ast.unparse(node)[:60]}` is not carried over (run by hand)", node)
        return None, None

    def _schedule_string(self, value: str, node: ast.AST) -> str | None:
        if value == "@continuous":
            self.data.setdefault("triggers", []).append({"type": "continuous"})
            return None
        if value == "@once":
            self._loss("schedule '@once' has no dagshift equal; imported as run by hand only", node,
                       approximate=True)
            return None
        if value.startswith("@") and value not in _CRON_PRESETS:
            self._loss(f"schedule preset '{value}' is not known; left out", node)
            return None
        from compiler.language import values

        try:
            return values.parse_cron(value)
        except ValueError as exc:
            self._loss(f"schedule '{value}' is not a 5-field cron expression ({exc}); left out", node)
            return None

    def _every(self, seconds: float, node: ast.AST) -> str | None:
        """A timedelta schedule as the nearest cron: exact only for whole minutes, hours or days."""
        whole = int(seconds)
        for unit, cron in ((86400, "0 0 */{n} * *"), (3600, "0 */{n} * * *"), (60, "*/{n} * * * *")):
            if whole % unit == 0:
                count = whole // unit
                text = cron.format(n=count).replace("*/1 ", "* ") if count > 1 else cron.replace("*/{n}", "*")
                self._loss(f"schedule every {whole}s (a timedelta, counted from start_date) is imported as the "
                           f"cron '{text}' (on the clock)", node, approximate=True)
                return text
        self._loss(f"schedule every {seconds}s has no cron equal; left out", node)
        return None

    def _timetable(self, value: CallValue, node: ast.AST) -> tuple[str | None, str | None]:
        name = value.func.rsplit(".", 1)[-1]
        if name in ("CronTriggerTimetable", "CronDataIntervalTimetable") and value.args:
            timezone = value.kwargs.get("timezone")
            cron = self._schedule_string(str(value.args[0]), node)
            if name == "CronDataIntervalTimetable":
                self._loss("CronDataIntervalTimetable runs at the end of each interval; imported as a cron "
                           "schedule (run at the cron time)", node, approximate=True)
            return cron, timezone if isinstance(timezone, str) else None
        if name == "AssetOrTimeSchedule":
            assets = value.kwargs.get("assets")
            self._assets(_asset_list(assets), node)
            timetable = value.kwargs.get("timetable")
            return self._timetable(timetable, node) if isinstance(timetable, CallValue) else (None, None)
        if name in ("Asset", "Dataset"):
            self._assets([value], node)
            return None, None
        self._loss(f"timetable {name} has no dagshift equal; the pipeline is imported as run by hand", node)
        return None, None

    def _assets(self, assets: list[CallValue], node: ast.AST) -> None:
        for asset in assets:
            uri = asset.kwargs.get("uri") or (asset.args[0] if asset.args else None)
            name = asset.kwargs.get("name")
            if not isinstance(uri, str):
                self._loss("an asset without a literal uri is left out", node)
                continue
            trigger = {"type": "data", "uri": uri}
            if isinstance(name, str):
                trigger = {"type": "data", "artifact": name, "_uri": uri}
            self.data.setdefault("triggers", []).append(trigger)

    # ------------------------------------------------------------------ params and settings

    def _params(self) -> None:
        node = self.kwargs.get("params")
        if node is None:
            return
        value = self._static_or_loss(node, "params")
        if not isinstance(value, dict):
            return
        params = {}
        for name, item in value.items():
            params[str(name)] = param(self.ctx, str(name), item, node)
            self._place(("params", str(name)), _entry(node, name))
        if params:
            self.data["params"] = params

    def _dag_settings(self) -> None:
        tags = self.kwargs.get("tags")
        if tags is not None:
            value = static(self.ctx, tags, "tags")
            if isinstance(value, (list, tuple)):
                self.data["tags"] = [str(t) for t in value]
        for key, target in (("max_active_tasks", "max_active_tasks"), ("concurrency", "max_active_tasks"),
                            ("max_active_runs", "max_active_runs")):
            if key in self.kwargs:
                value = static(self.ctx, self.kwargs[key], key)
                if isinstance(value, int) and value >= 1:
                    self.data[target] = value
        if "dagrun_timeout" in self.kwargs:
            value = static(self.ctx, self.kwargs["dagrun_timeout"], "dagrun_timeout")
            if isinstance(value, Seconds):
                self.data["timeout"] = int(value.value)
        if any(t.get("type") == "continuous" for t in self.data.get("triggers", [])) \
                and self.data.get("max_active_runs") == 1:
            del self.data["max_active_runs"]  # Airflow requires it for @continuous: implied
        from .tasks import callbacks

        alerts = callbacks({k: v for k, v in self.kwargs.items() if k in _DAG_CALLBACKS}, self.ctx)
        if alerts:
            self.data["alerts"] = alerts
        for key, value in self.kwargs.items():
            if key not in _DAG_IGNORED:
                self._loss(f"DAG argument '{key}' has no dagshift equal; it is left out", value)

    def _workdir(self) -> None:
        node = self.file.constants.get(WORKDIR)
        if self.file.generated and isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.data["workdir"] = node.value

    # ------------------------------------------------------------------ tasks

    def _tasks(self) -> dict[str, dict[str, Any]]:
        tasks: dict[str, dict[str, Any]] = {}
        found_tasks = self.found.tasks
        self.ids = {task_id: _portable_id(task_id) for task_id in found_tasks}
        self.ctx.results = {task_id: output_ref(self.ids[task_id]) for task_id in self.results.types}
        for task_id, found in found_tasks.items():
            if self._is_helper(task_id, found):
                self.dropped.add(task_id)
                continue
            if self.ids[task_id] != task_id:
                self._loss(f"task id '{task_id}' is imported as '{self.ids[task_id]}' (TaskGroup ids are "
                           "flattened; dagshift ids have letters, digits, '-' and '_')", found.node,
                           approximate="." in task_id)
            tasks[self.ids[task_id]] = self._task(found)
            self._place(("tasks", self.ids[task_id]), found.node)
        for task_id, found in found_tasks.items():
            if task_id.endswith(HELPER_SEPARATOR + BRANCH) and task_id in self.dropped:
                self._condition(found, tasks)
        for branch, targets in self.results.branches.items():
            self._branch_conditions(branch, targets, tasks)
        return tasks

    def _is_helper(self, task_id: str, found: Found) -> bool:
        """dagshift's helper tasks (see the module docstring), only in dagshift's own output."""
        if not self.file.generated:
            return False
        base, _, suffix = task_id.rpartition(HELPER_SEPARATOR)
        if base not in self.found.tasks:
            return False
        if suffix == BRANCH:
            return found.cls == "task.branch"
        if suffix == ITEMS:
            return found.cls == "task"
        return suffix == SUCCEEDED and found.cls == "EmptyOperator"

    def _task(self, found: Found) -> dict[str, Any]:
        kwargs = {**self.default_args, **found.kwargs}
        if self.bash_env is not None and found.cls == "BashOperator":
            kwargs = {"env": self.bash_env, "append_env": ast.Constant(True), **kwargs}
        kwargs.pop("start_date", None)
        task: dict[str, Any] = {}
        for group_id, group_kwargs in found.group_kwargs:
            for key in group_kwargs:
                if key not in ("group_id", "prefix_group_id", "tooltip", "ui_color", "ui_fgcolor"):
                    self._loss(f"TaskGroup '{group_id}' argument '{key}' is not carried over to its tasks",
                               group_kwargs[key])
        common(found, kwargs, self.ctx, task)
        self._operator(found, kwargs, task)
        self._fan_out(found, task)
        if "foreach" not in task:
            self._not_mapped(found, task)
        self._unmapped_arguments(found, kwargs)
        self._outlets(found, task)
        if found.task_id in self.results.types:  # another task reads its return value
            task["outputs"] = {RETURN_VALUE: self.results.types[found.task_id]}
        return task

    def _operator(self, found: Found, kwargs: dict[str, ast.expr], task: dict[str, Any]) -> None:
        cls = found.cls
        if self.gen is not None and cls == "task" and found.function is not None:
            self._generated(lambda: task.update(self.gen.task(found)), found)
        elif _runs_items(found):
            pass  # each instance runs one item: the command is set when the task is mapped (_map)
        elif cls == "BashOperator" or cls == "task.bash":
            bash(found, kwargs, self.ctx, task) if cls == "BashOperator" else self._task_bash(found, task)
        elif cls in ("PythonOperator", "PythonVirtualenvOperator", "ExternalPythonOperator"):
            python_callable(found, kwargs, self.ctx, task)
            if cls != "PythonOperator":
                self._loss(f"{cls} runs the callable in another Python environment; imported as a python task",
                           found.node, approximate=True)
        elif cls in ("BranchPythonOperator", "ShortCircuitOperator", "BranchExternalPythonOperator",
                     "BranchPythonVirtualenvOperator"):
            python_callable(found, kwargs, self.ctx, task)
            self._control_loss(cls, found.node)
        elif cls.startswith("task"):
            self._taskflow(found, task)
        elif cls in ("EmptyOperator", "DummyOperator"):
            pass
        elif cls in ("KubernetesPodOperator", "DockerOperator"):
            container(found, kwargs, self.ctx, task)
            if self.gen is not None:
                self._generated(lambda: self._generated_pod(found, kwargs, task), found)
        elif cls == "TriggerDagRunOperator":
            self._trigger_dag_run(found, kwargs, task)
        elif cls.endswith("Sensor"):
            self._sensor(found, kwargs, task)
        else:
            self._loss(f"operator {cls} has no dagshift equal; imported as a no-op task to keep the graph",
                       found.node)

    def _taskflow(self, found: Found, task: dict[str, Any]) -> None:
        if found.cls == "task.branch" and found.task_id in self.results.branches:
            taskflow(found, self.ctx, task)  # its choice is read as conditions (_branch_conditions)
        elif found.cls in ("task.branch", "task.short_circuit"):
            taskflow(found, self.ctx, task)
            self._control_loss(f"@{found.cls}", found.function)
        elif found.cls in ("task", "task.python", "task.virtualenv", "task.external_python"):
            taskflow(found, self.ctx, task)
        elif found.cls in ("task.kubernetes", "task.docker"):
            taskflow(found, self.ctx, task)
            self._loss(f"@{found.cls} runs the function in an image; imported as a python task (set `image` and "
                       "install the module in it)", found.function, approximate=True)
        else:
            taskflow(found, self.ctx, task)
            self._loss(f"@{found.cls} is imported as a python task calling the function", found.function,
                       approximate=True)

    def _task_bash(self, found: Found, task: dict[str, Any]) -> None:
        """`@task.bash`: the function returns the command; a single literal return is read."""
        returns = [n for n in ast.walk(found.function) if isinstance(n, ast.Return)] if found.function else []
        if len(returns) == 1 and isinstance(returns[0].value, ast.Constant) and isinstance(returns[0].value.value, str):
            from .values import jinja_text

            task["command"] = jinja_text(returns[0].value.value).text
            return
        self._loss("@task.bash builds its command in Python; imported as a no-op", found.function)

    def _generated(self, read: Any, found: Found) -> None:
        """Read dagshift's own code of a task; code it does not recognize is a loss, not a crash."""
        try:
            read()
        except (NotStatic, ValueError, KeyError, IndexError, StopIteration, SyntaxError):
            self._loss(f"task {found.task_id}: dagshift's code was edited and cannot be read back", found.node)

    def _generated_pod(self, found: Found, kwargs: dict[str, ast.expr], task: dict[str, Any]) -> None:
        """A generated pod's command: its fixed part and its own (or each item's) arguments."""
        docker = found.cls == "DockerOperator"
        fixed_key, own_key = ("entrypoint", "command") if docker else ("cmds", "arguments")
        fixed = templated(self.ctx, kwargs[fixed_key], fixed_key) if fixed_key in kwargs else []
        own: list | None = []
        if own_key in kwargs:
            own = templated(self.ctx, kwargs[own_key], own_key)
        elif own_key in (found.expand or {}):
            helper = self._helper_of(found.expand[own_key])
            if helper is None:
                return  # mapped over a literal list: read as the operator's own arguments (_container_items)
            try:
                _, own = self.gen.items(helper)  # type: ignore[union-attr]
            except NotStatic:
                return  # an edited helper: the operator's own arguments stay as they were read
        argv = [*fixed, *(own or [])] if isinstance(fixed, list) and isinstance(own, (list, type(None))) else None
        if argv is None or not all(isinstance(part, str) for part in argv):
            return  # not the argv dagshift writes (an edited file): read as the operator's own command
        fields, outputs = pod_argv(argv)
        if fields:
            for key in ("command", "args"):
                task.pop(key, None)
            task.update(fields)
        if outputs:
            task["outputs"] = outputs

    def _helper_of(self, node: ast.expr) -> Found | None:
        """The `<task>__items` task a call made inline (`train.expand(model=train__items())`)."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            for task_id, found in self.found.tasks.items():
                if found.function is not None and found.function.name == node.func.id and \
                        task_id.endswith(HELPER_SEPARATOR + ITEMS):
                    return found
        return None

    def _control_loss(self, what: str, node: Any) -> None:
        self._loss(f"{what} chooses at run time which downstream tasks run; dagshift conditions are `when:` "
                   "expressions over params and outputs, so it is imported as a python task and every downstream "
                   "task runs (write `when:` on them)", node, approximate=True)

    def _trigger_dag_run(self, found: Found, kwargs: dict[str, ast.expr], task: dict[str, Any]) -> None:
        target = static(self.ctx, kwargs["trigger_dag_id"], "trigger_dag_id") if "trigger_dag_id" in kwargs else None
        if isinstance(target, str):
            task["command"] = f"airflow dags trigger {target}"
            task["description"] = task.get("description") or f"triggers DAG {target}"
        self._loss("TriggerDagRunOperator has no dagshift equal; imported as a shell task running "
                   "`airflow dags trigger` (conf, wait_for_completion and the link to the run are lost)",
                   found.node, approximate=True)
        for key in ("trigger_dag_id", "conf", "wait_for_completion", "poke_interval", "reset_dag_run",
                    "logical_date", "execution_date", "allowed_states", "failed_states", "deferrable"):
            kwargs.pop(key, None)

    def _sensor(self, found: Found, kwargs: dict[str, ast.expr], task: dict[str, Any]) -> None:
        self._loss(f"{found.cls} waits for something outside the pipeline; dagshift has no sensors, so it is "
                   "imported as a no-op task (use a data trigger or a task that polls)", found.node)
        for key in list(kwargs):
            if key not in ("task_id", "dag", "retries", "retry_delay", "execution_timeout", "trigger_rule", "pool"):
                kwargs.pop(key, None)

    def _fan_out(self, found: Found, task: dict[str, Any]) -> None:
        if found.expand is None:
            return
        if self.gen is not None and len(found.expand) == 1 and self._generated_fan_out(found, task):
            return
        if "<kwargs>" in found.expand:
            self._loss("expand_kwargs (a mapping of arguments per instance) is not carried over; the task is not "
                       "mapped", found.node)
            return
        if len(found.expand) != 1:
            self._loss(f"{found.task_id} maps over several arguments ({', '.join(found.expand)}), a cross product "
                       "dagshift cannot write; the task is not mapped", found.node)
            return
        (name, node), = found.expand.items()
        try:
            items = plain_data(self.file.evaluator.value(node))
        except (NotStatic, ValueError):
            items = None
        if isinstance(items, list):
            items = escaped(items)  # a literal list: its texts are literal (E114)
            if self.file.generated and name == "arguments" and task.get("image"):
                self._container_items(found, items, task)
                return
            self._map(found, name, items, task)
            return
        source = found.xcoms.get(name)
        if source is not None and self.results.maps_over(source):
            self._map(found, name, output_ref(self.ids[source]), task)
            return
        self._loss(_unmapped_source(name, source), node)

    def _generated_fan_out(self, found: Found, task: dict[str, Any]) -> bool:
        """dagshift's own mapping: over a `<task>__items` helper or over an upstream result."""
        assert self.gen is not None and found.expand is not None
        ((_, node),) = found.expand.items()
        helper = self._helper_of(node)
        if helper is not None:
            try:
                task["foreach"], _ = self.gen.items(helper)
            except NotStatic:
                return False  # an edited helper: read as any other mapping (a loss)
            return True
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
            text, _ = self.gen.argument_ref(node)
            if text is not None:
                task["foreach"] = text
                return True
        return False

    def _map(self, found: Found, name: str, items: list | str, task: dict[str, Any]) -> None:
        """The task runs once per item (`foreach`), and gets the item as the mapped argument."""
        task["foreach"] = items
        if self.file.generated:
            return  # its spec passes the item
        if takes_arguments(found):
            task["args"] = {name: "${{ item }}", **task.get("args", {})}
        elif _runs_items(found):
            task["command"] = "${{ item }}"  # Airflow does not render mapped values as templates either
        else:
            self._loss(f".expand({name}=...) is imported as `foreach`; the task reads each item as `${{{{ item }}}}`, "
                       f"not as the argument {name!r}", found.expand[name], approximate=True)

    def _not_mapped(self, found: Found, task: dict[str, Any]) -> None:
        """A task that runs once (never mapped, or a mapping not carried) keeps nothing of mapping."""
        task.pop("max_parallel", None)  # a limit of running instances: one instance has nothing to limit
        if _runs_items(found):
            self._loss("the BashOperator's command is each item it is mapped over, which is not carried; imported "
                       "as a no-op", found.node)

    def _container_items(self, found: Found, items: list, task: dict[str, Any]) -> None:
        self._loss("a container task mapped over a literal list: each item's argument list is imported, the list "
                   "itself is not", found.node, approximate=True)
        task["foreach"] = items

    def _unmapped_arguments(self, found: Found, kwargs: dict[str, ast.expr]) -> None:
        from .tasks import IGNORED

        known = {"bash_command", "env", "op_kwargs", "op_args", "templates_dict", "image", "cmds", "arguments",
                 "entrypoint", "command", "env_vars", "environment", "secrets", "container_resources", "cpus",
                 "mem_limit", "device_requests", "outlets", "doc_md", "doc", "doc_rst", "doc_json", "doc_yaml",
                 "retries", "execution_timeout", "trigger_rule", "pool", "priority_weight", "max_active_tis_per_dagrun",
                 "max_active_tis_per_dag", "executor_config", "on_failure_callback", "on_retry_callback",
                 "on_success_callback", "on_execute_callback", "on_skipped_callback", "sla", "trigger_dag_id",
                 "start_date"}
        for key, value in kwargs.items():
            if key in IGNORED or key in known:
                continue
            if found.cls.endswith("Sensor") or found.cls == "TriggerDagRunOperator":
                continue
            self._loss(f"{found.cls} argument '{key}' has no dagshift equal; it is left out", value)

    def _outlets(self, found: Found, task: dict[str, Any]) -> None:
        node = found.kwargs.get("outlets")
        if node is None:
            return
        value = static(self.ctx, node, "outlets")
        names = [a.kwargs.get("name") for a in _asset_list(value)]
        if names and all(isinstance(n, str) for n in names):
            task["produces"] = names
            for name in names:
                self._place(("artifacts", name), node)
            self.outlets = {**getattr(self, "outlets", {}), **{a.kwargs["name"]: a.kwargs.get("uri")
                                                                for a in _asset_list(value)}}
        else:
            self._loss("outlets without asset names are not carried over", node)

    # ------------------------------------------------------------------ conditions

    def _condition(self, found: Found, tasks: dict[str, dict[str, Any]]) -> None:
        """dagshift's `<task>__branch`: `return TASK if CONDITION else ELSE`."""
        assert self.gen is not None
        try:
            when, chosen, others = self.gen.condition(found)
            chosen, others = [self.ids[t] for t in chosen], [self.ids[t] for t in others]
        except (NotStatic, KeyError, ValueError):
            self._loss(f"branch {found.task_id} cannot be read back as a condition", found.node)
            return
        for task_id in chosen:
            tasks[task_id]["when"] = when
        for task_id in others:
            if chosen:
                tasks[task_id]["else_of"] = chosen[0]

    def _branch_conditions(self, branch: str, targets: list[str], tasks: dict[str, dict[str, Any]]) -> None:
        """A @task.branch returning one of its downstream task ids: each runs when it is the one returned."""
        branch_id = self.ids[branch]
        for index, target in enumerate(targets):
            task = tasks[self.ids[target]]
            if index == 1 and len(targets) == 2:
                task["else_of"] = self.ids[targets[0]]  # of two, the other one is chosen exactly when the first is not
            else:
                task["when"] = branch_condition(branch_id, target)

    # ------------------------------------------------------------------ edges

    def _edges(self, tasks: dict[str, dict[str, Any]]) -> None:
        implied = _implied_edges(tasks)
        for upstream, downstream, line in self.found.edges:
            if upstream in self.dropped or downstream in self.dropped:
                continue
            if upstream not in self.ids or downstream not in self.ids:
                continue
            up, down = self.ids[upstream], self.ids[downstream]
            if (up, down) in implied or up == down:
                continue
            after = tasks[down].setdefault("after", [])
            if up not in after:
                after.append(up)

    def _artifacts_for_assets(self, tasks: dict[str, dict[str, Any]]) -> None:
        """Assets (outlets and data triggers) name artifacts: declare them."""
        artifacts: dict[str, str] = dict(getattr(self, "outlets", {}))
        for trigger in self.data.get("triggers", []):
            uri = trigger.pop("_uri", None)
            if trigger.get("artifact"):
                artifacts.setdefault(trigger["artifact"], uri)
                self._place(("artifacts", trigger["artifact"]),
                            next((self.kwargs[k] for k in _SCHEDULE_ARGUMENTS if k in self.kwargs), None))
        if artifacts:
            self.data["artifacts"] = {name: uri for name, uri in artifacts.items() if isinstance(uri, str)}


def _without_redundant_after(data: dict[str, Any], pipeline: Pipeline) -> dict[str, Any]:
    """The `after` edges the backend writes: without those another path keeps (backends/airflow/edges.py)."""
    from compiler.backends.airflow.edges import reduce_edges
    from compiler.language.graph import build_graph, topological_order

    graph = build_graph(pipeline)
    rules = {task_id: task.trigger_rule for task_id, task in pipeline.tasks.items()}
    kept = set(reduce_edges(topological_order(graph), graph.edges, rules))
    for task_id, task in data.get("tasks", {}).items():
        after = [upstream for upstream in task.get("after", []) if (upstream, task_id) in kept]
        task.pop("after", None)
        if after:
            task["after"] = after
    return data


def _runs_items(found: Found) -> bool:
    """A BashOperator mapped over its command (`.expand(bash_command=...)`)."""
    return found.cls == "BashOperator" and "bash_command" in (found.expand or {})


def _unmapped_source(name: str, source: str | None) -> str:
    if source is None:
        return (f".expand({name}=...) maps over a value computed when the file runs; the task is not mapped (write "
                "`foreach:` over a list, a param or `${{ tasks.ID.outputs.NAME }}`)")
    return (f".expand({name}=...) maps over the return value of task '{source}', which dagshift maps over only when "
            "it is a list returned by a TaskFlow python task (annotate it `-> list`); the task is not mapped")


def _asset_list(value: Any) -> list[CallValue]:
    if isinstance(value, CallValue) and value.func.endswith(("Asset", "Dataset")):
        return [value]
    if isinstance(value, CallValue) and value.func == "" and value.args:
        return []
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _asset_list(item)]
    return []


def _entry(node: ast.expr, key: Any) -> ast.expr:
    """The value of `key` in a dict literal (the literal itself when it is not one)."""
    if isinstance(node, ast.Dict):
        for key_node, value in zip(node.keys, node.values):
            if isinstance(key_node, ast.Constant) and key_node.value == key:
                return value
    return node


def _portable_id(task_id: str) -> str:
    """TaskGroup ids `group.task` flattened to `group__task`; other characters to `_`."""
    flat = task_id.replace(".", "__")
    flat = re.sub(r"[^A-Za-z0-9_-]", "_", flat)
    return flat if flat[:1].isalpha() else f"t_{flat}"


def _implied_edges(tasks: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    """Edges the tasks' own references already make (placeholders, conditions, else_of)."""
    from compiler.language.ir import Task
    from compiler.language.references import task_refs

    models: dict[str, Any] = {}
    for task_id, data in tasks.items():
        with contextlib.suppress(ValueError):  # an invalid task is reported when the pipeline is checked
            models[task_id] = Task.model_validate(data)
    edges: set[tuple[str, str]] = set()
    for task_id, model in models.items():
        for _, ref in task_refs(model):
            if ref.kind == "task_output" and ref.task:
                edges.add((ref.task, task_id))
        other = models.get(model.else_of or "")
        if other is not None:
            for path, ref in task_refs(other):
                if path == ("when",) and ref.task:
                    edges.add((ref.task, task_id))
    return edges


__all__ = ["IMPORTER", "AirflowImporter"]
