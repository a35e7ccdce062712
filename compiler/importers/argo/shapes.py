"""The shape of an Argo workflow document, as far as the Argo importer reads it (shapes.py): the
kinds of value Argo's own schema gives these keys."""

from __future__ import annotations

from compiler.importers.shapes import ANYTHING, MAPPING, NUMBER, SCALAR, WHOLE, Either, ListOf, MapOf, NotNull, Required

API_PREFIX = "argoproj.io/"  # the apiVersion of every Argo document, up to its version

_NAME = Required(SCALAR)  # Argo refuses a parameter, artifact, template or task without one
_NAMED = {"name": _NAME}
_SCALARS = MapOf(SCALAR)
_KEY_REF = {"name": SCALAR, "key": SCALAR}
_VALUE_FROM = {"configMapKeyRef": _KEY_REF, "secretKeyRef": _KEY_REF, "path": SCALAR, "parameter": SCALAR,
               "expression": SCALAR, "jsonPath": SCALAR, "default": SCALAR, "supplied": MAPPING}
_PARAMETER = {"name": _NAME, "value": SCALAR, "default": SCALAR, "description": SCALAR, "enum": ListOf(SCALAR),
              "valueFrom": _VALUE_FROM, "globalName": SCALAR}
_ARTIFACT = {"name": _NAME, "path": SCALAR, "from": SCALAR, "fromExpression": SCALAR, "optional": SCALAR,
             "mode": SCALAR, "globalName": SCALAR, "archive": MAPPING, "raw": {"data": SCALAR},
             "s3": {"bucket": SCALAR, "key": SCALAR}, "gcs": {"bucket": SCALAR, "key": SCALAR},
             "http": {"url": SCALAR, "headers": ListOf(MAPPING)},
             "git": {"repo": SCALAR, "revision": SCALAR}, "artifactory": {"url": SCALAR},
             "oss": {"bucket": SCALAR, "key": SCALAR}, "azure": {"container": SCALAR, "blob": SCALAR},
             "hdfs": {"path": SCALAR}}
_IO = {"parameters": ListOf(_PARAMETER), "artifacts": ListOf(_ARTIFACT)}
_OUTPUTS = dict(_IO, result=SCALAR, exitCode=SCALAR)
_ENV = {"name": _NAME, "value": SCALAR, "valueFrom": {"secretKeyRef": _KEY_REF, "configMapKeyRef": _KEY_REF}}
_RESOURCES = {"limits": _SCALARS, "requests": _SCALARS}
_CONTAINER = {"name": SCALAR, "image": SCALAR, "command": ListOf(SCALAR), "args": ListOf(SCALAR),
              "source": SCALAR, "workingDir": SCALAR, "env": ListOf(_ENV), "envFrom": ListOf(MAPPING),
              "resources": _RESOURCES, "volumeMounts": ListOf({"name": SCALAR, "mountPath": SCALAR})}
_RETRY = {"limit": SCALAR, "retryPolicy": SCALAR, "expression": SCALAR,
          "backoff": {"duration": SCALAR, "factor": NUMBER, "maxDuration": SCALAR, "cap": SCALAR},
          "affinity": MAPPING}
_SYNCHRONIZATION = {"semaphore": {"configMapKeyRef": _KEY_REF, "database": MAPPING},
                    "semaphores": ListOf({"configMapKeyRef": _KEY_REF}),
                    "mutex": _NAMED, "mutexes": ListOf(_NAMED)}
_HOOK = {"template": SCALAR, "expression": SCALAR, "arguments": _IO, "templateRef": MAPPING}
_ARGUMENTS = _IO
_SEQUENCE = {"count": SCALAR, "start": SCALAR, "end": SCALAR, "format": SCALAR}
_TASK = {"name": _NAME, "template": SCALAR, "templateRef": {"name": SCALAR, "template": SCALAR, "clusterScope": SCALAR},
         "arguments": _ARGUMENTS, "dependencies": ListOf(SCALAR), "depends": SCALAR, "when": SCALAR,
         "withItems": ListOf(ANYTHING), "withParam": SCALAR, "withSequence": _SEQUENCE, "onExit": SCALAR,
         "hooks": MapOf(_HOOK), "continueOn": MAPPING, "inline": MAPPING}
# A template's kind is the key it has (`container:`, `dag:`...): such a key never holds null.
_TEMPLATE = {"name": _NAME, "inputs": _IO, "outputs": _OUTPUTS, "container": NotNull(_CONTAINER),
             "script": NotNull(_CONTAINER), "containerSet": NotNull({"containers": ListOf(_CONTAINER)}),
             "dag": NotNull({"tasks": ListOf(_TASK), "target": SCALAR, "failFast": SCALAR}),
             "steps": NotNull(ListOf(Either((ListOf(_TASK), _TASK)))), "retryStrategy": _RETRY, "metadata": {"labels": _SCALARS,
                                                                                    "annotations": _SCALARS},
             "memoize": {"key": SCALAR, "maxAge": SCALAR, "cache": {"configMap": _KEY_REF}},
             "synchronization": _SYNCHRONIZATION, "timeout": SCALAR, "activeDeadlineSeconds": SCALAR,
             "resource": NotNull({"action": SCALAR, "manifest": SCALAR, "successCondition": SCALAR, "flags": ListOf(SCALAR),
                          "mergeStrategy": SCALAR, "setOwnerReference": SCALAR}),
             "data": NotNull(MAPPING), "http": NotNull({"url": SCALAR, "method": SCALAR, "headers": ListOf(MAPPING),
                                       "timeoutSeconds": SCALAR, "successCondition": SCALAR, "body": SCALAR}),
             "suspend": NotNull(MAPPING), "volumes": ListOf(MAPPING), "nodeSelector": _SCALARS, "podSpecPatch": SCALAR,
             "parallelism": SCALAR, "sidecars": ListOf(_CONTAINER), "initContainers": ListOf(_CONTAINER)}
_SPEC = {"entrypoint": SCALAR, "arguments": _ARGUMENTS, "templates": ListOf(_TEMPLATE), "onExit": SCALAR,
         "workflowTemplateRef": {"name": SCALAR, "clusterScope": SCALAR}, "synchronization": _SYNCHRONIZATION,
         "parallelism": WHOLE, "activeDeadlineSeconds": SCALAR, "hooks": MapOf(_HOOK), "retryStrategy": _RETRY,
         "volumes": ListOf(MAPPING), "volumeClaimTemplates": ListOf(MAPPING), "podGC": MAPPING, "ttlStrategy": MAPPING,
         "metrics": MAPPING, "nodeSelector": _SCALARS, "serviceAccountName": SCALAR, "templateDefaults": MAPPING}
_METADATA = {"name": SCALAR, "generateName": SCALAR, "namespace": SCALAR, "labels": _SCALARS,
             "annotations": _SCALARS}

WORKFLOW = {"apiVersion": SCALAR, "kind": SCALAR, "metadata": _METADATA,
            "spec": dict(_SPEC, workflowSpec=_SPEC, workflowMetadata=MAPPING, schedule=SCALAR,
                         schedules=ListOf(SCALAR), timezone=SCALAR, concurrencyPolicy=SCALAR, suspend=SCALAR,
                         startingDeadlineSeconds=SCALAR)}
