"""Types: param defaults, fan-out sources and conditions."""

from __future__ import annotations

from compiler.diagnostics import did_you_mean
from compiler.language import conditions, placeholders
from compiler.language.ir import Pipeline, ValueType, type_of_value, value_matches
from compiler.language.placeholders import Ref

from .context import PassContext

_NUMERIC = {ValueType.INT, ValueType.FLOAT}


def param_defaults_match_types(ctx: PassContext) -> None:
    for name, param in ctx.pipeline.params.items():
        path = ("params", name)
        value_type = param.value_type
        if param.type is not None and param.default is not None and not value_matches(value_type, param.default):
            ctx.report.error("E200", f"param '{name}' is of type {value_type.value}, but its default "
                                     f"{param.default!r} is not", (*path, "default"),
                             help=_default_help(param.default, value_type))
            continue
        if param.type is None and param.default is not None and type_of_value(param.default) is None:
            ctx.report.error("E200", f"param '{name}' has a default of unsupported type", (*path, "default"),
                             help="params are str, int, float, bool, list or dict")
            continue
        if param.enum is not None:
            for index, option in enumerate(param.enum):
                if not value_matches(value_type, option):
                    ctx.report.error("E200", f"param '{name}': enum value {option!r} is not {_kind(value_type)}",
                                     (*path, "enum", index))
            if param.default is not None and param.default not in param.enum:
                ctx.report.error("E200", f"param '{name}': default {param.default!r} is not one of its enum values",
                                 (*path, "default"), help=f"allowed: {', '.join(map(repr, param.enum))}")
        inverted = param.min is not None and param.max is not None and param.min > param.max
        for bound in ("min", "max"):
            limit = getattr(param, bound)
            if limit is None:
                continue
            if value_type not in _NUMERIC:
                ctx.report.error("E200", f"param '{name}': `{bound}` only applies to int and float params",
                                 (*path, bound), at_key=True)
            elif isinstance(param.default, (int, float)) and not isinstance(param.default, bool) and not inverted:
                if bound == "min" and param.default < limit:
                    ctx.report.error("E200", f"param '{name}': default {param.default} is below its min {limit:g}",
                                     (*path, "default"), help="lower `min` or raise the default")
                elif bound == "max" and param.default > limit:
                    ctx.report.error("E200", f"param '{name}': default {param.default} is above its max {limit:g}",
                                     (*path, "default"), help="raise `max` or lower the default")
        if inverted:
            ctx.report.error("E200", f"param '{name}': min {param.min:g} is greater than max {param.max:g}",
                             (*path, "min"))


def _default_help(default, value_type: ValueType) -> str:
    found = type_of_value(default)
    if isinstance(default, str) and value_type in _NUMERIC | {ValueType.BOOL}:
        return "remove the quotes around the default"
    if value_type is ValueType.BOOL and found in _NUMERIC:
        return "write true or false"
    looks = _kind(found) if found else type(default).__name__
    return f"change the default or the type (the default looks like {looks})"


def ref_type(pipeline: Pipeline, ref: Ref) -> ValueType | None:
    """The type a reference has at run time, or None when unknown (bad ref, item)."""
    if ref.kind == "param" and ref.name in pipeline.params:
        return pipeline.params[ref.name].value_type
    if ref.kind == "task_output" and ref.task in pipeline.tasks:
        task = pipeline.tasks[ref.task]
        output = task.outputs.get(str(ref.name))
        if output is None:
            return None
        return ValueType.LIST if task.is_mapped else output.type
    if ref.kind == "artifact":
        return ValueType.STR
    return None


def _no_placeholders_in_items(ctx: PassContext, task_id: str, items: list, path: tuple) -> None:
    """A literal list is data, the same on every run: its items are not rendered."""
    for item_path, text in placeholders.strings_in(items):
        segments, errors = placeholders.parse(text)
        if errors or any(isinstance(s, Ref) for s in segments):
            ctx.report.error("E114", f"task '{task_id}': a literal foreach item cannot hold a ${{{{ }}}} placeholder",
                             (*path, *item_path),
                             help="fan out over a list param (foreach: ${{ params.NAME }}) and combine in the "
                                  "command (`${{ item }}-${{ params.NAME }}`); write $${{ for a literal ${{")


def foreach_is_a_list(ctx: PassContext) -> None:
    pipeline = ctx.pipeline
    for task_id, task in pipeline.tasks.items():
        path = ("tasks", task_id, "foreach")
        if isinstance(task.foreach, list):
            if not task.foreach:
                ctx.report.warning("W201", f"task '{task_id}' fans out over an empty list, so it never runs", path)
            _no_placeholders_in_items(ctx, task_id, task.foreach, path)
            continue
        if not isinstance(task.foreach, str):
            continue
        segments, errors = placeholders.parse(task.foreach)
        if errors:
            continue  # reported by placeholders_resolve
        meaningful = [s for s in segments if not (isinstance(s, str) and not s.strip())]
        if len(meaningful) != 1 or not isinstance(meaningful[0], Ref):
            ctx.report.error("E201", f"task '{task_id}': `foreach` must be a list or a single placeholder", path,
                             help="write a YAML list, or e.g. foreach: ${{ params.models }}")
            continue
        ref = meaningful[0]
        if ref.kind not in ("param", "task_output"):
            ctx.report.error("E201", f"task '{task_id}' cannot fan out over ${{{{ {ref} }}}}", path,
                             help="fan out over a list param or a list output of an upstream task")
            continue
        value_type = ref_type(pipeline, ref)
        if value_type is not None and value_type is not ValueType.LIST:
            ctx.report.error("E201", f"task '{task_id}' fans out over '{ref}', which is {_kind(value_type)}, "
                                     "not a list", path,
                             help="fan out over a list param (e.g. `shards: [0, 1, 2, 3]`) or a list output")


def conditions_are_well_typed(ctx: PassContext) -> None:
    pipeline = ctx.pipeline
    for task_id, task in pipeline.tasks.items():
        if task.when is None:
            continue
        path = ("tasks", task_id, "when")
        try:
            expr = conditions.parse(task.when)
        except conditions.ConditionError as exc:
            needle = task.when[exc.offset :].strip()[:20] or task.when
            ctx.report.error_at_text("E202", f"task '{task_id}': {exc}", path, needle, help=exc.help)
            continue
        for operand in conditions.references(expr):
            problem = _condition_ref_problem(pipeline, task_id, operand.ref)
            if problem:
                message, help = problem
                ctx.report.error_at_text("E106", f"task '{task_id}' condition: {message}", path,
                                         _written(task.when, operand), help=help)
        for message, needle in _type_errors(pipeline, expr, task.when):
            ctx.report.error_at_text("E203", f"task '{task_id}' condition: {message}", path, needle)


def _written(text: str, operand: conditions.RefOperand) -> str:
    return text[operand.offset : operand.offset + len(str(operand.ref))] or str(operand.ref)


def _condition_ref_problem(pipeline: Pipeline, task_id: str, ref: Ref) -> tuple[str, str | None] | None:
    if ref.kind == "param" and ref.name not in pipeline.params:
        return (f"unknown param '{ref.name}'",
                did_you_mean(str(ref.name), pipeline.params) or "declare it under `params:`")
    if ref.kind == "task_output":
        if ref.task == task_id:
            return "a task's condition cannot read the task's own output", None
        if ref.task not in pipeline.tasks:
            return (f"unknown task '{ref.task}'",
                    did_you_mean(str(ref.task), pipeline.tasks) or f"known tasks: {', '.join(pipeline.tasks)}")
        outputs = pipeline.tasks[str(ref.task)].outputs
        if ref.name not in outputs:
            return (f"task '{ref.task}' has no output '{ref.name}'",
                    did_you_mean(str(ref.name), outputs) or f"declare it in '{ref.task}': `outputs: {{{ref.name}: float}}`")
    return None


def _operand_type(pipeline: Pipeline, expr: conditions.Expr) -> ValueType | str | None:
    if isinstance(expr, conditions.Literal):
        return type_of_value(expr.value)
    if isinstance(expr, conditions.RefOperand):
        return ref_type(pipeline, expr.ref)
    return "condition"  # a comparison or a boolean combination


def _type_errors(pipeline: Pipeline, expr: conditions.Expr, text: str):
    """(message, text to point at) for each ill-typed part of a condition."""
    if isinstance(expr, conditions.Compare):
        left, right = _operand_type(pipeline, expr.left), _operand_type(pipeline, expr.right)
        if left is None or right is None:
            return  # unknown reference: reported elsewhere
        shown = conditions.render(expr)
        if "condition" in (left, right) or ValueType.LIST in (left, right) or ValueType.DICT in (left, right):
            yield f"cannot compare {_kind(left)} with {_kind(right)} in `{shown}`", expr.op
        elif (left in _NUMERIC) != (right in _NUMERIC) or (left not in _NUMERIC and left != right):
            yield f"`{shown}` compares {_kind(left)} with {_kind(right)}", expr.op
        elif expr.op not in ("==", "!=") and left is ValueType.BOOL:
            yield f"`{shown}` orders booleans; use == or !=", expr.op
    elif isinstance(expr, conditions.BoolOp):
        for operand in expr.operands:
            yield from _boolean_operand(pipeline, operand, text)
    elif isinstance(expr, conditions.Not):
        yield from _boolean_operand(pipeline, expr.operand, text)
    else:
        yield from _boolean_operand(pipeline, expr, text)


def _boolean_operand(pipeline: Pipeline, expr: conditions.Expr, text: str):
    kind = _operand_type(pipeline, expr)
    if kind == "condition":
        yield from _type_errors(pipeline, expr, text)
    elif kind is not None and kind is not ValueType.BOOL:
        shown = conditions.render(expr)
        yield f"`{shown}` is {_kind(kind)}, not a condition", shown


def _kind(value_type) -> str:
    if value_type == "condition":
        return "a condition"
    return {ValueType.INT: "an int", ValueType.FLOAT: "a float", ValueType.STR: "a str",
            ValueType.BOOL: "a bool", ValueType.LIST: "a list", ValueType.DICT: "a dict"}[value_type]
