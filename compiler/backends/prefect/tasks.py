"""One `@task` function per pipeline task, written out: the command it runs or the function it
calls, with only the arguments it reads.

- shell: `run_command(f"...")`, the command visible where the task is defined;
- python: `from module import function` in the task, then a direct call, so a failure's
  traceback goes from the task straight into the user's code. With its own env vars or a
  timeout, the call runs in a child process (`isolated`): Prefect cannot interrupt a task's
  thread, and os.environ belongs to the whole process;
- value outputs: a python task returns the value (a dict of them for several); a shell task
  writes each to a file (`${{ outputs.NAME }}`, in a temporary directory) and returns what it
  wrote;
- no-op: a task that returns nothing.

The comment above each task names where it was written; it stays outside the function's source,
which (with the inputs) is the cache key of a cached task.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from compiler.backends.base import EmitContext
from compiler.backends.specs import keyword_arguments
from compiler.language.ir import Alert, AlertEvent, Pipeline, Task, ValueType
from compiler.language.naming import python_name
from compiler.output.emit import python_literal as py

from .conventions import ALERT, ISOLATED, OUTPUT_PATH_SUFFIX, RUN_COMMAND
from .names import TASK_BODY_NAMES, Names
from .text import joined, literal, pieces
from .values import Arg, Scope, call_arguments


@dataclass
class TaskFunction:
    task_id: str
    name: str
    args: list[Arg]
    code: str


@dataclass
class Hooks:
    """State hooks shared by the module: `alert("command")`, or a function per python alert."""

    names: Names
    functions: dict[tuple, tuple[str, str]] = field(default_factory=dict)  # alert -> (name, code)
    needs: set[str] = field(default_factory=set)

    def code(self, alerts: list[Alert]) -> list[tuple[str, str]]:
        """`on_failure=[...]` / `on_completion=[...]` keyword arguments (retry alerts were refused)."""
        hooks: dict[str, list[str]] = {}
        for alert in alerts:
            if alert.on is AlertEvent.RETRY:
                continue
            key = "on_failure" if alert.on is AlertEvent.FAILURE else "on_completion"
            hooks.setdefault(key, []).append(self._hook(alert))
        return [(key, f"[{', '.join(calls)}]") for key, calls in hooks.items()]

    def _hook(self, alert: Alert) -> str:
        if alert.command is not None:
            self.needs.add(ALERT)
            return f"{ALERT}({joined(pieces([alert.literal_command], room=76))})"
        key = (alert.python, py(alert.literal_args))
        if key not in self.functions:
            module, _, function = str(alert.python).partition(":")
            name = self.names.claim(f"alert_{python_name(module.rsplit('.', 1)[-1])}_{python_name(function)}")
            head, _, rest = function.partition(".")
            call = head + (f".{rest}" if rest else "")
            arguments = keyword_arguments({k: py(v) for k, v in alert.literal_args.items()})
            code = (f"def {name}(*hook_args):\n"
                    f"    from {module} import {head}\n\n"
                    f"    {call}({arguments})\n")
            self.functions[key] = (name, code)
        return self.functions[key][0]


class TaskWriter:
    """Writes the task functions of one pipeline; `needs` collects the helpers they use."""

    def __init__(self, pipeline: Pipeline, ctx: EmitContext, functions: dict[str, str], slots: dict[str, str],
                 hooks: Hooks, classes: Names):
        self.p = pipeline
        self.ctx = ctx
        self.functions = functions  # task id -> function name
        self.slots = slots  # task id -> its semaphore (max_parallel)
        self.hooks = hooks
        self.needs: set[str] = set()
        self.task_order = {task_id: index for index, task_id in enumerate(pipeline.tasks)}
        # a TypedDict of its outputs for each task with several
        self.outputs_classes = {task_id: classes.claim(_camel(functions[task_id]) + "Outputs")
                                for task_id, task in pipeline.tasks.items() if len(task.outputs) > 1}

    def write(self, task_id: str) -> TaskFunction:
        task = self.p.tasks[task_id]
        # the task's own name too: a function it imports under that name would read as recursion
        scope = Scope(self.p, task, Names({*self.slots.values(), self.functions[task_id]}, TASK_BODY_NAMES))
        scope.declare_args(self.task_order)
        body = self._body(task_id, task, scope)
        self.needs |= scope.needs
        name = self.functions[task_id]
        signature = ", ".join(f"{a.name}: {a.hint}" if a.hint else a.name for a in scope.args)
        outputs_class = self.outputs_classes.get(task_id)
        returns = f" -> {outputs_class or _return_hint(task)}" if task.outputs else ""
        lines = []
        if outputs_class:
            self.needs.add("TypedDict")
            fields = [f"    {output}: {value.type.value}" for output, value in task.outputs.items()]
            lines += [f"class {outputs_class}(TypedDict):", *fields, "", ""]
        lines += [f"# {self.ctx.origin(task_id)}", self._decorator(task_id, task, name, scope),
                  f"def {name}({signature}){returns}:"]
        doc = docstring(task.description)
        if doc:
            lines.append(f"    {doc}")
        lines += [f"    {line}" if line else "" for line in body] or ([] if doc else ["    pass"])
        return TaskFunction(task_id, name, scope.args, "\n".join(lines) + "\n")

    # ------------------------------------------------------------------ the decorator

    def _decorator(self, task_id: str, task: Task, name: str, scope: Scope) -> str:
        kwargs = self._options(task_id, task, name, scope)
        return f"@task({', '.join(f'{k}={v}' for k, v in kwargs)})" if kwargs else "@task"

    def _options(self, task_id: str, task: Task, name: str, scope: Scope) -> list[tuple[str, str]]:
        kwargs = []
        if name != task_id:
            kwargs.append(("name", py(task_id)))
        if task.description and not docstring(task.description):
            kwargs.append(("description", literal(task.description)))
        if task.is_mapped:
            item = scope.arg(("item",)).name  # each run is named after its item
            kwargs.append(("task_run_name", py(f"{task_id}-{{{item}}}")))
        if task.retries:
            kwargs.append(("retries", py(task.retries)))
            delays = retry_delays(task)
            if any(delays):
                kwargs.append(("retry_delay_seconds", py(delays[0] if len(set(delays)) == 1 else delays)))
        if task.timeout is not None:
            kwargs.append(("timeout_seconds", py(task.timeout)))
        if task.pool is not None:
            kwargs.append(("tags", py([task.pool])))
        if task.cache is not None and task.cache.enabled:
            self.needs.add("cache")
            kwargs.append(("cache_policy", "INPUTS + TASK_SOURCE"))
            if task.cache.expire is not None:
                self.needs.add("timedelta")
                kwargs.append(("cache_expiration", _timedelta(task.cache.expire)))
        kwargs.extend(self.hooks.code(task.alerts))
        return kwargs

    # ------------------------------------------------------------------ the body

    def _body(self, task_id: str, task: Task, scope: Scope) -> list[str]:
        imports: list[str] = []
        if task.kind == "python":
            imports, lines = self._python(task_id, task, scope)
        elif task.kind == "shell":
            lines = self._shell(task_id, task, scope)
        else:
            return []
        if task_id in self.slots:  # max_parallel: a sliding window over the mapped runs
            lines = [f"with {self.slots[task_id]}:", *(f"    {line}" if line else "" for line in lines)]
        return [*imports, *lines]

    def _python(self, task_id: str, task: Task, scope: Scope) -> tuple[list[str], list[str]]:
        module, _, target = str(task.python).partition(":")
        head, _, rest = target.partition(".")
        local = scope.names.claim(head if head not in scope.names.taken else f"{module.rsplit('.', 1)[-1]}_{head}")
        imported = head if local == head else f"{head} as {local}"
        function = local + (f".{rest}" if rest else "")
        arguments = call_arguments(scope, task.args or {})
        env = self._env(task, scope)
        if env or task.timeout is not None:
            # A thread cannot be interrupted, and os.environ is the whole process's: run it apart.
            scope.needs.add(ISOLATED)
            options = [f"timeout={py(task.timeout)}"] if task.timeout is not None else []
            options += [f"env={env}"] if env else []
            call = f"{ISOLATED}({function}, {', '.join(options)})({arguments})"
        else:
            call = f"{function}({arguments})"
        imports = [f"from {module} import {imported}", ""]
        outputs = task.outputs
        if not outputs:
            return imports, [call]
        if len(outputs) == 1:  # named: the variable says which output the value is
            ((name, output),) = outputs.items()
            value = scope.names.claim(name)
            return imports, [f"{value} = {call}", f"return {_typed(value, output.type)}"]
        result = scope.names.claim("result")
        values = ", ".join(f"{name}={_typed(f'{result}[{name!r}]', output.type)}" for name, output in outputs.items())
        return imports, [f"{result} = {call}", f"return {self.outputs_classes[task_id]}({values})"]

    def _shell(self, task_id: str, task: Task, scope: Scope) -> list[str]:
        self.needs.add(RUN_COMMAND)
        scratch = [name for name, output in task.outputs.items() if output.path is None]
        directory = scope.names.claim("outputs") if scratch else None
        setup = []
        for name, output in task.outputs.items():
            path = scope.names.claim(f"{name}{OUTPUT_PATH_SUFFIX}")
            scope.output_paths[name] = path
            if output.path is None:
                self.needs.add("os")
                setup.append(f"{path} = os.path.join({directory}, {py(name)})")
            else:
                setup.append(f"{path} = {literal(output.path)}")
        if isinstance(task.command, list):
            self.needs.add("run_command.argv")
            command = "[" + ", ".join(scope.text_code(part) for part in task.command) + "]"
        else:
            # black puts the command on a line of its own, inside the call and the with blocks
            depth = 8 + 4 * (bool(task.outputs and any(o.path is None for o in task.outputs.values()))
                             + (task.max_parallel is not None))
            room = 88 - depth - (1 if task.env or task.timeout is not None else 0)
            command = scope.text_code(task.command or "", room).removeprefix("(\n").removesuffix("\n)")
        options = []
        env = self._env(task, scope)
        if env:
            self.needs.add("run_command.env")
            options.append(f"env={env}")
        if task.timeout is not None:
            self.needs.add("run_command.timeout")
            options.append(f"timeout={py(task.timeout)}")
        run = f"{RUN_COMMAND}({', '.join([command, *options])})"
        if not task.outputs:
            return [run]
        self.needs.add("read_output")
        values = {name: self._read(scope.output_paths[name], output.type) for name, output in task.outputs.items()}
        if len(values) == 1:
            returned = next(iter(values.values()))
        else:
            returned = f"{self.outputs_classes[task_id]}({', '.join(f'{k}={v}' for k, v in values.items())})"
        lines = [*setup, run, f"return {returned}"]
        if directory is None:
            return lines
        self.needs.add("tempfile")
        return [f"with tempfile.TemporaryDirectory() as {directory}:", *(f"    {line}" for line in lines)]

    def _read(self, path: str, value_type: ValueType) -> str:
        """What the command wrote: the text itself for a str, else the JSON value it holds."""
        if value_type is ValueType.STR:
            return f"read_output({path})"
        self.needs.add("json")
        return _typed(f"json.loads(read_output({path}))", value_type)

    def _env(self, task: Task, scope: Scope) -> str:
        entries = [f"{py(name)}: {scope.text_code(value)}" for name, value in task.env.items()]
        if task.secrets:
            self.needs.add("Secret")
        entries += [f"{py(name)}: Secret.load({py(ref.name)}).get()[{py(ref.key)}]"
                    for name, ref in task.secrets.items()]
        return "{" + ", ".join(entries) + "}" if entries else ""


def _typed(code: str, value_type: ValueType) -> str:
    """A float output is a float even when the value came as an int: downstream texts read `1.0`."""
    return f"float({code})" if value_type is ValueType.FLOAT else code


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _return_hint(task: Task) -> str:
    if len(task.outputs) == 1:
        return next(iter(task.outputs.values())).type.value
    return "dict"


def docstring(description: str | None) -> str | None:
    """A one-line description as the function's docstring (Prefect's description), when black and
    inspect.getdoc leave it exactly as it is; None otherwise (it becomes `description=`)."""
    if not description or "\n" in description or description != description.strip():
        return None
    if not description.isprintable() or any(char in description for char in '"\\') or "\t" in description:
        return None
    if inspect.cleandoc(description) != description:
        return None
    return f'"""{description}"""'


def _timedelta(seconds: int) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return f"timedelta({unit}={seconds // size})"
    return f"timedelta(seconds={seconds})"


def retry_delays(task: Task) -> list[int]:
    """delay * backoff ** attempt, capped at retry_max_delay: one entry per retry."""
    delay = task.retry_delay or 0
    factor = task.retry_backoff or 1.0
    cap = task.retry_max_delay
    delays = []
    for attempt in range(task.retries or 0):
        value = round(delay * factor**attempt)
        delays.append(min(value, cap) if cap is not None else value)
    return delays
