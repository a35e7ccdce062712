"""The importer of Argo Workflows YAML: importer.py reads a file, document.py each workflow in it, the
other modules one part each, handed the document's ReadState (state.py). The list of modules: importer.py's docstring."""

from .importer import IMPORTER

__all__ = ["IMPORTER"]
