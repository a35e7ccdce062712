"""The command line of a container task (KubernetesPodOperator or DockerOperator), as a list of
texts with placeholders: the pod's argv, before Airflow renders it.

- a string command runs as `sh -c COMMAND`; with `args`, as `sh -c 'COMMAND "$@"' sh ARG...`, so
  the args follow the command exactly as given (Argo does the same);
- an exec-list command is the argv itself, followed by the args;
- `python` + `image` runs `python3 -c SCRIPT`: a script importing the task's function and calling
  it with its arguments; values known only at run time come as the script's own arguments;
- value outputs: the command writes each one to a file, then python3 (which an image producing
  values has) reads them into /airflow/xcom/return.json, which the pod's XCom sidecar returns: the
  value of a task with one output, else {output: value}.
"""

from __future__ import annotations

import json
import keyword
from dataclasses import dataclass
from typing import Any

from compiler.backends.specs import PYTHON_TYPE_NAMES, keyword_arguments, ref_type, refs_in
from compiler.language.ir import Pipeline, Task, ValueType
from compiler.language.placeholders import Ref
from compiler.language.placeholders import parse as parse_placeholders
from compiler.output.emit import python_literal as py

from .conventions import ARGS_SUFFIX, COLLECT_OUTPUTS, POD_OUTPUTS

RETURN_FILE = "/airflow/xcom/return.json"
# `sh -c _COLLECT_OUTPUTS _READ_OUTPUTS SPEC ARGV...`: the task's argv, then its outputs collected.
READ_OUTPUTS = (
    "import json, sys\n"
    "values = {}\n"
    "for name, (kind, path) in json.loads(sys.argv[1]).items():\n"
    "    text = open(path, encoding='utf-8', newline='').read()\n"
    "    text = text[:-1] if text.endswith('\\n') else text\n"
    "    values[name] = text if kind == 'str' else json.loads(text)\n"
    "result = next(iter(values.values())) if len(values) == 1 else values\n"
    f"json.dump(result, open('{RETURN_FILE}', 'w'))"
)


@dataclass
class PodCommand:
    """The argv of a container (texts with placeholders), and where the task's own part (the args,
    or the values a python script reads) starts."""

    argv: list[str]
    own_from: int
    out_paths: dict[str, str]


class LiteralText(str):
    """A text of the backend's own making (the python script, the outputs' spec): no placeholders
    in it, it reaches the container exactly as it is."""


def segments(text: str) -> list[str | Ref]:
    """The literal texts and placeholders of one text of the argv."""
    return [text] if isinstance(text, LiteralText) else parse_placeholders(text)[0]


def literal_text(text: str) -> str:
    """What a text without placeholders means (`$${{` written for `${{`)."""
    parts = segments(text)
    assert all(isinstance(part, str) for part in parts), text
    return "".join(parts)  # type: ignore[arg-type]


class NotWritable(ValueError):
    """A python task in an image with a placeholder nested in a list or mapping of its args."""

    def __init__(self, arg: str):
        super().__init__(arg)
        self.arg = arg


def pod_command(pipeline: Pipeline, task: Task) -> PodCommand:
    out_paths = {name: out.path or f"{POD_OUTPUTS}/{name}" for name, out in task.outputs.items()}
    if task.python is not None:
        argv, own_from = python_script(pipeline, task)
    elif isinstance(task.command, str):
        if task.args:
            argv, own_from = ["sh", "-c", task.command + ARGS_SUFFIX, "sh"], 4
        else:
            argv, own_from = ["sh", "-c", task.command], 3
    else:
        argv = list(task.command or [])
        own_from = len(argv)
    if task.python is None:
        argv += [a if isinstance(a, str) else json.dumps(a) for a in (task.args or [])]
    if task.outputs and task.python is None:
        spec = {name: [out.type.value, out_paths[name]] for name, out in task.outputs.items()}
        prefix = ["sh", "-c", LiteralText(COLLECT_OUTPUTS), LiteralText(READ_OUTPUTS), LiteralText(json.dumps(spec))]
        argv, own_from = prefix + argv, own_from + len(prefix)
    return PodCommand(argv, own_from, out_paths)


def python_script(pipeline: Pipeline, task: Task) -> tuple[list[str], int]:
    """`python3 -c SCRIPT VALUE...`: literal arguments are written into the script, placeholders
    come as its own arguments (JSON text where the value is typed)."""
    module, _, attribute = str(task.python).partition(":")
    first, _, rest = attribute.partition(".")
    values: list[str] = []
    kwargs = {}
    for key, value in (task.args or {}).items():
        if isinstance(value, str) and refs_in(value):
            values.append(_typed_text(pipeline, value))
            read = f"sys.argv[{len(values)}]"
            kwargs[key] = f"json.loads({read})" if isinstance(values[-1], JsonText) else read
        elif _has_refs(value):
            raise NotWritable(key)
        else:
            kwargs[key] = py(_meaning(value))
    local = f"{first}_function" if first in ("json", "sys", "open") else first  # the script uses those
    alias = f" as {local}" if local != first else ""
    target = f"{local}.{rest}" if rest else local
    lines = ["import json", "import sys", "", f"from {module} import {first}{alias}", ""]
    lines += _returned(task, f"{target}({keyword_arguments(kwargs)})", {"json", "sys", "open", local})
    return ["python3", "-c", LiteralText("\n".join(lines)), *values], 3


def _meaning(value: Any) -> Any:
    """A literal value of `args` as the function gets it: texts with `$${{` read as `${{` (keys
    are no texts with placeholders: as they are)."""
    if isinstance(value, str):
        return literal_text(value)
    if isinstance(value, list):
        return [_meaning(v) for v in value]
    if isinstance(value, dict):
        return {k: _meaning(v) for k, v in value.items()}
    return value


def _returned(task: Task, call: str, taken: set[str]) -> list[str]:
    """The call, and the outputs it returns written to the XCom file (each named with its type)."""
    outputs = {name: PYTHON_TYPE_NAMES[out.type] for name, out in task.outputs.items()}
    dump = f"json.dump({{}}, open({py(RETURN_FILE)}, 'w'))"
    if not outputs:
        return [call]
    if len(outputs) == 1:
        ((name, kind),) = outputs.items()
        variable = _fresh(name, taken)
        return [f"{variable}: {kind} = {call}", dump.format(variable)]
    result = _fresh("result", taken)
    variables = {name: _fresh(name, taken) for name in outputs}
    lines = [f"{result} = {call}"]
    lines += [f"{variables[name]}: {kind} = {result}[{py(name)}]" for name, kind in outputs.items()]
    lines.append(dump.format("{" + ", ".join(f"{py(name)}: {variables[name]}" for name in outputs) + "}"))
    return lines


def _fresh(name: str, taken: set[str]) -> str:
    chosen, counter = name, 2
    while chosen in taken or keyword.iskeyword(chosen):
        chosen, counter = f"{name}_{counter}", counter + 1
    taken.add(chosen)
    return chosen


def _typed_text(pipeline: Pipeline, value: str) -> str:
    """The script argument for a value: the text itself, or, for a whole-value placeholder of a
    typed value, a text the script reads as JSON (`${{ item }}` included: its type is known only
    when it runs). Returns `value` itself exactly when the script reads plain text."""
    segments = parse_placeholders(value)[0]
    if len(segments) == 1 and isinstance(segments[0], Ref) and segments[0].kind in ("param", "task_output", "item"):
        ref = segments[0]
        if ref.kind == "item" or ref_type(pipeline, ref) not in (None, ValueType.STR):
            return JsonText(value)
    return value


class JsonText(str):
    """A script argument whose value is written as JSON (the backend prints it so)."""


def _has_refs(value: Any) -> bool:
    if isinstance(value, str):
        return bool(refs_in(value))
    if isinstance(value, dict):
        return any(_has_refs(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_refs(v) for v in value)
    return False
