"""Finding the DAGs of an Airflow file, their tasks and their edges, by walking the module's AST
in order (never running it): `with DAG(...)`, `dag = DAG(...)` with `dag=` arguments, `@dag`
functions; operators, TaskFlow calls, `.expand`, TaskGroups; `>>`, `<<`, lists, `chain`,
`cross_downstream`, `set_upstream` / `set_downstream` and TaskFlow arguments passing XComs.

What the walk cannot follow (tasks made in loops or under `if`) is recorded as a problem of the
DAG, so the importer can grade it manual instead of importing a different graph."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from .values import dotted

DAG_CLASSES = {"DAG"}
GROUP_CLASSES = {"TaskGroup"}
# Operator class names (the last part of any import path) the importer maps; others are still
# tasks, imported as no-ops with a loss.
KNOWN_OPERATORS = {
    "BashOperator", "PythonOperator", "EmptyOperator", "DummyOperator", "BranchPythonOperator",
    "ShortCircuitOperator", "KubernetesPodOperator", "DockerOperator", "TriggerDagRunOperator",
    "PythonVirtualenvOperator", "ExternalPythonOperator", "BranchExternalPythonOperator",
    "BranchPythonVirtualenvOperator",
}


def is_operator_name(name: str) -> bool:
    return name in KNOWN_OPERATORS or name.endswith(("Operator", "Sensor"))


@dataclass
class Found:
    """One Airflow task as written."""

    task_id: str
    cls: str  # operator class name, or "task" / "task.branch" / ... for TaskFlow
    kwargs: dict[str, ast.expr]
    node: ast.AST  # where it is made (for line numbers)
    function: ast.FunctionDef | None = None  # the TaskFlow function
    call: ast.Call | None = None  # the TaskFlow call (its arguments)
    expand: dict[str, ast.expr] | None = None
    partial: bool = False
    group_kwargs: list[tuple[str, dict[str, ast.expr]]] = field(default_factory=list)
    # Arguments (by parameter name, mapped ones included) that are another task's whole return
    # value, as Airflow passes it: argument name -> that task's id.
    xcoms: dict[str, str] = field(default_factory=dict)


@dataclass
class FoundDag:
    dag_id: str
    kwargs: dict[str, ast.expr]
    node: ast.AST
    tasks: dict[str, Found] = field(default_factory=dict)
    edges: list[tuple[str, str, int]] = field(default_factory=list)  # upstream, downstream, line
    problems: list[tuple[str, int]] = field(default_factory=list)  # what stops the import, line
    losses: list[tuple[str, int]] = field(default_factory=list)  # losses found while walking
    variables: dict[str, str] = field(default_factory=dict)  # a name bound to one task -> its id


@dataclass(frozen=True)
class TaskFlowFunction:
    node: ast.FunctionDef
    decorator: str  # "task", "task.branch", "task.bash", ...
    kwargs: dict[str, ast.expr]


@dataclass(frozen=True)
class DagFunction:
    node: ast.FunctionDef
    kwargs: dict[str, ast.expr]
    args: tuple


@dataclass(frozen=True)
class GroupFunction:
    node: ast.FunctionDef
    kwargs: dict[str, ast.expr]
    args: tuple


@dataclass
class Group:
    """A TaskGroup: its id prefix and the tasks made in it (edges to a group mean its roots or
    leaves, resolved when the walk ends)."""

    group_id: str
    prefix: str
    kwargs: dict[str, ast.expr]
    tasks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Tasks:
    """An expression's value as tasks: task ids and groups."""

    items: tuple[Any, ...]  # str task ids, or Group
    whole: bool = True  # False for a list of tasks or `t["key"]`: not one task's whole return value

    @property
    def single(self) -> str | None:
        """The task id when the value is one task's whole return value (its XComArg)."""
        if self.whole and len(self.items) == 1 and isinstance(self.items[0], str):
            return self.items[0]
        return None


def _kwargs(call: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in call.keywords if k.arg}


def _first_string(call: ast.Call, keyword: str) -> str | None:
    node = _kwargs(call).get(keyword) or (call.args[0] if call.args else None)
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _decorator(node: ast.expr) -> tuple[str, dict[str, ast.expr], tuple]:
    """The decorator's dotted name (`task.branch`), keyword arguments and positional args."""
    if isinstance(node, ast.Call):
        return dotted(node.func) or "", _kwargs(node), tuple(node.args)
    return dotted(node) or "", {}, ()


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


class Scanner:
    """Walks one module; `dags` holds what it found, in file order."""

    def __init__(self, module: ast.Module):
        self.module = module
        self.dags: list[FoundDag] = []
        self.env: dict[str, Any] = {}  # module-level names -> Tasks / FoundDag / functions
        self.dag_stack: list[FoundDag] = []
        self.groups: list[Group] = []
        self.called_dag_functions: set[str] = set()
        self.all_groups: list[tuple[FoundDag, Group]] = []
        self.aliases = self._import_aliases()

    # ------------------------------------------------------------------ names

    def _import_aliases(self) -> dict[str, str]:
        """Local name -> the imported name's last part (`from x import BashOperator as B`)."""
        aliases: dict[str, str] = {}
        for node in ast.walk(self.module):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    aliases[alias.asname or alias.name] = alias.name
        return aliases

    def _class_name(self, func: ast.expr) -> str:
        name = dotted(func) or ""
        head, _, rest = name.partition(".")
        head = self.aliases.get(head, head)
        return _last(f"{head}.{rest}" if rest else head)

    # ------------------------------------------------------------------ walk

    def scan(self) -> list[FoundDag]:
        self._body(self.module.body, self.env)
        for name, value in self.env.items():
            if isinstance(value, DagFunction) and name not in self.called_dag_functions:
                self._dag_function(value, None)  # Airflow 3 loads only called ones; import it anyway
                message = f"@dag function '{name}' is never called, so Airflow does not load it; imported anyway"
                self.dags[-1].losses.append((message, value.node.lineno))
        self._resolve_groups()
        return self.dags

    def _body(self, statements: list[ast.stmt], env: dict[str, Any]) -> None:
        for statement in statements:
            self._statement(statement, env)

    def _statement(self, node: ast.stmt, env: dict[str, Any]) -> None:
        if isinstance(node, ast.With):
            self._with(node, env)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._function(node, env)
        elif isinstance(node, ast.Assign):
            value = self._expr(node.value, env)
            for target in node.targets:
                self._bind(target, value, env)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._bind(node.target, self._expr(node.value, env), env)
        elif isinstance(node, ast.Expr):
            self._expr(node.value, env)
        elif isinstance(node, ast.Return) and node.value is not None:
            env["<return>"] = self._expr(node.value, env)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.If, ast.Try)):
            self._control_flow(node, env)

    def _control_flow(self, node: ast.stmt, env: dict[str, Any]) -> None:
        """Loops and branches: followed only when they make no task and no edge."""
        if isinstance(node, ast.If) and self._is_main_guard(node):
            return
        if not self._makes_tasks(node, env):
            return
        dag = self._current_dag() or (self.dags[-1] if self.dags else None)
        what = "a loop" if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) else "an if/try statement"
        if dag is None:
            dag = self._new_dag("<unknown>", {}, node)
        dag.problems.append((f"tasks or edges are made in {what}, which static analysis cannot follow",
                             node.lineno))

    def _is_main_guard(self, node: ast.If) -> bool:
        return "__name__" in ast.unparse(node.test)

    def _makes_tasks(self, node: ast.AST, env: dict[str, Any]) -> bool:
        for child in ast.walk(node):
            if isinstance(child, ast.BinOp) and isinstance(child.op, (ast.RShift, ast.LShift)):
                return True
            if isinstance(child, ast.Call):
                name = self._class_name(child.func)
                callee = env.get(dotted(child.func) or "") or self.env.get(dotted(child.func) or "")
                if is_operator_name(name) or name in DAG_CLASSES | GROUP_CLASSES | {"chain", "cross_downstream"}:
                    return True
                if isinstance(callee, (TaskFlowFunction, DagFunction, GroupFunction)):
                    return True
                if isinstance(child.func, ast.Attribute) and child.func.attr in (
                        "set_upstream", "set_downstream", "expand", "partial"):
                    return True
        return False

    def _bind(self, target: ast.expr, value: Any, env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
            dag = self._current_dag()
            if dag is not None and isinstance(value, Tasks) and value.single:
                dag.variables[target.id] = value.single
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, Tasks) \
                and len(value.items) == len(target.elts):
            for element, item in zip(target.elts, value.items):
                self._bind(element, Tasks((item,)), env)

    def _current_dag(self) -> FoundDag | None:
        return self.dag_stack[-1] if self.dag_stack else None

    def _new_dag(self, dag_id: str, kwargs: dict[str, ast.expr], node: ast.AST) -> FoundDag:
        dag = FoundDag(dag_id, kwargs, node)
        self.dags.append(dag)
        return dag

    # ------------------------------------------------------------------ with blocks

    def _with(self, node: ast.With, env: dict[str, Any]) -> None:
        pushed_dags, pushed_groups = 0, 0
        for item in node.items:
            call = item.context_expr
            value = None
            if isinstance(call, ast.Call) and self._class_name(call.func) in DAG_CLASSES:
                value = self._dag_call(call)
                self.dag_stack.append(value)
                pushed_dags += 1
            elif isinstance(call, ast.Call) and self._class_name(call.func) in GROUP_CLASSES:
                value = self._push_group(call, _kwargs(call))
                pushed_groups += 1
            elif isinstance(call, ast.Name) and isinstance(env.get(call.id), FoundDag):
                value = env[call.id]
                self.dag_stack.append(value)
                pushed_dags += 1
            if item.optional_vars is not None and value is not None:
                self._bind(item.optional_vars, value if isinstance(value, FoundDag) else Tasks((value,)), env)
        self._body(node.body, env)
        for _ in range(pushed_groups):
            self.groups.pop()
        for _ in range(pushed_dags):
            self.dag_stack.pop()

    def _dag_call(self, call: ast.Call) -> FoundDag:
        dag_id = _first_string(call, "dag_id")
        dag = self._new_dag(dag_id or "", _kwargs(call), call)
        if dag_id is None:
            dag.problems.append(("the DAG id is not a literal string", call.lineno))
        return dag

    def _push_group(self, call: ast.Call, kwargs: dict[str, ast.expr], default_id: str | None = None) -> Group:
        group_id = _first_string(call, "group_id") if call is not None else None
        group_id = group_id or default_id or "group"
        prefixed = not (isinstance(kwargs.get("prefix_group_id"), ast.Constant)
                        and kwargs["prefix_group_id"].value is False)
        parent = self.groups[-1].prefix if self.groups else ""
        group = Group(group_id, parent + (f"{group_id}." if prefixed else ""), kwargs)
        self.groups.append(group)
        dag = self._current_dag()
        if dag is not None:
            self.all_groups.append((dag, group))
        return group

    # ------------------------------------------------------------------ functions

    def _function(self, node: ast.FunctionDef, env: dict[str, Any]) -> None:
        for decorator in node.decorator_list:
            name, kwargs, args = _decorator(decorator)
            head, _, rest = name.partition(".")
            head = self.aliases.get(head, head)
            if head == "dag" and not rest:
                env[node.name] = DagFunction(node, kwargs, args)
                return
            if head == "task_group" and not rest:
                env[node.name] = GroupFunction(node, kwargs, args)
                return
            if head == "task":
                env[node.name] = TaskFlowFunction(node, f"task.{rest}" if rest else "task", kwargs)
                return
        env[node.name] = node

    def _dag_function(self, function: DagFunction, call: ast.Call | None) -> FoundDag:
        dag_id = None
        node = function.kwargs.get("dag_id") or (function.args[0] if function.args else None)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            dag_id = node.value
        dag = self._new_dag(dag_id or function.node.name, function.kwargs, function.node)
        if dag.kwargs.get("description") is None and ast.get_docstring(function.node):
            dag.kwargs = {**dag.kwargs, "description": ast.Constant(ast.get_docstring(function.node))}
        self.dag_stack.append(dag)
        self._body(function.node.body, dict(self.env))
        self.dag_stack.pop()
        return dag

    # ------------------------------------------------------------------ expressions

    def _expr(self, node: ast.expr | None, env: dict[str, Any]) -> Any:
        if node is None:
            return None
        if isinstance(node, ast.Name):
            return env.get(node.id, self.env.get(node.id))
        if isinstance(node, (ast.List, ast.Tuple)):
            values = [self._expr(e, env) for e in node.elts]
            items = tuple(i for v in values if isinstance(v, Tasks) for i in v.items)
            return Tasks(items, whole=False) if items or not node.elts else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.RShift, ast.LShift)):
            return self._shift(node, env)
        if isinstance(node, ast.Attribute):
            base = self._expr(node.value, env)
            if isinstance(base, Tasks) and node.attr == "output":
                return base
            return None
        if isinstance(node, ast.Subscript):
            base = self._expr(node.value, env)  # `t["key"]`: an XComArg of t, for one of its values
            return Tasks(base.items, whole=False) if isinstance(base, Tasks) else None
        if isinstance(node, ast.Call):
            return self._call(node, env)
        return None

    def _shift(self, node: ast.BinOp, env: dict[str, Any]) -> Any:
        left, right = self._expr(node.left, env), self._expr(node.right, env)
        if not isinstance(left, Tasks) or not isinstance(right, Tasks):
            self._problem("an edge whose tasks static analysis cannot name", node)
            return right
        upstream, downstream = (left, right) if isinstance(node.op, ast.RShift) else (right, left)
        self._connect(upstream, downstream, node.lineno)
        return right

    def _connect(self, upstream: Tasks, downstream: Tasks, line: int) -> None:
        dag = self._dag_of(upstream) or self._dag_of(downstream)
        if dag is None:
            return
        for up in upstream.items:
            for down in downstream.items:
                dag.edges.append((up, down, line))  # groups are resolved when the walk ends

    def _dag_of(self, tasks: Tasks) -> FoundDag | None:
        for item in tasks.items:
            for dag in self.dags:
                if (isinstance(item, str) and item in dag.tasks) or any(g is item for d, g in self.all_groups
                                                                        if d is dag):
                    return dag
        return None

    def _problem(self, message: str, node: ast.AST) -> None:
        dag = self._current_dag() or (self.dags[-1] if self.dags else None)
        if dag is not None:
            dag.problems.append((message, getattr(node, "lineno", 0)))

    def _call(self, node: ast.Call, env: dict[str, Any]) -> Any:
        func = node.func
        name = self._class_name(func)
        target = self._expr(func, env) if isinstance(func, (ast.Name, ast.Call)) else None
        if name in DAG_CLASSES:
            return self._dag_call(node)
        if isinstance(target, DagFunction):
            self.called_dag_functions.add(func.id)
            return self._dag_function(target, node)
        if isinstance(target, TaskFlowFunction):
            return self._taskflow(target, node, env)
        if isinstance(target, GroupFunction):
            return self._group_function(target, node, env)
        if name in ("chain", "chain_linear"):
            return self._chain(node, env)
        if name == "cross_downstream":
            return self._cross(node, env)
        if isinstance(func, ast.Attribute):
            return self._method(node, func, env)
        if is_operator_name(name):
            return self._operator(name, node, _kwargs(node), env)
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            self._expr(arg, env)  # edges written inside other calls still count
        return None

    def _method(self, node: ast.Call, func: ast.Attribute, env: dict[str, Any]) -> Any:
        if func.attr in ("set_downstream", "set_upstream"):
            base = self._expr(func.value, env)
            other = self._expr(node.args[0], env) if node.args else None
            if isinstance(base, Tasks) and isinstance(other, Tasks):
                up, down = (base, other) if func.attr == "set_downstream" else (other, base)
                self._connect(up, down, node.lineno)
            else:
                self._problem(f"{func.attr} with tasks static analysis cannot name", node)
            return None
        if func.attr in ("expand", "expand_kwargs"):
            return self._expand(node, func, env)
        if func.attr == "partial":
            return ("partial", func.value, node)
        if func.attr == "override":  # `fn.override(task_id=...)(...)` is read in _taskflow
            base = self._expr(func.value, env)
            if isinstance(base, TaskFlowFunction):
                return TaskFlowFunction(base.node, base.decorator, {**base.kwargs, **_kwargs(node)})
        return None

    def _expand(self, node: ast.Call, func: ast.Attribute, env: dict[str, Any]) -> Any:
        base = func.value
        expand = _kwargs(node)
        if func.attr == "expand_kwargs":
            expand = {"<kwargs>": node.args[0]} if node.args else {}
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and base.func.attr == "partial":
            owner = base.func.value
            callee = self._expr(owner, env) if isinstance(owner, ast.Name) else None
            if isinstance(callee, TaskFlowFunction):
                return self._taskflow(callee, base, env, expand=expand, partial=True)
            name = self._class_name(owner)
            if is_operator_name(name):
                return self._operator(name, node, _kwargs(base), env, expand=expand)
        callee = self._expr(base, env)
        if isinstance(callee, TaskFlowFunction):
            return self._taskflow(callee, node, env, expand=expand)
        self._problem("an .expand() static analysis cannot follow", node)
        return None

    def _chain(self, node: ast.Call, env: dict[str, Any]) -> Any:
        values = [self._expr(a, env) for a in node.args]
        if not all(isinstance(v, Tasks) for v in values):
            self._problem("chain() with arguments static analysis cannot name", node)
            return None
        for left, right, left_node, right_node in zip(values, values[1:], node.args, node.args[1:]):
            both_lists = isinstance(left_node, (ast.List, ast.Tuple)) and isinstance(right_node, (ast.List, ast.Tuple))
            if both_lists and len(left.items) == len(right.items):  # chain pairs equal-length lists
                for up, down in zip(left.items, right.items):
                    self._connect(Tasks((up,)), Tasks((down,)), node.lineno)
            else:
                self._connect(left, right, node.lineno)
        return values[-1] if values else None

    def _cross(self, node: ast.Call, env: dict[str, Any]) -> Any:
        args = list(node.args) + [k.value for k in node.keywords]
        values = [self._expr(a, env) for a in args[:2]]
        if len(values) == 2 and all(isinstance(v, Tasks) for v in values):
            self._connect(values[0], values[1], node.lineno)
        else:
            self._problem("cross_downstream() with arguments static analysis cannot name", node)
        return None

    # ------------------------------------------------------------------ tasks

    def _dag_for(self, kwargs: dict[str, ast.expr], env: dict[str, Any]) -> FoundDag | None:
        if "dag" in kwargs:
            value = self._expr(kwargs["dag"], env)
            if isinstance(value, FoundDag):
                return value
        return self._current_dag()

    def _add(self, dag: FoundDag | None, found: Found) -> Tasks | None:
        if dag is None:
            return None
        prefix = self.groups[-1].prefix if self.groups else ""
        found.task_id = prefix + found.task_id
        found.group_kwargs = [(g.group_id, g.kwargs) for g in self.groups]
        if found.task_id in dag.tasks:
            line = getattr(found.node, "lineno", 0)
            dag.problems.append((f"task id '{found.task_id}' is used twice", line))
            return Tasks((found.task_id,))
        dag.tasks[found.task_id] = found
        for group in self.groups:
            group.tasks.append(found.task_id)
        return Tasks((found.task_id,))

    def _operator(self, name: str, node: ast.Call, kwargs: dict[str, ast.expr], env: dict[str, Any],
                  expand: dict[str, ast.expr] | None = None) -> Tasks | None:
        dag = self._dag_for(kwargs, env)
        task_id = _first_string(node, "task_id") if expand is None else None
        if expand is not None:
            node_id = kwargs.get("task_id")
            task_id = node_id.value if isinstance(node_id, ast.Constant) else None
        if task_id is None:
            self._problem(f"a {name} whose task_id is not a literal string", node)
            return None
        for value in kwargs.values():
            self._expr(value, env)  # XComArgs in arguments
        # A mapped operator waits for the tasks whose results it maps over.
        mapped = [(key, self._expr(value, env)) for key, value in (expand or {}).items()]
        found = Found(task_id, name, kwargs, node, expand=expand, partial=expand is not None,
                      xcoms=_xcom_arguments(mapped))
        return self._passed_to(self._add(dag, found), mapped, node)

    def _taskflow(self, function: TaskFlowFunction, call: ast.Call, env: dict[str, Any],
                  expand: dict[str, ast.expr] | None = None, partial: bool = False) -> Tasks | None:
        kwargs = dict(function.kwargs)
        task_id_node = kwargs.get("task_id")
        task_id = task_id_node.value if isinstance(task_id_node, ast.Constant) else function.node.name
        dag = self._dag_for(kwargs, env)
        # `f.expand(x=...)`: the call's arguments are the mapped ones; each is read once.
        arguments = _call_arguments(function.node, call) if expand is None or partial else []
        passed = [(name, self._expr(node, env)) for name, node in [*arguments, *(expand or {}).items()]]
        found = Found(task_id, function.decorator, kwargs, call, function=function.node, call=call,
                      expand=expand, partial=partial, xcoms=_xcom_arguments(passed))
        return self._passed_to(self._add(dag, found), passed, call)

    def _passed_to(self, made: Tasks | None, passed: list[tuple[str | None, Any]], node: ast.AST) -> Tasks | None:
        """A task's result passed to another task is an edge."""
        if made is None:
            return None
        for _, value in passed:
            if isinstance(value, Tasks):
                self._connect(value, made, getattr(node, "lineno", 0))
        return made

    def _group_function(self, function: GroupFunction, call: ast.Call, env: dict[str, Any]) -> Any:
        group_node = function.kwargs.get("group_id") or (function.args[0] if function.args else None)
        group_id = group_node.value if isinstance(group_node, ast.Constant) else function.node.name
        group = self._push_group(None, function.kwargs, default_id=group_id)  # type: ignore[arg-type]
        inner = dict(self.env)
        inner.update(env)
        for parameter, argument in zip(function.node.args.args, call.args):
            inner[parameter.arg] = self._expr(argument, env)
        self._body(function.node.body, inner)
        self.groups.pop()
        return Tasks((group,))

    # ------------------------------------------------------------------ groups

    def _resolve_groups(self) -> None:
        """Edges to a group go to its roots, edges from a group leave from its leaves. Airflow
        takes a group's roots and leaves when `>>` runs, so each edge is resolved with the edges
        made before it (in file order), including those another group's edges made: `prep >>
        inner` makes prep the only root of the group around both."""
        for dag in self.dags:
            resolved: list[tuple[str, str, int]] = []
            for up, down, line in dag.edges:
                ups = _ends(up, resolved, leaves=True) if isinstance(up, Group) else [up]
                downs = _ends(down, resolved, leaves=False) if isinstance(down, Group) else [down]
                resolved += [(u, d, line) for u in ups for d in downs]
            dag.edges = resolved


def _call_arguments(function: ast.FunctionDef, call: ast.Call) -> list[tuple[str | None, ast.expr]]:
    """A TaskFlow call's arguments by the function's parameter names (None: no name, as `*args`)."""
    names = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    positional = [(names[index] if index < len(names) else None, node) for index, node in enumerate(call.args)]
    return positional + [(keyword.arg, keyword.value) for keyword in call.keywords]


def _xcom_arguments(passed: list[tuple[str | None, Any]]) -> dict[str, str]:
    """Argument name -> task id, for the arguments that are one task's whole return value."""
    return {name: value.single for name, value in passed
            if name and name.isidentifier() and isinstance(value, Tasks) and value.single}


def _ends(group: Group, edges: list[tuple[str, str, int]], *, leaves: bool) -> list[str]:
    members = set(group.tasks)
    inside = [(u, d) for u, d, _ in edges if u in members and d in members]
    if leaves:
        return [t for t in group.tasks if not any(u == t for u, _ in inside)]
    return [t for t in group.tasks if not any(d == t for _, d in inside)]
