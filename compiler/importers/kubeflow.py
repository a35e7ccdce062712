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
  output parameters -> outputs;
* `retryPolicy` -> retries / retry_delay / retry_backoff / retry_max_delay; `cachingOptions`
  -> cache; the platform spec document: kubernetes `secretAsEnv` -> secrets,
  `activeDeadlineSeconds` -> timeout;
* `triggerPolicy.strategy: ALL_UPSTREAM_TASKS_COMPLETED` -> trigger_rule all_done.
Exit handlers, dagshift's alert / final-state helper tasks and anything else with no IR
equivalent are reported as losses.

Not carried (`not_carried`), with the reason: the pipeline's name (kfp writes only its DNS-safe
form, `fan-out` for `fan_out`), artifacts' paths (KFP artifacts live at URIs it
chooses; an imported artifact's path is its name) and descriptions, the kinds KFP merges
(dataset and file are both system.Dataset), params' enum/min/max/descriptions (KFP types only),
pipeline tags/owner/workdir, tasks' and outputs' descriptions (kfp keeps them in the module, not
the spec), tasks' estimate and priority, env on python tasks are set in the
component body, the schedule (recurring_run.yaml is a separate file) and the `type` written or
implied (as for Prefect).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from . import Importer
from .base import Imported, Reporter, line_of, plain, yaml_documents

_SHELL_COMMAND = ["sh", "-c", 'IFS=; exec bash -c "$*"', "sh"]
_TYPES = {"STRING": "str", "NUMBER_INTEGER": "int", "NUMBER_DOUBLE": "float", "BOOLEAN": "bool", "LIST": "list",
          "STRUCT": "dict"}
_KINDS = {"system.Dataset": "dataset", "system.Model": "model", "system.Metrics": "metrics", "system.HTML": "plots",
          "system.Markdown": "plots", "system.ClassificationMetrics": "metrics", "system.Artifact": "directory"}
_PLACEHOLDER = re.compile(r"\{\{\$\.(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\](?:\.(path|output_file|uri))?\}\}")
_HELPERS = ("dagshift-alerts", "dagshift-final-state")


class KubeflowImporter(Importer):
    name = "kubeflow"
    title = "Kubeflow Pipelines v2"
    not_carried = (
        "name", "artifacts.*.path", "artifacts.*.description", "artifacts.*.kind", "params.*.enum", "params.*.min",
        "params.*.max", "params.*.description", "params.*.type", "tags", "owner", "workdir", "schedule", "triggers",
        "tasks.*.estimate", "tasks.*.priority", "tasks.*.description", "tasks.*.outputs.*.description", "alerts", "tasks.*.alerts",
        "max_active_tasks", "max_active_runs", "timeout",
    )

    def detect(self, path: Path, text: str) -> bool:
        return path.suffix in (".yaml", ".yml", ".json") and "pipelineInfo" in text and "deploymentSpec" in text \
            and "root" in text

    def read(self, path: Path, text: str, display: str) -> list[Imported]:
        report = Reporter(display, text)
        try:
            documents = yaml_documents(text)
        except Exception as exc:
            report.error(f"not valid YAML: {exc}", code="E601")
            return [Imported(display, None, report.diagnostics)]
        spec = next((d for d in documents if isinstance(d, dict) and "root" in d and "deploymentSpec" in d), None)
        if spec is None:
            report.error("no PipelineSpec in the file (root, components, deploymentSpec)", code="E601")
            return [Imported(display, None, report.diagnostics)]
        platform = next((d for d in documents if isinstance(d, dict) and "platforms" in d), None)
        data = _SpecReader(spec, platform, report).read()
        return [Imported(display, data, report.diagnostics)]


IMPORTER = KubeflowImporter()


def _strip(name: str, dagshift: bool) -> str:
    """dagshift prefixes names in components (p_ params, a_ artifacts, o_ outputs, k_ item keys)."""
    return name[2:] if dagshift and re.match(r"[paok]_", name) else name


def _task_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "task"


class _SpecReader:
    def __init__(self, spec: Any, platform: Any, report: Reporter):
        self.spec = spec
        self.report = report
        self.components = spec.get("components") or {}
        self.executors = (spec.get("deploymentSpec") or {}).get("executors") or {}
        kubernetes = plain(((platform or {}).get("platforms") or {}).get("kubernetes") or {})
        self.platform = (kubernetes.get("deploymentSpec") or {}).get("executors") or {}
        self.dagshift = any((e.get("container") or {}).get("command") == _SHELL_COMMAND for e in self.executors.values()) \
            or any(k.startswith("comp-dagshift-") for k in self.components) or self._prefixed_names()
        self.tasks: dict[str, dict[str, Any]] = {}
        self.kfp_names: dict[str, str] = {}  # KFP task key -> task id
        self.groups: dict[str, list[str]] = {}  # group task key -> the task ids inside
        self.params: dict[str, Any] = {}
        self.artifacts: dict[str, Any] = {}

    def read(self) -> dict[str, Any]:
        info = self.spec.get("pipelineInfo") or {}
        # kfp writes the pipeline's own name in the header comment; pipelineInfo.name is DNS-safe
        header = re.search(r"^# Name: (\S+)$", self.report.lines and "\n".join(self.report.lines[:5]) or "", re.M)
        data: dict[str, Any] = {"name": header.group(1) if header else str(info.get("name") or "pipeline")}
        if info.get("description"):
            data["description"] = str(info["description"])
        root = self.spec.get("root") or {}
        self.params = self._params(root)
        if self.params:
            data["params"] = self.params
        self._names(root.get("dag") or {})
        self._dag(root.get("dag") or {}, _Scope({}, None, None, None))
        self._resolve_after()
        if self.artifacts:
            data["artifacts"] = self.artifacts
        data["tasks"] = self.tasks
        if not self.tasks:
            self.report.error("the PipelineSpec runs no task", code="E601")
        return data

    def _prefixed_names(self) -> bool:
        """dagshift names every component input and output p_/a_/o_/v_ (or item)."""
        names = [str(n) for c in self.components.values() if "executorLabel" in c
                 for side in ("inputDefinitions", "outputDefinitions") for kind in ("parameters", "artifacts")
                 for n in ((c.get(side) or {}).get(kind) or {})]
        return bool(names) and all(re.match(r"([paov]_|item)", n) for n in names)

    def _names(self, dag: Any) -> None:
        """Every KFP task key -> its task id, before reading (a task may read one defined later)."""
        for key, task in (dag.get("tasks") or {}).items():
            component = self.components.get(((task.get("componentRef") or {}).get("name")) or "") or {}
            self.kfp_names.setdefault(str(key), _task_id(str((task.get("taskInfo") or {}).get("name") or key)))
            if "dag" in component:
                self._names(component["dag"])

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
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
                self.report.loss(f"parameter {name!r} is not an identifier: not carried", line_of(definitions, name))
                continue
            params[str(name)] = param
        for name in (root.get("inputDefinitions") or {}).get("artifacts") or {}:
            self.report.loss(f"pipeline input artifact {name!r} has no pipeline equivalent: not carried",
                             line_of((root.get("inputDefinitions") or {}).get("artifacts"), name))
        return params

    # ------------------------------------------------------------------ DAGs

    def _dag(self, dag: Any, scope: "_Scope") -> list[str]:
        """Read a DAG's tasks; returns the task ids it (and its groups) holds."""
        inside: list[str] = []
        tasks = dag.get("tasks") or {}
        for key, task in tasks.items():
            component = self.components.get(((task.get("componentRef") or {}).get("name")) or "") or {}
            name = str((task.get("taskInfo") or {}).get("name") or key)
            if name in _HELPERS or name.startswith("dagshift-") or "state-of" in str(key) or " state of " in name \
                    or name.endswith(": alerts"):
                self.report.loss(f"KFP task {name!r} (dagshift's alert / final-state helper) is not carried",
                                 line_of(tasks, key), approximate=True)
                continue
            if "dag" in component:
                ids = self._group(key, task, component, scope, line_of(tasks, key))
            elif "executorLabel" in component:
                ids = [self._task(key, task, component, scope, line_of(tasks, key))]
            else:
                self.report.loss(f"KFP task {key!r} has no executor nor DAG: not carried", line_of(tasks, key))
                continue
            self.groups[key] = [i for i in ids if i]
            inside += self.groups[key]
        return inside

    def _group(self, key: str, task: Any, component: Any, scope: "_Scope", line: int | None) -> list[str]:
        inner = scope.child(task)
        condition = (task.get("triggerPolicy") or {}).get("condition")
        if condition:
            inner.when = self._condition(str(condition), task, scope, line)
        iterator = task.get("parameterIterator")
        if iterator:
            inner.foreach = self._foreach(iterator, task, scope, line)
            inner.item = str(iterator.get("itemInput"))
            limit = (task.get("iteratorPolicy") or {}).get("parallelismLimit")
            inner.limit = int(limit) if limit else None
        if not condition and not iterator and not key.startswith("condition-branches") \
                and not key.startswith("exit-handler"):
            self.report.loss(f"KFP sub-DAG {key!r} is flattened into the pipeline", line, approximate=True)
        if key.startswith("exit-handler"):
            self.report.loss("an exit handler's exit task is not carried as such (dagshift alerts run on failure "
                             "or success)", line, approximate=True)
        branches = key.startswith("condition-branches")
        ids = self._dag(component["dag"], inner) if not branches else self._branches(component["dag"], inner)
        if condition:
            self._only_roots_conditional(component["dag"], ids)
        # a group depends on the producers of the values it passes in (those edges are the inner
        # tasks' own data references); any other dependency is an order edge of every task inside
        producers = {str(((b.get("taskOutputParameter") or b.get("taskOutputArtifact") or {}).get("producerTask")))
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
        inner_keys = set((dag.get("tasks") or {}))
        for task_id in ids:
            if any(str(d) in inner_keys for d in self.tasks[task_id].get("_after", [])):
                self.tasks[task_id].pop("when", None)

    def _branches(self, dag: Any, scope: "_Scope") -> list[str]:
        """dsl.If / dsl.Else: a branch whose condition is `!(C)` of the first's is its else branch."""
        tasks = dag.get("tasks") or {}
        conditions = {k: str((t.get("triggerPolicy") or {}).get("condition") or "") for k, t in tasks.items()}
        ids = self._dag(dag, scope)
        first = next(iter(conditions), None)
        for key, condition in conditions.items():
            roots = [t for t in self.groups.get(first or "", []) if "when" in self.tasks[t]]
            if first and key != first and condition == f"!({conditions[first]})" and roots:
                target = roots[0]
                for task_id in self.groups.get(key, []):
                    task = self.tasks[task_id]
                    if task.get("when") == self.tasks[target].get("when", "").join(["", ""]) or task.get("when"):
                        task.pop("when", None)
                        task["else_of"] = target
        return ids

    def _condition(self, text: str, task: Any, scope: "_Scope", line: int | None) -> str | None:
        def channel(match: re.Match) -> str:
            return self._channel_ref(match.group(1), task, scope, bare=True) or "?"

        converted = re.sub(r"inputs\.parameter_values\['([^']+)'\]", channel, text)
        converted = re.sub(r"\b(int|double|string)\(", "(", converted)
        converted = converted.replace("&&", " and ").replace("||", " or ")
        converted = re.sub(r"!(?!=)", "not ", converted)
        converted = re.sub(r'"([^"\']*)"', r"'\1'", converted)
        converted = re.sub(r"\s+", " ", converted).strip()
        if "state_of" in converted or "state-of" in converted:
            self.report.loss(f"the condition {text!r} reads dagshift's final-state probes (a failure trigger rule): "
                             "not carried, the tasks under it run on success", line, approximate=True)
            return scope.when
        if "?" in converted:
            self.report.loss(f"the condition {text!r} reads values dagshift cannot name: the tasks under it run "
                             "unconditionally", line, approximate=True)
            return None
        return _and(scope.when, converted)

    def _foreach(self, iterator: Any, task: Any, scope: "_Scope", line: int | None) -> Any:
        items = iterator.get("items") or {}
        if "raw" in items:
            try:
                value = json.loads(str(items["raw"]))
            except ValueError:
                self.report.loss("the loop's raw items are not JSON: not carried", line)
                return None
            return [self._item_keys(v) for v in value] if isinstance(value, list) else None
        if "inputParameter" in items:
            return self._channel_ref(str(items["inputParameter"]), task, scope)
        self.report.loss("a loop over an artifact list has no pipeline equivalent: not carried", line)
        return None

    def _item_keys(self, item: Any) -> Any:
        if isinstance(item, dict):
            return {_strip(str(k), self.dagshift): v for k, v in item.items()}
        return item

    def _channel_ref(self, channel: str, task: Any, scope: "_Scope", bare: bool = False) -> str | None:
        """A group task's input channel as a reference: followed through the enclosing groups to a
        root param or a task output."""
        binding = ((task.get("inputs") or {}).get("parameters") or {}).get(channel)
        return self._binding_ref(binding, scope, bare) if binding is not None else None

    def _binding_ref(self, binding: Any, scope: "_Scope", bare: bool = False) -> str | None:
        wrap = (lambda t: t) if bare else (lambda t: f"${{{{ {t} }}}}")
        if "componentInputParameter" in binding:
            name = str(binding["componentInputParameter"])
            if scope.parent_task is None:
                return wrap(f"params.{name}") if name in self.params else None
            if scope.item is not None and name == scope.item:
                selector = binding.get("parameterExpressionSelector")
                key = re.search(r'\["([^"]+)"\]', str(selector or ""))
                return wrap("item" if not key else f"item.{_strip(key.group(1), self.dagshift)}")
            return self._channel_ref(name, scope.parent_task, scope.parent, bare)
        if "taskOutputParameter" in binding:
            output = binding["taskOutputParameter"]
            producer_key, key = str(output.get("producerTask")), str(output.get("outputParameterKey"))
            collected = re.fullmatch(r"pipelinechannel--(.+)-([^-]+)", key)
            if collected and self.components.get(f"comp-{producer_key}", {}).get("dag") is not None:
                producer_key, key = collected.groups()  # dsl.Collected: the loop's task's output
            producer = self.kfp_names.get(producer_key, producer_key)
            key = _strip(key, self.dagshift)
            return wrap(f"tasks.{producer}.outputs.{key}")
        if "runtimeValue" in binding:
            constant = plain((binding["runtimeValue"] or {}).get("constant"))
            return constant if not bare else json.dumps(constant)
        return None

    # ------------------------------------------------------------------ one task

    def _task(self, key: str, task: Any, component: Any, scope: "_Scope", line: int | None) -> str:
        name = _task_id(str((task.get("taskInfo") or {}).get("name") or key))
        if name in self.tasks:
            # dagshift writes a none_failed join once per branch of a condition: one task
            self.report.loss(f"task {name!r} appears more than once (a join after a condition's branches): imported "
                             "once, with trigger_rule none_failed", line, approximate=not self.dagshift)
            self.kfp_names[key] = name
            joined = self.tasks[name]
            joined["trigger_rule"] = "none_failed"
            joined.pop("when", None)
            joined.setdefault("_after", []).extend(str(d) for d in task.get("dependentTasks") or [])
            return name
        self.kfp_names[key] = name
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
        self.tasks[name] = result
        return name

    def _container(self, name: str, result: dict[str, Any], container: Any, component: Any, inputs: "_Inputs",
                   line: int | None) -> None:
        command = [str(c) for c in container.get("command") or []]
        args = [str(a) for a in container.get("args") or []]
        outputs = component.get("outputDefinitions") or {}
        for key, definition in (outputs.get("parameters") or {}).items():
            kind = _TYPES.get(str(definition.get("parameterType")), "str")
            if key != "Output":
                result.setdefault("outputs", {})[_strip(str(key), self.dagshift)] = kind
        for key, definition in (outputs.get("artifacts") or {}).items():
            self._artifact(str(key), definition, result, "produces")
        for key, definition in ((component.get("inputDefinitions") or {}).get("artifacts") or {}).items():
            self._artifact(str(key), definition, result, "consumes", inputs)
        if command == _SHELL_COMMAND:
            result["command"] = "".join(self._text(a, inputs, name, line) for a in args)
        elif "--function_to_execute" in args:
            function = args[args.index("--function_to_execute") + 1]
            _PythonBody(self, name, result, inputs, line).read(command[-1], function)
        else:
            result["image"] = str(container.get("image") or "")
            if command:
                result["command"] = [self._text(c, inputs, name, line) for c in command]
            if args:
                result["args"] = [self._text(a, inputs, name, line) for a in args]
            if container.get("env"):
                for variable in container["env"]:
                    result.setdefault("env", {})[str(variable.get("name"))] = str(variable.get("value", ""))
            if container.get("resources"):
                self._resources(result, plain(container["resources"]))

    def _artifact(self, key: str, definition: Any, result: dict[str, Any], role: str,
                  inputs: "_Inputs | None" = None) -> None:
        name = _strip(key, self.dagshift)
        if inputs is not None:
            binding = inputs.artifacts.get(key) or {}
            upstream = binding.get("taskOutputArtifact") or {}
            if upstream.get("outputArtifactKey"):
                name = _strip(str(upstream["outputArtifactKey"]), self.dagshift)
            elif "componentInputArtifact" in binding:
                channel = str(binding["componentInputArtifact"])
                found = re.match(r"pipelinechannel--.+?-(a_\w+|\w+)$", channel)
                if found:
                    name = _strip(found.group(1), self.dagshift)
        title = str(((definition.get("artifactType") or {}).get("schemaTitle")) or "system.Artifact")
        self.artifacts.setdefault(name, {"path": name, "kind": _KINDS.get(title, "file")})
        result.setdefault(role, [])
        if name not in result[role]:
            result[role].append(name)
        result.setdefault("_artifact_keys", {})[key] = name

    def _text(self, text: str, inputs: "_Inputs", name: str, line: int | None) -> str:
        def placeholder(match: re.Match) -> str:
            side, kind, key, attribute = match.groups()
            if kind == "artifacts":
                return f"${{{{ artifacts.{inputs.result_artifact(key)} }}}}"
            if side == "outputs":
                return f"${{{{ outputs.{_strip(key, self.dagshift)} }}}}"
            return inputs.parameter(key) or ""

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
                result.setdefault("secrets", {})[str(pair.get("envVar"))] = {"name": secret_name,
                                                                             "key": str(pair.get("secretKey"))}
        for key in platform:
            if key not in ("activeDeadlineSeconds", "secretAsEnv"):
                self.report.loss(f"task {name!r}: kubernetes {key} has no pipeline equivalent: not carried", line)

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


class _Scope:
    """Where a task sits: the enclosing group's condition, loop and the group task itself."""

    def __init__(self, task: Any, parent: "_Scope | None", when: str | None, foreach: Any):
        self.parent_task = task if parent is not None else None
        self.parent = parent
        self.when = when
        self.foreach = foreach
        self.item: str | None = None
        self.limit: int | None = None

    def child(self, task: Any) -> "_Scope":
        inner = _Scope(task, self, self.when, self.foreach)
        inner.item, inner.limit = self.item, self.limit
        return inner


class _Inputs:
    """A task's input bindings, as dagshift references."""

    def __init__(self, reader: _SpecReader, task: Any, scope: _Scope):
        self.reader = reader
        self.task = task
        self.scope = scope
        inputs = task.get("inputs") or {}
        self.parameters = inputs.get("parameters") or {}
        self.artifacts = inputs.get("artifacts") or {}

    def parameter(self, key: str, bare: bool = False) -> str | None:
        binding = self.parameters.get(key)
        if binding is None:
            return None
        return self.reader._binding_ref(binding, self.scope, bare)

    def result_artifact(self, key: str) -> str:
        upstream = (self.artifacts.get(key) or {}).get("taskOutputArtifact") or {}
        if upstream.get("outputArtifactKey"):
            return _strip(str(upstream["outputArtifactKey"]), self.reader.dagshift)
        channel = str((self.artifacts.get(key) or {}).get("componentInputArtifact") or "")
        found = re.match(r"pipelinechannel--.+?-(a_\w+|\w+)$", channel)
        return _strip(found.group(1) if found else key, self.reader.dagshift)


def _duration(text: str) -> int:
    found = re.fullmatch(r"(\d+(?:\.\d+)?)s", text.strip())
    return int(float(found.group(1))) if found else 0


def _and(left: str | None, right: str | None) -> str | None:
    if left and right:
        return f"({left}) and ({right})"
    return left or right


# ----------------------------------------------------------------------------- python components


class _PythonBody:
    """A lightweight component's source: `from M import F` then `F(kw=...)` (dagshift's form)."""

    def __init__(self, reader: _SpecReader, name: str, result: dict[str, Any], inputs: _Inputs, line: int | None):
        self.reader = reader
        self.name = name
        self.result = result
        self.inputs = inputs
        self.line = line

    def read(self, source: str, function_name: str) -> None:
        try:
            module = ast.parse(source)
        except SyntaxError:
            self._manual("its source is not valid Python")
            return
        function = next((n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == function_name), None)
        if function is None:
            self._manual(f"the function {function_name} is not in its source")
            return
        if all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in function.body):
            return  # dagshift's no-op task
        imported = {}
        call = None
        for statement in function.body:
            if isinstance(statement, ast.ImportFrom) and statement.module and len(statement.names) == 1:
                alias = statement.names[0]
                imported[alias.asname or alias.name] = f"{statement.module}:{alias.name}"
            value = getattr(statement, "value", None)
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in imported:
                call = value
        if call is None:
            self._manual("its body is Python code, not a call of an importable function")
            return
        self.result["python"] = imported[call.func.id]
        if call.args:
            self.reader.report.loss(f"task {self.name!r}: positional arguments are not carried", self.line)
        args = {k.arg: self._value(k.value) for k in call.keywords if k.arg}
        if args:
            self.result["args"] = args

    def _manual(self, why: str) -> None:
        self.reader.report.error(f"the python component of task {self.name!r} cannot be imported: {why}", self.line,
                                 help="port the component's code into a module and call it as `python: module:function`")

    def _value(self, node: ast.expr) -> Any:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError):
            pass
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name):
            return f"${{{{ artifacts.{self.inputs.result_artifact(node.value.id)} }}}}" \
                if node.value.id in self.inputs.artifacts else \
                f"${{{{ artifacts.{self.result.get('_artifact_keys', {}).get(node.value.id, node.value.id)} }}}}"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._text(node.left) + self._text(node.right)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._value(v) for v in node.elts]
        if isinstance(node, ast.Dict) and None not in node.keys:
            return {str(ast.literal_eval(k)): self._value(v) for k, v in zip(node.keys, node.values)}
        self.reader.report.loss(f"task {self.name!r}: argument {ast.unparse(node)!r} is kept as text", self.line,
                                approximate=True)
        return ast.unparse(node)

    def _text(self, node: ast.expr) -> str:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._text(node.left) + self._text(node.right)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.replace("${{", "$${{")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_text", "str") and node.args:
            node = node.args[0]
        value = self._value(node)
        return value if isinstance(value, str) else json.dumps(value)

    def _name(self, name: str) -> str:
        if name == "item" or name.startswith("item_"):
            ref = self.inputs.parameter(name)
            if ref:
                return ref
        ref = self.inputs.parameter(name)
        if ref is not None:
            return ref
        return name
