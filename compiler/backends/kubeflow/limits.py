"""What Kubeflow Pipelines cannot take although it has the feature: KubeflowBackend.limits, reported by the builder."""

from __future__ import annotations

from compiler.backends.base import Limit

RETRY_ALERT = Limit(
    "retry-alert", "an alert on retry", "a KFP pipeline has no retry event to alert on", "alert on failure or success")
PARAM_NAME = Limit(
    "param-name", "a param named 'dsl', 'kubernetes', 'Output' or starting with '_'",
    "the generated module or kfp uses the name", "rename the param")
DEFAULT_IN_COMMENT = Limit(
    "default-in-comment", "a line break or control character in a param's default",
    "kfp writes param defaults into a YAML comment", "give the text at run time (a run argument) instead")
DESCRIPTION_IN_COMMENT = Limit(
    "description-in-comment", "a control character in the description", "kfp writes the description into a YAML "
    "comment, where it makes the file unreadable", "remove the control characters from it")
LAUNCHER_PLACEHOLDER = Limit(
    "launcher-placeholder", "'{{$' in a param's default or a loop item", "KFP's launcher reads it as its own "
    "placeholder (there is no escape)", "write the text without '{{$'")
DRIVER_PLACEHOLDER = Limit(
    "driver-placeholder", "'{{$' or '$.inputs.parameters[...]' in a task's image or gpu_type", "KFP's driver reads "
    "it as its own placeholder", "write the text without KFP's placeholder syntax")
EMPTY_GPU_TYPE = Limit(
    "empty-gpu-type", "an empty gpu_type", "KFP's driver drops it", "write the Kubernetes name")
OUTPUT_PATH = Limit(
    "output-path", "a value output a shell or container task writes only at its `path:`", "KFP reads a value "
    "output from its own file, the one ${{ outputs.NAME }} names",
    "write the value to ${{ outputs.NAME }}: it names the output's file on every target")
ENV_PLACEHOLDER = Limit(
    "env-placeholder", "a placeholder in an env value", "KFP env values are fixed when compiling",
    "pass the value as part of the command or as a python argument")
CONTAINER_ENTRYPOINT = Limit(
    "container-entrypoint", "container args that mix text and values (or hold '{{'), or a workdir, in a task "
    "with no `command`", "they need sh to run the image's command, and the image's entrypoint is unknown",
    "give the task its `command`, or make each placeholder a whole argument")
ITEM_KEY = Limit(
    "item-key", "an item key that is also an attribute of KFP's loop variable, read by a container task",
    "a container component cannot read it", "rename the key, or make the task a python task (it reads the whole "
    "item)")
NULL_FIRST_ITEM = Limit(
    "null-first-item", "a foreach list starting with null", "kfp types a loop's items by the first one, and null "
    "has no KFP type", "start the list with a value that is not null")
CONDITION_SHAPE = Limit(
    "condition-shape", "a condition with `or`, `not` of a group, or a part that compares no param or upstream value",
    "KFP conditions compare a param or an upstream value with a value", "KFP conditions compare a param or an "
    "upstream value with a value; use `and` of such comparisons (no `or`, no `not` of a group)")
AFTER_JOIN = Limit(
    "after-join", "a task after a join that runs in each branch of a condition", "the join sits in every "
    "branch's dsl.If block", "make it depend on the tasks before the condition, or compile to another target")
MIXED_SCOPES = Limit(
    "mixed-scopes", "a task depending on tasks under different conditions or in a loop", "KFP lets a task read a "
    "conditional task only inside the same dsl.If", "KFP lets a task read a conditional task only inside the same "
    "dsl.If; not mapped yet for this shape")
ELSE_PLACEMENT = Limit(
    "else-placement", "an else branch whose upstream tasks differ from its condition's", "the else block must sit "
    "right after the condition's dsl.If block", "give it the same upstream tasks as the task it mirrors")
NONE_FAILED_SHAPE = Limit(
    "none-failed-shape", "trigger rule none_failed anywhere but a join after one condition's branches",
    "KFP has no such rule: dagshift maps only this shape", "compile to another target, or restructure the join")
ALL_DONE_SHAPE = Limit(
    "all-done-shape", "trigger rule all_done with data edges, or after tasks in conditions or loops",
    "it is ignore_upstream_failure(), and kfp lets such a task read an upstream output only with a default",
    "compile to another target, or drop the data edges of the task")
WATCH_SHAPE = Limit(
    "watch-shape", "one_failed, all_failed or one_success unless the task watches tasks in its own block "
    "(one_failed and one_success: one task)", "the rule is mapped by probing the watched tasks' states, and a "
    "dsl.If has no `or`", "watch one task, in the same block as the fallback, or compile to another target")
SCHEDULE_TIMEZONE = Limit(
    "schedule-timezone", "a schedule's time zone other than UTC", "Kubeflow cron schedules run in the cluster's "
    "time zone, not per pipeline", "set CRON_SCHEDULE_TIMEZONE on the scheduledworkflow controller, or write the "
    "cron in the cluster's time zone", left_out=True)
PARAM_ENUM = Limit(
    "param-enum", "a param's enum (a run may then pass any value)", "Kubeflow Pipelines keeps no list of allowed "
    "values for a param", "check the value in the tasks that read it", left_out=True)

LIMITS = (RETRY_ALERT, PARAM_NAME, DEFAULT_IN_COMMENT, DESCRIPTION_IN_COMMENT, LAUNCHER_PLACEHOLDER,
          DRIVER_PLACEHOLDER, EMPTY_GPU_TYPE, OUTPUT_PATH, ENV_PLACEHOLDER, CONTAINER_ENTRYPOINT, ITEM_KEY,
          NULL_FIRST_ITEM, CONDITION_SHAPE, AFTER_JOIN, MIXED_SCOPES, ELSE_PLACEMENT, NONE_FAILED_SHAPE,
          ALL_DONE_SHAPE, WATCH_SHAPE, SCHEDULE_TIMEZONE, PARAM_ENUM)
