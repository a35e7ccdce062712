"""Each target is registered once (compiler/backends/registry.py) and comes whole: its templates, its
docs page, the engine pins its output is checked with, its importer and its golden output."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import importers
from compiler.backends import registry
from compiler.backends.registry import Target

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))


def missing(name: str, registration: Target) -> list[str]:
    """What the repository lacks for a registered target, one line each."""
    found = []
    if not any((ROOT / "templates" / name).glob("*.j2")):
        found.append(f"{name}: missing template folder templates/{name}/")
    if not (ROOT / "docs" / "backends" / f"{name}.md").is_file():
        found.append(f"{name}: missing docs page docs/backends/{name}.md")
    if registration.engine is None:
        found.append(f"{name}: missing engine pins (none registered)")
    elif not (ROOT / "scripts" / "engines" / f"{registration.engine}.txt").is_file():
        found.append(f"{name}: missing engine pins scripts/engines/{registration.engine}.txt")
    if not _has_importer(name, registration):
        found.append(f"{name}: missing importer compiler/importers/{name}/ (registered: {registration.importer})")
    without = [example for example in EXAMPLES if not (ROOT / "golden" / example / name).is_dir()]
    if without:
        found.append(f"{name}: missing goldens golden/<example>/{name}/ for {', '.join(without)}")
    return found


def _has_importer(name: str, registration: Target) -> bool:
    if registration.importer is None or not (ROOT / "compiler" / "importers" / name / "__init__.py").is_file():
        return False
    try:
        return importers.get(name).name == name
    except ImportError:
        return False


def report() -> list[str]:
    # The targets this repository ships: an installed plug-in keeps its files in its own package.
    return [line for name, registration in registry._BUILTIN.items() for line in missing(name, registration)]


def test_every_built_in_target_is_complete() -> None:
    assert report() == [], "\n".join(report())


@pytest.mark.parametrize("importer, engine", [("compiler.importers.fake:IMPORTER", "fake"), (None, None)])
def test_the_report_names_all_that_a_target_lacks(monkeypatch, importer: str | None, engine: str | None) -> None:
    fake = Target("compiler.backends.airflow.backend:AirflowBackend", importer, engine)
    monkeypatch.setitem(registry._BUILTIN, "fake", fake)
    lines = report()
    lacking = [line.partition(" missing ")[2].split()[0] for line in lines]
    assert lacking == ["template", "docs", "engine", "importer", "goldens"], lines
    assert all(line.startswith("fake: ") for line in lines)
    assert "fake: missing docs page docs/backends/fake.md" in lines


def test_nothing_is_left_out_of_the_registry() -> None:
    """An importer package, docs page or template folder of a target nobody registered is dead."""
    registered = set(registry._BUILTIN)
    packages = {p.parent.name for p in (ROOT / "compiler" / "importers").glob("*/__init__.py")}
    pages = {p.stem for p in (ROOT / "docs" / "backends").glob("*.md")}
    templates = {p.name for p in (ROOT / "templates").iterdir() if p.is_dir()} - {"compare"}  # compare: a report
    assert packages | pages | templates <= registered, sorted((packages | pages | templates) - registered)


def test_the_formats_are_the_registered_importers_in_the_registry_order() -> None:
    assert importers.formats() == importers.FORMATS
    assert importers.formats()[:5] == ("airflow", "prefect", "argo", "dvc", "kubeflow")  # plug-ins after these
    assert [importers.get(name).name for name in importers.formats()] == list(importers.formats())
    with pytest.raises(KeyError):
        importers.get("nowhere")


@pytest.mark.parametrize(
    "name, text, detected",
    [
        ("dag.py", "import airflow\nfrom prefect import flow\nwith DAG('x'):\n    pass\n", "airflow"),
        ("flow.py", "from prefect import flow\n", "prefect"),
        ("wf.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n", "argo"),
        ("dvc.yaml", "stages:\n  a: {cmd: echo}\n", "dvc"),
        ("spec.yaml", "pipelineInfo: {name: p}\nroot: {}\ndeploymentSpec: {}\n", "kubeflow"),
    ],
)
def test_detection_tries_the_formats_in_the_registry_order(name: str, text: str, detected: str) -> None:
    """A .py file that both importers would claim is Airflow's (listed first)."""
    importer = importers.detect(Path(name), text)
    assert importer is not None and importer.name == detected
