"""User text reaches Airflow exactly, whatever it contains; task ids reach it as they are.

Hypothesis draws batches of pipelines whose every string field that reaches a DAG (descriptions,
owner, tags, workdir, param defaults, descriptions and enum values, a list param's items (texts and
mappings) a task maps over, artifact paths and descriptions, commands in string and exec form, env
values, secret names and keys, python args (keys too, and nested values), python tasks in an image,
container images, commands and arguments (KubernetesPodOperator, or DockerOperator with
`--option container=docker`), resources' gpu_type, value output paths, pools, alert commands,
python alerts' args (of the pipeline, of a task, under `defaults`), trigger URIs, `when` string
literals deciding a task and its `else_of` branch, literal foreach items) is arbitrary text salted
with what breaks generators: quotes and triple quotes, backslashes, newlines and carriage returns,
Jinja (`{{ }}`, `{% %}`, `{# #}`, a lone `{` before a placeholder), `${ }`, the `$${{` escape,
astral characters, `.sh`/`.env` endings. Every batch is compiled through the real CLI into one
folder and checked in ONE engine subprocess (airflow_runner.py inspect): the BashOperator,
KubernetesPodOperator and DockerOperator fields rendered with the DAG's own Jinja environment
(a mapped pod's fixed ones, then each item's arguments as its `__items` task returns them), what
each TaskFlow task's function runs (its subprocess argv, env and directory, or the keyword
arguments it calls the python target with: the runner's probe records them instead of running
anything; a secret reads as "<variable NAME KEY>"; a mapped task for each item), what a python
script in an image calls its target with (the rendered `python3 -c` run here, its target
recording), what a branch returns, what each callback does (an alert command's partial, the
kwargs a python alert passes), and the fields no template engine reads (doc_md, tags, owner, pool,
Param descriptions and enums, a pod's Secret, resources, DockerOperator's entrypoint, the literal
list a task maps over, an asset's name) must equal the text the pipeline means (placeholders
replaced by the param defaults), or the compile refuses the text with a diagnostic naming the
field (injection_rules.py: a path the documented limits refuse, an asset URI Airflow refuses, what
DockerOperator cannot do) or warns where it leaves it out (a gpu_type DockerOperator cannot ask
for). Task ids drawn from text either reach Airflow exactly (valid ids) or stop the compile with a
clean diagnostic (no traceback).
"""

from __future__ import annotations

import json
import posixpath
import sys
import types
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from engine_harness import AirflowEngine, Compiled, compile_pipeline
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from injection_rules import ARTIFACT, VALID_ID, Refusals, ids_are_valid, refusals, secret_keys, secret_names

from compiler.diagnostics import _printable as shown  # a path as diagnostics print it
from compiler.language.placeholders import Ref, escaped, literal
from compiler.language.placeholders import parse as parse_placeholders

pytestmark = [pytest.mark.engine, pytest.mark.slow]

# Every pipeline has these params; texts refer to them through placeholders.
PARAMS = ("p0", "p1", "n")  # two strings (drawn) and an int (drawn)
OUT = "<outputs.o>"  # what the runner resolves `${{ outputs.o }}` to
ITEMS = "items"  # the list param a task may map over (`foreach: ${{ params.items }}`)
ENV_NAMES = ("A", "B_2", "LANG_X")
IMAGE = "alpine:3.20"
PROBE_MODULE = "dagshift_probe"
PYTHON_TARGET = f"{PROBE_MODULE}:record"  # airflow_runner.py records the call instead of making it
DEFAULT_GPU_TYPE = "nvidia.com/gpu"  # what a DockerOperator's device request gets
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


# ----------------------------------------------------------------------------- the model


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


def else_branches(case: PipelineCase, task: TaskCase) -> list[str]:
    return [t.task_id for t in case.tasks if t.else_of == task.task_id]


def runs(case: PipelineCase, task: TaskCase) -> bool:
    """Whether the task runs with the param defaults: its `when` holds, or the `when` of the task
    it is the else branch of does not."""
    if task.else_of is not None:
        return not runs(case, next(t for t in case.tasks if t.task_id == task.else_of))
    return task.when_literal is None or task.when_literal == case.defaults["p0"]


def asset_uri_is_refused(uri: str) -> bool:
    """What Airflow's Asset refuses (sdk/definitions/asset: _sanitize_uri, _validate_identifier):
    blank text, more than 1,500 characters, a URI urllib cannot split, the reserved scheme
    `airflow`, and the names `self` and `context`."""
    if not uri.strip() or len(uri) > 1500 or uri in ("self", "context"):
        return True
    try:
        parsed = urlsplit(uri)
    except ValueError:
        return True
    return (parsed.scheme or parsed.netloc) != "" and parsed.scheme.lower() == "airflow"


def airflow_refusals(case: PipelineCase) -> Refusals:
    """What Airflow cannot take: an asset it refuses, a tag too long, a DockerOperator's secret,
    a task with the id of a helper task Airflow needs (`<id>__branch`, `<id>__items`)."""
    ids = {t.task_id for t in case.tasks}
    helpers = {f"{t.task_id}__branch" for t in case.tasks if t.when_literal is not None}
    helpers |= {f"{t.task_id}__items" for t in case.tasks if t.kind in MAPPED_OVER_ITEMS}
    refused = {("E302", f"tasks.{helper}") for helper in helpers & ids}
    if case.trigger_uri is not None and asset_uri_is_refused(case.trigger_uri):
        refused.add(("E302", "triggers[0].uri"))
    if case.artifact_produced and asset_uri_is_refused(case.artifact[0]):
        refused.add(("E302", f"artifacts.{ARTIFACT}.path"))
    refused |= {("E302", f"tags[{index}]") for index, tag in enumerate(case.tags) if len(tag) > 100}  # TAG_MAX_LEN
    if case.container == "docker":
        refused |= {("E302", f"tasks.{t.task_id}.secrets") for t in case.tasks if t.kind in POD_KINDS and t.secret}
    return refused


def airflow_warnings(case: PipelineCase) -> set[tuple[str, str]]:
    """(code, YAML path) of each warning about a text Airflow leaves out: a gpu_type a
    DockerOperator cannot ask for."""
    if case.container != "docker":
        return set()
    return {("W302", f"tasks.{t.task_id}.resources.gpu_type") for t in case.tasks
            if t.kind in POD_KINDS and t.resources and t.resources.get("gpu")
            and t.resources.get("gpu_type", DEFAULT_GPU_TYPE) != DEFAULT_GPU_TYPE}


# ----------------------------------------------------------------------------- expected text


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


# ----------------------------------------------------------------------------- YAML out


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


# ----------------------------------------------------------------------------- strategies


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
# URIs of the schemes Airflow normalizes (s3, file), of one it leaves alone (x-), of the one it
# reserves (airflow), and plain names.
trigger_uris = st.builds(lambda scheme, rest: scheme + rest,
                         st.sampled_from(["s3://bucket/", "file:///data/", "x-q://", "airflow://", "AIRFLOW:x", ""]),
                         plain_texts)
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


@st.composite
def pipeline_cases(draw, index: int, kinds: list[str] = KINDS) -> PipelineCase:
    ids = draw(st.lists(task_ids, min_size=1, max_size=3, unique=True))
    case = PipelineCase(
        name=f"inj_{index}",
        description=draw(st.none() | plain_texts),
        defaults={"p0": draw(plain_texts), "p1": draw(texts(placeholders=False, tail=True)), "n": draw(numbers)},
        param_descriptions={name: draw(plain_texts) for name in draw(st.sets(st.sampled_from(PARAMS)))},
        tasks=[draw(task_cases(task_id, kinds)) for task_id in ids],
        owner=draw(st.none() | plain_texts),
        tags=draw(st.lists(plain_texts, max_size=3, unique=True)),
        workdir=draw(st.none() | plain_texts),
        enum_extra=draw(st.none() | plain_texts),
        alert=draw(st.none() | plain_texts),
        python_alert=draw(sometimes_alert),
        task_alert=draw(sometimes_alert),
        trigger_uri=draw(st.none() | trigger_uris),
        container=draw(st.sampled_from(["kpo", "docker"])),
    )
    for task in case.tasks:
        if task.when_literal == "p0":  # the branch's condition holds
            task.when_literal = case.defaults["p0"]
        if task.output_path is not None and case.workdir is None:  # WORKDIR is the inspecting process's
            task.output_path = None
    if any(task.kind in MAPPED_OVER_ITEMS for task in case.tasks):
        case.defaults[ITEMS] = draw(items_defaults)
    if case.enum_extra == case.defaults["p0"]:
        case.enum_extra = None
    draw_else_branches(draw, case)
    if draw(st.booleans()) and "uses_artifact" not in ids:
        case.artifact_produced = draw(st.booleans())
        path = draw(plain_texts)
        case.artifact = ("s3://bucket/" + path if case.artifact_produced else path, draw(st.none() | plain_texts))
        command = _escape_stray_placeholders(draw(command_texts()) + f" ${{{{ artifacts.{ARTIFACT} }}}}")
        use = {"produces" if case.artifact_produced else "consumes": [ARTIFACT]}
        case.tasks.append(TaskCase("uses_artifact", "bash", command=command, **use))
    return case


def draw_else_branches(draw, case: PipelineCase) -> None:
    """Some tasks with a `when` get another task (without one) as their else branch."""
    for task in case.tasks:
        free = [t for t in case.tasks if t.when_literal is None and t.else_of is None]
        if task.when_literal is not None and free and draw(st.booleans()):
            draw(st.sampled_from(free)).else_of = task.task_id


@st.composite
def batches(draw) -> list[PipelineCase]:
    # about as many choices as Hypothesis draws for one test case (8 KiB): more would mostly overrun
    size = draw(st.integers(10, 16))
    return [draw(pipeline_cases(index)) for index in range(size)]


# ----------------------------------------------------------------------------- hand-picked cases


def _hand_picked() -> list[PipelineCase]:
    nasty = ("it's \"quoted\" '''triple''' \"\"\" \\ back\\slash \\n {{ x }} {% if %} {# c #} ${ y } "
             "$${{ params.p0 }} 😀")
    defaults = {"p0": "{{ ti }} {% raw %} \\\" '''", "p1": "tail.sh", "n": 7}
    cases = [
        ("bash", "echo a{${{ params.p0 }}{", {"A": "{${{ params.n }}", "B_2": "deploy.sh"}),
        ("bash", "echo " + nasty + " ${{ params.p1 }}", {}),
        ("bash", "printf 'x\r\ny\r'\n", {"A": "line\n"}),
        ("bash", "bash run.sh", {}),
        ("bash", "echo {{{{ }}}} {%%} {##} {", {}),
        ("bash_out", "echo ${{ params.p0 }} $${{ outputs.o }} > ${{ outputs.o }}", {"A": "${{ params.p1 }}"}),
        ("argv", ["printf", "%s\\n", "${{ params.p0 }}", "{{ x }}", "x.sh"], {"A": "'''"}),
        ("python", {"k0": "${{ params.n }}", "k1": "n=${{ params.n }}", "k2": nasty, "k3": "${{ params.p0 }}"}, {}),
        ("python", nasty_args(nasty), {}),
        ("python_image", nasty_args(nasty), {"A": "x.env"}),
        ("container", "echo " + nasty + " config.json", {"A": "{{ x }}.yaml"}),
        ("container", ["sh", "-c", "{# x #}${{ params.p0 }}"], {}),
    ]
    tasks = []
    for index, (kind, body, env) in enumerate(cases):
        task_id = TRICKY_IDS[index * 3]
        if kind in ("python", "python_image"):
            tasks.append(TaskCase(task_id, kind, args=body, env=env, description=nasty))
        elif kind == "container":
            tasks.append(TaskCase(task_id, kind, command=body, args=["--config", "c.yaml", "{{ '{' }}"], env=env))
        else:
            tasks.append(TaskCase(task_id, kind, command=body, env=env, description=nasty + ".md"))
    batch = [PipelineCase("inj_0", nasty, defaults, {"p0": nasty}, tasks), _every_field(nasty, defaults),
             _docker_fields(nasty, defaults),
             PipelineCase("inj_refused", None, dict(defaults), {}, [TaskCase("a", "bash", command="echo")],
                          tags=["ok", "x" * 101], trigger_uri="Airflow:reserved"),
             PipelineCase("inj_refused_docker", None, dict(defaults), {},  # DockerOperator has no secrets
                          [TaskCase("a", "container", command="echo", args=[], secret=("s", "k"))], container="docker")]
    for index, task_id in enumerate(TRICKY_IDS, start=1):  # every tricky id reaches Airflow exactly
        kind = ["bash", "python", "bash_out", "argv"][index % 4]
        command = ["echo", task_id] if kind == "argv" else f"echo {task_id}"
        if kind == "bash_out":
            command += " > ${{ outputs.o }}"
        args = {"k0": task_id} if kind == "python" else None
        batch.append(PipelineCase(f"inj_{index}", None, dict(defaults), {},
                                  [TaskCase(task_id, kind, command=None if args else command, args=args),
                                   TaskCase("a", "bash", command="echo a")]))
    batch.append(PipelineCase(f"inj_{len(batch)}", None, dict(defaults), {},  # two ids one Python name
                              [TaskCase("a-b", "bash", command="echo"), TaskCase("a_b", "bash", command="echo")]))
    batch.append(PipelineCase(f"inj_{len(batch)}", None, dict(defaults), {},
                              [TaskCase("9lives", "bash", command="echo"), TaskCase("x y", "bash", command="echo")]))
    return batch


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


def _docker_fields(nasty: str, defaults: dict[str, Any]) -> PipelineCase:
    """The containers of _every_field on DockerOperator (which renders `.env` texts as template
    files too), exec-form commands with the escape before the first placeholder (DockerOperator's
    entrypoint, which it never renders), and a GPU type it cannot ask for (W302)."""
    case = _every_field(nasty, defaults)
    pods = [replace(t, secret=None) for t in case.tasks if t.kind in POD_KINDS]
    exec_form = ["echo", "$${{ params.p0 }}", nasty, "${{ params.p0 }}.env", JINJA]
    pods += [TaskCase("exec", "container", command=exec_form, args=["a.env"], env={"A": "b.env", "B_2": nasty},
                      resources={"cpu": "2", "gpu": 2, "gpu_type": JINJA}),
             TaskCase("shell", "container", command="echo $${{ params.p0 }} " + nasty + " ${{ params.p1 }}",
                      args=["${{ params.n }}", "{{"])]
    return replace(case, name="inj_docker", tasks=pods, container="docker", artifact=None)


# ----------------------------------------------------------------------------- the check


def check_batch(engine: AirflowEngine, batch: list[PipelineCase], workdir: Path) -> None:
    sources, dags = workdir / "sources", workdir / "dags"
    sources.mkdir(parents=True)
    dags.mkdir()
    valid = []
    for case in batch:
        source = sources / f"{case.name}.yaml"
        source.write_text(yaml_flow(pipeline_data(case)) + "\n", encoding="utf-8")
        compiled = compile_pipeline(source, dags, "--option", f"container={case.container}")
        if check_compiled(case, compiled, refusals(case, airflow_refusals)):
            assert_reported(case, compiled.output, airflow_warnings(case), "warning")
            valid.append(case)
    if not valid:
        return
    output = engine.inspect(dags)
    facts = output.data
    assert facts.get("import_errors") == {}, facts.get("import_errors") or output.tail()
    assert sorted(facts["dags"]) == sorted(case.name for case in valid)
    for case in valid:
        check_dag(case, facts["dags"][case.name])


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


def check_dag(case: PipelineCase, dag: dict[str, Any]) -> None:
    assert "inspect_error" not in dag, dag.get("inspect_error")
    assert dag["description"] == (case.description or None)  # an empty description is no description
    assert dag["tags"] == sorted(case.tags)
    assert dag["params"] == case.defaults
    assert dag["param_descriptions"] == {name: case.param_descriptions.get(name) or None for name in case.defaults}
    enum = None if case.enum_extra is None else [case.defaults["p0"], case.enum_extra]
    assert dag["param_enums"] == {name: enum if name == "p0" else None for name in case.defaults}
    alerts = [case.alert] if case.alert is not None else []
    meant = callbacks_meant(case, alerts + [case.python_alert] if case.python_alert else alerts)
    assert callbacks_found(case, dag["callbacks"]) == meant
    if case.trigger_uri is not None:  # the asset's name is the text; its URI Airflow's normal form of it
        assert [name for name, _ in dag["assets"]] == [case.trigger_uri]
    helpers = {f"{t.task_id}__branch" for t in case.tasks if t.when_literal is not None}
    helpers |= {f"{t.task_id}__items" for t in case.tasks if t.kind in MAPPED_OVER_ITEMS}
    assert set(dag["tasks"]) == {t.task_id for t in case.tasks} | helpers
    for task in case.tasks:
        check_task(case, task, dag["tasks"])


def callbacks_meant(case: PipelineCase, alerts: list[str | AlertCase]) -> dict[str, list[dict[str, Any]]]:
    """What each callback does: an alert command is a partial of it, a python alert calls the
    target with its args, in the working directory (in both, the `$${{` escapes read)."""
    meant: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        if isinstance(alert, str):
            meant.setdefault("on_failure_callback", []).append({"partial": [literal(alert)]})
        else:
            call = {"kwargs": literal(alert.args), "env": {}, **({"cwd": case.workdir} if case.workdir is not None else {})}
            meant.setdefault(f"on_{alert.on}_callback", []).append(call)
    return meant


def callbacks_found(case: PipelineCase, callbacks: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {key: [probed(case, call) for call in listed] for key, listed in callbacks.items()}


def probed(case: PipelineCase, call: dict[str, Any]) -> dict[str, Any]:
    """A probed call without the inspecting process's directory (the case has no workdir)."""
    return call if case.workdir is not None else {k: v for k, v in call.items() if k != "cwd"}


def check_task(case: PipelineCase, task: TaskCase, tasks: dict[str, Any]) -> None:
    actual = tasks[task.task_id]
    where = f"{case.name}.{task.task_id} ({task.kind})"
    assert actual["task_id"] == task.task_id, where
    assert actual["doc_md"] == (task.description or None), where
    assert actual["owner"] == (case.owner or "airflow"), where
    if task.pool is not None:  # else Airflow's default (None on a mapped task until it expands)
        assert actual["pool"] == task.pool, where
    if task.produces:  # the asset Airflow names ARTIFACT, with Airflow's normal form of the URI
        assert [name for name, _ in actual["outlets"]] == [ARTIFACT], where
    alert = task_alert(case, task)
    assert callbacks_found(case, actual["callbacks"]) == callbacks_meant(case, [alert] if alert else []), where
    if task.when_literal is not None:
        otherwise = else_branches(case, task)
        chosen = task.task_id if runs(case, task) else otherwise[0] if len(otherwise) == 1 else otherwise
        assert tasks[f"{task.task_id}__branch"]["call"] == {"returned": chosen}, where
    if task.resources and task.kind not in POD_KINDS:  # the pod KubernetesExecutor runs it in
        (container,) = actual["executor_config"]["pod_override"]["spec"]["containers"]
        assert resources_of(container["resources"]) == resources_meant(task.resources), where
    if task.kind in POD_KINDS:
        check_pod(case, task, actual, tasks, where)
    else:
        check_run(case, task, actual, tasks, where)


def check_run(case: PipelineCase, task: TaskCase, actual: dict[str, Any], tasks: dict[str, Any], where: str) -> None:
    """What the task runs: its rendered template fields, or what its TaskFlow function runs."""
    env = {k: expected(v, case) for k, v in task.env.items()}
    secret_value = None if task.secret is None else "<variable {} {}>".format(*task.secret)
    if task.kind == "bash":
        rendered = actual["rendered"]
        assert actual["class"] == "BashOperator", where
        assert rendered["bash_command"] == {"value": expected(task.command, case)}, where
        assert rendered.get("env", {"value": None}) == {"value": env or None}, where
        if case.workdir is not None:
            assert rendered["cwd"] == {"value": case.workdir}, where
        return
    if task.kind == "foreach":
        assert actual["expand"] == {"item": literal(task.items)}, where
    if task.kind in MAPPED_OVER_ITEMS:  # the list Airflow maps over is the param's, as it gives it
        assert tasks[f"{task.task_id}__items"]["call"] == {"returned": case.defaults[ITEMS]}, where
    if task.kind in MAPPED_KINDS:
        calls = actual["item_calls"]
        items = literal(task.items) if task.items else case.defaults[ITEMS]  # a param's values are data
        assert len(calls) == len(items), where
    else:
        calls, items = [actual.get("call")], [None]
        assert calls[0] is not None, f"{where}: not a TaskFlow task: {actual}"
    for call, item in zip(calls, items, strict=True):
        if task.kind in PYTHON_KINDS:
            want: dict[str, Any] = {"kwargs": meaning(task.args, case, item)}
        elif task.kind == "argv":
            want = {"argv": [expected(part, case) for part in task.command]}
        else:
            want = {"argv": ["bash", "-c", expected(task.command, case, item=item)]}
            if task.output_path is not None:  # the value's file is the output's path in the workdir
                want["argv"][2] = want["argv"][2].replace(OUT, posixpath.join(case.workdir, task.output_path))
        want["env"] = env if secret_value is None else {**env, SECRET_ENV: secret_value}
        if case.workdir is not None:
            want["cwd"] = case.workdir
        assert probed(case, call) == want, where


def check_pod(case: PipelineCase, task: TaskCase, actual: dict[str, Any], tasks: dict[str, Any], where: str) -> None:
    """A container's image, argv, env, secrets and resources, as KubernetesPodOperator renders them
    (or DockerOperator: its entrypoint is never rendered), and what a python script in it calls."""
    docker = case.container == "docker"
    fields = actual["partial_rendered"] if task.kind == "pod_foreach" else actual["rendered"]
    assert fields["image"] == {"value": task.image}, where
    env = {k: expected(v, case) for k, v in task.env.items()}
    if docker:
        assert fields.get("environment", {"value": {}})["value"] == env, where
    else:
        env_vars = (fields.get("env_vars") or {"value": []})["value"]
        assert env_vars == env if env else env_vars in ([], {}), where  # no env: an empty list
        assert actual.get("secrets") == (None if task.secret is None else [["env", SECRET_ENV, *task.secret]]), where
    if task.resources and not docker:
        assert resources_of(fields["container_resources"]["value"]) == resources_meant(task.resources), where
    fixed = actual.get("entrypoint", []) if docker else fields["cmds"]["value"]
    if task.kind == "pod_foreach":  # the fixed argv, then what the `__items` task gives each item
        returned = tasks[f"{task.task_id}__items"]["call"]["returned"]
        assert [fixed + own for own in returned] == [pod_argv(case, task, item) for item in case.defaults[ITEMS]], where
        return
    own = fields.get("command" if docker else "arguments") or {"value": []}
    argv = fixed + (own["value"] or [])
    if task.kind == "python_image":
        assert script_call(argv) == meaning(task.args, case), where
    else:
        assert argv == pod_argv(case, task), where


def pod_argv(case: PipelineCase, task: TaskCase, item: Any = None) -> list[str]:
    """The container's argv: a string command runs as `sh -c`, its args following it as "$@"."""
    args = [expected(arg, case, item=item) for arg in task.args]
    if not isinstance(task.command, str):
        return [expected(part, case, item=item) for part in task.command] + args
    command = expected(task.command, case, item=item)
    return ["sh", "-c", command + ' "$@"', "sh", *args] if args else ["sh", "-c", command]


def script_call(argv: list[str]) -> dict[str, Any]:
    """The keyword arguments `python3 -c SCRIPT VALUE...` calls PYTHON_TARGET with: the script
    run here, as the container would run it, its target recording them."""
    assert argv[:2] == ["python3", "-c"], argv
    recorded: dict[str, Any] = {}
    probe = types.ModuleType(PROBE_MODULE)
    probe.record = lambda **kwargs: recorded.update(kwargs)  # type: ignore[attr-defined]
    saved = sys.argv, sys.modules.get(PROBE_MODULE)
    sys.argv, sys.modules[PROBE_MODULE] = ["-c", *argv[3:]], probe
    try:
        exec(compile(argv[2], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102 - the test's own DAG
    finally:
        sys.argv = saved[0]
        if saved[1] is None:
            del sys.modules[PROBE_MODULE]
    return recorded


def resources_meant(resources: dict[str, Any]) -> dict[str, dict[str, str]]:
    """A Kubernetes container's resources: cpu and memory requested, memory and the GPUs limited."""
    requests = {key: resources[key] for key in ("cpu", "memory") if key in resources}
    limits = {"memory": resources["memory"]} if "memory" in resources else {}
    if resources.get("gpu"):
        limits[resources.get("gpu_type", DEFAULT_GPU_TYPE)] = str(resources["gpu"])
    return {key: value for key, value in (("limits", limits), ("requests", requests)) if value}


def resources_of(found: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in found.items() if value}


# ----------------------------------------------------------------------------- tests


def test_hand_picked_nasty_texts_and_ids(airflow_engine: AirflowEngine, tmp_path: Path) -> None:
    batch = _hand_picked()
    assert ids_are_valid(batch[0]) and not ids_are_valid(batch[-1]) and not ids_are_valid(batch[-2])
    check_batch(airflow_engine, batch, tmp_path)


# No shrinking: each example costs an engine subprocess, and the failure message already names
# the pipeline, the task and the field (the whole batch is printed with it).
@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(batch=batches())
def test_drawn_text_reaches_airflow_exactly(airflow_engine: AirflowEngine, batch: list[PipelineCase]) -> None:
    check_batch(airflow_engine, batch, airflow_engine.scratch_dir("injection"))


# ----------------------------------------------------------------------------- regressions (compile only)


def _compiled_dag(tmp_path: Path, case: PipelineCase) -> tuple[str, str]:
    """(the DAG file's text, the compile's output) of one case."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / f"{case.name}.yaml"
    source.write_text(yaml_flow(pipeline_data(case)) + "\n", encoding="utf-8")
    compiled = compile_pipeline(source, tmp_path / "dags", "--option", f"container={case.container}")
    assert compiled.ok, compiled.output
    return compiled.files[0].read_text(encoding="utf-8"), compiled.output


def _operator_argument(dag_text: str, task_id: str, keyword: str, *, rendered: bool = True) -> Any:
    """The list of texts the task's operator call passes as `keyword`, rendered with the param
    p0 = "v" as Airflow's Jinja renders a template field (unless it is none)."""
    import ast

    import jinja2

    for node in ast.walk(ast.parse(dag_text)):
        given = {k.arg: k.value for k in getattr(node, "keywords", [])} if isinstance(node, ast.Call) else {}
        if "task_id" in given and ast.literal_eval(given["task_id"]) == task_id and keyword in given:
            texts = ast.literal_eval(given[keyword])
            if not rendered:
                return texts
            template = jinja2.Environment().from_string  # noqa: S701 - renders the test's own DAG
            return [template(text).render(params={"p0": "v"}) for text in texts]
    raise AssertionError(f"no {keyword} for {task_id}")


def _one_task(task: TaskCase, container: str = "kpo") -> PipelineCase:
    return PipelineCase("reg", None, {"p0": "v", "p1": "", "n": 1}, {}, [task], container=container)


def test_python_args_any_key(tmp_path: Path) -> None:
    """Keys no `key=` can pass went into the call as written: the DAG file did not parse (E401),
    and `ﬁ=` passes `fi`."""
    case = _one_task(TaskCase("a", "python", args={"ﬁ": "x", "a b": "${{ params.p0 }}"}))
    case.python_alert = AlertCase("failure", {"ﬁ": 1, "a b": [2], "class": "$${{ x }}"})
    text, _ = _compiled_dag(tmp_path, case)
    assert '**{"ﬁ": 1, "a b": [2], "class": "${{ x }}"}' in text  # alerts take no placeholders: the escape read
    assert '**{"ﬁ": "x", "a b": params["p0"]}' in text


def test_one_function_per_python_alert(tmp_path: Path) -> None:
    """Each task running the alert under `defaults` had its own copy of it (and so wrote it itself
    instead of sharing it in default_args)."""
    case = _one_task(TaskCase("a", "bash", command="echo"))
    case.tasks.append(TaskCase("b", "bash", command="echo"))
    case.task_alert = AlertCase("failure", {"k": 1})
    text, _ = _compiled_dag(tmp_path, case)
    assert text.count("def _alert_record") == 1 and text.count("[_alert_record]") == 1  # in default_args


def test_python_in_an_image_gets_its_args_exactly(tmp_path: Path) -> None:
    """The script was read for placeholders again: a lone `$${{` in one value and a `}}` in the
    next made an escape across them; a key that is no name broke the script."""
    args = {"k0": [1, "$${{"], "k1": {"$${{ k }}": "}}"}, "a b": "$${{ params.p0 }}", "ﬁ": "${{ params.p0 }}"}
    case = _one_task(TaskCase("a", "python_image", args=args))
    for container, keyword in (("kpo", "cmds"), ("docker", "entrypoint")):
        text, _ = _compiled_dag(tmp_path / container, replace(case, container=container))
        argv = _operator_argument(text, "a", keyword, rendered=container == "kpo")
        values = _operator_argument(text, "a", "arguments" if container == "kpo" else "command")
        assert script_call(argv + values) == {"k0": [1, "$${{"], "k1": {"$${{ k }}": "}}"},
                                                "a b": "${{ params.p0 }}", "ﬁ": "v"}


def test_pod_output_path_with_the_escape(tmp_path: Path) -> None:
    """The outputs' spec was read for placeholders: a path holding `$${{ ... }}` lost a `$`, so the
    pod read another file than the command wrote."""
    path = "o/$${{ p }}.txt"
    task = TaskCase("a", "container", command="echo x > ${{ outputs.o }}", args=[])
    case = _one_task(task)
    data = pipeline_data(case)
    data["tasks"]["a"]["outputs"] = {"o": {"type": "str", "path": path}}
    source = tmp_path / "reg.yaml"
    source.write_text(yaml_flow(data) + "\n", encoding="utf-8")
    compiled = compile_pipeline(source, tmp_path / "dags")
    assert compiled.ok, compiled.output
    cmds = _operator_argument(compiled.files[0].read_text(encoding="utf-8"), "a", "cmds")
    assert json.loads(cmds[4]) == {"o": ["str", path]} and cmds[-1] == f"echo x > {path}"


def test_docker_entrypoint_resolves_the_escape(tmp_path: Path) -> None:
    """DockerOperator's entrypoint (never rendered) held `$${{` as written."""
    task = TaskCase("a", "container", command=["echo", "$${{ params.p0 }}", "${{ params.p0 }}"], args=[])
    text, _ = _compiled_dag(tmp_path, _one_task(task, "docker"))
    assert _operator_argument(text, "a", "entrypoint", rendered=False) == ["echo", "${{ params.p0 }}"]


def test_pods_mapped_over_a_param_import_task(tmp_path: Path) -> None:
    """A DAG of pods only, one mapped over a list param: its `__items` task used `@task` without
    importing it (the DAG file failed to import)."""
    case = _one_task(TaskCase("a", "pod_foreach", command="echo ${{ item }}", args=["${{ item }}"]))
    case.defaults[ITEMS] = ["x"]
    text, _ = _compiled_dag(tmp_path, case)
    assert "from airflow.sdk import DAG, Param, task" in text


def test_docker_gpu_type_left_out_with_a_warning(tmp_path: Path) -> None:
    """DockerOperator asks for NVIDIA GPUs by count: another gpu_type was dropped without a word."""
    task = TaskCase("a", "container", command="echo", args=[], resources={"gpu": 1, "gpu_type": "amd.com/gpu"})
    _, output = _compiled_dag(tmp_path, _one_task(task, "docker"))
    assert "warning[W302]" in output and "(tasks.a.resources.gpu_type)" in output


def test_python_mapped_over_its_whole_item_under_any_key(tmp_path: Path) -> None:
    """The mapped argument was named after a key that is the whole item even where the key is no
    name (`def t(a b_)`: E401)."""
    case = _one_task(TaskCase("a", "python_foreach", args={"a b": "${{ item }}"}))
    case.defaults[ITEMS] = ["x"]
    text, _ = _compiled_dag(tmp_path, case)
    assert "def a(item):" in text and '**{"a b": item}' in text
