"""What dagshift's Argo output looks like: the names, labels, annotations, files, paths and command
shapes the backend (backend.py, script.py) writes and the importer (compiler/importers/argo/) reads
back. One place, so that the two cannot drift apart; each name says what it is, not where it is used."""

from __future__ import annotations

API_VERSION = "argoproj.io/v1alpha1"

# Every document dagshift writes carries this label: the importer reads such files with the
# encodings below in mind.
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "dagshift"

# Annotations. Argo's own description annotation; the owner and the tags (joined by TAGS_SEPARATOR),
# which Argo has no field for.
DESCRIPTION_ANNOTATION = "workflows.argoproj.io/description"
OWNER_ANNOTATION = "dagshift.dev/owner"
TAGS_ANNOTATION = "dagshift.dev/tags"
TAGS_SEPARATOR = ", "
# The task ids that the Argo names do not give back ("load-data", not "load_data"), comma-separated.
TASK_IDS_ANNOTATION = "dagshift.dev/task-ids"
# On the Sensor: EVENT_ANNOTATION_PREFIX + event name -> the artifact's path, or the trigger's URI
# for an event named URI_EVENT_PREFIX + its number.
EVENT_ANNOTATION_PREFIX = "dagshift.dev/event-"
URI_EVENT_PREFIX = "trigger-"

# The files of one pipeline.
WORKFLOW_FILE = "workflow.yaml"
WORKFLOW_TEMPLATE_FILE = "workflowtemplate.yaml"
CRON_WORKFLOW_FILE = "cronworkflow.yaml"
SENSOR_FILE = "sensor.yaml"
LIMITS_FILE = "limits.yaml"
# The files a workflow refers to (the CronWorkflow's WorkflowTemplate, the Sensor, the limits),
# read next to the file being imported.
COMPANION_FILES = (WORKFLOW_TEMPLATE_FILE, SENSOR_FILE, LIMITS_FILE)

DEFAULT_IMAGE = "python:3.12-slim"  # shell and python tasks (--option image)
DEFAULT_WORKDIR = "/workspace"  # the containers' working directory (--option workdir)
POOLS_CONFIGMAP = "dagshift-pools"  # pools are semaphores on this ConfigMap's keys
WORKDIR_VOLUME = "workdir"  # the volume --option volume=CLAIM mounts at the working directory
OUTPUT_FILE = "/tmp/dagshift-output-"  # + NAME: the file of an output with no path of its own
NEVER_EXPIRES = "87600h"  # memoize needs a maxAge; ten years stands for "no expiry"

# Shell tasks run `bash -c TEXT`; text cut into pieces (it holds `{{`) runs through the joiner,
# which runs its arguments joined as one script. Earlier versions wrote `sh` where `bash` is now.
SHELL = "bash"
EARLIER_SHELL = "sh"


def shell_joiner(shell: str) -> list[str]:
    """The command that runs its arguments, joined, as one `shell` script."""
    return [shell, "-c", f'IFS=; exec {shell} -c "$*"', shell]


# A container task's shell command runs in the user's image as `sh -c 'COMMAND "$@"' sh ARGS...`
# (sh: the image may have no bash), the task's args following as "$@".
IMAGE_SHELL = "sh"
PASS_ARGS = ' "$@"'

# Python tasks are script templates run by PYTHON_COMMAND (script.py), with PYTHONPATH set to the
# working directory so that the script imports the user's code.
PYTHON_COMMAND = ["python3"]
# Earlier versions wrote a python task as the call in JSON (CALL_ENV) and its run-time values in
# REF_ENV_PREFIX + index; the importer still reads them.
CALL_ENV = "DAGSHIFT_CALL"
REF_ENV_PREFIX = "DAGSHIFT_REF_"

# What a python task's script (script.py) reads a run-time value (an env var's text, `{}`) with,
# by the declared type; the importer (python.py) recognizes the same forms.
READERS = {
    "str": "{}",
    "int": "int({})",
    "float": "float({})",
    "bool": '{}.strip().lower() == "true"',
    "json": "json.loads({})",
}
# Argo aggregates a fanned-out task's outputs as a JSON list whose items may arrive as text.
LIST_READER = "[{item} if isinstance(v, str) else v for v in json.loads({})]"
# The script's helper that writes a value as text (strings as they are, anything else as JSON).
TEXT_FUNCTION = "_text"
