"""Kubeflow Pipelines v2 PipelineSpec YAML (what kfp's compiler writes), read into dagshift.

The root DAG's tasks (and those of nested DAG components: conditions, loops, exit handlers) that
run an executor become tasks, named by their `taskInfo.name`. Read:
* root inputDefinitions -> params (type, default);
* `dependentTasks` -> after (a dependency on a group means every task inside it);
* `triggerPolicy.condition` of a condition group -> `when:` of every task inside (CEL `!`, `&&`,
  `||` become not / and / or; pipeline channels become params / task outputs);
* `parameterIterator` of a loop group -> `foreach:` (raw list, a param, or an upstream output),
  `iteratorPolicy.parallelismLimit` -> max_parallel; a loop's outputs read downstream
  (dsl.Collected) -> the mapped task's output;
* container executors: dagshift's shell form (`sh -c 'IFS=; exec bash -c "$*"'`) -> `command`
  with its placeholders; any other container -> `image` + command/args;
* lightweight python components: a body that imports `module:function` and calls it (dagshift's
  form) -> `python:` with its keyword arguments; other bodies cannot be carried (error: manual);
* input / output artifacts -> artifacts (by name; kind from the schema title), consumes/produces;
  output parameters -> outputs. dagshift names a component's inputs and outputs plainly, with one
  prefix (p_, a_, o_, k_) where names would clash (every name before issue 19): the prefix is
  stripped; a python component's one output, kfp's `Output`, is named after the variable its body
  returns;
* `retryPolicy` -> retries / retry_delay / retry_backoff / retry_max_delay; `cachingOptions`
  -> cache; the platform spec document: kubernetes `secretAsEnv` -> secrets,
  `activeDeadlineSeconds` -> timeout;
* `triggerPolicy.strategy: ALL_UPSTREAM_TASKS_COMPLETED` -> trigger_rule all_done;
* the kubernetes platform spec's `pipelineConfig.activeDeadlineSeconds` -> the pipeline timeout;
* what dagshift's backend writes for what KFP lacks (bodies.py reads the executors):
  its final-state probes (`X: state of Y`) and the dsl.If on their output -> X's trigger rule
  (one_failed / all_failed / one_success) after Y; an alerts task `X: alerts` -> X's alerts; the
  exit handler's exit task -> the pipeline's alerts; `cd -- DIR || exit` / `os.chdir(DIR)` ->
  the pipeline's workdir; scripts and argv rebuilt by sh from count-prefixed argument groups ->
  the command and args; the else branch of an `and`, written once per nested dsl.If -> one task;
  a join written at the end of each branch of a condition -> one task, trigger_rule none_failed.
Any other exit task, PipelineTaskFinalStatus consumer, and anything else with no IR equivalent
are reported as losses.

Not carried (`not_carried`), with the reason: the pipeline's name (kfp writes only its DNS-safe
form, `fan-out` for `fan_out`), artifacts' paths (KFP artifacts live at URIs it
chooses; an imported artifact's path is its name) and descriptions, the kinds KFP merges
(dataset and file are both system.Dataset), params' enum/min/max/descriptions (KFP types only),
pipeline tags/owner, tasks' and outputs' descriptions (kfp keeps them in the module, not
the spec), tasks' estimate and priority, triggers and max_active_tasks (KFP has none), the path
of a value output (KFP chooses the file). The schedule and max_active_runs are read from the
`recurring_run.yaml` next to the spec that names it (schedule.py); the backend writes one
for a scheduled pipeline only, with max_concurrency 1 when max_active_runs is not set, so
`carried` counts max_active_runs only with a schedule, and as 1 when unset. `KubeflowImporter.carried` also rewrites: a
cache that is off is no cache (dagshift turns KFP's caching off for every task that does not ask
for it) and a cache's expiry is dropped (KFP has none); a task that does not retry has no retry
settings; external and URI artifacts are their paths (dagshift writes them into the command as
text: nothing in the spec says they were artifacts); the split between an exec-form command and
its args when sh rebuilds the argv (one list); all_failed over one task is one_failed (the same
probe and dsl.If).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from compiler.backends.kubeflow.backend import DEFAULT_IMAGE
from compiler.backends.kubeflow.conventions import ALERTS_SUFFIX
from compiler.importers import Importer
from compiler.importers.base import (
    SECRET_NOT_CARRIED,
    Imported,
    Reporter,
    is_env_name,
    is_portable_secret,
    line_of,
    plain,
    portable_name,
)
from compiler.importers.normalize import artifacts_as_paths, drop_field, normalized, without_idle_retry_settings
from compiler.importers.yaml_read import read_yaml
from compiler.language import conditions
from compiler.language.ir import Pipeline, ValueType, type_of_value, value_matches
from compiler.language.placeholders import escaped

from .bodies import (
    PythonBody,
    alerts_body,
    calls_an_import,
    dagshift_form,
    decode,
    does_nothing,
    function_of,
    probe_body,
    returned_name,
)
from .schedule import read_recurring_run, recurring_run
from .scope import _and, _duration, _Inputs, _Scope, _strip, _task_id
from .shapes import misshapen_spec

# A CEL channel reference, or a CEL string literal (KFP's conditions), and the literal's escapes
# (cel-spec: simple, \xHH, \uHHHH, \UHHHHHHHH, octal).
_CEL_TOKEN = re.compile(r"(inputs\.parameter_values\['[^']+'\])|'(?:[^'\\\n\r]|\\.)*'|\"(?:[^\"\\\n\r]|\\.)*\"")
_CEL_ESCAPE = re.compile(r"\\(?:([abfnrtv\\?'\"`])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-3][0-7]{2}))")
_CEL_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def cel_unquote(literal: str) -> str:
    """The text of a CEL string literal (quotes included), as the KFP backend reads it."""
    def one(found: re.Match) -> str:
        if found[1]:
            return _CEL_SIMPLE.get(found[1], found[1])
        code = int(found[2] or found[3] or found[4], 16) if not found[5] else int(found[5], 8)
        return chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else found[0]  # not a character: as written

    return _CEL_ESCAPE.sub(one, literal[1:-1])


def _without_cel_strings(condition: str) -> tuple[str, list[str]]:
    """The condition with each string literal replaced by a marker (NUL, its index, NUL), so that
    rewriting CEL into the condition language never touches a literal's text; and the literals,
    written as the condition language quotes them."""
    literals: list[str] = []

    def hide(found: re.Match) -> str:
        if found[1]:
            return found[1]
        literals.append(conditions.render(conditions.Literal(cel_unquote(found[0]))))
        return f"\x00{len(literals) - 1}\x00"

    return _CEL_TOKEN.sub(hide, condition), literals


_TYPES = {"STRING": "str", "NUMBER_INTEGER": "int", "NUMBER_DOUBLE": "float", "BOOLEAN": "bool", "LIST": "list",
          "STRUCT": "dict"}
_KINDS = {"system.Dataset": "dataset", "system.Model": "model", "system.Metrics": "metrics", "system.HTML": "plots",
          "system.Markdown": "plots", "system.ClassificationMetrics": "metrics", "system.Artifact": "directory"}
_PLACEHOLDER = re.compile(r"\{\{\$\.(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\](?:\.(path|output_file|uri))?\}\}")
_STATE_CONDITION = re.compile(r"inputs\.parameter_values\['([^']+)'\] == '(FAILED|SUCCEEDED)'")


class KubeflowImporter(Importer):
    name = "kubeflow"
    title = "Kubeflow Pipelines v2"
    not_carried = (
        "name", "artifacts.*.path", "artifacts.*.description", "artifacts.*.kind", "params.*.enum", "params.*.min",
        "params.*.max", "params.*.description", "params.*.type", "tags", "owner", "triggers",
        "tasks.*.estimate", "tasks.*.priority", "tasks.*.description", "tasks.*.outputs.*.description",
        "tasks.*.outputs.*.path", "max_active_tasks", "tasks.*.cache.expire",
    )

    def carried(self, pipeline: Pipeline) -> dict[str, Any]:
        data = normalized(pipeline)
        literal = [name for name, artifact in pipeline.artifacts.items() if artifact.external or artifact.is_uri]
        artifacts_as_paths(data, literal)
        without_idle_retry_settings(data)
        for task in data.get("tasks", {}).values():
            cache = task.get("cache")
            if isinstance(cache, dict) and cache.get("enabled") is False:
                del task["cache"]
            if isinstance(task.get("command"), list) and isinstance(task.get("args"), list):
                task["command"] = task["command"] + task.pop("args")
            if task.get("trigger_rule") == "all_failed" and len(task.get("after", [])) == 1:
                task["trigger_rule"] = "one_failed"
        if "schedule" in data:
            data.setdefault("max_active_runs", 1)  # the recurring run's max_concurrency is always written
        else:
            data.pop("max_active_runs", None)  # no schedule, no recurring run
        for path in self.not_carried:
            drop_field(data, path.split("."))
        return data

    def detect(self, path: Path, text: str) -> bool:
        return path.suffix in (".yaml", ".yml", ".json") and "pipelineInfo" in text and "deploymentSpec" in text \
            and "root" in text

    def read(self, path: Path, text: str, display: str) -> list[Imported]:
        report = Reporter(display, text)
        try:
            documents = read_yaml(text)
        except Exception as exc:  # noqa: BLE001 - ruamel raises several error types for bad YAML
            report.error(f"not valid YAML: {str(exc).splitlines()[0] if str(exc) else exc}", code="E601")
            return [Imported(display, None, report.diagnostics)]
        spec = next((d for d in documents if isinstance(d, dict) and "root" in d and "deploymentSpec" in d), None)
        if spec is None:
            report.error("no PipelineSpec in the file (root, components, deploymentSpec)", code="E601")
            return [Imported(display, None, report.diagnostics)]
        platform = next((d for d in documents if isinstance(d, dict) and "platforms" in d), None)
        problem = misshapen_spec(spec, platform)
        if problem is not None:  # before reading: the reader trusts the kinds kfp's schema gives
            report.error(f"not a valid PipelineSpec: {problem.message}", problem.line, code="E601")
            return [Imported(display, None, report.diagnostics)]
        data = _SpecReader(spec, platform, report).read()
        schedule_file = recurring_run(path)
        if schedule_file is not None:
            fields, schedule_report = read_recurring_run(schedule_file, str(Path(display).parent / schedule_file.name))
            data.update(fields)
            report.diagnostics.extend(schedule_report.diagnostics.sorted())
        return [Imported(display, data, report.diagnostics, places=report.places)]


IMPORTER = KubeflowImporter()


class _SpecReader:
    def __init__(self, spec: Any, platform: Any, report: Reporter):
        self.spec = spec
        self.report = report
        self.components = spec.get("components") or {}
        self.executors = (spec.get("deploymentSpec") or {}).get("executors") or {}
        raw = ((platform or {}).get("platforms") or {}).get("kubernetes") or {}
        kubernetes = plain(raw)
        self.platform = (kubernetes.get("deploymentSpec") or {}).get("executors") or {}
        self.platform_lines = (raw.get("deploymentSpec") or {}).get("executors") or {}  # with ruamel's lines
        self.pipeline_config = kubernetes.get("pipelineConfig") or {}
        self.pipeline_config_lines = raw.get("pipelineConfig")
        self.dagshift = any(dagshift_form([str(c) for c in (e.get("container") or {}).get("command") or []])
                            for e in self.executors.values()) \
            or any(k.startswith("comp-dagshift-") for k in self.components) or self._prefixed_names() \
            or self._calls_imported_functions()
        self.image = self._default_image()
        self.single_outputs: dict[str, str] = {}  # KFP task key -> the name of its python function's one output
        self.probes: dict[str, tuple[str, str]] = {}  # probe task key -> (fallback's name, watched task key)
        self.occurrences: dict[str, list[bool]] = {}  # task id -> for each copy in the spec, whether in an Else
        self.alerts: list[dict[str, Any]] = []
        self.workdirs: dict[str, int | None] = {}  # every workdir an executor changes into -> a line
        self.tasks: dict[str, dict[str, Any]] = {}
        self.kfp_names: dict[str, str] = {}  # KFP task key -> task id
        self.groups: dict[str, list[str]] = {}  # group task key -> the task ids inside
        self.task_alerts: dict[str, list[dict[str, Any]]] = {}
        self.importers: dict[str, str] = {}  # importer task key -> the external artifact it brings in
        self.params: dict[str, Any] = {}
        self.artifacts: dict[str, Any] = {}

    def read(self) -> dict[str, Any]:
        info = self.spec.get("pipelineInfo") or {}
        # kfp writes the pipeline's own name in the header comment; pipelineInfo.name is DNS-safe
        header = re.search(r"^# Name: (\S+)$", self.report.lines and "\n".join(self.report.lines[:5]) or "", re.MULTILINE)
        name = header.group(1) if header else str(info.get("name") or "pipeline")
        data: dict[str, Any] = {"name": portable_name(name, self.report, line_of(info))}
        if info.get("description"):
            data["description"] = str(info["description"])
            self.report.place(("description",), line_of(info, "description"))
        root = self.spec.get("root") or {}
        self.params = self._params(root)
        if self.params:
            data["params"] = self.params
        self._names(root.get("dag") or {})
        self._dag(root.get("dag") or {}, _Scope({}, None, None, None))
        for task_id, alerts in self.task_alerts.items():
            if task_id in self.tasks:
                self.tasks[task_id]["alerts"] = alerts
        self._resolve_after()
        if len(self.workdirs) == 1:
            data["workdir"], line = next(iter(self.workdirs.items()))
            self.report.place(("workdir",), line)
        for workdir, line in list(self.workdirs.items())[1:]:
            self.report.loss(f"tasks change into different directories; the pipeline's workdir is the first one, "
                             f"not {workdir!r}", line, approximate=True)
        deadline = self.pipeline_config.get("activeDeadlineSeconds")
        if deadline:
            data["timeout"] = int(deadline)
            self.report.place(("timeout",), line_of(self.pipeline_config_lines, "activeDeadlineSeconds"))
        for key in self.pipeline_config:
            if key != "activeDeadlineSeconds":
                self.report.loss(f"the platform's pipelineConfig {key} has no pipeline equivalent: not carried")
        if self.alerts:
            data["alerts"] = self.alerts
        if self.artifacts:
            data["artifacts"] = self.artifacts
        data["tasks"] = self.tasks
        if not self.tasks:
            self.report.error("the PipelineSpec runs no task", code="E601")
        return data

    def _calls_imported_functions(self) -> bool:
        """dagshift's python components import a function and call it, or do nothing (its names
        are plain then, prefixed only where they would clash)."""
        functions = [self._python_function(c) for c in self.components.values() if "executorLabel" in c]
        functions = [f for f in functions if f is not None]
        return bool(functions) and all(calls_an_import(f) or does_nothing(f) for f in functions)

    def _untyped_if_mismatched(self, name: str, param: dict[str, Any], line: int | None) -> None:
        """A default of another type than the declared one (an edited spec): the default's type wins."""
        if type_of_value(param["default"]) is not None and not value_matches(ValueType(param["type"]), param["default"]):
            self.report.loss(f"parameter {name!r} is a {param['type']} but defaults to {param['default']!r}: imported "
                             "with the default's type", line, approximate=True)
            del param["type"]

    def _prefixed_names(self) -> bool:
        """dagshift (before issue 19) named every component input and output p_/a_/o_/v_ (or item)."""
        names = [str(n) for c in self.components.values() if "executorLabel" in c
                 for side in ("inputDefinitions", "outputDefinitions") for kind in ("parameters", "artifacts")
                 for n in ((c.get(side) or {}).get(kind) or {})]
        return bool(names) and all(re.match(r"([paov]_|item)", n) for n in names)

    def _default_image(self) -> str:
        """The image dagshift gives tasks that name none (its `image` option): the one its shell
        tasks without an image, no-op tasks and final-state tasks run on."""
        found = []
        for component in self.components.values():
            container = (self.executors.get(str(component.get("executorLabel"))) or {}).get("container") or {}
            decoded = None
            try:
                decoded = decode([str(c) for c in container.get("command") or []], [])
            except ValueError:
                pass
            parameters = (component.get("inputDefinitions") or {}).get("parameters") or {}
            if (decoded is not None and decoded.form == "shell" and not decoded.image) or any(
                    (d or {}).get("parameterType") == "TASK_FINAL_STATUS" for d in parameters.values()):
                found.append(str(container.get("image") or ""))
        return max(set(found), key=found.count) if found else DEFAULT_IMAGE

    def _names(self, dag: Any) -> None:
        """Every KFP task key -> its task id, before reading (a task may read one defined later);
        dagshift's final-state probes, whose output a condition group may read before them."""
        for key, task in (dag.get("tasks") or {}).items():
            component = self.components.get(((task.get("componentRef") or {}).get("name")) or "") or {}
            name = str((task.get("taskInfo") or {}).get("name") or key)
            self.kfp_names.setdefault(str(key), _task_id(name))
            if "importer" in (self.executors.get(str(component.get("executorLabel"))) or {}):
                self.importers[str(key)] = _task_id(name)
            single = self._single_output_name(component)
            if single is not None:
                self.single_outputs[str(key)] = single
            found = re.fullmatch(r"(.+): state of (.+)", name)
            function = self._final_state_function(component)
            if found and function is not None and probe_body(function) and len(task.get("dependentTasks") or []) == 1:
                self.probes[str(key)] = (_task_id(found.group(1)), str(task["dependentTasks"][0]))
            if "dag" in component:
                self._names(component["dag"])

    def _final_state_function(self, component: Any) -> Any:
        """The python function of a component that takes a PipelineTaskFinalStatus, or None."""
        parameters = (component.get("inputDefinitions") or {}).get("parameters") or {}
        if not any((d or {}).get("parameterType") == "TASK_FINAL_STATUS" for d in parameters.values()):
            return None
        return self._python_function(component)

    def _single_output_name(self, component: Any) -> str | None:
        """The name of a python component's one output, which kfp calls `Output`: dagshift returns
        it from a variable of that name."""
        outputs = ((component.get("outputDefinitions") or {}).get("parameters") or {})
        function = self._python_function(component) if list(outputs) == ["Output"] else None
        name = returned_name(function) if function is not None else None
        return _strip(name, self.dagshift) if name is not None else None

    def _output_name(self, producer: str, key: str) -> str:
        """A task's output parameter key as the output's name."""
        if key == "Output" and producer in self.single_outputs:
            return self.single_outputs[producer]
        return _strip(key, self.dagshift)

    def _python_function(self, component: Any) -> Any:
        """The function a lightweight python component runs, or None."""
        container = (self.executors.get(str(component.get("executorLabel"))) or {}).get("container") or {}
        args = [str(a) for a in container.get("args") or []]
        command = [str(c) for c in container.get("command") or []]
        if "--function_to_execute" not in args or not command or args.index("--function_to_execute") + 1 >= len(args):
            return None
        return function_of(command[-1], args[args.index("--function_to_execute") + 1])

    # ------------------------------------------------------------------ params

    def _params(self, root: Any) -> dict[str, Any]:
        params = {}
        definitions = (root.get("inputDefinitions") or {}).get("parameters") or {}
        for name, definition in definitions.items():
            kind = _TYPES.get(str(definition.get("parameterType")), "str")
            param: dict[str, Any] = {"type": kind}
            if "defaultValue" in definition:
                default = plain(definition["defaultValue"])
                if kind == "int" and isinstance(default, float) and default.is_integer():
                    default = int(default)  # kfp writes integer defaults as 42.0
                param["default"] = default
                self._untyped_if_mismatched(str(name), param, line_of(definitions, name))
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
                self.report.loss(f"parameter {name!r} is not an identifier: not carried", line_of(definitions, name))
                continue
            params[str(name)] = param
            self.report.place(("params", str(name)), line_of(definitions, name))
        for name in (root.get("inputDefinitions") or {}).get("artifacts") or {}:
            self.report.loss(f"pipeline input artifact {name!r} has no pipeline equivalent: not carried",
                             line_of((root.get("inputDefinitions") or {}).get("artifacts"), name))
        return params

    # ------------------------------------------------------------------ DAGs

    def _dag(self, dag: Any, scope: _Scope) -> list[str]:
        """Read a DAG's tasks; returns the task ids it (and its groups) holds."""
        inside: list[str] = []
        tasks = dag.get("tasks") or {}
        for key, task in tasks.items():
            component = self.components.get(((task.get("componentRef") or {}).get("name")) or "") or {}
            if str(key) in self.probes:
                continue  # read with the condition on its output
            if str(key) in self.importers:
                self._importer(str(key), task, component, line_of(tasks, key))
                self.groups[key] = []
                continue
            if self._final_state_function(component) is not None or "taskFinalStatus" in json.dumps(
                    plain(task.get("inputs") or {})):
                self._final_state_task(key, task, component, line_of(tasks, key))
                continue
            if "dag" in component:
                ids = self._group(key, task, component, scope, line_of(tasks, key))
            elif "executorLabel" in component:
                ids = [self._task(key, task, component, scope, line_of(tasks, key))]
            else:
                self.report.loss(f"KFP task {key!r} has no executor nor DAG: not carried", line_of(tasks, key))
                continue
            self.groups[key] = [i for i in ids if i and i in self.tasks]  # a task not read is an error already
            inside += self.groups[key]
        return inside

    def _importer(self, key: str, task: Any, component: Any, line: int | None) -> None:
        """An importer node (dsl.importer): an artifact from outside the pipeline, at its URI."""
        name = self.importers[key]
        importer = (self.executors.get(str(component.get("executorLabel"))) or {}).get("importer") or {}
        uri = (importer.get("artifactUri") or {}).get("constant")
        parameter = (importer.get("artifactUri") or {}).get("runtimeParameter")
        if uri is None and parameter:
            binding = ((task.get("inputs") or {}).get("parameters") or {}).get(str(parameter)) or {}
            uri = ((binding.get("runtimeValue") or {}).get("constant"))
        title = str((importer.get("typeSchema") or {}).get("schemaTitle") or "system.Artifact")
        if not isinstance(uri, str) or not uri:
            self.report.loss(f"importer {name!r} takes its URI at run time (a param or an upstream value); an "
                             f"artifact's path is fixed: imported as an external artifact at {name!r}", line,
                             approximate=True)
            uri = name
        self.artifacts[name] = {"path": str(uri), "kind": _KINDS.get(title, "file"), "external": True}
        self.report.place(("artifacts", name), line)
        if importer.get("metadata"):
            self.report.loss(f"importer {name!r}: the artifact's metadata is not carried", line)
        if importer.get("reimport"):
            self.report.loss(f"importer {name!r}: reimport (a new artifact on every run) is not carried", line)

    def _final_state_task(self, key: str, task: Any, component: Any, line: int | None) -> None:
        """A task that acts on another's final state: dagshift's alerts task of a task (`X:
        alerts`), or the exit task of an exit handler (the pipeline's alerts)."""
        name = str((task.get("taskInfo") or {}).get("name") or key)
        function = self._final_state_function(component)
        read = alerts_body(function) if function is not None else None
        status = next((b.get("taskFinalStatus") for b in ((task.get("inputs") or {}).get("parameters") or {}).values()
                       if isinstance(b, dict) and b.get("taskFinalStatus")), None) or {}
        producer = str(status.get("producerTask") or "")
        target = None
        if producer.startswith("exit-handler"):
            target = "pipeline"
        elif name == f"{self.kfp_names.get(producer)}{ALERTS_SUFFIX}" or (
                name.endswith(ALERTS_SUFFIX) and _task_id(name[:-len(ALERTS_SUFFIX)]) == self.kfp_names.get(producer)):
            target = self.kfp_names.get(producer)
        if read is None or target is None or not read[0]:
            what = "the exit handler's exit task" if producer.startswith("exit-handler") else "a task"
            self.report.loss(f"KFP task {name!r}, {what} acting on the final state of {producer or 'a task'!r}, "
                             "runs code that is not dagshift's alerts: not carried", line)
            return
        alerts, workdir = read
        if workdir is not None:
            self.workdirs.setdefault(workdir, line)
        if target == "pipeline":
            self.alerts = alerts
            self.report.place(("alerts",), line)
        else:
            self.task_alerts.setdefault(target, alerts)  # copies in each else branch: one task

    def _group(self, key: str, task: Any, component: Any, scope: _Scope, line: int | None) -> list[str]:
        inner = scope.child(task)
        condition = (task.get("triggerPolicy") or {}).get("condition")
        watched = self._watched(str(condition), task) if condition else None
        if watched:
            inner.watch = [*scope.watch, watched]
        elif condition:
            inner.when = self._condition(str(condition), task, scope, line)
            inner.in_else = scope.branches and str(condition).startswith("!(")
        iterator = task.get("parameterIterator")
        if iterator:
            inner.foreach = self._foreach(iterator, task, scope, line)
            inner.item = str(iterator.get("itemInput"))
            limit = (task.get("iteratorPolicy") or {}).get("parallelismLimit")
            inner.limit = int(limit) if limit else None
        if not condition and not iterator and not key.startswith("condition-branches") \
                and not key.startswith("exit-handler"):
            self.report.loss(f"KFP sub-DAG {key!r} is flattened into the pipeline", line, approximate=True)
        branches = key.startswith("condition-branches")
        inner.branches = branches
        ids = self._dag(component["dag"], inner) if not branches else self._branches(component["dag"], inner)
        if condition:
            self._only_roots_conditional(component["dag"], ids)
        # a group depends on the producers of the values it passes in (those edges are the inner
        # tasks' own data references); any other dependency is an order edge of every task inside
        producers = {str((b.get("taskOutputParameter") or b.get("taskOutputArtifact") or {}).get("producerTask"))
                     for kind in ("parameters", "artifacts") for b in ((task.get("inputs") or {}).get(kind) or {}).values()}
        for dependency in task.get("dependentTasks") or []:
            if str(dependency) in producers:
                continue
            for task_id in ids:
                self.tasks[task_id].setdefault("_after", []).append(str(dependency))
        return ids

    def _only_roots_conditional(self, dag: Any, ids: list[str]) -> None:
        """A task after another of the same condition group is skipped with it: only the group's
        first tasks carry the `when`."""
        inner_keys = set(dag.get("tasks") or {})
        for task_id in ids:
            if any(str(d) in inner_keys for d in self.tasks[task_id].get("_after", [])):
                self.tasks[task_id].pop("when", None)

    def _watched(self, condition: str, task: Any) -> tuple[str, str, str] | None:
        """A condition on one of dagshift's final-state probes: (the fallback, the watched task's
        key, the state it waits for)."""
        found = _STATE_CONDITION.fullmatch(condition.strip())
        if not found:
            return None
        binding = ((task.get("inputs") or {}).get("parameters") or {}).get(found.group(1)) or {}
        producer = str((binding.get("taskOutputParameter") or {}).get("producerTask") or "")
        if producer not in self.probes:
            return None
        fallback, watched = self.probes[producer]
        return fallback, watched, found.group(2)

    def _branches(self, dag: Any, scope: _Scope) -> list[str]:
        """dsl.If / dsl.Else: a branch whose condition is `!(C)` of another's C is its else branch."""
        tasks = dag.get("tasks") or {}
        conditions = {k: str((t.get("triggerPolicy") or {}).get("condition") or "") for k, t in tasks.items()}
        ids = self._dag(dag, scope)
        for key, condition in conditions.items():
            first = next((k for k, c in conditions.items() if condition == f"!({c})"), None)
            roots = [t for t in self.groups.get(first or "", []) if "when" in self.tasks[t]]
            if first and roots:
                target = roots[0]
                for task_id in self.groups.get(key, []):
                    task = self.tasks[task_id]
                    if task.get("when") == self.tasks[target].get("when", "").join(["", ""]) or task.get("when"):
                        task.pop("when", None)
                        task["else_of"] = target
        return ids

    def _condition(self, text: str, task: Any, scope: _Scope, line: int | None) -> str | None:
        def channel(match: re.Match) -> str:
            return self._channel_ref(match.group(1), task, scope, bare=True) or "?"

        converted, literals = _without_cel_strings(text)
        converted = re.sub(r"inputs\.parameter_values\['([^']+)'\]", channel, converted)
        converted = re.sub(r"\b(int|double|string)\(", "(", converted)
        converted = converted.replace("&&", " and ").replace("||", " or ")
        converted = re.sub(r"!(?!=)", "not ", converted)
        converted = re.sub(r"\s+", " ", converted).strip()
        unnamed = "?" in converted  # a channel that names no param or output (a literal may hold '?')
        converted = re.sub("\x00(\\d+)\x00", lambda m: literals[int(m[1])], converted)
        if any(f"pipelinechannel--{probe}-" in text for probe in self.probes):
            self.report.loss(f"the condition {text!r} reads dagshift's final-state probes in a way dagshift does "
                             "not write: not carried, the tasks under it run on success", line, approximate=True)
            return scope.when
        if unnamed:
            self.report.loss(f"the condition {text!r} reads values dagshift cannot name: the tasks under it run "
                             "unconditionally", line, approximate=True)
            return None
        return _and(scope.when, converted)

    def _foreach(self, iterator: Any, task: Any, scope: _Scope, line: int | None) -> Any:
        items = iterator.get("items") or {}
        if "raw" in items:
            try:
                value = json.loads(str(items["raw"]))
            except ValueError:
                self.report.loss("the loop's raw items are not JSON: not carried", line)
                return None
            return escaped([self._item_keys(v) for v in value]) if isinstance(value, list) else None
        if "inputParameter" in items:
            return self._channel_ref(str(items["inputParameter"]), task, scope)
        self.report.loss("a loop over an artifact list has no pipeline equivalent: not carried", line)
        return None

    def _item_keys(self, item: Any) -> Any:
        if isinstance(item, dict):
            return {_strip(str(k), self.dagshift): v for k, v in item.items()}
        return item

    def _channel_ref(self, channel: str, task: Any, scope: _Scope, bare: bool = False) -> str | None:
        """A group task's input channel as a reference: followed through the enclosing groups to a
        root param or a task output."""
        binding = ((task.get("inputs") or {}).get("parameters") or {}).get(channel)
        return self._binding_ref(binding, scope, bare) if binding is not None else None

    def _binding_ref(self, binding: Any, scope: _Scope, bare: bool = False) -> str | None:
        wrap = (lambda t: t) if bare else (lambda t: f"${{{{ {t} }}}}")
        # a key holding null stands for an absent one (shapes.py)
        if binding.get("componentInputParameter") is not None:
            name = str(binding["componentInputParameter"])
            if scope.parent_task is None:
                return wrap(f"params.{name}") if name in self.params else None
            if scope.item is not None and name == scope.item:
                selector = binding.get("parameterExpressionSelector")
                key = re.search(r'\["([^"]+)"\]', str(selector or ""))
                return wrap("item" if not key else f"item.{_strip(key.group(1), self.dagshift)}")
            return self._channel_ref(name, scope.parent_task, scope.parent, bare)
        if binding.get("taskOutputParameter") is not None:
            output = binding["taskOutputParameter"]
            producer_key, key = str(output.get("producerTask")), str(output.get("outputParameterKey"))
            collected = re.fullmatch(r"pipelinechannel--(.+)-([^-]+)", key)
            if collected and (self.components.get(f"comp-{producer_key}") or {}).get("dag") is not None:
                producer_key, key = collected.groups()  # dsl.Collected: the loop's task's output
            producer = self.kfp_names.get(producer_key, producer_key)
            return wrap(f"tasks.{producer}.outputs.{self._output_name(producer_key, key)}")
        if "runtimeValue" in binding:
            constant = plain((binding["runtimeValue"] or {}).get("constant"))
            return constant if not bare else json.dumps(constant)
        return None

    # ------------------------------------------------------------------ one task

    def _task(self, key: str, task: Any, component: Any, scope: _Scope, line: int | None) -> str:
        name = _task_id(str((task.get("taskInfo") or {}).get("name") or key))
        if name in self.tasks:
            self.kfp_names[key] = name
            copies = self.occurrences.setdefault(name, [])
            copies.append(scope.in_else)
            if all(copies):
                return name  # the else branch of an `and`, written once per nested dsl.If: one task
            # dagshift writes a none_failed join once per branch of a condition: one task
            if not self.dagshift:
                self.report.loss(f"task {name!r} appears more than once (a join after a condition's branches): "
                                 "imported once, with trigger_rule none_failed", line, approximate=True)
            joined = self.tasks[name]
            joined["trigger_rule"] = "none_failed"
            joined.pop("when", None)
            joined.pop("else_of", None)
            joined.setdefault("_after", []).extend(str(d) for d in task.get("dependentTasks") or [])
            return name
        self.kfp_names[key] = name
        self.occurrences[name] = [scope.in_else]
        self.report.place(("tasks", name), line)
        result: dict[str, Any] = {}
        executor_label = str(component.get("executorLabel"))
        executor = self.executors.get(executor_label) or {}
        inputs = _Inputs(self, task, scope)
        container = executor.get("container")
        if container is None:
            self.report.error(f"task {name!r} runs an importer or resolver executor, which dagshift cannot run",
                              line, help="port this task by hand")
            return name
        self._container(name, result, container, component, inputs, line)
        self._policies(name, result, task, executor_label, line)
        if scope.when:
            result["when"] = scope.when
        if scope.foreach is not None:
            result["foreach"] = scope.foreach
            if scope.limit:
                result["max_parallel"] = scope.limit
        result["_after"] = [str(d) for d in task.get("dependentTasks") or []]
        watches = [(watched, state) for fallback, watched, state in scope.watch if fallback == name]
        if watches:
            states = {state for _, state in watches}
            if states == {"SUCCEEDED"} and len(watches) == 1:
                result["trigger_rule"] = "one_success"
            elif states == {"FAILED"}:
                result["trigger_rule"] = "one_failed" if len(watches) == 1 else "all_failed"
            else:
                self.report.loss(f"task {name!r} runs on the final states {sorted(states)} of several tasks: imported "
                                 "as one_failed", line, approximate=True)
                result["trigger_rule"] = "one_failed"
            result["_after"] += [watched for watched, _ in watches]
        self.tasks[name] = result
        return name

    def _container(self, name: str, result: dict[str, Any], container: Any, component: Any, inputs: _Inputs,
                   line: int | None) -> None:
        command = [str(c) for c in container.get("command") or []]
        args = [str(a) for a in container.get("args") or []]
        outputs = component.get("outputDefinitions") or {}
        single = self._single_output_name(component)
        for key, definition in (outputs.get("parameters") or {}).items():
            kind = _TYPES.get(str(definition.get("parameterType")), "str")
            if key != "Output" or single is not None:
                result.setdefault("outputs", {})[single or _strip(str(key), self.dagshift)] = kind
        for key, definition in (outputs.get("artifacts") or {}).items():
            self._artifact(str(key), definition, result, "produces", line)
        for key, definition in ((component.get("inputDefinitions") or {}).get("artifacts") or {}).items():
            self._artifact(str(key), definition, result, "consumes", line, inputs)
        image = str(container.get("image") or "")
        try:
            decoded = decode(command, args)
        except ValueError as problem:
            self.report.loss(f"task {name!r}: its command looks like dagshift's, but {problem}: kept as it is",
                             line, approximate=True)
            decoded = None
        if decoded is not None:
            if decoded.image:
                result["image"] = image
            if decoded.script is not None:
                result["command"] = self._text(decoded.script, inputs, name, line)
                if decoded.argv:
                    result["args"] = [self._text(a, inputs, name, line) for a in decoded.argv]
            else:
                result["command"] = [self._text(a, inputs, name, line) for a in decoded.argv]
            if decoded.workdir is not None:
                self.workdirs.setdefault(decoded.workdir, line)
        elif "--function_to_execute" in args and args.index("--function_to_execute") + 1 < len(args) and command:
            function = args[args.index("--function_to_execute") + 1]
            body = PythonBody(self, name, result, inputs, line)
            body.read(command[-1], function)
            if body.workdir is not None:
                self.workdirs.setdefault(body.workdir, line)
            if "python" in result and image != self.image:
                result["image"] = image
        else:
            result["image"] = image
            if command:
                result["command"] = [self._text(c, inputs, name, line) for c in command]
            if args:
                result["args"] = [self._text(a, inputs, name, line) for a in args]
        for variable in container.get("env") or []:
            if not is_env_name(str(variable.get("name"))):
                self.report.loss(f"task {name!r}: env {variable.get('name')!r} is not a name a shell can set: not "
                                 "carried", line)
                continue
            result.setdefault("env", {})[str(variable.get("name"))] = str(variable.get("value", ""))
        if container.get("resources"):
            self._resources(result, plain(container["resources"]))

    def _artifact(self, key: str, definition: Any, result: dict[str, Any], role: str, line: int | None,
                  inputs: _Inputs | None = None) -> None:
        name = _strip(key, self.dagshift)
        if inputs is not None:
            binding = inputs.artifacts.get(key) or {}
            upstream = binding.get("taskOutputArtifact") or {}
            if str(upstream.get("producerTask")) in self.importers:
                name = self.importers[str(upstream.get("producerTask"))]
            elif upstream.get("outputArtifactKey"):
                name = _strip(str(upstream["outputArtifactKey"]), self.dagshift)
            elif "componentInputArtifact" in binding:
                channel = str(binding["componentInputArtifact"])
                found = re.match(r"pipelinechannel--.+?-(a_\w+|\w+)$", channel)
                if found:
                    name = _strip(found.group(1), self.dagshift)
        title = str(((definition.get("artifactType") or {}).get("schemaTitle")) or "system.Artifact")
        self.artifacts.setdefault(name, {"path": name, "kind": _KINDS.get(title, "file")})
        self.report.place(("artifacts", name), line)
        result.setdefault(role, [])
        if name not in result[role]:
            result[role].append(name)
        result.setdefault("_artifact_keys", {})[key] = name

    def _text(self, text: str, inputs: _Inputs, name: str, line: int | None) -> str:
        def placeholder(match: re.Match) -> str:
            side, kind, key, _attribute = match.groups()
            if kind == "artifacts":
                return f"${{{{ artifacts.{inputs.result_artifact(key)} }}}}"
            if side == "outputs":
                return f"${{{{ outputs.{_strip(key, self.dagshift)} }}}}"
            return _as_text(inputs.parameter(key))

        escaped = text.replace("${{", "$${{")
        converted = _PLACEHOLDER.sub(placeholder, escaped)
        if "{{$" in converted:
            self.report.loss(f"task {name!r}: KFP placeholder in {text[:60]!r} has no pipeline equivalent: kept "
                             "as text", line, approximate=True)
        return converted

    def _resources(self, result: dict[str, Any], resources: dict[str, Any]) -> None:
        found = {}
        if resources.get("cpuLimit") or resources.get("resourceCpuLimit"):
            found["cpu"] = str(resources.get("resourceCpuLimit") or resources.get("cpuLimit"))
        if resources.get("memoryLimit") or resources.get("resourceMemoryLimit"):
            memory = resources.get("resourceMemoryLimit") or resources.get("memoryLimit")
            found["memory"] = str(memory) if not isinstance(memory, float) else f"{memory}G"
        accelerator = resources.get("accelerator") or {}
        if accelerator.get("count") or accelerator.get("resourceCount"):
            found["gpu"] = int(accelerator.get("resourceCount") or accelerator.get("count"))
        if found:
            result["resources"] = found

    def _policies(self, name: str, result: dict[str, Any], task: Any, executor: str, line: int | None) -> None:
        retry = plain(task.get("retryPolicy") or {})
        if retry.get("maxRetryCount"):
            result["retries"] = int(retry["maxRetryCount"])
            for key, target in (("backoffDuration", "retry_delay"), ("backoffMaxDuration", "retry_max_delay")):
                if retry.get(key):
                    result[target] = _duration(str(retry[key]))
            if retry.get("backoffFactor") and float(retry["backoffFactor"]) != 1.0:
                result["retry_backoff"] = float(retry["backoffFactor"])
        caching = plain(task.get("cachingOptions"))
        if isinstance(caching, dict) and caching.get("enableCache"):
            result["cache"] = True
        strategy = (task.get("triggerPolicy") or {}).get("strategy")
        if strategy == "ALL_UPSTREAM_TASKS_COMPLETED":
            result["trigger_rule"] = "all_done"
        platform = self.platform.get(executor) or {}
        if platform.get("activeDeadlineSeconds"):
            result["timeout"] = int(platform["activeDeadlineSeconds"])
        for secret in platform.get("secretAsEnv") or []:
            secret_name = str(secret.get("secretName") or (secret.get("secretNameParameter") or {}).get(
                "runtimeValue", {}).get("constant", ""))
            for pair in secret.get("keyToEnv") or []:
                if not is_env_name(str(pair.get("envVar"))):
                    self.report.loss(f"task {name!r}: secret env {pair.get('envVar')!r} is not a name a shell can "
                                     "set: not carried", line)
                    continue
                key = str(pair.get("secretKey"))
                if not is_portable_secret(secret_name, key):
                    self.report.loss(f"task {name!r}: secret {secret_name!r} key {key!r} {SECRET_NOT_CARRIED}", line)
                    continue
                result.setdefault("secrets", {})[str(pair.get("envVar"))] = {"name": secret_name, "key": key}
        raw = self.platform_lines.get(executor)
        for key in platform:
            if key not in ("activeDeadlineSeconds", "secretAsEnv"):
                self.report.loss(f"task {name!r}: kubernetes {key} has no pipeline equivalent: not carried",
                                 line_of(raw, key) if raw is not None else line)

    # ------------------------------------------------------------------ edges

    def _resolve_after(self) -> None:
        """dependentTasks name KFP tasks or groups: every task inside a group it names; edges
        already made by a data reference or an artifact are left implicit."""
        for task_id, task in self.tasks.items():
            after: list[str] = []
            for dependency in task.pop("_after", []):
                after += self.groups.get(dependency, [self.kfp_names.get(dependency, dependency)])
            task.pop("_artifact_keys", None)
            implied = set(re.findall(r"tasks\.([A-Za-z0-9_-]+)\.outputs", json.dumps(task)))
            implied |= {t for t, other in self.tasks.items() for a in task.get("consumes", [])
                        if a in other.get("produces", [])}
            task_after = [a for a in dict.fromkeys(after) if a != task_id and a not in implied and a in self.tasks]
            if task_after:
                task["after"] = task_after


def _as_text(value: Any) -> str:
    """A bound value inside a command's text: a constant that is not text is written as JSON."""
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value)
