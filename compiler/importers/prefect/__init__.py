"""The Prefect 3 importer (reader.py says what it reads and which module reads what)."""

from .reader import IMPORTER, PrefectImporter

__all__ = ["IMPORTER", "PrefectImporter"]
