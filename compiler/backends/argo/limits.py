"""What Argo cannot take although it has the feature: ArgoBackend.limits, reported by the builder."""

from __future__ import annotations

from compiler.backends.base import Limit

ITEMS_BRACES = Limit(
    "braces-in-items", "a literal '{{' in a task's foreach list", "Argo substitutes '{{...}}' in withItems and has "
    "no escape", "put the list in a param and fan out over ${{ params.NAME }}")
FIELD_BRACES = Limit(
    "braces-in-fields", "a literal '{{' in the workdir, an artifact or output path, an image, a secret's name or key, "
    "or a gpu_type", "Argo substitutes '{{...}}' in these fields and has no escape", "write the value without '{{'")
COMMAND_BRACES = Limit(
    "braces-in-commands", "a literal '{{' in an environment value, a container command or an argument that is not "
    "a shell command", "Argo substitutes '{{...}}' in every one and has no escape",
    "move the text into a shell command (dagshift splits it safely there), or into a file the task reads")
PARAM_INPUTS = Limit(
    "inputs-in-params", "'{{inputs.' in a param's default or enum values", "Argo inserts the value into a "
    "template, then replaces '{{inputs....}}' in it again", "write the value without '{{inputs.'")
START_DATE = Limit(
    "start-date", "a schedule's start_date", "Argo CronWorkflows have no start date",
    "suspend the CronWorkflow until then (spec.suspend), or leave start_date out", left_out=True)
FRACTIONAL_BACKOFF = Limit(
    "fractional-backoff", "a retry_backoff that is not a whole number (every retry then waits retry_delay)",
    "Argo backoff factors are whole numbers", "use a whole number", left_out=True)
POOL_NAME = Limit(
    "pool-name", "a pool name that is not a ConfigMap key (the task is then not limited by it)",
    "Argo semaphores are ConfigMap keys", "use letters, digits, '-', '_' and '.'", left_out=True)

LIMITS = (ITEMS_BRACES, FIELD_BRACES, COMMAND_BRACES, PARAM_INPUTS, START_DATE, FRACTIONAL_BACKOFF, POOL_NAME)
