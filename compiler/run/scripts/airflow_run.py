"""Runs inside the Airflow interpreter (never imported by dagshift): one dag.test() of a compiled
DAG file, reporting every task instance's state change as it happens.

    python airflow_run.py DAG_FILE DAG_ID RUN_CONF_JSON LOG_FILE

DAG_ID "" runs the file's only DAG (a DAG file a user wrote, whose id dagshift did not choose).

AIRFLOW_HOME (an empty throwaway folder) and AIRFLOW__CORE__DAGS_FOLDER are set by the caller.
Standard output carries only the protocol (compiler/run/events.py): one `DAGSHIFT-EVENT {json}`
line per state change and a last `DAGSHIFT-SUMMARY {json}` line (with each task instance's return
value, its `return_value` XCom); everything else Airflow and the tasks print goes to LOG_FILE.
Standard library, Airflow and _protocol.py only: both are copied together and this one is run by
path.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from pathlib import Path

from _protocol import EVENT, SUMMARY, redirect_output, send, stop_on_sigterm

POLL_SECONDS = 0.2
# Airflow's states as the protocol's (a state missing here is not reported until it settles).
STATES = {"running": "started", "up_for_retry": "retried", "success": "succeeded", "failed": "failed",
          "skipped": "skipped", "upstream_failed": "not_run", "removed": "not_run"}
FINAL = {"succeeded", "failed", "skipped", "not_run"}


class Watcher(threading.Thread):
    """Polls the run's task instances (dag.test() runs them in this process) and reports changes."""

    def __init__(self, dag_id: str):
        super().__init__(daemon=True)
        self.dag_id = dag_id
        self.seen: dict[tuple[str, int], tuple[str, int]] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(POLL_SECONDS):
            self.poll()

    def poll(self) -> list:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session

        try:
            with create_session() as session:
                rows = session.query(TaskInstance).filter(TaskInstance.dag_id == self.dag_id).all()
                instances = [(ti.task_id, ti.map_index, _state(ti.state), ti.try_number or 0,
                              ti.start_date, ti.end_date) for ti in rows]
        except Exception:  # noqa: BLE001 - the database may be busy for a moment: next poll
            return []
        # Ends before starts: a task that started in this poll came after those that ended in it.
        for task_id, map_index, state, try_number, _, _ in sorted(instances,
                                                                 key=lambda i: STATES.get(i[2]) == "started"):
            self.report(task_id, map_index, STATES.get(state), try_number)
        return instances

    def report(self, task_id: str, map_index: int, state: str | None, try_number: int) -> None:
        key = (task_id, map_index)
        before = self.seen.get(key)
        if state is None or before == (state, try_number):
            return
        if before is not None and before[0] in FINAL and state == before[0]:
            return
        # What the polls missed (a try may be quicker than a poll): the earlier tries' start and
        # retry, this try's start.
        last_state, last_try = before or (None, 0)
        while last_try < try_number:
            if last_try >= 1 and last_state != "retried":
                if last_state != "started":
                    send(EVENT, _event(task_id, map_index, "started", last_try))
                send(EVENT, _event(task_id, map_index, "retried", last_try))
            last_state, last_try = None, last_try + 1
        if state in ("succeeded", "failed", "retried") and last_state != "started":
            send(EVENT, _event(task_id, map_index, "started", try_number))
        self.seen[key] = (state, try_number)
        if state != last_state:
            send(EVENT, _event(task_id, map_index, state, try_number))


def _event(task_id: str, map_index: int, state: str, try_number: int) -> dict:
    return {"task": task_id, "map_index": map_index, "state": state, "try": max(try_number, 1), "time": time.time()}


def _state(state) -> str | None:
    return None if state is None else str(getattr(state, "value", state))


def _init_database() -> None:
    from airflow.utils import db

    db.initdb()


def _load_dag(dag_file: str, dag_id: str):
    from airflow.dag_processing.dagbag import BundleDagBag

    path = Path(dag_file).resolve()
    bag = BundleDagBag(dag_folder=str(path), bundle_path=path.parent)
    if bag.import_errors:
        raise RuntimeError("Airflow cannot import the DAG file: " + "; ".join(map(str, bag.import_errors.values())))
    if not dag_id and len(bag.dag_ids) == 1:
        dag_id = bag.dag_ids[0]
    dag = bag.get_dag(dag_id) if dag_id else None
    if dag is None:
        found = ", ".join(sorted(bag.dag_ids)) or "none"
        wanted = f"no DAG {dag_id!r}" if dag_id else "not exactly one DAG"
        raise RuntimeError(f"{wanted} in the file (its DAGs: {found})")
    return dag


def _returned(dag_id: str) -> list[dict]:
    """Each task instance's return value (its `return_value` XCom), as the engine kept it."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter(XComModel.dag_id == dag_id, XComModel.key == "return_value").all()
        return [{"task": row.task_id, "map_index": row.map_index, "value": XComModel.deserialize_value(row)}
                for row in rows]


def main(argv: list[str]) -> int:
    dag_file, dag_id, conf, log_file = argv[0], argv[1], json.loads(argv[2]), argv[3]
    redirect_output(log_file)
    stop_on_sigterm()
    try:
        _init_database()
        dag = _load_dag(dag_file, dag_id)
    except Exception as error:  # noqa: BLE001 - reported as the run's error
        traceback.print_exc()
        send(SUMMARY, {"state": "error", "error": f"{type(error).__name__}: {error}", "tasks": []})
        return 1
    dag_id = dag.dag_id
    watcher = Watcher(dag_id)
    watcher.start()
    error = None
    state = "failed"
    try:
        run = dag.test(run_conf=conf or None)
        state = _state(run.state)
    except Exception as raised:  # noqa: BLE001 - e.g. a conf the params reject: the run never started
        traceback.print_exc()
        error = f"{type(raised).__name__}: {raised}"
    watcher.done.set()
    watcher.join()
    tasks = []
    for task_id, map_index, ti_state, try_number, start, end in sorted(watcher.poll()):
        seconds = (end - start).total_seconds() if start and end else None
        tasks.append({"task": task_id, "map_index": map_index, "state": STATES.get(ti_state, "not_run"),
                      "tries": try_number if ti_state not in (None, "upstream_failed", "removed") else 0,
                      "seconds": seconds})
    try:
        returned = _returned(dag_id)
    except Exception:  # noqa: BLE001 - the values are extra: the run's outcome stands without them
        traceback.print_exc()
        returned = []
    send(SUMMARY, {"state": "error" if error else state, "error": error, "tasks": tasks, "returned": returned})
    return 0 if state == "success" and not error else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
