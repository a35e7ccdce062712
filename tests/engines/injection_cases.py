"""The drawn pipelines of the injection tests, shared by every target's (engines/<target>/
test_*_injection.py): the cases (PipelineCase, TaskCase, AlertCase), the Hypothesis strategies that
draw their texts salted with what breaks generators, the YAML they are written as, the text each
field must reach the engine as (`expected`), and the checks of a compile's refusals. Each target's
test adds what its engine cannot take and how it reads the fields back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine_harness import Compiled
from hypothesis import strategies as st
from injection_rules import ARTIFACT, VALID_ID, Refusals, ids_are_valid, secret_keys, secret_names

from compiler.diagnostics import _printable as shown  # a path as diagnostics print it
from compiler.language.placeholders import Ref, escaped
from compiler.language.placeholders import parse as parse_placeholders

# Every pipeline has these params; texts refer to them through placeholders.
PARAMS = ("p0", "p1", "n")  # two strings (drawn) and an int (drawn)


OUT = "<outputs.o>"  # what the runner resolves `${{ outputs.o }}` to


ITEMS = "items"  # the list param a task may map over (`foreach: ${{ params.items }}`)


ENV_NAMES = ("A", "B_2", "LANG_X")


IMAGE = "alpine:3.20"


PROBE_MODULE = "dagshift_probe"


PYTHON_TARGET = f"{PROBE_MODULE}:record"  # airflow_runner.py records the call instead of making it


# Keys of python args: names, keywords, and keys no `key=` can pass (Python reads a non-ASCII
# identifier in its NFKC form: `ﬁ=` passes `fi`).
ARG_KEYS = ["k0", "k1", "class", "self", "params", "a b", "k-1", "ﬁ", "µ", "ℌ", "", "9", "json", "sys", "fn"]


NASTY = [
    "'", '"', "'''", '"""', "\\", "\\\\", "\\n", "\\x00", "\n", "\r\n", "\r", "\t", " ", "\u00a0",
    "{{ x }}", "{{", "}}", "{", "}", "{%", "%}", "{% if x %}y{% endif %}", "{% raw %}", "{#", "#}", "{# c #}",
    "{{-", "-}}", "{{ '{' }}", "${ x }", "${x}", "$x", "$", "$$", "$${{ params.p0 }}", "$${{", "${{", "$${{ nope }}",
    "`id`", "$(id)", ";", "&&", "|", ">", "<", "#", "%", "%%", "%s", "{0}", "{}",
    ".sh", ".bash", ".json", ".yaml", ".md", "é", "ß", "\u2028", "\u0085", "\u202e", "\u200b", "\ufeff",
    "\U0001f600", "\U0001d518", "𝔘𝔫𝔦", "中文", "\\N{BULLET}", "\\u00e9", "\\U0001F600", "{!r}", "}}{{",
]


TAILS = ["", ".sh", ".bash", ".env", " x.sh", "\n", "{", "\r"]


# Valid ids that collide with what a generated module defines or imports, or with the helpers.
TRICKY_IDS = [
    "run", "text", "value", "output", "items", "call", "execute", "typed", "alert", "pluck", "SPECS", "TYPES",
    "enter_workdir", "environment", "json_text", "read_json", "read_text", "record", "main", "command", "outputs",
    "result", "subprocess", "tempfile", "contextlib", "TypedDict", "Variable", "functools", "pendulum", "k8s",
    "list", "dict", "str", "type", "print", "open", "len", "isinstance", "Exception", "dag", "task", "DAG", "json",
    "os", "sys", "Param", "BashOperator", "WORKDIR", "context", "item", "params", "ti", "when_a", "class", "None",
    "True", "match", "a--branch", "a--items", "x__y", "A", "z9", "a-b-c",
]


@dataclass
class AlertCase:
    """A python alert: PYTHON_TARGET called with `args`, which take no placeholders (as written)."""

    on: str  # "failure" or "success"
    args: dict[str, Any]


@dataclass
class TaskCase:
    task_id: str
    # "bash", "bash_out" (a shell task with a value output: runtime), "argv", "python", "container",
    # "foreach" (a shell task mapped over a literal list), "python_image" (python in an image),
    # "param_foreach" / "pod_foreach" / "python_foreach" (a shell task / a container / a python
    # task mapped over the param ITEMS)
    kind: str
    command: Any = None  # str, or list of str
    env: dict[str, str] = field(default_factory=dict)
    args: Any = None  # python: dict; container: list
    description: str | None = None
    image: str = IMAGE
    pool: str | None = None
    secret: tuple[str, str] | None = None  # (name, key), read into env SECRET_ENV
    items: list[str] | None = None  # foreach
    when_literal: str | None = None  # when: params.p0 == 'LITERAL'
    else_of: str | None = None  # the task whose `when` is false when this one runs
    output_path: str | None = None  # bash_out: the value output's `path`
    consumes: list[str] = field(default_factory=list)
    produces: list[str] = field(default_factory=list)
    alert: AlertCase | None = None
    resources: dict[str, Any] | None = None  # cpu, memory, gpu, gpu_type


@dataclass
class PipelineCase:
    name: str
    description: str | None
    defaults: dict[str, Any]  # param -> default (ITEMS: a list)
    param_descriptions: dict[str, str]
    tasks: list[TaskCase]
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    workdir: str | None = None
    enum_extra: str | None = None  # p0 is an enum of [its default, this]
    artifact: tuple[str, str | None] | None = None  # artifact ARTIFACT: (path, description)
    artifact_produced: bool = False  # a task produces it (a URI: an Airflow asset), else it is external
    alert: str | None = None  # the pipeline's failure alert command
    python_alert: AlertCase | None = None  # the pipeline's python alert (after `alert`)
    task_alert: AlertCase | None = None  # `defaults: {alerts: [...]}`: of each task without its own
    trigger_uri: str | None = None
    container: str = "kpo"  # Airflow's `--option container=`


SECRET_ENV = "S"


POD_KINDS = ("container", "python_image", "pod_foreach")


PYTHON_KINDS = ("python", "python_image", "python_foreach")


MAPPED_OVER_ITEMS = ("param_foreach", "pod_foreach", "python_foreach")


MAPPED_KINDS = ("foreach", "param_foreach", "python_foreach")  # TaskFlow tasks: what each item runs


def task_alert(case: PipelineCase, task: TaskCase) -> AlertCase | None:
    """A task's own alert, else the one under `defaults` (a task's own key wins)."""
    return task.alert or case.task_alert


def runs(case: PipelineCase, task: TaskCase) -> bool:
    """Whether the task runs with the param defaults: its `when` holds, or the `when` of the task
    it is the else branch of does not."""
    if task.else_of is not None:
        return not runs(case, next(t for t in case.tasks if t.task_id == task.else_of))
    return task.when_literal is None or task.when_literal == case.defaults["p0"]


def expected(text: str, case: PipelineCase, *, whole_value: bool = False, item: Any = None) -> Any:
    """What a text means: literal segments as they are, `${{ params.X }}` as the default's text
    (docs/pipeline-syntax.md "Values at run time"), `${{ item }}` as the item's; a whole-value
    placeholder keeps its type."""
    segments, errors = parse_placeholders(text)
    assert not errors, text
    if whole_value and len(segments) == 1 and isinstance(segments[0], Ref):
        return _ref_value(segments[0], case, item)
    return "".join(s if isinstance(s, str) else as_text(_ref_value(s, case, item)) for s in segments)


def meaning(value: Any, case: PipelineCase, item: Any = None) -> Any:
    """What a python task's argument means: texts as `expected` (a whole placeholder typed),
    inside lists and mappings too (keys as they are)."""
    if isinstance(value, list):
        return [meaning(v, case, item) for v in value]
    if isinstance(value, dict):
        return {k: meaning(v, case, item) for k, v in value.items()}
    return expected(value, case, whole_value=True, item=item) if isinstance(value, str) else value


def _ref_value(ref: Ref, case: PipelineCase, item: Any = None) -> Any:
    if ref.kind == "param":
        return case.defaults[ref.name]
    if ref.kind == "artifact":
        assert case.artifact is not None
        return case.artifact[0]
    if ref.kind == "item":
        return item
    assert ref.kind == "output", ref
    return OUT


def as_text(value: Any) -> str:
    """The text rule: strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def yaml_scalar(value: Any) -> str:
    """A YAML double-quoted scalar that reads back as exactly `value` (escapes for all but
    printable ASCII, so no YAML or file-level rule can change it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    out = []
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def yaml_flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_scalar(k)}: {yaml_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_flow(v) for v in value) + "]"
    return yaml_scalar(value)


def pipeline_data(case: PipelineCase) -> dict[str, Any]:
    data: dict[str, Any] = {"name": case.name}
    optional = {"description": case.description, "owner": case.owner, "workdir": case.workdir}
    data.update({key: value for key, value in optional.items() if value is not None})
    if case.tags:
        data["tags"] = case.tags
    data["params"] = {
        name: {"type": _param_type(default), "default": default,
               **({"description": case.param_descriptions[name]} if name in case.param_descriptions else {})}
        for name, default in case.defaults.items()
    }
    if case.enum_extra is not None:
        data["params"]["p0"]["enum"] = [case.defaults["p0"], case.enum_extra]
    if case.artifact is not None:
        path, description = case.artifact
        data["artifacts"] = {ARTIFACT: {"path": path, "external": not case.artifact_produced,
                                        **({"description": description} if description is not None else {})}}
    alerts = ([{"on": "failure", "command": case.alert}] if case.alert is not None else []) + \
        ([alert_data(case.python_alert)] if case.python_alert else [])
    if alerts:
        data["alerts"] = alerts
    if case.task_alert is not None:
        data["defaults"] = {"alerts": [alert_data(case.task_alert)]}
    if case.trigger_uri is not None:
        data["triggers"] = [{"type": "data", "uri": case.trigger_uri}]
    data["tasks"] = {task.task_id: task_data(task) for task in case.tasks}
    return data


def _param_type(default: Any) -> str:
    return {int: "int", str: "str", list: "list"}[type(default)]


def alert_data(alert: AlertCase) -> dict[str, Any]:
    return {"on": alert.on, "python": PYTHON_TARGET, "args": alert.args}


def task_data(task: TaskCase) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if task.description is not None:
        entry["description"] = task.description
    if task.kind in PYTHON_KINDS:
        entry["python"] = PYTHON_TARGET
        entry["args"] = task.args
    else:
        entry["command"] = task.command
    if task.kind in POD_KINDS:
        entry["image"] = task.image
        if task.kind != "python_image":
            entry["args"] = task.args
    if task.kind == "bash_out":
        entry["outputs"] = {"o": "str" if task.output_path is None else {"type": "str", "path": task.output_path}}
    if task.items is not None:
        entry["foreach"] = task.items
    if task.kind in MAPPED_OVER_ITEMS:
        entry["foreach"] = f"${{{{ params.{ITEMS} }}}}"
    optional = {"env": task.env, "pool": task.pool, "else_of": task.else_of, "consumes": task.consumes,
                "produces": task.produces, "resources": task.resources}
    entry.update({key: value for key, value in optional.items() if value not in (None, [], {})})
    if task.secret is not None:
        entry["secrets"] = {SECRET_ENV: {"name": task.secret[0], "key": task.secret[1]}}
    if task.when_literal is not None:
        entry["when"] = "params.p0 == " + condition_literal(task.when_literal)
    if task.alert is not None:
        entry["alerts"] = [alert_data(task.alert)]
    return entry


def condition_literal(text: str) -> str:
    """A string literal of the condition language (docs/pipeline-syntax.md "Conditions")."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _escape_stray_placeholders(text: str) -> str:
    """Turn every `${{ ... }}` that is not a known placeholder into the `$${{` escape, so the
    drawn text is a valid pipeline text that still holds both forms."""
    for _ in range(len(text) + 1):
        _, errors = parse_placeholders(text)
        if not errors:
            return text
        offset = errors[-1].offset
        text = text[:offset] + "$" + text[offset:]
    raise AssertionError(text)


def _with_output(command: str) -> str:
    """The command writing the value output; an unclosed `${{` before it would swallow it."""
    written = _escape_stray_placeholders(command + " > ${{ outputs.o }}")
    if any(isinstance(s, Ref) and s.kind == "output" for s in parse_placeholders(written)[0]):
        return written
    return _escape_stray_placeholders(command.replace("${{", "${ {") + " > ${{ outputs.o }}")


# Any code point but surrogates and NUL (validation refuses a NUL in any text, E216).
_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


_pieces = st.one_of(
    st.sampled_from(NASTY),
    st.text(_chars, max_size=6),
    st.sampled_from([f"${{{{ params.{p} }}}}" for p in PARAMS] + ["${{params.p1}}", "${{  params.n\t}}"]),
)


@st.composite
def texts(draw, *, placeholders: bool = True, tail: bool = False, min_pieces: int = 0) -> str:
    pieces = draw(st.lists(_pieces if placeholders else st.one_of(st.sampled_from(NASTY), st.text(_chars, max_size=6)),
                           min_size=min_pieces, max_size=7))
    text = "".join(pieces) + (draw(st.sampled_from(TAILS)) if tail else "")
    return _escape_stray_placeholders(text) if placeholders else text


@st.composite
def command_texts(draw) -> str:
    return "echo " + draw(texts(tail=True))


task_ids = st.one_of(
    st.sampled_from(TRICKY_IDS),
    st.from_regex(VALID_ID, fullmatch=True),
    st.text(_chars, min_size=0, max_size=12),
)


plain_texts = texts(placeholders=False)


# A literal foreach item (or an alert's arg): any text, written escaped (it holds no placeholder,
# E114 / E107); each run receives the text (`literal` reads the escapes).
item_texts = plain_texts.map(escaped)


# A text without placeholders: each one drawn is written escaped (`$${{`).
literal_texts = texts().map(lambda text: text.replace("${{", "$${{"))


arg_keys = st.one_of(st.sampled_from(ARG_KEYS), st.text(_chars, max_size=4))


numbers = st.integers(-(2**31), 2**31)


def python_args(top: st.SearchStrategy[str], nested: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments: `top` texts, numbers, and lists and mappings of `nested` texts."""
    value = st.one_of(top, top, numbers, st.lists(nested | numbers, max_size=2),
                      st.dictionaries(nested, nested, max_size=2))
    return st.dictionaries(arg_keys, value, min_size=1, max_size=3)


alert_args = st.dictionaries(arg_keys, st.one_of(item_texts, numbers, st.lists(item_texts, max_size=2)),
                             min_size=1, max_size=2)


alert_cases = st.builds(AlertCase, st.sampled_from(["failure", "success"]), alert_args)


sometimes_alert = st.one_of(st.none(), st.none(), alert_cases)  # one case in three


# The list param a task maps over: texts (placeholders there are text too) and mappings of them.
items_defaults = st.lists(plain_texts | st.dictionaries(plain_texts, plain_texts, max_size=2), min_size=1, max_size=3)


resources = st.fixed_dictionaries({}, optional={
    "cpu": st.sampled_from(["500m", "2", "0.25"]), "memory": st.sampled_from(["1Gi", "512Mi", "1G"]),
    "gpu": st.integers(0, 2), "gpu_type": plain_texts})


ITEM_ARGS = ["${{ item }}", "${{ item }}.sh", "${{ params.p0 }}${{ item }}"]  # the item: its value, in a text


KINDS = ["bash", "bash", "bash_out", "argv", "python", "container", "foreach", "python_image", "param_foreach",
         "pod_foreach", "python_foreach"]


@st.composite
def task_cases(draw, task_id: str, kinds: list[str] = KINDS) -> TaskCase:
    kind = draw(st.sampled_from(kinds))
    task = TaskCase(task_id, kind, description=draw(st.none() | plain_texts | st.text(_chars)))
    task.pool = draw(st.none() | plain_texts)
    if draw(st.integers(0, 3)) == 0:  # a branch decides whether it runs
        task.when_literal = draw(st.sampled_from([None, "p0"]) | plain_texts)
    if kind not in ("bash", "foreach") and draw(st.booleans()):  # a BashOperator never sees a secret
        task.secret = (draw(secret_names | plain_texts), draw(secret_keys | plain_texts))
    if draw(st.integers(0, 3)) == 0:
        task.alert = draw(alert_cases)
    if draw(st.integers(0, 2)) == 0:
        task.resources = draw(resources)
    if kind in ("bash", "bash_out", "foreach", "param_foreach"):
        task.command = draw(command_texts())
        if kind == "bash_out":
            task.output_path = draw(st.none() | plain_texts)
            task.command = _with_output(task.command)
        if kind == "foreach":
            task.items = draw(st.lists(item_texts, min_size=1, max_size=3))
        if kind in ("foreach", "param_foreach"):
            task.command = _escape_stray_placeholders(task.command + " ${{ item }}")
    elif kind == "argv":
        task.command = ["printf", "%s"] + draw(st.lists(texts(tail=True), min_size=1, max_size=3))
    elif kind in PYTHON_KINDS:
        task.args = draw(python_args(texts(), literal_texts))
        if kind == "python_foreach":  # the item as a whole value, or in a text
            task.args[draw(arg_keys)] = draw(st.sampled_from(ITEM_ARGS))
    elif kind == "pod_foreach":  # each item in the command and among the args
        task.command = _escape_stray_placeholders(draw(command_texts()) + " ${{ item }}")
        task.args = [*draw(st.lists(texts(tail=True), max_size=2)), "${{ item }}"]
    else:
        task.command = draw(st.one_of(command_texts(), st.lists(texts(tail=True), min_size=1, max_size=3)))
        task.args = draw(st.lists(texts(tail=True), max_size=2))
    if kind in POD_KINDS:
        task.image = draw(st.one_of(st.just(IMAGE), plain_texts.map(lambda text: IMAGE + text)))
    if kind not in PYTHON_KINDS or draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(ENV_NAMES), unique=True, max_size=2))
        task.env = {name: draw(texts(tail=True)) for name in names}
    return task


def draw_else_branches(draw, case: PipelineCase) -> None:
    """Some tasks with a `when` get another task (without one) as their else branch."""
    for task in case.tasks:
        free = [t for t in case.tasks if t.when_literal is None and t.else_of is None]
        if task.when_literal is not None and free and draw(st.booleans()):
            draw(st.sampled_from(free)).else_of = task.task_id


JINJA = "{{ x }} {% raw %} {# c #} '\" \\"


def nasty_args(nasty: str) -> dict[str, Any]:
    """Python args with keys no `key=` can pass, a lone `$${{` before a `}}` in the next value, and
    the escape nested in a list and a mapping."""
    return {"a b": "x", "ﬁ": "${{ params.p0 }}", "k0": [1, "$${{"], "k1": {"$${{ k }}": "}}", "v": "$${{ v }}"},
            "k2": "$${{ params.p0 }}", "k3": "${{ params.n }}", "class": nasty, "": JINJA + ".env"}


def _every_field(nasty: str, defaults: dict[str, Any]) -> PipelineCase:
    """Jinja and quotes in every field besides commands (a `when` literal holding `${{ }}` too):
    python alerts of the pipeline, under `defaults` and of a task, an else branch written before
    its if-branch, a list param's texts and mappings mapped over by a shell task, pods and a
    python task, python in an image, resources' gpu_type."""
    jinja = JINJA
    gpu = {"cpu": "500m", "memory": "1Gi", "gpu": 1, "gpu_type": jinja + ".sh"}
    tasks = [
        TaskCase("out", "bash_out", command="echo x > ${{ outputs.o }}", output_path=f"out/{jinja}.txt",
                 secret=("creds-1", "token.sh"), pool=jinja, when_literal=defaults["p0"], resources=gpu),
        TaskCase("otherwise", "bash", command="echo ${{ params.p0 }}", else_of="skipped"),  # before its if-branch
        TaskCase("skipped", "bash", command="echo", when_literal="a${{ params.p0 }}b'\r\n \\", pool="{{",
                 alert=AlertCase("failure", {"a b": jinja, "k": [jinja, {"$${{": "}}"}]})),
        TaskCase("not_run", "python", args={"k": jinja}, else_of="out"),
        TaskCase("each", "foreach", command="echo ${{ item }}", items=[jinja, "{", "a.sh", "\r\n"]),
        TaskCase("each_param", "param_foreach", command="echo ${{ item }} x.sh", env={"A": "${{ params.p0 }}"}),
        TaskCase("pod", "container", command="echo", args=[], image=f"alpine:{jinja}.sh", secret=("pod-creds", "key_1"),
                 resources=gpu),
        TaskCase("pods", "pod_foreach", command="echo ${{ item }} {{", args=["${{ item }}", jinja + ".sh"],
                 image=f"alpine:{jinja}"),
        TaskCase("py_pod", "python_image", args=nasty_args(nasty), image=f"alpine:{jinja}.env"),
        TaskCase("py_each", "python_foreach", args={"a b": "${{ item }}", "ﬁ": "x${{ item }}", "class": "${{ item }}"}),
        TaskCase("uses_artifact", "bash", command="cat ${{ artifacts.a }}", consumes=[ARTIFACT]),
    ]
    items = [jinja, {"k": jinja, "$${{ k }}": "${{ params.p0 }}"}, "a.sh", "${{ params.p0 }}", "\r\n"]
    return PipelineCase("inj_fields", nasty, {**defaults, ITEMS: items}, {"p0": nasty, "p1": jinja, "n": "{%"}, tasks,
                        owner=jinja, tags=[jinja, "{{", "t.sh"], workdir=f"/srv/{jinja}\r\n.sh", enum_extra=jinja,
                        artifact=(f"data/{jinja}.sh", jinja), alert="echo $${{ x }} {{ fail }}",
                        python_alert=AlertCase("success", escaped(nasty_args(nasty))),  # no placeholder (E107)
                        task_alert=AlertCase("failure", {"": "$${{ params.p0 }}", "ℌ": [jinja]}),
                        trigger_uri=f"s3://bucket/{jinja}/")


def check_compiled(case: PipelineCase, compiled: Compiled, refused: Refusals) -> bool:
    """Whether the case compiled, as it must unless it is refused, each refusal naming its field."""
    assert compiled.exception is None, f"{case.name}: {compiled.exception!r}\n{compiled.output}"
    assert "Traceback" not in compiled.output, compiled.output
    if ids_are_valid(case) and not refused:
        assert compiled.ok, f"{case.name} ({[t.task_id for t in case.tasks]}):\n{compiled.output}"
        return True
    assert compiled.exit_code == 1 and not compiled.files, f"{case.name}: {compiled.output}"
    assert "error[E" in compiled.output, compiled.output
    assert_reported(case, compiled.output, refused, "error")
    return False


def assert_reported(case: PipelineCase, output: str, diagnostics: Refusals, severity: str) -> None:
    """Each (code, YAML path) is reported, naming the field as diagnostics print it."""
    for code, where in diagnostics:
        assert f"{severity}[{code}]" in output and f"({shown(where)})" in output, \
            f"{case.name}: {code} at {where}\n{output}"
