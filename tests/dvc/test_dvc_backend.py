"""The DVC backend's choices, read back from the generated files: which edges need a sentinel,
which commands DVC may read as written and which go through the runner, and the pipelines DVC
cannot hold (refused with a diagnostic, nothing written). Running them is tests/engines'."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML


def compile_dvc(cli, tmp_path: Path, text: str, *options: str):
    source = tmp_path / "pipeline.yaml"
    source.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    out = tmp_path / "out"
    result = cli("compile", str(source), "-t", "dvc", "-o", str(out), "-q", *options)
    files = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()}
    return result, files


def stages(files: dict[str, str]) -> dict:
    return YAML(typ="safe", pure=True).load(files["dvc.yaml"])["stages"]


def test_only_edges_no_path_carries_get_a_sentinel(cli, tmp_path: Path) -> None:
    result, files = compile_dvc(cli, tmp_path, """
        name: p
        artifacts: {data: data.csv}
        tasks:
          a: {command: "echo a > data.csv", produces: [data]}
          b: {command: "cat data.csv", consumes: [data]}
          c: {command: "echo c", after: [b]}
    """)
    assert result.exit_code == 0, result.stdout + result.stderr
    found = stages(files)
    assert found["a"]["outs"] == ["data.csv"] and found["b"]["deps"] == ["data.csv"]
    assert found["b"]["outs"] == [{".dagshift/done/b": {"cache": False}}]
    assert found["c"]["deps"] == [".dagshift/done/b"] and "outs" not in found["c"]
    assert found["b"]["cmd"][0] == "cat data.csv"  # the user's command stays one item, as written


def test_plain_commands_stay_as_written_and_others_run_by_bash(cli, tmp_path: Path) -> None:
    result, files = compile_dvc(cli, tmp_path, """
        name: p
        params: {n: 3, names: [x, y], s: text}
        tasks:
          plain: {command: "python3 -m x --n ${{ params.n }} > out.txt && cat out.txt"}
          quoted: {command: "echo ${{ params.n }} '#' : é"}
          dollar: {command: "echo ${HOME} $${{ x }} ${{ params.n }}"}
          listy: {command: "echo ${{ params.names }}"}
          texty: {command: "echo ${{ params.s }}"}
    """)
    assert result.exit_code == 0, result.stdout + result.stderr
    found = stages(files)
    assert found["plain"]["cmd"] == "python3 -m x --n ${n} > out.txt && cat out.txt"
    assert found["quoted"]["cmd"] == "bash -c 'echo ${n} '\\''#'\\'' : é'" and found["quoted"]["params"] == ["n"]
    # DVC would read a literal `${` as its own: `$''{` is the same text to the shell
    assert found["dollar"]["cmd"] == "bash -c 'echo $''{HOME} $''{{ x }} ${n}'"
    # DVC rewrites a text or list value in a command (`\\${`, line breaks): the runner fills it in
    assert found["listy"]["cmd"] == "python3 .dagshift/run.py listy"
    assert found["texty"]["cmd"] == "python3 .dagshift/run.py texty" and found["texty"]["params"] == ["s"]
    assert found["texty"]["deps"] == [".dagshift/run.py", ".dagshift/tasks/texty.json"]
    assert "deps" not in found["dollar"]
    spec = json.loads(files[".dagshift/tasks/texty.json"])
    assert spec["command"] == {"$dagshift": ["concat", "echo ", {"$dagshift": ["param", "s"]}]}
    assert json.loads(files["params.yaml"]) == {"n": 3, "names": ["x", "y"], "s": "text"}


def test_python_stages_call_the_function_in_cmd_and_depend_on_its_module(cli, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("def f(**kwargs):\n    return 1\n", encoding="utf-8")
    result, files = compile_dvc(cli, tmp_path, """
        name: p
        params: {n: 3, s: text}
        tasks:
          call: {python: "pkg.mod:f", args: {a: "it's ${x} \\\\ é", n: "${{ params.n }}", "b c": [1, null]}}
          value: {python: "pkg.mod:f", outputs: {count: int}}
          texty: {python: "pkg.mod:f", args: {s: "${{ params.s }}"}}
          installed: {python: "json:dumps", args: {obj: 1}}
    """)
    assert result.exit_code == 0, result.stdout + result.stderr
    found = stages(files)
    assert found["call"]["cmd"] == (
        "python3 -c 'from pkg.mod import f; f(a=\"it\\x27s $\\x7bx} \\x5c \\xe9\", n=${n}, **{\"b c\": [1, None]})'")
    assert found["call"]["deps"] == ["pkg/mod.py"] and found["call"]["params"] == ["n"]
    assert found["value"]["cmd"] == [
        "mkdir -p .dagshift/outputs/value",
        ("python3 -c 'import json; from pkg.mod import f; count: int = f(); "
         "open(\".dagshift/outputs/value/count\", \"w\", encoding=\"utf-8\").write(json.dumps(count))'")]
    # a text param: DVC would rewrite its value, so the runner reads it from params.yaml
    assert found["texty"]["cmd"] == "python3 .dagshift/run.py texty"
    assert found["texty"]["deps"] == ["pkg/mod.py", ".dagshift/run.py", ".dagshift/tasks/texty.json"]
    assert "deps" not in found["installed"]  # not a file of the project
    assert set(files) == {"dvc.yaml", "params.yaml", ".dagshift/run.py", ".dagshift/tasks/texty.json"}


@pytest.mark.parametrize(("text", "message"), [
    ("params: {n: {type: int}}\ntasks: {a: {command: echo}}", "needs a default"),
    ("workdir: /srv/x\ntasks: {a: {command: echo}}", "relative path"),
    ("artifacts: {d: 'x/${y}.csv'}\ntasks: {a: {command: echo, produces: [d]}}", "interpolation"),
    ("artifacts: {d: x.csv}\ntasks: {a: {command: echo, foreach: [1, 2], produces: [d]}}", "same artifact path"),
    ("params: {m: {type: list, default: ['a b', c]}}\ntasks: {a: {command: echo, foreach: '${{ params.m }}'}}",
     "short names"),
    ("tasks: {a: {command: echo, foreach: ['${x}']}}", "interpolation"),
])
def test_what_dvc_cannot_hold_is_refused_and_nothing_written(cli, tmp_path: Path, text: str, message: str) -> None:
    result, files = compile_dvc(cli, tmp_path, "name: p\n" + text)
    assert result.exit_code == 1 and "E302" in result.stdout and message in result.stdout, result.stdout
    assert not files


def test_retries_and_timeouts_are_left_out_unless_emulation_is_asked_for(cli, tmp_path: Path) -> None:
    pipeline = """
        name: p
        tasks:
          a: {command: "exit 1", retries: 2, retry_delay: 10s, retry_backoff: 3, retry_max_delay: 20s, timeout: 5s}
    """
    left_out, files = compile_dvc(cli, tmp_path, pipeline)
    assert left_out.exit_code == 0 and "--option retries=emulate" in left_out.stdout
    assert left_out.stdout.count("warning[W301]") == 2  # retries (with their backoff and cap) and the timeout
    assert ".dagshift/tasks/a.json" not in files and "cmd: exit 1" in files["dvc.yaml"]
    refused, _ = compile_dvc(cli, tmp_path, pipeline, "--strict")
    assert refused.exit_code == 1 and "--option timeouts=emulate" in refused.stdout
    result, files = compile_dvc(cli, tmp_path, pipeline, "--option", "retries=emulate", "--option", "timeouts=emulate")
    assert result.exit_code == 0, result.stdout
    spec = json.loads(files[".dagshift/tasks/a.json"])
    assert spec["retry_delays"] == [10.0, 20.0] and spec["timeout"] == 5


def test_descriptions_keep_dollar_braces_as_written(cli, tmp_path: Path) -> None:
    """DVC interpolates `${}` in every stage string and then drops one backslash before each `${`
    (tests/engines/test_dvc_interpolation.py proves both on the real DVC): one more backslash
    before every `${` shows the text as written."""
    result, files = compile_dvc(cli, tmp_path, r"""
        name: p
        tasks:
          a: {command: "echo", description: 'uses ${x}, \${y} and $HOME'}
    """)
    assert result.exit_code == 0, result.stdout
    assert stages(files)["a"]["desc"] == r"uses \${x}, \\${y} and $HOME"


RUNNER_USES = ("python", "container", "argv", "command", "env", "outputs", "attempts", "fanned_out", "upstream",
               "foreach_keys", "subprocess")


@pytest.mark.parametrize("on", [(), ("python",), ("command", "subprocess"), ("argv", "subprocess", "env"),
                                ("python", "outputs", "fanned_out", "foreach_keys"), RUNNER_USES])
def test_the_runner_holds_only_what_its_tasks_use(on: tuple[str, ...]) -> None:
    from compiler import emit

    text = emit.render("dvc", "run.py.j2", uses={name: name in on for name in RUNNER_USES})
    compile(text, "run.py", "exec")
    assert ("def _call(" in text) == ("python" in on)
    assert ("import subprocess" in text) == ("subprocess" in on)
    assert ("def main(" in text) == ("attempts" in on)
    assert ("def _keys(" in text) == ("foreach_keys" in on)
    assert ('"bash", "-c"' in text) == ("command" in on)
