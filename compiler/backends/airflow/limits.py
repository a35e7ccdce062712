"""What Airflow cannot take although it has the feature: AirflowBackend.limits, reported by the builder."""

from __future__ import annotations

from compiler.backends.base import Limit

TAG_LIMIT = 100  # characters of a DAG tag (airflow.sdk DAG: TAG_MAX_LEN)

DOCKER_VALUE_OUTPUTS = Limit(
    "docker-value-outputs", "value outputs of a container task with --option container=docker",
    "DockerOperator has no sidecar to return them through XCom",
    "use --option container=kpo (its XCom sidecar returns them), or write the value to an artifact")
DOCKER_SECRETS = Limit(
    "docker-secrets", "secrets of a container task with --option container=docker",
    "DockerOperator cannot reference Kubernetes Secrets",
    "use --option container=kpo, whose pods read Kubernetes Secrets")
DOCKER_GPU_TYPE = Limit(
    "docker-gpu-type", "a gpu_type other than NVIDIA's with --option container=docker",
    "DockerOperator requests GPUs by count, from the NVIDIA runtime",
    "use --option container=kpo, whose pods request the resource by name", left_out=True)
TAG_LENGTH = Limit(
    "tag-length", f"a DAG tag longer than {TAG_LIMIT} characters", "Airflow refuses the DAG", "shorten the tag")
ASSET_NAME = Limit(
    "asset-name", "a data trigger or URI artifact that is not a valid Airflow asset (blank, too long, "
    "named 'self' or 'context', or with the scheme 'airflow')",
    "Airflow checks every Asset when it imports the DAG file: a refused one fails the import",
    "name the data with a URI or path Airflow accepts as an asset")
HELPER_TASK_ID = Limit(
    "helper-task-id", "a task id taken by a helper task the DAG needs (TASK__succeeded, TASK__items, ...)",
    "conditions, fallbacks and list params are written with helper tasks of those ids", "rename the task")
NESTED_POD_PLACEHOLDER = Limit(
    "nested-pod-placeholder", "a placeholder inside a list or mapping of `args` of a python task in an image",
    "the pod passes each placeholder as one command-line argument", "pass the placeholder as its own argument")
CONTINUOUS_MAX_ACTIVE_RUNS = Limit(
    "continuous-max-active-runs", "max_active_runs above 1 with a continuous trigger",
    "Airflow runs continuous DAGs with max_active_runs=1", "remove max_active_runs or the continuous trigger",
    left_out=True)
POLL_INTERVAL = Limit(
    "poll-interval", "a data trigger's poll_interval", "Airflow assets are event-driven: nothing polls", "",
    left_out=True)

LIMITS = (DOCKER_VALUE_OUTPUTS, DOCKER_SECRETS, TAG_LENGTH, ASSET_NAME, HELPER_TASK_ID, NESTED_POD_PLACEHOLDER,
          DOCKER_GPU_TYPE, CONTINUOUS_MAX_ACTIVE_RUNS, POLL_INTERVAL)
