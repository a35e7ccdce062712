"""Conditions and dependencies: Argo's `when` (govaluate, and the `{{=...}}` expr conditions
dagshift writes) as pipeline conditions, and a DAG task's `depends` / `dependencies` as its
upstream tasks and trigger rule."""

from __future__ import annotations

import json
import re
from typing import Any

from compiler.importers.base import line_of
from compiler.language import conditions
from compiler.language.placeholders import Ref

from .state import ReadState
from .stop import ImportStop
from .values import pipeline_text

# Statuses of Argo's `depends` that dagshift's trigger rules are made of.
_FAILED = {"Failed", "Errored", "Omitted"}
_NONE_FAILED = {"Succeeded", "Skipped", "Omitted"}
# `T.Succeeded || T.Skipped`: Omitted (a node never reached) adds nothing for a task that runs.
_RAN_OR_SKIPPED = {"Succeeded", "Skipped"}
_DONE = {"Succeeded", "Skipped", "Failed", "Errored", "Omitted"}


def _tokens(text: str) -> list[str]:
    """Tokens of Argo's `when` / `depends` expressions (govaluate and expr share these)."""
    pattern = re.compile(r"\s*(\{\{.*?\}\}|&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
                         r"|[^\s()!<>=&|'\"]+)", re.DOTALL)
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = pattern.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read the expression at {text[position:position + 20]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class BoolParser:
    """A recursive-descent parser for `a && (b || !c)` whose atoms are sequences of other tokens;
    `atom` turns one into a value."""

    def __init__(self, tokens: list[str], atom):
        self.tokens = tokens
        self.position = 0
        self.atom = atom

    def parse(self):
        result = self.parse_or()
        if self.position != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.position]!r}")
        return result

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def parse_or(self):
        operands = [self.parse_and()]
        while self.peek() == "||":
            self.position += 1
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else ("or", operands)

    def parse_and(self):
        operands = [self.parse_not()]
        while self.peek() == "&&":
            self.position += 1
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else ("and", operands)

    def parse_not(self):
        if self.peek() == "!":
            self.position += 1
            return ("not", self.parse_not())
        if self.peek() == "(":
            start = self.position
            self.position += 1
            inner = self.parse_or()
            if self.peek() != ")":
                raise ValueError("unbalanced parentheses")
            self.position += 1
            if self.peek() in ("==", "!=", "<", ">", "<=", ">="):  # a parenthesized operand
                self.position = start
            else:
                return inner
        parts = []
        depth = 0
        while self.peek() is not None and (depth or self.peek() not in ("&&", "||", ")")):
            token = self.tokens[self.position]
            depth += token == "("
            depth -= token == ")"
            parts.append(token)
            self.position += 1
        if not parts:
            raise ValueError("an operand is missing")
        return self.atom(parts)


class _ExprReader:
    """The `{{=...}}` conditions dagshift writes (expr): asFloat(...), tasks['t'].outputs.parameters['o'],
    workflow.parameters['p'], (X == 'true') for booleans, !, &&, ||, comparisons and literals."""

    _TOKEN = re.compile(r"\s*(asFloat\(|tasks\['(?:[^'\\]|\\.)*'\]\.outputs\.parameters\['(?:[^'\\]|\\.)*'\]"
                        r"|workflow\.parameters\['(?:[^'\\]|\\.)*'\]|'(?:[^'\\]|\\.)*'|&&|\|\||==|!=|<=|>=|<|>|!|\(|\)"
                        r"|true|false|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")

    def __init__(self, state: ReadState, text: str):
        self.state = state
        self.tokens = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = self._TOKEN.match(text, position)
            if not match:
                raise ValueError(f"unknown expression syntax at {text[position:position + 20]!r}")
            self.tokens.append(match.group(1))
            position = match.end()
        self.position = 0

    def parse(self) -> conditions.Expr:
        expr = self.parse_or()
        if self.position != len(self.tokens):
            raise ValueError("trailing text in the condition")
        return expr

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ValueError("the condition ends early")
        self.position += 1
        return token

    def parse_or(self) -> conditions.Expr:
        operands = [self.parse_and()]
        while self.peek() == "||":
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else conditions.BoolOp("or", tuple(operands))

    def parse_and(self) -> conditions.Expr:
        operands = [self.parse_not()]
        while self.peek() == "&&":
            self.take()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else conditions.BoolOp("and", tuple(operands))

    def parse_not(self) -> conditions.Expr:
        if self.peek() == "!":
            self.take()
            return conditions.Not(self.parse_not())
        left = self.parse_operand()
        if self.peek() in conditions.COMPARISONS:
            op = self.take()
            right = self.parse_operand()
            return self._bool_compare(conditions.Compare(op, left, right))
        return left

    def _bool_compare(self, compare: conditions.Compare) -> conditions.Expr:
        # dagshift writes a bare bool reference as (X == 'true').
        if compare.op == "==" and compare.right == conditions.Literal("true") and \
                isinstance(compare.left, conditions.RefOperand):
            return compare.left
        return compare

    def parse_operand(self) -> conditions.Expr:
        token = self.take()
        if token == "(":
            inner = self.parse_or()
            if self.take() != ")":
                raise ValueError("unbalanced parentheses")
            return inner
        if token == "asFloat(":
            inner = self.parse_operand()
            if isinstance(inner, conditions.RefOperand) and inner.ref.kind == "task_output":
                self.state.outputs_used.setdefault((inner.ref.task, inner.ref.name), set()).add("float")
            if self.take() != ")":
                raise ValueError("unbalanced asFloat(")
            return inner
        if token.startswith("tasks["):
            task, output = re.findall(r"\['((?:[^'\\]|\\.)*)'\]", token)
            task_id = self.state.argo_ids.get(_unescape(task), _unescape(task))
            return conditions.RefOperand(Ref("task_output", _unescape(output), task_id), 0)
        if token.startswith("workflow.parameters"):
            (name,) = re.findall(r"\['((?:[^'\\]|\\.)*)'\]", token)
            return conditions.RefOperand(Ref("param", _unescape(name)), 0)
        if token.startswith("'"):
            return conditions.Literal(_unescape(token[1:-1]))
        if token in ("true", "false"):
            return conditions.Literal(token == "true")
        return conditions.Literal(json.loads(token))


def _unescape(text: str) -> str:
    return json.loads('"' + text.replace('"', '\\"').replace("\\'", "'") + '"')


def _to_condition(tree: Any) -> conditions.Expr:
    if tree[0] == "or" or tree[0] == "and":
        return conditions.BoolOp(tree[0], tuple(_to_condition(t) for t in tree[1]))
    if tree[0] == "not":
        return conditions.Not(_to_condition(tree[1]))
    if tree[0] == "cmp":
        return conditions.Compare(tree[1], tree[2], tree[3])
    return tree[1]


def _literal(text: str) -> conditions.Literal:
    """A bare govaluate operand: a number, a boolean, else text (Argo substitutes before it
    evaluates, so `{{...}} == heads` compares with the text heads)."""
    if text in ("true", "false"):
        return conditions.Literal(text == "true")
    try:
        value = json.loads(text)
    except ValueError:
        return conditions.Literal(text)
    return conditions.Literal(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else conditions.Literal(text)


def _parse_ref(text: str) -> Ref:
    parts = text.split(".")
    if parts[0] == "params":
        return Ref("param", parts[1])
    return Ref("task_output", parts[3], parts[1])


def _depends_atom(parts: list[str]):
    if len(parts) != 1:
        raise ValueError(f"'{' '.join(parts)}' is not a task name")
    name, _, status = parts[0].partition(".")
    return ("atom", name, status or "")


def _depends_groups(tree: Any) -> tuple[list[tuple[str, set[str]]], str]:
    """A depends expression as groups (task, statuses), joined by one operator: `A && B`,
    `(A.Failed || A.Errored) || (B.Failed ...)`. Raises ValueError when it has another shape."""
    def group(node) -> tuple[str, set[str]] | None:
        if node[0] == "atom":
            return node[1], {node[2]}
        if node[0] == "or":
            members = [group(n) for n in node[1]]
            if all(m is not None for m in members) and len({m[0] for m in members}) == 1:
                return members[0][0], set().union(*(m[1] for m in members))
        return None

    single = group(tree)
    if single is not None:
        return [single], "and"
    if tree[0] in ("and", "or"):
        groups = [group(n) for n in tree[1]]
        if all(g is not None for g in groups):
            return groups, tree[0]
    return [], "none"


def _rule_of(groups: list[tuple[str, set[str]]], operator: str) -> str | None:
    if not groups:
        return None
    sets = [statuses for _, statuses in groups]
    if all(s == {""} for s in sets) and operator == "and":
        return "bare"
    if all(s <= {"Succeeded", ""} for s in sets) and operator == "and":
        return "all_success" if all(s == {"Succeeded"} for s in sets) else "bare"
    if all(s == {"Succeeded"} for s in sets) and operator == "or":
        return "one_success"
    if all(s and s <= _FAILED and "Failed" in s for s in sets):
        return "one_failed" if operator == "or" or len(sets) == 1 else "all_failed"
    if all(s == _NONE_FAILED or s == _RAN_OR_SKIPPED for s in sets) and operator == "and":
        return "none_failed"
    if all(s >= _DONE for s in sets) and operator == "and":
        return "all_done"
    return None


def depends(state: ReadState, node: dict, ends: dict) -> tuple[list[str], str | None]:
    """The upstream task ids of a DAG task and the trigger rule its `depends` means; `ends` holds
    the (first, last) task ids of each dag task read so far."""
    line = line_of(node, "depends") or line_of(node, "dependencies")
    if node.get("dependencies"):
        upstream = [str(n) for n in node["dependencies"]]
        return _upstream_ids(upstream, ends, line), _bare_rule(state, upstream, ends)
    if not node.get("depends"):
        return [], None
    text = str(node["depends"])
    try:
        tree = BoolParser(_tokens(text), _depends_atom).parse()
    except ValueError as exc:
        raise ImportStop(f"cannot read depends '{text}': {exc}", line)
    groups, operator = _depends_groups(tree)
    upstream = list(dict.fromkeys(name for name, _ in groups))
    ids = _upstream_ids(upstream, ends, line)
    rule = _rule_of(groups, operator)
    if rule is None:
        state.report.loss(f"depends '{text}' has no trigger-rule equivalent: the task runs when every "
                          "upstream task is done", line, approximate=True)
        return ids, "all_done"
    if rule == "bare":
        bare = [name for name, statuses in groups if statuses == {""}]
        return ids, _bare_rule(state, bare, ends)
    return ids, (None if rule == "all_success" else rule)


def _bare_rule(state: ReadState, upstream: list[str], ends: dict) -> str | None:
    """A bare name in depends also accepts a Skipped upstream (skipped by its `when`)."""
    ids = [task for name in upstream for task in ends.get(name, ([], []))[1]]
    if any(task in state.conditional for task in ids):
        return "none_failed"
    return None


def _upstream_ids(names: list[str], ends: dict, line: int | None) -> list[str]:
    ids = []
    for name in names:
        if name not in ends:
            raise ImportStop(f"depends names '{name}', which is not a task of the dag", line)
        ids += ends[name][1]
    return list(dict.fromkeys(ids))


def when(state: ReadState, node: dict, scope: dict, task: dict, task_id: str) -> None:
    """The node's `when` as the task's condition (a loss when it cannot be read: the task always runs)."""
    if "when" not in node:
        return
    line = line_of(node, "when")
    text = str(node["when"])
    try:
        expr = _condition(state, text, scope)
    except ValueError as exc:
        state.report.loss(f"the condition '{text}' cannot be carried ({exc}): the task always runs", line)
        return
    if expr is None:
        return
    task["when"] = conditions.render(expr)
    state.conditional.add(task_id)


def _condition(state: ReadState, text: str, scope: dict) -> conditions.Expr | None:
    if text.startswith("{{=") and text.endswith("}}"):
        return _ExprReader(state, text[3:-2]).parse()
    tree = BoolParser(_tokens(text), lambda parts: _govaluate_atom(state, parts, scope)).parse()
    return _to_condition(tree)


def _govaluate_atom(state: ReadState, parts: list[str], scope: dict):
    for op in ("==", "!=", "<=", ">=", "<", ">"):
        if op in parts:
            index = parts.index(op)
            return ("cmp", op, _operand(state, parts[:index], scope), _operand(state, parts[index + 1:], scope))
    if len(parts) == 1:
        operand = _operand(state, parts, scope)
        if isinstance(operand, conditions.Literal) and isinstance(operand.value, bool):
            return ("lit", operand)
        if isinstance(operand, conditions.RefOperand):
            return ("lit", operand)
    raise ValueError(f"'{' '.join(parts)}' is not a comparison")


def _operand(state: ReadState, parts: list[str], scope: dict) -> conditions.Expr:
    if len(parts) != 1:
        text = " ".join(parts)
        converted = pipeline_text(state, text, scope, None)
        refs = re.findall(r"\$\{\{ ([^}]+) \}\}", converted)
        if refs:
            raise ValueError(f"'{text}' mixes a variable with text")
        return conditions.Literal(text)
    token = parts[0]
    if token.startswith("{{") and token.endswith("}}"):
        converted = pipeline_text(state, token, scope, None)
        match = re.fullmatch(r"\$\{\{ ((?:params|tasks)\.[^ }]+) \}\}", converted)
        if match:
            return conditions.RefOperand(_parse_ref(match.group(1)), 0)
        if "${{" in converted or converted == token:
            raise ValueError(f"{token} is not a param or a task output")
        return _literal(converted)
    if token[0] in "'\"":
        return conditions.Literal(token[1:-1])
    return _literal(token)
