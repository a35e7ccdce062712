"""What dagshift's Kubeflow output looks like, for the backend that writes it and the importer that
reads back the PipelineSpec kfp compiles from it (compiler/importers/kubeflow/): one definition
each, so the two cannot drift apart. (The container command forms, JOIN and the others, and
DEFAULT_IMAGE are in backend.py, which the importer reads them from.)"""

from __future__ import annotations

# The recurring run next to the pipeline, and the header line naming the schedule's time zone.
RECURRING_RUN_FILE = "recurring_run.yaml"
TIME_ZONE_COMMENT = "# Time zone: "

# The display name of a task's alerts task: `<task>: alerts`.
ALERTS_SUFFIX = ": alerts"

# The parameter of a component acting on another task's final state (`status.state`).
FINAL_STATUS = "status"

# The last piece of a script that takes container args: `CMD "$@"`.
ARGS_PIECE = ' "$@"'

# A script's first line changing into the pipeline's workdir (DIR shell-quoted).
CD_WORKDIR = "cd -- {dir} || exit\n"

# The prefix of a component's output artifact where the artifact's own name would clash or looks
# prefixed (once: a name that starts with it always gets it, so one prefix off is the artifact's name).
ARTIFACT_PREFIX = "a_"
# The same for a component's value output (a NamedTuple field).
OUTPUT_PREFIX = "o_"

# The helper a python component defines to print a value into a text (the run-time text rule).
TEXT_HELPER = "_text"
