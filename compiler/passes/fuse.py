"""Fusion (-O2): linear chains of small, compatible shell tasks become one task when the target's
cost model says a scheduled task costs something (a pod, a scheduler round-trip). It renames tasks,
and a retry of the fused task re-runs the whole chain."""

from __future__ import annotations

import re

from compiler.backends.base import TaskCost
from compiler.language import naming
from compiler.language.graph import build_graph, topological_order
from compiler.language.ir import Pipeline, Task, TriggerRule

from .action import Action

# A task is small, and worth fusing, when the per-task overhead is at least a tenth of its
# estimated run time (a task without an estimate counts as small).
SMALL_TASK_SHARE = 10.0


def fuse_chains(pipeline: Pipeline, cost: TaskCost) -> tuple[Pipeline, list[Action]]:
    """Linear chains of small compatible shell tasks become one shell task that runs each part in
    its own subshell, in order, stopping at the first failure, with each part's name in the log."""
    if cost.overhead <= 0:
        return pipeline, []
    graph = build_graph(pipeline)
    else_targets = {task.else_of for task in pipeline.tasks.values() if task.else_of}
    fusable = {
        task_id for task_id, task in pipeline.tasks.items() if task_id not in else_targets and _fusable(task, cost)
    }

    def links(upstream: str, downstream: str) -> bool:
        return (
            upstream in fusable
            and downstream in fusable
            and graph.out_degree(upstream) == 1
            and graph.in_degree(downstream) == 1
            and _settings(pipeline.tasks[upstream]) == _settings(pipeline.tasks[downstream])
        )

    chains: list[list[str]] = []
    for task_id in topological_order(graph):
        predecessors = list(graph.predecessors(task_id))
        if len(predecessors) == 1 and links(predecessors[0], task_id):
            continue  # inside a chain: its head collects it
        chain = [task_id]
        while graph.out_degree(chain[-1]) == 1:
            successor = next(iter(graph.successors(chain[-1])))
            if not links(chain[-1], successor):
                break
            chain.append(successor)
        if len(chain) > 1:
            chains.append(chain)
    if not chains:
        return pipeline, []
    taken = _NameSet(pipeline.tasks)
    fused_id: dict[str, str] = {}
    fused: dict[str, Task] = {}
    actions: list[Action] = []
    for chain in chains:
        name = _fused_name(chain, taken)
        taken.add(name)
        fused_id.update((task_id, name) for task_id in chain)
        fused[chain[0]] = _fuse(name, chain, [pipeline.tasks[t] for t in chain])
        actions.append(
            Action(
                "fuse_chains",
                f"{' -> '.join(chain)} run as one task '{name}' (saves about "
                f"{cost.overhead * (len(chain) - 1):g} s: {cost.why})",
                name,
                merged=tuple(chain),
            )
        )
    tasks: dict[str, Task] = {}
    for task_id, task in pipeline.tasks.items():
        if task_id in fused_id and task_id not in fused:
            continue  # a later part of a chain: its head stands for it
        task = fused.get(task_id, task)
        after = list(dict.fromkeys(fused_id.get(t, t) for t in task.after))
        tasks[fused_id.get(task_id, task_id)] = (
            task.model_copy(update={"after": after}) if after != task.after else task
        )
    return pipeline.model_copy(update={"tasks": tasks}), actions


def _fusable(task: Task, cost: TaskCost) -> bool:
    """A shell task whose whole meaning survives running inside a larger shell script: nothing
    decided per task (condition, rule, fan-out, timeout, alerts) and no values to hand on."""
    small = task.estimate is None or task.estimate <= SMALL_TASK_SHARE * cost.overhead
    # A command ending in a backslash would continue into the closing parenthesis, and a heredoc
    # (`<<`) whose end line is missing would swallow it and the parts after it.
    return (
        task.kind == "shell"
        and isinstance(task.command, str)
        and not task.command.endswith("\\")
        and _heredocs_closed(task.command)
        and small
        and not task.outputs
        and task.when is None
        and task.else_of is None
        and task.trigger_rule is TriggerRule.ALL_SUCCESS
        and task.foreach is None
        and task.max_parallel is None
        and task.timeout is None
        and not task.alerts
    )


# `<<WORD`, `<<-WORD`, `<<'WORD'`, `<<"WORD"`; not the here-string `<<<`.
_HEREDOC = re.compile(r"(?<!<)<<(-?)[ \t]*(['\"]?)([^\s'\";|&<>()]+)\2")


def _heredocs_closed(command: str) -> bool:
    """Every heredoc has its end line: an open one reads to the end of the fused script."""
    for match in _HEREDOC.finditer(command):
        if match.group(0).startswith("<<<"):
            continue
        rest = command[match.end() :].split("\n")[1:]
        lines = [line.lstrip("\t") for line in rest] if match.group(1) else rest
        if match.group(3) not in lines:
            return False
    return True


_SHARED_SETTINGS = (
    "env",
    "secrets",
    "resources",
    "retries",
    "retry_delay",
    "retry_backoff",
    "retry_max_delay",
    "cache",
    "pool",
    "image",
)


def _settings(task: Task) -> dict:
    """What the tasks of a chain must share, since the fused task has one of each."""
    return task.model_dump(include=set(_SHARED_SETTINGS))


class _NameSet:
    """Task ids in use, with the names they become on each target (which must not collide either)."""

    def __init__(self, ids):
        self.names: set[str] = set()
        for task_id in ids:
            self.add(task_id)

    def add(self, task_id: str) -> None:
        self.names.add(task_id)
        self.names.update(mapped(task_id) for mapped in naming.TARGET_NAMES.values())

    def __contains__(self, task_id: str) -> bool:
        return task_id in self.names or any(mapped(task_id) in self.names for mapped in naming.TARGET_NAMES.values())


def _fused_name(chain: list[str], taken: _NameSet) -> str:
    head, tail = chain[0], chain[-1]
    half = (naming.MAX_ID_LENGTH - 6) // 2
    base = f"{head[:half].rstrip('-_')}__{tail[:half]}"
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    return candidate


def _fuse(name: str, ids: list[str], parts: list[Task]) -> Task:
    # Each part runs in its own subshell, as it ran alone: its `cd`, `exit` or `set` stay inside it,
    # and with `set +e` as a shell starts. The outer `set -e` stops at the first failing part with
    # its exit status (an `||` after the subshell would disable a part's own `set -e`).
    script = "set -e\n" + "\n".join(
        f"printf '%s\\n' 'dagshift: {task_id} ({index} of {len(ids)} in {name})' >&2\n(\nset +e\n{part.command}\n)"
        for index, (task_id, part) in enumerate(zip(ids, parts), start=1)
    )
    produced = [artifact for part in parts for artifact in part.produces]
    consumed = [artifact for part in parts for artifact in part.consumes if artifact not in produced]
    estimates = [part.estimate for part in parts if part.estimate is not None]
    lines = [f"fused by dagshift -O2: {' -> '.join(ids)}"]
    lines += [f"{task_id}: {part.description}" for task_id, part in zip(ids, parts) if part.description]
    return parts[0].model_copy(
        update={
            "description": "\n".join(lines),
            "command": script,
            "consumes": list(dict.fromkeys(consumed)),
            "produces": list(dict.fromkeys(produced)),
            "estimate": sum(estimates) if estimates else None,
            "priority": None,
        }
    )
