"""User text reaches Airflow exactly, whatever it contains; task ids reach it as they are.

Hypothesis draws batches of pipelines whose every string field that reaches a DAG (descriptions,
owner, tags, workdir, param defaults, descriptions and enum values, artifact paths and
descriptions, commands in string and exec form, env values, secret names and keys, python args,
container images and arguments, value output paths, pools, alert commands, trigger URIs, `when`
string literals, literal foreach items) is arbitrary text salted with what breaks generators: quotes and triple quotes, backslashes, newlines and carriage returns, Jinja
(`{{ }}`, `{% %}`, `{# #}`, a lone `{` before a placeholder), `${ }`, the `$${{` escape,
astral characters, `.sh` endings. Every batch is compiled through the real CLI into one folder and
checked in ONE engine subprocess (airflow_runner.py inspect): the BashOperator and
KubernetesPodOperator fields rendered with the DAG's own Jinja environment, what each TaskFlow
task's function runs (its subprocess argv, env and directory, or the keyword arguments it calls the
python target with: the runner's probe records them instead of running anything; a secret reads as
"<variable NAME KEY>"), what a branch returns, and the fields no template engine reads (doc_md,
tags, owner, pool, Param descriptions and enums, a pod's Secret, the callback's command, the
literal list a task maps over, an asset's name) must equal the text the pipeline means
(placeholders replaced by the param defaults), or the compile refuses the text with a diagnostic
naming the field (a path the documented limits refuse, an asset URI Airflow refuses). Task ids
drawn from text either reach Airflow exactly (valid ids) or stop the compile with a clean
diagnostic (no traceback).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from engine_harness import AirflowEngine, compile_pipeline
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compiler.diagnostics import _printable as shown  # a path as diagnostics print it
from compiler.naming import dns_name, python_name
from compiler.placeholders import Ref, literal
from compiler.placeholders import parse as parse_placeholders

pytestmark = [pytest.mark.engine, pytest.mark.slow]

# Every pipeline has these params; texts refer to them through placeholders.
PARAMS = ("p0", "p1", "n")  # two strings (drawn) and an int (drawn)
OUT = "<outputs.o>"  # what the runner resolves `${{ outputs.o }}` to
ENV_NAMES = ("A", "B_2", "LANG_X")
IMAGE = "alpine:3.20"
PYTHON_TARGET = "dagshift_probe:record"  # airflow_runner.py records the call instead of making it
HELPER_SUFFIXES = ("__branch", "__items", "__succeeded")

# The documented id rule (docs/pipeline-syntax.md, compiler/naming.py): a letter, then letters,
# digits, '-' and '_'; at most 63 characters; not ending in '-' or '_'.
VALID_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")

NASTY = [
    "'", '"', "'''", '"""', "\\", "\\\\", "\\n", "\\x00", "\n", "\r\n", "\r", "\t", " ", "\u00a0",
    "{{ x }}", "{{", "}}", "{", "}", "{%", "%}", "{% if x %}y{% endif %}", "{% raw %}", "{#", "#}", "{# c #}",
    "{{-", "-}}", "{{ '{' }}", "${ x }", "${x}", "$x", "$", "$$", "$${{ params.p0 }}", "$${{", "${{", "$${{ nope }}",
    "`id`", "$(id)", ";", "&&", "|", ">", "<", "#", "%", "%%", "%s", "{0}", "{}",
    ".sh", ".bash", ".json", ".yaml", ".md", "é", "ß", "\u2028", "\u0085", "\u202e", "\u200b", "\ufeff",
    "\U0001f600", "\U0001d518", "𝔘𝔫𝔦", "中文", "\\N{BULLET}", "\\u00e9", "\\U0001F600", "{!r}", "}}{{",
]
TAILS = ["", ".sh", ".bash", " x.sh", "\n", "{", "\r"]

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
class TaskCase:
    task_id: str
    # "bash", "bash_out" (a shell task with a value output: runtime), "argv", "python", "container",
    # "foreach" (a shell task mapped over a literal list)
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
    output_path: str | None = None  # bash_out: the value output's `path`
    consumes: list[str] = field(default_factory=list)
    produces: list[str] = field(default_factory=list)


@dataclass
class PipelineCase:
    name: str
    description: str | None
    defaults: dict[str, Any]  # param -> default
    param_descriptions: dict[str, str]
    tasks: list[TaskCase]
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    workdir: str | None = None
    enum_extra: str | None = None  # p0 is an enum of [its default, this]
    artifact: tuple[str, str | None] | None = None  # artifact ARTIFACT: (path, description)
    artifact_produced: bool = False  # a task produces it (a URI: an Airflow asset), else it is external
    alert: str | None = None  # the pipeline's failure alert command
    trigger_uri: str | None = None


SECRET_ENV = "S"
ARTIFACT = "a"


def ids_are_valid(case: PipelineCase) -> bool:
    """The documented rules: each id well formed, no two the same on any target (Python name,
    DNS name), and none the id of a helper Airflow adds (`<id>__branch` for a task with `when`)."""
    ids = [t.task_id for t in case.tasks]
    if not all(VALID_ID.fullmatch(i) and i[-1] not in "-_" for i in ids):
        return False
    if any(f"{t.task_id}__branch" in ids for t in case.tasks if t.when_literal is not None):
        return False
    return all(len({f(i) for i in ids}) == len(ids) for f in (lambda i: i, python_name, dns_name))


def path_is_refused(path: str) -> bool:
    """The documented limit (E218): a path is not empty, `/` or the working directory itself."""
    return not path.strip() or posixpath.normpath(path).strip("/") in ("", ".")


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


def alert_is_literal(command: str) -> bool:
    """Alerts take no placeholders (E107): no `${{` but in the escape `$${{`, which the alert
    reads as `${{` (docs/pipeline-syntax.md)."""
    segments, errors = parse_placeholders(command)
    return not errors and all(isinstance(s, str) for s in segments)


# The documented secret limits (docs/pipeline-syntax.md, E115): a name a Kubernetes Secret and a
# Prefect block both take, a key a Kubernetes Secret can hold.
PORTABLE_SECRET_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
PORTABLE_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
secret_names = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
secret_keys = st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True)


def validation_refusals(case: PipelineCase) -> set[tuple[str, str]]:
    """(code, YAML path) of what validation refuses among the texts every backend test draws."""
    refused = set()
    if case.artifact is not None and path_is_refused(case.artifact[0]):
        refused.add(("E218", f"artifacts.{ARTIFACT}.path"))
    for task in case.tasks:
        if task.output_path is not None and path_is_refused(task.output_path):
            refused.add(("E218", f"tasks.{task.task_id}.outputs.o.path"))
        if task.secret is not None:
            name, key = task.secret
            where = f"tasks.{task.task_id}.secrets.{SECRET_ENV}"
            if not (PORTABLE_SECRET_NAME.fullmatch(name) and len(name) <= 253):
                refused.add(("E115", f"{where}.name"))
            if not (PORTABLE_SECRET_KEY.fullmatch(key) and len(key) <= 253):
                refused.add(("E115", f"{where}.key"))
    if case.alert is not None and not alert_is_literal(case.alert):
        refused.add(("E107", "alerts[0].command"))
    if case.trigger_uri is not None and not case.trigger_uri.strip():
        refused.add(("E109", "triggers[0].uri"))
    return refused


def refusals(case: PipelineCase) -> set[tuple[str, str]]:
    """(code, YAML path) of each error the compile must report for the case's texts: what
    validation refuses, else (the backend runs only on a valid pipeline) what Airflow cannot take."""
    refused = validation_refusals(case)
    if refused or not ids_are_valid(case):
        return refused
    if case.trigger_uri is not None and asset_uri_is_refused(case.trigger_uri):
        refused.add(("E302", "triggers[0].uri"))
    if case.artifact_produced and asset_uri_is_refused(case.artifact[0]):
        refused.add(("E302", f"artifacts.{ARTIFACT}.path"))
    refused |= {("E302", f"tags[{index}]") for index, tag in enumerate(case.tags) if len(tag) > 100}  # TAG_MAX_LEN
    return refused


# ----------------------------------------------------------------------------- expected text


def expected(text: str, case: PipelineCase, *, whole_value: bool = False) -> Any:
    """What a text means: literal segments as they are, `${{ params.X }}` as the default's text
    (docs/pipeline-syntax.md "Values at run time"); a whole-value placeholder keeps its type."""
    segments, errors = parse_placeholders(text)
    assert not errors, text
    if whole_value and len(segments) == 1 and isinstance(segments[0], Ref):
        return _ref_value(segments[0], case)
    return "".join(s if isinstance(s, str) else _as_text(_ref_value(s, case)) for s in segments)


def _ref_value(ref: Ref, case: PipelineCase) -> Any:
    if ref.kind == "param":
        return case.defaults[ref.name]
    if ref.kind == "artifact":
        assert case.artifact is not None
        return case.artifact[0]
    assert ref.kind == "output", ref
    return OUT


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)  # str and int params only


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
        name: {"type": "int" if isinstance(default, int) else "str", "default": default,
               **({"description": case.param_descriptions[name]} if name in case.param_descriptions else {})}
        for name, default in case.defaults.items()
    }
    if case.enum_extra is not None:
        data["params"]["p0"]["enum"] = [case.defaults["p0"], case.enum_extra]
    if case.artifact is not None:
        path, description = case.artifact
        data["artifacts"] = {ARTIFACT: {"path": path, "external": not case.artifact_produced,
                                        **({"description": description} if description is not None else {})}}
    if case.alert is not None:
        data["alerts"] = [{"on": "failure", "command": case.alert}]
    if case.trigger_uri is not None:
        data["triggers"] = [{"type": "data", "uri": case.trigger_uri}]
    data["tasks"] = {task.task_id: task_data(task) for task in case.tasks}
    return data


def task_data(task: TaskCase) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if task.description is not None:
        entry["description"] = task.description
    if task.kind == "python":
        entry["python"] = PYTHON_TARGET
        entry["args"] = task.args
    elif task.kind == "container":
        entry["image"] = task.image
        entry["command"] = task.command
        entry["args"] = task.args
    else:
        entry["command"] = task.command
    if task.kind == "bash_out":
        entry["outputs"] = {"o": "str" if task.output_path is None else {"type": "str", "path": task.output_path}}
    if task.items is not None:
        entry["foreach"] = task.items
    if task.env:
        entry["env"] = task.env
    if task.secret is not None:
        entry["secrets"] = {SECRET_ENV: {"name": task.secret[0], "key": task.secret[1]}}
    if task.pool is not None:
        entry["pool"] = task.pool
    if task.when_literal is not None:
        entry["when"] = "params.p0 == " + condition_literal(task.when_literal)
    if task.consumes:
        entry["consumes"] = task.consumes
    if task.produces:
        entry["produces"] = task.produces
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
# URIs of the schemes Airflow normalizes (s3, file), of one it leaves alone (x-), of the one it
# reserves (airflow), and plain names.
trigger_uris = st.builds(lambda scheme, rest: scheme + rest,
                         st.sampled_from(["s3://bucket/", "file:///data/", "x-q://", "airflow://", "AIRFLOW:x", ""]),
                         plain_texts)


@st.composite
def task_cases(draw, task_id: str) -> TaskCase:
    kind = draw(st.sampled_from(["bash", "bash", "bash_out", "argv", "python", "container", "foreach"]))
    task = TaskCase(task_id, kind, description=draw(st.none() | plain_texts | st.text(_chars)))
    task.pool = draw(st.none() | plain_texts)
    if draw(st.integers(0, 3)) == 0:  # a branch decides whether it runs
        task.when_literal = draw(st.sampled_from([None, "p0"]) | plain_texts)
    if kind not in ("bash", "foreach") and draw(st.booleans()):  # a BashOperator never sees a secret
        task.secret = (draw(secret_names | plain_texts), draw(secret_keys | plain_texts))
    if kind in ("bash", "bash_out", "foreach"):
        task.command = draw(command_texts())
        if kind == "bash_out":
            task.output_path = draw(st.none() | plain_texts)
            task.command = _with_output(task.command)
        if kind == "foreach":
            task.items = draw(st.lists(plain_texts, min_size=1, max_size=3))
            task.command = _escape_stray_placeholders(task.command + " ${{ item }}")
    elif kind == "argv":
        task.command = ["printf", "%s"] + draw(st.lists(texts(tail=True), min_size=1, max_size=3))
    elif kind == "python":
        task.args = {f"k{i}": value for i, value in enumerate(draw(st.lists(texts(), min_size=1, max_size=3)))}
    else:
        task.image = draw(st.one_of(st.just(IMAGE), plain_texts.map(lambda text: IMAGE + text)))
        task.command = draw(st.one_of(command_texts(), st.lists(texts(tail=True), min_size=1, max_size=3)))
        task.args = draw(st.lists(texts(tail=True), max_size=2))
    if kind != "python" or draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(ENV_NAMES), unique=True, max_size=2))
        task.env = {name: draw(texts(tail=True)) for name in names}
    return task


@st.composite
def pipeline_cases(draw, index: int) -> PipelineCase:
    ids = draw(st.lists(task_ids, min_size=1, max_size=3, unique=True))
    case = PipelineCase(
        name=f"inj_{index}",
        description=draw(st.none() | plain_texts),
        defaults={"p0": draw(plain_texts), "p1": draw(texts(placeholders=False, tail=True)),
                  "n": draw(st.integers(-(2**31), 2**31))},
        param_descriptions={name: draw(plain_texts) for name in draw(st.sets(st.sampled_from(PARAMS)))},
        tasks=[draw(task_cases(task_id)) for task_id in ids],
        owner=draw(st.none() | plain_texts),
        tags=draw(st.lists(plain_texts, max_size=3, unique=True)),
        workdir=draw(st.none() | plain_texts),
        enum_extra=draw(st.none() | plain_texts),
        alert=draw(st.none() | plain_texts),
        trigger_uri=draw(st.none() | trigger_uris),
    )
    for task in case.tasks:
        if task.when_literal == "p0":  # the branch's condition holds
            task.when_literal = case.defaults["p0"]
        if task.output_path is not None and case.workdir is None:  # WORKDIR is the inspecting process's
            task.output_path = None
    if case.enum_extra == case.defaults["p0"]:
        case.enum_extra = None
    if draw(st.booleans()) and "uses_artifact" not in ids:
        case.artifact_produced = draw(st.booleans())
        path = draw(plain_texts)
        case.artifact = ("s3://bucket/" + path if case.artifact_produced else path, draw(st.none() | plain_texts))
        command = _escape_stray_placeholders(draw(command_texts()) + f" ${{{{ artifacts.{ARTIFACT} }}}}")
        use = {"produces" if case.artifact_produced else "consumes": [ARTIFACT]}
        case.tasks.append(TaskCase("uses_artifact", "bash", command=command, **use))
    return case


@st.composite
def batches(draw) -> list[PipelineCase]:
    size = draw(st.integers(15, 24))
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
        ("container", "echo " + nasty + " config.json", {"A": "{{ x }}.yaml"}),
        ("container", ["sh", "-c", "{# x #}${{ params.p0 }}"], {}),
    ]
    tasks = []
    for index, (kind, body, env) in enumerate(cases):
        task_id = TRICKY_IDS[index * 3]
        if kind == "python":
            tasks.append(TaskCase(task_id, kind, args=body, env=env, description=nasty))
        elif kind == "container":
            tasks.append(TaskCase(task_id, kind, command=body, args=["--config", "c.yaml", "{{ '{' }}"], env=env))
        else:
            tasks.append(TaskCase(task_id, kind, command=body, env=env, description=nasty + ".md"))
    batch = [PipelineCase("inj_0", nasty, defaults, {"p0": nasty}, tasks), _every_field(nasty, defaults),
             PipelineCase("inj_refused", None, dict(defaults), {}, [TaskCase("a", "bash", command="echo")],
                          tags=["ok", "x" * 101], trigger_uri="Airflow:reserved")]
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


def _every_field(nasty: str, defaults: dict[str, Any]) -> PipelineCase:
    """Jinja and quotes in every field besides commands (a `when` literal holding `${{ }}` too)."""
    jinja = "{{ x }} {% raw %} {# c #} '\" \\"
    tasks = [
        TaskCase("out", "bash_out", command="echo x > ${{ outputs.o }}", output_path=f"out/{jinja}.txt",
                 secret=("creds-1", "token.sh"), pool=jinja, when_literal=defaults["p0"]),
        TaskCase("skipped", "bash", command="echo", when_literal="a${{ params.p0 }}b'\r\n \\", pool="{{"),
        TaskCase("each", "foreach", command="echo ${{ item }}", items=[jinja, "{", "a.sh", "\r\n"]),
        TaskCase("pod", "container", command="echo", args=[], image=f"alpine:{jinja}.sh", secret=("pod-creds", "key_1")),
        TaskCase("uses_artifact", "bash", command="cat ${{ artifacts.a }}", consumes=[ARTIFACT]),
    ]
    return PipelineCase("inj_fields", nasty, dict(defaults), {"p0": nasty, "p1": jinja, "n": "{%"}, tasks,
                        owner=jinja, tags=[jinja, "{{", "t.sh"], workdir=f"/srv/{jinja}\r\n.sh", enum_extra=jinja,
                        artifact=(f"data/{jinja}.sh", jinja), alert="echo $${{ x }} {{ fail }}",
                        trigger_uri=f"s3://bucket/{jinja}/")


# ----------------------------------------------------------------------------- the check


def check_batch(engine: AirflowEngine, batch: list[PipelineCase], workdir: Path) -> None:
    sources, dags = workdir / "sources", workdir / "dags"
    sources.mkdir(parents=True)
    dags.mkdir()
    valid = []
    for case in batch:
        source = sources / f"{case.name}.yaml"
        source.write_text(yaml_flow(pipeline_data(case)) + "\n", encoding="utf-8")
        compiled = compile_pipeline(source, dags)
        assert compiled.exception is None, f"{case.name}: {compiled.exception!r}\n{compiled.output}"
        assert "Traceback" not in compiled.output, compiled.output
        refused = refusals(case)
        if ids_are_valid(case) and not refused:
            assert compiled.ok, f"{case.name} ({[t.task_id for t in case.tasks]}):\n{compiled.output}"
            valid.append(case)
        else:
            assert compiled.exit_code == 1 and not compiled.files, f"{case.name}: {compiled.output}"
            assert "error[E" in compiled.output, compiled.output
            for code, where in refused:  # each refusal names its field
                assert f"error[{code}]" in compiled.output and f"({shown(where)})" in compiled.output, \
                    f"{case.name}: {code} at {where}\n{compiled.output}"
    if not valid:
        return
    output = engine.inspect(dags)
    facts = output.data
    assert facts.get("import_errors") == {}, facts.get("import_errors") or output.tail()
    assert sorted(facts["dags"]) == sorted(case.name for case in valid)
    for case in valid:
        check_dag(case, facts["dags"][case.name])


def check_dag(case: PipelineCase, dag: dict[str, Any]) -> None:
    assert "inspect_error" not in dag, dag.get("inspect_error")
    assert dag["description"] == (case.description or None)  # an empty description is no description
    assert dag["tags"] == sorted(case.tags)
    assert dag["params"] == case.defaults
    assert dag["param_descriptions"] == {name: case.param_descriptions.get(name) or None for name in PARAMS}
    enum = None if case.enum_extra is None else [case.defaults["p0"], case.enum_extra]
    assert dag["param_enums"] == {"p0": enum, "p1": None, "n": None}
    assert dag["failure_callbacks"] == ([] if case.alert is None else [[literal(case.alert)]])  # the escapes read
    if case.trigger_uri is not None:  # the asset's name is the text; its URI Airflow's normal form of it
        assert [name for name, _ in dag["assets"]] == [case.trigger_uri]
    branches = {f"{t.task_id}__branch" for t in case.tasks if t.when_literal is not None}
    assert set(dag["tasks"]) == {t.task_id for t in case.tasks} | branches
    for task in case.tasks:
        check_task(case, task, dag["tasks"])


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
    if task.when_literal is not None:
        branch = tasks[f"{task.task_id}__branch"]["call"]
        assert branch == {"returned": task.task_id if task.when_literal == case.defaults["p0"] else []}, where
    check_run(case, task, actual, where)


def check_run(case: PipelineCase, task: TaskCase, actual: dict[str, Any], where: str) -> None:
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
    elif task.kind == "foreach":
        assert actual["expand"] == {"item": literal(task.items)}, where
    elif task.kind == "container":
        rendered = actual["rendered"]
        assert rendered["image"] == {"value": task.image}, where
        assert actual.get("secrets") == (None if task.secret is None else [["env", SECRET_ENV, *task.secret]])
        args = [expected(arg, case) for arg in task.args]
        if isinstance(task.command, str):  # the args follow the command as "$@"
            argv = ["sh", "-c", expected(task.command, case) + ' "$@"', "sh", *args] if args else \
                ["sh", "-c", expected(task.command, case)]
        else:
            argv = [expected(part, case) for part in task.command] + args
        arguments = (rendered.get("arguments") or {"value": []})["value"] or []
        assert rendered["cmds"]["value"] + arguments == argv, where
        if env:
            assert rendered["env_vars"] == {"value": env}, where
        else:  # no env: KubernetesPodOperator holds an empty list
            assert rendered["env_vars"]["value"] in ([], {}), where
    else:
        call = actual.get("call")
        assert call is not None, f"{where}: not a TaskFlow task: {actual}"
        if task.kind == "python":
            want: dict[str, Any] = {"kwargs": {k: expected(v, case, whole_value=True) for k, v in task.args.items()}}
        elif task.kind == "argv":
            want = {"argv": [expected(part, case) for part in task.command]}
        else:
            want = {"argv": ["bash", "-c", expected(task.command, case)]}
            if task.output_path is not None:  # the value's file is the output's path in the workdir
                want["argv"][2] = want["argv"][2].replace(OUT, posixpath.join(case.workdir, task.output_path))
        want["env"] = env if secret_value is None else {**env, SECRET_ENV: secret_value}
        if case.workdir is not None:
            want["cwd"] = case.workdir
        else:
            call.pop("cwd")  # the inspecting process's directory
        assert call == want, where


# ----------------------------------------------------------------------------- tests


def test_hand_picked_nasty_texts_and_ids(airflow_engine: AirflowEngine, tmp_path: Path) -> None:
    batch = _hand_picked()
    assert ids_are_valid(batch[0]) and not ids_are_valid(batch[-1]) and not ids_are_valid(batch[-2])
    check_batch(airflow_engine, batch, tmp_path)


# No shrinking: each example costs an engine subprocess, and the failure message already names
# the pipeline, the task and the field (the whole batch is printed with it).
@settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(batch=batches())
def test_drawn_text_reaches_airflow_exactly(airflow_engine: AirflowEngine, batch: list[PipelineCase]) -> None:
    check_batch(airflow_engine, batch, airflow_engine.scratch_dir("injection"))
