"""Ids and names that must be valid on every target."""

from __future__ import annotations

import keyword
import re

from compiler.language import naming

from .context import PassContext


def ids_are_portable(ctx: PassContext) -> None:
    """Pipeline name and task ids: valid everywhere, and no two ids collide once mapped."""
    pipeline = ctx.pipeline
    problem = naming.id_problem(pipeline.name)
    if problem:
        ctx.report.error("E110", f"pipeline name: {problem}", ("name",),
                         help=f"use '{naming.suggest_id(pipeline.name)}'")
    if not pipeline.tasks:
        ctx.report.error("E215", "the pipeline has no tasks", ("tasks",),
                         help="add at least one task, e.g. `hello: {command: echo hello}`")
    seen: dict[str, dict[str, str]] = {target: {} for target in naming.TARGET_NAMES}
    for task_id in pipeline.tasks:
        problem = naming.id_problem(task_id)
        if problem:
            ctx.report.error("E110", f"task id {problem}", ("tasks", task_id), at_key=True,
                             help=f"use '{naming.suggest_id(task_id)}' (letters, digits, '-' and '_')")
            continue
        for target, mapping in naming.TARGET_NAMES.items():
            mapped = mapping(task_id)
            other = seen[target].setdefault(mapped, task_id)
            if other != task_id:
                ctx.report.error(
                    "E111",
                    f"task ids '{other}' and '{task_id}' both become '{mapped}' as a {target}",
                    ("tasks", task_id),
                    at_key=True,
                    help="rename one of them; ids that differ only in case, '-' or '_' collide on some targets",
                )
                break


def names_are_identifiers(ctx: PassContext) -> None:
    """Params, artifacts and value outputs become function parameters and variables."""
    pipeline = ctx.pipeline
    for section in ("params", "artifacts"):
        for name in getattr(pipeline, section):
            problem = naming.identifier_problem(name)
            if problem:
                ctx.report.error("E112", f"{section[:-1]} name {problem}", (section, name), at_key=True,
                                 help=f"use '{_suggest_identifier(name)}'")
    for task_id, task in pipeline.tasks.items():
        for name in task.outputs:
            problem = naming.identifier_problem(name)
            if problem:
                ctx.report.error("E112", f"output name {problem}", ("tasks", task_id, "outputs", name),
                                 at_key=True, help=f"use '{_suggest_identifier(name)}'")


def env_names_are_names(ctx: PassContext) -> None:
    """Environment variable names (env and secrets): what every shell and Kubernetes accept."""
    policies = [(("defaults",), ctx.pipeline.defaults)]
    policies += [(("tasks", task_id), task) for task_id, task in ctx.pipeline.tasks.items()]
    for where, policy in policies:
        for section in ("env", "secrets"):
            for name in getattr(policy, section):
                if not naming.IDENTIFIER_PATTERN.match(name):
                    ctx.report.error("E113", f"env var name {name!r} is not a name a shell can set",
                                     (*where, section, name), at_key=True,
                                     help=f"use letters, digits and '_', not starting with a digit, such as "
                                          f"'{_suggest_env_name(name)}'")


def secrets_are_portable(ctx: PassContext) -> None:
    """Secret references every target can resolve as written."""
    policies = [(("defaults",), ctx.pipeline.defaults)]
    policies += [(("tasks", task_id), task) for task_id, task in ctx.pipeline.tasks.items()]
    for where, policy in policies:
        for env_name, ref in policy.secrets.items():
            if not naming.SECRET_NAME_PATTERN.match(ref.name):
                ctx.report.error("E115", f"secret name {ref.name!r} is not one every target can look up",
                                 (*where, "secrets", env_name, "name"),
                                 help="use lowercase letters, digits and '-', starting and ending with a letter or "
                                      "digit (a Kubernetes Secret and a Prefect block both take it), such as "
                                      f"'{_suggest_secret_name(ref.name)}'")
            if not naming.SECRET_KEY_PATTERN.match(ref.key):
                ctx.report.error("E115", f"secret key {ref.key!r} is not a key a Kubernetes Secret can hold",
                                 (*where, "secrets", env_name, "key"),
                                 help="use letters, digits, '-', '_' and '.' (at most 253)")


def _suggest_secret_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:253].strip("-") or "my-secret"


def _suggest_env_name(name: str) -> str:
    suggestion = re.sub(r"\W+", "_", name, flags=re.ASCII).strip("_") or "NAME"
    return ("_" + suggestion if suggestion[0].isdigit() else suggestion).upper()


def _suggest_identifier(name: str) -> str:
    suggestion = naming.suggest_id(name).replace("-", "_")
    return suggestion + "_" if keyword.iskeyword(suggestion) else suggestion
