"""The importer of Kubeflow PipelineSpec YAML: importer.py reads a file, the other modules one part each."""

from .importer import IMPORTER

__all__ = ["IMPORTER"]
