"""Run policies: secrets, retries, schedule, alerts."""

from __future__ import annotations

import re

from compiler.language import placeholders
from compiler.language.references import task_texts

from .context import PassContext

# Env var names that hold credentials, and value shapes of well-known credentials.
# The word must not run on into a longer word: MAX_TOKENS, TOKENIZERS_PARALLELISM (common in ML
# pipelines) and GOOGLE_APPLICATION_CREDENTIALS (a file path) are not credentials.
_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)(?![A-Za-z])",
                          re.I)
_SECRET_VALUE = re.compile(
    r"(AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{30,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|sk-[A-Za-z0-9_-]{20,}"  # OpenAI-style keys
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)
_SECRET_HELP = (
    "never put secret values in the pipeline file; reference them: "
    "`secrets: {{{name}: {{name: my-secret, key: {key}}}}}` (a Kubernetes Secret, Airflow connection, Prefect block...)"
)


def no_literal_secrets(ctx: PassContext) -> None:
    pipeline = ctx.pipeline
    scopes = [(("defaults",), pipeline.defaults)] + [(("tasks", tid), t) for tid, t in pipeline.tasks.items()]
    for prefix, scope in scopes:
        for name, value in scope.env.items():
            literal = "".join(s for s in placeholders.parse(value)[0] if isinstance(s, str)).strip()
            if _SECRET_NAME.search(name) and literal:
                ctx.report.error("E206", f"env var '{name}' looks like a secret but has a literal value",
                                 (*prefix, "env", name), help=_SECRET_HELP.format(name=name, key=name.lower()))
            elif _SECRET_VALUE.search(value):
                ctx.report.error("E206", f"env var '{name}' holds what looks like a credential",
                                 (*prefix, "env", name), help=_SECRET_HELP.format(name=name, key=name.lower()))
    for task_id, task in pipeline.tasks.items():
        for relative, text in task_texts(task):
            if relative[0] != "env" and _SECRET_VALUE.search(text):
                ctx.report.error("E206", f"task '{task_id}' has what looks like a credential in its "
                                         f"{relative[0]}", ("tasks", task_id, *relative),
                                 help=_SECRET_HELP.format(name="API_TOKEN", key="token")
                                 + " and read it from the environment")
    for name, param in pipeline.params.items():
        if isinstance(param.default, str) and _SECRET_VALUE.search(param.default):
            ctx.report.error("E206", f"param '{name}' has what looks like a credential as its default",
                             ("params", name), help=_SECRET_HELP.format(name=name.upper(), key=name))


def retry_settings_are_consistent(ctx: PassContext) -> None:
    pipeline = ctx.pipeline
    scopes = [(("defaults",), pipeline.defaults)] + [(("tasks", tid), t) for tid, t in pipeline.tasks.items()]
    for prefix, scope in scopes:
        if scope.retry_delay is not None and scope.retry_max_delay is not None:
            if scope.retry_max_delay < scope.retry_delay:
                ctx.report.error("E209", "retry_max_delay is shorter than retry_delay", (*prefix, "retry_max_delay"),
                                 help="retry_max_delay caps the growing delay; make it at least retry_delay")
    for task_id in pipeline.tasks:
        task = pipeline.resolved(task_id)
        own = pipeline.tasks[task_id].model_fields_set & {"retry_delay", "retry_max_delay"}
        if len(own) == 1 and task.retry_delay is not None and task.retry_max_delay is not None:
            # One of the two comes from `defaults` (both own or both inherited: reported above).
            if task.retry_max_delay < task.retry_delay:
                key = own.pop()
                ctx.report.error("E209", f"retry_max_delay is shorter than retry_delay for task '{task_id}' "
                                         "(one of them comes from `defaults`)", ("tasks", task_id, key),
                                 help="retry_max_delay caps the growing delay; make it at least retry_delay")
        if not task.retries:
            for key in ("retry_delay", "retry_backoff", "retry_max_delay"):
                if key in pipeline.tasks[task_id].model_fields_set:
                    ctx.report.warning("W209", f"task '{task_id}' sets `{key}` but has no retries",
                                       ("tasks", task_id, key), at_key=True, help="add `retries: N`")


def schedule_is_complete(ctx: PassContext) -> None:
    schedule = ctx.pipeline.schedule
    if schedule is not None and schedule.catchup and schedule.start_date is None:
        ctx.report.error("E210", "catchup needs a start_date to catch up from", ("schedule", "catchup"),
                         help="add `start_date: 2025-01-01` to the schedule, or set catchup: false")


def alerts_are_runnable(ctx: PassContext) -> None:
    pipeline = ctx.pipeline
    scopes = [(("alerts",), pipeline.alerts), (("defaults", "alerts"), pipeline.defaults.alerts)]
    scopes += [(("tasks", tid, "alerts"), t.alerts) for tid, t in pipeline.tasks.items()]
    for prefix, alerts in scopes:
        for index, alert in enumerate(alerts):
            path = (*prefix, index)
            if (alert.command is None) == (alert.python is None):
                ctx.report.error("E208", "an alert runs exactly one of `command` or `python`", path,
                                 help='e.g. {on: failure, command: "echo failed >> alerts.log"}')
            if alert.args is not None and alert.python is None:
                ctx.report.error("E208", "alert `args` need `python`", (*path, "args"), at_key=True)
