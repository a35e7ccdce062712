"""`default_args`: the settings most of a DAG's tasks share, written once.

Each task states, per setting it cares about, the code of its value or AIRFLOW_DEFAULT (it wants
what Airflow does without the setting); a setting a task does not care about (a retry delay of a
task that never retries, a BashOperator's `cwd` for a TaskFlow task) is absent. The value most of
the caring tasks want goes to `default_args`; a task that wants something else says so itself,
with RESET restoring Airflow's default where it wants that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

AIRFLOW_DEFAULT = None
# Setting -> the code that restores Airflow's own default on one task (3.3: BaseOperator, BashOperator).
RESET = {
    "retries": "0",
    "retry_delay": "timedelta(seconds=300)",
    "retry_exponential_backoff": "0.0",
    "max_retry_delay": "None",
    "execution_timeout": "None",
    "pool": "None",
    "weight_rule": '"downstream"',
    "on_failure_callback": "None",
    "on_retry_callback": "None",
    "on_success_callback": "None",
    "env": "None",
    "do_xcom_push": "True",
}
SHARED = tuple(RESET)  # the order they appear in default_args


def shared_settings(tasks: list[Mapping[str, str | None]]) -> dict[str, str]:
    """Setting -> code, for each setting whose most wanted value (the first one wanted, among
    equals) is not Airflow's default."""
    shared = {}
    for key in SHARED:
        wanted = [settings[key] for settings in tasks if key in settings]
        if not wanted:
            continue
        counts = Counter(wanted)
        value = max(counts, key=lambda v: (counts[v], -wanted.index(v)))
        if value is not AIRFLOW_DEFAULT:
            shared[key] = value
    return shared


def own_settings(settings: Mapping[str, str | None], shared: Mapping[str, str]) -> list[tuple[str, str]]:
    """(keyword, code) a task writes itself given the shared settings."""
    own = []
    for key, value in settings.items():
        if key in shared:
            if value != shared[key]:
                own.append((key, RESET[key] if value is AIRFLOW_DEFAULT else value))
        elif value is not AIRFLOW_DEFAULT:
            own.append((key, value))
    return own
