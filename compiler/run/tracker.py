"""Task events in, task results out: each task's (or fanned-out instance's) last state, tries and
duration, with the pipeline's tasks that never reported as not run."""

from __future__ import annotations

import time

from .events import TaskEvent, TaskResult, TaskState


class Tracker:
    def __init__(self, task_ids: list[str]):
        self.task_ids = task_ids
        self.results: dict[tuple[str, str | None], TaskResult] = {}
        self._started: dict[tuple[str, str | None], float] = {}

    def add(self, event: TaskEvent) -> bool:
        """Record EVENT; False when it names no task of the pipeline (an engine's helper task)."""
        if event.task not in self.task_ids:
            return False
        key = (event.task, event.instance)
        result = self.results.setdefault(key, TaskResult(event.task, event.state, instance=event.instance))
        result.state = event.state
        if event.state in (TaskState.STARTED, TaskState.SUCCEEDED, TaskState.FAILED, TaskState.RETRIED):
            result.tries = max(result.tries, event.try_number)
        if event.state is TaskState.STARTED:
            self._started.setdefault(key, event.time)
        elif event.state.final and key in self._started and event.time:
            result.seconds = max(0.0, event.time - self._started[key])
        return True

    @property
    def finished(self) -> int:
        return sum(1 for result in self.results.values() if result.state.final)

    @property
    def total(self) -> int:
        """Tasks expected: the pipeline's, or the instances seen when a fan-out made more."""
        instances = len(self.results) + len({task for task in self.task_ids
                                             if not any(key[0] == task for key in self.results)})
        return max(len(self.task_ids), instances)

    def close(self, succeeded: bool) -> list[TaskEvent]:
        """The last events of the pipeline's tasks that never reported: in a run that succeeded
        their condition left them out (skipped), else an upstream failure did (not run)."""
        state = TaskState.SKIPPED if succeeded else TaskState.NOT_RUN
        events = [TaskEvent(task, state, 1, time.time()) for task in self.task_ids
                  if not any(key[0] == task for key in self.results)]
        for event in events:
            self.add(event)
        return events

    def final_results(self) -> list[TaskResult]:
        """In the pipeline's task order; a task never seen is not run, one left running failed."""
        ordered = []
        for task in self.task_ids:
            found = [result for key, result in self.results.items() if key[0] == task]
            if not found:
                found = [TaskResult(task, TaskState.NOT_RUN)]
            for result in sorted(found, key=lambda r: _instance_key(r.instance)):
                if not result.state.final:
                    result.state = TaskState.FAILED  # the run ended while it ran (or waited to retry)
                ordered.append(result)
        return ordered


def _instance_key(instance: str | None) -> tuple[int, int, str]:
    if instance is None:
        return (0, 0, "")
    return (1, int(instance), "") if instance.isdigit() else (2, 0, instance)
