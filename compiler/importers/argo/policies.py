"""How a task runs, beyond its command: timeouts, retryStrategy, memoize, synchronization (pools and
fan-out limits)."""

from __future__ import annotations

import re
from typing import Any

from compiler.backends.argo.conventions import NEVER_EXPIRES, POOLS_CONFIGMAP
from compiler.importers.base import line_of

from .state import ReadState
from .stop import ImportStop
from .values import deadline_seconds, duration_seconds


def _passed_value(value: Any, scope: dict) -> Any:
    """`{{inputs.parameters.X}}` alone is the value the caller passed (pipeline text): the value
    itself when it is fixed text, else the Argo text unchanged."""
    match = re.fullmatch(r"\{\{\s*inputs\.parameters\.([^.}\s]+)\s*\}\}", str(value).strip())
    passed = scope.get(match.group(1)) if match else None
    if isinstance(passed, str) and passed and "${{" not in passed:
        return passed
    return value


def policies(state: ReadState, template: dict, task: dict, scope: dict) -> None:
    """The template's timeout, retries, cache and synchronization, as the task's."""
    if template.get("activeDeadlineSeconds") is not None:
        task["timeout"] = deadline_seconds(template["activeDeadlineSeconds"])
    elif template.get("timeout") is not None:  # the node's whole time, pending included: the closest
        timeout = _passed_value(template["timeout"], scope)
        try:
            task["timeout"] = duration_seconds(timeout)
        except ImportStop:  # a value known only at run time
            state.report.loss(f"template '{template.get('name')}': timeout {template['timeout']!r} is not a "
                              "fixed duration, and is not carried", line_of(template, "timeout"))
    strategy = template.get("retryStrategy")
    if strategy:
        _retries(state, strategy, task)
    memoize = template.get("memoize")
    if memoize:
        _memoize(state, memoize, task, line_of(template, "memoize"))
    sync = template.get("synchronization")
    if sync:
        _synchronization(state, sync, task, line_of(template, "synchronization"))


def _retries(state: ReadState, strategy: dict, task: dict) -> None:
    line = line_of(strategy)
    limit = strategy.get("limit")
    if limit is None:
        state.report.loss("retryStrategy without limit retries forever: carried as 10 retries", line,
                          approximate=True)
        limit = 10
    try:
        task["retries"] = int(str(limit))
    except ValueError:
        raise ImportStop(f"retryStrategy limit '{limit}' is not a number", line)
    policy = strategy.get("retryPolicy")
    if policy not in (None, "Always", "OnFailure"):
        state.report.loss(f"retryPolicy {policy} is carried as retrying on every failure",
                          line_of(strategy, "retryPolicy"), approximate=True)
    backoff = strategy.get("backoff") or {}
    if backoff.get("duration") is not None:
        task["retry_delay"] = duration_seconds(backoff["duration"])
    if backoff.get("factor") is not None:
        task["retry_backoff"] = float(str(backoff["factor"]))
    cap = backoff.get("cap") or backoff.get("maxDuration")
    if backoff.get("cap") is not None:
        task["retry_max_delay"] = duration_seconds(cap)
    elif backoff.get("maxDuration") is not None:
        state.report.loss("backoff maxDuration (the time for all attempts) is not carried", line_of(backoff),
                          approximate=True)
    for key in strategy:
        if key not in ("limit", "retryPolicy", "backoff"):
            state.report.loss(f"retryStrategy {key} is not carried", line_of(strategy, key))


def _memoize(state: ReadState, memoize: dict, task: dict, line: int | None) -> None:
    cache: dict[str, Any] = {"enabled": True}
    max_age = str(memoize.get("maxAge") or "")
    if max_age and max_age != NEVER_EXPIRES:
        cache["expire"] = duration_seconds(max_age)
    task["cache"] = cache if "expire" in cache else True
    if not state.managed:
        state.report.loss(f"memoize key '{memoize.get('key')}' is replaced by the pipeline's own cache key "
                          "(the task's definition and inputs)", line, approximate=True)


def _synchronization(state: ReadState, sync: dict, task: dict, line: int | None) -> None:
    semaphores = sync.get("semaphores") or ([sync["semaphore"]] if sync.get("semaphore") else [])
    for semaphore in semaphores:
        reference = semaphore.get("configMapKeyRef") or {}
        name, key = reference.get("name"), reference.get("key")
        limit = state.companions.configmap_value(name, key)
        if state.managed and name != POOLS_CONFIGMAP and limit is not None:
            task["max_parallel"] = int(limit)
        elif key and re.fullmatch(r"[-._a-zA-Z0-9]+", str(key)):
            task["pool"] = str(key)
            if not state.managed:
                state.report.loss(f"semaphore {name}/{key} is carried as pool '{key}' (its size is set where "
                                  "the pool is created)", line, approximate=True)
        else:
            state.report.loss("a semaphore that is not a ConfigMap key is not carried", line)
    if sync.get("mutexes") or sync.get("mutex"):
        state.report.loss("a mutex is not carried (use a pool of size 1)", line)

