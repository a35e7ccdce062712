"""Each pipeline task as the Airflow code an engineer would write for it (see docs/backends/airflow.md):

- a shell command Airflow can render: a BashOperator, the command visible in `bash_command`;
- a python task: a TaskFlow function importing the user's function and calling it;
- any other shell task (value outputs, secrets, an exec list, a fan-out): a TaskFlow function
  running the command with subprocess;
- a container: a KubernetesPodOperator (or DockerOperator), mapped with `.partial().expand()`;
- a no-op: an EmptyOperator;
- helpers: `<task>__branch` (a `@task.branch` deciding a `when`), `<task>__items` (the list a task
  maps over, where Airflow cannot map over the source itself) and `<task>__succeeded` (keeps a run
  failed when a fallback ran).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from compiler.backends.base import EmitContext
from compiler.backends.specs import PYTHON_TYPE_NAMES, condition_code, is_keyword_name, keyword_arguments, refs_in
from compiler.language import conditions
from compiler.language.ir import Alert, AlertEvent, Pipeline, Task, TriggerRule, ValueType
from compiler.language.naming import dns_name, python_name
from compiler.language.placeholders import Ref
from compiler.language.placeholders import parse as parse_placeholders
from compiler.language.values import cpu_millicores, memory_bytes
from compiler.output.emit import python_literal as py

from .conventions import ALERT, BRANCH, ENVIRONMENT, HELPER_SEPARATOR, ITEMS, OUTPUT_PATH_SUFFIX, SUCCEEDED, WORKDIR
from .defaults import AIRFLOW_DEFAULT
from .limits import HELPER_TASK_ID, NESTED_POD_PLACEHOLDER
from .pods import JsonText, LiteralText, NotWritable, PodCommand, literal_text, pod_command, segments
from .task_code import TaskCode
from .taskflow import Function, PythonValues, Upstream, indent, python_call
from .values import Needs, TemplateWriter, template_text, wrapped_string_code

# An operator reads a templated string ending like this as a template *file* name.
BASH_EXT = (".sh", ".bash")
DOCKER_EXT = (".sh", ".bash", ".env")
TRIGGER_RULES = {
    TriggerRule.ALL_SUCCESS: "ALL_SUCCESS",
    TriggerRule.ALL_DONE: "ALL_DONE",
    TriggerRule.ALL_FAILED: "ALL_FAILED",
    TriggerRule.ONE_FAILED: "ONE_FAILED",
    TriggerRule.ONE_SUCCESS: "ONE_SUCCESS",
    TriggerRule.NONE_FAILED: "NONE_FAILED",
}
FALLBACK_RULES = (TriggerRule.ONE_FAILED, TriggerRule.ALL_FAILED)


def variable_of(argument: str) -> str:
    """The task variable an XComArg expression reads (`train`, `train["name"]`, `evaluate.output`)."""
    return argument.split(".")[0].split("[")[0]


@dataclass
class Names:
    """Module-level names: task variables, helper tasks, functions and classes the file defines."""

    reserved: frozenset[str]  # what the module imports or defines, and builtins: bodies use them
    taken: set[str] = field(default_factory=set)

    def fresh(self, wanted: str) -> str:
        name, counter = wanted, 2
        while name in self.taken or name in self.reserved:
            name, counter = f"{wanted}{counter}", counter + 1
        self.taken.add(name)
        return name


class TaskWriter:
    """Writes the TaskCode of each task; what the file needs is collected in `needs`."""

    def __init__(self, pipeline: Pipeline, ctx: EmitContext, needs: Needs, names: Names, variables: dict[str, str]):
        self.p, self.ctx, self.needs, self.names, self.vars = pipeline, ctx, needs, names, variables
        self.container = ctx.options.get("container", "kpo")
        self.templates = TemplateWriter(pipeline, needs, self._xcom_jinja)
        self.python = PythonValues(pipeline, needs, self._upstream)
        self.uses_workdir = False
        self.functions: list[str] = []  # module-level code: python alert callbacks, TypedDicts
        self.alert_functions: dict[tuple[str, str, str], str] = {}  # (target, args, event) -> its callback

    # ------------------------------------------------------------------ tasks

    def task(self, task_id: str) -> list[TaskCode]:
        """The task's code, preceded by the helpers it needs (its branch, the list it maps over)."""
        task = self.p.tasks[task_id]
        codes: list[TaskCode] = []
        if task.when is not None:
            codes += self._branch(task_id, task)
        if task.kind == "noop":
            code = self._empty(task_id, task)
        elif task.image is not None:
            code = self._pod(task_id, task, codes)
        elif task.kind == "shell" and self._bash_runs(task):
            code = self._bash(task_id, task)
        else:
            code = self._taskflow(task_id, task, codes)
        if code is not None:
            codes.append(code)
        if any(self.p.tasks[d].trigger_rule in FALLBACK_RULES for d in self.ctx.graph.successors(task_id)):
            codes += self._success_guard(task_id)
        return codes

    def _bash_runs(self, task: Task) -> bool:
        """A BashOperator can run it: one shell string, once, nothing to read back or hide."""
        return isinstance(task.command, str) and not task.outputs and not task.secrets and task.foreach is None

    def _code(self, task_id: str, task: Task, **fields: Any) -> TaskCode:
        var = self.vars[task_id]
        code = TaskCode(task_id, var, self.ctx.origin(task_id), **fields)
        if var != task_id or code.operator is not None:  # a TaskFlow task is named after its function
            code.head.insert(0, ("task_id", py(task_id)))
        if task.description:
            code.doc = py(task.description)
        code.settings.update(self._settings(task))
        code.tail += self._own_arguments(task)
        return code

    # ------------------------------------------------------------------ settings

    def _settings(self, task: Task) -> dict[str, str | None]:
        """The shareable settings (defaults.py) as this task wants them."""
        settings: dict[str, str | None] = {"retries": py(task.retries) if task.retries else AIRFLOW_DEFAULT}
        if task.retries:
            settings["retry_delay"] = self._timedelta(task.retry_delay) if task.retry_delay is not None else None
            # A float multiplier since Airflow 3.2 (True would mean 1.0: a constant delay).
            backoff = task.retry_backoff if task.retry_backoff not in (None, 1.0) else None
            settings["retry_exponential_backoff"] = None if backoff is None else py(float(backoff))
            settings["max_retry_delay"] = None if task.retry_max_delay is None else self._timedelta(task.retry_max_delay)
        settings["execution_timeout"] = None if task.timeout is None else self._timedelta(task.timeout)
        settings["pool"] = None if task.pool is None else py(task.pool)
        # The optimizer's critical-path priority: as given, not summed over downstream tasks.
        settings["weight_rule"] = None if task.priority is None else py("absolute")
        callbacks = self.callbacks(task.alerts, retries_of_pipeline=True)
        for event in ("failure", "retry", "success"):
            settings[f"on_{event}_callback"] = callbacks.get(f"on_{event}_callback")
        return settings

    def _own_arguments(self, task: Task) -> list[tuple[str, str]]:
        kwargs = []
        if task.trigger_rule is not TriggerRule.ALL_SUCCESS:
            self.needs.name("airflow.sdk", "TriggerRule")
            kwargs.append(("trigger_rule", f"TriggerRule.{TRIGGER_RULES[task.trigger_rule]}"))
        if task.priority is not None:
            kwargs.append(("priority_weight", py(task.priority)))
        if task.max_parallel is not None:
            kwargs.append(("max_active_tis_per_dagrun", py(task.max_parallel)))
        if task.resources is not None and task.image is None:
            self.needs.name("kubernetes.client", "models", "k8s")
            kwargs.append(("executor_config", f'{{"pod_override": {self._pod_override(task)}}}'))
        outlets = self._outlets(task)
        if outlets:
            kwargs.append(("outlets", outlets))
        return kwargs

    def _timedelta(self, seconds: int) -> str:
        self.needs.name("datetime", "timedelta")
        return f"timedelta(seconds={seconds})"

    def callbacks(self, alerts: list[Alert], *, retries_of_pipeline: bool = False) -> dict[str, str]:
        """on_<event>_callback -> a list of callbacks running the alerts."""
        chosen = list(alerts)
        if retries_of_pipeline:  # a pipeline's retry alerts apply to every task
            chosen += [a for a in self.p.alerts if a.on is AlertEvent.RETRY]
        by_event: dict[str, list[str]] = {}
        for alert in chosen:
            by_event.setdefault(f"on_{alert.on.value}_callback", []).append(self._alert(alert))
        return {key: f"[{', '.join(calls)}]" for key, calls in by_event.items()}

    def _alert(self, alert: Alert) -> str:
        self.uses_workdir = True
        if alert.command is not None:
            return f"{self.needs.module('functools')}.partial({self.needs.helper(ALERT)}, {py(alert.literal_command)})"
        args = keyword_arguments({k: py(v) for k, v in alert.literal_args.items()})
        key = (str(alert.python), args, alert.on.value)
        if key not in self.alert_functions:  # one function per alert, however many tasks run it
            self.alert_functions[key] = self._alert_function(alert, args)
        return self.alert_functions[key]

    def _alert_function(self, alert: Alert, args: str) -> str:
        name = self.names.fresh(f"_alert_{python_name(str(alert.python).rpartition(':')[2].replace('.', '_'))}")
        module, _, attribute = str(alert.python).partition(":")
        first, _, rest = attribute.partition(".")
        call = f"{first}.{rest}" if rest else first
        self.functions.append(
            f"def {name}(context):\n"
            f'    """The alert {alert.python} ({alert.on.value} callback)."""\n'
            f"    {self.needs.helper('enter_workdir')}()\n"
            f"    from {module} import {first}\n\n"
            f"    {call}({args})\n")
        return name

    def _outlets(self, task: Task) -> str | None:
        assets = [self.asset(n) for n in task.produces if n in self.asset_artifacts()]
        return f"[{', '.join(assets)}]" if assets else None

    def asset_artifacts(self) -> set[str]:
        """The artifacts that are Airflow Assets: those a trigger watches, and URIs a task produces."""
        triggered = {str(t.artifact) for t in self.p.triggers if t.artifact}
        produced = {n for task in self.p.tasks.values() for n in task.produces if self.p.artifacts[n].is_uri}
        return triggered | produced

    def asset(self, artifact: str) -> str:
        self.needs.name("airflow.sdk", "Asset")
        return f"Asset(name={py(artifact)}, uri={py(self.p.artifacts[artifact].path)})"

    def _pod_override(self, task: Task) -> str:
        return (f'k8s.V1Pod(spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="base", '
                f"resources={self.resources(task)})]))")

    def resources(self, task: Task) -> str:
        resources = task.resources
        assert resources is not None
        requests: dict[str, str] = {}
        limits: dict[str, str] = {}
        if resources.cpu is not None:
            requests["cpu"] = resources.cpu
        if resources.memory is not None:
            requests["memory"] = limits["memory"] = resources.memory
        if resources.gpu:
            limits[resources.gpu_type] = str(resources.gpu)
        parts = [f"{key}={py(value)}" for key, value in (("requests", requests), ("limits", limits)) if value]
        return f"k8s.V1ResourceRequirements({', '.join(parts)})"

    # ------------------------------------------------------------------ operators

    def _empty(self, task_id: str, task: Task) -> TaskCode:
        self.needs.name("airflow.providers.standard.operators.empty", "EmptyOperator")
        return self._code(task_id, task, operator="EmptyOperator")

    def _bash(self, task_id: str, task: Task) -> TaskCode:
        self.needs.name("airflow.providers.standard.operators.bash", "BashOperator")
        self.uses_workdir = True
        command = self.templates.text(str(task.command), template_ext=BASH_EXT)
        code = self._code(task_id, task, operator="BashOperator", head=[("bash_command", wrapped_string_code([command]))])
        # `env` is a template field too: a value ending in .sh would be read as a template file.
        env = {k: self.templates.text(v, template_ext=BASH_EXT) for k, v in task.env.items()}
        code.settings["env"] = py(env) if env else AIRFLOW_DEFAULT
        code.settings["do_xcom_push"] = "False"  # nothing reads a shell task's last line of output
        return code

    def _success_guard(self, task_id: str) -> list[TaskCode]:
        guard_id = self._helper_id(task_id, SUCCEEDED)
        if guard_id is None:
            return []
        self.needs.name("airflow.providers.standard.operators.empty", "EmptyOperator")
        comment = (f"Fails the run when {self.vars[task_id]} failed, even though its fallback ran:\n"
                   "a DAG run's state comes from its leaves.")
        return [TaskCode(guard_id, self._helper_var(task_id, SUCCEEDED), comment, votes=False,
                         head=[("task_id", py(guard_id))], operator="EmptyOperator")]

    # ------------------------------------------------------------------ helper tasks

    def _helper_id(self, task_id: str, suffix: str) -> str | None:
        helper = f"{task_id}{HELPER_SEPARATOR}{suffix}"
        if helper in self.p.tasks:
            HELPER_TASK_ID.diagnose(self.ctx.report, f"Airflow needs a helper task '{helper}', but the pipeline "
                                                      "already has a task with that id", ("tasks", helper), at_key=True)
            return None
        return helper

    def _helper_var(self, task_id: str, suffix: str) -> str:
        return self.names.fresh(f"{self.vars[task_id]}{HELPER_SEPARATOR}{suffix}")

    def _helper_task(self, task_id: str, suffix: str, fn: Function, body: list[str], returns: str | None,
                     decorator: str = "task", comment: str | None = None) -> TaskCode | None:
        helper_id = self._helper_id(task_id, suffix)
        if helper_id is None:
            return None
        self.needs.name("airflow.sdk", "task")  # a TaskFlow task, even in a DAG of pods
        var = self._helper_var(task_id, suffix)
        code = TaskCode(helper_id, var, comment, votes=False, decorator=decorator, function=fn, body=body,
                        returns=returns)
        if var != helper_id:
            code.head.append(("task_id", py(helper_id)))
        if decorator == "task":
            code.settings["do_xcom_push"] = AIRFLOW_DEFAULT  # what it returns is what the task uses
        code.passes = {variable_of(i.argument) for i in fn.inputs}
        return code

    def _function(self) -> Function:
        return Function(set(self.names.reserved))

    def _branch(self, task_id: str, task: Task) -> list[TaskCode]:
        """`@task.branch` returning the task (when its condition holds) or its else branches."""
        try:
            expr = conditions.parse(task.when or "")
        except conditions.ConditionError:  # validated before; keep the compiler total
            return []
        self.needs.name("airflow.sdk", "task")
        fn = self._function()
        condition = condition_code(expr, lambda ref: self.python.ref(ref, fn)[0])
        if not isinstance(expr, (conditions.Literal, conditions.RefOperand)):
            condition = condition[1:-1]  # the parentheses condition_code puts around the whole
        else_ids = [t for t, other in self.p.tasks.items() if other.else_of == task_id]
        chosen = py(task_id)
        otherwise = py(else_ids[0]) if len(else_ids) == 1 else py(else_ids)
        code = self._helper_task(task_id, BRANCH, fn, [f"return {chosen} if {condition} else {otherwise}"], None,
                                 decorator="task.branch", comment=f"{self.ctx.origin(task_id)}: its `when`")
        return [code] if code is not None else []

    # ------------------------------------------------------------------ TaskFlow tasks

    def _taskflow(self, task_id: str, task: Task, before: list[TaskCode]) -> TaskCode | None:
        self.needs.name("airflow.sdk", "task")
        fn = self._function()
        code = self._code(task_id, task, function=fn)
        if task.foreach is not None:
            source = self._items_source(task_id, task, before)
            if source is None:
                return None
            self._mapped_over(code, source, before)
            fn.item = fn.local(self._item_name(task))
            fn.items = task.literal_items
            code.expand = f"{fn.item}={source}"
            code.head.append(("map_index_template", py(f"{{{{ task.op_kwargs['{fn.item}'] }}}}")))
        by_name = self._returns_by_name(task, fn)
        if task.kind == "python":
            code.body = self._python_body(task_id, task, fn, by_name)
        else:
            code.body = self._shell_body(task, fn)
        self._returns(task_id, task, code, by_name)
        code.passes |= {variable_of(i.argument) for i in fn.inputs}
        return code

    def _item_name(self, task: Task) -> str:
        """The mapped argument: named after the python argument that is the whole item, if any
        (and if its key is a name)."""
        for key, value in (task.args or {}).items() if isinstance(task.args, dict) else ():
            whole_item = isinstance(value, str) and value.strip() == value and \
                parse_placeholders(value)[0] == [Ref("item")]
            if whole_item and is_keyword_name(key):
                return key
        return "item"

    def _returns_by_name(self, task: Task, fn: Function) -> bool:
        """A task returns its one value as is, the value named in the code (`accuracy = ...`; a
        shell task's output file is named so); several values, or one whose name the code cannot
        take, come as a dict, one XCom each (typed by a TypedDict)."""
        if len(task.outputs) != 1:
            return False
        if task.kind != "python":
            return True
        (name,) = task.outputs
        return fn.local(name) == name

    def _returns(self, task_id: str, task: Task, code: TaskCode, by_name: bool) -> None:
        outputs = task.outputs
        if not outputs:
            return
        code.settings["do_xcom_push"] = AIRFLOW_DEFAULT  # its value outputs are its XCom
        if by_name:
            (output,) = outputs.values()
            code.returns = PYTHON_TYPE_NAMES[output.type]
            if output.type is ValueType.DICT:  # Airflow would push each key of a returned dict apart
                code.head.append(("multiple_outputs", "False"))
            return
        typed = self.names.fresh("".join(part.capitalize() for part in self.vars[task_id].split("_")) + "Outputs")
        self.needs.name("typing", "TypedDict")
        fields = "".join(f"    {name}: {PYTHON_TYPE_NAMES[out.type]}\n" for name, out in outputs.items())
        self.functions.append(f"class {typed}(TypedDict):\n    \"\"\"What {task_id} returns (one XCom each).\"\"\"\n\n"
                              f"{fields}")
        code.returns = typed
        code.head.append(("multiple_outputs", "True"))  # one XCom per value (ruff AIR: not inferred)

    def _python_body(self, task_id: str, task: Task, fn: Function, by_name: bool) -> list[str]:
        self.uses_workdir = True
        imports, call = python_call(task, fn, self.python, self.vars[task_id])
        body = [f"{self.needs.helper('enter_workdir')}()", *imports]
        if by_name:
            (name,) = task.outputs
            run = [f"{name} = {call}", f"return {name}"]
        elif task.outputs:
            result = fn.local("result")
            run = [f"{result} = {call}",
                   "return {" + ", ".join(f"{py(name)}: {result}[{py(name)}]" for name in task.outputs) + "}"]
        else:
            run = [call]
        env = self._env_entries(task, fn)
        if not env:
            return body + run
        return body + [f"with {self.needs.helper(ENVIRONMENT)}({{{', '.join(env)}}}):", *indent(run)]

    def _env_entries(self, task: Task, fn: Function) -> list[str]:
        """The task's env and secrets as the entries of a dict expression (secrets read from
        JSON Variables when the task runs, never rendered into a template)."""
        entries = [f"{py(k)}: {self.python.text_of(v, fn)}" for k, v in task.env.items()]
        for env, ref in task.secrets.items():
            variable = self.needs.name("airflow.sdk", "Variable")
            entries.append(f"{py(env)}: {variable}.get({py(ref.name)}, deserialize_json=True)[{py(ref.key)}]")
        return entries

    def _shell_body(self, task: Task, fn: Function) -> list[str]:
        self.uses_workdir = True
        outputs = task.outputs
        scratch = None
        lines: list[str] = []
        if any(out.path is None for out in outputs.values()):
            scratch = fn.local("outputs")
        for name, out in outputs.items():
            fn.out_paths[name] = fn.local(f"{name}{OUTPUT_PATH_SUFFIX}")
            where = f"{scratch}, {py(name)}" if out.path is None else f"{WORKDIR}, {py(out.path)}"
            lines.append(f"{fn.out_paths[name]} = {self.needs.module('os')}.path.join({where})")
        if isinstance(task.command, list):
            argv = "[" + ", ".join(self.python.text_of(part, fn) for part in task.command) + "]"
        else:
            command = fn.local("command")
            lines.append(f"{command} = {self.python.text_of(str(task.command), fn)}")
            argv = f'["bash", "-c", {command}]'
        env = self._env_entries(task, fn)
        run = f"{self.needs.module('subprocess')}.run({argv}, cwd={WORKDIR}, check=True"
        if env:
            run += f", env={{**{self.needs.module('os')}.environ, {', '.join(env)}}}"
        lines.append(run + ")")
        if outputs:
            read = {name: f"{self.needs.helper('read_text' if out.type is ValueType.STR else 'read_json')}"
                          f"({fn.out_paths[name]})" for name, out in outputs.items()}
            if len(read) == 1:
                lines.append(f"return {next(iter(read.values()))}")
            else:
                lines.append("return {" + ", ".join(f"{py(k)}: {v}" for k, v in read.items()) + "}")
        if scratch is None:
            return lines
        tempdir = f"{self.needs.module('tempfile')}.TemporaryDirectory()"
        return [f"with {tempdir} as {scratch}:", *indent(lines)]

    # ------------------------------------------------------------------ fan-out sources

    def _items_source(self, task_id: str, task: Task, before: list[TaskCode]) -> str | None:
        """Code of the list a TaskFlow task maps over: the literal list, an upstream result
        Airflow maps over directly, or a `<task>__items` helper returning it."""
        if isinstance(task.foreach, list):
            return py(task.literal_items)
        ref = refs_in(str(task.foreach))[0]
        if ref.kind == "task_output" and len(self.p.tasks[str(ref.task)].outputs) == 1:
            return self._upstream(ref).argument  # the task's whole result: Airflow maps over it
        fn = self._function()
        code, _ = self.python.ref(ref, fn, "values" if ref.kind == "task_output" else None)
        comment = f"{self.ctx.origin(task_id)}: the list it maps over (Airflow maps over task results only)"
        helper = self._helper_task(task_id, ITEMS, fn, [f"return {code}"], "list", comment=comment)
        return self._inline(helper, before)

    def _inline(self, helper: TaskCode | None, before: list[TaskCode]) -> str | None:
        """Code calling a helper task where its result is used (its definition goes before)."""
        if helper is None:
            return None
        helper.inline = True
        before.append(helper)
        return f"{helper.var}({helper.function.call_arguments() if helper.function else ''})"

    # ------------------------------------------------------------------ reading upstream outputs

    def _upstream(self, ref: Ref) -> Upstream:
        producer = self.p.tasks[str(ref.task)]
        var = self.vars[str(ref.task)]
        kind = producer.outputs[str(ref.name)].type
        several = len(producer.outputs) > 1
        if producer.image is not None:  # a pod's XCom: the value, or a dict of the values
            access = f'{{}}["{ref.name}"]' if several else "{}"
            if several and producer.is_mapped:
                access = f'[value["{ref.name}"] for value in {{}}]'
            return Upstream(f"{var}.output", access, kind, producer.is_mapped)
        argument = f'{var}["{ref.name}"]' if several else var
        return Upstream(argument, "{}", kind, producer.is_mapped)

    def _xcom_jinja(self, ref: Ref) -> tuple[str, ValueType | None]:
        producer = self.p.tasks[str(ref.task)]
        pull = f"ti.xcom_pull(task_ids='{ref.task}')"
        several = len(producer.outputs) > 1
        if several and producer.image is None:
            pull = f"ti.xcom_pull(task_ids='{ref.task}', key='{ref.name}')"
        elif several and producer.is_mapped:
            pull += f" | map(attribute='{ref.name}')"
        elif several:
            pull += f"['{ref.name}']"
        if producer.is_mapped:
            return pull + " | list", ValueType.LIST
        return pull, producer.outputs[str(ref.name)].type

    # ------------------------------------------------------------------ containers

    def _pod(self, task_id: str, task: Task, before: list[TaskCode]) -> TaskCode | None:
        try:
            command = pod_command(self.p, task)
        except NotWritable as error:
            NESTED_POD_PLACEHOLDER.diagnose(self.ctx.report, f"Airflow backend: task '{task_id}' runs in an image, "
                                                              "where placeholders inside lists or mappings of `args` "
                                                              "are not supported",
                                            ("tasks", task_id, "args", error.arg))
            return None
        docker = self.container == "docker"
        mapped_over = None
        split = self._split(task, command, docker)
        fixed, own = command.argv[:split], command.argv[split:]
        expand = None
        if isinstance(task.foreach, list):
            per_item = [[self._pod_text(a, docker, command, item=item) for a in own] for item in task.literal_items]
            expand = f"{'command' if docker else 'arguments'}={py(per_item)}"
        elif task.foreach is not None:
            source = self._pod_items(task_id, task, own, command, before)
            if source is None:
                return None
            expand = f"{'command' if docker else 'arguments'}={source}"
            mapped_over = source
        if docker:
            code = self._docker(task_id, task, fixed, own, command, expand)
        else:
            code = self._kpo(task_id, task, fixed, own, command, expand)
        if mapped_over is not None:
            self._mapped_over(code, mapped_over, before)
        return code

    def _mapped_over(self, code: TaskCode, source: str, before: list[TaskCode]) -> None:
        """The edge Airflow makes from the source a task is mapped over: a helper called inline, or
        an upstream task's result."""
        if before and before[-1].inline and source.startswith(before[-1].var + "("):
            code.helper = before[-1].var
        elif not source.startswith("["):
            code.passes.add(variable_of(source))

    def _kpo(self, task_id: str, task: Task, fixed: list[str], own: list[str], command: PodCommand,
             expand: str | None) -> TaskCode:
        self.needs.name("airflow.providers.cncf.kubernetes.operators.pod", "KubernetesPodOperator")
        code = self._code(task_id, task, operator="KubernetesPodOperator", expand=expand)
        code.head += [("name", py(dns_name(task_id))), ("image", py(template_text(task.image)))]
        code.head.append(("cmds", py([self._pod_text(a, False, command) for a in fixed])))
        if own and expand is None:
            code.head.append(("arguments", py([self._pod_text(a, False, command) for a in own])))
        if task.outputs:
            code.tail.append(("do_xcom_push", "True"))  # the sidecar returns /airflow/xcom/return.json
        if task.env:
            code.tail.append(("env_vars", py({k: self.templates.text(v) for k, v in task.env.items()})))
        if task.secrets:
            self.needs.name("airflow.providers.cncf.kubernetes.secret", "Secret")
            secrets = [f"Secret('env', {py(env)}, {py(ref.name)}, {py(ref.key)})" for env, ref in task.secrets.items()]
            code.tail.append(("secrets", f"[{', '.join(secrets)}]"))
        if task.resources is not None:
            self.needs.name("kubernetes.client", "models", "k8s")
            code.tail.append(("container_resources", self.resources(task)))
        return code

    def _split(self, task: Task, command: PodCommand, docker: bool) -> int:
        """Where the operator's fixed command ends and its mapped or own arguments start: the
        task's own part, or the first text that differs per item (DockerOperator's entrypoint,
        which Airflow does not render, also stops at the first placeholder)."""
        split = command.own_from
        for index, text in enumerate(command.argv[:split]):
            refs = [s for s in segments(text) if isinstance(s, Ref)]
            if (task.foreach is not None and any(r.kind == "item" for r in refs)) or (docker and refs):
                return index
        return split

    def _pod_text(self, text: str, docker: bool, command: PodCommand, item: Any = None) -> str:
        if isinstance(text, JsonText) and item is not None and parse_placeholders(text)[0] == [Ref("item")]:
            return json.dumps(item, ensure_ascii=False)  # read by the script as JSON, whatever its type
        if isinstance(text, LiteralText):
            return template_text(text, DOCKER_EXT if docker else ())
        return self.templates.text(text, template_ext=DOCKER_EXT if docker else (), item=item,
                                   out_paths=command.out_paths)

    def _pod_items(self, task_id: str, task: Task, own: list[str], command: PodCommand,
                   before: list[TaskCode]) -> str | None:
        """A `<task>__items` task computing each item's arguments (Airflow renders no XCom value as
        a template: they are written as the text itself)."""
        fn = self._function()
        ref = refs_in(str(task.foreach))[0]
        source, _ = self.python.ref(ref, fn, "values" if ref.kind == "task_output" else None)
        fn.item = fn.local("item")
        arguments = [self._item_argument(text, fn, command) for text in own]
        body = [f"return [[{', '.join(arguments)}] for {fn.item} in {source}]"]
        fn.item = None  # not a parameter: the comprehension's variable
        comment = f"{self.ctx.origin(task_id)}: each item's arguments"
        helper = self._helper_task(task_id, ITEMS, fn, body, "list", comment=comment)
        return self._inline(helper, before)

    def _item_argument(self, text: str, fn: Function, command: PodCommand) -> str:
        """One argument of an item, as Python code (`fn.item` is the item)."""
        if isinstance(text, JsonText) and parse_placeholders(text)[0] == [Ref("item")]:
            return f"{self.needs.module('json')}.dumps({fn.item})"
        parts: list[str | tuple[str]] = []
        for segment in segments(text):
            if isinstance(segment, Ref) and segment.kind == "output":
                parts.append(command.out_paths[str(segment.name)])
            elif isinstance(segment, Ref) and segment.kind == "artifact":
                parts.append(self.p.artifacts[str(segment.name)].path)
            elif isinstance(segment, Ref):
                parts.append((segment, *self.python.ref(segment, fn)))
            else:
                parts.append(segment)
        return self.python.text(parts)

    def _docker(self, task_id: str, task: Task, fixed: list[str], own: list[str], command: PodCommand,
                expand: str | None) -> TaskCode:
        self.needs.name("airflow.providers.docker.operators.docker", "DockerOperator")
        code = self._code(task_id, task, operator="DockerOperator", expand=expand)
        code.head.append(("image", py(template_text(task.image, DOCKER_EXT))))
        if fixed:  # not a template field: only texts without placeholders are here
            code.head.append(("entrypoint", py([literal_text(a) for a in fixed])))
        if own and expand is None:
            code.head.append(("command", py([self._pod_text(a, True, command) for a in own])))
        if task.env:
            code.tail.append(("environment", py({k: self.templates.text(v, template_ext=DOCKER_EXT)
                                                 for k, v in task.env.items()})))
        resources = task.resources
        if resources is not None:
            if resources.cpu is not None:
                code.tail.append(("cpus", py(cpu_millicores(resources.cpu) / 1000)))
            if resources.memory is not None:
                code.tail.append(("mem_limit", py(memory_bytes(resources.memory))))
            if resources.gpu:
                self.needs.name("docker.types", "DeviceRequest")
                code.tail.append(("device_requests", f"[DeviceRequest(count={resources.gpu}, capabilities=[['gpu']])]"))
        return code

