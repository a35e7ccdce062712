"""Runs inside the Prefect interpreter (never imported by dagshift): one flow run of a compiled
Prefect module against a temporary local API, reporting every task run's state changes.

    python prefect_run.py MODULE FLOW PARAMS_JSON LOG_FILE

FLOW "" runs the module's only flow (a flow module a user wrote, whose names dagshift did not choose).

PREFECT_HOME (an empty throwaway folder), DAGSHIFT_WORKDIR and the working directory are set by the
caller. Standard output carries only the protocol (compiler/run/events.py): one
`DAGSHIFT-EVENT {json}` line per state change and a last `DAGSHIFT-SUMMARY {json}` line (with each
task run's return value); everything else goes to LOG_FILE. Standard library, Prefect and
_protocol.py only: both are copied together and this one is run by path.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback

from _protocol import EVENT, SUMMARY, load_module, redirect_output, send, stop_on_sigterm

POLL_SECONDS = 0.3
PAGE = 200
RETRYING = {"AwaitingRetry"}  # waiting to try again ("Retrying" is the next try running)
FINAL_TYPES = {"COMPLETED": "succeeded", "FAILED": "failed", "CRASHED": "failed", "CANCELLED": "failed"}


def _claim_server_port() -> None:
    """The local API on a port of this process's own (Prefect draws one at random and checks it
    only seconds before binding it: two runs at once may draw the same)."""
    from prefect.server.api.server import SubprocessASGIServer

    port = 10000 + os.getpid() % 22000
    if SubprocessASGIServer.is_port_available(port):
        SubprocessASGIServer._instances[None] = SubprocessASGIServer(port=port)


def _flow_of(module, name: str):
    """The flow called NAME, or (NAME "") the module's only flow."""
    from prefect import Flow

    if name:
        return getattr(module, name)
    flows = [value for value in vars(module).values() if isinstance(value, Flow)]
    if len(flows) != 1:
        found = ", ".join(sorted(flow.name for flow in flows)) or "none"
        raise RuntimeError(f"not exactly one flow in the module (its flows: {found})")
    return flows[0]


def _keep_returns(tasks: list, returned: dict) -> None:
    """Each task run's return value into RETURNED (by task run id), from a completion hook: the
    flow runs in this process, so the value is at hand without persisting results."""

    def keep(task, task_run, state) -> None:
        returned[str(task_run.id)] = state.result(raise_on_failure=False)

    for task in tasks:
        task.on_completion_hooks = [*task.on_completion_hooks, keep]


class MapOrder:
    """Each mapped task run's index (as Airflow's map index): its item's position in the list
    `.map()` was given, read from the futures `.map()` returns, which keep the items' order. The
    runs' creation times do not: `.map()` submits them to threads."""

    def __init__(self):
        self.indexes: dict[str, str] = {}  # task run id -> its index
        self.mapping: set[str] = set()  # the task keys whose `.map()` has not returned yet

    def watch(self, task) -> None:
        original = task.map

        def map_(*args, **kwargs):
            self.mapping.add(task.task_key)
            try:
                futures = original(*args, **kwargs)
                for index, future in enumerate(futures):
                    self.indexes[str(future.task_run_id)] = str(index)
            finally:
                self.mapping.discard(task.task_key)
            return futures

        task.map = map_


class Watcher(threading.Thread):
    """Polls the local API's task runs (the only flow run of a fresh database) and reports changes."""

    def __init__(self, names: dict[str, str], order: MapOrder):
        super().__init__(daemon=True)
        self.names = names  # task_key -> task id
        self.order = order
        self.seen: dict[str, tuple[str, int]] = {}
        self.done = threading.Event()

    def run(self) -> None:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            while not self.done.wait(POLL_SECONDS):
                self.poll(client)

    def read(self, client) -> list:
        try:
            runs, page = [], None
            while page is None or len(page) == PAGE:  # the API returns at most PAGE at a time
                page = client.read_task_runs(limit=PAGE, offset=len(runs))
                runs += page
            return runs
        except Exception:  # noqa: BLE001 - the API may be busy for a moment: next poll (the log says why)
            traceback.print_exc()
            return []

    def poll(self, client) -> list:
        """Report what changed since the last poll, in the order it happened: task run states
        reach the API as events, late and in batches."""
        runs = sorted(self.read(client), key=lambda run: (run.created is None, run.created or 0))
        changes = []
        for run in runs:
            changes += self.changes(run, _state(run))
        for _, event in sorted(changes, key=lambda change: change[0]):
            send(EVENT, event)
        return runs

    def identity(self, run) -> tuple[str, str | None] | None:
        """The task id and, for a run of `.map()`, its index; None while that `.map()` has not
        returned (its index comes then: the run is reported at a later poll)."""
        task, key = self.names.get(run.task_key, run.task_key), str(run.id)
        if key in self.order.indexes:
            return task, self.order.indexes[key]
        if run.task_key in self.order.mapping:
            return None
        return task, None

    def changes(self, run, state: str | None) -> list[tuple[float, dict]]:
        key = str(run.id)
        tries = max(run.run_count or 0, 1)
        before = self.seen.get(key)
        identity = self.identity(run)
        if state is None or before == (state, tries) or identity is None:
            return []
        task, instance = identity
        when = run.state.timestamp.timestamp() if run.state and run.state.timestamp else time.time()
        # What the polls missed (the API is late, a try may be quicker than a poll): the earlier
        # tries' start and retry, this try's start.
        last_state, last_try = before or (None, 0)
        found = []
        while last_try < tries:
            if last_try >= 1 and last_state != "retried":
                if last_state != "started":
                    found.append((when, _event(task, instance, "started", last_try, when)))
                found.append((when, _event(task, instance, "retried", last_try, when)))
            last_state, last_try = None, last_try + 1
        if state in ("succeeded", "failed", "retried") and last_state != "started":
            started = run.start_time.timestamp() if run.start_time and state != "retried" and tries == 1 else when
            found.append((min(started, when), _event(task, instance, "started", tries, min(started, when))))
        if state != last_state:
            found.append((when, _event(task, instance, state, tries, when)))
        self.seen[key] = (state, tries)
        return found


def _state(run) -> str | None:
    if run.state_name in RETRYING:
        return "retried"
    kind = run.state_type.value if run.state_type else None
    if kind == "RUNNING":
        return "started"
    return FINAL_TYPES.get(kind)


def _event(task: str, instance, state: str, tries: int, when: float) -> dict:
    return {"task": task, "instance": instance, "state": state, "try": tries, "time": when}


def main(argv: list[str]) -> int:
    module_path, flow_name, params, log_file = argv[0], argv[1], json.loads(argv[2]), argv[3]
    redirect_output(log_file)
    stop_on_sigterm()
    try:
        from prefect import Task
        from prefect.client.orchestration import get_client

        _claim_server_port()
        module = load_module(module_path, "dagshift_generated_flow")
        flow = _flow_of(module, flow_name)
        tasks = [value for value in vars(module).values() if isinstance(value, Task)]
        names = {task.task_key: task.name for task in tasks}
        returned: dict = {}
        _keep_returns(tasks, returned)
        order = MapOrder()
        for task in tasks:
            order.watch(task)
        with get_client(sync_client=True) as client:  # starts the local API before the watcher polls it
            client.hello()
    except Exception as error:  # noqa: BLE001 - reported as the run's error
        traceback.print_exc()
        send(SUMMARY, {"state": "error", "error": f"{type(error).__name__}: {error}", "tasks": []})
        return 1
    watcher = Watcher(names, order)
    watcher.start()
    error, state = None, "failed"
    try:
        result = flow(**params, return_state=True)
        state = "success" if result.is_completed() else "failed"
    except Exception as raised:  # noqa: BLE001 - a call Prefect refuses before any flow run exists
        traceback.print_exc()
        error = f"{type(raised).__name__}: {raised}"
    watcher.done.set()
    watcher.join()
    tasks, values = [], []
    with get_client(sync_client=True) as client:
        deadline, runs = time.monotonic() + 30, []
        while time.monotonic() < deadline:  # task run states reach the API a moment after the flow ends
            runs = watcher.poll(client)
            if all(_state(run) in ("succeeded", "failed") or run.state_name == "NotReady" for run in runs):
                break
            time.sleep(POLL_SECONDS)
        for run in runs:
            task, instance = watcher.identity(run) or (names.get(run.task_key, run.task_key), None)
            final = _state(run)
            seconds = run.total_run_time.total_seconds() if run.total_run_time else None
            tasks.append({"task": task, "instance": instance, "state": final if final != "started" else "failed",
                          "tries": run.run_count or 0, "seconds": seconds} if final else
                         {"task": task, "instance": instance, "state": "not_run", "tries": 0, "seconds": None})
            if str(run.id) in returned:
                values.append({"task": task, "instance": instance, "value": returned[str(run.id)]})
    send(SUMMARY, {"state": "error" if error else state, "error": error, "tasks": tasks, "returned": values})
    return 0 if state == "success" and not error else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
