"""How each task runs in the flow body, and in what order the body starts them.

A task is *called* (a plain call in the flow: it runs in the flow's thread, the flow waits for
it, and its failure ends the run) when that loses nothing: every task that is not in the other
branch of one of its conditions runs before or after it anyway (it is a *sync point*), what it
reads was called too, and no task after it must still run when it fails (a fallback). Every
other task is *submitted* (`.submit`, `.map`): it runs in the task runner's threads while the
body goes on. The body starts the submitted tasks as early as it can and the blocking steps (a
call, a condition, a rule that looks at upstream states) as late as it can.

`when` / `else_of` become `if` / `else` blocks holding the task and the tasks that are skipped
with it; a join after them (trigger rule none_failed) follows the block. A fallback (one_failed,
all_failed, all_done, one_success) waits for its upstream tasks and checks their states.

`plan` returns None for a pipeline this structure cannot hold (a branch with tasks that run in
parallel, a rule over tasks that may be skipped, ...): the backend then writes the general form
(generic.py).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import networkx as nx

from compiler.language.conditions import references
from compiler.language.graph import topological_order
from compiler.language.ir import Pipeline, TriggerRule
from compiler.language.placeholders import refs, strings_in
from compiler.language.references import parsed_when, task_texts

FALLBACK_RULES = {TriggerRule.ONE_FAILED, TriggerRule.ALL_FAILED, TriggerRule.ALL_DONE, TriggerRule.ONE_SUCCESS}

Guard = frozenset[tuple[str, bool]]  # (task with `when`, whether its condition held)


@dataclass
class Block:
    """An `if` on the condition of `task`: what runs when it holds, and when it does not."""

    task: str
    then: list = field(default_factory=list)
    orelse: list = field(default_factory=list)


@dataclass
class Plan:
    called: set[str]  # tasks run by a plain call; the others are submitted
    body: list  # task ids and Blocks, in the order the flow body runs them
    guards: dict[str, Guard]
    returned: list[str]  # submitted tasks whose final state the flow returns
    index: dict[str, int]  # task id -> its place in the topological order
    ancestors: dict[str, int]  # task id -> its ancestors, a bit per task (index)

    def is_ancestor(self, task_id: str, of: str) -> bool:
        return bool(self.ancestors[of] >> self.index[task_id] & 1)


def reachability(graph: nx.DiGraph, order: list[str], index: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """Each task's ancestors and descendants as bitsets (bit i: the i-th task of `order`): linear
    in the edges, where sets of ids would be quadratic on a large pipeline."""
    ancestors: dict[str, int] = {}
    for task_id in order:
        bits = 0
        for upstream in graph.predecessors(task_id):
            bits |= ancestors[upstream] | 1 << index[upstream]
        ancestors[task_id] = bits
    descendants: dict[str, int] = {}
    for task_id in reversed(order):
        bits = 0
        for downstream in graph.successors(task_id):
            bits |= descendants[downstream] | 1 << index[downstream]
        descendants[task_id] = bits
    return ancestors, descendants


def plan(pipeline: Pipeline, graph: nx.DiGraph) -> Plan | None:
    return _Planner(pipeline, graph).plan()


class _Planner:
    def __init__(self, pipeline: Pipeline, graph: nx.DiGraph):
        self.p = pipeline
        self.g = graph
        self.order = topological_order(graph)
        self.index = {task_id: i for i, task_id in enumerate(self.order)}
        self.ancestors, self.descendants = reachability(graph, self.order, self.index)
        self.everyone = (1 << len(self.order)) - 1
        self.fallbacks = sum(1 << self.index[t] for t in self.order if pipeline.tasks[t].trigger_rule in FALLBACK_RULES)
        self.guards: dict[str, Guard] = {}
        self.called: set[str] = set()

    def plan(self) -> Plan | None:
        if not self._guards() or not self._modes():
            return None
        body = self._body(frozenset(), set(self.order))
        if body is None:
            return None
        return Plan(self.called, body, self.guards, self._returned(), self.index, self.ancestors)

    # ------------------------------------------------------------------ conditions

    def _guards(self) -> bool:
        """Each task's guard: its own condition (or its else_of's, negated) plus, under
        all_success, every condition of its upstream tasks (a skipped upstream skips it)."""
        for task_id in self.order:
            task = self.p.tasks[task_id]
            own: set[tuple[str, bool]] = set()
            if task.when is not None:
                own.add((task_id, True))
            if task.else_of is not None:
                own.add((task.else_of, False))
            upstream = list(self.g.predecessors(task_id))
            inherited = {g for u in upstream for g in self.guards[u]}
            if task.trigger_rule is TriggerRule.ALL_SUCCESS:
                guard = own | inherited
            elif task.trigger_rule is TriggerRule.NONE_FAILED and inherited and not own:
                guard = own  # a join after branches
                if not self._join_fits(task_id):
                    return False
            elif not own and not inherited and task.trigger_rule in FALLBACK_RULES and not self._followed(task_id):
                guard = own  # a fallback runs under a check of states: nothing may depend on it being skipped
            else:
                return False
            self.guards[task_id] = frozenset(guard)
        return all(self._nested(self.guards[t]) and self._else_fits(t) for t in self.order)

    def _nested(self, guard: Guard) -> bool:
        """The conditions of a guard nest: each one's `if` sits inside the blocks of the others
        it is under, so the conditions, from the outermost, form a chain."""
        if any((x, not held) in guard for x, held in guard):
            return False  # in both branches of one condition: it never runs
        contexts = {g: self.guards[g[0]] - {(g[0], True)} for g in guard}
        ordered = sorted(guard, key=lambda g: len(contexts[g]))
        return all(contexts[g] == set(ordered[:i]) for i, g in enumerate(ordered))

    def _followed(self, task_id: str) -> bool:
        return self.g.out_degree(task_id) > 0

    def _join_fits(self, task_id: str) -> bool:
        """A join reads no value of a task that may have been skipped (its variable may be unset)."""
        read = {ref.task for _, text in task_texts(self.p.tasks[task_id]) for ref in refs(text)
                if ref.kind == "task_output"}
        return not any(self.guards[u] for u in read)

    def _else_fits(self, task_id: str) -> bool:
        """An else_of task sits beside its `when` task: the same conditions around both."""
        task = self.p.tasks[task_id]
        if task.else_of is None:
            return True
        partner = task.else_of
        if self.p.tasks[partner].trigger_rule is not TriggerRule.ALL_SUCCESS:
            return False
        return self.guards[task_id] - {(partner, False)} == self.guards[partner] - {(partner, True)}

    # ------------------------------------------------------------------ call or submit

    def _exclusive(self, one: str, other: str) -> bool:
        return any((x, not held) in self.guards[other] for x, held in self.guards[one])

    def _sync(self, task_id: str) -> bool:
        """Every other task runs before or after it, or is in another branch of one of its conditions."""
        unrelated = self.everyone & ~(self.ancestors[task_id] | self.descendants[task_id] | 1 << self.index[task_id])
        if not unrelated:
            return True
        if not self.guards[task_id]:
            return False
        return all(self._exclusive(task_id, u) for i, u in enumerate(self.order) if unrelated >> i & 1)

    def _fallback_after(self, task_id: str) -> bool:
        return bool(self.descendants[task_id] & self.fallbacks)

    def _modes(self) -> bool:
        for task_id in self.order:
            task = self.p.tasks[task_id]
            upstream = set(self.g.predecessors(task_id))
            fallback = task.trigger_rule in FALLBACK_RULES
            callable_ = (self._sync(task_id) and not self._fallback_after(task_id)
                         and (fallback or upstream <= self.called))
            if callable_:
                self.called.add(task_id)
            elif self.guards[task_id] or fallback or task.trigger_rule is TriggerRule.NONE_FAILED:
                return False  # blocks, fallbacks and joins hold plain calls only
            elif task.foreach is not None and isinstance(task.foreach, list) and self._reads_tasks(task.foreach):
                return False
        return all(self._source_fits(t) for t in self.order)

    def _reads_tasks(self, value) -> bool:
        return any(ref.kind == "task_output" for _, text in strings_in(value) for ref in refs(text))

    def _source_fits(self, task_id: str) -> bool:
        """A submitted task whose result the body waits for (a condition, a fan-out over it)
        ends the run when it fails: nothing after it may be a fallback."""
        return task_id in self.called or not (self._read_in_body(task_id) and self._fallback_after(task_id))

    def _condition_sources(self, task_id: str) -> list[str]:
        expr = parsed_when(self.p.tasks[task_id])
        return [str(op.ref.task) for op in references(expr) if op.ref.task] if expr is not None else []

    def _read_in_body(self, task_id: str) -> bool:
        """Whether the flow body reads the task's result: in a condition, or to fan out over it."""
        for other_id in self.g.successors(task_id):
            other = self.p.tasks[other_id]
            if task_id in self._condition_sources(other_id):
                return True
            if isinstance(other.foreach, str) and any(r.task == task_id for r in refs(other.foreach)):
                return True
        return False

    # ------------------------------------------------------------------ the body

    def blocking(self, task_id: str) -> bool:
        """Whether the flow body waits at this task: a call, or a fan-out over a submitted task."""
        if task_id in self.called:
            return True
        foreach = self.p.tasks[task_id].foreach
        return isinstance(foreach, str) and "tasks." in foreach and self._over_single_future(task_id)

    def _over_single_future(self, task_id: str) -> bool:
        (ref,) = refs(str(self.p.tasks[task_id].foreach))
        source = self.p.tasks[str(ref.task)]
        return ref.task not in self.called and not (source.is_mapped and len(source.outputs) == 1)

    def _body(self, context: Guard, members: set[str]) -> list | None:
        """The statements of one block: its own tasks, and a Block per condition directly inside."""
        items: dict[str, object] = {}
        for task_id in sorted(members, key=self.index.__getitem__):
            extra = self.guards[task_id] - context
            if not extra:
                items[task_id] = task_id
                continue
            outer = next((g for g in extra if self.guards[g[0]] - {(g[0], True)} == context), None)
            if outer is None:
                return None
            items.setdefault(f"if {outer[0]}", outer[0])  # task ids have no spaces: no clash
        blocks = {}
        for key, value in items.items():
            if key != value:
                condition = str(value)
                inside = {t for t in members if (condition, True) in self.guards[t] - context}
                outside = {t for t in members if (condition, False) in self.guards[t] - context}
                then = self._body(context | {(condition, True)}, inside)
                orelse = self._body(context | {(condition, False)}, outside)
                if then is None or orelse is None:
                    return None
                blocks[key] = (Block(condition, then, orelse), inside | outside | {condition})
        return self._ordered(items, blocks, members)

    def _ordered(self, items: dict, blocks: dict, members: set[str]) -> list | None:
        """Submissions first, as soon as what they need is there; blocking steps last (each
        group in topological order)."""
        owner = {t: key for key, (_, tasks) in blocks.items() for t in tasks}
        owner.update({t: t for t in items if t not in blocks})
        waiting: dict[str, int] = {}
        followers: dict[str, list[str]] = {key: [] for key in items}
        for key in items:
            tasks = blocks[key][1] if key in blocks else {key}
            found = {u for t in tasks for u in self.g.predecessors(t) if u not in tasks}
            if key in blocks:
                found |= set(self._condition_sources(blocks[key][0].task))
            needs = {owner[u] for u in found if u in members}
            waiting[key] = len(needs)
            for need in needs:
                followers[need].append(key)
        position = {key: i for i, key in enumerate(items)}
        quick: list[tuple[int, str]] = []
        slow: list[tuple[int, str]] = []

        def ready(key: str) -> None:
            heap = slow if key in blocks or self.blocking(key) else quick
            heapq.heappush(heap, (position[key], key))

        for key, count in waiting.items():
            if count == 0:
                ready(key)
        body = []
        while quick or slow:
            _, key = heapq.heappop(quick or slow)
            body.append(blocks[key][0] if key in blocks else key)
            for follower in followers[key]:
                waiting[follower] -= 1
                if waiting[follower] == 0:
                    ready(follower)
        return body if len(body) == len(items) else None

    # ------------------------------------------------------------------ the run's state

    def _returned(self) -> list[str]:
        """Submitted tasks no later step fails with: the flow returns their futures, so Prefect
        makes the run Failed when one of them did not complete."""
        returned = []
        for task_id in self.order:
            if task_id in self.called:
                continue
            followers = [s for s in self.g.successors(task_id)
                         if self.p.tasks[s].trigger_rule not in FALLBACK_RULES and s not in self.called]
            if not followers and not self._read_in_body(task_id):
                returned.append(task_id)
        return returned
