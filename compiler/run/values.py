"""The value outputs a run produced, in one form for every engine: `TASK.OUTPUT` (a fanned-out
run's `TASK[INSTANCE].OUTPUT`) -> the value as canonical JSON text, so that two runs, on one
engine or two, compare byte for byte.

Airflow and Prefect give each task's return value (a python task returns its one output, or a
dict of its outputs when it has several; a shell task's generated code returns what it wrote
the same way); dagshift's DVC runner writes each output to a file (.dagshift/outputs/, or the
output's `path`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compiler.backends.dvc.conventions import OUTPUTS_DIR
from compiler.language.ir import Pipeline, Task, ValueType


def canonical(value: Any) -> str:
    """One spelling per value: keys sorted, no spaces, unicode as is."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=repr)


def key(task: str, instance: str | None, output: str) -> str:
    return f"{task}.{output}" if instance is None else f"{task}[{instance}].{output}"


def from_returns(pipeline: Pipeline, returned: list[dict[str, Any]], doubles: bool = False) -> dict[str, str]:
    """The values of RETURNED, an engine script's `{"task", "instance" or "map_index", "value"}`
    per task run; tasks the pipeline declares no outputs for are left out (an engine may keep a
    return value no task declared, such as Airflow's of a python task). DOUBLES: the engine kept
    every number as a double (kfp.local: protobuf values), so an int comes back as 3.0: each
    value is read back as its declared type, and inside a list or dict a whole number is an int."""
    values: dict[str, str] = {}
    for entry in returned:
        task = pipeline.tasks.get(str(entry.get("task")))
        if task is None or not task.outputs:
            continue
        instance = entry.get("instance")
        if instance is None and int(entry.get("map_index", -1)) >= 0:
            instance = entry["map_index"]
        instance = None if instance is None else str(instance)
        value = entry.get("value")
        for name, output in _split(task, value).items():
            if doubles:
                output = _from_doubles(output, task.outputs[name].type)
            values[key(str(entry["task"]), instance, name)] = canonical(output)
    return dict(sorted(values.items()))


def _split(task: Task, value: Any) -> dict[str, Any]:
    if len(task.outputs) == 1:
        return {next(iter(task.outputs)): value}
    if not isinstance(value, dict):
        return {}
    return {name: value[name] for name in task.outputs if name in value}


def _from_doubles(value: Any, kind: ValueType | None) -> Any:
    if isinstance(value, float) and kind is ValueType.FLOAT:
        return value
    if isinstance(value, float) and value.is_integer() and kind is not ValueType.STR:
        return int(value)
    if isinstance(value, list):
        return [_from_doubles(item, None) for item in value]
    if isinstance(value, dict):
        return {name: _from_doubles(item, None) for name, item in value.items()}
    return value


def from_dvc_files(pipeline: Pipeline, workdir: Path) -> dict[str, str]:
    """The values dagshift's DVC runner (templates/dvc/run.py.j2) wrote: OUTPUTS_DIR/TASK/NAME, or
    the output's own path; a foreach stage's runs under OUTPUTS_DIR/TASK/KEY/NAME."""
    values: dict[str, str] = {}
    outputs_dir = workdir / OUTPUTS_DIR
    for task_id, task in pipeline.tasks.items():
        for name, output in task.outputs.items():
            if task.foreach is None:
                path = workdir / output.path if output.path else outputs_dir / task_id / name
                found = [(None, path)]
            else:
                found = sorted((run.name, run / name) for run in (outputs_dir / task_id).glob("*") if run.is_dir())
            for instance, path in found:
                if path.is_file():
                    values[key(task_id, instance, name)] = canonical(_read(path, output.type))
    return dict(sorted(values.items()))


def _read(path: Path, kind: ValueType) -> Any:
    text = path.read_text(encoding="utf-8", errors="replace").removesuffix("\n")
    if kind is ValueType.STR:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
