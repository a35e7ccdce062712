"""What the Argo importer's modules share: the exception that stops an import (the document is
graded manual), and the names dagshift's own Argo backend writes (compiler/backends/argo/backend.py)."""

from __future__ import annotations

DAGSHIFT_IMAGE = "python:3.12-slim"
DAGSHIFT_WORKDIR = "/workspace"
DAGSHIFT_POOLS = "dagshift-pools"
DAGSHIFT_VOLUME = "workdir"  # --option volume=CLAIM: the claim, mounted at every task's working directory
OUTPUT_FILE = "/tmp/dagshift-output-"
# The task ids that the Argo names do not give back ("load-data", not "load_data"), comma-separated.
TASK_IDS_ANNOTATION = "dagshift.dev/task-ids"


class ImportStop(Exception):
    """A construct the pipeline cannot hold at all: the document is graded manual."""

    def __init__(self, message: str, line: int | None = None, help: str | None = None):
        super().__init__(message)
        self.line = line
        self.help = help
