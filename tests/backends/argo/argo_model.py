"""A small model of what the Argo controller does with a workflow, for tests that cannot run one
(no Kubernetes here): find the `{{...}}` tags in template strings, substitute them the way Argo
does (DAG-task arguments in DAG scope; then a template's globals, then its inputs, each pass once,
never re-reading what it inserted), read `depends` expressions, and evaluate the `{{=...}}` expr
subset dagshift emits in `when`.

The model is deliberately strict where Argo is lenient: a tag dagshift did not mean to emit is an
error here, even where Argo would silently keep or replace it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ruamel.yaml import YAML

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
EMITTED_TAGS = re.compile(
    r"workflow\.parameters\.[A-Za-z_][A-Za-z0-9_]*|inputs\.parameters\.[-A-Za-z0-9_]+|item(\.[A-Za-z_]\w*)?"
    r"|tasks\.[-a-z0-9]+\.outputs\.(parameters|artifacts)\.[A-Za-z_]\w*|workflow\.status|=.*",
    re.DOTALL,
)


def load(text: str) -> list[dict]:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]


def main_spec(documents: list[dict]) -> dict:
    """The workflow spec of the Workflow / WorkflowTemplate / CronWorkflow among the documents."""
    for document in documents:
        if document["kind"] in ("Workflow", "WorkflowTemplate"):
            return document["spec"]
    for document in documents:
        if document["kind"] == "CronWorkflow" and "templates" in document["spec"]["workflowSpec"]:
            return document["spec"]["workflowSpec"]
    raise AssertionError("no workflow spec among the documents")


def templates(spec: dict) -> dict[str, dict]:
    return {t["name"]: t for t in spec["templates"]}


def dag_tasks(spec: dict) -> dict[str, dict]:
    entry = templates(spec)[spec["entrypoint"]]
    return {t["name"]: t for t in entry["dag"]["tasks"]}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


def tags(text: str) -> list[str]:
    """The tags Argo's template engine finds in `text` (it pairs each `{{` with the next `}}`)."""
    return [m.group(1) for m in _TAG.finditer(text)]


def unexpected_tags(value: Any) -> list[str]:
    return [tag for text in strings(value) for tag in tags(text) if not EMITTED_TAGS.fullmatch(tag.strip())]


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """One substitution pass over every string; unknown tags stay as they are (Argo's
    allowUnresolved); inserted text is never read again in the same pass."""
    if isinstance(value, str):
        return _TAG.sub(lambda m: variables.get(m.group(1).strip(), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    return value


def resolve_task(spec: dict, task_name: str, params: dict[str, str]) -> dict:
    """The template a DAG task runs, with everything substituted (no fan-out, no upstream values)."""
    task = dag_tasks(spec)[task_name]
    globals_ = {f"workflow.parameters.{name}": value for name, value in params.items()}
    arguments = substitute(task.get("arguments", {}), globals_)
    template = substitute(templates(spec)[task["template"]], globals_)
    inputs = {f"inputs.parameters.{p['name']}": p["value"] for p in arguments.get("parameters", [])}
    return substitute(template, inputs)


def params_of(spec: dict) -> dict[str, str]:
    return {p["name"]: p.get("value", "") for p in spec.get("arguments", {}).get("parameters", [])}


# ----------------------------------------------------------------------------- depends


_STATUS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned")


def depends_names(expression: str) -> set[str]:
    """The tasks a `depends` expression waits for."""
    return {m.group(1) for m in re.finditer(r"([a-z0-9][-a-z0-9]*)(?:\.[A-Za-z]+)?", expression)} - {""}


def depends_holds(expression: str, status: dict[str, str]) -> bool:
    """Argo's reading of `depends`: `A` alone is A.Succeeded || A.Skipped || A.Daemoned."""

    def atom(match: re.Match) -> str:
        name, field = match.group(1), match.group(2)
        if field is None:
            return repr(status[name] in ("Succeeded", "Skipped", "Daemoned"))
        assert field in _STATUS, field
        return repr(status[name] == field)

    python = re.sub(r"([a-z0-9][-a-z0-9]*)(?:\.([A-Za-z]+))?", atom, expression)
    python = python.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    return bool(eval(python, {"__builtins__": {}}))


# ----------------------------------------------------------------------------- expr (when)


_EXPR_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].])"
    r"|(?P<name>[A-Za-z_]\w*))"
)


def _expr_unquote(token: str) -> str:
    body = token[1:-1]
    out, index = [], 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        code = body[index + 1]
        if code == "u":
            out.append(chr(int(body[index + 2:index + 6], 16)))
            index += 6
        else:
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(code, code))
            index += 2
    return "".join(out)


def evaluate_when(when: str, lookup: Callable[[tuple[str, ...]], str]) -> bool:
    """Evaluate `{{=EXPR}}` as Argo's expr would; `lookup(path)` gives the text of a variable such
    as ("workflow", "parameters", "n") or ("tasks", "a", "outputs", "parameters", "x")."""
    assert when.startswith("{{=") and when.endswith("}}"), when
    assert "}}" not in when[3:-2], "a `}}` inside the expression would end the tag early"
    tokens = []
    text = when[3:-2]
    position = 0
    while position < len(text):
        match = _EXPR_TOKEN.match(text, position)
        assert match and match.end() > position, f"cannot read {text[position:]!r}"
        position = match.end()
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
    return bool(_ExprParser(tokens, lookup).parse())


class _ExprParser:
    def __init__(self, tokens: list[tuple[str, str]], lookup: Callable[[tuple[str, ...]], str]):
        self.tokens = tokens
        self.index = 0
        self.lookup = lookup

    def peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Any:
        value = self.parse_or()
        assert self.index == len(self.tokens), self.tokens[self.index:]
        return value

    def parse_or(self) -> Any:
        value = self.parse_and()
        while self.peek() == "||":
            self.take()
            right = self.parse_and()
            value = bool(value) or bool(right)
        return value

    def parse_and(self) -> Any:
        value = self.parse_compare()
        while self.peek() == "&&":
            self.take()
            right = self.parse_compare()
            value = bool(value) and bool(right)
        return value

    def parse_compare(self) -> Any:
        left = self.parse_unary()
        if self.peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            right = self.parse_unary()
            if op in ("==", "!="):
                same = type(left) is type(right) or all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                        for v in (left, right))
                equal = same and left == right
                return equal if op == "==" else not equal
            assert type(left) is type(right) or all(isinstance(v, (int, float)) for v in (left, right)), (left, right)
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
        return left

    def parse_unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            value = self.parse_unary()
            assert isinstance(value, bool), value
            return not value
        return self.parse_primary()

    def parse_primary(self) -> Any:
        kind, token = self.take()
        if token == "(":
            value = self.parse_or()
            assert self.take()[1] == ")"
            return value
        if kind == "num":
            return float(token) if any(c in token for c in ".eE") else int(token)
        if kind == "str":
            return _expr_unquote(token)
        assert kind == "name", token
        if token in ("true", "false"):
            return token == "true"
        if token == "asFloat":
            assert self.take()[1] == "("
            value = self.parse_or()
            assert self.take()[1] == ")"
            return float(value)
        path = [token]
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                path.append(self.take()[1])
            else:
                kind, key = self.take()
                assert kind == "str", key
                path.append(_expr_unquote(key))
                assert self.take()[1] == "]"
        return self.lookup(tuple(path))
