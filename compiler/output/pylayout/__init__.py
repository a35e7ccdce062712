"""Python code builder whose output is, byte for byte, what black 26 (stable style, line length 88) writes.

The emitters build code from these objects instead of text and need no black run: `render` lays out each
logical line the way black would (black's right-hand split, optional parentheses, delimiter splits, magic
trailing commas it adds, blank lines), so black becomes a check in the tests, off the compile path.

    from compiler.output import pylayout as py

    task = py.Call("BashOperator", [py.Kw("task_id", py.Str("ingest")), py.Kw("bash_command", py.Str(cmd))])
    text = py.render(py.Assign("ingest", task), depth=1)   # lines indented one level, newline-terminated
    py.string_literal('say "hi"')                           # 'say "hi"' in single quotes, as black keeps it
    str(py.literal({"a": [1, 2.5, None]}))                  # '{"a": [1, 2.5, None]}'

Conventions: in expression positions a plain `str` is a (dotted) name and any other Python value becomes
its `literal`; text always goes in `Str`. Names are checked to be identifiers, so user text cannot become
code. From a Jinja template: `{{ pylayout.render(stmt, 1) }}`, or `str(expr)` for a one-line value.
`trailing_comma=True` (calls, displays, dicts, defs, classes, imports) writes black's magic trailing comma:
one item per line whatever the length. `render(..., target_py36=False)` for a file black would see as
Python 3.3-compatible (no f-string, no `from __future__ import annotations`): black then adds no comma
after `*args`/`**kwargs` when it explodes a call. `parse(source)` turns source text into builders.

`format_source(source)` is `black.format_str(source, mode=black.Mode(line_length=88))` for the Python the
emitters write (comments and blank lines between statements, literals as written, magic trailing commas,
black's target-version inference), or raises `Unsupported`: it never returns text black would not write.
`compiler.output.emit.format_python` uses it, and black only when it refuses.

Not covered (black would format these differently or they never occur in generated code): `**` and `:=`
operators, f-strings other than as `Raw` text, several context managers in one `with`, chained
assignments, `...` bodies, `async`, `match`, comments inside expressions, and files using syntax newer
than Python 3.8 only (black then targets 3.9+ and wraps `with` headers differently).
"""

from ._from_ast import Unsupported, from_ast, parse
from ._source import format_source
from ._stmt import (
    AnnAssign,
    Assert,
    Assign,
    AugAssign,
    Blank,
    Block,
    Break,
    Class,
    Comment,
    Continue,
    Def,
    Docstring,
    Except,
    ExprStmt,
    For,
    Global,
    If,
    Import,
    ImportFrom,
    Module,
    Param,
    Pass,
    Raise,
    Return,
    Stmt,
    Try,
    While,
    With,
    render,
    render_expr,
)
from ._text import comment_text, docstring_literal, number_literal, str_width, string_literal
from ._tree import (
    Attribute,
    BinOp,
    BoolOp,
    Call,
    Compare,
    CompFor,
    Const,
    Dict,
    DictComp,
    Expr,
    GenExp,
    IfExp,
    Kw,
    Lambda,
    List,
    ListComp,
    Name,
    Num,
    Paren,
    Raw,
    Set,
    SetComp,
    Slice,
    Star,
    StarStar,
    Str,
    Subscript,
    Tuple,
    UnaryOp,
    chain,
    literal,
    to_expr,
)

__all__ = [
    "AnnAssign", "Assert", "Assign", "Attribute", "AugAssign", "BinOp", "Blank", "Block", "BoolOp", "Break", "Call",
    "Class", "Comment", "CompFor", "Compare", "Const", "Continue", "Def", "Dict", "DictComp", "Docstring", "Except",
    "Expr", "ExprStmt", "For", "GenExp", "Global", "If", "IfExp", "Import", "ImportFrom", "Kw", "Lambda", "List",
    "ListComp", "Module", "Name", "Num", "Param", "Paren", "Pass", "Raise", "Raw", "Return", "Set", "SetComp",
    "Slice", "Star", "StarStar", "Stmt", "Str", "Subscript", "Try", "Tuple", "UnaryOp", "Unsupported", "While",
    "With", "chain", "comment_text", "docstring_literal", "format_source", "from_ast", "literal", "number_literal",
    "parse", "render", "render_expr", "str_width", "string_literal", "to_expr",
]
