"""Runs inside the kubeflow engine venv (kfp 2.17.3), for test_kubeflow_injection.py: compile
generated Kubeflow modules with kfp's own compiler and report, for each, kfp_inspect.py's report
plus what a container receives once KFP has filled in its placeholders.

    python kfp_injection_check.py OUTDIR [--arguments JSON] MODULE.py [MODULE.py ...]

Each MODULE.py is compiled to OUTDIR/<stem>.yaml and read back strictly (kfp_inspect.py's
compile_module, read_documents, parse and report), then its report gains:

    "argv": {EXECUTOR: [command..., args...]}     # the whole list, as the YAML holds it
    "components": {EXECUTOR: {"inputs": [NAME, ...], "outputs": [NAME, ...]}}   # parameters
    "resolved": {NAME: {"executor": EXECUTOR, "values": {INPUT: VALUE},
                        "outputs": {OUTPUT: FILE}, "argv": [...] | null, "error": null | "..."}}

`resolved` covers the root DAG's container (non-python) tasks, by display name: VALUES are the task's inputs as
KFP passes them (a pipeline input's run argument from `--arguments` {PARAM: VALUE}, else its
default as the compiled spec holds it; or a constant), FILE is
`NAME.OUTPUT.out` (relative: the test runs the argv in its working directory), and `argv` is
the command after kfp's own placeholder resolution (kfp.local.placeholder_utils
.replace_placeholders: Concat / IfPresent structures, `{{$}}`, `{{$.inputs.parameters[...]}}`,
output files, pipeline and task names). A module that fails reports {"ok": false, "stage",
"error"} as kfp_inspect.py does. The report is the last stdout line: {"modules": {STEM: ...}}.
"""

from __future__ import annotations

import json
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kfp_inspect


def _value(value: Any, kind: str) -> Any:
    if kind == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def check(module: Path, out: Path, arguments: dict[str, Any]) -> dict[str, Any]:
    from kfp.local import placeholder_utils

    caught: list[warnings.WarningMessage] = []
    try:
        kfp_inspect.compile_module(module, out, caught)
        result = kfp_inspect.report(out, caught)
        spec, deployment, _, _ = kfp_inspect.parse(kfp_inspect.read_documents(out))
    except kfp_inspect.Failure as failure:
        return {"ok": False, "stage": failure.stage, "error": str(failure)}
    result["argv"] = {name: [*executor.container.command, *executor.container.args]
                      for name, executor in sorted(deployment.executors.items())}
    components = {}
    for component in spec.components.values():
        if component.executor_label:
            components[component.executor_label] = {
                "inputs": sorted(component.input_definitions.parameters),
                "outputs": sorted(component.output_definitions.parameters)}
    result["components"] = components
    defaults = {name: arguments.get(name, d["default"]) for name, d in result["inputs"].items()}
    resolved = {}
    for task in result["tasks"]:
        executor = task["executor"]
        if task["dag"] or executor is None or result["executors"][executor]["python"]:
            continue
        values, error = {}, None
        for name, source in task["inputs"]["parameters"].items():
            if "pipelineInput" in source:
                values[name] = defaults[source["pipelineInput"]]
            elif "constant" in source:
                values[name] = source["constant"]
            else:
                error = f"input {name} comes from {source}, which this check does not resolve"
        component = spec.components[task["component"]]
        for name, value in values.items():
            kind = component.input_definitions.parameters[name].parameter_type
            values[name] = _value(value, type(component.input_definitions.parameters[name]).DESCRIPTOR
                                  .fields_by_name["parameter_type"].enum_type.values_by_number[kind].name)
        outputs = {name: f"{task['name']}.{name}.out" for name in components[executor]["outputs"]}
        argv = None
        if error is None:
            executor_input = {"inputs": {"parameterValues": values},
                              "outputs": {"parameters": {n: {"outputFile": f} for n, f in outputs.items()},
                                          "outputFile": f"{task['name']}.executor_output.json"}}
            try:
                argv = placeholder_utils.replace_placeholders(
                    full_command=list(result["argv"][executor]),
                    executor_input_dict=json.loads(json.dumps(executor_input)),  # kfp edits it in place
                    pipeline_resource_name=spec.pipeline_info.name, task_resource_name=task["task"],
                    pipeline_root="/kfp-root", unique_pipeline_id="run-1")
            except Exception as caught_error:  # noqa: BLE001 - kfp refusing the command is a result
                error = f"{type(caught_error).__name__}: {caught_error}"
        resolved[task["name"]] = {"executor": executor, "values": values, "outputs": outputs, "argv": argv,
                                  "error": error}
    result["resolved"] = resolved
    return result


def main(argv: list[str]) -> int:
    arguments: dict[str, Any] = {}
    if argv[1:2] == ["--arguments"] and len(argv) > 2:
        arguments = json.loads(argv[2])
        argv = [argv[0], *argv[3:]]
    if len(argv) < 2:
        print("usage: kfp_injection_check.py OUTDIR [--arguments JSON] MODULE.py [MODULE.py ...]", file=sys.stderr)
        return 2
    outdir = Path(argv[0])
    modules: dict[str, Any] = {}
    for name in argv[1:]:
        module = Path(name)
        try:
            modules[module.stem] = check(module, outdir / f"{module.stem}.yaml", arguments)
        except Exception as error:  # noqa: BLE001 - a bug here: still one report
            modules[module.stem] = {"ok": False, "stage": "internal",
                                    "error": f"{type(error).__name__}: {error}\n{traceback.format_exc()}"}
    print(json.dumps({"modules": modules}, sort_keys=True, default=repr))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
