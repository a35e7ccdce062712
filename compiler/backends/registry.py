"""Backends by name: the built-in ones plus plug-ins from the `dagshift.backends` entry-point group.

A third-party package adds a backend with, in its pyproject.toml:

    [project.entry-points."dagshift.backends"]
    mytarget = "mypackage.backend:MyBackend"

where MyBackend subclasses compiler.backends.base.Backend.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from importlib.metadata import entry_points

from .base import Backend

ENTRY_POINT_GROUP = "dagshift.backends"

# name -> "module:Class", imported on first use so `dagshift validate` stays fast.
_BUILTIN = {
    "airflow": "compiler.backends.airflow.backend:AirflowBackend",
    "prefect": "compiler.backends.prefect.backend:PrefectBackend",
    "argo": "compiler.backends.argo.backend:ArgoBackend",
    "dvc": "compiler.backends.dvc.backend:DvcBackend",
    "kubeflow": "compiler.backends.kubeflow.backend:KubeflowBackend",
}


class UnknownBackend(LookupError):
    pass


def _load(spec: str) -> type[Backend]:
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


@lru_cache(maxsize=None)
def get(name: str) -> Backend:
    spec = _BUILTIN.get(name) or _plugins().get(name)
    if spec is None:
        raise UnknownBackend(name)
    backend_class = _load(spec)
    if not (isinstance(backend_class, type) and issubclass(backend_class, Backend)):
        raise UnknownBackend(f"{name}: {spec} is not a dagshift Backend")
    return backend_class()
