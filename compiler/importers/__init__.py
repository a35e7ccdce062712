"""Importers: pipelines other tools run, read back into dagshift's pipeline syntax.

Each format's package here (airflow, prefect, argo, dvc, kubeflow) defines `IMPORTER`, an `Importer`
that recognizes its format and reads a file into `Imported` pipelines (base.py says how losses are
reported). A format is a target's: its one registration (compiler/backends/registry.py) names both
the backend and the importer, so the formats are the registered targets that name one, built-ins
first, then plug-ins. `import_file` runs the right one and checks that every pipeline it built
validates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compiler.backends import registry
from compiler.diagnostics import Diagnostic, Severity
from compiler.language.ir import Pipeline

from .base import Grade, Imported, Reporter

MAX_BYTES = 20 * 1024 * 1024  # bigger files are not pipelines anyone wrote by hand


class Importer:
    """One source format."""

    name: str = ""
    title: str = ""
    # Fields of a pipeline this format does not carry, as normalize.normalized's `without` paths
    # ("tasks.*.estimate"): a round trip through the format loses exactly these (with reasons in
    # the importer's docstring).
    not_carried: tuple[str, ...] = ()

    def carried(self, pipeline: Pipeline) -> dict[str, Any]:
        """The pipeline as plain data, as far as this format carries it: what a round trip
        (compile to the format, import back) must keep. By default, normalized without the
        `not_carried` fields; a format that keeps a field in another shape (an artifact's path
        in place of its name, say) rewrites it here instead of dropping it."""
        from .normalize import normalized

        return normalized(pipeline, self.not_carried)

    def detect(self, path: Path, text: str) -> bool:
        """Whether the file is in this format (without importing it)."""
        raise NotImplementedError

    def read(self, path: Path, text: str, display: str) -> list[Imported]:
        """Every pipeline in the file; `display` is the file name diagnostics show."""
        raise NotImplementedError


def formats() -> tuple[str, ...]:
    """The formats dagshift imports, in the registry's order. Read when asked, not at import: a
    plug-in may be installed later, and commands that never ask do not look for plug-ins."""
    return tuple(registry.importable())


def __getattr__(name: str) -> Any:
    if name == "FORMATS":  # importers.FORMATS is formats(), read when asked
        return formats()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get(name: str) -> Importer:
    try:
        spec = registry.target(name).importer
    except registry.UnknownBackend:
        spec = None
    if spec is None:
        raise KeyError(name)
    importer = registry.load(spec)
    if not isinstance(importer, Importer):
        raise TypeError(f"{name}: {spec} is not a dagshift Importer")
    return importer


def detect(path: Path, text: str) -> Importer | None:
    """The importer whose format the file is in: the first that says so, in the registry's order
    (Python files: Airflow before Prefect; YAML: Argo, DVC, then Kubeflow; plug-ins after these)."""
    for name in formats():
        importer = get(name)
        if importer.detect(path, text):
            return importer
    return None


def import_file(path: str | Path, source_format: str | None = None, display: str | None = None) -> list[Imported]:
    """Import one file. Never raises for bad input: problems are E6xx diagnostics on the result."""
    path = Path(path)
    display = display or str(path)
    failed = Reporter(display)
    try:
        with open(path, "rb") as handle:  # bounded: a device or a pipe has no size to check first
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        failed.error(f"cannot read the file: {exc.strerror or exc}", code="E601")
        return [Imported(display, None, failed.diagnostics)]
    if len(raw) > MAX_BYTES:
        failed.error(f"the file is larger than {MAX_BYTES:,} bytes, the most dagshift imports", code="E601")
        return [Imported(display, None, failed.diagnostics)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        failed.error(f"the file is not UTF-8 text (byte {exc.start})", code="E601")
        return [Imported(display, None, failed.diagnostics)]
    importer = get(source_format) if source_format else detect(path, text)
    if importer is None:
        failed.error("not a pipeline dagshift can import", code="E601",
                     help="dagshift imports Airflow DAG files and Prefect flows (.py), Argo Workflows, dvc.yaml "
                          "and Kubeflow PipelineSpec YAML; name the format with --from")
        # No format claims it: a file next to the pipelines (a ConfigMap, notes), skipped by --assess.
        return [Imported(display, None, failed.diagnostics, holds_pipeline=False)]
    try:
        results = importer.read(path, text, display)
        for result in results:
            _check(result, text)
    except Exception as exc:  # noqa: BLE001 - an importer bug must still end in a diagnostic, not a traceback
        failed.error(f"the {importer.title} importer failed on this file: {type(exc).__name__}: {exc}", code="E603",
                     help="this is a dagshift importer bug: please report it with the file")
        return [Imported(display, None, failed.diagnostics)]
    return results


def _check(result: Imported, text: str) -> None:
    """The imported pipeline must be valid dagshift syntax. A problem in a part the importer read
    from a place in the file (Reporter.place) is the file's: its parts do not agree (a task reads a
    param the file does not declare, the edges make a cycle) or say what no pipeline can hold; an
    E602 at that line. A problem anywhere else is an importer bug."""
    if result.diagnostics.has_errors:
        result.data = None
    if result.data is None:
        return
    from compiler.api import check_text

    loaded = check_text(pipeline_yaml(result), f"{result.file} (imported)")
    in_file = Reporter(result.file, text)
    for diagnostic in loaded.diagnostics.errors:
        line = _place_of(result.places, diagnostic.path)
        if line is not None:
            in_file.error(f"the pipeline read from the file is not valid: {diagnostic.code} {diagnostic.message}",
                          line, help=diagnostic.help)
            continue
        result.diagnostics.add(Diagnostic(
            "E603", Severity.ERROR, f"the imported pipeline is not valid: {diagnostic.code} {diagnostic.message} "
            f"(at {diagnostic.loc})", None, (), "this is a dagshift importer bug: please report it with the file"))
    result.diagnostics.extend(in_file.diagnostics)
    if result.diagnostics.has_errors:
        result.data = None


def _place_of(places: dict[tuple, int], path: tuple) -> int | None:
    """The line of the innermost part holding `path` that the importer read from a place in the file."""
    for end in range(len(path), 0, -1):
        if path[:end] in places:
            return places[path[:end]]
    return None


def pipeline_yaml(result: Imported) -> str:
    """The pipeline as a dagshift YAML file, saying where it came from."""
    from compiler.output import emit

    origin = f" ({result.origin})" if result.origin else ""
    source = json.dumps(result.file + origin, ensure_ascii=False)[1:-1]  # no line break ends the comment
    header = f"# Imported by dagshift from {source}.\n"
    return header + emit.to_yaml(result.data)


__all__ = ["FORMATS", "Grade", "Imported", "Importer", "Reporter", "detect", "formats", "get", "import_file",
           "pipeline_yaml"]
