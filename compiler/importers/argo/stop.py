"""The exception that stops the import of a document: what it holds cannot be a pipeline at all."""

from __future__ import annotations


class ImportStop(Exception):
    """A construct the pipeline cannot hold at all: the document is graded manual."""

    def __init__(self, message: str, line: int | None = None, help: str | None = None):
        super().__init__(message)
        self.line = line
        self.help = help
