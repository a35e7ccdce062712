"""What the injection tests of Airflow and Prefect (test_airflow_injection.py,
test_prefect_injection.py) expect the compile to refuse in a drawn pipeline: the documented limits
every target shares (docs/pipeline-syntax.md "Limits", "Alerts"), then what the engine itself
cannot take, given by each test. A case is an injection_cases.PipelineCase.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from compiler.language.naming import dns_name, python_name
from compiler.language.placeholders import parse as parse_placeholders

# The documented id rule (docs/pipeline-syntax.md, compiler/language/naming.py): a letter, then letters,
# digits, '-' and '_'; at most 63 characters; not ending in '-' or '_'.
VALID_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")

# The documented secret limits (docs/pipeline-syntax.md, E115): a name a Kubernetes Secret and a
# Prefect block both take, a key a Kubernetes Secret can hold.
PORTABLE_SECRET_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,251}[a-z0-9])?")
PORTABLE_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]{1,253}")
secret_names = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
secret_keys = st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True)

Refusals = set[tuple[str, str]]  # (code, YAML path) of each error
ARTIFACT = "a"  # the name of a case's artifact


def ids_are_valid(case: Any) -> bool:
    """The documented rules: each id well formed, and no two the same on any target (Python
    name, DNS name)."""
    ids = [t.task_id for t in case.tasks]
    if not all(VALID_ID.fullmatch(i) and i[-1] not in "-_" for i in ids):
        return False
    return all(len({f(i) for i in ids}) == len(ids) for f in (lambda i: i, python_name, dns_name))


def path_is_refused(path: str) -> bool:
    """The documented limit (E218): a path is not empty, `/` or the working directory itself."""
    return not path.strip() or posixpath.normpath(path).strip("/") in ("", ".")


def alert_is_literal(command: str) -> bool:
    """Alerts take no placeholders (E107): no `${{` but in the escape `$${{`, which the alert reads
    as `${{` (docs/pipeline-syntax.md)."""
    segments, errors = parse_placeholders(command)
    return not errors and all(isinstance(s, str) for s in segments)


def validation_refusals(case: Any) -> Refusals:
    """What validation refuses, whatever the target."""
    refused = set()
    if case.artifact is not None and path_is_refused(case.artifact[0]):
        refused.add(("E218", f"artifacts.{ARTIFACT}.path"))
    for task in case.tasks:
        if task.output_path is not None and path_is_refused(task.output_path):
            refused.add(("E218", f"tasks.{task.task_id}.outputs.o.path"))
        if task.secret is not None:
            name, key = task.secret
            where = f"tasks.{task.task_id}.secrets.S"
            refused |= {("E115", f"{where}.name")} if not PORTABLE_SECRET_NAME.fullmatch(name) else set()
            refused |= {("E115", f"{where}.key")} if not PORTABLE_SECRET_KEY.fullmatch(key) else set()
    if case.alert is not None and not alert_is_literal(case.alert):
        refused.add(("E107", "alerts[0].command"))
    if case.trigger_uri is not None and not case.trigger_uri.strip():
        refused.add(("E109", "triggers[0].uri"))
    return refused


def refusals(case: Any, engine_refusals: Callable[[Any], Refusals]) -> Refusals:
    """Each error the compile must report for the case's texts: what validation refuses, else
    (the backend runs only on a valid pipeline) what the engine cannot take."""
    refused = validation_refusals(case)
    if refused or not ids_are_valid(case):
        return refused
    return engine_refusals(case)
