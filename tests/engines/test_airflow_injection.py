"""User text reaches Airflow exactly, whatever it contains; task ids reach it as they are.

Hypothesis draws batches of pipelines whose descriptions, commands (string and exec form), env
values, python args, container arguments and param defaults are arbitrary text salted with what
breaks generators: quotes and triple quotes, backslashes, newlines and carriage returns, Jinja
(`{{ }}`, `{% %}`, `{# #}`, a lone `{` before a placeholder), `${ }`, the `$${{` escape,
astral characters, `.sh` endings. Every batch is compiled through the real CLI into one folder and
checked in ONE engine subprocess (airflow_runner.py inspect): the BashOperator and
KubernetesPodOperator fields rendered with the DAG's own Jinja environment, and what each TaskFlow
task's function runs (its subprocess argv and env, or the keyword arguments it calls the python
target with: the runner's probe records them instead of running anything), must equal the text
the pipeline means (placeholders replaced by the param defaults). Task ids drawn from text either
reach Airflow exactly (valid ids) or stop the compile with a clean diagnostic (no traceback).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from engine_harness import AirflowEngine, compile_pipeline
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compiler.naming import dns_name, python_name
from compiler.placeholders import Ref
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
    kind: str  # "bash", "bash_out" (a shell task with a value output: runtime), "argv", "python", "container"
    command: Any = None  # str, or list of str
    env: dict[str, str] = field(default_factory=dict)
    args: Any = None  # python: dict; container: list
    description: str | None = None


@dataclass
class PipelineCase:
    name: str
    description: str | None
    defaults: dict[str, Any]  # param -> default
    param_descriptions: dict[str, str]
    tasks: list[TaskCase]


def ids_are_valid(case: PipelineCase) -> bool:
    """The documented rules: each id well formed, no two the same on any target (Python name,
    DNS name), and none the id of a helper Airflow adds (none here: no when, foreach or fallback)."""
    ids = [t.task_id for t in case.tasks]
    if not all(VALID_ID.fullmatch(i) and i[-1] not in "-_" for i in ids):
        return False
    return all(len({f(i) for i in ids}) == len(ids) for f in (lambda i: i, python_name, dns_name))


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
    if case.description is not None:
        data["description"] = case.description
    data["params"] = {
        name: {"type": "int" if isinstance(default, int) else "str", "default": default,
               **({"description": case.param_descriptions[name]} if name in case.param_descriptions else {})}
        for name, default in case.defaults.items()
    }
    tasks: dict[str, Any] = {}
    for task in case.tasks:
        entry: dict[str, Any] = {}
        if task.description is not None:
            entry["description"] = task.description
        if task.kind == "python":
            entry["python"] = PYTHON_TARGET
            entry["args"] = task.args
        elif task.kind == "container":
            entry["image"] = IMAGE
            entry["command"] = task.command
            entry["args"] = task.args
        else:
            entry["command"] = task.command
        if task.kind == "bash_out":
            entry["outputs"] = {"o": "str"}
        if task.env:
            entry["env"] = task.env
        tasks[task.task_id] = entry
    data["tasks"] = tasks
    return data


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


@st.composite
def task_cases(draw, task_id: str) -> TaskCase:
    kind = draw(st.sampled_from(["bash", "bash", "bash_out", "argv", "python", "container"]))
    task = TaskCase(task_id, kind, description=draw(st.none() | texts(placeholders=False) | st.text(_chars)))
    if kind in ("bash", "bash_out"):
        task.command = draw(command_texts())
        if kind == "bash_out":
            task.command = _with_output(task.command)
    elif kind == "argv":
        task.command = ["printf", "%s"] + draw(st.lists(texts(tail=True), min_size=1, max_size=3))
    elif kind == "python":
        task.args = {f"k{i}": value for i, value in enumerate(draw(st.lists(texts(), min_size=1, max_size=3)))}
    else:
        task.command = draw(st.one_of(command_texts(), st.lists(texts(tail=True), min_size=1, max_size=3)))
        task.args = draw(st.lists(texts(tail=True), max_size=2))
    if kind != "python" or draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(ENV_NAMES), unique=True, max_size=2))
        task.env = {name: draw(texts(tail=True)) for name in names}
    return task


@st.composite
def pipeline_cases(draw, index: int) -> PipelineCase:
    ids = draw(st.lists(task_ids, min_size=1, max_size=3, unique=True))
    return PipelineCase(
        name=f"inj_{index}",
        description=draw(st.none() | texts(placeholders=False)),
        defaults={"p0": draw(texts(placeholders=False)), "p1": draw(texts(placeholders=False, tail=True)),
                  "n": draw(st.integers(-(2**31), 2**31))},
        param_descriptions={"p0": draw(texts(placeholders=False))},
        tasks=[draw(task_cases(task_id)) for task_id in ids],
    )


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
    batch = [PipelineCase("inj_0", nasty, defaults, {"p0": nasty}, tasks)]
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
        if ids_are_valid(case):
            assert compiled.ok, f"{case.name} ({[t.task_id for t in case.tasks]}):\n{compiled.output}"
            valid.append(case)
        else:
            assert compiled.exit_code == 1 and not compiled.files, f"{case.name}: {compiled.output}"
            assert "error[E" in compiled.output, compiled.output
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
    assert dag["params"] == case.defaults
    assert set(dag["tasks"]) == {t.task_id for t in case.tasks}
    for task in case.tasks:
        actual = dag["tasks"][task.task_id]
        where = f"{case.name}.{task.task_id} ({task.kind})"
        assert actual["task_id"] == task.task_id, where
        assert actual["doc_md"] == (task.description or None), where
        env = {k: expected(v, case) for k, v in task.env.items()}
        if task.kind == "bash":
            rendered = actual["rendered"]
            assert actual["class"] == "BashOperator", where
            assert rendered["bash_command"] == {"value": expected(task.command, case)}, where
            assert rendered.get("env", {"value": None}) == {"value": env or None}, where
        elif task.kind == "container":
            rendered = actual["rendered"]
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
            want["env"] = env
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
