"""The DVC backend's choices, read back from the generated files: which edges need a sentinel,
which commands DVC may read as written and which go through the runner, and the pipelines DVC
cannot hold (refused with a diagnostic, nothing written). Running them is tests/engines'."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compiler.backends.dvc.backend import spec_digest


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
    specs = json.loads(files[".dagshift/tasks.json"])
    assert list(specs) == ["listy", "texty"]  # the runner's tasks, in the order of their stages
    assert found["listy"]["cmd"] == f"python3 .dagshift/run.py listy {spec_digest(specs['listy'])}"
    assert found["texty"]["cmd"] == f"python3 .dagshift/run.py texty {spec_digest(specs['texty'])}"
    assert found["texty"]["params"] == ["s"]
    assert found["texty"]["deps"] == [".dagshift/run.py"]  # the digest in its cmd stands for its spec
    assert "deps" not in found["dollar"]
    assert specs["texty"]["command"] == {"$dagshift": ["concat", "echo ", {"$dagshift": ["param", "s"]}]}
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
    specs = json.loads(files[".dagshift/tasks.json"])
    assert found["texty"]["cmd"] == f"python3 .dagshift/run.py texty {spec_digest(specs['texty'])}"
    assert found["texty"]["deps"] == ["pkg/mod.py", ".dagshift/run.py"]
    assert "deps" not in found["installed"]  # not a file of the project
    assert set(files) == {"dvc.yaml", "params.yaml", ".dagshift/run.py", ".dagshift/tasks.json"}
    assert list(specs) == ["texty"]


ONE_SPEC = """
    name: p
    params: {s: text, n: 2}
    tasks:
      a: {command: "echo a ${{ params.s }}"}
      b: {command: "echo b ${{ params.s }}", after: [a]}
      c: {command: "echo c ${{ item }} ${{ params.s }}", foreach: [x, "y z"]}
      d: {command: "echo d ${{ params.n }}"}
"""


def test_every_runner_spec_is_in_one_file_and_each_cmd_names_its_digest(cli, tmp_path: Path) -> None:
    """One .dagshift/tasks.json keyed by task id in stage order (no file per task); a stage's cmd
    names the digest of its spec instead of depending on a spec file."""
    result, files = compile_dvc(cli, tmp_path, ONE_SPEC)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(files) == [".dagshift/run.py", ".dagshift/tasks.json", "dvc.yaml", "params.yaml"]
    text = files[".dagshift/tasks.json"]
    specs = json.loads(text)
    assert list(specs) == ["a", "b", "c"]  # d's cmd says it all: no spec
    assert text == json.dumps(specs, indent=2, ensure_ascii=False) + "\n"
    found = stages(files)
    assert found["a"]["cmd"][0] == f"python3 .dagshift/run.py a {spec_digest(specs['a'])}"  # then its sentinel
    assert found["c"]["do"]["cmd"] == f"python3 .dagshift/run.py c {spec_digest(specs['c'])} ${{key}}"
    assert found["c"]["do"]["deps"] == [".dagshift/run.py"]
    assert all(len(spec_digest(spec)) == 12 for spec in specs.values())
    canonical = json.dumps(specs["a"], sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert spec_digest(specs["a"]) == hashlib.sha256(canonical).hexdigest()[:12]


def test_changing_one_task_changes_only_its_own_stage(cli, tmp_path: Path) -> None:
    """DVC re-runs a stage when its cmd changes: an edited task changes its digest and nothing
    else in dvc.yaml (tests/engines/dvc/test_dvc_specs.py shows DVC re-running exactly that stage)."""
    _, before = compile_dvc(cli, tmp_path, ONE_SPEC)
    _, after = compile_dvc(cli, tmp_path, ONE_SPEC.replace('"echo b ', '"echo B '))
    old, new = stages(before), stages(after)
    assert [name for name in old if old[name] != new[name]] == ["b"]
    assert old["b"]["cmd"] != new["b"]["cmd"] and before[".dagshift/run.py"] == after[".dagshift/run.py"]
    old_specs, new_specs = json.loads(before[".dagshift/tasks.json"]), json.loads(after[".dagshift/tasks.json"])
    assert [task for task in old_specs if old_specs[task] != new_specs[task]] == ["b"]


def _run_py(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, ".dagshift/run.py", *args], cwd=out, capture_output=True, text=True,
                          check=False, timeout=60)


def test_the_runner_refuses_a_spec_that_does_not_match_the_stage(cli, tmp_path: Path) -> None:
    result, files = compile_dvc(cli, tmp_path, ONE_SPEC)
    assert result.exit_code == 0, result.stdout
    out = tmp_path / "out"
    digest = stages(files)["a"]["cmd"][0].split()[-1]
    ran = _run_py(out, "a", digest)
    assert ran.returncode == 0 and ran.stdout == "a text\n", ran.stderr
    refused = "dagshift: the spec of task a in .dagshift/tasks.json does not match dvc.yaml: " \
              "run `dagshift compile` again\n"
    specs = json.loads(files[".dagshift/tasks.json"])
    specs["a"]["command"]["$dagshift"][1] = "echo edited "
    (out / ".dagshift" / "tasks.json").write_text(json.dumps(specs, indent=2), encoding="utf-8")
    for args in (("a", digest), ("gone", digest), ("b", digest)):
        ran = _run_py(out, *args)
        assert ran.returncode == 1 and ran.stdout == "", ran
        assert ran.stderr == refused.replace("task a", f"task {args[0]}"), ran.stderr
    # only a key order or the layout changed: the same spec, which runs
    (out / ".dagshift" / "tasks.json").write_text(json.dumps(dict(reversed(json.loads(files[
        ".dagshift/tasks.json"]).items()))), encoding="utf-8")
    assert _run_py(out, "a", digest).returncode == 0


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
    assert ".dagshift/tasks.json" not in files and "cmd: exit 1" in files["dvc.yaml"]
    refused, _ = compile_dvc(cli, tmp_path, pipeline, "--strict")
    assert refused.exit_code == 1 and "--option timeouts=emulate" in refused.stdout
    result, files = compile_dvc(cli, tmp_path, pipeline, "--option", "retries=emulate", "--option", "timeouts=emulate")
    assert result.exit_code == 0, result.stdout
    spec = json.loads(files[".dagshift/tasks.json"])["a"]
    assert spec["retry_delays"] == [10.0, 20.0] and spec["timeout"] == 5


def test_descriptions_keep_dollar_braces_as_written(cli, tmp_path: Path) -> None:
    """DVC interpolates `${}` in every stage string and then drops one backslash before each `${`
    (tests/engines/dvc/test_dvc_interpolation.py proves both on the real DVC): one more backslash
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
    from compiler.output import emit

    text = emit.render("dvc", "run.py.j2", uses={name: name in on for name in RUNNER_USES})
    compile(text, "run.py", "exec")
    assert ("def _call(" in text) == ("python" in on)
    assert ("import subprocess" in text) == ("subprocess" in on)
    assert ("def main(" in text) == ("attempts" in on)
    assert ("def _keys(" in text) == ("foreach_keys" in on)
    assert ('"bash", "-c"' in text) == ("command" in on)
