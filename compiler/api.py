"""The library entry points the CLI (and other tools) call: load + validate in one step."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .diagnostics import Diagnostics, YamlPath
from .language import ir
from .language.load import Loaded, load_file, load_text
from .passes import validate

# Schema errors whose offending key can be dropped to check the rest of the pipeline.
_DROPPABLE = {"E010", "E012", "E013"}
_SALVAGE_ROUNDS = 5


def check_file(path: str | Path, display_name: str | None = None) -> Loaded:
    """Load and validate one pipeline file. `loaded.pipeline` is None when it could not be built;
    `loaded.diagnostics` holds every problem found (sort them for source order)."""
    return _validated(load_file(path, display_name))


def check_text(text: str, name: str) -> Loaded:
    """Load and validate pipeline text (an importer's output, say) as check_file does a file."""
    return _validated(load_text(text, name))


def _validated(loaded: Loaded) -> Loaded:
    if loaded.pipeline is not None:
        validate(loaded.pipeline, loaded.source, loaded.diagnostics)
    else:
        _validate_the_rest(loaded)
    return loaded


def _validate_the_rest(loaded: Loaded) -> None:
    """After schema errors, drop the offending keys and run the passes on what remains, so one
    wrong value does not hide the graph's problems. `loaded.pipeline` stays None."""
    if not isinstance(loaded.data, dict) or not loaded.diagnostics.items:
        return
    if any(d.code not in _DROPPABLE for d in loaded.diagnostics):
        return  # a syntax error, a duplicate key or a missing required key: the rest is unreliable
    data = copy.deepcopy(loaded.data)
    paths = [d.path for d in loaded.diagnostics]
    dropped: list[YamlPath] = []
    for _ in range(_SALVAGE_ROUNDS):
        if not all(_drop(data, path) for path in paths):
            return
        dropped += paths
        try:
            pipeline = ir.Pipeline.model_validate(data)
        except ValidationError as exc:
            paths = [_error_path(error["loc"]) for error in exc.errors(include_url=False)]
            continue
        # A task that lost a key may now look wrong in ways the user did not write: stay quiet on it.
        damaged = {path[:2] for path in dropped if len(path) > 2 and path[0] == "tasks"}
        extra = validate(pipeline, loaded.source, Diagnostics())
        loaded.diagnostics.extend(d for d in extra if d.path[:2] not in damaged)
        return


def _error_path(loc: tuple) -> YamlPath:
    return tuple(part for part in loc if isinstance(part, int) or not _looks_like_tag(part))


def _looks_like_tag(part: str) -> bool:
    return "[" in part or part.startswith("function-") or part in ("str", "int", "float", "bool", "list", "dict")


def _drop(data: Any, path: YamlPath) -> bool:
    """Remove the innermost mapping key on `path`; False when nothing optional can be removed."""
    keys = [i for i, part in enumerate(path) if isinstance(part, str)]
    if not keys:
        return False
    cut = path[: keys[-1] + 1]
    if cut in (("name",), ("tasks",)):
        return False
    parent = data
    for part in cut[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return True  # already gone with an earlier drop
    if isinstance(parent, dict):
        if len(cut) == 2 and cut[0] == "tasks":
            parent[cut[-1]] = None  # keep the task (as a no-op) so references to it still resolve
        else:
            parent.pop(cut[-1], None)
        return True
    return False
