"""References between parts of the pipeline: tasks, artifacts, params, outputs, branches."""

from __future__ import annotations

from compiler.diagnostics import did_you_mean
from compiler.language import placeholders
from compiler.language.ir import TriggerType
from compiler.language.references import task_texts

from .context import PassContext


def after_names_known_tasks(ctx: PassContext) -> None:
    tasks = ctx.pipeline.tasks
    for task_id, task in tasks.items():
        for index, upstream in enumerate(task.after):
            path = ("tasks", task_id, "after", index)
            if upstream in task.after[:index]:
                ctx.report.warning("W100", f"task '{task_id}' lists '{upstream}' in `after` twice", path,
                                   help="remove the repeated entry")
                continue
            if upstream == task_id:
                ctx.report.error("E102", f"task '{task_id}' runs after itself", path,
                                 help="remove it from its own `after` list")
            elif upstream not in tasks:
                others = [t for t in tasks if t != task_id]
                ctx.report.error("E100", f"task '{task_id}' runs after unknown task '{upstream}'", path,
                                 help=did_you_mean(upstream, others) or f"known tasks: {', '.join(others)}")


def artifacts_have_one_producer(ctx: PassContext) -> None:
    pipeline = ctx.pipeline
    declared = pipeline.artifacts
    producers: dict[str, str] = {}
    produced: set[str] = set()  # also external artifacts a task (wrongly) produces
    consumed: set[str] = set()
    for task_id, task in pipeline.tasks.items():
        for section in ("produces", "consumes"):
            for index, name in enumerate(getattr(task, section)):
                path = ("tasks", task_id, section, index)
                if name not in declared:
                    ctx.report.error("E103", f"task '{task_id}' {section} undeclared artifact '{name}'", path,
                                     help=did_you_mean(name, declared)
                                     or f"declare it under `artifacts:`, e.g. `{name}: data/{name}.csv`")
                    continue
                if section == "consumes":
                    consumed.add(name)
                    if name in task.produces:
                        ctx.report.error("E102", f"task '{task_id}' both consumes and produces artifact '{name}'",
                                         path, help="write the result to a new artifact instead of in place")
                    continue
                produced.add(name)
                if declared[name].external:
                    ctx.report.error("E104", f"artifact '{name}' is external but task '{task_id}' produces it",
                                     path, help="remove `external: true`, or stop producing it")
                elif producers.get(name) == task_id:
                    continue  # listed twice by the same task: one producer all the same
                elif name in producers:
                    ctx.report.error("E104", f"artifact '{name}' is produced by both '{producers[name]}' and "
                                             f"'{task_id}'", path,
                                     help="each artifact has one producer; declare a second artifact")
                else:
                    producers[name] = task_id
    triggered = {t.artifact for t in pipeline.triggers if t.artifact}
    for name, artifact in declared.items():
        if name in consumed and name not in producers and not artifact.external:
            consumers = [t for t, task in pipeline.tasks.items() if name in task.consumes]
            ctx.report.error("E103", f"artifact '{name}' is consumed by '{consumers[0]}' but no task produces it",
                             ("artifacts", name), at_key=True,
                             help="add it to a task's `produces`, or mark it `external: true` if it comes from "
                                  "outside the pipeline")
        elif name not in consumed and name not in produced and name not in triggered:
            ctx.report.warning("W120", f"artifact '{name}' is declared but no task produces or consumes it",
                               ("artifacts", name), at_key=True)


def placeholders_resolve(ctx: PassContext) -> None:
    pipeline = ctx.pipeline
    for task_id, task in pipeline.tasks.items():
        untracked: set[str] = set()  # artifacts used but not consumed/produced: one W121 each
        for relative, text in task_texts(task):
            path = ("tasks", task_id, *relative)
            _, errors = placeholders.parse(text)
            for error in errors:
                raw = text[error.offset : error.offset + error.length]
                ctx.report.error_at_text("E105", f"{error.message} in task '{task_id}'", path, raw, help=error.help)
            if placeholders.unclosed(text):
                ctx.report.warning("W105", f"task '{task_id}': `${{{{` is never closed, so it stays literal text",
                                   path, help="close the placeholder with `}}`, or write `$${{` for a literal `${{`")
            for raw, ref in placeholders.occurrences(text):
                problem, help = _ref_problem(ctx, task_id, ref, untracked)
                if problem:
                    ctx.report.error_at_text("E106", f"task '{task_id}': {problem}", path, raw, help=help)
        for index, alert in enumerate(task.alerts):
            _no_placeholders_in_alert(ctx, alert, ("tasks", task_id, "alerts", index))
    for index, alert in enumerate(pipeline.alerts):
        _no_placeholders_in_alert(ctx, alert, ("alerts", index))
    for index, alert in enumerate(pipeline.defaults.alerts):
        _no_placeholders_in_alert(ctx, alert, ("defaults", "alerts", index))


def _ref_problem(ctx: PassContext, task_id: str, ref: placeholders.Ref,
                 untracked: set[str]) -> tuple[str | None, str | None]:
    pipeline = ctx.pipeline
    task = pipeline.tasks[task_id]
    if ref.kind == "param" and ref.name not in pipeline.params:
        return f"unknown param '{ref.name}'", did_you_mean(ref.name, pipeline.params) or "declare it under `params:`"
    if ref.kind == "artifact":
        if ref.name not in pipeline.artifacts:
            return (f"unknown artifact '{ref.name}'",
                    did_you_mean(ref.name, pipeline.artifacts) or "declare it under `artifacts:`")
        if ref.name not in task.consumes and ref.name not in task.produces and ref.name not in untracked:
            untracked.add(str(ref.name))
            ctx.report.warning("W121", f"task '{task_id}' uses artifact '{ref.name}' but neither consumes nor "
                                       "produces it", ("tasks", task_id),
                               help=f"add `consumes: [{ref.name}]` (or `produces:`) so the dependency is tracked",
                               at_key=True)
    if ref.kind == "task_output":
        if ref.task == task_id:
            return f"task '{task_id}' refers to its own output '{ref.name}'", \
                f"use ${{{{ outputs.{ref.name} }}}} to write it"
        if ref.task not in pipeline.tasks:
            return (f"unknown task '{ref.task}'",
                    did_you_mean(str(ref.task), pipeline.tasks) or f"known tasks: {', '.join(pipeline.tasks)}")
        outputs = pipeline.tasks[str(ref.task)].outputs
        if ref.name not in outputs:
            declared = ", ".join(outputs) or "none"
            return (f"task '{ref.task}' has no output '{ref.name}' (declared: {declared})",
                    did_you_mean(str(ref.name), outputs) or f"declare it in '{ref.task}': `outputs: {{{ref.name}: str}}`")
    if ref.kind == "item" and task.foreach is None:
        return "${{ item }} is only defined in a task with `foreach`", "add `foreach:` or remove the placeholder"
    if ref.kind == "output":
        if task.kind == "python":
            return ("python tasks return their outputs instead of writing ${{ outputs.NAME }}",
                    "return the value (or a dict of values, one per output)")
        if ref.name not in task.outputs:
            return (f"${{{{ outputs.{ref.name} }}}} is not a declared output of '{task_id}'",
                    did_you_mean(str(ref.name), task.outputs) or f"declare it: `outputs: {{{ref.name}: str}}`")
    return None, None


def _no_placeholders_in_alert(ctx: PassContext, alert, path) -> None:
    texts = [(("command",), alert.command)] if alert.command else []
    texts += [(("args", *arg_path), text) for arg_path, text in placeholders.strings_in(alert.args or {})]
    for text_path, text in texts:
        if placeholders.refs(text) or placeholders.parse(text)[1]:
            ctx.report.error("E107", "alerts cannot use ${{ }} placeholders", (*path, *text_path),
                             help="alerts run outside any task; pass values through `env` of the pipeline's "
                                  "tasks instead; write $${{ for a literal ${{")


def else_branches_pair_up(ctx: PassContext) -> None:
    tasks = ctx.pipeline.tasks
    for task_id, task in tasks.items():
        if task.else_of is None:
            continue
        path = ("tasks", task_id, "else_of")
        other = tasks.get(task.else_of)
        if task.else_of == task_id:
            ctx.report.error("E108", f"task '{task_id}' is the else branch of itself", path)
        elif other is None:
            ctx.report.error("E108", f"task '{task_id}' is the else branch of unknown task '{task.else_of}'", path,
                             help=did_you_mean(task.else_of, tasks) or f"known tasks: {', '.join(tasks)}")
        elif other.when is None:
            ctx.report.error("E108", f"task '{task_id}' is the else branch of '{task.else_of}', which has no `when`",
                             path, help=f"give '{task.else_of}' a `when:` condition")
        elif other.else_of is not None:
            ctx.report.error("E108", f"'{task.else_of}' is itself an else branch; chains of else_of are not supported",
                             path)
        if task.when is not None:
            ctx.report.error("E108", f"task '{task_id}' has both `when` and `else_of`", ("tasks", task_id, "when"),
                             at_key=True, help="an else branch runs exactly when the other task's condition is false")


def triggers_are_complete(ctx: PassContext) -> None:
    pipeline = ctx.pipeline
    kinds = [t.type for t in pipeline.triggers]
    for index, trigger in enumerate(pipeline.triggers):
        path = ("triggers", index)
        if trigger.type is TriggerType.DATA:
            if (trigger.artifact is None) == (trigger.uri is None):
                ctx.report.error("E109", "a data trigger needs exactly one of `artifact` or `uri`", path,
                                 help="e.g. {type: data, artifact: raw_batch} or {type: data, uri: s3://bucket/in/}")
            elif trigger.uri is not None and not trigger.uri.strip():
                ctx.report.error("E109", "the data trigger watches a blank `uri`", (*path, "uri"),
                                 help="name the path or URI that new data arrives at, e.g. s3://bucket/in/")
            elif trigger.artifact is not None and trigger.artifact not in pipeline.artifacts:
                ctx.report.error("E109", f"the data trigger watches unknown artifact '{trigger.artifact}'",
                                 (*path, "artifact"), help=did_you_mean(trigger.artifact, pipeline.artifacts)
                                 or "declare it under `artifacts:` (with `external: true` if no task produces it)")
        else:
            for key in ("artifact", "uri", "poll_interval"):
                if getattr(trigger, key) is not None:
                    ctx.report.error("E109", f"`{key}` only applies to data triggers", (*path, key), at_key=True)
        if trigger.type is TriggerType.MANUAL and (pipeline.schedule is not None or len(kinds) > 1):
            ctx.report.error("E109", "a manual trigger means manual-only, but the pipeline has other triggers", path,
                             help="remove {type: manual}: every target can always start a run by hand")
        if trigger.type is TriggerType.CONTINUOUS and pipeline.schedule is not None:
            ctx.report.error("E109", "a continuous pipeline cannot also have a schedule", path,
                             help="remove `schedule:` or the continuous trigger")
