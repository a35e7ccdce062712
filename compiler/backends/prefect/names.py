"""Python names in a generated Prefect module: one scope's names never collide.

The module's own names (imports, helpers) are fixed; everything named after the pipeline (task
functions, flow locals, task arguments) takes the wanted name when it is free, else the name with
a suffix. Builtins count as taken: a task named `print` must not hide the builtin from the code
around it.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Iterable

# Every name a generated module may bind at its top level (imports and helpers), used or not, so
# a pipeline's names never depend on which of them a pipeline needs.
MODULE_NAMES = frozenset({
    "argparse", "yaml", "json", "os", "pickle", "subprocess", "sys", "tempfile", "threading", "signal", "timedelta",
    "Annotated", "Literal", "TypedDict", "Field", "flow", "task", "unmapped", "allow_failure", "wait", "Secret", "INPUTS",
    "TASK_SOURCE", "ThreadPoolTaskRunner", "WORKDIR", "CALL_PICKLED", "run_command", "read_output", "text",
    "isolated", "alert", "main", "submitted", "after", "outcome", "completed", "rule_allows", "result",
})
# Builtins the module's own code calls at run time.
BUILTINS_CALLED = frozenset({"all", "any", "dict", "float", "isinstance", "len", "list", "map", "open", "print",
                             "str", "ValueError"})
TAKEN = MODULE_NAMES | frozenset(dir(builtins)) | frozenset(keyword.kwlist)


# What the code of a task function reads besides its own names: a task argument or a local of
# the same name would hide it.
TASK_BODY_NAMES = frozenset({"run_command", "read_output", "text", "isolated", "json", "os", "tempfile", "Secret",
                             "float"}) | frozenset(keyword.kwlist)


class Names:
    """The names of one scope: `claim` returns a name no one in the scope has, nor `forbidden`."""

    def __init__(self, taken: Iterable[str] = (), forbidden: frozenset[str] = TAKEN):
        self.taken = set(taken)
        self.forbidden = forbidden

    def claim(self, wanted: str, suffix: str = "_") -> str:
        name, counter = wanted, 2
        while name in self.taken or name in self.forbidden or not name.isidentifier() or name.startswith("__"):
            name, counter = f"{wanted}{suffix}{counter if counter > 2 else ''}", counter + 1
        self.taken.add(name)
        return name
