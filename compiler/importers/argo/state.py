"""What the readers of one workflow document share: where to report, the templates, whether dagshift
wrote the file, and the pipeline read so far. document.py makes one per document and hands it to the
functions of the other modules; none of them imports document.py."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from compiler.importers.base import Reporter

from .companions import Companions


@dataclass
class ReadState:
    report: Reporter  # the document's diagnostics and the lines each part of the pipeline was read from
    companions: Companions  # the other documents of the file and of its folder
    managed: bool  # written by dagshift (its label): read with the backend's encodings in mind
    exact_ids: dict[str, str]  # Argo task name -> task id, for the ids dagshift listed (managed files)
    templates: dict[str, dict]  # by name; templateRef, inline and containerSet templates join as they are read
    tasks: dict[str, dict] = field(default_factory=dict)  # the pipeline's tasks read so far, by id
    argo_ids: dict[str, str] = field(default_factory=dict)  # Argo node path ("main/train") -> task id
    # Each path's trailing names ("train", "b-train" of "a-b-train") -> the newest such path.
    path_suffixes: dict[str, str] = field(default_factory=dict)
    # ("task" | "artifact", base name) -> the next suffix to try
    name_counters: dict[tuple[str, str], int] = field(default_factory=dict)
    conditional: set[str] = field(default_factory=set)  # task ids with a `when`
    artifacts: dict[str, dict] = field(default_factory=dict)  # the pipeline's artifacts, by name
    # (task id, Argo artifact name) -> artifact
    artifact_source: dict[tuple[str, str], str] = field(default_factory=dict)
    # (task id, output) -> how it is used ("list", "float")
    outputs_used: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # the pipeline's params, by name
    param_names: dict[str, str] = field(default_factory=dict)  # Argo parameter name -> pipeline param name
    workdirs: Counter = field(default_factory=Counter)  # the containers' working directories, counted
    # (task id, output, line) of each output read downstream: it must exist on the producer
    pending_outputs: list[tuple[str, str, int | None]] = field(default_factory=list)
    # (placeholder, dagshift's value kind) of python refs: the output's type
    ref_kinds: list[tuple[str, str]] = field(default_factory=list)
    entry_parallelism: int | None = None  # the entrypoint template's parallelism, as max_active_tasks
