"""How an id of the pipeline file becomes a name on each target.

Task ids may use letters, digits, '-' and '_'. The mapping is fixed and documented, so the same id
gives the same name on every run:
- Python identifiers (Prefect and Kubeflow functions, variables): '-' -> '_', keywords get a '_';
- DNS-1123 labels (Argo template and task names): lower case, '_' -> '-';
- Airflow task_id / DAG id: the id itself.
Two ids that map to the same name on any target are a collision, which validation reports.
"""

from __future__ import annotations

import keyword
import re
import sys

MAX_ID_LENGTH = 63
# \Z, not $: `$` also matches before a final newline, and "p\n" is no name on any target.
ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\Z")
IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
# What every target can look a secret up by: a Kubernetes Secret's name and data key (Argo,
# Kubeflow, Airflow's pods) and a Prefect block's name (lowercase letters, digits, dashes).
SECRET_NAME_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,251}[a-z0-9])?\Z")
SECRET_KEY_PATTERN = re.compile(r"[-._a-zA-Z0-9]{1,253}\Z")
# Fixed here rather than taken from `keyword.softkwlist`, which grows with the Python version
# (3.12 added `type`): the same id must give the same name whichever Python runs the compiler.
SOFT_KEYWORDS = frozenset({"_", "case", "match", "type"})


def python_name(task_id: str) -> str:
    name = task_id.replace("-", "_")
    return name + "_" if keyword.iskeyword(name) or name in SOFT_KEYWORDS else name


# Packages a generated file or the engine that runs it imports, besides the standard library: a
# file of that name next to the generated one would be imported instead (`python kfp.py`).
ENGINE_MODULES = frozenset({"airflow", "compiler", "dagshift", "docker", "kfp", "kubernetes", "pendulum", "prefect",
                            "pydantic", "yaml"})


def module_stem(pipeline_name: str) -> str:
    """The file name (without .py) of a generated Python module: the pipeline's Python name, with
    `_pipeline` added when that would shadow a module the file, its engine or Python imports."""
    stem = python_name(pipeline_name)
    shadows = stem in sys.stdlib_module_names or stem in ENGINE_MODULES
    return f"{stem}_pipeline" if shadows else stem


def dns_name(task_id: str) -> str:
    return task_id.lower().replace("_", "-")


def airflow_id(task_id: str) -> str:
    return task_id


TARGET_NAMES = {
    "Python identifier": python_name,
    "DNS-1123 name (Argo)": dns_name,
}


def id_problem(task_id: str) -> str | None:
    """Why an id cannot be used on every target, or None."""
    if not task_id:
        return "an id cannot be empty"
    if len(task_id) > MAX_ID_LENGTH:
        return f"'{task_id[:20]}...' is {len(task_id)} characters long; ids are limited to {MAX_ID_LENGTH} (Kubernetes names)"
    if not task_id[0].isascii() or not task_id[0].isalpha():
        return f"'{task_id}' does not start with a letter, as names on every target must"
    if not ID_PATTERN.match(task_id):
        return f"'{task_id}' has characters that are not valid in names on every target"
    if task_id[-1] in "-_":
        return f"'{task_id}' ends with '{task_id[-1]}'; Argo (DNS-1123) names must end with a letter or digit"
    return None


def suggest_id(task_id: str) -> str:
    """A valid id close to an invalid one, for the help line."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", task_id).strip("-_")
    if not name or not name[0].isalpha():
        name = "t_" + name
    return name[:MAX_ID_LENGTH].rstrip("-_")


def identifier_problem(name: str) -> str | None:
    """Why a param/artifact/output name is not usable as a Python identifier on every target."""
    if not IDENTIFIER_PATTERN.match(name):
        return f"'{name}' is not an identifier (letters, digits and '_', not starting with a digit)"
    if keyword.iskeyword(name):
        return f"'{name}' is a Python keyword"
    return None
