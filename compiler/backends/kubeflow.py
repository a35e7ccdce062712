"""Kubeflow Pipelines v2 backend: a KFP pipeline module (`<name>.py`), written with the kfp SDK.

Shell and container tasks become `@dsl.container_component`s; a shell command is cut into the
literal text and the values of its placeholders, passed as separate arguments and joined again
by `sh -c 'IFS=; exec bash -c "$*"'`, so no user text is ever read as KFP placeholder syntax
(`{{$...}}`: literal `{{` is split between two arguments). Python tasks become lightweight
`@dsl.component`s that import `module:function` inside their body and call it with keyword
arguments written as Python expressions (literal strings with `{` and `}` escaped, since KFP
embeds the body's source in the container command). Params are typed pipeline parameters;
artifacts are KFP artifacts (`Output[...]` on the producer, `Input[...]` on consumers, their
`.path` where the pipeline says `${{ artifacts.X }}`); value outputs are output parameters.

Compiling the module to PipelineSpec YAML is kfp's own job: `python <name>.py` writes
`<name>.yaml`. Details and what is not mapped yet: docs/backends/kubeflow.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import emit
from ..features import Feature
from ..graph import topological_order
from ..ir import ArtifactKind, Pipeline, Task, ValueType
from ..naming import python_name
from ..optimize import TaskCost
from ..values import CRON_PRESETS
from ..placeholders import Ref
from ..placeholders import parse as parse_placeholders
from .base import Backend, EmitContext, native, unsupported
from .specs import unique_python_names

KFP_VERSION = "2.17.3"
DEFAULT_IMAGE = "python:3.12-slim"
_NOT_YET = "not mapped by dagshift's Kubeflow backend yet (issue 8); compile to another target, or leave it out"

_TYPES = {
    ValueType.STR: "str",
    ValueType.INT: "int",
    ValueType.FLOAT: "float",
    ValueType.BOOL: "bool",
    ValueType.LIST: "list",
    ValueType.DICT: "dict",
}
_ARTIFACT_TYPES = {
    ArtifactKind.DATASET: "Dataset",
    ArtifactKind.MODEL: "Model",
    ArtifactKind.METRICS: "Metrics",
    ArtifactKind.PLOTS: "HTML",
    ArtifactKind.FILE: "Dataset",
    ArtifactKind.DIRECTORY: "Artifact",
}
# Joins its arguments into one script: IFS empty makes "$*" their plain concatenation.
_JOIN = 'IFS=; exec bash -c "$*"'


class KubeflowBackend(Backend):
    name = "kubeflow"
    title = "Kubeflow Pipelines v2"
    cost = TaskCost(10.0, "each task is a pod, plus the KFP driver and launcher around it")
    option_help = {"image": f"the image of shell and python tasks (default {DEFAULT_IMAGE})"}
    capabilities = {
        Feature.SHELL: native("a container component running the command with bash"),
        Feature.PYTHON: native("a lightweight python component importing module:function in its body"),
        Feature.CONTAINER: native("a container component with the image"),
        Feature.NOOP: native("a python component that does nothing"),
        Feature.ORDER_EDGE: native(".after()"),
        Feature.ARTIFACTS: native("KFP artifacts: Output[...] on the producer, Input[...] on consumers"),
        Feature.VALUE_OUTPUTS: native("output parameters (python return values, OutputPath files for shell)"),
        Feature.PARAMS: native("typed pipeline parameters with defaults"),
        Feature.RETRIES: native("set_retry(num_retries, backoff_duration)"),
        Feature.RETRY_BACKOFF: native("set_retry(backoff_factor)"),
        Feature.RETRY_MAX_DELAY: native("set_retry(backoff_max_duration)"),
        Feature.ENV: native("set_env_variable (compile-time values)"),
        Feature.RESOURCES: native("set_cpu_limit / set_memory_limit"),
        Feature.GPU: native("set_accelerator_type / set_accelerator_limit"),
        Feature.CACHE: native("set_caching_options(enable_caching=True); off for every other task"),
        Feature.SCHEDULE: native("recurring_run.yaml: the arguments of Client.create_recurring_run (6-field cron); "
                                 "the time zone is the cluster's (CRON_SCHEDULE_TIMEZONE)"),
        Feature.CATCHUP: native("recurring run no_catchup: false"),
        Feature.MAX_ACTIVE_TASKS: unsupported("KFP has no per-run task limit: limit pods with a namespace "
                                              "ResourceQuota, or fan-outs with max_parallel"),
        Feature.WORKDIR: unsupported("a KFP task starts in its image's working directory: `cd` in the command"),
        **{feature: unsupported(_NOT_YET) for feature in (
            Feature.PYTHON_IN_IMAGE, Feature.DATA_TRIGGER,
            Feature.MANUAL_TRIGGER, Feature.CONTINUOUS_TRIGGER, Feature.TIMEOUT, Feature.PIPELINE_TIMEOUT,
            Feature.CONDITION, Feature.TRIGGER_RULE, Feature.STATIC_FAN_OUT, Feature.DYNAMIC_FAN_OUT,
            Feature.FAN_IN, Feature.MAX_PARALLEL, Feature.SECRETS, Feature.POOL,
            Feature.MAX_ACTIVE_RUNS, Feature.PIPELINE_ALERTS, Feature.TASK_ALERTS, Feature.RETRY_ALERTS,
            Feature.SUCCESS_ALERTS)},
    }

    def render(self, pipeline: Pipeline, ctx: EmitContext) -> dict[str, str]:
        builder = _ModuleBuilder(pipeline, ctx)
        if not builder.build():
            return {}
        module = f"{python_name(pipeline.name)}.py"
        source = emit.render("kubeflow", "pipeline.py.j2", **builder.context(module))
        files = {module: emit.format_python(source, module)}
        if pipeline.schedule is not None:
            files["recurring_run.yaml"] = _recurring_run(pipeline, module[:-3] + ".yaml", ctx)
        return files


def _recurring_run(pipeline: Pipeline, package: str, ctx: EmitContext) -> str:
    """The schedule as keyword arguments of kfp.Client.create_recurring_run."""
    schedule = pipeline.schedule
    assert schedule is not None
    if schedule.timezone != "UTC":
        ctx.report.warning("W302", f"Kubeflow cron schedules run in the cluster's time zone, not per pipeline: "
                                   f"'{schedule.timezone}' must be set on the cluster", ("schedule", "timezone"),
                           at_key=True, help="set CRON_SCHEDULE_TIMEZONE on the scheduledworkflow controller, or "
                                             "write the cron in the cluster's time zone")
    cron = CRON_PRESETS.get(schedule.cron, schedule.cron)
    spec: dict[str, Any] = {
        "job_name": pipeline.name,
        "pipeline_package_path": package,
        "cron_expression": f"0 {cron}",  # KFP's cron has seconds first
        "no_catchup": not schedule.catchup,
    }
    if schedule.start_date is not None:
        start = schedule.start_date
        if not isinstance(start, datetime):
            start = datetime(start.year, start.month, start.day)
        spec["start_time"] = start.isoformat() + ("Z" if start.tzinfo is None else "")  # RFC 3339
    header = (f"# Recurring run of `{pipeline.name}`, generated by dagshift: pass these as keyword arguments\n"
              "# to kfp.Client().create_recurring_run(experiment_id=..., **spec) after compiling the pipeline.\n"
              f"# Time zone: {schedule.timezone} (the cluster's CRON_SCHEDULE_TIMEZONE decides).\n")
    text = header + emit.to_yaml(spec)
    emit.parse_yaml(text, "recurring_run.yaml")
    return text


def code_literal(value: Any) -> str:
    """A Python literal whose source text has no `{` or `}` in strings: KFP reads `{{$...}}` in a
    component's command, which holds a python component's source."""
    if isinstance(value, str):
        return repr(value).replace("{", "\\x7b").replace("}", "\\x7d")
    if isinstance(value, list):
        return "[" + ", ".join(code_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{code_literal(k)}: {code_literal(v)}" for k, v in value.items()) + "}"
    return emit.python_literal(value)


def _pieces(text: str) -> list[str]:
    """Literal text as shell-script pieces with no `{{` inside one piece."""
    pieces, start = [], 0
    for index in range(1, len(text)):
        if text[index - 1] == "{" and text[index] == "{":
            pieces.append(text[start:index])
            start = index
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


class _ModuleBuilder:
    def __init__(self, pipeline: Pipeline, ctx: EmitContext):
        self.p = pipeline
        self.ctx = ctx
        self.graph = ctx.graph
        self.image = str(ctx.options.get("image") or DEFAULT_IMAGE)
        self.producers = {a: t for t, task in pipeline.tasks.items() for a in task.produces}
        used = {"dsl", "compiler", "NamedTuple", "PIPELINE", "IMAGE", python_name(pipeline.name), *pipeline.params}
        self.components = unique_python_names(pipeline.tasks, used)
        self.variables = {t: f"{name}_task" for t, name in self.components.items()}
        self.component_code: list[str] = []
        self.body: list[str] = []

    # ------------------------------------------------------------------ checks and build

    def build(self) -> bool:
        before = len(self.ctx.diagnostics.errors)
        for task_id in topological_order(self.graph):
            self._task(task_id)
        return len(self.ctx.diagnostics.errors) == before

    def context(self, module: str) -> dict[str, Any]:
        return {
            "name": self.p.name,
            "source": self.ctx.source_name,
            "module": module,
            "yaml_name": module[:-3] + ".yaml",
            "image": self.image,
            "kfp_version": KFP_VERSION,
            "components": self.component_code,
            "function": python_name(self.p.name),
            "description": self.p.description,
            "params": [f"{name}: {_TYPES[param.value_type]} = {code_literal(param.default)}"
                       for name, param in self.p.params.items()],
            "body": self.body,
            "needs_named_tuple": any("NamedTuple(" in code for code in self.component_code),
        }

    def _error(self, task_id: str, message: str, path: tuple, help: str) -> None:
        self.ctx.report.error("E302", f"Kubeflow backend: {message}", ("tasks", task_id, *path), help=help)

    # ------------------------------------------------------------------ inputs of a component

    def _inputs(self, task_id: str, task: Task) -> tuple[list[str], list[str]]:
        """The component's signature entries and the call's keyword arguments, in a stable order:
        params, consumed artifacts, upstream values, then produced artifacts and own outputs."""
        signature, call = [], []
        refs = [ref for text in _texts(task) for ref in _refs(text)]
        for name in dict.fromkeys(str(r.name) for r in refs if r.kind == "param"):
            signature.append(f"p_{name}: {_TYPES[self.p.params[name].value_type]}")
            call.append(f"p_{name}={name}")
        for artifact in task.consumes:
            if artifact in self.producers:
                kind = _ARTIFACT_TYPES[self.p.artifacts[artifact].kind]
                signature.append(f"a_{artifact}: dsl.Input[dsl.{kind}]")
                producer = self.variables[self.producers[artifact]]
                call.append(f'a_{artifact}={producer}.outputs["a_{artifact}"]')
        for upstream, output in dict.fromkeys((str(r.task), str(r.name)) for r in refs if r.kind == "task_output"):
            value_type = self.p.tasks[upstream].outputs[output].type
            signature.append(f"v_{python_name(upstream)}__{output}: {_TYPES[value_type]}")
            call.append(f'v_{python_name(upstream)}__{output}={self.variables[upstream]}.outputs["o_{output}"]')
        for artifact in task.produces:
            if not self.p.artifacts[artifact].is_uri:
                kind = _ARTIFACT_TYPES[self.p.artifacts[artifact].kind]
                signature.append(f"a_{artifact}: dsl.Output[dsl.{kind}]")
        return signature, call

    def _ref_code(self, ref: Ref, task: Task, *, python: bool) -> str | None:
        """The component-side expression of a reference (a variable, or an artifact's path)."""
        if ref.kind == "param":
            return f"p_{ref.name}"
        if ref.kind == "artifact":
            name = str(ref.name)
            artifact = self.p.artifacts[name]
            if not artifact.is_uri and (name in task.produces or (name in task.consumes and name in self.producers)):
                return f"a_{name}.path"
            return None  # a literal path: outside the pipeline, or a URI
        if ref.kind == "task_output":
            return f"v_{python_name(str(ref.task))}__{ref.name}"
        if ref.kind == "output":
            return f"o_{ref.name}"
        return None

    # ------------------------------------------------------------------ components

    def _task(self, task_id: str) -> None:
        task = self.p.tasks[task_id]
        component = self.components[task_id]
        signature, call = self._inputs(task_id, task)
        if task.kind == "python":
            code = self._python_component(task_id, task, component, signature)
        elif task.kind == "noop":
            code = f"@dsl.component(base_image=IMAGE)\ndef {component}():\n    pass\n"
        else:
            code = self._container_component(task_id, task, component, signature)
        if code is None:
            return
        self.component_code.append(code)
        variable = self.variables[task_id]
        self.body.append(f"{variable} = {component}({', '.join(call)})")
        self.body.append(f"{variable}.set_display_name({code_literal(task_id)})")
        upstream = [u for u in self.graph.predecessors(task_id) if self.graph.edges[u, task_id]["reasons"] == ("after",)]
        if upstream:
            self.body.append(f"{variable}.after({', '.join(self.variables[u] for u in upstream)})")
        self.body.extend(self._settings(variable, task))

    def _settings(self, variable: str, task: Task) -> list[str]:
        lines = []
        enabled = task.cache is not None and task.cache.enabled
        lines.append(f"{variable}.set_caching_options(enable_caching={enabled})")
        if task.retries:
            retry = [f"num_retries={task.retries}"]
            if task.retry_delay is not None:
                retry.append(f'backoff_duration="{task.retry_delay}s"')
            retry.append(f"backoff_factor={float(task.retry_backoff or 1.0)!r}")
            if task.retry_max_delay is not None:
                retry.append(f'backoff_max_duration="{task.retry_max_delay}s"')
            lines.append(f"{variable}.set_retry({', '.join(retry)})")
        for name, value in task.env.items():
            if _refs(value):
                continue  # checked in _container_component / _python_component
            lines.append(f"{variable}.set_env_variable({code_literal(name)}, {code_literal(value)})")
        resources = task.resources
        if resources is not None:
            if resources.cpu is not None:
                lines.append(f"{variable}.set_cpu_limit({code_literal(resources.cpu)})")
            if resources.memory is not None:
                lines.append(f"{variable}.set_memory_limit({code_literal(resources.memory)})")
            if resources.gpu:
                lines.append(f"{variable}.set_accelerator_type({code_literal(resources.gpu_type)})")
                lines.append(f"{variable}.set_accelerator_limit({resources.gpu})")
        return lines

    def _check_env(self, task_id: str, task: Task) -> bool:
        bad = [name for name, value in task.env.items() if _refs(value)]
        for name in bad:
            self._error(task_id, f"env value '{name}' has a placeholder; KFP env values are fixed when compiling",
                        ("env", name), help="pass the value as part of the command or as a python argument")
        return not bad

    def _fields(self, task: Task) -> str:
        return ", ".join(f"({code_literal('o_' + name)}, {_TYPES[o.type]})" for name, o in task.outputs.items())

    def _returns(self, task: Task) -> str:
        return f' -> NamedTuple("Outputs", [{self._fields(task)}])' if task.outputs else ""

    def _python_component(self, task_id: str, task: Task, component: str, signature: list[str]) -> str | None:
        if not self._check_env(task_id, task):
            return None
        module, _, function = str(task.python).partition(":")
        head, _, rest = function.partition(".")
        kwargs = task.args if isinstance(task.args, dict) else {}
        arguments = ", ".join(f"{key}={self._value_code(value, task)}" for key, value in kwargs.items())
        call = f"{head}{'.' + rest if rest else ''}({arguments})"
        lines = ["@dsl.component(base_image=IMAGE)",
                 f"def {component}({', '.join(signature)}){self._returns(task)}:"]
        if task.description:
            lines.append(f"    {code_literal(task.description)}")
        if "_text(" in arguments:  # the run-time text rule, for texts mixing literals and values
            lines.append("    import json")
            lines.append("")
            lines.append("    def _text(value):")
            lines.append("        return value if isinstance(value, str) else json.dumps(value, separators=(',', ':'), "
                         "ensure_ascii=False)")
            lines.append("")
        lines.append(f"    from {module} import {head}")
        lines.append("")
        if task.outputs:
            lines.append(f"    result = {call}")
            lines.append(f"    outputs = NamedTuple(\"Outputs\", [{self._fields(task)}])")
            if len(task.outputs) == 1:
                lines.append("    return outputs(result)")
            else:
                lines.append(f"    return outputs(*(result[name] for name in {code_literal(list(task.outputs))}))")
        else:
            lines.append(f"    {call}")
        return "\n".join(lines) + "\n"

    def _value_code(self, value: Any, task: Task) -> str:
        """A python argument as an expression: literals as literals, placeholders as variables,
        texts mixing both through _text (the run-time text rule)."""
        if isinstance(value, list):
            return "[" + ", ".join(self._value_code(v, task) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{code_literal(k)}: {self._value_code(v, task)}" for k, v in value.items()) + "}"
        if not isinstance(value, str):
            return code_literal(value)
        segments = parse_placeholders(value)[0]
        parts = []
        for segment in segments:
            if isinstance(segment, str):
                parts.append(code_literal(segment))
                continue
            code = self._ref_code(segment, task, python=True)
            if code is None:  # a literal artifact path
                parts.append(code_literal(self.p.artifacts[str(segment.name)].path))
            else:
                parts.append(code if len(segments) == 1 else f"_text({code})")
        if not parts:
            return "''"
        return parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"

    def _container_component(self, task_id: str, task: Task, component: str, signature: list[str]) -> str | None:
        if not self._check_env(task_id, task):
            return None
        output_params = [f"o_{name}: dsl.OutputPath({_TYPES[o.type]})" for name, o in task.outputs.items()]
        image = code_literal(task.image) if task.image else "IMAGE"
        extra = list(task.args) if isinstance(task.args, list) else []
        if isinstance(task.command, str):
            if extra:
                self._error(task_id, "a string command with container args is not mapped yet", ("args",),
                            help="put the arguments into the command, or use the exec (list) form")
                return None
            shell = "bash" if task.image is None else "sh"  # a user's image may have no bash
            command = f'["sh", "-c", {code_literal(_JOIN.replace("bash", shell))}, "sh"]'
            args = self._script_args(task.command, task)
        else:
            argv = [self._arg_code(task_id, part, task) for part in [*(task.command or []), *extra]]
            if None in argv:
                return None
            count = len(task.command or [])
            command = "[" + ", ".join(argv[:count]) + "]" if count else None
            args = argv[count:]
        spec = [f"image={image}"] + ([f"command={command}"] if command else []) + [f"args=[{', '.join(args)}]"]
        lines = ["@dsl.container_component",
                 f"def {component}({', '.join(signature + output_params)}):"]
        if task.description:
            lines.append(f"    {code_literal(task.description)}")
        lines.append(f"    return dsl.ContainerSpec({', '.join(spec)})")
        return "\n".join(lines) + "\n"

    def _script_args(self, text: str, task: Task) -> list[str]:
        """A shell command as arguments of the joining `sh -c`: literal pieces and values."""
        args = []
        for segment in parse_placeholders(text)[0]:
            if isinstance(segment, str):
                args.extend(code_literal(piece) for piece in _pieces(segment))
                continue
            code = self._ref_code(segment, task, python=False)
            if code is None:
                args.extend(code_literal(piece) for piece in _pieces(self.p.artifacts[str(segment.name)].path))
            else:
                args.append(code)
        return args

    def _arg_code(self, task_id: str, text: Any, task: Task) -> str | None:
        """One argv element of an exec-form command: a literal, or one whole value."""
        text = text if isinstance(text, str) else str(text)
        segments = parse_placeholders(text)[0]
        if not any(isinstance(s, Ref) for s in segments) and "{{" not in text:
            return code_literal(text)
        if len(segments) == 1 and not isinstance(segments[0], str):
            code = self._ref_code(segments[0], task, python=False)
            return code if code is not None else code_literal(self.p.artifacts[str(segments[0].name)].path)
        self._error(task_id, f"the argument {text!r} mixes text and placeholders (or holds '{{{{'), which is not "
                    "mapped yet for exec-form commands", ("command",),
                    help="use a string command, or make the placeholder the whole argument")
        return None


def _texts(task: Task) -> list[str]:
    from ..references import task_texts

    return [text for _, text in task_texts(task)]


def _refs(text: str) -> list[Ref]:
    return [s for s in parse_placeholders(text)[0] if isinstance(s, Ref)]
