"""The shape of a Kubeflow PipelineSpec and of its platform document, as far as the Kubeflow
importer reads them (shapes.py): the kinds of value kfp's PipelineSpec schema gives these keys."""

from __future__ import annotations

from typing import Any

from compiler.importers.base import line_of
from compiler.importers.shapes import (
    ANYTHING,
    MAPPING,
    NUMBER,
    SCALAR,
    WHOLE,
    ListOf,
    MapOf,
    Misshapen,
    NotNull,
    misshapen,
)

_CONSTANT = {"constant": ANYTHING, "runtimeParameter": SCALAR}
_BINDING = {"componentInputParameter": SCALAR, "componentInputArtifact": SCALAR, "runtimeValue": _CONSTANT,
            "taskOutputParameter": {"producerTask": SCALAR, "outputParameterKey": SCALAR},
            "taskOutputArtifact": {"producerTask": SCALAR, "outputArtifactKey": SCALAR},
            "taskFinalStatus": {"producerTask": SCALAR}, "parameterExpressionSelector": SCALAR}
_DEFINITIONS = {"parameters": MapOf({"parameterType": SCALAR, "defaultValue": ANYTHING, "description": SCALAR,
                                     "isOptional": SCALAR}),
                "artifacts": MapOf({"artifactType": {"schemaTitle": SCALAR, "schemaVersion": SCALAR}})}
_TASK = {"componentRef": {"name": SCALAR}, "taskInfo": {"name": SCALAR}, "dependentTasks": ListOf(SCALAR),
         "inputs": {"parameters": MapOf(_BINDING), "artifacts": MapOf(_BINDING)},
         "triggerPolicy": {"condition": SCALAR, "strategy": SCALAR}, "cachingOptions": MAPPING,
         "retryPolicy": {"maxRetryCount": WHOLE, "backoffFactor": NUMBER, "backoffDuration": SCALAR,
                         "backoffMaxDuration": SCALAR},
         "iteratorPolicy": {"parallelismLimit": WHOLE},
         "parameterIterator": {"items": {"raw": SCALAR, "inputParameter": SCALAR}, "itemInput": SCALAR},
         "artifactIterator": MAPPING}
_DAG = {"tasks": MapOf(_TASK), "outputs": MAPPING}
_COMPONENT = {"executorLabel": SCALAR, "dag": NotNull(_DAG), "inputDefinitions": _DEFINITIONS,
              "outputDefinitions": _DEFINITIONS}
_RESOURCES = {"cpuLimit": SCALAR, "memoryLimit": SCALAR, "resourceCpuLimit": SCALAR, "resourceMemoryLimit": SCALAR,
              "accelerator": {"count": WHOLE, "type": SCALAR, "resourceCount": WHOLE, "resourceType": SCALAR}}
_EXECUTOR = {"container": {"image": SCALAR, "command": ListOf(SCALAR), "args": ListOf(SCALAR),
                           "env": ListOf({"name": SCALAR, "value": SCALAR}), "resources": _RESOURCES},
             "importer": {"artifactUri": _CONSTANT, "typeSchema": {"schemaTitle": SCALAR}, "metadata": MAPPING,
                          "reimport": SCALAR}}

PIPELINE_SPEC = {"components": MapOf(_COMPONENT), "deploymentSpec": {"executors": MapOf(_EXECUTOR)},
                 "pipelineInfo": {"name": SCALAR, "description": SCALAR}, "root": _COMPONENT}

_SECRET_AS_ENV = {"secretName": SCALAR, "secretNameParameter": {"runtimeValue": _CONSTANT},
                  "keyToEnv": ListOf({"secretKey": SCALAR, "envVar": SCALAR})}
PLATFORM = {"platforms": {"kubernetes": {
    "deploymentSpec": {"executors": MapOf({"secretAsEnv": ListOf(_SECRET_AS_ENV), "activeDeadlineSeconds": WHOLE})},
    "pipelineConfig": {"activeDeadlineSeconds": WHOLE}}}}


def misshapen_spec(spec: Any, platform: Any) -> Misshapen | None:
    """The first value of the PipelineSpec, then of its platform document (if any), that does not
    have its shape."""
    return misshapen(spec, PIPELINE_SPEC) or (misshapen(platform, PLATFORM) if platform is not None else None) \
        or _component_cycle(spec)


def _component_cycle(spec: dict) -> Misshapen | None:
    """A component whose DAG runs itself, directly or through others (the reader would follow it
    forever). Depth-first, with an explicit stack."""
    components = spec.get("components") or {}

    def called(name: Any) -> list[str]:
        dag = (components.get(name) or {}).get("dag") or {}
        return [str((task.get("componentRef") or {}).get("name")) for task in (dag.get("tasks") or {}).values()]

    done: set[str] = set()
    for start in components:
        path: list[str] = []
        stack: list[tuple[str, bool]] = [(str(start), True)]
        while stack:
            name, entering = stack.pop()
            if not entering:
                path.pop()
                done.add(name)
                continue
            if name in path:
                return Misshapen(f"component '{name}' runs itself through its DAG ({' -> '.join([*path, name])})",
                                 line_of(components, name))
            if name in done or name not in components:
                continue
            path.append(name)
            stack.append((name, False))
            stack += [(inner, True) for inner in called(name)]
    return None
