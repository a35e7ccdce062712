"""The package's shape: no import cycles anywhere in `compiler/`, read from the source (imports under
`if TYPE_CHECKING:` and inside functions count: a cycle hidden there is still a cycle in the design)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "compiler"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules `name` imports: `from .x import y` names `x.y` when that is a module, else `x`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                found.add(submodule if submodule in modules else origin)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in modules and module != name}


def import_graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        graph.add_edges_from((name, imported) for imported in _imported(name, path, modules))
    return graph


def test_the_import_graph_sees_the_package() -> None:
    graph = import_graph()
    assert "compiler.compile" in graph and ("compiler.compile", "compiler.backends.registry") in graph.edges


# Cycles still to remove, as sorted lists of modules; the list may only shrink (issue 22 removed
# the last one, the Prefect importer's reader and the collaborators that imported it back).
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycles() -> None:
    cycles = sorted(sorted(component) for component in nx.strongly_connected_components(import_graph())
                    if len(component) > 1)
    assert cycles == KNOWN_CYCLES, "import cycles:\n" + "\n".join(" <-> ".join(cycle) for cycle in cycles)


# The top of the package holds the entry points and what every stage shares; the stages are
# packages (cli, language, passes, backends, importers, output, tools).
MAX_TOP_MODULES = 15


def test_few_modules_at_the_top() -> None:
    top = sorted(path.stem for path in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, f"{len(top)} modules at the top of compiler/: {', '.join(top)}"


def test_each_importer_is_a_package() -> None:
    from compiler import importers

    for name in importers.FORMATS:
        assert (PACKAGE / "importers" / name / "__init__.py").is_file(), f"the {name} importer is not a package"
        assert not (PACKAGE / "importers" / f"{name}.py").exists()
