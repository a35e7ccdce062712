"""What every importer shares: the result of importing one pipeline, the losses reported on the
way, and reading foreign YAML with line numbers.

An importer reads a file another tool runs (an Airflow DAG file, an Argo Workflow, a dvc.yaml...)
and builds the pipeline as dagshift's own surface syntax: plain data that `dagshift validate`
would accept. Whatever the source says that the pipeline cannot hold is kept as close as it can
be and reported as a loss (a W6xx warning at the source's file:line, saying what and why), never
dropped silently. A file that cannot be imported at all gets an E6xx error instead.

Codes:
  E601  the file cannot be imported (syntax error, not this format, nothing to import)
  E602  a construct stops the import (the pipeline would run something else), or the parts of the
        file do not agree (a task reads a param the file does not declare): reported at the line
        of the part the pipeline's validation rejects (Reporter.place)
  E603  the importer failed, or built a pipeline that does not validate in a part it read from no
        place in the file (an importer bug: please report it)
  W601  a construct is not carried over (a loss)
  W602  a construct is carried over approximately (a loss: read the message)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Diagnostics, Severity, SourceLoc


class Grade(str, Enum):
    """How much of a migration a file needs, as `dagshift import --assess` counts it."""

    AUTOMATIC = "automatic"  # imported with no loss
    REVIEW = "review"  # imported, with losses to review
    MANUAL = "manual"  # cannot be imported: port it by hand
    SKIPPED = "skipped"  # the file holds no pipeline (a ConfigMap next to the workflows): nothing to migrate


@dataclass
class Imported:
    """One pipeline read from a source file (a file may hold several: Argo documents, DAGs)."""

    file: str
    data: dict[str, Any] | None  # dagshift's surface syntax; None when it could not be imported
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    origin: str = ""  # which part of the file: "document 2", "dag etl"...
    holds_pipeline: bool = True  # False for a file of the format that describes no pipeline at all
    places: dict[tuple, int] = field(default_factory=dict)  # Reporter.places: where each part of `data` was read

    @property
    def grade(self) -> Grade:
        if not self.holds_pipeline:
            return Grade.SKIPPED
        if self.data is None or self.diagnostics.has_errors:
            return Grade.MANUAL
        return Grade.REVIEW if self.diagnostics.warnings else Grade.AUTOMATIC

    @property
    def name(self) -> str:
        return str((self.data or {}).get("name") or Path(self.file).stem)


class Reporter:
    """Collects the losses of one import, each at a place in the source file."""

    def __init__(self, file: str, text: str = ""):
        self.file = file
        self.lines = text.splitlines()
        self.diagnostics = Diagnostics()
        # A path into the pipeline data ("tasks", "train") -> the line of the file it was read from.
        # A task reading a param the file does not declare is valid where it is read, invalid in the
        # pipeline: import_file validates the whole and reports each problem at its part's line.
        self.places: dict[tuple, int] = {}

    def place(self, path: tuple, line: int | None) -> None:
        """Where the part of the pipeline at `path` was read (the first place, if read twice)."""
        if line:
            self.places.setdefault(path, line)

    def _add(self, code: str, severity: Severity, message: str, line: int | None, col: int | None,
             help: str | None) -> None:
        loc = SourceLoc(self.file, line, col or 1) if line else None
        source_line = self.lines[line - 1] if line and 0 < line <= len(self.lines) else None
        self.diagnostics.add(Diagnostic(code, severity, message, loc, (), help, source_line))

    def loss(self, message: str, line: int | None = None, col: int | None = None, *, help: str | None = None,
             approximate: bool = False) -> None:
        """Something the source says that the pipeline does not carry (W601), or carries only
        approximately (W602)."""
        self._add("W602" if approximate else "W601", Severity.WARNING, message, line, col, help)

    def error(self, message: str, line: int | None = None, col: int | None = None, *, help: str | None = None,
              code: str = "E602") -> None:
        self._add(code, Severity.ERROR, message, line, col, help)


# ----------------------------------------------------------------------------- foreign YAML


def yaml_documents(text: str) -> list[Any]:
    """Every document of a YAML text, with ruamel's line information (`.lc`) on mappings and
    sequences. Raises ruamel's YAMLError on bad YAML, limits.YamlTooLarge on an alias bomb."""
    from ruamel.yaml import YAML

    from .limits import bounded_documents

    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    return bounded_documents([document for document in yaml.load_all(text)])


def line_of(node: Any, key: Any = None) -> int | None:
    """The 1-based line of a mapping or sequence read by yaml_documents (of `key`'s entry when
    given: a mapping key, or a sequence index)."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is None:
            return lc.line + 1
        if isinstance(key, int):
            return lc.item(key)[0] + 1
        return lc.key(key)[0] + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return lc.line + 1


def plain(node: Any) -> Any:
    """ruamel's round-trip objects as plain dicts, lists, str, int, float, bool and None."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (int, float, bool)) else k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def portable_name(name: str, report: Reporter, line: int | None = None) -> str:
    """The pipeline's name as one every target accepts: a source name that is not ('${', '1e+308',
    a name too long for Kubernetes) is imported as the nearest valid one, with a W602."""
    from compiler.language.naming import id_problem, suggest_id

    problem = id_problem(name)
    if problem is None:
        return name
    suggested = suggest_id(name)
    report.loss(f"the pipeline's name {problem}: imported as '{suggested}'", line, approximate=True)
    return suggested


def is_portable_secret(name: str, key: str) -> bool:
    """Whether every target can look the secret up (docs/pipeline-syntax.md, E115)."""
    from compiler.language.naming import SECRET_KEY_PATTERN, SECRET_NAME_PATTERN

    return SECRET_NAME_PATTERN.match(name) is not None and SECRET_KEY_PATTERN.match(key) is not None


SECRET_NOT_CARRIED = ("is not a name every target can look up (lowercase letters, digits and '-'; a key of letters, "
                      "digits, '-', '_' and '.'): not carried; rename the secret")


def is_env_name(name: str) -> bool:
    """Whether a pipeline can set an environment variable of this name (a shell's rule)."""
    from compiler.language.naming import IDENTIFIER_PATTERN

    return IDENTIFIER_PATTERN.match(name) is not None
