"""User text reaches Kubeflow Pipelines exactly, whatever it contains.

KFP reads `{{$...}}` placeholders in every string of a container's command and args (the driver
and launcher: `{{$}}`, `{{$.inputs.parameters['NAME']}}`, output files, job names; kfp.local
matches any `{{$.X}}`), and an argument that starts with `{"Concat": ` or `{"IfPresent": ` as a
JSON placeholder structure; it has no escape. The backend therefore cuts a shell command's
literal text into pieces with no `{{` inside one (joined again by `sh -c 'IFS=; exec bash -c
"$*"'`), passes values as whole input-placeholder arguments, and writes a python component's
string literals with `{` and `}` escaped (KFP embeds the component's source in its command).

Hypothesis draws pipelines salted with KFP placeholder syntax (`{{$}}`,
`{{$.inputs.parameters['p0']}}`, `{{$.outputs...output_file}}`, doubled and tripled braces),
shell and Python quoting, `${ }`, `$(...)`, `%`, the `$${{` escape, placeholders and unicode
(NEL, LS, PS, BOM, astral), into shell commands, exec-form commands, python args (nested lists
and dicts too), param defaults, run arguments and names, and descriptions. Each example is
compiled through the real CLI twice (the whole pipeline, and its python task alone: kfp.local runs
nothing else), then ONE kfp_injection_check.py process (kfp 2.17.3) compiles both modules with
kfp's own compiler (kfp_inspect.py: strict read-back) and one kfp_local_runner.py process runs the
python one on kfp.local:

- every `{{$` in every executor's command and args is a placeholder the backend emitted, as a
  whole argument (an input the component declares, an output file, python's `{{$}}`), and no
  argument reads as a Concat / IfPresent structure;
- the container tasks' argv, with only those placeholders replaced by the values the run passes
  (drawn run arguments, else the drawn defaults as the compiled spec holds them), equals kfp's
  own resolution (kfp.local.placeholder_utils) and, run by the real `sh` and `bash`, writes
  exactly the text the pipeline means: a shell command its own script (`$BASH_EXECUTION_STRING`:
  after its first line, drawn text bash never parses), `printf '%s'` of a quoted literal, its
  value output file, an exec-form command its argv;
- the python task, run on kfp.local with the same arguments, receives exactly the kwargs meant;
- the description and the param names and defaults reach kfp's spec unchanged, and both modules
  compile with no warnings.

Param values (defaults and run arguments) hold no `{{$`: KFP itself reads it as a placeholder
(the launcher substitutes again inside values, kfp.local resolves values' self-references), as
Argo re-reads `{{inputs.parameters.` (tests/argo/test_argo_injection.py). Defaults and the
pipeline description also keep to what kfp's YAML header comment survives (YAML_BREAKS); the
backend refuses the rest with an E302.

The tests at the end keep the backend bugs this found fixed (KFP placeholder structures in
literal pieces, param names that break the module, python arg keys that are not identifiers,
the YAML header: each is now mapped, or refused with an E302); the mutation tests show that the check catches the cutting of `{{` or the
escaping of braces being switched off, both by the syntax rule and by what actually runs.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from engine_harness import compile_pipeline
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_airflow_injection import yaml_flow
from test_kfp_harness import LOCAL_RUNNER, pipeline_name, run_script

from compiler.backends import kubeflow
from compiler.placeholders import Ref, parse_ref
from compiler.placeholders import parse as parse_placeholders

pytestmark = [pytest.mark.engine, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
CHECK = HERE / "kfp_injection_check.py"

PROBE_MODULE = "kfp_probe"
PROBE_SOURCE = '''\
import json


def dump(path, **kwargs):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(kwargs, handle, ensure_ascii=True)
'''
# s0 and s1 write their own script (everything after the first line is drawn text that bash
# never parses: it exits first); s0 also prints a quoted literal and writes its value output.
S0_HEAD = ('printf %s "$BASH_EXECUTION_STRING" > s0.cmd; printf \'%s\' {lit} > s0.lit; '
           'printf %s ok > ${{{{ outputs.o }}}}; exit 0\n')
S1_HEAD = 'printf %s "$BASH_EXECUTION_STRING" > s1.cmd; exit 0\n'
ARGV_SCRIPT = 'for a; do printf "%s\\0" "$a"; done > "$0"'  # exec form: each argument, NUL-ended
RUN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8"}

NASTY = [
    "{{$}}", "{{$.inputs.parameters['p0']}}", "{{$.inputs.parameters['p_p0']}}", "{{$.inputs.parameters['x']}}",
    "{{$.inputs.parameters[''n'']}}", "{{$.inputs.parameters[''p_n'']}}", "{{$.outputs.parameters['o'].output_file}}",
    "{{$.outputs.parameters['o_o'].output_file}}", "{{$.outputs.output_file}}", "{{$.pipeline_job_name}}",
    "{{$.pipeline_task_name}}", "{{$.workspace_path}}", "{{$.", "{{$", "{{", "}}", "{{{", "}}}", "{", "}", "{}",
    "{ {", "$.outputs", "$.inputs", "\\x7b", "\\x7d", "\\u007b", "\\N{LEFT CURLY BRACKET}", "{!r}", "{0}",
    "'", '"', "'''", '"""', "\\", "\\\\", "\\n", "\n", "\r\n", "\r", "\t", " ", "\u00a0", "\x85", "\u2028",
    "\u2029", "\ufeff", "\u200b", "\U0001f600", "中文", "é", "${ x }", "${x}", "$x", "$", "$$", "$(id)", "`id`",
    "%", "%s", "%%", "#", ";", "&&", "|", ">", "<", "$${{ params.p0 }}", "$${{", "${{", '{"k": 1}', "[1]",
]
# Not drawn: `{"Concat": ` / `{"IfPresent": ` (see test_struct_placeholder_text_reaches_the_container).
PLACEHOLDERS = ["${{ params.p0 }}", "${{params.p1}}", "${{  params.n\t}}", "${{ params.p0 }}${{ params.n }}"]
DRAWN_REFS = {Ref("param", "p0"), Ref("param", "p1"), Ref("param", "n")}
WRITTEN = re.compile(r"(\$?)\$\{\{(.*?)\}\}", re.DOTALL)  # a placeholder or its escape, read as the compiler does
# Param names, beside p0, p1 and n, that meet the module's own names; the ones that break it
# today are in test_param_names_reach_kubeflow.
TRICKY_PARAMS = ["compiler", "IMAGE", "PIPELINE", "NamedTuple", "json", "str", "int", "print", "item", "outputs",
                 "result", "inj", "inj_py", "s0", "py0", "x0", "p_p0", "self", "cls", "model_x", "sh", "bash", "kfp",
                 "Input", "typing", "List", "Dict", "a", "o_o"]

# KFP's placeholders that name a value: the driver's input-parameter pattern, output files.
INPUT = re.compile(r"\{\{\$\.inputs\.parameters\['(.+?)'\]\}\}")
OUTPUT = re.compile(r"\{\{\$\.outputs\.parameters\['(.+?)'\]\.output_file\}\}")
STRUCTURES = ('{"Concat":', '{"IfPresent":')  # the driver trims spaces first; kfp.local does not
LOCAL_DISPLAY_NAME = re.compile(r"^Task '[^']*': settings \['display_name'\] have no effect in the current local")
# kfp writes the description and str defaults raw into its YAML's header comment (see
# test_kfp_yaml_header_carries_description_and_defaults): PyYAML's line breaks end the comment,
# its non-printable characters make the file unreadable.
YAML_BREAKS = "\n\r\x85\u2028\u2029"
YAML_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]")


# ----------------------------------------------------------------------------- the model


@dataclass
class Case:
    defaults: dict[str, Any]  # p0, p1 (str), n (int), and extra params (str)
    arguments: dict[str, Any] = field(default_factory=dict)  # run arguments for some params
    description: str | None = None
    param_descriptions: dict[str, str] = field(default_factory=dict)
    lit: str = ""  # s0 prints it with printf '%s' (quoted; no placeholders)
    tails: list[str] = field(default_factory=lambda: ["", ""])  # after s0's and s1's first line
    task_descriptions: dict[str, str | None] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)  # x0's exec-form arguments
    kwargs: dict[str, Any] = field(default_factory=dict)  # py0's args (besides `path`)

    @property
    def values(self) -> dict[str, Any]:
        """What the run passes: the arguments, else the defaults."""
        return {**self.defaults, **self.arguments}

    @property
    def extra(self) -> list[str]:
        return [name for name in self.defaults if name not in ("p0", "p1", "n")]


def commands(case: Case) -> dict[str, str]:
    s1 = S1_HEAD + "".join(f"{name}=${{{{ params.{name} }}}}\n" for name in case.extra) + case.tails[1]
    return {"s0": S0_HEAD.format(lit=shlex.quote(case.lit)) + case.tails[0], "s1": s1}


def python_args(case: Case) -> dict[str, Any]:
    extra = {f"e_{name}": f"${{{{ params.{name} }}}}" for name in case.extra}
    return {"path": "py0.json", **case.kwargs, **extra}


def pipeline_data(case: Case, *, python_only: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "inj_py" if python_only else "inj"}
    if case.description is not None:
        data["description"] = case.description
    data["params"] = {name: {"type": "int" if isinstance(value, int) else "str", "default": value,
                             **({"description": case.param_descriptions[name]}
                                if name in case.param_descriptions else {})}
                      for name, value in case.defaults.items()}
    tasks: dict[str, Any] = {}
    if not python_only:
        shell = commands(case)
        tasks["s0"] = {"command": shell["s0"], "outputs": {"o": "str"}}
        tasks["s1"] = {"command": shell["s1"]}
        tasks["x0"] = {"command": ["sh", "-c", ARGV_SCRIPT, "x0.argv", *case.argv]}
    tasks["py0"] = {"python": f"{PROBE_MODULE}:dump", "args": python_args(case)}
    for task_id, entry in tasks.items():
        if case.task_descriptions.get(task_id) is not None:
            entry["description"] = case.task_descriptions[task_id]
    data["tasks"] = tasks
    return data


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)  # str and int params only


def meant(text: str, case: Case, outputs: dict[str, str] | None = None, *, whole_value: bool = False) -> Any:
    """What a text means (docs/pipeline-syntax.md): literal segments as they are, `$${{` as `${{`,
    placeholders as the value (its text, unless it is the whole value of a python arg)."""
    segments, errors = parse_placeholders(text)
    assert not errors, text

    def value(ref: Ref) -> Any:
        if ref.kind == "param":
            return case.values[ref.name]
        assert ref.kind == "output" and outputs is not None, ref
        return outputs[ref.name]

    if whole_value and len(segments) == 1 and isinstance(segments[0], Ref):
        return value(segments[0])
    return "".join(s if isinstance(s, str) else as_text(value(s)) for s in segments)


def meant_args(value: Any, case: Case) -> Any:
    if isinstance(value, str):
        return meant(value, case, whole_value=True)
    if isinstance(value, list):
        return [meant_args(v, case) for v in value]
    if isinstance(value, dict):
        return {k: meant_args(v, case) for k, v in value.items()}
    return value


# ----------------------------------------------------------------------------- KFP's substitution


def placeholder_problems(argv: list[str], component: dict[str, list[str]], *, python: bool) -> list[str]:
    """Where KFP would read user text as its own syntax: a `{{$` outside a whole-argument
    placeholder the component declares, or an argument that is a Concat / IfPresent structure."""
    problems = []
    for index, arg in enumerate(argv):
        found = INPUT.fullmatch(arg) or OUTPUT.fullmatch(arg)
        if found and found[1] in component["outputs" if found.re is OUTPUT else "inputs"]:
            continue
        if python and arg == "{{$}}" and index and argv[index - 1] == "--executor_input":
            continue
        if "{{$" in arg:
            problems.append(f"argument {index} holds KFP placeholder syntax: {arg!r}")
        if arg.lstrip().startswith(STRUCTURES):
            problems.append(f"argument {index} reads as a KFP placeholder structure: {arg!r}")
    return problems


def launch(argv: list[str], values: dict[str, Any], outputs: dict[str, str]) -> list[str]:
    """The argv a container runs: KFP's driver and launcher replace each input-parameter and
    output-file placeholder by its value's text (a number in its shortest form); once
    placeholder_problems found nothing, no other text of the argv is KFP syntax."""
    resolved = []
    for arg in argv:
        if (found := INPUT.fullmatch(arg)) and found[1] in values:
            resolved.append(as_text(values[found[1]]))
        elif (found := OUTPUT.fullmatch(arg)) and found[1] in outputs:
            resolved.append(outputs[found[1]])
        else:
            resolved.append(arg)
    return resolved


# ----------------------------------------------------------------------------- the check


def compile_case(case: Case, work: Path) -> dict[str, Path]:
    modules = {}
    for python_only in (False, True):
        data = pipeline_data(case, python_only=python_only)
        source = work / "sources" / f"{data['name']}.yaml"
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(yaml_flow(data) + "\n", encoding="utf-8")
        compiled = compile_pipeline(source, work / "out" / data["name"], target="kubeflow")
        assert compiled.exception is None, f"{compiled.exception!r}\n{compiled.output}"
        assert compiled.ok and len(compiled.files) == 1, f"{data['name']}:\n{compiled.output}"
        modules[data["name"]] = compiled.files[0]
    return modules


def inspect(python: Path, modules: list[Path], work: Path, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    code, report, stderr = run_script(python, CHECK, str(work / "out"), "--arguments", json.dumps(arguments or {}),
                                      *map(str, modules), cwd=work)
    assert code == 0, stderr[-3000:]
    return report["modules"]


def check_case(case: Case, python: Path, work: Path, *, static: bool = True) -> None:
    """Compile, read back, resolve and run CASE; with `static=False`, skip placeholder_problems
    (the mutation tests show that what runs is wrong too, not only the syntax)."""
    for name, value in case.values.items():  # see the module docstring and runtime_value
        assert not isinstance(value, str) or ("{{$" not in value and "\x00" not in value), (name, value)
    for name, value in case.defaults.items():  # see YAML_BREAKS
        assert not isinstance(value, str) or not (set(value) & set(YAML_BREAKS) or YAML_NON_PRINTABLE.search(value)), \
            (name, value)
    assert not YAML_NON_PRINTABLE.search(case.description or ""), case.description
    modules = compile_case(case, work)
    reports = inspect(python, list(modules.values()), work, case.arguments)
    for name, report in reports.items():
        assert report["ok"], f"{name}: {report['stage']}: {report['error'][-3000:]}"
        assert report["warnings"] == [], (name, report["warnings"])
        assert report["pipeline"]["description"] == (case.description or None), name
        assert {k: v["default"] for k, v in report["inputs"].items()} == case.defaults, name
        assert [type(v["default"]) for v in report["inputs"].values()] == \
               [type(case.defaults[k]) for k in report["inputs"]], name
        assert sorted(t["name"] for t in report["tasks"]) == sorted(pipeline_data(
            case, python_only=name == "inj_py")["tasks"]), name
        for executor, argv in report["argv"].items():
            problems = placeholder_problems(argv, report["components"][executor],
                                            python=report["executors"][executor]["python"])
            assert not static or not problems, f"{name} {executor}: {problems}"
    main = reports["inj"]
    assert set(main["resolved"]) == {"s0", "s1", "x0"}
    runs = work / "runs"
    runs.mkdir()
    for task_id, resolved in main["resolved"].items():
        assert resolved["error"] is None, f"{task_id}: kfp cannot resolve the command: {resolved['error']}"
        values = {name: case.values[pipeline_name(name)] for name in resolved["values"]}
        assert resolved["values"] == values, task_id  # what KFP passes: the argument or the default
        argv = resolved["argv"]  # what kfp's own resolution runs
        if static:
            model = launch(main["argv"][resolved["executor"]], values, resolved["outputs"])
            assert model == argv, f"{task_id}: KFP's own resolution differs from the model"
        ran = subprocess.run(argv, cwd=runs, env=RUN_ENV, capture_output=True, timeout=60, check=False)
        assert ran.returncode == 0, f"{task_id}: exit {ran.returncode}\n{ran.stderr[-2000:]!r}"
    outputs = {pipeline_name(key): path for key, path in main["resolved"]["s0"]["outputs"].items()}
    shell = commands(case)
    want = {
        "s0.cmd": meant(shell["s0"], case, outputs).encode(),
        "s0.lit": case.lit.encode(),
        outputs["o"]: b"ok",
        "s1.cmd": meant(shell["s1"], case).encode(),
        "x0.argv": b"".join(meant(arg, case).encode() + b"\0" for arg in case.argv),
    }
    for name, content in want.items():
        path = runs / name
        assert path.is_file(), f"{name} was not written"
        assert path.read_bytes() == content, f"{name} holds {path.read_bytes()!r}, meant {content!r}"

    local = work / "local"
    local.mkdir()
    (local / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE, encoding="utf-8")
    arguments = [item for name, value in case.arguments.items() for item in ("--arg", f"{name}={json.dumps(value)}")]
    code, report, stderr = run_script(python, LOCAL_RUNNER, str(modules["inj_py"]), str(local), *arguments, cwd=local)
    assert code == 0 and report["ok"], f"the kfp.local run failed (exit {code}): {report['error']}\n{stderr[-3000:]}"
    # kfp.local only warns that it does not show display names (a component renamed off the task id)
    warned = [w for w in report["warnings"] if not LOCAL_DISPLAY_NAME.search(w["message"])]
    assert warned == [], warned
    received = json.loads((local / "py0.json").read_text(encoding="utf-8"))
    args = python_args(case)
    args.pop("path")
    assert received == meant_args(args, case), f"py0 received {received!r}, meant {meant_args(args, case)!r}"


# ----------------------------------------------------------------------------- strategies


def escape_stray(text: str) -> str:
    """Every `${{ ... }}` but the params' placeholders becomes the `$${{` escape (an unknown one
    is an error, `${{ item }}` or `${{ outputs.o }}` would not fit the task), so the text is a
    valid pipeline text that still holds both forms."""
    for match in reversed(list(WRITTEN.finditer(text))):
        if not match[1] and parse_ref(match[2]) not in DRAWN_REFS:
            text = text[:match.start()] + "$" + text[match.start():]
    segments, errors = parse_placeholders(text)
    assert not errors and all(s in DRAWN_REFS for s in segments if isinstance(s, Ref)), text
    return text


def without(text: str, bad: str, fix: str) -> str:
    while bad in text:
        text = text.replace(bad, fix)
    return text


def runtime_value(text: str) -> str:
    return without(text, "{{$", "{ {$")  # KFP would read it (the module docstring)


def yaml_printable(text: str) -> str:
    return YAML_NON_PRINTABLE.sub("", text)


def default_value(text: str) -> str:
    return yaml_printable(runtime_value(text).translate({ord(c): " " for c in YAML_BREAKS}))


_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_piece = st.one_of(st.sampled_from(NASTY), st.text(_chars, max_size=6))
_pieces = st.one_of(_piece, st.sampled_from(PLACEHOLDERS))


def texts(*, placeholders: bool = True, max_size: int = 7) -> st.SearchStrategy[str]:
    drawn = st.lists(_pieces if placeholders else _piece, max_size=max_size).map("".join)
    return drawn.map(escape_stray) if placeholders else drawn


value_texts = texts(placeholders=False).map(runtime_value)  # run arguments
default_texts = texts(placeholders=False).map(default_value)
exec_args = st.one_of(  # a whole placeholder (one KFP argument), literal text, or both (rebuilt by sh)
    st.sampled_from(["${{ params.p0 }}", "${{ params.n }}", "${{params.p1}}"]),
    texts(placeholders=False).map(lambda t: without(t, "{{", "{ {")),
    texts(),
)
nested = st.recursive(
    st.one_of(texts(max_size=4), st.integers(-5, 5), st.booleans(), st.none(), st.just(1.5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(texts(placeholders=False, max_size=3).map(
                                lambda t: without(t, "${{", "$ {{")), inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def cases(draw) -> Case:
    extra = draw(st.lists(st.sampled_from(TRICKY_PARAMS), unique=True, max_size=3))
    numbers = st.integers(-(2**31), 2**31)
    defaults = {"p0": draw(default_texts), "p1": draw(default_texts), "n": draw(numbers),
                **{name: draw(default_texts) for name in extra}}
    # kfp.local calls the pipeline with **arguments: BaseComponent.__call__'s own `self` takes no argument
    passed = draw(st.lists(st.sampled_from([name for name in defaults if name != "self"]), unique=True))
    arguments = {name: draw(numbers if name == "n" else value_texts) for name in passed}
    kwargs = {f"k{i}": v for i, v in enumerate(draw(st.lists(texts(), min_size=1, max_size=4)))}
    kwargs["nested"] = draw(nested)
    descriptions = texts(placeholders=False)  # of params and tasks: not in kfp's YAML header
    return Case(
        defaults=defaults,
        arguments=arguments,
        description=draw(st.none() | descriptions.map(yaml_printable)),
        param_descriptions={name: draw(descriptions) for name in draw(st.lists(st.sampled_from(list(defaults)),
                                                                                unique=True, max_size=2))},
        lit=without(draw(texts(placeholders=False)), "${{", "$ {{"),
        tails=[draw(texts()), draw(texts())],
        task_descriptions={task_id: draw(st.none() | descriptions) for task_id in ("s0", "s1", "x0", "py0")},
        argv=draw(st.lists(exec_args, max_size=4)),
        kwargs=kwargs,
    )


# ----------------------------------------------------------------------------- tests

NASTY_TEXT = ("it's \"q\" '''\"\"\" \\ \\n {{ x }} {$}} { {$}} ${ y } $(id) `id` %s %% \n\r\t\x85\u2028\u2029"
              "\ufeff\U0001f600 中文 $${{ params.p0 }} }}{{")
HAND_PICKED = Case(
    defaults={"p0": default_value(NASTY_TEXT), "p1": "tail.sh", "n": -7, "json": "'\"", "PIPELINE": "{",
              "p_p0": "}}{"},
    arguments={"p0": NASTY_TEXT, "p1": "tail.sh\n", "json": "\r\n\x85'''\""},
    description="{{$}} it's \"q\" '''\n\\ \U0001f600 {{$.inputs.parameters['p_p0']}}",
    param_descriptions={"p0": "{{$}}\"'\n", "json": "\x85"},
    lit="{{$.inputs.parameters['p_p0']}} {{$}} {{{{$}}}} '\"\\ \n\x85 {{$.outputs.parameters['o_o'].output_file}}",
    tails=[("{{$.inputs.parameters['p_p0']}}${{ params.p0 }}{{$}}{${{ params.n }}}{{{{ $${{ params.p1 }} "
            "${{ outputs.o }}{{$.pipeline_job_name}}"),
           ("\r\n'unclosed <<EOF\n${{ params.p1 }}\x85{{$.workspace_path}} $.outputs "
            "{{$.outputs.parameters['o_o'].output_file}}{{$")],
    task_descriptions={"s0": "{{$}} \"\"\" ''' \\ \n doc", "s1": "{{$.inputs.parameters['p_p0']}}",
                       "x0": "\u2028", "py0": "{{$}}{{$.inputs.parameters['p_p0']}}\"\"\"'"},
    argv=["${{ params.p0 }}", "${{ params.n }}", "", " ", "{$}}", "}}", "'\"\\\n", "$.outputs", "\U0001f600\u2028",
          '{"k": 1}', "--executor_input", "a{{b", "{{$}}", "$${{ params.p0 }}", "x${{ params.p0 }}y{{$}}",
          "n=${{ params.n }}\n"],
    kwargs={"k0": "${{ params.n }}", "k1": "n=${{ params.n }}", "k2": "{{$}}{{$.inputs.parameters['p_p0']}}\\x7b{",
            "k3": "${{ params.p0 }}", "k4": NASTY_TEXT + "${{ params.p0 }}",
            "nested": ["${{ params.n }}", {"{{$}}'\"": "${{ params.p0 }}}}", "{{$.inputs": [True, None, 1.5, -3, {}]}]},
)


def test_hand_picked_texts_reach_kubeflow_exactly(kubeflow_python: Path, tmp_path: Path) -> None:
    check_case(HAND_PICKED, kubeflow_python, tmp_path)


# No shrinking: each example costs two engine processes, and the failure names the task and text.
@settings(max_examples=20, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(case=cases())
def test_drawn_text_reaches_kubeflow_exactly(kubeflow_python: Path, tmp_path_factory: pytest.TempPathFactory,
                                             case: Case) -> None:
    check_case(case, kubeflow_python, tmp_path_factory.mktemp("kfp-injection"))


def test_exec_arguments_mixing_text_and_values_are_rebuilt_by_sh(tmp_path: Path) -> None:
    """KFP cannot carry `{{` or text around a value in one exec-form argument: such an argv goes
    through sh, which joins each argument from its pieces (HAND_PICKED's argv shows it exact)."""
    for index, arg in enumerate(["a{{b", "{{$}}", "$${{ params.p0 }}", "x${{ params.p0 }}"]):
        source = tmp_path / "rebuilt.yaml"
        source.write_text(yaml_flow({"name": "rebuilt", "params": {"p0": "v"},
                                     "tasks": {"t": {"command": ["printf", "%s", arg]}}}), encoding="utf-8")
        compiled = compile_pipeline(source, tmp_path / f"out{index}", target="kubeflow")
        assert compiled.ok, (arg, compiled.output)
        module = compiled.files[0].read_text(encoding="utf-8")
        assert 'set -- "$@" "$a"; g=$((g-1)); done; exec "$@"' in module and "{{" not in module, (arg, module)


# ----------------------------------------------------------------------------- the check can fail

MUTATION_CASE = Case(
    defaults={"p0": "value", "p1": "", "n": 3},
    tails=["a{{$.inputs.parameters['p0']}}b{{$}}c", ""],
    kwargs={"k0": "{{$.inputs.parameters['p0']}}", "k1": "${{ params.p0 }}"},  # k1: p0 is py0's input
)


@pytest.mark.parametrize("static", [True, False])
def test_the_check_catches_unsplit_braces(kubeflow_python: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          static: bool) -> None:
    """With `{{` left inside a piece, KFP reads the user's `{{$...}}` as its own placeholder (its
    texts pass unmutated: HAND_PICKED holds them)."""
    monkeypatch.setattr(kubeflow, "_pieces", lambda text: [text] if text else [])
    with pytest.raises(AssertionError, match="KFP placeholder syntax" if static else "s0.cmd holds"):
        check_case(MUTATION_CASE, kubeflow_python, tmp_path, static=static)


@pytest.mark.parametrize("static", [True, False])
def test_the_check_catches_unescaped_python_literals(kubeflow_python: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, static: bool) -> None:
    """With braces left in a python component's string literals, KFP rewrites its source."""
    original = kubeflow.code_literal

    def unescaped(value: Any) -> str:
        return repr(value) if isinstance(value, str) else original(value)

    monkeypatch.setattr(kubeflow, "code_literal", unescaped)
    with pytest.raises(AssertionError, match="KFP placeholder syntax" if static else "py0 received"):
        check_case(MUTATION_CASE, kubeflow_python, tmp_path, static=static)


# ----------------------------------------------------------------------------- regressions (bugs this test found)


def test_struct_placeholder_text_reaches_the_container(kubeflow_python: Path, tmp_path: Path) -> None:
    case = Case(defaults={"p0": "v", "p1": "", "n": 1}, tails=['echo {{"Concat": ["x"]}', ""])
    check_case(case, kubeflow_python, tmp_path)


BROKEN_PARAM_NAMES = ["dsl", "kubernetes", "s_task", "s_item", "Output", "_x"]


def test_param_names_reach_kubeflow(kubeflow_python: Path, tmp_path: Path) -> None:
    modules = []
    for name in BROKEN_PARAM_NAMES:
        data = {"name": f"names_{name.strip('_').lower()}", "params": {name: {"type": "str", "default": "x"}},
                "tasks": {"s": {"command": "echo ${{ item }}", "foreach": ["1"], "timeout": 60},
                          "t": {"command": f"echo ${{{{ params.{name} }}}}", "after": ["s"],
                                "when": f"params.{name} == 'x'"}}}
        source = tmp_path / f"{data['name']}.yaml"
        source.write_text(yaml_flow(data), encoding="utf-8")
        compiled = compile_pipeline(source, tmp_path / "out" / data["name"], target="kubeflow")
        if not compiled.ok:  # refusing the name cleanly is fine too
            assert "error[E302]" in compiled.output and "Traceback" not in compiled.output, compiled.output
            continue
        modules.append(compiled.files[0])
    reports = inspect(kubeflow_python, modules, tmp_path) if modules else {}
    broken = {name: report["error"].splitlines()[0] for name, report in reports.items() if not report["ok"]}
    assert not broken, broken


def test_python_arg_keys_reach_the_function(kubeflow_python: Path, tmp_path: Path) -> None:
    keys = {"class": 1, "a-b": 2, "x y": 3, "path": "keys.json"}
    data = {"name": "keys", "tasks": {"py": {"python": f"{PROBE_MODULE}:dump", "args": keys}}}
    source = tmp_path / "keys.yaml"
    source.write_text(yaml_flow(data), encoding="utf-8")
    compiled = compile_pipeline(source, tmp_path / "out", target="kubeflow")
    if not compiled.ok:  # refusing the keys cleanly is fine too
        assert "error[E302]" in compiled.output and "E401" not in compiled.output, compiled.output
        return
    (tmp_path / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE, encoding="utf-8")
    code, report, stderr = run_script(kubeflow_python, LOCAL_RUNNER, str(compiled.files[0]), str(tmp_path),
                                      cwd=tmp_path)
    assert code == 0 and report["ok"], stderr[-3000:]
    assert json.loads((tmp_path / "keys.json").read_text()) == {"class": 1, "a-b": 2, "x y": 3}


HEADER_TEXTS = {  # (description, default of p0)
    "line break in a default": (None, "a\nb"),
    "NEL in a default": (None, "a\x85b"),
    "control character in a default": (None, "a\x02b"),
    "control character in the description": ("a\x02b", "v"),
}


def test_kfp_yaml_header_carries_description_and_defaults(kubeflow_python: Path, tmp_path: Path) -> None:
    modules, cases = [], {}
    for index, (description, default) in enumerate(HEADER_TEXTS.values()):
        data = {"name": f"header_{index}", "params": {"p0": default},
                "tasks": {"s": {"command": "echo ${{ params.p0 }}"}}}
        if description is not None:
            data["description"] = description
        source = tmp_path / f"{data['name']}.yaml"
        source.write_text(yaml_flow(data), encoding="utf-8")
        compiled = compile_pipeline(source, tmp_path / "out" / data["name"], target="kubeflow")
        if not compiled.ok:  # refusing the text cleanly is fine too
            assert "error[E30" in compiled.output and "Traceback" not in compiled.output, compiled.output
            continue
        modules.append(compiled.files[0])
        cases[data["name"]] = (description, default)
    reports = inspect(kubeflow_python, modules, tmp_path) if modules else {}
    problems = {}
    for name, (description, default) in cases.items():
        report = reports[name]
        if not report["ok"]:
            problems[name] = report["error"].splitlines()[0]
        elif (report["pipeline"]["description"], report["inputs"]["p0"]["default"]) != (description, default):
            problems[name] = f"read back as {report['pipeline']['description']!r}, {report['inputs']['p0']!r}"
    assert not problems, problems


def test_exec_form_command_runs_in_the_pipelines_workdir(kubeflow_python: Path, tmp_path: Path) -> None:
    """An exec-form command with a workdir goes through sh, which changes into the directory
    (given as a rebuilt argument: its text is never KFP or shell syntax) and then runs the argv."""
    workdir = tmp_path / "w 'd' {{$}} \"${x}\" \u2028"
    workdir.mkdir()
    source = tmp_path / "workdir.yaml"
    source.write_text(yaml_flow({"name": "workdir", "workdir": str(workdir), "params": {"p0": "a b{{x}} '\"$(id)"},
                                 "tasks": {"x": {"command": ["sh", "-c", 'pwd > here; printf %s "$1" > arg', "sh",
                                                             "v=${{ params.p0 }}"]}}}), encoding="utf-8")
    compiled = compile_pipeline(source, tmp_path / "out", target="kubeflow")
    assert compiled.ok, compiled.output
    (tmp_path / "work" / "out").mkdir(parents=True)
    report = inspect(kubeflow_python, compiled.files, tmp_path / "work")["workdir"]
    assert report["ok"], report["error"]
    argv = report["resolved"]["x"]["argv"]
    ran = subprocess.run(argv, cwd=tmp_path, env=RUN_ENV, capture_output=True, timeout=60, check=False)
    assert ran.returncode == 0, ran.stderr
    assert (workdir / "here").read_text(encoding="utf-8") == f"{workdir}\n"
    assert (workdir / "arg").read_text(encoding="utf-8") == "v=a b{{x}} '\"$(id)"
