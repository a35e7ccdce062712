"""What a validation pass gets: the pipeline, its graph and where to report. Each pass is a function
of one of the `check_*` modules; `validate` (the package) runs them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import networkx as nx

from compiler.language.ir import Pipeline
from compiler.language.source import Reporter


@dataclass(frozen=True)
class PassContext:
    pipeline: Pipeline
    graph: nx.DiGraph
    report: Reporter


class ValidationPass(Protocol):
    __name__: str

    def __call__(self, ctx: PassContext) -> None: ...
