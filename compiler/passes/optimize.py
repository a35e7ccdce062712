"""The graph optimizer: passes over a validated, defaults-folded pipeline that make it cheaper to
run without changing what it computes. Each pass is a small function in the ordered PASSES tuple;
it returns the new pipeline and records what it did as Actions, which `dagshift plan` shows. The
passes of a level run again until none changes anything, so a second optimization is a no-op.

Level 1 (the default) runs only what can never change behaviour or task names:
- `fold_constant_conditions`: a `when` that reads no param and no upstream value is decided now;
  a task whose condition is always false (or the else branch of an always-true one) can never run
  and is removed with a warning, and so is what could only run after it;
- `drop_redundant_after`: an `after` edge implied by another path is removed (only for tasks with
  the all_success rule, whose upstream failures and skips reach them through that path anyway;
  edges carrying data, conditions or else_of are never touched);
- `prioritize_critical_path`: with `estimate:` durations, every task gets a scheduling priority:
  the estimated length of the longest path from it to the end (critical-path tasks come first).
Level 2 adds what renames tasks, and assumes a task's result depends only on its command, inputs
and settings (so running it once is as good as twice):
- `deduplicate_tasks`: identical tasks (same command, inputs, params and settings) run once;
- `fuse_chains`: linear chains of small, compatible shell tasks become one task when the target's
  cost model says a scheduled task costs something (a pod, a scheduler round-trip).
Selecting tasks (`--select`) keeps those tasks and everything they need, and nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx

from compiler.backends.base import TaskCost
from compiler.language import conditions, naming, placeholders
from compiler.language.graph import build_graph, topological_order
from compiler.language.ir import Pipeline, Task, TriggerRule
from compiler.language.placeholders import Ref
from compiler.language.references import parsed_when, task_refs


@dataclass(frozen=True)
class Action:
    pass_name: str
    message: str
    task: str | None = None
    warning: bool = False
    merged: tuple[str, ...] = ()  # the tasks `task` now stands for (deduplication, fusion)


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


# Where no target is named (`dagshift plan` without -t), fusion is left out: it depends on the target.
NO_TARGET = TaskCost(0.0, "no target named: fusion depends on the target's cost model")
# A task is small, and worth fusing, when the per-task overhead is at least a tenth of its
# estimated run time (a task without an estimate counts as small).
SMALL_TASK_SHARE = 10.0


@dataclass(frozen=True)
class Pass:
    name: str
    level: int
    run: Callable[[Pipeline, TaskCost], tuple[Pipeline, list[Action]]]


_MAX_ROUNDS = 8


def optimize(pipeline: Pipeline, level: int = 1, select: Iterable[str] = (),
             cost: TaskCost = NO_TARGET) -> Optimized:
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


# ----------------------------------------------------------------------------- passes


def fold_constant_conditions(pipeline: Pipeline, cost: TaskCost = NO_TARGET) -> tuple[Pipeline, list[Action]]:
    actions: list[Action] = []
    never: set[str] = set()
    tasks = dict(pipeline.tasks)
    else_branches: dict[str, list[str]] = {}
    for task_id, task in pipeline.tasks.items():
        if task.else_of is not None:
            else_branches.setdefault(task.else_of, []).append(task_id)
    for task_id, task in pipeline.tasks.items():
        expr = parsed_when(task)
        if expr is None or list(conditions.references(expr)):
            continue
        if _constant(expr):
            tasks[task_id] = task.model_copy(update={"when": None})
            actions.append(Action("fold_constant_conditions", f"the condition of '{task_id}' is always true: "
                                                              "it always runs", task_id))
            never.update(else_branches.get(task_id, ()))
        else:
            never.add(task_id)
    if not never:
        return pipeline.model_copy(update={"tasks": tasks}), actions
    removed = _cannot_run(pipeline, never)
    for task_id in [t for t in pipeline.tasks if t in removed]:
        why = "its condition is always false" if task_id in never else "it could only run after a task that never runs"
        actions.append(Action("fold_constant_conditions", f"task '{task_id}' can never run ({why}): removed",
                              task_id, warning=True))
    return _without(pipeline.model_copy(update={"tasks": tasks}), removed), actions


def drop_redundant_after(pipeline: Pipeline, cost: TaskCost = NO_TARGET) -> tuple[Pipeline, list[Action]]:
    graph = build_graph(pipeline)
    order = topological_order(graph)
    bit = {task_id: 1 << index for index, task_id in enumerate(order)}
    ancestors: dict[str, int] = {}
    for task_id in order:
        mask = 0
        for upstream in graph.predecessors(task_id):
            mask |= ancestors[upstream] | bit[upstream]
        ancestors[task_id] = mask
    tasks = dict(pipeline.tasks)
    actions: list[Action] = []
    for task_id, task in pipeline.tasks.items():
        if task.trigger_rule is not TriggerRule.ALL_SUCCESS or not task.after:
            continue
        keep = []
        for upstream in task.after:
            reasons = graph.edges[upstream, task_id]["reasons"] if graph.has_edge(upstream, task_id) else ()
            others = 0
            for other in graph.predecessors(task_id):
                if other != upstream:
                    others |= ancestors[other]
            if reasons == ("after",) and others & bit[upstream]:
                actions.append(Action("drop_redundant_after", f"'{task_id}' after '{upstream}': implied by another "
                                                              "path", task_id))
            else:
                keep.append(upstream)
        if len(keep) != len(task.after):
            tasks[task_id] = task.model_copy(update={"after": keep})
    return pipeline.model_copy(update={"tasks": tasks}), actions


def select_tasks(pipeline: Pipeline, selected: list[str]) -> tuple[Pipeline, list[Action]]:
    """Keep the selected tasks and what they need: their ancestors (and the tasks whose condition
    an else branch mirrors)."""
    graph = build_graph(pipeline)
    needed: set[str] = set()
    pending = [t for t in selected if t in pipeline.tasks]
    while pending:  # each task once: ancestors are added as needed, not searched again
        task_id = pending.pop()
        if task_id in needed:
            continue
        needed.add(task_id)
        pending.extend(graph.predecessors(task_id))
        else_of = pipeline.tasks[task_id].else_of
        if else_of is not None:
            pending.append(else_of)
    removed = set(pipeline.tasks) - needed
    actions = [Action("select", f"task '{t}' is not needed by the selected tasks: left out", t)
               for t in pipeline.tasks if t in removed]
    return _without(pipeline, removed), actions


def unused_outputs(pipeline: Pipeline) -> list[str]:
    """Tasks whose value outputs no task reads (artifacts are results in their own right)."""
    read = {(ref_task, name) for task in pipeline.tasks.values() for ref_task, name in _output_refs(task)}
    return [task_id for task_id, task in pipeline.tasks.items()
            if task.outputs and not any((task_id, name) in read for name in task.outputs)]


def deduplicate_tasks(pipeline: Pipeline, cost: TaskCost = NO_TARGET) -> tuple[Pipeline, list[Action]]:
    """Identical tasks run once: the first in file order stays; what read the others reads it.
    Tasks are compared after their own upstream duplicates are replaced, in dependency order, so
    whole identical branches merge in one pass."""
    graph = build_graph(pipeline)
    replaced: dict[str, str] = {}
    seen: dict[str, str] = {}
    rewritten: dict[str, Task] = {}
    for task_id in topological_order(graph):
        task = renamed_refs(pipeline.tasks[task_id], replaced)
        rewritten[task_id] = task
        key = json.dumps(task.model_dump(mode="json", exclude={"description"}), sort_keys=True)
        if key in seen:
            replaced[task_id] = seen[key]
        else:
            seen[key] = task_id
    if not replaced:
        return pipeline, []
    tasks = {task_id: renamed_refs(rewritten[task_id], replaced)
             for task_id in pipeline.tasks if task_id not in replaced}
    actions = [Action("deduplicate_tasks", f"'{task_id}' is identical to '{kept}': it runs once, as '{kept}'",
                      kept, merged=(task_id,))
               for task_id, kept in sorted(replaced.items(), key=lambda i: graph.nodes[i[0]]["index"])]
    return pipeline.model_copy(update={"tasks": tasks}), actions


def fuse_chains(pipeline: Pipeline, cost: TaskCost = NO_TARGET) -> tuple[Pipeline, list[Action]]:
    """Linear chains of small compatible shell tasks become one shell task that runs each part in
    its own subshell, in order, stopping at the first failure, with each part's name in the log."""
    if cost.overhead <= 0:
        return pipeline, []
    graph = build_graph(pipeline)
    else_targets = {task.else_of for task in pipeline.tasks.values() if task.else_of}
    fusable = {task_id for task_id, task in pipeline.tasks.items()
               if task_id not in else_targets and _fusable(task, cost)}

    def links(upstream: str, downstream: str) -> bool:
        return (upstream in fusable and downstream in fusable and graph.out_degree(upstream) == 1
                and graph.in_degree(downstream) == 1
                and _settings(pipeline.tasks[upstream]) == _settings(pipeline.tasks[downstream]))

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
        actions.append(Action("fuse_chains", f"{' -> '.join(chain)} run as one task '{name}' (saves about "
                                             f"{cost.overhead * (len(chain) - 1):g} s: {cost.why})", name,
                              merged=tuple(chain)))
    tasks: dict[str, Task] = {}
    for task_id, task in pipeline.tasks.items():
        if task_id in fused_id and task_id not in fused:
            continue  # a later part of a chain: its head stands for it
        task = fused.get(task_id, task)
        after = list(dict.fromkeys(fused_id.get(t, t) for t in task.after))
        tasks[fused_id.get(task_id, task_id)] = task.model_copy(update={"after": after}) if after != task.after else task
    return pipeline.model_copy(update={"tasks": tasks}), actions


def prioritize_critical_path(pipeline: Pipeline, cost: TaskCost = NO_TARGET) -> tuple[Pipeline, list[Action]]:
    """With estimates, each task's priority is the estimated length (whole seconds, at least 1) of
    the longest path from it to the end: when slots are scarce, the critical path goes first."""
    if not any(task.estimate for task in pipeline.tasks.values()):
        return pipeline, []
    graph = build_graph(pipeline)
    remaining = _remaining_seconds(pipeline, graph)
    tasks = dict(pipeline.tasks)
    actions = []
    for task_id, task in pipeline.tasks.items():
        priority = max(1, round(remaining[task_id]))
        if task.priority is None:
            tasks[task_id] = task.model_copy(update={"priority": priority})
            actions.append(Action("prioritize_critical_path", f"'{task_id}' gets priority {priority} (the "
                                                              f"estimated time from its start to the end)", task_id))
    return pipeline.model_copy(update={"tasks": tasks}), actions


PASSES: tuple[Pass, ...] = (
    Pass("fold_constant_conditions", 1, fold_constant_conditions),
    Pass("drop_redundant_after", 1, drop_redundant_after),
    Pass("deduplicate_tasks", 2, deduplicate_tasks),
    Pass("fuse_chains", 2, fuse_chains),
    Pass("prioritize_critical_path", 1, prioritize_critical_path),
)


# ----------------------------------------------------------------------------- analysis


def critical_path(pipeline: Pipeline) -> tuple[list[str], float]:
    """The path with the longest estimated duration (tasks without an estimate count 0 s; among
    equally long paths, the one with the most tasks), and that duration in seconds."""
    graph = build_graph(pipeline)
    best: dict[str, tuple[float, int, str | None]] = {}
    for task_id in topological_order(graph):
        own = float(pipeline.tasks[task_id].estimate or 0)
        start = (own, 1, None)
        for upstream in graph.predecessors(task_id):
            seconds, count, _ = best[upstream]
            start = max(start, (seconds + own, count + 1, upstream), key=lambda c: (c[0], c[1]))
        best[task_id] = start
    if not best:
        return [], 0.0
    end = max(best, key=lambda t: (best[t][0], best[t][1], -graph.nodes[t]["index"]))
    path, node = [], end
    while node is not None:
        path.append(node)
        node = best[node][2]
    return path[::-1], best[end][0]


def widest_level(pipeline: Pipeline) -> list[str]:
    """The largest set of tasks at the same depth (longest distance from a start): how many tasks
    can run at once at best."""
    graph = build_graph(pipeline)
    levels = list(nx.topological_generations(graph))
    widest = max(levels, key=len, default=[])
    return sorted(widest, key=lambda t: graph.nodes[t]["index"])




# ----------------------------------------------------------------------------- helpers


def _constant(expr: conditions.Expr) -> bool:
    if isinstance(expr, conditions.Literal):
        return bool(expr.value)
    if isinstance(expr, conditions.Not):
        return not _constant(expr.operand)
    if isinstance(expr, conditions.BoolOp):
        values = [_constant(o) for o in expr.operands]
        return all(values) if expr.op == "and" else any(values)
    left, right = expr.left, expr.right
    assert isinstance(left, conditions.Literal) and isinstance(right, conditions.Literal)
    a, b = left.value, right.value
    try:
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[expr.op]
    except TypeError:  # the type check reports comparisons of unrelated types
        return False


def _cannot_run(pipeline: Pipeline, never: set[str]) -> set[str]:
    """The never-running tasks plus the all_success tasks that would only run after one of them."""
    graph = build_graph(pipeline)
    removed = set(never)
    for task_id in topological_order(graph):
        if task_id in removed:
            continue
        task = pipeline.tasks[task_id]
        upstream = set(graph.predecessors(task_id)) & removed
        reads_removed = any(graph.edges[u, task_id]["reasons"] != ("after",) for u in upstream)
        if upstream and (task.trigger_rule is TriggerRule.ALL_SUCCESS or reads_removed):
            removed.add(task_id)  # it would be skipped, or it reads what is never made
        elif task.else_of in removed:
            removed.add(task_id)
    return removed


def _without(pipeline: Pipeline, removed: set[str]) -> Pipeline:
    """The pipeline without `removed` tasks. A task that waited for a removed one now waits for
    what that one waited for, so every order between the remaining tasks holds."""
    if not removed:
        return pipeline
    graph = build_graph(pipeline)
    position = {task_id: index for index, task_id in enumerate(pipeline.tasks)}
    tasks: dict[str, Task] = {}
    for task_id, task in pipeline.tasks.items():
        if task_id in removed:
            continue
        after = [t for t in task.after if t not in removed]
        inherited: list[str] = []
        pending = [u for u in graph.predecessors(task_id) if u in removed]
        seen: set[str] = set()
        while pending:
            upstream = pending.pop()
            if upstream in seen:
                continue
            seen.add(upstream)
            for above in graph.predecessors(upstream):
                if above in removed:
                    pending.append(above)
                elif above not in after and not graph.has_edge(above, task_id) and above not in inherited:
                    inherited.append(above)
        after += sorted(inherited, key=position.__getitem__)
        tasks[task_id] = task.model_copy(update={"after": after}) if after != task.after else task
    return pipeline.model_copy(update={"tasks": tasks})


def _output_refs(task: Task):
    for _, ref in task_refs(task):
        if ref.kind == "task_output":
            yield str(ref.task), str(ref.name)


def _follow(into: dict[str, str], task_id: str) -> str:
    seen = set()
    while task_id in into and task_id not in seen:
        seen.add(task_id)
        task_id = into[task_id]
    return task_id


def _remaining_seconds(pipeline: Pipeline, graph: nx.DiGraph) -> dict[str, float]:
    """For each task, the estimated length of the longest path from its start to the end."""
    remaining: dict[str, float] = {}
    for task_id in reversed(topological_order(graph)):
        after = max((remaining[s] for s in graph.successors(task_id)), default=0.0)
        remaining[task_id] = float(pipeline.tasks[task_id].estimate or 0) + after
    return remaining


# ----------------------------------------------------------------------------- fusion helpers


def _fusable(task: Task, cost: TaskCost) -> bool:
    """A shell task whose whole meaning survives running inside a larger shell script: nothing
    decided per task (condition, rule, fan-out, timeout, alerts) and no values to hand on."""
    small = task.estimate is None or task.estimate <= SMALL_TASK_SHARE * cost.overhead
    # A command ending in a backslash would continue into the closing parenthesis, and a heredoc
    # (`<<`) whose end line is missing would swallow it and the parts after it.
    return (task.kind == "shell" and isinstance(task.command, str) and not task.command.endswith("\\")
            and _heredocs_closed(task.command)
            and small and not task.outputs
            and task.when is None and task.else_of is None and task.trigger_rule is TriggerRule.ALL_SUCCESS
            and task.foreach is None and task.max_parallel is None and task.timeout is None and not task.alerts)


# `<<WORD`, `<<-WORD`, `<<'WORD'`, `<<"WORD"`; not the here-string `<<<`.
_HEREDOC = re.compile(r"(?<!<)<<(-?)[ \t]*(['\"]?)([^\s'\";|&<>()]+)\2")


def _heredocs_closed(command: str) -> bool:
    """Every heredoc has its end line: an open one reads to the end of the fused script."""
    for match in _HEREDOC.finditer(command):
        if match.group(0).startswith("<<<"):
            continue
        rest = command[match.end():].split("\n")[1:]
        lines = [line.lstrip("\t") for line in rest] if match.group(1) else rest
        if match.group(3) not in lines:
            return False
    return True


_SHARED_SETTINGS = ("env", "secrets", "resources", "retries", "retry_delay", "retry_backoff", "retry_max_delay",
                    "cache", "pool", "image")


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
    return parts[0].model_copy(update={
        "description": "\n".join(lines),
        "command": script,
        "consumes": list(dict.fromkeys(consumed)),
        "produces": list(dict.fromkeys(produced)),
        "estimate": sum(estimates) if estimates else None,
        "priority": None,
    })


# ----------------------------------------------------------------------------- renaming references


def renamed_refs(task: Task, replaced: dict[str, str]) -> Task:
    """The task with references to replaced tasks pointed at their replacements."""
    if not replaced:
        return task
    update: dict = {}
    after = list(dict.fromkeys(replaced.get(t, t) for t in task.after))
    if after != task.after:
        update["after"] = after
    if task.else_of in replaced:
        update["else_of"] = replaced[task.else_of]
    for name in ("command", "args", "env", "foreach"):
        value = getattr(task, name)
        renamed = _renamed_in_value(value, replaced)
        if renamed != value:
            update[name] = renamed
    expr = parsed_when(task)
    if expr is not None and any(op.ref.task in replaced for op in conditions.references(expr)):
        update["when"] = conditions.render(_renamed_in_expr(expr, replaced))
    return task.model_copy(update=update) if update else task


def _renamed_in_value(value, replaced: dict[str, str]):
    if isinstance(value, str):
        return _renamed_in_text(value, replaced)
    if isinstance(value, list):
        return [_renamed_in_value(item, replaced) for item in value]
    if isinstance(value, dict):
        return {key: _renamed_in_value(item, replaced) for key, item in value.items()}
    return value


def _renamed_in_text(text: str, replaced: dict[str, str]) -> str:
    segments = placeholders.parse(text)[0]
    if not any(isinstance(s, Ref) and s.task in replaced for s in segments):
        return text
    pieces = []
    for segment in segments:
        if isinstance(segment, Ref):
            if segment.task in replaced:
                segment = Ref(segment.kind, segment.name, replaced[segment.task])
            pieces.append(f"${{{{ {segment} }}}}")
        else:
            pieces.append(segment.replace("${{", "$${{"))  # literal text stays literal
    return "".join(pieces)


def _renamed_in_expr(expr: conditions.Expr, replaced: dict[str, str]) -> conditions.Expr:
    if isinstance(expr, conditions.RefOperand):
        ref = expr.ref
        if ref.task in replaced:
            return conditions.RefOperand(Ref(ref.kind, ref.name, replaced[ref.task]), expr.offset)
        return expr
    if isinstance(expr, conditions.Compare):
        return conditions.Compare(expr.op, _renamed_in_expr(expr.left, replaced), _renamed_in_expr(expr.right, replaced))
    if isinstance(expr, conditions.BoolOp):
        return conditions.BoolOp(expr.op, tuple(_renamed_in_expr(o, replaced) for o in expr.operands))
    if isinstance(expr, conditions.Not):
        return conditions.Not(_renamed_in_expr(expr.operand, replaced))
    return expr
