"""Bounds on the work an import does, whatever the file says (issue 20): a file describes a
pipeline, so what it expands to is counted before it is built, and what is nested is measured
before the importers (which recurse) walk it.

- MAX_EXPANSION: the most tasks or items one expansion may make (Argo withSequence, withItems;
  DVC foreach, matrix). Above it, the import stops with an E602 at the expansion's line.
- MAX_YAML_VALUES: the most values a YAML file may expand to through its aliases (an alias bomb
  is a few lines that stand for billions of values); counted without expanding them.
- MAX_EXPRESSION_DEPTH: how deeply a Python expression may nest; an Airflow `a >> b >> ...` chain
  of names is read link by link (chain_links), so a chain of any length is not nested.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

MAX_EXPANSION = 10_000
MAX_YAML_VALUES = 1_000_000
MAX_EXPRESSION_DEPTH = 100


def expansion_problem(count: int, what: str) -> str | None:
    """Why an expansion of `count` items is refused, or None. Count first, then build."""
    if count <= MAX_EXPANSION:
        return None
    return f"{what} makes {count:,} items; dagshift imports at most {MAX_EXPANSION:,} per expansion"


class YamlTooLarge(ValueError):
    """Raised by the YAML readers (base.yaml_documents, yaml_read.read_yaml) for an alias bomb: the
    importers report it as they report bad YAML (E601)."""


def bounded_documents(documents: list[Any]) -> list[Any]:
    """The documents, unless they expand to more than MAX_YAML_VALUES values (YamlTooLarge)."""
    problem = yaml_values_problem(documents)
    if problem is not None:
        raise YamlTooLarge(problem)
    return documents


def yaml_values_problem(documents: Iterable[Any]) -> str | None:
    """Why documents read from YAML are refused: more than MAX_YAML_VALUES values once their
    aliases are expanded, or an alias inside the value it names (a structure that contains itself)."""
    total = 0
    for document in documents:
        size = _expanded_values(document)
        if size == _RECURSIVE:
            return "an alias (*name) is used inside the value it names (&name): the data contains itself"
        total += size
        if total > MAX_YAML_VALUES:
            return (f"the YAML expands to more than {MAX_YAML_VALUES:,} values through its aliases "
                    "(&anchor / *alias); write the data out")
    return None


_RECURSIVE = 2**63  # the expanded size of data that contains itself


def _expanded_values(root: Any) -> int:
    """How many values `root` stands for, an aliased value counted each time it is used. An alias
    is the same object again: each object's size is computed once (a bomb of 10^10 values is ten
    small lists), depth-first with an explicit stack."""
    if not isinstance(root, (dict, list)):
        return 1
    sizes: dict[int, int] = {}
    open_ids = {id(root)}
    stack: list[tuple[Any, Any, list[int]]] = [(root, iter(_inside(root)), [1])]
    while stack:
        node, remaining, total = stack[-1]
        child = next(remaining, _DONE)
        if child is _DONE:
            stack.pop()
            open_ids.discard(id(node))
            sizes[id(node)] = total[0]
            if stack:
                stack[-1][2][0] += total[0]
        elif not isinstance(child, (dict, list)):
            total[0] += 1
        elif id(child) in sizes:
            total[0] += sizes[id(child)]
        elif id(child) in open_ids:
            return _RECURSIVE
        else:
            open_ids.add(id(child))
            stack.append((child, iter(_inside(child)), [1]))
    return sizes[id(root)]


_DONE = object()


def _inside(collection: dict | list) -> Iterable[Any]:
    return collection.values() if isinstance(collection, dict) else collection


def nesting_problem(tree: ast.AST) -> tuple[str, int | None] | None:
    """Why Python code (a module, a function) is too deeply nested to read, with the line, or None.
    Iterative."""
    pending: list[tuple[ast.AST, int]] = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, ast.expr):
            depth += 1
            if depth > MAX_EXPRESSION_DEPTH:
                return (f"an expression is nested more than {MAX_EXPRESSION_DEPTH} levels deep",
                        getattr(node, "lineno", None))
        pending += [(child, depth) for child in ast.iter_child_nodes(node)]
    return None


def chain_links(module: ast.Module) -> ast.Module:
    """The module with every statement `a >> b >> c` (or `<<`) whose inner operands are names
    (or lists of names) written as the links it makes, `a >> b` then `b >> c`: the same edges
    (a name is the same task each time it is read), without an expression nested once per link."""
    for node in ast.walk(module):
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                setattr(node, field, [link for statement in statements for link in _links(statement)])
    return module


def _links(statement: ast.stmt) -> list[ast.stmt]:
    operands, operator = _chain(statement.value) if isinstance(statement, ast.Expr) else ([], None)
    if len(operands) < 3 or not all(_is_names(operand) for operand in operands[1:-1]):
        return [statement]
    links = []
    for left, right in pairwise(operands):
        link = ast.Expr(ast.BinOp(left, operator, right))
        links.append(ast.copy_location(link, statement))
        ast.copy_location(link.value, statement)
    return links


def _chain(node: ast.expr) -> tuple[list[ast.expr], ast.operator | None]:
    """The operands of a left-nested chain of one shift operator, first to last (iteratively)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.RShift, ast.LShift))):
        return [], None
    operator = type(node.op)
    reversed_operands = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, operator):
        reversed_operands.append(node.right)
        node = node.left
    reversed_operands.append(node)
    return reversed_operands[::-1], operator()


def _is_names(node: ast.expr) -> bool:
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(isinstance(element, ast.Name) for element in node.elts)
    return isinstance(node, ast.Name)
