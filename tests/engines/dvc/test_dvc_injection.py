"""User text reaches the real DVC 3 (scripts/engines/dvc.txt) exactly as written, from every string
field of the pipeline, or the compile names the field it leaves out or refuses.

DVC reads `${...}` in every string of a stage (and then drops one backslash before every `${`),
runs each LINE of a `cmd` string in its own `$SHELL -c` (dvc/stage/run.py: `cmd.splitlines()`),
reads some paths as remote URLs, looks for a stage's params in the params.yaml of its wdir, names
the runs of a foreach after their items, and reads params.yaml as YAML; YAML and the shell add
their own rules. The DVC backend must keep all of that away from user text
(compiler/backends/dvc/backend.py: a direct `cmd` only for text DVC and the shell read as written,
everything else through `.dagshift/run.py`).

Hypothesis draws texts salted with what breaks DVC, YAML and the shell (`${x}`, `\\${x}`,
`\\\\${x}`, `${{ params.p0 }}` and the `$${{` escape, `$HOME`, `$(id)`, backticks, quotes,
backslashes, `#`, ` #`, `: `, `- `, spaces at either end, `@`, `%`, `{{ }}`, line breaks of every
kind `str.splitlines` knows, astral, combining and right-to-left characters, BOM, C1 controls,
...). NUL never: no command line, environment or file name can hold one. Each example is ONE
pipeline of 17 tasks, compiled through the real CLI and run by ONE `dvc repro --keep-going` in a
fresh git + DVC repository (dvc_harness.py), every task in the drawn workdir (or none). Tasks
write what they received to files under out/, and the bytes must be the text the pipeline means
(docs/pipeline-syntax.md):

- lit0..lit2: `printf '%s' <the drawn text, shell single-quoted> > out/litN.txt`, every `${{` in
  the command escaped as `$${{` so the pipeline text is that command exactly; the file must hold
  the drawn text. Line breaks are drawn too: inside single quotes the shell keeps them, so the
  command is one valid shell command whatever the text holds. lit2 also has a drawn pool, gpu
  type and failure alert command;
- par: `printf '%s' 'A${{ params.p0 }}B|${{ params.n }}' > out/par.txt`, A, B and the str
  default of p0 drawn without `'` (the test's own quoting), so DVC's `${p0}` (or the runner) and
  then the shell must give exactly A + p0 + B;
- num: `printf '%s' '${{ params.n }}|${{ params.flt }}|${{ params.M }}'`, number params only, so
  DVC's own `${n}` fills them in (a float as DVC writes it must be the pipeline's text of it); M's
  name is drawn from names DVC may read as its own (`item`, `key`, `vars`, `cmd`, ...);
- env / py / argv (through the runner): an env value under a drawn (valid) name, python kwargs (a
  tiny module, inj_probe.py, dumps them as JSON) and exec-form arguments, all drawn with
  placeholders of every param type (text params, the list and dict as compact JSON, the bool);
- pyd (a python stage calling the function in its cmd, `python3 -c '...'`): kwargs drawn with
  only number params' placeholders, plus a key Python cannot name; the stage must be that direct
  form, depend on inj_probe.py, and the function must receive the values exactly;
- make_a / copy_a and make_b / copy_b: an artifact whose PATH is drawn (quotes, `#`, colons,
  spaces, `$`, backslashes, unicode; never `${`, refused with E302 below) is written by one task
  and copied to out/ by another, once through `'${{ artifacts.a }}'` (the path without `'`) and
  once through a shell-quoted literal (any path); dvc.lock must show the path, as written, as the
  producer's out and the consumer's dep with the same hash: the DVC edge exists. Both have a drawn
  description, and b a drawn kind (metrics and plots are outs of their own sections);
- fan: a foreach over a literal list of drawn items (no `'`, no `${`), each run appending its
  item and M to out/fan.txt;
- vprod / vcons: a value output holding drawn text, passed on through the runner; the output has
  a drawn description and (sometimes) a drawn `path:` (a file name, `s3:x` shapes included), which
  must then be vprod's out and vcons's dep in dvc.lock (same hash) and hold the value;
- ctr: a container task with a drawn image (any text: `image` takes no placeholders), command
  (string or exec form), args and env value, which the runner hands to `docker run`: a stand-in
  `docker` first on the PATH checks that it mounts the task's directory (`--mount`, read as CSV
  as docker reads it) and records the image, argv and env, which must be the texts meant;
- every task has a drawn description, which DVC itself must read back as written.

The pipeline itself has a drawn name (a valid id, some DVC words among them), description, owner,
tags, workdir (any directory name but `${`, a leading `.` and CR, which docker's CSV reading of a
mount drops before a line feed), a schedule, data triggers (a drawn URI, artifact a), a failure
alert command and a python alert's args, and params p0 (with a drawn description and enum value),
p1, n, M, flt (float), flag (bool), lst (a list of drawn texts, numbers, bools, nulls) and dct (a
mapping with drawn keys). After the repro, DVC's own reading (dvc.repo.Repo in the engine venv)
must give, for every stage, the description, the wdir, and the params it tracks with their values
(exactly the params the task reads), and params.yaml as a whole must be the params' defaults. The
compile must name every field DVC has no place for in a W301 (owner, tags, schedule, triggers,
alerts, the gpu) and no other; the pipeline's and the params' descriptions, the enum, artifact and
output descriptions and the pool have no place in dvc.yaml (which holds only stages, each with
only the keys dagshift writes). The same pipeline with a drawn secret (a name and key validation
takes: E115 refuses others before DVC is asked) and a `when`
comparing p0 to a drawn literal is refused: E301 naming both fields, nothing written.

Texts DVC cannot carry (`${` in an artifact path, an output path, the workdir or a literal foreach
item, a params.yaml key YAML cannot read, list-param items that name one run) must be refused with
E302 naming the field, and nothing written. The bugs this file found (fixed) keep a minimal test
each (REGRESSIONS).
"""

from __future__ import annotations

import copy
import json
import os
import posixpath
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from dvc_harness import DvcEngine, DvcRepo, Repro, compile_dvc
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from injection_cases import IMAGE, _escape_stray_placeholders, condition_literal, yaml_flow
from injection_rules import secret_keys, secret_names

from compiler.diagnostics import _printable as shown  # a path as diagnostics print it
from compiler.language.placeholders import Ref, parse_ref
from compiler.language.placeholders import parse as parse_placeholders

pytestmark = [pytest.mark.engine, pytest.mark.slow]

PROBE = "inj_probe"
PROBE_SOURCE = """\
import json


def dump(path, **kwargs):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(kwargs, handle, ensure_ascii=True)
"""
ARGV_WRITER = ("import json, sys; open(sys.argv[1], 'w', encoding='utf-8')"
               ".write(json.dumps(sys.argv[2:], ensure_ascii=True))")
ODD_KEY = "it's a \\ ${key} \u00e9"  # an argument Python cannot name: `**{...}`
# Stands in for docker (none in the test environment) first on the PATH of `dvc repro`.
FAKE_DOCKER = """\
#!/usr/bin/env python3
# `docker run --rm --mount M -w DIR [-e NAME]... IMAGE ARGV...` as the runner calls it: checks that M
# binds DIR, the directory it runs in (docker reads M as CSV: Go's encoding/csv, which Python's csv
# reads alike), then records IMAGE, ARGV and the env in out/ctr.json instead of running anything.
import csv, json, os, sys

args, here = sys.argv[1:], os.getcwd()
if args[:3] != ["run", "--rm", "--mount"] or args[4:6] != ["-w", here]:
    sys.exit("docker: unexpected arguments %r" % (args,))
mount = dict(part.split("=", 1) for part in next(csv.reader([args[3]])))
if mount != {"type": "bind", "source": here, "target": here}:
    sys.exit("docker: mount %r is not %r" % (mount, here))
rest, env = args[6:], {}
while rest[:1] == ["-e"]:
    env[rest[1]] = os.environ[rest[1]]
    rest = rest[2:]
with open("out/ctr.json", "w", encoding="utf-8") as handle:
    json.dump({"image": rest[0], "argv": rest[1:], "env": env}, handle, ensure_ascii=True)
"""
# DVC's own reading of the repository (interpolation included): per stage its description, wdir
# and the params it tracks with their values (read from their file); and params.yaml whole.
DVC_READING = """\
import json, os
from dvc.dependency.param import ParamsDependency, read_param_file
from dvc.repo import Repo
with Repo(".") as repo:
    root = repo.root_dir
    stages = {}
    for stage in repo.index.stages:
        params = [dep for dep in stage.deps if isinstance(dep, ParamsDependency)]
        stages[stage.addressing] = {
            "desc": stage.desc, "wdir": os.path.relpath(stage.wdir, root),
            "params": {os.path.relpath(dep.fs_path, root): dep.read_params() for dep in params}}
    whole = read_param_file(repo.fs, os.path.join(root, "params.yaml"))
    print(json.dumps({"stages": stages, "params": whole}))
"""

# What str.splitlines splits at: DVC runs each piece of a `cmd` string as a command of its own.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"

NASTY = [
    # DVC's interpolation and its escape
    "${x}", "\\${x}", "\\\\${x}", "${", "${ x }", "${x:-d}", "${seed}", "${item}", "${key}", "${p0}", "}",
    # dagshift placeholders and their escape
    "${{ params.p0 }}", "${{ params.n }}", "${{", "$${{ params.p0 }}", "$${{", "}}", "${{ nope }}", "{{ x }}",
    # the shell
    "$HOME", "$", "$$", "$0", "$(id)", "`id`", "'", '"', "'\\''", "\\", "\\\\", "\\n", ";", "&&", "|", ">", "<",
    "*", "?", "~", "!", "#", " #", "# c", ": ", ":", "- ", "-", "--", " ", "  ", "\t", "@", "%", "%s", "%%", "{",
    # YAML
    "&a", "*a", "!!str", "? ", ">-", "---", "...", "yes", "null", "0x1", "1e3", ",", "[", "]",
    # line breaks (each one ends a command line for DVC)
    "\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029",
    # unicode: accents (precomposed and combining), right-to-left, invisible, C1, astral
    "é", "e\u0301", "\u05e9\u05dc\u05d5\u05dd", "\u202e", "\u200b", "\ufeff", "\x7f", "\x9b", "\U0001f600",
    "\U0001d518", "中文",
]
PLACEHOLDERS = ["${{ params.p0 }}", "${{ params.p1 }}", "${{ params.n }}", "${{params.p1}}", "${{  params.n\t}}",
                "${{ params.flt }}", "${{ params.flag }}", "${{ params.lst }}", "${{ params.dct }}"]
TAILS = ["", " ", "\n", "\\", "$", "'", "#"]

# Valid ids and names that DVC, its params.yaml or its foreach might read as their own words.
PIPELINE_NAMES = ["inject", "stages", "vars", "params", "dvc", "item", "key", "cmd", "foreach", "a-b", "Z9"]
NUMBER_PARAM_NAMES = ["m", "item", "key", "vars", "stages", "cmd", "wdir", "params", "foreach", "do", "matrix",
                      "desc", "meta", "deps", "outs", "_m", "Item", "key_"]
# Env names the env task prints with "$NAME" (not `_`, PWD and the like, which bash sets itself,
# nor PATH, by which the runner finds bash).
ENV_NAMES = ["V", "A", "B_2", "LANG_X", "x", "_x", "HOME", "DVC_X", "item", "key", "PYTHONX"]
SCHEDULES = [("0 6 * * 1-5", "Europe/Berlin"), ("@daily", "UTC"), ("*/5 * * * *", "America/Argentina/Buenos_Aires")]
KINDS = ["dataset", "model", "metrics", "plots", "file", "directory"]

_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")  # no surrogates, no NUL
_pieces = st.one_of(st.sampled_from(NASTY), st.text(_chars, max_size=6))


class Ph(str):
    """A placeholder among the parts of a pipeline text: Ph("params.p0")."""


@st.composite
def raw_texts(draw) -> str:
    """Text taken as it is (no placeholders meant)."""
    return "".join(draw(st.lists(_pieces, max_size=7))) + draw(st.sampled_from(TAILS))


@st.composite
def templated_texts(draw) -> str:
    """Text with `${{ params.* }}` placeholders; stray `${{ ... }}` become the `$${{` escape."""
    pieces = draw(st.lists(st.one_of(_pieces, st.sampled_from(PLACEHOLDERS)), max_size=7))
    return _escape_stray_placeholders("".join(pieces) + draw(st.sampled_from(TAILS)))


@st.composite
def number_texts(draw) -> str:
    """Text whose only placeholders are number params' (a python stage says them in its cmd):
    every `${{` of the drawn pieces is literal text."""
    parts = draw(st.lists(st.one_of(_pieces, st.sampled_from([Ph("params.n"), Ph("params.flt")])), max_size=7))
    return template(*literal_runs(parts + [draw(st.sampled_from(TAILS))]))


def literal_runs(parts: list[str]) -> list[str]:
    """PARTS with adjacent literal texts joined, and each one right before a placeholder made so
    that it cannot swallow it (before_placeholder)."""
    runs: list[str] = []
    for part in parts:
        if runs and not isinstance(part, Ph) and not isinstance(runs[-1], Ph):
            runs[-1] += part
        else:
            runs.append(part)
    return [before_placeholder(run) if not isinstance(run, Ph) and isinstance(following, Ph) else run
            for run, following in zip(runs, runs[1:] + [""])]


def no_quote(text: str) -> str:
    """Drawn text for inside the test's own single quotes."""
    return text.replace("'", "\u02bc")


def no_placeholder(text: str) -> str:
    """Drawn text for a field that takes no placeholders and no `$${{` escape (alerts)."""
    return text.replace("${{", "${ {")


def before_placeholder(text: str) -> str:
    """Literal text the pipeline syntax can put right before a placeholder: an unclosed `${{`
    would swallow the placeholder, and a `$` right before it would make it the `$${{` escape."""
    text = text.replace("${{", "${ {")
    return text + " " if text.endswith("$") else text


_path_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00/" + LINE_BREAKS)
_PATH_PIECES = ["'", '"', "#", " #", ": ", ":", "x:y", "c:", "- ", "-", " ", "@", "%", "$", "$HOME", "$(id)", "`id`",
                "\\", "*", "?", "[a]", "~", "!", "&", "{{ x }}", "{", "}", ".", "é", "e\u0301", "\u05d0", "\u202e",
                "\ufeff", "\U0001f600", "中文", ".txt"]
# Names the tasks use for themselves in their directory: a value output's file takes none of them.
TAKEN_NAMES = {"out", "art a", "art b", f"{PROBE}.py", "params.yaml", "dvc.yaml", "dvc.lock"}


def file_name(text: str) -> str:
    """A name a file can have that DVC takes as an output. Left out: `${` (refused with E302,
    tested below), line breaks (file names may hold them, but commands with them are what
    REGRESSIONS["line breaks in a shell command"] is about, and DVC's own dvc.lock writer turns
    NEL into a space), `.dvc` endings and DVC's `.gitignore` (DVC refuses or writes them)."""
    while "${" in text:
        text = text.replace("${", "$_{")
    if text in ("", ".", "..", ".gitignore", ".dvcignore") or text.endswith(".dvc"):
        text += "_x"
    while len(text.encode("utf-8")) > 200:
        text = text[:-1]
    return text


def output_file_name(text: str) -> str:
    """A file name for a value output's `path:` that no task uses otherwise."""
    name = file_name(text)
    return name + "_o" if name in TAKEN_NAMES or name.startswith(".") else name


def directory_name(text: str) -> str:
    """A directory the tasks run in (the workdir): not DVC's, git's or dagshift's (no leading
    `.`), no CR (docker's CSV reading of the mount drops one before a line feed)."""
    name = file_name(text.replace("\r", ""))
    return "w" + name if name.startswith(".") else name


_piece_or_break = st.one_of(st.sampled_from(_PATH_PIECES), st.text(_path_chars, max_size=6),
                            st.sampled_from(LINE_BREAKS.replace("\r", "")))
file_names = st.lists(st.one_of(st.sampled_from(_PATH_PIECES), st.text(_path_chars, max_size=6)),
                      min_size=1, max_size=6).map("".join).map(file_name)
directory_names = st.lists(_piece_or_break, min_size=1, max_size=5).map("".join).map(directory_name)
workdirs = st.one_of(directory_names, st.builds(lambda a, b: f"{a}/{b}", directory_names, directory_names),
                     st.sampled_from(["w", "./w", "w/", "a//b"]))
_scalars = st.one_of(raw_texts(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
                     st.booleans(), st.none())


# ----------------------------------------------------------------------------- the batch


@dataclass
class Batch:
    """One pipeline's drawn texts (see the module docstring for the tasks using them); the fields
    with defaults are those the first version of this file did not draw."""

    p0: str  # str param, no "'": used inside single quotes in `par`
    p1: str  # str param, anything
    n: int
    literals: list[str]  # lit0..lit2
    around: tuple[str, str]  # par: the text before and after ${{ params.p0 }}
    env: str
    kwargs: list[str]
    argv: list[str]
    name_a: str  # file name of artifact a (no "'")
    name_b: str  # file name of artifact b
    content_a: str
    content_b: str
    a_via_env: bool  # copy_a reads the path from its env (the runner) rather than its command
    items: list[str]
    value: str
    descriptions: list[str] = field(default_factory=lambda: [""])
    direct_kwargs: list[str] = field(default_factory=lambda: ["${{ params.n }}"])  # pyd: only number placeholders
    # the pipeline
    name: str = "inject"
    description: str | None = None
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    workdir: str | None = None
    schedule: tuple[str, str] | None = None  # (cron, timezone)
    trigger_uri: str | None = None  # a data trigger on this URI
    trigger_on_a: bool = False  # a data trigger on artifact a
    alert: str | None = None  # the pipeline's failure alert command
    alert_args: dict[str, str] | None = None  # a python failure alert's args
    # params besides p0, p1 and n
    m_name: str = "m"  # a number param used in num and fan
    m: int = 0
    flt: float = 0.5
    flag: bool = True
    lst: list[Any] = field(default_factory=list)
    dct: dict[str, Any] = field(default_factory=dict)
    param_descriptions: dict[str, str] = field(default_factory=dict)
    enum_extra: str | None = None  # p0 is an enum of [its default, this]
    # artifacts, outputs and tasks
    descriptions_ab: tuple[str | None, str | None] = (None, None)
    kind_b: str = "dataset"  # metrics and plots: content_b is text_file()
    output_path: str | None = None  # vprod's output file (no "'")
    output_description: str | None = None
    env_name: str = "V"
    image: str = IMAGE
    ctr_command: str | list[str] = "true"
    ctr_args: list[str] = field(default_factory=list)
    ctr_env: str = ""
    pool: str | None = None  # lit2's
    gpu_type: str | None = None  # lit2's, with one gpu
    task_alert: str | None = None  # lit2's failure alert command
    # only in the refused copy of the pipeline (DVC has neither)
    secret: tuple[str, str] = ("s", "k")
    when_literal: str = "x"

    @property
    def params(self) -> dict[str, Any]:
        return {"p0": self.p0, "p1": self.p1, "n": self.n, self.m_name: self.m, "flt": self.flt, "flag": self.flag,
                "lst": self.lst, "dct": self.dct}

    @property
    def path_a(self) -> str:
        return f"art a/{self.name_a}"

    @property
    def path_b(self) -> str:
        return f"art b/{self.name_b}"


def in_workdir(workdir: str | None, path: str) -> str:
    """A path the tasks name (relative to the workdir) from the repository's root."""
    return posixpath.join(workdir, path) if workdir else path


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


def text_file(text: str) -> str:
    """TEXT as DVC takes it for a metrics or plots file: printable ASCII and whitespace (DVC refuses
    one it deems binary: dvc_data/hashfile/istextfile.py, over 30% of other bytes)."""
    return "".join(char for char in text if " " <= char <= "~" or char in "\n\t")


@st.composite
def batches(draw) -> Batch:
    p0 = draw(raw_texts().map(no_quote))
    kind_b = draw(st.sampled_from(KINDS))
    return Batch(
        p0=p0,
        p1=draw(raw_texts()),
        n=draw(st.integers(-(2**63), 2**63 - 1)),  # what validation takes (E217 beyond)
        literals=[draw(raw_texts()) for _ in range(3)],
        around=(draw(raw_texts().map(no_quote).map(before_placeholder)),
                draw(raw_texts().map(no_quote).map(before_placeholder))),
        env=draw(templated_texts()),
        kwargs=draw(st.lists(templated_texts(), min_size=1, max_size=3)),
        argv=draw(st.lists(templated_texts(), min_size=1, max_size=3)),
        name_a=draw(file_names.map(no_quote)),
        name_b=draw(file_names),
        content_a=draw(raw_texts().map(before_placeholder)),
        content_b=draw(raw_texts().map(text_file if kind_b in ("metrics", "plots") else str)),
        a_via_env=draw(st.booleans()),
        items=draw(st.lists(raw_texts().map(no_quote).map(lambda t: t.replace("${", "$_{")), min_size=1,
                            max_size=3)),
        value=draw(raw_texts().map(before_placeholder)),
        descriptions=draw(st.lists(raw_texts(), min_size=1, max_size=3)),
        direct_kwargs=draw(st.lists(number_texts(), min_size=1, max_size=3)),
        name=draw(st.sampled_from(PIPELINE_NAMES)),
        description=draw(maybe(raw_texts())),
        owner=draw(maybe(raw_texts())),
        tags=draw(st.lists(raw_texts(), max_size=3, unique=True)),
        workdir=draw(maybe(workdirs)),
        schedule=draw(maybe(st.sampled_from(SCHEDULES))),
        trigger_uri=draw(maybe(raw_texts().map(lambda text: "s3://bucket/" + text))),
        trigger_on_a=draw(st.booleans()),
        alert=draw(maybe(raw_texts().map(no_placeholder))),
        alert_args=draw(maybe(st.dictionaries(st.sampled_from(["k0", "k1"]), raw_texts().map(no_placeholder)))),
        m_name=draw(st.sampled_from(NUMBER_PARAM_NAMES)),
        m=draw(st.integers(-(2**63), 2**63 - 1)),
        flt=draw(st.floats(allow_nan=False, allow_infinity=False)),
        flag=draw(st.booleans()),
        lst=draw(st.lists(_scalars, max_size=4)),
        dct=draw(st.dictionaries(raw_texts(), _scalars | st.lists(_scalars, max_size=2), max_size=4)),
        param_descriptions={name: draw(raw_texts()) for name in draw(st.sets(st.sampled_from(["p0", "n", "dct"])))},
        enum_extra=draw(maybe(raw_texts()).filter(lambda text: text != p0)),
        descriptions_ab=(draw(maybe(raw_texts())), draw(maybe(raw_texts()))),
        kind_b=kind_b,
        output_path=draw(maybe(file_names.map(no_quote).map(output_file_name))),
        output_description=draw(maybe(raw_texts())),
        env_name=draw(st.sampled_from(ENV_NAMES)),
        image=draw(st.one_of(raw_texts(), raw_texts().map(lambda text: IMAGE + text))),
        ctr_command=draw(st.one_of(templated_texts(), st.lists(templated_texts(), min_size=1, max_size=3))),
        ctr_args=draw(st.lists(templated_texts(), max_size=2)),
        ctr_env=draw(templated_texts()),
        pool=draw(maybe(raw_texts())),
        gpu_type=draw(maybe(raw_texts())),
        task_alert=draw(maybe(raw_texts().map(no_placeholder))),
        secret=(draw(secret_names), draw(secret_keys)),  # validation refuses others (E115)
        when_literal=draw(raw_texts()),
    )


# ----------------------------------------------------------------------------- pipeline text


_PLACEHOLDER_LIKE = re.compile(r"\$?\$\{\{.*?\}\}", re.DOTALL)  # compiler.language.placeholders._PLACEHOLDER


def template(*parts: str) -> str:
    """The pipeline text that means exactly PARTS: literal strings as written (every `${{ ... }}`
    in them, escapes included, given one more `$`), Ph parts as placeholders. Checked with the
    compiler's own parser."""
    text = "".join(f"${{{{ {part} }}}}" if isinstance(part, Ph) else
                   _PLACEHOLDER_LIKE.sub(lambda m: "$" + m.group(0), part) for part in parts)
    want: list[Any] = []
    for part in parts:
        if isinstance(part, Ph):
            want.append(parse_ref(part))
        elif part and want and isinstance(want[-1], str):
            want[-1] += part
        elif part:
            want.append(part)
    assert parse_placeholders(text) == (want, []), (parts, text)
    return text


def sq(text: str) -> str:
    """TEXT as one shell word in single quotes."""
    return "'" + text.replace("'", "'\\''") + "'"


def as_text(value: Any) -> str:
    """A value inside a text (docs/pipeline-syntax.md): a string as it is, anything else as
    compact JSON (numbers in their shortest form, `true` / `false`)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def meant(text: str, params: dict[str, Any], *, whole_value: bool = False) -> Any:
    """What a text means (docs/pipeline-syntax.md): a whole-value placeholder in python args
    keeps its type, any other placeholder is the value as text."""
    segments, errors = parse_placeholders(text)
    assert not errors, text
    if whole_value and len(segments) == 1 and isinstance(segments[0], Ref):
        return params[segments[0].name]
    return "".join(s if isinstance(s, str) else as_text(params[s.name]) for s in segments)


def pipeline_data(batch: Batch) -> dict[str, Any]:
    data: dict[str, Any] = {"name": batch.name}
    optional = {"description": batch.description, "owner": batch.owner, "workdir": batch.workdir}
    data.update({key: value for key, value in optional.items() if value is not None})
    if batch.tags:
        data["tags"] = batch.tags
    data["params"] = params_data(batch)
    if batch.schedule is not None:
        data["schedule"] = dict(zip(("cron", "timezone"), batch.schedule))
    triggers = [{"type": "data", "uri": batch.trigger_uri}] if batch.trigger_uri is not None else []
    data["triggers"] = triggers + ([{"type": "data", "artifact": "a"}] if batch.trigger_on_a else [])
    alerts = [{"on": "failure", "command": batch.alert}] if batch.alert is not None else []
    if batch.alert_args is not None:
        alerts.append({"on": "failure", "python": f"{PROBE}:dump", "args": batch.alert_args})
    data["alerts"] = alerts
    data["artifacts"] = {"a": {"path": batch.path_a}, "b": {"path": batch.path_b, "kind": batch.kind_b}}
    for artifact, description in zip(data["artifacts"].values(), batch.descriptions_ab):
        if description is not None:
            artifact["description"] = description
    data["tasks"] = tasks_data(batch)
    return data


def params_data(batch: Batch) -> dict[str, Any]:
    types = {"p0": "str", "p1": "str", "n": "int", batch.m_name: "int", "flt": "float", "flag": "bool",
             "lst": "list", "dct": "dict"}
    params = {name: {"type": types[name], "default": default} for name, default in batch.params.items()}
    for name, description in batch.param_descriptions.items():
        params[name]["description"] = description
    if batch.enum_extra is not None:
        params["p0"]["enum"] = [batch.p0, batch.enum_extra]
    return params


def tasks_data(batch: Batch) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    for index, literal in enumerate(batch.literals):
        tasks[f"lit{index}"] = {"command": template(f"printf '%s' {sq(literal)} > out/lit{index}.txt")}
    tasks["lit2"].update(lit2_policies(batch))
    before, after = batch.around
    tasks["par"] = {"command": template("printf '%s' '" + before, Ph("params.p0"), after + "|", Ph("params.n"),
                                        "' > out/par.txt")}
    tasks["num"] = {"command": template("printf '%s' '", Ph("params.n"), "|", Ph("params.flt"), "|",
                                        Ph(f"params.{batch.m_name}"), "' > out/num.txt")}
    tasks["env"] = {"command": f"printf '%s' \"${batch.env_name}\" > out/env.txt", "env": {batch.env_name: batch.env}}
    tasks["py"] = {"python": f"{PROBE}:dump",
                   "args": {"path": "out/py.json", **{f"k{i}": v for i, v in enumerate(batch.kwargs)}}}
    tasks["pyd"] = {"python": f"{PROBE}:dump",
                    "args": {"path": "out/pyd.json", **{f"k{i}": v for i, v in enumerate(batch.direct_kwargs)},
                             ODD_KEY: template(batch.literals[0])}}
    tasks["argv"] = {"command": ["python3", "-c", ARGV_WRITER, "out/argv.json", *batch.argv]}
    tasks["make_a"] = {"command": template(f"mkdir -p 'art a' && printf '%s' {sq(batch.content_a)} > '",
                                           Ph("artifacts.a"), "'"), "produces": ["a"]}
    if batch.a_via_env:
        tasks["copy_a"] = {"command": 'cp -- "$P" out/copy_a.txt', "env": {"P": "${{ artifacts.a }}"},
                           "consumes": ["a"]}
    else:
        tasks["copy_a"] = {"command": template("cp -- '", Ph("artifacts.a"), "' out/copy_a.txt"), "consumes": ["a"]}
    tasks["make_b"] = {"command": template(f"mkdir -p 'art b' && printf '%s' {sq(batch.content_b)} > "
                                           f"{sq(batch.path_b)}"), "produces": ["b"]}
    tasks["copy_b"] = {"command": template(f"cp -- {sq(batch.path_b)} out/copy_b.txt"), "consumes": ["b"]}
    tasks["fan"] = {"foreach": list(batch.items), "command": template(
        "printf '%s\\0' '", Ph("item"), "|", Ph(f"params.{batch.m_name}"), "' >> out/fan.txt")}
    output = {"type": "str", "description": batch.output_description, "path": batch.output_path}
    tasks["vprod"] = {"command": template(f"printf '%s' {sq(batch.value)} > '", Ph("outputs.o"), "'"),
                      "outputs": {"o": {key: value for key, value in output.items() if value is not None}}}
    tasks["vcons"] = {"command": "printf '%s' \"$V\" > out/vcons.txt", "env": {"V": "${{ tasks.vprod.outputs.o }}"}}
    tasks["ctr"] = {"image": batch.image, "command": batch.ctr_command, "args": batch.ctr_args,
                    "env": {"C": batch.ctr_env}}
    for index, task in enumerate(tasks.values()):
        task["description"] = batch.descriptions[index % len(batch.descriptions)]
    return tasks


def lit2_policies(batch: Batch) -> dict[str, Any]:
    """What DVC has no use for (pool: one stage at a time anyway) or no place for (gpu, alert)."""
    policies: dict[str, Any] = {}
    if batch.pool is not None:
        policies["pool"] = batch.pool
    if batch.gpu_type is not None:
        policies["resources"] = {"gpu": 1, "gpu_type": batch.gpu_type}
    if batch.task_alert is not None:
        policies["alerts"] = [{"on": "failure", "command": batch.task_alert}]
    return policies


def left_out(batch: Batch) -> set[str]:
    """The fields the compile must name in a W301 (docs/backends/dvc.md: left out with a warning)."""
    fields = {"owner"} if batch.owner else set()  # an empty owner is no owner
    fields |= {"tags"} if batch.tags else set()
    fields |= {"schedule"} if batch.schedule else set()
    fields |= {f"triggers[{index}]" for index in range((batch.trigger_uri is not None) + batch.trigger_on_a)}
    fields |= {f"alerts[{index}]" for index in range((batch.alert is not None) + (batch.alert_args is not None))}
    fields |= {"tasks.lit2.resources"} if batch.gpu_type is not None else set()
    fields |= {"tasks.lit2.alerts"} if batch.task_alert is not None else set()
    return fields


def refused_data(batch: Batch, data: dict[str, Any]) -> dict[str, Any]:
    """The pipeline with what DVC cannot express at all (E301): a secret, a condition."""
    refused = copy.deepcopy(data)
    refused["tasks"]["env"]["secrets"] = {"S": dict(zip(("name", "key"), batch.secret))}
    refused["tasks"]["num"]["when"] = "params.p0 == " + condition_literal(batch.when_literal)
    return refused


def expected_files(batch: Batch) -> dict[str, bytes]:
    """Task file -> the bytes it must hold (paths as the tasks name them, in the workdir)."""
    params = batch.params
    before, after = batch.around
    value = batch.value.removesuffix("\n")  # a value output loses one trailing newline
    files = {f"out/lit{index}.txt": literal for index, literal in enumerate(batch.literals)}
    files.update({
        "out/par.txt": f"{before}{batch.p0}{after}|{batch.n}",
        "out/num.txt": f"{batch.n}|{as_text(batch.flt)}|{batch.m}",
        "out/env.txt": meant(batch.env, params),
        "out/py.json": json.dumps({f"k{i}": meant(v, params, whole_value=True) for i, v in enumerate(batch.kwargs)},
                                  ensure_ascii=True),
        "out/pyd.json": json.dumps({**{f"k{i}": meant(v, params, whole_value=True)
                                       for i, v in enumerate(batch.direct_kwargs)}, ODD_KEY: batch.literals[0]},
                                   ensure_ascii=True),
        "out/argv.json": json.dumps([meant(a, params) for a in batch.argv], ensure_ascii=True),
        "out/copy_a.txt": batch.content_a,
        "out/copy_b.txt": batch.content_b,
        "out/vcons.txt": value,
        "out/ctr.json": json.dumps(container_call(batch), ensure_ascii=True),
        batch.path_a: batch.content_a,
        batch.path_b: batch.content_b,
    })
    if batch.output_path is not None:
        files[batch.output_path] = batch.value
    return {name: text.encode("utf-8") for name, text in files.items()}


def container_call(batch: Batch) -> dict[str, Any]:
    """What `docker run` must receive for ctr: a string command runs in bash with the args as
    "$@" (docs/backends/dvc.md), an exec-form command is the argv, the args after it."""
    params = batch.params
    args = [meant(arg, params) for arg in batch.ctr_args]
    if isinstance(batch.ctr_command, str):
        argv = ["bash", "-c", meant(batch.ctr_command + ' "$@"', params), "bash", *args]
    else:
        argv = [meant(part, params) for part in batch.ctr_command] + args
    return {"image": batch.image, "argv": argv, "env": {"C": meant(batch.ctr_env, params)}}


# ----------------------------------------------------------------------------- the check


def assert_well_formed(batch: Batch) -> None:
    """What the strategies guarantee (the hand-picked batches are written by hand)."""
    assert not any("'" in text for text in (batch.p0, *batch.around, batch.name_a, *batch.items,
                                            batch.output_path or "")), batch
    assert all(before_placeholder(text) == text for text in (*batch.around, batch.content_a, batch.value)), batch
    assert file_name(batch.name_a) == batch.name_a and file_name(batch.name_b) == batch.name_b, batch
    assert batch.output_path is None or output_file_name(batch.output_path) == batch.output_path, batch
    assert not any("${" in item for item in batch.items), batch
    assert not any("${{" in text for text in (batch.alert or "", batch.task_alert or "", *texts_of(batch.alert_args)))
    assert not any("\x00" in text for text in texts_of(batch)), batch
    assert not any(parse_placeholders(text)[1] for text in (batch.env, *batch.kwargs, *batch.argv)), batch


def texts_of(value: Any) -> list[str]:
    """Every text in VALUE (a batch, or any of its fields), keys included."""
    if isinstance(value, Batch):
        return texts_of(list(vars(value).values()))
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return texts_of(list(value)) + texts_of(list(value.values()))
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in texts_of(item)]
    return []


def compile_to(engine: DvcEngine, data: dict[str, Any], workdir: str | None):
    """The pipeline compiled through the real CLI in a scratch folder, with inj_probe.py beside it
    (in its workdir: the backend makes it a dep of pyd). Returns (folder, compiled)."""
    work = engine.scratch_dir("dvc-injection")
    source = work / "inject.yaml"
    source.write_text(yaml_flow(data) + "\n", encoding="utf-8")
    probe = work / (workdir or "") / f"{PROBE}.py"
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text(PROBE_SOURCE, encoding="utf-8")
    compiled = compile_dvc(source, work / "out")
    assert compiled.exception is None, f"{compiled.exception!r}\n{compiled.output}"
    assert "Traceback" not in compiled.output, compiled.output
    return work, compiled


def compiled_repo(engine: DvcEngine, data: dict[str, Any]) -> tuple[DvcRepo, str]:
    """A repository of the compiled pipeline, the stand-in docker first on its PATH; and what the
    compile printed."""
    workdir = data.get("workdir")
    work, compiled = compile_to(engine, data, workdir)
    assert compiled.exit_code == 0 and compiled.files, compiled.output
    files = {in_workdir(workdir, f"{PROBE}.py"): PROBE_SOURCE, in_workdir(workdir, "out/.keep"): ""}
    repo = engine.repo(work / "out", examples=False, files=files)
    docker = work / "bin" / "docker"
    docker.parent.mkdir()
    docker.write_text(FAKE_DOCKER, encoding="utf-8")
    docker.chmod(0o755)
    repo.env = {**repo.env, "PATH": os.pathsep.join([str(docker.parent), repo.env["PATH"]])}
    return repo, compiled.output


def dvc_reading(repo: DvcRepo) -> dict[str, Any]:
    """What DVC itself reads from the repository (DVC_READING)."""
    process = subprocess.run([str(repo.engine.python), "-c", DVC_READING], cwd=repo.path, env=repo.env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


def compare_files(repo: DvcRepo, want: dict[str, bytes], problems: list[str]) -> None:
    for name, data in want.items():
        path = repo.path / name
        if not path.is_file():
            problems.append(f"{name!r}: not written")
        elif path.read_bytes() != data:
            problems.append(f"{name!r}:\n  expected {data!r}\n  actual   {path.read_bytes()!r}")


def check_batch(engine: DvcEngine, batch: Batch) -> None:
    assert_well_formed(batch)
    data = pipeline_data(batch)
    problems: list[str] = []
    check_refused(engine, batch, data, problems)
    repo, output = compiled_repo(engine, data)
    check_left_out(batch, output, problems)
    check_dvc_yaml(repo, batch, problems)
    result = repo.repro("--keep-going", check=False)
    if not result.ok:
        problems.append(f"dvc repro failed:\n{result.describe()}")
    stages = sorted([t for t in data["tasks"] if t != "fan"] + [f"fan@{i}" for i in range(len(batch.items))])
    if sorted(result.ran) != stages:
        problems.append(f"stages run: {sorted(result.ran)}, expected {stages}")
    files = {in_workdir(batch.workdir, name): text for name, text in expected_files(batch).items()}
    compare_files(repo, files, problems)

    fan = repo.path / in_workdir(batch.workdir, "out/fan.txt")
    got = sorted(fan.read_bytes().split(b"\0")[:-1]) if fan.is_file() else None
    if got != sorted(f"{item}|{batch.m}".encode() for item in batch.items):
        problems.append(f"fan: items {batch.items!r}, out/fan.txt {fan.read_bytes() if fan.is_file() else None!r}")

    check_edges(repo, result, batch, problems)
    check_direct_python_stage(repo, problems)
    check_dvc_reading(dvc_reading(repo), batch, data, stages, problems)
    assert not problems, f"repository: {repo.path}\n" + "\n".join(problems)


def check_refused(engine: DvcEngine, batch: Batch, data: dict[str, Any], problems: list[str]) -> None:
    """A secret and a condition DVC cannot express: E301 naming each, nothing written."""
    work, compiled = compile_to(engine, refused_data(batch, data), batch.workdir)
    written = [p for p in (work / "out").rglob("*") if p.is_file()] if (work / "out").exists() else []
    if compiled.exit_code != 1 or written:
        problems.append(f"a secret and a `when`: exit {compiled.exit_code}, wrote {written}\n{compiled.output}")
    for where in ("tasks.env.secrets", "tasks.num.when"):
        if not diagnostic_at(compiled.output, "error[E301]", where):
            problems.append(f"no error[E301] at {where}:\n{compiled.output}")


def diagnostic_at(output: str, head: str, where: str) -> bool:
    """Whether OUTPUT has the diagnostic HEAD (`error[E301]`) located at the field WHERE."""
    return re.search(re.escape(head) + r"[^\n]*\n\s*-->[^\n]*\(" + re.escape(shown(where)) + r"\)\n", output) \
        is not None


def check_left_out(batch: Batch, output: str, problems: list[str]) -> None:
    """Exactly the fields DVC has no place for are named in a W301; no error."""
    named = set(re.findall(r"warning\[W301\][^\n]*\n\s*-->[^\n]*\(([^\n]*)\)\n", output))
    if named != {shown(where) for where in left_out(batch)} or "error[" in output:
        problems.append(f"W301 at {sorted(named)}, expected {sorted(left_out(batch))}:\n{output}")


STAGE_KEYS = {"desc", "cmd", "wdir", "deps", "params", "outs", "metrics", "plots"}


def check_dvc_yaml(repo: DvcRepo, batch: Batch, problems: list[str]) -> None:
    """dvc.yaml holds stages only, each with only the keys dagshift writes (what DVC has no place
    for went nowhere), under a header naming the pipeline."""
    text = (repo.path / "dvc.yaml").read_text(encoding="utf-8")
    document = repo.read_yaml("dvc.yaml")
    if not text.startswith(f"# DVC pipeline of `{batch.name}`, generated by dagshift") or list(document) != ["stages"]:
        problems.append(f"dvc.yaml: header {text.splitlines()[0]!r}, keys {list(document)}")
    for name, stage in document["stages"].items():
        body = stage["do"] if "foreach" in stage else stage
        if not set(body) <= STAGE_KEYS or "foreach" in stage and set(stage) != {"foreach", "do"}:
            problems.append(f"stage {name}: keys {list(stage)} {list(body)}")


def check_dvc_reading(reading: dict[str, Any], batch: Batch, data: dict[str, Any], stages: list[str],
                      problems: list[str]) -> None:
    """DVC's own reading: every stage's description, wdir and tracked params (as DVC reads them
    from params.yaml: exactly the params the task reads), and params.yaml whole."""
    if reading["params"] != batch.params:
        problems.append(f"params.yaml as DVC reads it: {reading['params']!r}, expected {batch.params!r}")
    wdir = posixpath.normpath(batch.workdir) if batch.workdir else "."
    for stage in stages:
        task = data["tasks"][stage.split("@")[0]]
        read = {name: batch.params[name] for name in sorted(params_read(task))}
        want = {"desc": task["description"] or None, "wdir": wdir, "params": {"params.yaml": read} if read else {}}
        got = reading["stages"].get(stage)
        if got != want:
            problems.append(f"{stage}: DVC reads {got!r}, expected {want!r}")


def params_read(task: dict[str, Any]) -> set[str]:
    """The params a task's texts name (the fields that take placeholders: compiler/language/references.py)."""
    texts = texts_of([task.get(key) for key in ("command", "args", "env", "foreach")])
    return {str(s.name) for text in texts for s in parse_placeholders(text)[0]
            if isinstance(s, Ref) and s.kind == "param"}


def check_direct_python_stage(repo: DvcRepo, problems: list[str]) -> None:
    """pyd calls the function in its cmd (no runner) and depends on the module's file."""
    stage = repo.read_yaml("dvc.yaml")["stages"]["pyd"]
    if not str(stage["cmd"]).startswith("python3 -c ") or stage.get("deps") != [f"{PROBE}.py"]:
        problems.append(f"pyd is not a direct python stage depending on {PROBE}.py: {stage}")


def check_edges(repo: DvcRepo, result: Repro, batch: Batch, problems: list[str]) -> None:
    """Each artifact path and the value output's path, as written, is the producer's out and the
    consumer's dep (same hash), and the producer ran first: DVC has the edge."""
    lock = repo.lock()
    edges = [("a", batch.path_a, "make_a", "copy_a"), ("b", batch.path_b, "make_b", "copy_b")]
    if batch.output_path is not None:
        edges.append(("output o", batch.output_path, "vprod", "vcons"))
    for name, path, producer, consumer in edges:
        # `./s3:x` is how DVC is told a path is a file (compiler/backends/dvc/backend.py _dvc_path)
        outs = {posixpath.normpath(o["path"]): o.get("md5") for o in lock.get(producer, {}).get("outs", [])}
        deps = {posixpath.normpath(d["path"]): d.get("md5") for d in lock.get(consumer, {}).get("deps", [])}
        if path not in outs or path not in deps or outs[path] != deps[path]:
            problems.append(f"{name} {path!r}: dvc.lock outs of {producer} {outs}, deps of {consumer} {deps}")
        if producer in result.ran and consumer in result.ran and result.ran.index(producer) > result.ran.index(consumer):
            problems.append(f"{name}: {consumer} ran before {producer}: {result.ran}")


# ----------------------------------------------------------------------------- hand-picked


NASTY_LINE = ("it's \"q\" `id` $(id) $HOME ${HOME} \\${x} \\\\${x} $${{ params.p0 }} ${{ nope }} {{ x }} # c"
              " a: b - c @ 100% \\ é e\u0301 \u05e9\u05dc\u05d5\u05dd \u202e \U0001f600 ")
HAND_PICKED = Batch(
    p0="v\\${x}w $HOME `id` \"q\" # c: - @ 100% {{ x }} é\u0301 \u05d0 \U0001f600 \\",
    p1="it's ${p0} \\${p0} $${{ ${{ x }} }}\r\nend\u2028",
    n=-(2**63),
    literals=[NASTY_LINE, "line 1\nline 2\r\nline 3\u2028\x85 #tail ", " lead and trail ${{ params.p0 }} "],
    around=("a\\", "\\b $x"),
    env=_escape_stray_placeholders("${{ params.p1 }}|${{ params.n }}|$${{ params.p0 }}|${x}|\\${x}|" + NASTY_LINE),
    kwargs=["${{ params.n }}", "${{ params.p1 }}", _escape_stray_placeholders("n=${{ params.n }} " + NASTY_LINE)],
    argv=["${{ params.p0 }}", "", "-c", "${x} \\${x} $(id) 'q' \"q\"\n2nd line", _escape_stray_placeholders(NASTY_LINE)],
    name_a="d\"q\" #h: x@y %s $HOME $(id) `id` \\ é\u05d0\U0001f600 [a]*?~!&{x} .txt ",
    name_b="it's \"q\" #h: c:x @ $ \\ e\u0301\u202e\ufeff - x",
    content_a="it's ${x} \\${x} $HOME\n",
    content_b="it's ${x} \\${x} $${{ params.p0 }} ${{ nope }}\n",
    a_via_env=False,
    items=["a: b #c @ $HOME `id` \\ é", "-x", "", "i1\ni2"],
    value="v ${x} \\${x} 'q'\n",
    descriptions=["uses ${x}, \\${y}, \\\\${z} and $HOME: # not a comment", "", "line\nbreak ${{ params.p0 }}"],
    direct_kwargs=["${{ params.n }}", _escape_stray_placeholders("n=${{ params.n }}|\\${{ params.n }}|" + NASTY_LINE),
                   "line 1\nline 2\r\n\u2028\x85 ${x} \\${x} '\"'", "${{ params.flt }}", "f=${{ params.flt }}"],
    name="stages",
    description=NASTY_LINE,
    owner=NASTY_LINE,
    tags=[NASTY_LINE, "t"],
    workdir="w: #d \\ 'q' \"q\" $HOME é\u2028x\n y\x85 [a]*?~ /sub ",
    schedule=SCHEDULES[0],
    trigger_uri="s3://bucket/" + NASTY_LINE,
    trigger_on_a=True,
    alert=no_placeholder(NASTY_LINE),
    alert_args={"k0": no_placeholder(NASTY_LINE)},
    m_name="item",
    m=-7,
    flt=1e16,
    flag=False,
    lst=[NASTY_LINE, 1, -0.0, 5e-324, None, True, "\x7f\x9b\u2028\ufeff\U0001f600", ""],
    dct={NASTY_LINE: 1, "a.b": {"c": "d"}, "": "", "${x}": "\\${y}", "k\n\x85": [None, "x"], "1": 2},
    param_descriptions={"p0": NASTY_LINE, "n": "${x}", "dct": "\\${x}\n"},
    enum_extra=NASTY_LINE,
    descriptions_ab=(NASTY_LINE, "${x} \\${y}"),
    kind_b="metrics",
    output_path="s3:v #x \\ \"q\" é",
    output_description=NASTY_LINE,
    env_name="HOME",
    image="alpine:3.20 ${{ params.p0 }} $${{ x }} ${x} 'q' \"q\" \\ #\n",
    ctr_command="printf '%s|' \"$@\" \"$C\" ${{ params.p0 }} ${{ params.lst }}",
    ctr_args=["${{ params.p1 }}", "", NASTY_LINE.replace("${{", "$${{")],
    ctr_env=_escape_stray_placeholders("${{ params.dct }}|${{ params.flag }}|" + NASTY_LINE),
    pool=NASTY_LINE,
    gpu_type=NASTY_LINE,
    task_alert=no_placeholder(NASTY_LINE),
    secret=("db-1", "token.k_1"),
    when_literal=NASTY_LINE,
)
# The same without line breaks and `\${` in direct commands or a `\` right before a placeholder
# (what REGRESSIONS are about), and with the content and name of artifact a from the direct path.
HAND_PICKED_DIRECT = Batch(
    p0="v $HOME `id` \"q\" # c: - @ 100% {{ x }} é\u0301 \u05d0 \U0001f600 \\",
    p1="it's ${p0} \\${p0} $${{ ${{ x }} }}\r\nend\u2028",
    n=2**63 - 1,
    literals=["it's \"q\" `id` $(id) $HOME # c a: b - c @ 100% \\ é e\u0301 \u202e \U0001f600 ",
              "- x: y", " #tail "],
    around=("a: b #", "- c"),
    env="${{ params.p0 }}",
    kwargs=["${{ params.p0 }}"],
    argv=["${{ params.n }}"],
    name_a="x: y #z",
    name_b="-",
    content_a="a: b # c $HOME",
    content_b="$HOME",
    a_via_env=True,
    items=["a: b #c @ $HOME `id` é"],
    value="v: w # x",
    descriptions=["plain"],
    name="vars",
    m_name="key",
    flt=-0.0,
    workdir="a: b",
    output_path="o.txt",
    ctr_command=["printf", "%s|", "${{ params.n }}", "${{ params.flt }}"],
    ctr_args=["${{ params.p0 }}"],
)


# ----------------------------------------------------------------------------- tests


# No shrinking: each example is a `dvc repro` of a few seconds, and the failure message names
# every file that differs (the batch is printed with it).
@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@example(batch=HAND_PICKED_DIRECT)
@example(batch=HAND_PICKED)
@given(batch=batches())
def test_drawn_text_reaches_the_shell_under_dvc_exactly(dvc_engine: DvcEngine, batch: Batch) -> None:
    check_batch(dvc_engine, batch)


# Real bugs this file found (since fixed in compiler/backends/dvc/backend.py and the runner it writes),
# each as the smallest pipeline that showed it.
REGRESSIONS: dict[str, tuple[dict[str, Any], dict[str, bytes]]] = {
    # _direct_command puts a command holding a line break into `cmd` as it is; DVC runs each
    # line (str.splitlines: \n, \r, \x0b, \x0c, \x1c-\x1e, \x85, \u2028, \u2029) in a shell of its
    # own (dvc/stage/run.py _enforce_cmd_list), so a quoted line break is a syntax error and a
    # multi-line script loses its variables between lines.
    "line breaks in a shell command": ({"tasks": {
        "nl": {"command": "printf '%s' 'a\nb' > out/nl.txt"},
        "crlf": {"command": "printf '%s' 'a\r\nb' > out/crlf.txt"},
        "ls": {"command": "printf '%s' 'a\u2028b' > out/ls.txt"},
        "nel": {"command": "printf '%s' 'a\x85b' > out/nel.txt"},
        "script": {"command": "X=kept\nprintf '%s' \"$X\" > out/script.txt"},
    }}, {"out/nl.txt": b"a\nb", "out/crlf.txt": b"a\r\nb", "out/ls.txt": "a\u2028b".encode(),
         "out/nel.txt": "a\x85b".encode(), "out/script.txt": b"kept"}),
    # _direct_command / _direct_ref: a literal segment ending in `\` right before a param becomes
    # `\${p0}` in cmd, which DVC reads as its escape: no interpolation, and one `\` dropped.
    "backslash right before a placeholder": ({"params": {"p0": "v"}, "tasks": {
        "one": {"command": "printf '%s' 'a\\${{ params.p0 }}' > out/one.txt"},
        "two": {"command": "printf '%s' 'a\\\\${{ params.p0 }}' > out/two.txt"},
    }}, {"out/one.txt": b"a\\v", "out/two.txt": b"a\\\\v"}),
    # _direct_ref: a str param (or a literal foreach item) is `${p0}` / `${item}` in cmd, so DVC's
    # rules apply to its VALUE at run time: one `\` dropped before every `${`
    # (dvc/parsing/interpolate.py str_interpolate), and a line break splits the command as above.
    "values DVC rewrites in a command": ({"params": {"p0": "v\\${x}w", "p1": "l1\nl2"}, "tasks": {
        "p0": {"command": "printf '%s' '${{ params.p0 }}' > out/p0.txt"},
        "p1": {"command": "printf '%s' '${{ params.p1 }}' > out/p1.txt"},
        "item": {"foreach": ["i1\ni2"], "command": "printf '%s' '${{ item }}' > out/item.txt"},
    }}, {"out/p0.txt": b"v\\${x}w", "out/p1.txt": b"l1\nl2", "out/item.txt": b"i1\ni2"}),
    # DvcBackend.render writes params.yaml with json.dumps(..., ensure_ascii=False): characters
    # YAML does not allow raw (DEL, C1 controls but NEL, U+FFFE, U+FFFF) go in as they are, and
    # DVC, which reads params.yaml as YAML, stops every command: "unable to read: 'params.yaml',
    # YAML file structure is corrupted". The task below does not even use DVC's `${}`.
    "characters YAML does not allow raw in a param default": ({"params": {"p0": "a\x7fb\x9bc\ufffed"}, "tasks": {
        "t": {"command": "printf '%s' \"$V\" > out/p0.txt", "env": {"V": "${{ params.p0 }}"}},
    }}, {"out/p0.txt": "a\x7fb\x9bc\ufffed".encode()}),
}
# _outs / _deps write an artifact path as it is; DVC reads a relative path that starts like a URL
# of one of its remotes (`s3:`, `http:`, `ssh:`, `remote:`, ...) as that remote ("s3 is supported,
# but requires 'dvc-s3'", "http:///x.txt"), where `./s3:x.txt` is the local file.
for _path in ("s3:x.txt", "http:x.txt"):
    REGRESSIONS[f"artifact path {_path}"] = ({"artifacts": {"a": _path}, "tasks": {
        "make": {"command": f"printf made > '{_path}'", "produces": ["a"]},
        "copy": {"command": f"cp -- '{_path}' out/copy.txt", "consumes": ["a"]},
    }}, {_path: b"made", "out/copy.txt": b"made"})
REGRESSIONS.update({
    # _outs / _deps: the same for a value output's `path:` (an out of its task, a dep of the next).
    "value output path s3:o.txt": ({"tasks": {
        "make": {"command": "printf made > ${{ outputs.o }}", "outputs": {"o": {"type": "str", "path": "s3:o.txt"}}},
        "copy": {"command": "printf '%s' \"$V\" > out/copy.txt", "env": {"V": "${{ tasks.make.outputs.o }}"}},
    }}, {"s3:o.txt": b"made", "out/copy.txt": b"made"}),
    # _direct_ref: a number param is DVC's `${name}` in cmd, but in a foreach stage DVC's own
    # `${item}` and `${key}` (the run's item and key) hide params of those names.
    "number params named item and key in a fanned-out task": ({"params": {"item": 7, "key": 8}, "tasks": {
        "fan": {"foreach": ["x"], "command": "printf '%s' '${{ item }}|${{ params.item }}|${{ params.key }}' > out/f"},
    }}, {"out/f": b"x|7|8"}),
    # _stage: a stage's `params: [n]` names a key of the params.yaml in the stage's wdir
    # (dvc/dependency/__init__.py _merge_params), where there is none: "dependency 'src/params.yaml'
    # does not exist", and the stage does not run.
    "params of a task in a workdir": ({"workdir": "src", "params": {"n": 3, "s": "t"}, "tasks": {
        "n": {"command": "printf '%s' ${{ params.n }} > out/n.txt"},
        "s": {"command": "printf '%s' '${{ params.s }}' > out/s.txt"},
    }}, {"src/out/n.txt": b"3", "src/out/s.txt": b"t"}),
    # run.py.j2 mounted the task's directory with `docker run -v DIR:DIR`, which docker splits at
    # every ':': a directory whose path holds one (here the workdir) is no mount.
    "a container in a directory holding ':'": ({"workdir": "w:x", "tasks": {
        "ctr": {"image": "img", "command": ["true"]},
    }}, {"w:x/out/ctr.json": b'{"image": "img", "argv": ["true"], "env": {}}'}),
    # run.py.j2 filled `${{ outputs.o }}` in with an absolute path, the repository's location and
    # the workdir in it (a direct cmd names the output relative to its wdir): a space there split
    # the command's redirection.
    "an output placeholder filled in by the runner": ({"workdir": "w x", "tasks": {
        "make": {"command": "printf '%s' \"$V\" > ${{ outputs.o }}", "env": {"V": "v"},
                 "outputs": {"o": {"type": "str", "path": "o.txt"}}},
    }}, {"w x/o.txt": b"v"}),
    # _spec: an empty string command ran the image's own command; it is shell text, as on Airflow
    # and Argo.
    "a container's empty command": ({"tasks": {"ctr": {"image": "img", "command": ""}}},
                                    {"out/ctr.json": b'{"image": "img", "argv": ["bash", "-c", " \\"$@\\"", "bash"], '
                                                     b'"env": {}}'}),
})


@pytest.mark.parametrize("case", list(REGRESSIONS))
def test_regression(dvc_engine: DvcEngine, case: str) -> None:
    data, want = REGRESSIONS[case]
    repo, _ = compiled_repo(dvc_engine, {"name": "bug", **data})
    result = repo.repro("--keep-going", check=False)
    problems = [] if result.ok else [f"dvc repro failed:\n{result.describe()}"]
    compare_files(repo, want, problems)
    assert not problems, f"{case} (repository {repo.path}):\n" + "\n".join(problems)


# Texts DVC would read as its own (interpolation where no runner can step in, YAML it cannot read,
# runs it would name alike): refused with E302 at the field, nothing written.
REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "artifact path with ${": ({"artifacts": {"a": "data/${HOME}.csv"},
                               "tasks": {"t": {"command": "touch 'data/${HOME}.csv'", "produces": ["a"]}}},
                              "artifacts.a"),
    "external artifact path with \\${": ({"artifacts": {"a": {"path": "a\\${x}", "external": True}},
                                         "tasks": {"t": {"command": "echo", "consumes": ["a"]}}}, "artifacts.a"),
    "output path with ${": ({"tasks": {"t": {"command": "echo > ${{ outputs.o }}",
                                             "outputs": {"o": {"type": "str", "path": "o${x}"}}}}},
                            "tasks.t.outputs.o.path"),
    "workdir with ${": ({"workdir": "w${x}", "tasks": {"t": {"command": "echo"}}}, "workdir"),
    "foreach item with ${": ({"tasks": {"t": {"foreach": ["ok", "it's ${x}"], "command": "echo ${{ item }}"}}},
                             "tasks.t.foreach"),
    "foreach mapping item with ${": ({"tasks": {"t": {"foreach": [{"k": "$${x}"}], "command": "echo ${{ item.k }}"}}},
                                     "tasks.t.foreach"),
    # YAML (DVC's ruamel) reads a mapping key of at most 1024 characters: params.yaml would stop
    # every stage ("YAML file structure is corrupted"). 200 NELs are 800 characters in the
    # pipeline file (`\x85` each), 1200 in params.yaml (`\u0085`, JSON's escape).
    "a params.yaml key YAML cannot read": ({"params": {"d": {"type": "dict", "default": {"\x85" * 200: 1}}},
                                            "tasks": {"t": {"command": "echo"}}}, "params.d"),
    # DVC names a run of `foreach: ${items}` after its item (to_str): 1 and "1" are one run.
    "list param items naming one run": ({"params": {"items": {"type": "list", "default": [1, "1", "a", "a"]}},
                                         "tasks": {"t": {"foreach": "${{ params.items }}", "command": "echo"}}},
                                        "tasks.t.foreach"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_text_dvc_would_interpolate_is_refused(tmp_path: Path, case: str) -> None:
    source = tmp_path / "refused.yaml"
    data, where = REFUSED[case]
    source.write_text(yaml_flow({"name": "refused", **data}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    compiled = compile_dvc(source, out)
    assert compiled.exception is None, repr(compiled.exception)
    assert "Traceback" not in compiled.output, compiled.output
    assert compiled.exit_code == 1 and diagnostic_at(compiled.output, "error[E302]", where), compiled.output
    assert not compiled.files and not (out.exists() and any(out.iterdir())), compiled.files
