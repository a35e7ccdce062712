"""What the readers of one @flow function share: the module it is in, the function, where to report,
and the pipeline data read so far. reader.py makes one per flow and hands it to the readers of the
options, the flow body and the deployment; none of them imports reader.py."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from compiler.importers.base import Reporter

from .module import ModuleReader


@dataclass
class FlowState:
    module: ModuleReader  # the module's functions, classes and what dagshift's output keeps beside them
    function: ast.FunctionDef  # the @flow function
    report: Reporter  # the flow's diagnostics and the lines each part of `data` was read from
    data: dict[str, Any] = field(default_factory=dict)  # the pipeline's settings (name, params, alerts...)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # the tasks read so far, by id
    param_names: list[str] = field(default_factory=list)  # the flow's parameters, in the signature's order
