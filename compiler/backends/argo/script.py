"""The source of an Argo python task: a short script that imports the user's function and calls it.

Values Argo substitutes at run time (params, the fan-out item, upstream outputs) never enter the
code: each distinct one is an env var of the script template, read with `os.environ[...]` and
converted to the declared type by the same rules as every backend (READERS). Everything known
when compiling is a Python literal in printable ASCII, and no `{{` appears anywhere in the source
(a `{` after a `{` is written `\\x7b` inside strings), so Argo's templating never reads user text.
Only the helpers a script uses are written in it. The importer (compiler/importers/argo/python.py)
reads these scripts back with READERS (conventions.py, which both read).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from typing import Any

from compiler.backends.specs import python_value

from .conventions import LIST_READER, READERS, TEXT_FUNCTION

TEXT_HELPER = (
    f"def {TEXT_FUNCTION}(value):  # a value in text: strings as they are, anything else as compact JSON\n"
    '    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)\n'
)
# A fan-out item has no declared type: JSON when it parses as JSON, else the text.
ITEM_READER = (
    "try:  # a fan-out item: JSON when it parses as JSON, else the text\n"
    "    {var} = json.loads({env})\n"
    "except ValueError:\n"
    "    {var} = {env}\n"
)
# Names the script binds or reads besides the user's function, which is imported under another
# name when it would shadow one of them.
_SCRIPT_NAMES = {"json", "os", TEXT_FUNCTION, "result", "out", "name", "path", "v", "int", "float", "isinstance", "open"}


def string_literal(text: str) -> str:
    """A double-quoted Python string in printable ASCII with no `{{` in it."""
    body = text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return '"' + body.replace("{{", "{\\x7b") + '"'


def literal(value: Any) -> str:
    return python_value(value, string_literal)


def is_keyword_name(key: str) -> bool:
    """Whether an argument can be passed as `key=...` (ASCII: Python normalizes other identifiers)."""
    return key.isascii() and key.isidentifier() and not keyword.iskeyword(key)


class _Writer:
    def __init__(self, resolve: Callable[[tuple], Any], taken: set[str]):
        self.resolve = resolve
        self.taken = set(taken)
        self.env: dict[str, str] = {}  # Argo value -> env var name
        self.items: dict[str, str] = {}  # env var name -> the variable holding the fan-out item
        self.uses: set[str] = set()

    def env_read(self, value: str, base: str) -> str:
        if value not in self.env:
            name = re.sub(r"[^A-Z0-9_]", "_", base.upper())
            candidate, counter = name, 2
            while candidate in self.taken:
                candidate, counter = f"{name}_{counter}", counter + 1
            self.taken.add(candidate)
            self.env[value] = candidate
        self.uses.add("os")
        return f"os.environ[{string_literal(self.env[value])}]"

    def ref(self, spec: tuple) -> tuple[str, str]:
        """(a Python expression, its value kind) for a placeholder."""
        resolved = self.resolve(spec)
        if isinstance(resolved, str):
            return string_literal(resolved), "str"
        value, kind, base = resolved
        read = self.env_read(value, base)
        if kind == "auto":
            self.uses.add("json")
            return self.items.setdefault(self.env[value], base.replace("-", "_")), kind
        if kind.startswith("list:"):
            self.uses.add("json")
            inner = kind[len("list:"):]
            if inner == "str":
                return f"json.loads({read})", kind
            return LIST_READER.format(read, item=READERS[inner].format("v")), kind
        if kind == "json":
            self.uses.add("json")
        return READERS[kind].format(read), kind

    def expr(self, spec: Any) -> str:
        if isinstance(spec, tuple) and spec[0] == "concat":
            parts = []
            for part in spec[1:]:
                if isinstance(part, str):
                    parts.append(string_literal(part))
                    continue
                code, kind = self.ref(part)
                if kind != "str":
                    self.uses.add(TEXT_FUNCTION)
                    code = f"{TEXT_FUNCTION}({code})"
                parts.append(code)
            return " + ".join(parts)
        if isinstance(spec, tuple):
            return self.ref(spec)[0]
        if isinstance(spec, list):
            return "[" + ", ".join(self.expr(v) for v in spec) + "]"
        if isinstance(spec, dict):
            return "{" + ", ".join(f"{string_literal(k)}: {self.expr(v)}" for k, v in spec.items()) + "}"
        return literal(spec)

    def call(self, function: str, kwargs: dict) -> str:
        named = [f"{key}={self.expr(value)}" for key, value in kwargs.items() if is_keyword_name(key)]
        others = {key: value for key, value in kwargs.items() if not is_keyword_name(key)}
        if others:
            named.append(f"**{self.expr(others)}")
        return f"{function}({', '.join(named)})"


def python_script(target: str, kwargs: Any, outputs: list[tuple[str, str]], resolve: Callable[[tuple], Any],
                  taken: set[str] = frozenset()) -> tuple[str, list[dict]]:
    """The script that calls `target` (module:function) with `kwargs` (a value spec,
    compiler/backends/specs.py) and writes `outputs` ((name, file)): the source, and the env
    entries carrying the run-time values. `resolve` gives a placeholder's text when it is known now,
    else (its Argo value, its value kind, a base name for its env var); `taken` are env names the
    template already uses."""
    module, _, function = target.partition(":")
    imported, _, attributes = function.partition(".")
    alias = imported
    while alias in _SCRIPT_NAMES or alias.startswith("item"):  # fan-out items are `item`, `item_KEY`
        alias = f"_{alias}"
    writer = _Writer(resolve, taken)
    call = writer.call(f"{alias}.{attributes}" if attributes else alias, kwargs)
    body = [call]
    if outputs:
        writer.uses.add(TEXT_FUNCTION)
        body = [f"result = {call}"]
        if len(outputs) == 1:
            body += [f'with open({string_literal(outputs[0][1])}, "w", encoding="utf-8") as out:',
                     f"    out.write({TEXT_FUNCTION}(result))"]
        else:
            pairs = ", ".join(f"({string_literal(name)}, {string_literal(path)})" for name, path in outputs)
            body += [f"for name, path in [{pairs}]:",
                     '    with open(path, "w", encoding="utf-8") as out:',
                     f"        out.write({TEXT_FUNCTION}(result[name]))"]
    if TEXT_FUNCTION in writer.uses:
        writer.uses.add("json")
    lines = [f"import {name}" for name in ("json", "os") if name in writer.uses]
    lines.append(f"from {module} import {imported}" + (f" as {alias}" if alias != imported else ""))
    lines.append("")
    if TEXT_FUNCTION in writer.uses:
        lines += [*TEXT_HELPER.splitlines(), ""]
    for env in writer.env.values():
        if env in writer.items:
            lines += ITEM_READER.format(var=writer.items[env], env=f"os.environ[{string_literal(env)}]").splitlines()
    source = "\n".join(lines + body) + "\n"
    assert "{{" not in source, source  # Argo would read it as a variable
    return source, [{"name": env, "value": value} for value, env in writer.env.items()]
