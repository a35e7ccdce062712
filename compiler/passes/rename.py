"""Pointing a task's references at other tasks: where deduplication merges tasks, and where the
semantic diff matches renamed ones. References sit in `after`, `else_of`, placeholders in the command,
args, env and foreach, and conditions."""

from __future__ import annotations

from compiler.language import conditions, placeholders
from compiler.language.ir import Task
from compiler.language.placeholders import Ref
from compiler.language.references import parsed_when


def renamed_refs(task: Task, replaced: dict[str, str]) -> Task:
    """The task with references to replaced tasks pointed at their replacements."""
    if not replaced:
        return task
    update: dict = {}
    after = list(dict.fromkeys(replaced.get(t, t) for t in task.after))
    if after != task.after:
        update["after"] = after
    if task.else_of in replaced:
        update["else_of"] = replaced[task.else_of]
    for name in ("command", "args", "env", "foreach"):
        value = getattr(task, name)
        renamed = _renamed_in_value(value, replaced)
        if renamed != value:
            update[name] = renamed
    expr = parsed_when(task)
    if expr is not None and any(op.ref.task in replaced for op in conditions.references(expr)):
        update["when"] = conditions.render(_renamed_in_expr(expr, replaced))
    return task.model_copy(update=update) if update else task


def _renamed_in_value(value, replaced: dict[str, str]):
    if isinstance(value, str):
        return _renamed_in_text(value, replaced)
    if isinstance(value, list):
        return [_renamed_in_value(item, replaced) for item in value]
    if isinstance(value, dict):
        return {key: _renamed_in_value(item, replaced) for key, item in value.items()}
    return value


def _renamed_in_text(text: str, replaced: dict[str, str]) -> str:
    segments = placeholders.parse(text)[0]
    if not any(isinstance(s, Ref) and s.task in replaced for s in segments):
        return text
    pieces = []
    for segment in segments:
        if isinstance(segment, Ref):
            if segment.task in replaced:
                segment = Ref(segment.kind, segment.name, replaced[segment.task])
            pieces.append(f"${{{{ {segment} }}}}")
        else:
            pieces.append(segment.replace("${{", "$${{"))  # literal text stays literal
    return "".join(pieces)


def _renamed_in_expr(expr: conditions.Expr, replaced: dict[str, str]) -> conditions.Expr:
    if isinstance(expr, conditions.RefOperand):
        ref = expr.ref
        if ref.task in replaced:
            return conditions.RefOperand(Ref(ref.kind, ref.name, replaced[ref.task]), expr.offset)
        return expr
    if isinstance(expr, conditions.Compare):
        return conditions.Compare(
            expr.op, _renamed_in_expr(expr.left, replaced), _renamed_in_expr(expr.right, replaced)
        )
    if isinstance(expr, conditions.BoolOp):
        return conditions.BoolOp(expr.op, tuple(_renamed_in_expr(o, replaced) for o in expr.operands))
    if isinstance(expr, conditions.Not):
        return conditions.Not(_renamed_in_expr(expr.operand, replaced))
    return expr
