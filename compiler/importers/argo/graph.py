"""The task graph: the entrypoint template and the dag / steps templates it calls (inlined, their
tasks prefixed with the caller's name) become the pipeline's tasks, with their order, fan-out
(withItems / withParam / withSequence) and conditions."""

from __future__ import annotations

import copy
import re

from compiler.importers.base import line_of, plain
from compiler.importers.limits import expansion_problem
from compiler.language.placeholders import escaped

from .alerts import hook_alerts
from .conditions import depends, when
from .containers import template_extras
from .leaf import leaf_task
from .state import ReadState
from .stop import ImportStop
from .values import as_text, inputs_scope, node_arguments, param_default, pipeline_text, typed_value

MAX_ID = 63
# A dag / steps template's settings that apply to the group as a whole (retry it, time it out...).
_GROUP_POLICIES = ("retryStrategy", "activeDeadlineSeconds", "timeout", "memoize", "synchronization")
_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def _dag_order(nodes: dict[str, dict], line: int | None) -> list[str]:
    """DAG task names, each after those it depends on (Argo allows any order in the list): a
    depth-first walk of the upstream tasks, without recursion (a long chain is not a deep stack)."""
    order: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()
    for root, node in nodes.items():
        if root in done:
            continue
        visiting.add(root)
        stack = [(root, iter(_node_upstream(node, nodes)))]
        while stack:
            name, upstream = stack[-1]
            for previous in upstream:
                if previous in done:
                    continue
                if previous in visiting:
                    raise ImportStop(f"the dag has a cycle through '{previous}'", line)
                visiting.add(previous)
                stack.append((previous, iter(_node_upstream(nodes[previous], nodes))))
                break
            else:
                stack.pop()
                visiting.discard(name)
                done.add(name)
                order.append(name)
    return order


def _node_upstream(node: dict, nodes: dict) -> list[str]:
    if node.get("dependencies"):
        return [str(n) for n in node["dependencies"] if str(n) in nodes]
    text = str(node.get("depends") or "")
    return [name for name in dict.fromkeys(re.findall(r"[A-Za-z0-9][-A-Za-z0-9_]*", text)) if name in nodes]


def _fail_fast_matters(order: list[str], names: dict) -> bool:
    """Whether a failure can keep a task from starting under Argo's failFast: some task T does not
    depend on a task U that can fail before T is ready (T waits for a task U does not wait for)."""
    ancestors: dict[str, set[str]] = {}
    for name in order:
        ancestors[name] = set()
        for upstream in _node_upstream(names[name], names):
            ancestors[name] |= ancestors[upstream] | {upstream}
    return any(not ancestors[late] <= ancestors[other]
               for late in order for other in order
               if other != late and other not in ancestors[late] and late not in ancestors[other])


# $1 start (default 0), $2 end, $3 count (wins over end), $4 printf format, $5 the output file: the
# JSON list Argo's withSequence gives (numbers; with a format, the formatted texts).
SEQUENCE_SCRIPT = r"""start=${1:-0} end=$2 count=$3 format=$4 out=$5
if [ -n "$count" ]; then
  if [ "$count" -le 0 ]; then printf '[]' >"$out"; exit 0; fi
  end=$((start + count - 1))
fi
step=1
if [ "$end" -lt "$start" ]; then step=-1; fi
sep='' i=$start
printf '[' >"$out"
while :; do
  if [ -n "$format" ]; then
    value=$(printf "$format" "$i" | sed 's/\\/\\\\/g; s/"/\\"/g')
    printf '%s"%s"' "$sep" "$value" >>"$out"
  else
    printf '%s%d' "$sep" "$i" >>"$out"
  fi
  sep=,
  if [ "$i" -eq "$end" ]; then break; fi
  i=$((i + step))
done
printf ']' >>"$out"
"""


def _sequence_numbers(sequence: dict, line: int | None) -> list[int] | None:
    """The numbers of a withSequence whose bounds are literal; None when one is known only at run time."""
    try:
        start = int(str(sequence.get("start", 0)))
        end = start + int(str(sequence["count"])) - 1 if "count" in sequence else int(str(sequence["end"]))
    except ValueError:
        return None
    except KeyError:
        raise ImportStop("withSequence needs a count or an end", line) from None
    if "count" in sequence and end < start:
        return []
    problem = expansion_problem(abs(end - start) + 1, "withSequence")  # counted before it is built
    if problem is not None:
        raise ImportStop(problem, line)
    return list(range(start, end + 1)) if end >= start else list(range(start, end - 1, -1))


def _printf(pattern: str, number: int) -> str:
    try:
        return pattern % number
    except (TypeError, ValueError):
        return str(number)


def expand(state: ReadState, template_name: str, scope: dict, prefix: str, after: list[str], line: int | None,
           stack: list[str], rule: str | None = None) -> tuple[list[str], list[str]]:
    """Add the tasks of a template, run after `after`; returns (first tasks, last tasks)."""
    template = state.templates.get(template_name)
    if template is None:
        raise ImportStop(f"template '{template_name}' is not in this file", line,
                         help="templateRef to another WorkflowTemplate is not followed: inline the template")
    if template_name in stack:
        raise ImportStop(f"template '{template_name}' calls itself (recursion): a pipeline is a fixed graph",
                         line_of(template), help="unroll the recursion into a loop (withItems/withParam)")
    stack = stack + [template_name]
    if "containerSet" in template:
        template = state.templates[template_name] = _container_set_as_dag(state, template_name, template)
    if "dag" in template:
        return _dag(state, template, scope, prefix, after, stack)
    if "steps" in template:
        return _steps(state, template, scope, prefix, after, stack)
    task_id = _new_id(state, prefix or template_name)
    state.report.place(("tasks", task_id), line)  # a value the validator refuses is an error here
    state.tasks[task_id] = leaf_task(state, template, inputs_scope(state, template, scope, line), task_id)
    if after:
        state.tasks[task_id]["after"] = list(after)
    if rule:
        state.tasks[task_id]["trigger_rule"] = rule
    return [task_id], [task_id]


def _container_set_as_dag(state: ReadState, template_name: str, template: dict) -> dict:
    """A containerSet runs its containers in one pod, ordered by their dependencies: as a dag of
    container tasks, when they share no files (no inputs, outputs or volumes)."""
    line = line_of(template, "containerSet")
    if any(key in template for key in ("inputs", "outputs", "volumes")):
        raise ImportStop(f"template '{template_name}' is a containerSet with inputs, outputs or volumes: its "
                         "containers share one pod and its files, which separate tasks do not", line,
                         help="port it by hand: one task, or tasks passing artifacts")
    container_set = template["containerSet"] or {}
    for key in container_set:
        if key != "containers":
            state.report.loss(f"containerSet {key} is not carried", line_of(container_set, key))
    tasks = []
    for container in container_set.get("containers") or []:
        name = str(container.get("name"))
        leaf = copy.copy(container)  # keeps the source lines
        dependencies = leaf.pop("dependencies", None) or []
        qualified = f"{template_name}/{name}"  # '/' is never in an Argo name: no clash
        state.templates[qualified] = {"name": qualified, "container": leaf,
                                      **{k: v for k, v in template.items() if k not in ("name", "containerSet")}}
        tasks.append({"name": name, "template": qualified, "dependencies": list(dependencies)})
    state.report.loss(f"containerSet '{template_name}': its containers run as separate tasks, in the same order, "
                      "each in its own pod", line, approximate=True)
    return {"name": template_name, "dag": {"tasks": tasks}}


def _dag(state: ReadState, template: dict, scope: dict, prefix: str, after: list[str], stack: list[str]):
    dag = template["dag"] or {}
    _group_template(state, template, "dag", stack)
    for key in dag:
        if key not in ("tasks", "target", "failFast"):
            state.report.loss(f"dag {key} is not carried", line_of(dag, key))
    nodes = [n for n in dag.get("tasks") or [] if isinstance(n, dict)]
    names = {str(n.get("name")): n for n in nodes}
    ends: dict[str, tuple[list[str], list[str]]] = {}
    order = _dag_order(names, line_of(dag, "tasks"))
    if dag.get("failFast", True) is not False and _fail_fast_matters(order, names):
        state.report.loss(f"dag template '{template.get('name')}': after a task fails, Argo starts no new task "
                          "(failFast, its default); the pipeline still runs the tasks that do not depend on the "
                          "failed one", line_of(dag, "failFast") or line_of(template, "dag"), approximate=True,
                          help="the runs differ only when a task fails")
    downstream = {name for node in nodes for name in _node_upstream(node, names)}
    firsts, lasts = [], []
    for name in order:
        node = names[name]
        upstream, rule = depends(state, node, ends)
        child_prefix = f"{prefix}-{name}" if prefix else name
        first, last = _node(state, node, scope, child_prefix, upstream or list(after), rule, stack)
        ends[name] = (first, last)
        if not _node_upstream(node, names):
            firsts += first
        if name not in downstream:
            lasts += last
    return firsts, lasts


def _steps(state: ReadState, template: dict, scope: dict, prefix: str, after: list[str], stack: list[str]):
    _group_template(state, template, "steps", stack)
    previous = list(after)
    previous_conditional = False
    firsts: list[str] = []
    last_group: list[str] = []
    for group in template["steps"] or []:
        group = group if isinstance(group, list) else [group]
        group_lasts: list[str] = []
        conditional = False
        for step in group:
            child_prefix = f"{prefix}-{step.get('name')}" if prefix else str(step.get("name"))
            # Argo runs a group after every step of the previous one, skipped ones included.
            rule = "none_failed" if previous_conditional else None
            first, last = _node(state, step, scope, child_prefix, previous, rule, stack)
            if not firsts or previous == list(after):
                firsts += first
            group_lasts += last
            conditional = conditional or "when" in step
        if group_lasts:
            previous, previous_conditional, last_group = group_lasts, conditional, group_lasts
    return firsts, last_group


def _group_template(state: ReadState, template: dict, kind: str, stack: list[str]) -> None:
    """A dag or steps template's own settings. Its `parallelism` caps its running children
    (the pods, and the dag/steps nodes, it directly runs): when it is the entrypoint and every
    child is a container or script, that is how many tasks of a run run at once."""
    allowed = (kind, "parallelism") if len(stack) == 1 and _entry_parallelism(state, template, kind) else (kind,)
    for key in _GROUP_POLICIES:
        if key in template:
            state.report.loss(f"{kind} template '{template.get('name')}': {key} (of the whole group of tasks) is "
                              "not carried", line_of(template, key))
    template_extras(state, template, allowed, f"{kind} template")  # the keys above are not among its losses
    _group_outputs(state, template)


def _entry_parallelism(state: ReadState, template: dict, kind: str) -> bool:
    """Reads the entrypoint's `parallelism` into entry_parallelism when it means max_active_tasks."""
    limit = str(template.get("parallelism", "")).strip()
    if not limit.isdigit() or int(limit) < 1:
        return False
    if kind == "dag":
        nodes = (template["dag"] or {}).get("tasks") or []
    else:
        nodes = [s for g in template["steps"] or [] for s in (g if isinstance(g, list) else [g])]
    for node in nodes:
        if not isinstance(node, dict) or node.get("templateRef"):
            return False
        called = node.get("inline") if node.get("inline") else state.templates.get(str(node.get("template")))
        if not isinstance(called, dict) or not ("container" in called or "script" in called):
            return False
    state.entry_parallelism = int(limit)
    return True


def _group_outputs(state: ReadState, template: dict) -> None:
    """A dag/steps template's outputs re-export its tasks' outputs: the pipeline has none."""
    for key in ("inputs", "outputs"):
        for kind in ("parameters", "artifacts"):
            for entry in (template.get(key) or {}).get(kind) or []:
                if key == "outputs" or entry.get("valueFrom") or entry.get("from"):
                    state.report.loss(f"{key[:-1]} {kind[:-1]} '{entry.get('name')}' of the "
                                      f"{'dag' if 'dag' in template else 'steps'} template "
                                      f"'{template.get('name')}' is not carried", line_of(entry))


def _node(state: ReadState, node: dict, scope: dict, prefix: str, after: list[str], rule: str | None, stack: list[str]):
    """A DAG task or a step: its template, inlined when it is a dag/steps template."""
    line = line_of(node)
    template_name = str(node.get("template"))
    if node.get("templateRef"):
        template_name, library = state.companions.template_library(node["templateRef"],
                                                                   line_of(node, "templateRef"))
        for name, template in library.items():
            state.templates.setdefault(name, template)
    if node.get("inline"):
        template_name = f"{prefix} (inline)"
        state.templates[template_name] = {**node["inline"], "name": template_name}
    template = state.templates.get(template_name)
    if template is None:
        raise ImportStop(f"template '{template_name}' is not in this file", line)
    arguments = node_arguments(state, node, scope)
    if "containerSet" in template:
        template = state.templates[template_name] = _container_set_as_dag(state, template_name, template)
    if "dag" in template or "steps" in template:
        for key in ("withItems", "withParam", "withSequence", "when"):
            if key in node:
                raise ImportStop(f"'{node.get('name')}' runs a {('dag' if 'dag' in template else 'steps')} "
                                 f"template with {key}: a group of tasks cannot be fanned out or skipped "
                                 "as one", line_of(node, key),
                                 help="move the loop or the condition onto the tasks inside")
        _node_extras(state, node)
        inner = inputs_scope(state, template, arguments, line)
        return expand(state, template_name, inner, prefix, after, line, stack, rule)
    task_id = _new_id(state, prefix)
    state.report.place(("tasks", task_id), line)  # a value the validator refuses is an error here
    task = leaf_task(state, template, inputs_scope(state, template, arguments, line), task_id)
    if after:
        task["after"] = list(after)
    if rule:
        task["trigger_rule"] = rule
    _loop(state, node, scope, task, task_id)
    when(state, node, scope, task, task_id)
    hook_alerts(state, node, task)
    _node_extras(state, node)
    state.tasks[task_id] = task
    return [task_id], [task_id]


def _node_extras(state: ReadState, node: dict) -> None:
    known = {"name", "template", "templateRef", "inline", "arguments", "depends", "dependencies", "when", "withItems",
             "withParam", "withSequence", "hooks", "onExit"}
    for key in node:
        if key not in known:
            state.report.loss(f"'{node.get('name')}': {key} is not carried", line_of(node, key))
    if node.get("onExit"):
        state.report.loss(f"'{node.get('name')}': the exit template '{node['onExit']}' of a task is not carried "
                          "(an alert runs a command, on failure or success)", line_of(node, "onExit"))


def _new_id(state: ReadState, argo_name: str) -> str:
    base = (state.exact_ids.get(argo_name) or argo_name.replace("-", "_")) if state.managed else argo_name
    base = _ID_CHARS.sub("_", base)
    if not base or not base[0].isalpha():
        base = "t_" + base
    base = base[:MAX_ID].rstrip("-_") or "t"
    name, counter = base, state.name_counters.get(("task", base), 2)
    while name in state.tasks:  # tasks are never removed: the suffixes tried before are still taken
        suffix = f"_{counter}"
        name, counter = base[:MAX_ID - len(suffix)] + suffix, counter + 1
    state.name_counters[("task", base)] = counter
    if argo_name not in state.argo_ids:
        state.path_suffixes[argo_name] = argo_name
        for index, char in enumerate(argo_name):
            if char == "-":
                state.path_suffixes[argo_name[index + 1:]] = argo_name
    state.argo_ids[argo_name] = name
    return name


def _loop(state: ReadState, node: dict, scope: dict, task: dict, task_id: str) -> None:
    if "withItems" in node:
        problem = expansion_problem(len(node["withItems"] or []), "withItems")
        if problem is not None:
            raise ImportStop(problem, line_of(node, "withItems"))
        items = plain(node["withItems"])
        task["foreach"] = escaped(items)
    elif "withParam" in node:
        text = pipeline_text(state, as_text(plain(node["withParam"])), scope, line_of(node, "withParam"))
        literal = typed_value(text)
        if isinstance(literal, list):
            problem = expansion_problem(len(literal), "withParam")
            if problem is not None:
                raise ImportStop(problem, line_of(node, "withParam"))
            task["foreach"] = literal
            return
        if not re.fullmatch(r"\$\{\{ [^}]+ \}\}", text):
            raise ImportStop(f"withParam '{node['withParam']}' is not a param or an upstream output",
                             line_of(node, "withParam"))
        task["foreach"] = text
        match = re.fullmatch(r"\$\{\{ tasks\.([^.]+)\.outputs\.([^ ]+) \}\}", text)
        if match:
            state.outputs_used.setdefault((match.group(1), match.group(2)), set()).add("list")
        match = re.fullmatch(r"\$\{\{ params\.([^ ]+) \}\}", text)
        if match and not isinstance(param_default(state.params.get(match.group(1))), list):
            state.report.loss(f"param '{match.group(1)}' is a JSON list at run time: its default is not one",
                              line_of(node, "withParam"), approximate=True)
    elif "withSequence" in node:
        sequence = node["withSequence"] or {}
        line = line_of(node, "withSequence")
        numbers = _sequence_numbers(sequence, line)
        if numbers is None:
            task["foreach"] = _sequence_task(state, sequence, scope, task, task_id, line)
        elif sequence.get("format"):
            task["foreach"] = [_printf(str(sequence["format"]), n) for n in numbers]
        else:
            task["foreach"] = numbers


def _sequence_task(state: ReadState, sequence: dict, scope: dict, task: dict, task_id: str, line: int | None) -> str:
    """withSequence bounds known only at run time: an added task prints the sequence (a JSON
    list), and the loop runs over its output."""
    values = [pipeline_text(state, as_text(plain(sequence.get(key, ""))), scope, line)
              for key in ("start", "end", "count", "format")]
    sequence_id = _new_id(state, f"{task_id}-sequence")
    state.tasks[sequence_id] = {"command": ["sh", "-c", SEQUENCE_SCRIPT, "sequence", *values,
                                            "${{ outputs.items }}"],
                                "outputs": {"items": {"type": "list"}}}
    if task.get("after"):
        state.tasks[sequence_id]["after"] = list(task["after"])
    state.report.loss(f"'{task_id}' loops over a withSequence known only at run time: the added task "
                      f"'{sequence_id}' prints the sequence and the loop runs over its output", line,
                      approximate=True)
    return f"${{{{ tasks.{sequence_id}.outputs.items }}}}"
