"""The pipeline a run needs: loaded, validated, compiled for the target and written where the
engine reads it. Each step's problems are the compile's own diagnostics (file:line:col)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.api import check_file
from compiler.diagnostics import Diagnostic, Diagnostics, Severity
from compiler.language.ir import Pipeline
from compiler.language.load import Loaded


@dataclass
class Prepared:
    """A loaded pipeline (None when it does not validate) and its diagnostics, warnings included."""

    loaded: Loaded
    diagnostics: Diagnostics = field(default_factory=Diagnostics)

    @property
    def pipeline(self) -> Pipeline | None:
        return None if self.diagnostics.has_errors else self.loaded.pipeline


def load(path: str) -> Prepared:
    loaded = check_file(path)
    return Prepared(loaded, Diagnostics(loaded.diagnostics.sorted()))


def compile_files(prepared: Prepared, target: str, defaults: dict[str, Any] | None = None) -> dict[str, str]:
    """The target's files (relative path -> text), {} after an error (added to the diagnostics).
    DEFAULTS replace the params' defaults: for targets that read param values from a file they write."""
    from compiler.compile import compile_loaded

    loaded = prepared.loaded
    if defaults and loaded.pipeline is not None:
        params = {name: param.model_copy(update={"default": defaults[name]}) if name in defaults else param
                  for name, param in loaded.pipeline.params.items()}
        loaded = Loaded(loaded.source, Diagnostics(), loaded.pipeline.model_copy(update={"params": params}),
                        loaded.data)
    else:
        loaded = Loaded(loaded.source, Diagnostics(), loaded.pipeline, loaded.data)
    result = compile_loaded(loaded, [target])
    prepared.diagnostics.extend(result.diagnostics.sorted())
    return {} if result.diagnostics.has_errors else result.files


def write_files(files: dict[str, str], directory: Path, diagnostics: Diagnostics) -> bool:
    """Write FILES into DIRECTORY all or nothing (never replacing a file dagshift did not write);
    False with an E403 per destination that cannot be written."""
    from compiler.output.files import OutputErrors, write_outputs

    try:
        write_outputs({directory: files})
    except OutputErrors as exc:
        diagnostics.extend(Diagnostic("E403", Severity.ERROR, str(problem), help=problem.help)
                           for problem in exc.problems)
        return False
    return True
