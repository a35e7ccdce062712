"""The importer of Argo Workflows YAML: importer.py reads a file, the other modules one part each."""

from .importer import IMPORTER

__all__ = ["IMPORTER"]
