"""Prefect 3 backend: a flow module (`<name>.py`) and its deployment file (`prefect.yaml`).

Each task is a `@task` function that runs its own command or calls its own function with the
arguments it reads (tasks.py). The flow calls the tasks that run one after the other and
submits those that can run side by side (plan.py, flow.py); a pipeline that
structure cannot hold gets the general form (generic.py). Only the helpers, imports and
module state the tasks use are written. Schedules, triggers and the run concurrency limit go to
prefect.yaml. Details: docs/backends/prefect.md.
"""

from __future__ import annotations

from pathlib import PurePath

from compiler.backends.base import Backend, EmitContext, TaskCost, emulated, native, unsupported
from compiler.language.features import Feature
from compiler.language.ir import Pipeline
from compiler.language.naming import module_stem
from compiler.output import emit

from .conventions import DEPLOYMENT_FILE
from .deployment import deployment
from .limits import LIMITS, PARAM_NAME, START_DATE
from .module import ModuleWriter

# Param names a Prefect flow cannot take (checked on prefect 3.9.1 / pydantic 2): Prefect reserves
# `return_state` and `wait_for` (ReservedArgumentError at import), `self` clashes with
# Flow.__call__, `self` and `cls` are left out of the parameter schema (so never validated nor
# shown), and flow parameters are pydantic fields, which cannot start with '_' nor shadow
# BaseModel's `model_*` attributes.
_RESERVED_PARAMS = frozenset({
    "return_state", "wait_for", "self", "cls",
    "model_computed_fields", "model_config", "model_construct", "model_copy", "model_dump", "model_dump_json",
    "model_extra", "model_fields", "model_fields_set", "model_json_schema", "model_parametrized_name",
    "model_post_init", "model_rebuild", "model_validate", "model_validate_json", "model_validate_strings",
})


class PrefectBackend(Backend):
    name = "prefect"
    title = "Prefect 3"
    cost = TaskCost(0.1, "each task run reports its states to the Prefect API")
    render_weight = 3.6
    capabilities = {
        Feature.SHELL: emulated("a @task running the command through subprocess, output streamed to the log"),
        Feature.PYTHON: native("a @task calling the function (in a child process when it has env or a timeout)"),
        Feature.CONTAINER: unsupported(
            "Prefect runs containers per flow run, not per task: put the image on a Docker/Kubernetes work "
            "pool (job_variables.image) and make the task a shell command, or call run_deployment()"),
        Feature.PYTHON_IN_IMAGE: unsupported("set the image on the deployment's work pool; drop `image` here"),
        Feature.NOOP: native("a @task that returns nothing"),
        Feature.ORDER_EDGE: native("calls in order, or wait_for"),
        Feature.ARTIFACTS: emulated("files at their paths under the working directory"),
        Feature.VALUE_OUTPUTS: native("task results passed as task arguments"),
        Feature.PARAMS: native("flow parameters with type hints (Literal for enums, Field for bounds and descriptions)"),
        Feature.SCHEDULE: native("prefect.yaml deployment schedules (cron + timezone)"),
        Feature.CATCHUP: unsupported(
            "Prefect has no catchup: backfill with run_deployment(name, scheduled_time=...) in a loop"),
        Feature.DATA_TRIGGER: emulated(
            "a deployment event trigger on `dagshift.artifact.updated` for the artifact; emit it when data lands"),
        Feature.MANUAL_TRIGGER: native("a deployment without schedules"),
        Feature.CONTINUOUS_TRIGGER: emulated("a deployment trigger on its own flow run completing"),
        Feature.RETRIES: native("retries, retry_delay_seconds"),
        Feature.RETRY_BACKOFF: native("retry_delay_seconds as the list of growing delays"),
        Feature.RETRY_MAX_DELAY: native("delays capped in the retry_delay_seconds list"),
        Feature.TIMEOUT: native("timeout_seconds"),
        Feature.PIPELINE_TIMEOUT: native("flow timeout_seconds"),
        Feature.CONDITION: native("a plain Python if over the upstream results"),
        Feature.TRIGGER_RULE: native("upstream states checked in the flow before the task runs"),
        Feature.STATIC_FAN_OUT: native(".map over the list"),
        Feature.DYNAMIC_FAN_OUT: native(".map over the upstream result"),
        Feature.FAN_IN: native("the list of the mapped task's results"),
        Feature.MAX_PARALLEL: emulated("a semaphore the mapped runs hold while they run"),
        Feature.ENV: native("the command's environment (a child process for python tasks)"),
        Feature.SECRETS: native("a JSON Secret block `name`, field `key`, read at run time"),
        Feature.RESOURCES: unsupported("resources belong to the work pool (job_variables), not to a task"),
        Feature.GPU: unsupported("GPUs belong to the work pool's base job template, not to a task"),
        Feature.CACHE: native("cache_policy=INPUTS + TASK_SOURCE, cache_expiration"),
        Feature.POOL: emulated("a task tag; limit it with `prefect concurrency-limit create TAG N`"),
        Feature.MAX_ACTIVE_TASKS: native("ThreadPoolTaskRunner(max_workers)"),
        Feature.MAX_ACTIVE_RUNS: native("deployment concurrency_limit in prefect.yaml"),
        Feature.PIPELINE_ALERTS: native("flow on_failure hook"),
        Feature.TASK_ALERTS: native("task on_failure hook"),
        Feature.RETRY_ALERTS: unsupported("Prefect has no retry hook: alert from the command, or use Automations"),
        Feature.SUCCESS_ALERTS: native("on_completion hook"),
        Feature.WORKDIR: native("the flow runs its tasks in it"),
        Feature.OWNER: unsupported("Prefect has no owner: name it in the description or a tag"),
        Feature.TAGS: native("deployment tags in prefect.yaml"),
        Feature.PRIORITY: unsupported("Prefect task runners have no priority: order the work in the flow"),
    }
    limits = LIMITS

    def render(self, pipeline: Pipeline, ctx: EmitContext) -> dict[str, str]:
        if not _checked(pipeline, ctx):
            return {}
        module = f"{module_stem(pipeline.name)}.py"
        writer = ModuleWriter(pipeline, ctx, PurePath(ctx.source_name).name, module)
        source = writer.render()
        body = emit.to_yaml(deployment(pipeline, f"{module}:{writer.flow_function}", ctx.report))
        text = emit.render("prefect", "prefect.yaml.j2", name=pipeline.name, body=body)
        emit.parse_yaml(text, DEPLOYMENT_FILE)
        return {module: emit.format_python(source, module), DEPLOYMENT_FILE: text}


def _checked(pipeline: Pipeline, ctx: EmitContext) -> bool:
    before = len(ctx.diagnostics.errors)
    for name in pipeline.params:
        if name.startswith("_") or name in _RESERVED_PARAMS:
            PARAM_NAME.diagnose(ctx.report, f"Prefect backend: a flow parameter cannot be named '{name}' (Prefect "
                                            "reserves it, or pydantic does not allow it as a field name)",
                                ("params", name), at_key=True)
    schedule = pipeline.schedule
    if schedule is not None and schedule.start_date is not None:
        START_DATE.diagnose(ctx.report, "Prefect cron schedules have no start date: start_date is not used",
                            ("schedule", "start_date"), at_key=True)
    return len(ctx.diagnostics.errors) == before
