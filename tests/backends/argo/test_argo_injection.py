"""User text reaches Argo's containers exactly, whatever it contains.

Argo substitutes `{{...}}` in every string of a template and has no escape, so this is where text
breaks out on Argo. Hypothesis draws texts salted with Argo tags (`{{workflow.parameters.p0}}`,
`{{inputs.parameters.cmd}}`, `{{=expr}}`, lone and doubled braces), shell and YAML specials,
placeholders and the `$${{` escape, and unicode, into shell commands, exec-form commands, env
values, python args and param defaults. Each pipeline is compiled through the real CLI, then:

- no template string holds a tag dagshift did not emit (argo_model.unexpected_tags), so Argo
  cannot substitute or evaluate any user text;
- after Argo's substitution (argo_model.resolve_task, param defaults as the values), a shell task's
  script, an exec command's argv and an env value equal the text the pipeline means; a shell
  task is also run with the resolved argv by a real `bash`, and a python task's script by a real
  `python3`, whose function receives exactly the args meant;
- text Argo cannot carry (a literal `{{` in an env value or an exec argument) is an E302 with
  nothing written, never a changed text.

Param values holding `{{inputs.` are refused (E302): Argo itself would replace them in its
second substitution pass (docs/backends/argo.md, "Text and braces").
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import subprocess
import sys
from pathlib import Path

from argo_model import dag_tasks, load, main_spec, params_of, resolve_task, unexpected_tags
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from compiler.language.placeholders import Ref
from compiler.language.placeholders import parse as parse_placeholders

NASTY = [
    "{{", "}}", "{", "}", "{{workflow.parameters.p0}}", "{{ workflow.parameters.p0 }}", "{{inputs.parameters.cmd}}",
    "{{inputs.parameters.item}}", "{{item}}", "{{=1+1}}", "{{= sprig.exec() }}", "{{tasks.a.outputs.result}}",
    "{{{", "}}}", "{{}}", "${{ params.p0 }}", "${{ params.n }}", "$${{ params.p0 }}", "$${{", "${{", "${ x }", "$x",
    "'", '"', "\\", "\\n", "\n", "\r", "\t", "#", ": ", "- ", "&a", "*a", "!tag", "%", "@", "`id`", "$(id)", ";",
    "é", "\u2028", "\u0085", "\U0001f600", "中文", "\u200b",
]
_text = st.lists(
    st.one_of(st.sampled_from(NASTY), st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                                              max_size=5)),
    max_size=6,
).map("".join)


def meant(text: str, params: dict, *, whole_value: bool = False):
    """What a text means (docs/pipeline-syntax.md): a whole-value placeholder in python args keeps
    its type; any other placeholder is the value as text."""
    segments, errors = parse_placeholders(text)
    assert not errors
    if whole_value and len(segments) == 1 and isinstance(segments[0], Ref):
        return params[segments[0].name]
    return "".join(s if isinstance(s, str) else str(params[s.name]) for s in segments)


def literal_has_braces(text: str) -> bool:
    """Whether the literal text, as Argo would see it beside the variables, holds `{{`."""
    segments, _ = parse_placeholders(text)
    shown = "".join(s if isinstance(s, str) else "\x00{{v}}" for s in segments)
    return "{{" in shown.replace("\x00{{v}}", "") or "{\x00" in shown


def yaml_flow(value) -> str:
    """YAML flow text that reads back as exactly `value`: every character outside printable ASCII
    as an escape, so no YAML rule (line breaks, NEL, BOM...) can change it."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_flow(k)}: {yaml_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_flow(v) for v in value) + "]"
    if not isinstance(value, str):
        return json.dumps(value)
    return '"' + "".join(("\\" + c) if c in '"\\' else c if 0x20 <= ord(c) < 0x7F else f"\\U{ord(c):08x}"
                         for c in value) + '"'


def compile_pipeline(cli, data: dict, out: Path) -> tuple[int, str, list[dict]]:
    source = out.with_suffix(".yaml")
    source.write_text(yaml_flow(data), encoding="utf-8")
    result = cli("compile", str(source), "-t", "argo", "-o", str(out), "-q")
    assert result.exception is None, result.traceback_text
    documents = [d for path in sorted(out.glob("*.yaml")) for d in load(path.read_text(encoding="utf-8"))]
    return result.exit_code, result.stdout + result.stderr, documents


def strict_spec(documents: list[dict]) -> dict:
    spec = main_spec(documents)
    assert not unexpected_tags(spec["templates"]), unexpected_tags(spec["templates"])
    return spec


def _params_only(text: str) -> bool:
    """Placeholders that parse and name only this test's params: NASTY's pieces can join into
    `${{tasks.a.outputs.result}}`, which validation rightly refuses (no task `a`)."""
    segments, errors = parse_placeholders(text)
    return not errors and all(s.kind == "param" for s in segments if isinstance(s, Ref))


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@example(literal="a{{b}}{{workflow.parameters.p0}}{", arg="{{=1}}{{ ${{ params.p0 }}", p0="{{item}}\x85", n=1)
@example(literal="{{{inputs.parameters.cmd}}}$${{ params.n }}", arg="{${{ params.n }}", p0="'\"\\", n=-3)
@given(literal=_text, arg=_text, p0=_text, n=st.integers(-10**6, 10**6))
def test_shell_and_python_text_reach_the_container(cli, tmp_path_factory, literal: str, arg: str, p0: str,
                                                    n: int) -> None:
    assume("{{inputs.parameters." not in p0)
    command = "printf '%s' " + shlex.quote(literal)
    segments, errors = parse_placeholders(command)
    assume(not errors and not any(isinstance(s, Ref) for s in segments))
    assume(_params_only(arg))
    work = tmp_path_factory.mktemp("argo-injection")
    data = {
        "name": "inject",
        "params": {"p0": {"type": "str", "default": p0}, "n": n},
        "tasks": {
            "sh": {"command": command},
            "py": {"python": "argo_dump:dump", "args": {"t": arg, "w": "${{ params.p0 }}", "n": "${{ params.n }}"}},
        },
    }
    code, output, documents = compile_pipeline(cli, data, work / "out")
    assert code == 0, output
    spec = strict_spec(documents)
    params = params_of(spec)
    assert params == {"p0": p0, "n": str(n)}

    script = "".join(segments)
    shell = resolve_task(spec, "sh", params)["container"]
    argv = shell["command"] + shell.get("args", [])
    if argv[:2] == ["bash", "-c"] and len(argv) == 3:
        assert argv[2] == script
    else:
        assert "".join(argv[4:]) == script and "{{" not in "".join(json.dumps(a) for a in argv)
    run = subprocess.run(argv, capture_output=True, cwd=work, timeout=30, check=False)
    direct = subprocess.run(["bash", "-c", script], capture_output=True, cwd=work, timeout=30, check=False)
    assert run.returncode == direct.returncode == 0, run.stderr
    assert run.stdout == direct.stdout == shlex.split(script)[2].encode()

    python = resolve_task(spec, "py", params)["script"]
    (work / "argo_dump.py").write_text(
        "import json\n\ndef dump(**kwargs):\n    with open('kwargs.json', 'w', encoding='utf-8') as f:\n"
        "        json.dump(kwargs, f)\n", encoding="utf-8")
    env = {e["name"]: e["value"] for e in python["env"] if "value" in e}
    ran = subprocess.run([sys.executable, "-c", python["source"]], env={**env, "PATH": "/usr/bin:/bin"},
                         cwd=work, capture_output=True, text=True, timeout=30, check=False)
    assert ran.returncode == 0, ran.stderr
    received = json.loads((work / "kwargs.json").read_text(encoding="utf-8"))
    assert received == {"t": meant(arg, {"p0": p0, "n": n}, whole_value=True), "w": p0, "n": n}


@SETTINGS
@example(value="x{${{ params.p0 }}", argv=["echo", "{{"], p0="")
@example(value="${{ params.p0 }}{{workflow.parameters.p0}}", argv=["echo"], p0="v")
@example(value="${{ params.p0 }}}}", argv=["printf", "%s}}{"], p0="{{")
@given(value=_text, argv=st.lists(_text, min_size=1, max_size=3), p0=_text)
def test_env_and_exec_text_reach_the_container_or_are_refused(cli, tmp_path_factory, value: str, argv: list[str],
                                                              p0: str) -> None:
    assume("{{inputs.parameters." not in p0)
    assume(_params_only(value) and all(_params_only(a) for a in argv))
    work = tmp_path_factory.mktemp("argo-injection")
    data = {
        "name": "inject",
        "params": {"p0": {"type": "str", "default": p0}, "n": 7},
        "tasks": {"t": {"command": argv, "env": {"E": value}}},
    }
    code, output, documents = compile_pipeline(cli, data, work / "out")
    if literal_has_braces(value) or any(literal_has_braces(a) for a in argv):
        assert code == 1 and "E302" in output, output
        assert not documents
        return
    assert code == 0, output
    spec = strict_spec(documents)
    assert set(dag_tasks(spec)) == {"t"}
    container = resolve_task(spec, "t", params_of(spec))["container"]
    params = {"p0": p0, "n": 7}
    assert container["command"] == [meant(a, params) for a in argv]
    assert {e["name"]: e["value"] for e in container["env"]} == {"E": meant(value, params)}


_field_text = _text.filter(lambda t: "${{" not in t and "$${{" not in t)
# The documented secret-name limit (E115): what a Kubernetes Secret and a Prefect block both take.
_PORTABLE_SECRET = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_secret_names = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_path_text = _field_text.filter(  # paths that name a file (E218 refuses the others on every target)
    lambda t: t.strip() != "" and posixpath.normpath(t).strip("/") not in ("", "."))


@SETTINGS
@given(workdir=_path_text, path=_path_text, image=_field_text, secret=_secret_names | _field_text, output=_path_text,
       gpu_type=_field_text, default=_field_text, description=_field_text, tag=_field_text)
def test_every_other_field_reaches_argo_as_written_or_is_refused(cli, tmp_path_factory, workdir, path, image, secret,
                                                                 output, gpu_type, default, description, tag) -> None:
    """Texts Argo would substitute in (workdir, artifact and output paths, image, secret
    references, resource keys, param values) hold no `{{` that Argo reads, or the compile is an
    E302 naming each field; descriptions and tags never reach a template."""
    data = {
        "name": "inject", "description": description, "tags": [tag], "workdir": workdir,
        "params": {"p0": {"type": "str", "default": default, "description": description}},
        "artifacts": {"raw": path},
        "tasks": {
            "t": {"command": "echo t", "image": image, "produces": ["raw"], "secrets": {"S": {"name": secret,
                                                                                              "key": "k"}},
                  "outputs": {"o": {"type": "str", "path": output}}, "resources": {"gpu": 1, "gpu_type": gpu_type}},
        },
    }
    code, output_text, documents = compile_pipeline(cli, data, tmp_path_factory.mktemp("argo-fields") / "out")
    if not _PORTABLE_SECRET.fullmatch(secret):  # refused by validation, before any backend looks
        assert code == 1 and not documents and "E115" in output_text and "tasks.t.secrets.S.name" in output_text
        return
    braces = {"workdir": workdir, "artifacts.raw.path": path, "tasks.t.image": image, "tasks.t.secrets.S.name": secret,
              "tasks.t.outputs.o.path": output, "tasks.t.resources.gpu_type": gpu_type}
    refused = sorted(field for field, text in braces.items() if "{{" in text)
    if "{{inputs." in default:
        refused.append("params.p0.default")
    if refused:
        assert code == 1 and not documents, output_text
        assert all(field in output_text for field in refused), (refused, output_text)
        return
    assert code == 0, output_text
    spec = strict_spec(documents)
    assert params_of(spec)["p0"] == default
