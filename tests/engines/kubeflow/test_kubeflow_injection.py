"""User text reaches Kubeflow Pipelines exactly, whatever it contains, in every string field the
Kubeflow backend writes; or the compile names the field (a warning when Kubeflow leaves it out, an
error when KFP would read it as its own syntax).

KFP reads `{{$...}}` placeholders in every string of a container's command and args (the driver
and launcher: `{{$}}`, `{{$.inputs.parameters['NAME']}}`, output files, job names; kfp.local
matches any `{{$.X}}`), and an argument that starts with `{"Concat": ` or `{"IfPresent": ` as a
JSON placeholder structure; it has no escape. The backend therefore cuts a shell command's
literal text into pieces with no `{{` inside one (joined again by `sh -c 'IFS=; exec bash -c
"$*"'`), passes values as whole input-placeholder arguments, and writes a python component's
string literals with `{` and `}` escaped (KFP embeds the component's source in its command).
KFP's driver also replaces a container's image or GPU type (or a secret name) that holds `{{$` or its
input-parameter pattern `$.inputs.parameters['NAME']` (DRIVER_PLACEHOLDER), and kfp writes a
`when` string literal unescaped between single quotes into a CEL condition.

Hypothesis draws text salted with KFP placeholder syntax (`{{$}}`, `{{$.inputs.parameters['p0']}}`,
`{{$.outputs...output_file}}`, doubled and tripled braces), shell and Python quoting, `${ }`,
`$(...)`, `%`, the `$${{` escape, placeholders and unicode (NEL, LS, PS, BOM, astral) into every
string field of three pipelines, each compiled through the real CLI:

- `inj`: shell commands (s0, s1), an exec-form command (x0), a python task (py0) with nested args,
  param names and str defaults, the description, param descriptions and enum values, owner,
  tags, the workdir, env values (with `$${{` escapes), an external artifact's path and
  description, a URI artifact one task produces and another reads, an output's `path:` and
  description, task descriptions, a pool, a data trigger's URI, a `when` string literal (w0), a
  task's alert command (x0's) and the items of a literal foreach list (f0's);
- `inj_py`: its python task alone (kfp.local runs python components only);
- `inj_fields`: a container task (c0) with a drawn image, string command, container args, env
  value (placeholders too), secret name and key, and GPU type, a task on the `--option image`,
  a claim (`--option volume`), and sometimes an output whose `path:` the task writes instead of
  `${{ outputs.NAME }}`: what Kubeflow cannot take is refused.

Then ONE kfp_injection_check.py process (kfp 2.17.3) compiles the modules with kfp's own compiler
(kfp_inspect.py: strict read-back) and one kfp_local_runner.py process runs `inj_py` on kfp.local:

- every `{{$` in every executor's command and args is a placeholder the backend emitted, as a
  whole argument (an input the component declares, an output file, python's `{{$}}`), and no
  argument reads as a Concat / IfPresent structure;
- the container tasks' argv, with only those placeholders replaced by the values the run passes
  (drawn run arguments, else the drawn defaults as the compiled spec holds them), equals kfp's
  own resolution (kfp.local.placeholder_utils) and, run by the real `sh` and `bash` in the workdir
  with the executor's env from the spec, writes exactly the text the pipeline means: a shell
  command its own script (`$BASH_EXECUTION_STRING`: after its first line, drawn text bash never
  parses; the artifacts' paths and URI there as text) and its env values, `printf '%s'` of a
  quoted literal, its value output file, an exec-form command its argv, c0 its container args
  (its `sh` script as the pieces it joins);
- the python task, run on kfp.local with the same arguments, receives exactly the kwargs and env
  values meant, in the workdir;
- in the specs: the description, the param names and defaults, c0's image, env, GPU type and
  secret (the kfp-kubernetes platform spec), the claim mounted at the workdir, the option's image,
  w0's condition (the CEL string literal, decoded as the KFP backend reads it), f0's list, and
  the command and workdir in the source of x0's alerts task are the text meant; kfp names each
  pipeline in its DNS form; and all modules compile with no kfp warning;
- the compile names what Kubeflow leaves out (owner, tags, the pool, the trigger: W301; the enum:
  W302) and refuses, naming the field, what KFP's driver would read as its placeholder or cannot
  use (E302 at the task's field: `{{$`, `$.inputs.parameters['X']`, an empty GPU type; E303 for
  the image option; a secret name or key no target can look up is E115, refused by validation), an env value with a placeholder, an output path the task
  writes instead of `${{ outputs.NAME }}`, and a claim that is no Kubernetes name (E303).

Descriptions of params, artifacts, outputs and tasks have no field in the PipelineSpec kfp writes
(kfp re-parses docstrings for them): they are drawn so that they break nothing.

Param values (defaults and run arguments) hold no `{{$`: KFP itself reads it as a placeholder
(the launcher substitutes again inside values, kfp.local resolves values' self-references), as
Argo re-reads `{{inputs.parameters.` (tests/backends/argo/test_argo_injection.py). Defaults and the
pipeline description also keep to what kfp's YAML header comment survives (YAML_BREAKS); the
backend refuses the rest with an E302. So do foreach items (values too). Neither the alert
command nor foreach items hold `${{` (alerts take no placeholders, and what `$${{` means in
either is not settled).

The tests at the end keep the backend bugs this found fixed (KFP placeholder structures in
literal pieces, param names that break the module, python arg keys that are not identifiers,
the YAML header, a workdir read as placeholder text in the exec form, `when` literals in KFP's
CEL condition, texts KFP's driver reads or cannot use, env escapes, URI artifacts between tasks,
output paths KFP never reads, the enum left out unnamed: each is now mapped, refused with an
E302, or named by a W302); the mutation tests show that the check catches the cutting of `{{` or the escaping of braces
being switched off, both by the syntax rule and by what actually runs.
"""

from __future__ import annotations

import ast
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
from injection_cases import ENV_NAMES, condition_literal, yaml_flow
from injection_rules import PORTABLE_SECRET_KEY, PORTABLE_SECRET_NAME, path_is_refused
from test_kfp_harness import LOCAL_RUNNER, pipeline_name, run_script

from compiler.backends.kubeflow import backend as kubeflow
from compiler.diagnostics import _printable as shown  # a path as diagnostics print it
from compiler.importers import import_file
from compiler.importers.kubeflow.importer import cel_unquote
from compiler.language.placeholders import Ref, parse_ref
from compiler.language.placeholders import parse as parse_placeholders

pytestmark = [pytest.mark.engine, pytest.mark.slow]

HERE = Path(__file__).resolve().parents[1]
CHECK = HERE / "kfp_injection_check.py"
MAIN, PYTHON, FIELDS = "inj", "inj_py", "inj_fields"  # the three pipelines (module docstring)

PROBE_MODULE = "kfp_probe"
PROBE_SOURCE = f'''\
import json
import os

ENV_NAMES = {list(ENV_NAMES)!r}


def dump(path, **kwargs):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(kwargs, handle, ensure_ascii=True)
    with open(path + ".env", "w", encoding="utf-8") as handle:  # the env values the task was given
        json.dump({{name: os.environ.get(name) for name in ENV_NAMES}}, handle, ensure_ascii=True)
'''
# s0 and s1 write their own script (everything after the first line is drawn text that bash
# never parses: it exits first); s0 also prints a quoted literal, its env values and its value output.
S0_HEAD = ('printf %s "$BASH_EXECUTION_STRING" > s0.cmd; printf \'%s\' {lit} > s0.lit; '
           + "".join(f'printf %s "${name}" > s0.{name}; ' for name in ENV_NAMES)
           + 'printf %s ok > ${{{{ outputs.o }}}}; exit 0\n')
S1_HEAD = 'printf %s "$BASH_EXECUTION_STRING" > s1.cmd; exit 0\n'
S1_ARTIFACTS = "ext=${{ artifacts.ext }}\nu=${{ artifacts.u }}\n"  # never run: the text is checked
C0_HEAD = 'for a; do printf "%s\\0" "$a"; done > c0.args; exit 0\n'  # sh has no $BASH_EXECUTION_STRING
ARGV_SCRIPT = 'for a; do printf "%s\\0" "$a"; done > "$0"'  # exec form: each argument, NUL-ended
WORKDIR_LINE = "cd -- {} || exit\n"  # what the backend runs before a shell command (docs/backends/kubeflow.md)
RUN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
IMAGE = "alpine:3.20"
FIELDS_WORKDIR = "fw"  # inj_fields' workdir when none is drawn: the claim is mounted there, c0 runs there

NASTY = [
    "{{$}}", "{{$.inputs.parameters['p0']}}", "{{$.inputs.parameters['p_p0']}}", "{{$.inputs.parameters['x']}}",
    "{{$.inputs.parameters[''n'']}}", "{{$.inputs.parameters[''p_n'']}}", "{{$.outputs.parameters['o'].output_file}}",
    "{{$.outputs.parameters['o_o'].output_file}}", "{{$.outputs.output_file}}", "{{$.pipeline_job_name}}",
    "{{$.pipeline_task_name}}", "{{$.workspace_path}}", "{{$.", "{{$", "{{", "}}", "{{{", "}}}", "{", "}", "{}",
    "{ {", "$.outputs", "$.inputs", "\\x7b", "\\x7d", "\\u007b", "\\N{LEFT CURLY BRACKET}", "{!r}", "{0}",
    "'", '"', "'''", '"""', "\\", "\\\\", "\\n", "\n", "\r\n", "\r", "\t", " ", "\u00a0", "\x85", "\u2028",
    "\u2029", "\ufeff", "\u200b", "\U0001f600", "中文", "é", "${ x }", "${x}", "$x", "$", "$$", "$(id)", "`id`",
    "%", "%s", "%%", "#", ";", "&&", "|", ">", "<", "$${{ params.p0 }}", "$${{", "${{", '{"k": 1}', "[1]",
    "$.inputs.parameters['p0']", "\\'", "')", "' || true || '", "inputs.parameter_values['p0']", "!(", "?",
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
# What KFP's driver (backend/src/v2/driver: resolvePodSpecInputRuntimeParameter, resolveInputParameter)
# replaces in an image, a GPU type and a secret's name: its unanchored input-parameter regexp, and
# the run-time constants `{{$.pipeline_job_name}}` and the like.
DRIVER_PLACEHOLDER = re.compile(r"\$.inputs.parameters\['.+?'\]|\{\{\$")
K8S_NAME = re.compile(r"(?=.{1,253}\Z)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")  # DNS-1123
# w0's condition as kfp writes it: the param's channel, the operator, a CEL string literal.
CONDITION = re.compile(r"inputs\.parameter_values\['pipelinechannel--p0'\] (==|!=) ('(?:[^'\\\n\r]|\\.)*')")
LOCAL_DISPLAY_NAME = re.compile(r"^Task '[^']*': settings \['display_name'\] have no effect in the current local")
# kfp writes the description and str defaults raw into its YAML's header comment (see
# test_kfp_yaml_header_carries_description_and_defaults): PyYAML's line breaks end the comment,
# its non-printable characters make the file unreadable.
YAML_BREAKS = "\n\r\x85\u2028\u2029"
YAML_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]")


# ----------------------------------------------------------------------------- the model


@dataclass
class Fields:
    """inj_fields' texts: its container task c0, the options, and an output path never written."""

    image: str = IMAGE
    command: str = ""  # after C0_HEAD
    args: list[str] = field(default_factory=list)
    env: str = ""  # A: a placeholder here is refused
    secret: tuple[str, str] = ("s", "k")  # (name, key) read into env S
    gpu_type: str = "nvidia.com/gpu"
    option_image: str | None = None  # --option image=
    claim: str | None = None  # --option volume=
    unwritten_output: str | None = None  # o1's output path, written by the command instead of ${{ outputs.q }}

    @property
    def options(self) -> list[str]:
        pairs = {"image": self.option_image, "volume": self.claim}
        return [item for key, value in pairs.items() if value is not None for item in ("--option", f"{key}={value}")]

    @property
    def default_image(self) -> str:
        """The image of a task without one: the option as the CLI reads it (stripped), else the default."""
        return (self.option_image or "").strip() or kubeflow.DEFAULT_IMAGE


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
    kwargs: dict[str, Any] = field(default_factory=dict)  # py0's args (besides `path` and `ext`)
    workdir: str | None = None  # relative: the runs make the directory
    env: dict[str, str] = field(default_factory=dict)  # s0's and py0's (no placeholders; `$${{` escapes)
    artifact: tuple[str, str | None] = ("in/data.csv", None)  # ext (external): path, description
    uri: str = "s3://bucket/u"  # u: s0 produces it, s1 reads it
    output: tuple[str | None, str | None] = (None, None)  # s0's output o: path, description
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    enum_extra: str | None = None  # p0 is an enum of [its default, this]
    pool: str | None = None  # s1's
    trigger_uri: str | None = None
    when: tuple[str, str] = ("==", "")  # w0 runs when `params.p0 OP 'LITERAL'`
    alert: str = ""  # x0's success alert command
    items: list[str] = field(default_factory=lambda: ["a"])  # f0's literal foreach list
    fields: Fields = field(default_factory=Fields)

    @property
    def values(self) -> dict[str, Any]:
        """What the run passes: the arguments, else the defaults."""
        return {**self.defaults, **self.arguments}

    @property
    def extra(self) -> list[str]:
        return [name for name in self.defaults if name not in ("p0", "p1", "n")]

    def workdir_of(self, module: str) -> str | None:
        return (self.workdir or FIELDS_WORKDIR) if module == FIELDS else self.workdir


def commands(case: Case) -> dict[str, str]:
    s1 = S1_HEAD + "".join(f"{name}=${{{{ params.{name} }}}}\n" for name in case.extra) + S1_ARTIFACTS + case.tails[1]
    return {"s0": S0_HEAD.format(lit=shlex.quote(case.lit)) + case.tails[0], "s1": s1,
            "c0": C0_HEAD + case.fields.command}


def python_args(case: Case) -> dict[str, Any]:
    extra = {f"e_{name}": f"${{{{ params.{name} }}}}" for name in case.extra}
    return {"path": "py0.json", "ext": "${{ artifacts.ext }}", **case.kwargs, **extra}


def pipeline_data(case: Case, module: str = MAIN) -> dict[str, Any]:
    data: dict[str, Any] = {"name": module}
    header = {"description": case.description, "workdir": case.workdir_of(module)}
    if module == MAIN:
        header.update(owner=case.owner, tags=case.tags or None)
    data.update({key: value for key, value in header.items() if value is not None})
    data["params"] = {name: {"type": "int" if isinstance(value, int) else "str", "default": value,
                             **({"description": case.param_descriptions[name]}
                                if name in case.param_descriptions else {})}
                      for name, value in case.defaults.items()}
    if case.enum_extra is not None and module == MAIN:
        data["params"]["p0"]["enum"] = [case.defaults["p0"], case.enum_extra]
    if module != FIELDS:
        path, description = case.artifact
        data["artifacts"] = {"ext": {"path": path, "external": True,
                                     **({"description": description} if description is not None else {})}}
    if module == MAIN:
        data["artifacts"]["u"] = case.uri
        if case.trigger_uri is not None:
            data["triggers"] = [{"type": "data", "uri": case.trigger_uri}]
    data["tasks"] = {MAIN: main_tasks, PYTHON: python_tasks, FIELDS: fields_tasks}[module](case)
    for task_id, entry in data["tasks"].items():
        if case.task_descriptions.get(task_id) is not None:
            entry["description"] = case.task_descriptions[task_id]
    return data


def python_tasks(case: Case) -> dict[str, Any]:
    return {"py0": {"python": f"{PROBE_MODULE}:dump", "args": python_args(case), "consumes": ["ext"],
                    **({"env": case.env} if case.env else {})}}


def main_tasks(case: Case) -> dict[str, Any]:
    shell = commands(case)
    path, description = case.output
    output = {"type": "str", **({"path": path} if path is not None else {}),
              **({"description": description} if description is not None else {})}
    s1 = {"command": shell["s1"], "consumes": ["ext", "u"], **({"pool": case.pool} if case.pool is not None else {})}
    operator, literal = case.when
    return {"s0": {"command": shell["s0"], "outputs": {"o": output}, "produces": ["u"],
                   **({"env": case.env} if case.env else {})},
            "s1": s1,
            "x0": {"command": ["sh", "-c", ARGV_SCRIPT, "x0.argv", *case.argv],
                   "alerts": [{"on": "success", "command": case.alert}]},
            "w0": {"command": "exit 0", "when": f"params.p0 {operator} {condition_literal(literal)}"},
            "f0": {"command": "echo ${{ item }}", "foreach": case.items},
            **python_tasks(case)}


def fields_tasks(case: Case) -> dict[str, Any]:
    f = case.fields
    tasks = {"c0": {"image": f.image, "command": commands(case)["c0"], "args": f.args, "env": {"A": f.env},
                    "secrets": {"S": {"name": f.secret[0], "key": f.secret[1]}},
                    "resources": {"gpu": 1, "gpu_type": f.gpu_type}},
             "d0": {"command": "exit 0"}}
    if f.unwritten_output is not None:
        tasks["o1"] = {"command": "exit 0", "outputs": {"q": {"type": "str", "path": f.unwritten_output}}}
    return tasks


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
        if ref.kind == "artifact":
            return case.artifact[0] if ref.name == "ext" else case.uri
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


def refusals(case: Case) -> set[tuple[str, str]]:
    """(code, field) of each error inj_fields' compile must report: E302 at the task's field, E303
    naming the option."""
    f = case.fields
    name, key = f.secret
    invalid = ({("E115", "tasks.c0.secrets.S.name")} if not PORTABLE_SECRET_NAME.fullmatch(name) else set()) | (
        {("E115", "tasks.c0.secrets.S.key")} if not PORTABLE_SECRET_KEY.fullmatch(key) else set())
    if invalid:
        return invalid  # validation refuses it before any backend looks (docs/pipeline-syntax.md, Limits)
    refused = {("E302", f"tasks.c0.{where}") for where, text in
               (("image", f.image), ("resources.gpu_type", f.gpu_type)) if DRIVER_PLACEHOLDER.search(text)}
    refused |= {("E302", "tasks.c0.resources.gpu_type")} if not f.gpu_type else set()  # the driver needs a name
    if any(isinstance(s, Ref) for s in parse_placeholders(f.env)[0]):
        refused.add(("E302", "tasks.c0.env.A"))  # KFP's env values are fixed when compiling
    if f.unwritten_output is not None:
        refused.add(("E302", "tasks.o1.outputs.q.path"))
    if DRIVER_PLACEHOLDER.search(f.default_image):
        refused.add(("E303", "image"))
    if (f.claim or "").strip() and not K8S_NAME.fullmatch(f.claim.strip()):
        refused.add(("E303", "volume"))
    return refused


def left_out(case: Case) -> dict[str, bool]:
    """The fields inj's compile must name, as diagnostics print them, and whether it must."""
    return {"(owner)": bool(case.owner), "(tags)": bool(case.tags), "(tasks.s1.pool)": case.pool is not None,
            "(triggers[0])": case.trigger_uri is not None, "(params.p0.enum)": case.enum_extra is not None}


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


def compile_module(case: Case, module: str, work: Path) -> Any:
    source = work / "sources" / f"{module}.yaml"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(yaml_flow(pipeline_data(case, module)) + "\n", encoding="utf-8")
    options = case.fields.options if module == FIELDS else []
    compiled = compile_pipeline(source, work / "out" / module, *options, target="kubeflow")
    assert compiled.exception is None, f"{compiled.exception!r}\n{compiled.output}"
    assert "Traceback" not in compiled.output, compiled.output
    return compiled


def compile_case(case: Case, work: Path) -> dict[str, Path]:
    """The modules that compile: inj and inj_py must, with the warnings that name what Kubeflow
    leaves out; inj_fields must exactly when nothing in it is refused, each refusal naming its field."""
    modules = {}
    for module in (MAIN, PYTHON, FIELDS):
        compiled = compile_module(case, module, work)
        refused = refusals(case) if module == FIELDS else set()
        if refused:
            assert_refused(compiled, refused)
            continue
        assert compiled.ok and len(compiled.files) == 1, f"{module}:\n{compiled.output}"
        if module == MAIN:
            named = {where: where in compiled.output for where in left_out(case)}
            assert named == left_out(case), compiled.output
        modules[module] = compiled.files[0]
    return modules


def assert_refused(compiled: Any, refused: set[tuple[str, str]]) -> None:
    """The compile failed with each (code, field) named: the field's path, or the option."""
    assert compiled.exit_code == 1 and not compiled.files, compiled.output
    for code, where in refused:
        named = f"option `{where}`" if code == "E303" else f"({shown(where)})"
        assert f"error[{code}]" in compiled.output and named in compiled.output, f"{code} at {where}\n{compiled.output}"


def inspect(python: Path, modules: list[Path], work: Path, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    code, report, stderr = run_script(python, CHECK, str(work / "out"), "--arguments", json.dumps(arguments or {}),
                                      *map(str, modules), cwd=work)
    assert code == 0, stderr[-3000:]
    return report["modules"]


def executor_tasks(case: Case, module: str) -> set[str]:
    """The display names of a module's executor tasks: its own, and x0's alerts task."""
    return set(pipeline_data(case, module)["tasks"]) | ({"x0: alerts"} if module == MAIN else set())


def check_spec(case: Case, module: str, report: dict[str, Any], *, static: bool) -> None:
    """What kfp's compiler made of a module: texts as meant, no KFP syntax in any argv."""
    assert report["ok"], f"{module}: {report['stage']}: {report['error'][-3000:]}"
    assert report["warnings"] == [], (module, report["warnings"])
    assert report["pipeline"]["name"] == module.replace("_", "-")  # kfp's DNS form of the name
    assert report["pipeline"]["description"] == (case.description or None), module
    assert {k: v["default"] for k, v in report["inputs"].items()} == case.defaults, module
    assert [type(v["default"]) for v in report["inputs"].values()] == \
           [type(case.defaults[k]) for k in report["inputs"]], module
    assert {t["name"] for t in report["tasks"] if t["kind"] == "executor"} == executor_tasks(case, module), module
    for executor, argv in report["argv"].items():
        problems = placeholder_problems(argv, report["components"][executor],
                                        python=report["executors"][executor]["python"])
        assert not static or not problems, f"{module} {executor}: {problems}"
    executors = {t["name"]: report["executors"][t["executor"]] for t in report["tasks"] if t["executor"]}
    for task_id, entry in pipeline_data(case, module)["tasks"].items():
        env = {name: meant(value, case) for name, value in entry.get("env", {}).items()}
        assert executors[task_id].get("env", {}) == env, f"{module}.{task_id}: env"


def check_condition(case: Case, report: dict[str, Any]) -> None:
    """w0's condition, as the KFP backend reads its CEL: the param, the operator, the literal."""
    (condition,) = [t["trigger"]["condition"] for t in report["tasks"] if t["trigger"] and t["trigger"]["condition"]]
    found = CONDITION.fullmatch(condition)
    assert found, f"w0's condition is not one CEL comparison: {condition!r}"
    assert (found[1], cel_unquote(found[2])) == case.when, condition


def check_items(case: Case, report: dict[str, Any]) -> None:
    """f0's literal list, as the spec's loop holds it."""
    (iterator,) = [t["iterator"] for t in report["tasks"] if t["iterator"]]
    assert iterator["items"] == {"raw": case.items}, iterator


def check_alert(case: Case, report: dict[str, Any]) -> None:
    """x0's alerts task as kfp embeds its source: it changes into the workdir and runs the command
    with bash (tests/engines/kubeflow/test_kubeflow_local.py runs alerts tasks on kfp.local)."""
    (executor,) = [t["executor"] for t in report["tasks"] if t["name"] == "x0: alerts"]
    calls = [node for node in ast.walk(ast.parse(report["executors"][executor]["source"]))
             if isinstance(node, ast.Call) and ast.unparse(node.func) in ("subprocess.run", "os.chdir")]
    found = {ast.unparse(call.func): ast.literal_eval(call.args[0]) for call in calls}
    assert found == {"subprocess.run": ["bash", "-c", case.alert],
                     **({"os.chdir": case.workdir} if case.workdir is not None else {})}, found


def check_fields(case: Case, report: dict[str, Any]) -> None:
    """inj_fields' c0 as the spec holds it (the platform spec for the secret and the claim)."""
    f = case.fields
    executors = {t["name"]: report["executors"][t["executor"]] for t in report["tasks"]}
    c0 = executors["c0"]
    assert c0["image"] == f.image and executors["d0"]["image"] == f.default_image
    accelerator = c0["resources"]["accelerator"]
    assert (accelerator["resourceType"], accelerator["resourceCount"]) == (f.gpu_type, "1")
    (secret,) = c0["kubernetes"]["secretAsEnv"]
    assert (secret["secretName"], secret["secretNameParameter"]["runtimeValue"]["constant"]) == (f.secret[0],) * 2
    (key,) = secret["keyToEnv"]
    assert (key.get("secretKey", ""), key["envVar"]) == (f.secret[1], "S")  # proto JSON leaves out ""
    claim = (f.claim or "").strip()
    mounts = [(m["mountPath"], m["pvcNameParameter"]["runtimeValue"]["constant"])
              for m in c0["kubernetes"].get("pvcMount", [])]
    assert mounts == ([(case.workdir_of(FIELDS), claim)] if claim else []), mounts
    script = joined_script(report["resolved"]["c0"]["argv"])
    assert script == WORKDIR_LINE.format(shlex.quote(case.workdir_of(FIELDS))) + meant(commands(case)["c0"], case)


def joined_script(argv: list[str]) -> str:
    """The script `sh -c` runs, joined from its pieces (sh has no $BASH_EXECUTION_STRING): all the
    arguments (JOIN), or as many as the count before them says, the last one ' "$@"' (JOIN_WITH_ARGS)."""
    if argv[2] == kubeflow.JOIN.replace("bash", "sh"):
        return "".join(argv[4:])
    count = int(argv[4])
    return "".join(argv[5:4 + count])


def run_containers(case: Case, module: str, report: dict[str, Any], runs: Path, *, static: bool) -> Path:
    """Run each container task's argv as kfp resolves it, in RUNS with its env from the spec;
    the directory the tasks work in (the workdir, made here)."""
    workdir = runs / (case.workdir_of(module) or "")
    workdir.mkdir(parents=True)
    for task_id, resolved in report["resolved"].items():
        assert resolved["error"] is None, f"{task_id}: kfp cannot resolve the command: {resolved['error']}"
        values = {name: case.values[pipeline_name(name)] for name in resolved["values"]}
        assert resolved["values"] == values, task_id  # what KFP passes: the argument or the default
        argv = resolved["argv"]  # what kfp's own resolution runs
        if static:
            model = launch(report["argv"][resolved["executor"]], values, resolved["outputs"])
            assert model == argv, f"{task_id}: KFP's own resolution differs from the model"
        env = {**RUN_ENV, **report["executors"][resolved["executor"]].get("env", {})}
        ran = subprocess.run(argv, cwd=runs, env=env, capture_output=True, timeout=60, check=False)
        assert ran.returncode == 0, f"{task_id}: exit {ran.returncode}\n{ran.stderr[-2000:]!r}"
    return workdir


def check_files(directory: Path, want: dict[str, bytes]) -> None:
    for name, content in want.items():
        path = directory / name
        assert path.is_file(), f"{name} was not written"
        assert path.read_bytes() == content, f"{name} holds {path.read_bytes()!r}, meant {content!r}"


def main_files(case: Case, report: dict[str, Any]) -> dict[str, bytes]:
    """What inj's container tasks must write in their working directory."""
    outputs = {pipeline_name(key): path for key, path in report["resolved"]["s0"]["outputs"].items()}
    shell = commands(case)
    cd = WORKDIR_LINE.format(shlex.quote(case.workdir)) if case.workdir is not None else ""
    return {
        "s0.cmd": (cd + meant(shell["s0"], case, outputs)).encode(),
        "s0.lit": case.lit.encode(),
        **{f"s0.{name}": meant(case.env.get(name, ""), case).encode() for name in ENV_NAMES},
        outputs["o"]: b"ok",
        "s1.cmd": (cd + meant(shell["s1"], case)).encode(),
        "x0.argv": b"".join(meant(arg, case).encode() + b"\0" for arg in case.argv),
    }


def check_local_run(case: Case, python: Path, module: Path, local: Path) -> None:
    """inj_py on kfp.local: py0's kwargs and env, in the workdir."""
    local.mkdir()
    (local / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE, encoding="utf-8")
    workdir = local / (case.workdir or "")
    workdir.mkdir(exist_ok=True)
    arguments = [item for name, value in case.arguments.items() for item in ("--arg", f"{name}={json.dumps(value)}")]
    code, report, stderr = run_script(python, LOCAL_RUNNER, str(module), str(local), *arguments, cwd=local)
    assert code == 0 and report["ok"], f"the kfp.local run failed (exit {code}): {report['error']}\n{stderr[-3000:]}"
    # kfp.local only warns that it does not show display names (a component renamed off the task id)
    warned = [w for w in report["warnings"] if not LOCAL_DISPLAY_NAME.search(w["message"])]
    assert warned == [], warned
    received = json.loads((workdir / "py0.json").read_text(encoding="utf-8"))
    args = python_args(case)
    args.pop("path")
    assert received == meant_args(args, case), f"py0 received {received!r}, meant {meant_args(args, case)!r}"
    env = json.loads((workdir / "py0.json.env").read_text(encoding="utf-8"))
    assert env == {name: meant(case.env[name], case) if name in case.env else None for name in ENV_NAMES}, env


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
    for module, report in reports.items():
        check_spec(case, module, report, static=static)
    check_condition(case, reports[MAIN])
    check_alert(case, reports[MAIN])
    check_items(case, reports[MAIN])
    assert set(reports[MAIN]["resolved"]) == {"s0", "s1", "x0"}
    check_files(run_containers(case, MAIN, reports[MAIN], work / "runs" / MAIN, static=static),
                main_files(case, reports[MAIN]))
    if FIELDS in reports:
        check_fields(case, reports[FIELDS])
        fields_dir = run_containers(case, FIELDS, reports[FIELDS], work / "runs" / FIELDS, static=static)
        check_files(fields_dir, {"c0.args": b"".join(meant(arg, case).encode() + b"\0" for arg in case.fields.args)})
    check_local_run(case, python, modules[PYTHON], work / "local")


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


def escaped(text: str) -> str:
    """Text with no placeholder: each `${{` written as the escape `$${{`."""
    return text.replace("${{", "$${{")


def directory(text: str) -> str:
    """A relative directory the runs can make: one path component, at most 100 bytes."""
    name = "d" + text.replace("/", "_")
    while len(name.encode()) > 100:
        name = name[:-1]
    return name


_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_piece = st.one_of(st.sampled_from(NASTY), st.text(_chars, max_size=6))
_pieces = st.one_of(_piece, st.sampled_from(PLACEHOLDERS))


def texts(*, placeholders: bool = True, max_size: int = 7) -> st.SearchStrategy[str]:
    drawn = st.lists(_pieces if placeholders else _piece, max_size=max_size).map("".join)
    return drawn.map(escape_stray) if placeholders else drawn


plain_texts = texts(placeholders=False)  # fields that take no placeholders
value_texts = plain_texts.map(runtime_value)  # run arguments
default_texts = plain_texts.map(default_value)
paths = plain_texts.filter(lambda text: not path_is_refused(text))  # E218 (docs/pipeline-syntax.md) is not drawn
exec_args = st.one_of(  # a whole placeholder (one KFP argument), literal text, or both (rebuilt by sh)
    st.sampled_from(["${{ params.p0 }}", "${{ params.n }}", "${{params.p1}}"]),
    plain_texts.map(lambda t: without(t, "{{", "{ {")),
    texts(),
)
nested = st.recursive(
    st.one_of(texts(max_size=4), st.integers(-5, 5), st.booleans(), st.none(), st.just(1.5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(texts(placeholders=False, max_size=3).map(
                                lambda t: without(t, "${{", "$ {{")), inner, max_size=3)),
    max_leaves=6,
)


def or_plain(valid: str, *, prefix: str = "") -> st.SearchStrategy[str]:
    """A valid text or, as often, drawn text (after PREFIX): KFP refuses some drawn text."""
    return st.just(valid) | plain_texts.map(lambda text: prefix + text)


def rarely(draw) -> bool:
    return draw(st.integers(0, 5)) == 3  # hypothesis draws the bounds more often


@st.composite
def fields(draw) -> Fields:
    """inj_fields' texts: about half the examples hold one that Kubeflow refuses (refusals)."""
    return Fields(
        image=draw(or_plain(IMAGE, prefix=IMAGE)),
        command=draw(texts()),
        args=draw(st.lists(texts(), max_size=3)),
        env="${{ params.p0 }}" if rarely(draw) else draw(plain_texts.map(escaped)),
        secret=(draw(or_plain("db", prefix="s")), draw(or_plain("token.k-1", prefix="k"))),
        gpu_type=draw(or_plain("nvidia.com/gpu", prefix="g")),
        option_image=draw(st.none() | or_plain("python:3.13")),
        claim=draw(plain_texts) if rarely(draw) else draw(st.none() | st.sampled_from(["data", "a.b-1"])),
        unwritten_output=draw(paths) if rarely(draw) else None,
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
    enum_extra = draw(st.none() | plain_texts)
    return Case(
        defaults=defaults,
        arguments=arguments,
        description=draw(st.none() | plain_texts.map(yaml_printable)),
        param_descriptions={name: draw(plain_texts) for name in draw(st.lists(st.sampled_from(list(defaults)),
                                                                               unique=True, max_size=2))},
        lit=without(draw(plain_texts), "${{", "$ {{"),
        tails=[draw(texts()), draw(texts())],
        task_descriptions={task_id: draw(st.none() | plain_texts) for task_id in ("s0", "s1", "x0", "w0", "py0", "c0")},
        argv=draw(st.lists(exec_args, max_size=4)),
        kwargs=kwargs,
        workdir=draw(st.none() | plain_texts.map(directory)),
        env={name: draw(plain_texts.map(escaped)) for name in draw(st.lists(st.sampled_from(ENV_NAMES), unique=True))},
        artifact=(draw(paths), draw(st.none() | plain_texts)),
        uri="s3://bucket/" + draw(plain_texts),
        output=(draw(st.none() | paths), draw(st.none() | plain_texts)),
        owner=draw(st.none() | plain_texts),
        tags=draw(st.lists(plain_texts, max_size=2, unique=True)),
        enum_extra=None if enum_extra == defaults["p0"] else enum_extra,
        pool=draw(st.none() | plain_texts),
        trigger_uri=draw(st.none() | plain_texts.map(lambda t: "s3://bucket/" + t)),
        when=(draw(st.sampled_from(["==", "!="])), draw(plain_texts)),
        alert=without(draw(plain_texts), "${{", "$ {{"),  # no `$${{` nor `${{` (module docstring)
        items=draw(st.lists(value_texts.map(lambda t: without(t, "${{", "$ {{")), min_size=1, max_size=3)),
        fields=draw(fields()),
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
                       "x0": "\u2028", "py0": "{{$}}{{$.inputs.parameters['p_p0']}}\"\"\"'",
                       "c0": "Args:\n    p0: {{$}}\nReturns:\n    x"},
    argv=["${{ params.p0 }}", "${{ params.n }}", "", " ", "{$}}", "}}", "'\"\\\n", "$.outputs", "\U0001f600\u2028",
          '{"k": 1}', "--executor_input", "a{{b", "{{$}}", "$${{ params.p0 }}", "x${{ params.p0 }}y{{$}}",
          "n=${{ params.n }}\n"],
    kwargs={"k0": "${{ params.n }}", "k1": "n=${{ params.n }}", "k2": "{{$}}{{$.inputs.parameters['p_p0']}}\\x7b{",
            "k3": "${{ params.p0 }}", "k4": NASTY_TEXT + "${{ params.p0 }}",
            "nested": ["${{ params.n }}", {"{{$}}'\"": "${{ params.p0 }}}}", "{{$.inputs": [True, None, 1.5, -3, {}]}]},
    workdir=directory(" w 'd' {{$}} \"${x}\" \\ \u2028\n\r$(id)"),
    env={"A": "{{$}} $${{ params.p0 }} '\"\\\n", "B_2": "\u2028\x85\r\n"},
    artifact=("in/{{$}} '\"\\ $${{ x }}.csv", "{{$}} '\"\n"),
    uri="s3://bucket/{{$.inputs.parameters['p0']}} '\"\\\n",
    output=("out/o {{$}} '\".txt", "{{$}}\n'\""),
    owner="{{$}} '\"\n",
    tags=["{{$}}", "'\"\\\n"],
    enum_extra="{{$}} '\"\n",
    pool="{{$}} '\"\n",
    trigger_uri="s3://bucket/{{$}} '\"\n",
    when=("==", "it's \"q\" \\ \n\r {{$}} ' || true || ' inputs.parameter_values['p0'] !( ? \U0001f600 \u2028"),
    alert="{{$}} {{$.inputs.parameters['p0']}} '\"\\\n\x85 \u2028 $(id)",
    items=["{ {$}} '\"\\\n", "\u2028\x85", "", '{"k": 1}'],
    fields=Fields(image="alpine:3.20 '\"\n\\{ {$", command="{{$}}${{ params.p0 }}'\"\\\n{${{ params.n }}",
                  args=["{{$}}", "${{ params.p0 }}", "a${{ params.n }}b", "'\"\\\n", "$${{ params.p1 }}"],
                  env="{{$}} '\"\\\n $${{ params.p0 }}", secret=("db-1", "token.k_1"),
                  gpu_type="nvidia.com/gpu '\"\\\n{ {$", option_image="python:3.12 '\"{ {$", claim="pipeline-data"),
)


def test_hand_picked_texts_reach_kubeflow_exactly(kubeflow_python: Path, tmp_path: Path) -> None:
    check_case(HAND_PICKED, kubeflow_python, tmp_path)


# No shrinking: each example costs two engine processes, and the failure names the task and text.
@settings(max_examples=16, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
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


# The workdir takes no placeholder: `${{ params.p0 }}` and `$${{` in it are its text.
@pytest.mark.parametrize("name", ["w 'd' {{$}} \"${x}\" \u2028", "w ${{ params.p0 }} $${{ x }}"])
def test_exec_form_command_runs_in_the_pipelines_workdir(kubeflow_python: Path, tmp_path: Path, name: str) -> None:
    """An exec-form command with a workdir goes through sh, which changes into the directory
    (given as a rebuilt argument: its text is never KFP or shell syntax) and then runs the argv."""
    workdir = tmp_path / name
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


def compile_data(data: dict[str, Any], tmp_path: Path, *options: str) -> Any:
    source = tmp_path / "sources" / f"{data['name']}.yaml"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(yaml_flow(data), encoding="utf-8")
    return compile_pipeline(source, tmp_path / "out" / data["name"], *options, target="kubeflow")


def test_when_literals_reach_kfps_cel_condition(kubeflow_python: Path, tmp_path: Path) -> None:
    """kfp writes a string literal between single quotes as it is, into a CEL condition: a quote
    ended it (`' || true || '` made the condition always true), a backslash or line break broke it.
    The importer reads the escaped literal back."""
    literal = "' || true || 'it\\'s \\ \n\r"
    when = f"params.p0 == {condition_literal(literal)}"
    compiled = compile_data({"name": "when", "params": {"p0": "x"},
                             "tasks": {"w0": {"command": "exit 0", "when": when}}}, tmp_path)
    assert compiled.ok, compiled.output
    check_condition(Case(defaults={}, when=("==", literal)), inspect(kubeflow_python, compiled.files, tmp_path)["when"])
    (imported,) = import_file(tmp_path / "out" / "when.yaml", "kubeflow")
    assert imported.data["tasks"]["w0"]["when"] == when


def test_texts_kfps_driver_reads_are_refused(tmp_path: Path) -> None:
    """KFP's driver replaces an image or a GPU type holding `{{$` or, anywhere,
    `$.inputs.parameters['X']`, and cannot use an empty GPU type; a secret's name it would read
    never gets there (E115 refuses it in validation)."""
    for index, fields_case in enumerate([
        Fields(image="alpine{{$}}", gpu_type="{{$.pipeline_task_name}}", option_image="x$.inputs.parameters['p']"),
        Fields(gpu_type=""),
        Fields(secret=("a$.inputs.parameters['p0']b", "k"), gpu_type=""),  # refused by validation first (E115)
    ]):
        case = Case(defaults={"p0": "v", "p1": "", "n": 1}, fields=fields_case)
        assert len(refusals(case)) in (3, 1)
        assert_refused(compile_module(case, FIELDS, tmp_path / str(index)), refusals(case))


def test_env_escapes_reach_the_executor(kubeflow_python: Path, tmp_path: Path) -> None:
    """`$${{` in an env value is the escape of `${{` (it reached KFP doubled)."""
    value = "$${{ params.p0 }} $${{"
    compiled = compile_data({"name": "env", "params": {"p0": "x"},
                             "tasks": {"s": {"command": "exit 0", "env": {"A": value}}}}, tmp_path)
    assert compiled.ok, compiled.output
    (executor,) = inspect(kubeflow_python, compiled.files, tmp_path)["env"]["executors"].values()
    assert executor["env"] == {"A": meant(value, Case(defaults={}))} == {"A": "${{ params.p0 }} $${{"}


def test_uri_artifact_between_tasks_orders_them(kubeflow_python: Path, tmp_path: Path) -> None:
    """A URI artifact is text, not a KFP artifact: its reader runs after the task that makes it
    (the compile failed with a KeyError)."""
    compiled = compile_data({"name": "uri", "artifacts": {"u": "s3://bucket/u"},
                             "tasks": {"a": {"command": "echo ${{ artifacts.u }}", "produces": ["u"]},
                                       "b": {"command": "echo ${{ artifacts.u }}", "consumes": ["u"]}}}, tmp_path)
    assert compiled.ok, compiled.output
    report = inspect(kubeflow_python, compiled.files, tmp_path)["uri"]
    assert {t["name"]: t["dependentTasks"] for t in report["tasks"]} == {"a": [], "b": ["a"]}
    assert report["resolved"]["b"]["argv"][4:] == ["echo ", "s3://bucket/u"]


def test_output_path_kfp_never_reads_is_refused(tmp_path: Path) -> None:
    """KFP reads a value output from the file ${{ outputs.NAME }} names; a task that writes only
    the output's `path:` handed KFP nothing."""
    compiled = compile_data({"name": "path", "tasks": {"t": {"command": "echo 1 > o.txt",
                                                             "outputs": {"o": {"type": "str", "path": "o.txt"}}}}},
                            tmp_path)
    assert_refused(compiled, {("E302", "tasks.t.outputs.o.path")})


def test_param_enum_kubeflow_leaves_out_is_named(tmp_path: Path) -> None:
    compiled = compile_data({"name": "enum", "params": {"p0": {"type": "str", "default": "a", "enum": ["a", "b"]}},
                             "tasks": {"t": {"command": "echo ${{ params.p0 }}"}}}, tmp_path)
    assert compiled.ok and "warning[W302]" in compiled.output and "(params.p0.enum)" in compiled.output
