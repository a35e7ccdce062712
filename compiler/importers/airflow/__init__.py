"""The importer of Airflow DAG files: importer.py reads a file, the other modules one part each."""

from .importer import IMPORTER

__all__ = ["IMPORTER"]
