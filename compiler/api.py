"""The library entry points the CLI (and other tools) call: load + validate in one step."""

from __future__ import annotations

from pathlib import Path

from .load import Loaded, load_file
from .passes import validate


def check_file(path: str | Path, display_name: str | None = None) -> Loaded:
    """Load and validate one pipeline file. `loaded.pipeline` is None when it could not be built;
    `loaded.diagnostics` holds every problem found, in source order once sorted."""
    loaded = load_file(path, display_name)
    if loaded.pipeline is not None:
        validate(loaded.pipeline, loaded.source, loaded.diagnostics)
    return loaded
