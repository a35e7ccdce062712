"""Each task on its own: what it runs, and its fan-out settings."""

from __future__ import annotations

from compiler.language.references import task_refs

from .context import PassContext


def task_kind_is_clear(ctx: PassContext) -> None:
    """One of command / python (+ image), and args that fit the kind."""
    for task_id, task in ctx.pipeline.tasks.items():
        where = ("tasks", task_id)
        if task.command is not None and task.python is not None:
            ctx.report.error("E204", f"task '{task_id}' has both `command` and `python`", (*where, "python"),
                             at_key=True, help="a task runs a shell command or calls a python function, not both; "
                                               "split it into two tasks")
        if task.args is not None:
            if task.kind == "python" and not isinstance(task.args, dict):
                ctx.report.error("E204", f"task '{task_id}': `args` of a python task must be a mapping of keyword "
                                         "arguments", (*where, "args"), help="write args: {name: value, ...}")
            elif task.kind == "container" and not isinstance(task.args, list):
                ctx.report.error("E204", f"task '{task_id}': `args` of a container task must be a list",
                                 (*where, "args"), help='write args: ["--flag", "value"]')
            elif task.kind in ("shell", "noop"):
                ctx.report.error("E204", f"task '{task_id}': `args` needs `python` or `image`", (*where, "args"),
                                 at_key=True, help="put the arguments into `command` for a shell task")
        if task.image is not None and task.command is None and task.python is None and task.args:
            ctx.report.warning("W204", f"task '{task_id}' passes `args` to the image's own entrypoint",
                               (*where, "args"), at_key=True)
        for name, output in task.outputs.items():
            if task.kind in ("shell", "container") and output.path is None:
                if not any(ref.kind == "output" and ref.name == name for _, ref in task_refs(task)):
                    ctx.report.error(
                        "E205",
                        f"task '{task_id}' declares output '{name}' but never writes it",
                        (*where, "outputs", name),
                        at_key=True,
                        help=f"write the value to the file ${{{{ outputs.{name} }}}} in the command, "
                             f"or give the output a `path:`",
                    )
            if task.kind == "noop":
                ctx.report.error("E205", f"task '{task_id}' runs nothing, so it cannot produce output '{name}'",
                                 (*where, "outputs", name), at_key=True)


def fan_out_settings(ctx: PassContext) -> None:
    for task_id, task in ctx.pipeline.tasks.items():
        if task.max_parallel is not None and task.foreach is None:
            ctx.report.error("E212", f"task '{task_id}' sets `max_parallel` but has no `foreach`",
                             ("tasks", task_id, "max_parallel"), at_key=True,
                             help="max_parallel limits how many fan-out items run at once; use `pool` or the "
                                  "pipeline's max_active_tasks to limit other tasks")
