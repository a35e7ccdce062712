"""One task's code in a generated DAG: an operator, or a TaskFlow function and its call.

A task states its settings that many tasks may share (retries, timeouts, callbacks...) apart from
its own arguments, so the DAG can write the shared ones once in `default_args`
(defaults.py) and each task only what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .defaults import own_settings
from .taskflow import Function, decorator, function_code


@dataclass
class TaskCode:
    task_id: str
    var: str  # the name the DAG body binds to the task (its XComArg for a TaskFlow task)
    comment: str | None  # where the task is written, or why a helper task is there
    settings: dict[str, str | None] = field(default_factory=dict)  # shareable: defaults.py
    votes: bool = True  # a pipeline task (helper tasks take what the pipeline's tasks share)
    head: list[tuple[str, str]] = field(default_factory=list)  # arguments before doc_md and settings
    tail: list[tuple[str, str]] = field(default_factory=list)  # arguments after them
    doc: str | None = None  # code of doc_md
    operator: str | None = None  # an operator class; else a TaskFlow function
    decorator: str = "task"
    function: Function | None = None
    body: list[str] = field(default_factory=list)
    returns: str | None = None
    expand: str | None = None  # `name=source` the task is mapped over
    passes: set[str] = field(default_factory=set)  # vars of the tasks whose results its call receives
    inline: bool = False  # a helper called where its result is used (its definition only here)
    helper: str | None = None  # var of the inline helper this task is mapped over

    def code(self, shared: dict[str, str], bound: bool) -> str:
        """The task's code; `bound`: other code refers to it by its var."""
        kwargs = self.head + ([("doc_md", self.doc)] if self.doc else []) + _expanded(own_settings(
            self.settings, shared)) + self.tail
        if self.operator is not None:
            return self._comment() + self._operator(kwargs, bound)
        assert self.function is not None
        defined = function_code(decorator(self.decorator, kwargs), self.var, self.function, self.body, self.returns)
        if self.inline:
            return self._comment() + defined
        call = f"{self.var}({self.function.call_arguments()})"
        if self.expand is not None:
            partial = self.function.call_arguments()
            call = f"{self.var}.partial({partial}).expand({self.expand})" if partial else \
                f"{self.var}.expand({self.expand})"
        return self._comment() + defined + "\n\n" + (f"{self.var} = {call}" if bound else call)

    def _operator(self, kwargs: list[tuple[str, str]], bound: bool) -> str:
        arguments = ", ".join(f"{key}={value}" for key, value in kwargs)
        made = f"{self.operator}.partial({arguments}).expand({self.expand})" if self.expand else \
            f"{self.operator}({arguments})"
        return f"{self.var} = {made}" if bound else made

    def _comment(self) -> str:
        return "".join(f"# {line}\n" for line in self.comment.splitlines()) if self.comment else ""


def _expanded(settings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A BashOperator's env adds to the worker's environment (`append_env`), as everywhere else."""
    out = []
    for key, value in settings:
        out.append((key, value))
        if key == "env" and value != "None":
            out.append(("append_env", "True"))
    return out
