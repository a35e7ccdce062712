"""The flow's signature as pipeline params: type hints, Literal choices, Field bounds, defaults."""

from __future__ import annotations

import ast
from typing import Any

from compiler.importers.base import Reporter
from compiler.language.ir import ValueType, type_of_value, value_matches

from .values import NOT_LITERAL, TYPE_NAMES, decorator_kwargs, decorator_name, literal


class Signature:
    """The flow's parameters: name, type hint (Literal -> enum, Field(ge, le) -> min/max), default."""

    def __init__(self, function: ast.FunctionDef, report: Reporter):
        self.function = function
        self.report = report

    def params(self) -> dict[str, dict[str, Any]]:
        args = self.function.args
        positional = args.posonlyargs + args.args
        defaults: dict[str, ast.expr] = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]],
                                                 args.defaults))
        defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        params = {}
        for arg in positional + args.kwonlyargs:
            params[arg.arg] = self._param(arg, defaults.get(arg.arg))
            self.report.place(("params", arg.arg), arg.lineno)
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                self.report.loss(f"*{extra.arg} / **{extra.arg} parameters have no pipeline equivalent: not carried",
                                 extra.lineno, extra.col_offset + 1)
        return params

    def _param(self, arg: ast.arg, default_node: ast.expr | None) -> dict[str, Any]:
        param: dict[str, Any] = {}
        value_type = self._hint(arg, arg.annotation, param) if arg.annotation is not None else None
        if isinstance(default_node, ast.Call) and decorator_name(default_node) == "Field":
            default_node = self._field_default(arg, default_node, param)
        if default_node is not None:
            default = literal(default_node)
            if default is NOT_LITERAL:
                self.report.loss(f"the default of parameter {arg.arg!r} is not a literal: the parameter is imported "
                                 "as required", default_node.lineno, default_node.col_offset + 1, approximate=True)
            elif default is None:
                if value_type is None or arg.annotation is None:
                    self.report.loss(f"parameter {arg.arg!r} defaults to None: dagshift params without a default "
                                     "are required", arg.lineno, arg.col_offset + 1, approximate=True)
                else:
                    self.report.loss(f"parameter {arg.arg!r} defaults to None: dagshift params without a default "
                                     "are required", arg.lineno, arg.col_offset + 1, approximate=True)
            else:
                param["default"] = default
        if "default" in param and value_type is not None and not value_matches(ValueType(value_type), param["default"]):
            self.report.loss(f"parameter {arg.arg!r} is annotated {value_type} but defaults to {param['default']!r}: "
                             "imported with the default's type", arg.lineno, arg.col_offset + 1, approximate=True)
            value_type = None
        implied = type_of_value(param.get("default")) if "default" in param else None
        if value_type is not None and (implied is None or implied.value != value_type):
            param["type"] = value_type
        elif value_type is None and implied is None:
            param["type"] = "str"
        return param

    def _field_default(self, arg: ast.arg, node: ast.Call, param: dict[str, Any]) -> ast.expr | None:
        """`= Field(default, description=...)`: the default, and the description Prefect shows."""
        default = node.args[0] if node.args else decorator_kwargs(node).get("default")
        self._bounds(arg, ast.Call(node.func, [], [k for k in node.keywords if k.arg != "default"]), param)
        return default

    def _hint(self, arg: ast.arg, node: ast.expr, param: dict[str, Any]) -> str | None:
        """The dagshift type of a hint; Annotated bounds and Literal choices go into `param`."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.Subscript):
            outer = decorator_name(node.value) if isinstance(node.value, (ast.Name, ast.Attribute)) else ""
            inner = node.slice
            if outer == "Annotated" and isinstance(inner, ast.Tuple) and inner.elts:
                for extra in inner.elts[1:]:
                    self._bounds(arg, extra, param)
                return self._hint(arg, inner.elts[0], param)
            if outer == "Literal":
                choices = [literal(choice) for choice in (inner.elts if isinstance(inner, ast.Tuple) else [inner])]
                if NOT_LITERAL in choices:
                    self.report.loss(f"parameter {arg.arg!r}: a Literal choice is not a value a pipeline can hold: "
                                     "imported as str, without choices", node.lineno, node.col_offset + 1)
                    return "str"
                param["enum"] = choices
                kinds = {type_of_value(c) for c in choices}
                return next(iter(kinds)).value if len(kinds) == 1 and None not in kinds else "str"
            if outer == "Optional":
                return self._hint(arg, inner, param)
            if outer in TYPE_NAMES:
                return TYPE_NAMES[outer]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            sides = [s for s in (node.left, node.right) if not (isinstance(s, ast.Constant) and s.value is None)]
            if len(sides) == 1:
                return self._hint(arg, sides[0], param)
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if name in TYPE_NAMES:
            return TYPE_NAMES[name]
        self.report.loss(f"parameter {arg.arg!r} has type {ast.unparse(node)}, which dagshift params cannot hold: "
                         "imported as str", node.lineno, node.col_offset + 1, approximate=True)
        return "str"

    def _bounds(self, arg: ast.arg, node: ast.expr, param: dict[str, Any]) -> None:
        if not (isinstance(node, ast.Call) and decorator_name(node) == "Field"):
            return
        for keyword in node.keywords:
            value = literal(keyword.value)
            if keyword.arg in ("ge", "le") and isinstance(value, (int, float)) and not isinstance(value, bool):
                param["min" if keyword.arg == "ge" else "max"] = float(value)
            elif keyword.arg == "description" and isinstance(value, str):
                param["description"] = value
            elif keyword.arg == "default":
                continue
            else:
                self.report.loss(f"Field({keyword.arg}=...) of parameter {arg.arg!r} is not carried: dagshift "
                                 "params have min (ge), max (le) and a description", keyword.value.lineno,
                                 keyword.value.col_offset + 1, approximate=keyword.arg in ("gt", "lt"))

