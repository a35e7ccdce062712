"""Runs inside the kubeflow engine venv (scripts/engines/kubeflow.txt: kfp 2.17.3, kfp-kubernetes
2.17.3): compile a generated Kubeflow Pipelines module with the real SDK, read the YAML back through
the protobuf schema, and print the DAG as one JSON object.

    python kfp_inspect.py MODULE.py OUT.yaml    # import MODULE, compile its pipeline to OUT.yaml
    python kfp_inspect.py --parse IN.yaml       # only read an already compiled IN.yaml back

The contract of a generated module is the one `kfp dsl compile --py MODULE.py` (without
--function) sets: exactly one module-level name holds a `@dsl.pipeline` function (an alias such
as `PIPELINE = p` is a second one). The module is imported by path with its own directory on
sys.path, then `kfp.compiler.Compiler().compile(pipeline, OUT.yaml)` writes the YAML.

Reading back is strict, every message with `ignore_unknown_fields=False`, so a misspelled or
unsupported field fails the run:
- document 1 into `pipeline_spec_pb2.PipelineSpec` (json_format.ParseDict);
- its `deploymentSpec` (a Struct inside PipelineSpec, so unchecked by the first parse) into
  `PipelineDeploymentConfig`, which types every executor's container, resources and so on;
- document 2, when there is one, into `PlatformSpec`, and every Kubernetes executor config in it (a
  Struct again) into kfp-kubernetes' `KubernetesExecutorConfig`;
- any further document, an empty file, or a document that is not a mapping is an error.

The report (stdout, one line of JSON; keys sorted):
    {
      "ok": true, "kfp": "2.17.3", "yaml": "OUT.yaml", "documents": 2,
      "pipeline": {"name": "kfp-sample", "description": "...", "schemaVersion": "2.1.0",
                   "sdkVersion": "kfp-2.17.3", "defaultPipelineRoot": null},
      "inputs": {"n": {"type": "NUMBER_INTEGER", "default": 3, "optional": true}, ...},
      "tasks": [
        {"task": "square",                     # the task's key in its DAG
         "name": "square",                     # taskInfo.name (a display name: dsl.If(name=) etc.)
         "dag": ["exit-handler-1", "for-loop-2"],  # keys of the enclosing DAG tasks, outermost first
         "component": "comp-square", "kind": "executor" | "dag", "executor": "exec-square" | null,
         "dependentTasks": ["..."],            # sorted; dependencies inside the same DAG only
         "trigger": null | {"condition": "int(inputs.parameter_values[...]) > 3" | null,
                            "strategy": "ALL_UPSTREAM_TASKS_COMPLETED" | null},
         "iterator": null | {"kind": "parameter" | "artifact", "itemInput": "pipelinechannel--...",
                             "items": {"raw": [1, 2, 3]} | {"input": "pipelinechannel--make-list-Output"},
                             "parallelism": 2},   # iteratorPolicy.parallelismLimit, 0 = unlimited
         "caching": null | {"enableCache": false, "cacheKey": ""},  # null: no cachingOptions (DAG tasks)
         "retry": null | {"maxRetryCount": 3, "backoffDuration": "10s", "backoffFactor": 2.0,
                          "backoffMaxDuration": "300s"},
         "inputs": {"parameters": {NAME: SOURCE}, "artifacts": {NAME: SOURCE}}},
        ...],                                  # sorted by (dag, task)
      "exitHandlers": [{"task": "notify", "dag": [], "guards": "exit-handler-1",
                        "guardName": "guard", "statusInput": "status",
                        "guarded": ["exit-handler-1/make-list", ...]}],
      "executors": {"exec-square": {"image": "python:3.11-slim", "command": ["sh", "-c"],
                                    "python": true,  # a lightweight python component
                                    "function": "square",  # its --function_to_execute
                                    "source": "import kfp\\n...def square(x: int) -> int: ...",  # embedded
                                    "resources": {"resourceCpuLimit": "500m", ...},
                                    "kubernetes": {"secretAsEnv": [...], "activeDeadlineSeconds": "600"}}},
      "platform": null | {"kubernetes": {"pipelineConfig": {"activeDeadlineSeconds": 7200}}},
      "warnings": [{"category": "DeprecationWarning", "message": "...", "where": "file:line"}]
    }
SOURCE is {"constant": V}, {"pipelineInput": NAME} (the enclosing DAG's input), {"task": T, "output": K}
(an upstream task's output; a DAG task's output for `dsl.Collected`), {"taskFinalStatus": T}, or the
raw protobuf JSON of anything else. Proto JSON has no integers in a Value: an int default or
constant comes back as a float; defaults of NUMBER_INTEGER parameters are turned back into ints.

On any failure: exit 1, the reason on stderr, and {"ok": false, "stage": "...", "error": "..."} on
stdout (stages: usage, import, contract, compile, read, parse).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any


class Failure(Exception):
    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


def import_module(path: Path) -> Any:
    if not path.is_file():
        raise Failure("import", f"no such module file: {path}")
    sys.path.insert(0, str(path.resolve().parent))
    spec = importlib.util.spec_from_file_location(f"kfp_generated_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:  # noqa: BLE001 - a SyntaxError, a kfp type error at decoration time, SystemExit
        raise Failure("import", f"importing {path} failed: {type(error).__name__}: {error}\n"
                                f"{traceback.format_exc(limit=-3)}") from None
    return module


def pipeline_of(module: Any, path: Path) -> Any:
    """The module's one pipeline, checked against the contract. Names are counted, not objects,
    as kfp's CLI counts them: an alias of the pipeline makes two."""
    from kfp.dsl.graph_component import GraphComponent

    names = sorted(name for name, value in vars(module).items() if isinstance(value, GraphComponent))
    if len(names) != 1:
        raise Failure("contract", f"{path} has {len(names)} module-level names for @dsl.pipeline functions "
                                  f"({names}); the contract, as for `kfp dsl compile --py`, is exactly one")
    return getattr(module, names[0])


def compile_module(path: Path, out: Path, caught: list[warnings.WarningMessage]) -> None:
    from kfp import compiler

    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        try:
            module = import_module(path)
            pipeline = pipeline_of(module, path)
            try:
                compiler.Compiler().compile(pipeline, str(out))
            except Exception as error:  # noqa: BLE001
                raise Failure("compile", f"kfp could not compile {path}: {type(error).__name__}: {error}") from None
        finally:
            caught.extend(recorded)


# ----------------------------------------------------------------------------- reading back


def read_documents(path: Path) -> list[dict[str, Any]]:
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d is not None]
    except (OSError, yaml.YAMLError) as error:
        raise Failure("read", f"cannot read {path}: {type(error).__name__}: {error}") from None
    if not documents:
        raise Failure("read", f"{path} holds no YAML document")
    if len(documents) > 2:
        raise Failure("read", f"{path} holds {len(documents)} documents; kfp writes a PipelineSpec and at most "
                              "one PlatformSpec")
    for index, document in enumerate(documents):
        if not isinstance(document, dict):
            raise Failure("read", f"{path}: document {index + 1} is a {type(document).__name__}, not a mapping")
    return documents


def parse_strict(document: dict[str, Any], message: Any, what: str) -> Any:
    from google.protobuf import json_format

    try:
        return json_format.ParseDict(document, message, ignore_unknown_fields=False)
    except json_format.ParseError as error:
        raise Failure("parse", f"{what} does not parse: {error}") from None


def parse(documents: list[dict[str, Any]]) -> tuple[Any, Any, Any, dict[str, Any]]:
    """(PipelineSpec, PipelineDeploymentConfig, PlatformSpec or None, {executor: Kubernetes config dict})."""
    from google.protobuf import json_format
    from kfp.kubernetes import kubernetes_executor_config_pb2
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = parse_strict(documents[0], pipeline_spec_pb2.PipelineSpec(), "document 1 (PipelineSpec)")
    deployment = parse_strict(documents[0].get("deploymentSpec") or {}, pipeline_spec_pb2.PipelineDeploymentConfig(),
                              "document 1 deploymentSpec (PipelineDeploymentConfig)")
    platform, kubernetes = None, {}
    if len(documents) == 2:
        platform = parse_strict(documents[1], pipeline_spec_pb2.PlatformSpec(), "document 2 (PlatformSpec)")
        for name, single in platform.platforms.items():
            if name != "kubernetes":
                raise Failure("parse", f"document 2 (PlatformSpec): unknown platform {name!r}")
            for executor, config in single.deployment_spec.executors.items():
                parsed = parse_strict(json_format.MessageToDict(config),
                                      kubernetes_executor_config_pb2.KubernetesExecutorConfig(),
                                      f"document 2 Kubernetes config of {executor} (KubernetesExecutorConfig)")
                kubernetes[executor] = json_format.MessageToDict(parsed)
    missing = sorted(set(kubernetes) - set(deployment.executors))
    if missing:
        raise Failure("parse", f"document 2 configures executors that document 1 does not have: {missing}")
    return spec, deployment, platform, kubernetes


# ----------------------------------------------------------------------------- the normalized DAG


def _dict(message: Any) -> Any:
    from google.protobuf import json_format

    return json_format.MessageToDict(message)


def _parameter_source(spec: Any) -> Any:
    kind = spec.WhichOneof("kind")
    if kind == "component_input_parameter":
        return {"pipelineInput": spec.component_input_parameter}
    if kind == "task_output_parameter":
        output = spec.task_output_parameter
        return {"task": output.producer_task, "output": output.output_parameter_key}
    if kind == "runtime_value" and spec.runtime_value.HasField("constant"):
        return {"constant": _dict(spec.runtime_value.constant)}
    if kind == "task_final_status":
        return {"taskFinalStatus": spec.task_final_status.producer_task}
    return _dict(spec)


def _artifact_source(spec: Any) -> Any:
    kind = spec.WhichOneof("kind")
    if kind == "component_input_artifact":
        return {"pipelineInput": spec.component_input_artifact}
    if kind == "task_output_artifact":
        output = spec.task_output_artifact
        return {"task": output.producer_task, "output": output.output_artifact_key}
    return _dict(spec)


def _iterator(task: Any) -> dict[str, Any] | None:
    kind = task.WhichOneof("iterator")
    if kind is None:
        return None
    iterator = getattr(task, kind)
    items: dict[str, Any]
    if kind == "parameter_iterator":
        if iterator.items.WhichOneof("kind") == "raw":
            try:
                items = {"raw": json.loads(iterator.items.raw)}
            except ValueError:
                items = {"raw": iterator.items.raw}
        else:
            items = {"input": iterator.items.input_parameter}
    else:
        items = {"input": iterator.items.input_artifact}
    return {"kind": kind.split("_")[0], "itemInput": iterator.item_input, "items": items,
            "parallelism": task.iterator_policy.parallelism_limit}


def _trigger(task: Any) -> dict[str, Any] | None:
    if not task.HasField("trigger_policy"):
        return None
    policy = task.trigger_policy
    strategy = policy.DESCRIPTOR.fields_by_name["strategy"].enum_type.values_by_number[policy.strategy].name
    return {"condition": policy.condition or None,
            "strategy": None if strategy == "TRIGGER_STRATEGY_UNSPECIFIED" else strategy}


def _default(definition: Any) -> Any:
    if not definition.HasField("default_value"):
        return None
    value = _dict(definition.default_value)
    kind = type(definition).DESCRIPTOR.fields_by_name["parameter_type"].enum_type.values_by_number[
        definition.parameter_type].name
    if kind == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def walk(spec: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every task of the root DAG and of every sub-DAG, and every exit handler."""
    tasks: list[dict[str, Any]] = []
    exits: list[dict[str, Any]] = []

    def visit(dag: Any, path: list[str], seen: tuple[str, ...]) -> None:
        for key, task in dag.tasks.items():
            name = task.component_ref.name
            if name not in spec.components:
                raise Failure("parse", f"task {'/'.join([*path, key])} refers to unknown component {name!r}")
            component = spec.components[name]
            implementation = component.WhichOneof("implementation")
            caching = None
            if task.HasField("caching_options"):
                caching = {"enableCache": task.caching_options.enable_cache,
                           "cacheKey": task.caching_options.cache_key}
            tasks.append({
                "task": key,
                "name": task.task_info.name,
                "dag": list(path),
                "component": name,
                "kind": "dag" if implementation == "dag" else "executor",
                "executor": component.executor_label or None,
                "dependentTasks": sorted(task.dependent_tasks),
                "trigger": _trigger(task),
                "iterator": _iterator(task),
                "caching": caching,
                "retry": _dict(task.retry_policy) if task.HasField("retry_policy") else None,
                "inputs": {"parameters": {k: _parameter_source(v) for k, v in sorted(task.inputs.parameters.items())},
                           "artifacts": {k: _artifact_source(v) for k, v in sorted(task.inputs.artifacts.items())}},
            })
            if implementation == "dag":
                if name in seen:
                    raise Failure("parse", f"component {name!r} contains itself")
                visit(component.dag, [*path, key], (*seen, name))
        for key, task in dag.tasks.items():
            for input_name, source in task.inputs.parameters.items():
                if source.WhichOneof("kind") == "task_final_status":
                    guard = source.task_final_status.producer_task
                    exits.append({"task": key, "dag": list(path), "guards": guard,
                                  "guardName": dag.tasks[guard].task_info.name if guard in dag.tasks else None,
                                  "statusInput": input_name})

    visit(spec.root.dag, [], ())
    tasks.sort(key=lambda t: (t["dag"], t["task"]))
    for handler in exits:
        prefix = [*handler["dag"], handler["guards"]]
        handler["guarded"] = sorted("/".join([*t["dag"], t["task"]]) for t in tasks
                                    if t["dag"][:len(prefix)] == prefix)
    return tasks, exits


def executors(deployment: Any, kubernetes: dict[str, Any]) -> dict[str, Any]:
    found = {}
    for name, executor in sorted(deployment.executors.items()):
        kind = executor.WhichOneof("spec")
        if kind != "container":
            found[name] = {"kind": kind, **_dict(getattr(executor, kind))}
        else:
            container = executor.container
            args = list(container.args)
            entry: dict[str, Any] = {"kind": "container", "image": container.image,
                                     "command": list(container.command)[:2],
                                     "python": "kfp.dsl.executor_main" in " ".join([*container.command, *args])}
            if "--function_to_execute" in args:
                entry["function"] = args[args.index("--function_to_execute") + 1]
                sources = [part for part in container.command if f"def {entry['function']}(" in part]
                entry["source"] = sources[-1] if sources else None
            else:
                entry["args"] = args
            if container.HasField("resources"):
                entry["resources"] = _dict(container.resources)
            if container.env:
                entry["env"] = {e.name: e.value for e in container.env}
            found[name] = entry
        if name in kubernetes:
            found[name]["kubernetes"] = kubernetes[name]
    return found


def report(path: Path, caught: list[warnings.WarningMessage]) -> dict[str, Any]:
    import kfp

    documents = read_documents(path)
    spec, deployment, platform, kubernetes = parse(documents)
    tasks, exits = walk(spec)
    inputs = {name: {"type": type(d).DESCRIPTOR.fields_by_name["parameter_type"].enum_type.values_by_number[
                         d.parameter_type].name,
                     "default": _default(d), "optional": d.is_optional}
              for name, d in sorted(spec.root.input_definitions.parameters.items())}
    for name, d in sorted(spec.root.input_definitions.artifacts.items()):
        inputs[name] = {"type": f"artifact:{d.artifact_type.schema_title}", "default": None, "optional": d.is_optional}
    platform_report = None
    if platform is not None:
        platform_report = {}
        for name, single in platform.platforms.items():
            entry = _dict(single)
            entry.pop("deploymentSpec", None)  # per executor, under "executors"
            platform_report[name] = entry
    return {
        "ok": True,
        "kfp": kfp.__version__,
        "yaml": str(path),
        "documents": len(documents),
        "pipeline": {"name": spec.pipeline_info.name, "description": spec.pipeline_info.description or None,
                     "displayName": spec.pipeline_info.display_name or None,
                     "schemaVersion": spec.schema_version, "sdkVersion": spec.sdk_version,
                     "defaultPipelineRoot": spec.default_pipeline_root or None},
        "inputs": inputs,
        "tasks": tasks,
        "exitHandlers": exits,
        "executors": executors(deployment, kubernetes),
        "platform": platform_report,
        "warnings": [{"category": w.category.__name__, "message": str(w.message), "where": f"{w.filename}:{w.lineno}"}
                     for w in caught],
    }


def main(argv: list[str]) -> int:
    caught: list[warnings.WarningMessage] = []
    try:
        if len(argv) == 2 and argv[0] == "--parse":
            out = Path(argv[1])
        elif len(argv) == 2 and not argv[0].startswith("-"):
            out = Path(argv[1])
            compile_module(Path(argv[0]), out, caught)
        else:
            raise Failure("usage", "usage: kfp_inspect.py MODULE.py OUT.yaml | kfp_inspect.py --parse IN.yaml")
        result = report(out, caught)
    except Failure as failure:
        print(f"kfp_inspect.py: {failure.stage}: {failure}", file=sys.stderr)
        print(json.dumps({"ok": False, "stage": failure.stage, "error": str(failure)}, sort_keys=True))
        return 1
    except Exception as error:  # noqa: BLE001 - a bug here or an unexpected kfp error: still one clear line
        print(f"kfp_inspect.py: internal error: {traceback.format_exc()}", file=sys.stderr)
        print(json.dumps({"ok": False, "stage": "internal", "error": f"{type(error).__name__}: {error}"}))
        return 1
    print(json.dumps(result, sort_keys=True, default=repr))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
