"""Runs inside the Airflow engine venv (never imported by the test process itself).

    python airflow_runner.py import DAG_FOLDER
    python airflow_runner.py test DAG_FOLDER DAG_ID [RUN_CONF_JSON]

`import` prints {"dags": [...], "import_errors": {...}} for the folder; `test` runs the DAG with
dag.test() and prints the run state and every task instance's state and try number, as JSON on
the last line of stdout. AIRFLOW_HOME (with a migrated SQLite DB) and AIRFLOW__CORE__DAGS_FOLDER
are set by the caller.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _bag(folder: str):
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=folder, bundle_path=Path(folder).resolve())


def _state(state) -> str | None:
    return None if state is None else str(getattr(state, "value", state))


def main(argv: list[str]) -> int:
    command, folder = argv[0], argv[1]
    bag = _bag(folder)
    if command == "import":
        result = {"dags": sorted(bag.dag_ids), "import_errors": {str(k): v for k, v in bag.import_errors.items()}}
        print(json.dumps(result))
        return 0
    dag_id = argv[2]
    conf = json.loads(argv[3]) if len(argv) > 3 else {}
    if bag.import_errors:
        print(json.dumps({"import_errors": {str(k): v for k, v in bag.import_errors.items()}}))
        return 1
    dag = bag.get_dag(dag_id)
    run = dag.test(run_conf=conf or None)
    tasks = [
        {"task_id": ti.task_id, "map_index": ti.map_index, "state": _state(ti.state),
         "try_number": ti.try_number}
        for ti in sorted(run.get_task_instances(), key=lambda ti: (ti.task_id, ti.map_index))
    ]
    print(json.dumps({"state": _state(run.state), "tasks": tasks}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
