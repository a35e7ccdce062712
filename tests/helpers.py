"""Small shared helpers for the unit tests: build a pipeline from YAML text (or from data), run the
validation passes (all of them, or one), pick diagnostics apart, and turn networkx graphs into
pipelines."""

from __future__ import annotations

import json
import textwrap
from typing import Callable, Iterable

import networkx as nx

from compiler.diagnostics import Diagnostic, Diagnostics, render_text
from compiler.language.graph import build_graph
from compiler.language.ir import Pipeline
from compiler.language.load import Loaded, load_text
from compiler.language.source import Reporter
from compiler.passes import PassContext, validate


def load(text: str) -> Loaded:
    """Load YAML text (dedented); the text must load without any diagnostic."""
    loaded = load_text(textwrap.dedent(text).lstrip("\n"), "pipeline.yaml")
    assert loaded.pipeline is not None and not loaded.diagnostics.items, render_text(loaded.diagnostics.items)
    return loaded


def load_data(data: dict) -> Loaded:
    """Load a pipeline given as data (written out as JSON, which is YAML too)."""
    return load(json.dumps(data, indent=2))


def check(text: str) -> Diagnostics:
    """Every validation pass over the pipeline in `text`."""
    loaded = load(text)
    return validate(loaded.pipeline, loaded.source)


def check_data(data: dict) -> Diagnostics:
    loaded = load_data(data)
    return validate(loaded.pipeline, loaded.source)


def run_pass(check_fn: Callable[[PassContext], None], text: str) -> Diagnostics:
    """One validation pass only, so a test sees exactly what that pass reports."""
    loaded = load(text)
    diagnostics = Diagnostics()
    check_fn(PassContext(loaded.pipeline, build_graph(loaded.pipeline), Reporter(loaded.source, diagnostics)))
    return diagnostics


def codes(diagnostics: Iterable[Diagnostic]) -> list[str]:
    return sorted(d.code for d in diagnostics)


def only(diagnostics: Iterable[Diagnostic], code: str | None = None) -> Diagnostic:
    """The single diagnostic (with `code`, when given); fails when there are none or several."""
    found = [d for d in diagnostics if code is None or d.code == code]
    assert len(found) == 1, render_text(list(diagnostics)) or "no diagnostics"
    return found[0]


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the `nth` line of the dedented text that contains `needle`."""
    lines = [i for i, line in enumerate(textwrap.dedent(text).lstrip("\n").splitlines(), 1) if needle in line]
    assert len(lines) >= nth, f"{needle!r} is not in the text {nth} time(s)"
    return lines[nth - 1]


# ----------------------------------------------------------------------------- graphs -> pipelines


def task_id(node: int) -> str:
    return f"task-{node}"


def dag_edges(graph: nx.DiGraph) -> set[tuple[int, int]]:
    """The edges of a random graph oriented low -> high, which makes it a DAG."""
    return {(min(u, v), max(u, v)) for u, v in graph.edges if u != v}


def pipeline_data(
    nodes: Iterable[int],
    edges: Iterable[tuple[int, int]],
    style: str = "after",
    order: Iterable[int] | None = None,
) -> dict:
    """A valid pipeline whose dependency edges are exactly `edges` (node ids become `task-N`).

    style "after": `after:` lists; "artifact": node u produces artifact `out_u`, which every
    successor consumes; "ref": node u writes value output `v`, which every successor reads through
    `${{ tasks.task-u.outputs.v }}` in its command. `order` is the declaration order of the tasks.
    """
    nodes = list(nodes)
    edges = sorted(set(edges))
    preds: dict[int, list[int]] = {n: [] for n in nodes}
    succs: dict[int, list[int]] = {n: [] for n in nodes}
    for u, v in edges:
        preds[v].append(u)
        succs[u].append(v)
    data: dict = {"name": "generated", "tasks": {}}
    if style == "artifact":
        data["artifacts"] = {f"out_{n}": f"data/out_{n}.csv" for n in nodes if succs[n]}
    for node in (list(order) if order is not None else nodes):
        task: dict = {}
        if style == "after":
            task["after"] = [task_id(u) for u in preds[node]]
        elif style == "artifact":
            task["command"] = f"echo {node}"
            task["consumes"] = [f"out_{u}" for u in preds[node]]
            task["produces"] = [f"out_{node}"] if succs[node] else []
        elif style == "ref":
            reads = " ".join(f"${{{{ tasks.{task_id(u)}.outputs.v }}}}" for u in preds[node])
            task["command"] = f"echo {node} {reads} > ${{{{ outputs.v }}}}"
            task["outputs"] = {"v": "int"}
        else:
            raise ValueError(style)
        data["tasks"][task_id(node)] = task
    return data


def pipeline_from(data: dict) -> Pipeline:
    return Pipeline.model_validate(data)
