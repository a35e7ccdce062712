"""Targets by name, each registered once: its backend and, when dagshift reads the format back, its
importer. Built-in ones are the rows of _BUILTIN, plug-ins come from the `dagshift.backends`
entry-point group.

A built-in row names the backend class, the importer (`dagshift import`, compiler/importers/) and
the engine pins the tests check the output with (scripts/engines/<engine>.txt), each imported on
first use: `dagshift validate` imports no backend, and `dagshift import` lists the formats without
importing one.

A third-party package adds a target with one entry point, in its pyproject.toml:

    [project.entry-points."dagshift.backends"]
    mytarget = "mypackage.backend:MyBackend"

where MyBackend subclasses compiler.backends.base.Backend. The same entry ships its importer: with
`importer = "mypackage.importer:IMPORTER"` on MyBackend (an instance of compiler.importers.Importer),
`dagshift import --from mytarget` reads the format, and detection tries it after the built-ins.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from .base import Backend

ENTRY_POINT_GROUP = "dagshift.backends"


@dataclass(frozen=True)
class Target:
    """One registration: "module:attribute" specs, imported on first use."""

    backend: str  # a Backend subclass
    importer: str | None  # an importers.Importer; None: dagshift does not read the format back
    engine: str | None  # scripts/engines/<engine>.txt: the pins the tests check the output with


# In this order everywhere targets are listed, and import detection tries the formats in it (Airflow
# before Prefect for a .py file that imports both; Argo, DVC, then Kubeflow for YAML).
_BUILTIN = {
    "airflow": Target(
        "compiler.backends.airflow.backend:AirflowBackend", "compiler.importers.airflow:IMPORTER", "airflow"
    ),
    "prefect": Target(
        "compiler.backends.prefect.backend:PrefectBackend", "compiler.importers.prefect:IMPORTER", "prefect"
    ),
    # No Argo runs here (no Kubernetes): hera's models of Argo check the output.
    "argo": Target("compiler.backends.argo.backend:ArgoBackend", "compiler.importers.argo:IMPORTER", "hera"),
    "dvc": Target("compiler.backends.dvc.backend:DvcBackend", "compiler.importers.dvc:IMPORTER", "dvc"),
    "kubeflow": Target(
        "compiler.backends.kubeflow.backend:KubeflowBackend", "compiler.importers.kubeflow:IMPORTER", "kubeflow"
    ),
}


class UnknownBackend(LookupError):
    pass


def load(spec: str) -> Any:
    """The object a "module:attribute" spec names."""
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute)


@lru_cache(maxsize=None)
def _plugins() -> dict[str, str]:
    found = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry.value)
    return found


def names() -> list[str]:
    """Built-ins first (in their fixed order), then plug-ins by name."""
    plugins = sorted(name for name in _plugins() if name not in _BUILTIN)
    return list(_BUILTIN) + plugins


def target(name: str) -> Target:
    """The registration of `name`; a plug-in's importer is the one its backend class names."""
    if name in _BUILTIN:
        return _BUILTIN[name]
    spec = _plugins().get(name)
    if spec is None:
        raise UnknownBackend(name)
    return Target(spec, _backend_class(name, spec).importer, None)


def importable() -> list[str]:
    """The targets dagshift reads back (`dagshift import`), in names() order."""
    return [name for name in names() if target(name).importer]


def _backend_class(name: str, spec: str) -> type[Backend]:
    backend_class = load(spec)
    if not (isinstance(backend_class, type) and issubclass(backend_class, Backend)):
        raise UnknownBackend(f"{name}: {spec} is not a dagshift Backend")
    return backend_class


@lru_cache(maxsize=None)
def get(name: str) -> Backend:
    spec = _BUILTIN[name].backend if name in _BUILTIN else _plugins().get(name)
    if spec is None:
        raise UnknownBackend(name)
    return _backend_class(name, spec)()
