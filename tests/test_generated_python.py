"""Generated Python reads like code an engineer wrote: in every golden Airflow, Prefect and Kubeflow
file, each top-level import, helper function, class and constant is used by the module, and each
Jinja filter an Airflow DAG registers is used by one of its templates. No interpreted task tables."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "golden"
PYTHON_TARGETS = ("airflow", "prefect", "kubeflow")
GENERATED = sorted(path for path in GOLDEN.glob("*/**/*.py")
                   if any(part in PYTHON_TARGETS for part in path.relative_to(GOLDEN).parts[1:-1]))
IDS = [path.relative_to(GOLDEN).as_posix() for path in GENERATED]


def _loads(*nodes: ast.AST) -> set[str]:
    return {name.id for node in nodes for name in ast.walk(node)
            if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Load)}


def unused_top_level_names(module: ast.Module) -> dict[str, int]:
    """Top-level names (imports, defs, classes, assignments) no live code reaches -> line. Live:
    module-level statements, and functions a decorator registers with the framework (`@task`,
    `@flow`, `@dsl.pipeline`); then whatever live code reads, transitively."""
    bound: dict[str, int] = {}
    reads: dict[str, set[str]] = {}  # a binding -> the names its definition reads
    live: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound[(alias.asname or alias.name).split(".")[0]] = node.lineno
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[node.name] = node.lineno
            reads[node.name] = _loads(node)
            if node.decorator_list:
                live.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for name in (n for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)):
                bound[name.id] = node.lineno
                reads[name.id] = _loads(node.value)
        else:
            live |= _loads(node)
    pending = list(live)
    while pending:
        for name in reads.get(pending.pop(), ()):
            if name not in live:
                live.add(name)
                pending.append(name)
    return {name: line for name, line in bound.items() if name not in live}


def test_there_are_generated_files() -> None:
    assert len(GENERATED) >= 20, GENERATED  # an empty parametrization below would pass vacuously


@pytest.mark.parametrize("path", GENERATED, ids=IDS)
def test_every_top_level_name_is_used(path: Path) -> None:
    unused = unused_top_level_names(ast.parse(path.read_text(encoding="utf-8")))
    assert not unused, f"{path.relative_to(ROOT)} defines or imports names no task reaches (name: line): {unused}"


@pytest.mark.parametrize("path", [p for p in GENERATED if "airflow" in p.parts], ids=lambda p: p.parent.parent.name)
def test_every_registered_jinja_filter_is_used(path: Path) -> None:
    module = ast.parse(path.read_text(encoding="utf-8"))
    filters = [key.value for node in ast.walk(module) if isinstance(node, ast.keyword)
               and node.arg == "user_defined_filters" and isinstance(node.value, ast.Dict)
               for key in node.value.keys if isinstance(key, ast.Constant)]
    texts = [node.value for node in ast.walk(module) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    unused = [name for name in filters if not any(f"| {name}" in text or f"|{name}" in text for text in texts)]
    assert not unused, f"{path.relative_to(ROOT)} registers Jinja filters no template uses: {unused}"


@pytest.mark.parametrize("path", GENERATED, ids=IDS)
def test_no_interpreted_task_tables(path: Path) -> None:
    module = ast.parse(path.read_text(encoding="utf-8"))
    tables = sorted(name for node in module.body if isinstance(node, ast.Assign) for target in node.targets
                    for name in [getattr(target, "id", "")] if name in ("_SPECS", "_TASKS", "_CALLS"))
    assert not tables, f"{path.relative_to(ROOT)} keeps what tasks run in a table read at run time: {tables}"
