"""The graph optimizer: passes over a validated, defaults-folded pipeline that make it cheaper to
run without changing what it computes. Each pass is a module of this package with one function,
listed in order in PASSES; it returns the new pipeline and records what it did as Actions, which
`dagshift plan` shows. The passes of a level run again until none changes anything, so a second
optimization is a no-op.

Level 1 (the default) runs only what can never change behaviour or task names: constant conditions
(fold_conditions.py), redundant `after` edges (redundant_after.py) and critical-path priorities
(priority.py). Level 2 adds what renames tasks, and assumes a task's result depends only on its
command, inputs and settings: deduplication (deduplicate.py) and fusion (fuse.py). Selecting tasks
(`--select`, selection.py) keeps those tasks and everything they need, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from compiler.backends.base import TaskCost
from compiler.language.ir import Pipeline

from .action import Action
from .deduplicate import deduplicate_tasks
from .fold_conditions import fold_constant_conditions
from .fuse import fuse_chains
from .priority import prioritize_critical_path
from .redundant_after import drop_redundant_after
from .selection import select_tasks


@dataclass
class Optimized:
    pipeline: Pipeline
    actions: list[Action] = field(default_factory=list)

    def stands_for(self) -> dict[str, str]:
        """Each task merged away -> the task of the result that now does its work."""
        into: dict[str, str] = {}
        for action in self.actions:
            if action.merged:
                into.pop(action.task, None)  # the name is a live task now, even if it once was merged away
                for task_id in action.merged:
                    into[task_id] = action.task
        return {task_id: _follow(into, task_id) for task_id in into}


def _follow(into: dict[str, str], task_id: str) -> str:
    seen = set()
    while task_id in into and task_id not in seen:
        seen.add(task_id)
        task_id = into[task_id]
    return task_id


# Where no target is named (`dagshift plan` without -t), fusion is left out: it depends on the target.
NO_TARGET = TaskCost(0.0, "no target named: fusion depends on the target's cost model")


@dataclass(frozen=True)
class Pass:
    name: str
    level: int
    run: Callable[[Pipeline, TaskCost], tuple[Pipeline, list[Action]]]


# In this order: priorities come last, on the tasks fusion leaves (a fused task starts without one).
PASSES: tuple[Pass, ...] = (
    Pass("fold_constant_conditions", 1, fold_constant_conditions),
    Pass("drop_redundant_after", 1, drop_redundant_after),
    Pass("deduplicate_tasks", 2, deduplicate_tasks),
    Pass("fuse_chains", 2, fuse_chains),
    Pass("prioritize_critical_path", 1, prioritize_critical_path),
)


_MAX_ROUNDS = 8


def optimize(pipeline: Pipeline, level: int = 1, select: Iterable[str] = (), cost: TaskCost = NO_TARGET) -> Optimized:
    result = Optimized(pipeline)
    selected = list(select)
    if selected:
        result.pipeline, actions = select_tasks(result.pipeline, selected)
        result.actions += actions
    passes = [p for p in PASSES if p.level <= level]
    # Until nothing changes: a pass only removes, merges, or sets what was unset, so this ends soon.
    for _ in range(_MAX_ROUNDS):
        changed = False
        for optimization_pass in passes:
            result.pipeline, actions = optimization_pass.run(result.pipeline, cost)
            result.actions += actions
            changed = changed or bool(actions)
        if not changed:
            break
    return result
