"""User text reaches the shell under the real DVC 3 (scripts/engines/dvc.txt) exactly as written.

DVC reads `${...}` in every string of a stage (and then drops one backslash before every `${`),
runs each LINE of a `cmd` string in its own `$SHELL -c` (dvc/stage/run.py: `cmd.splitlines()`),
and reads some paths as remote URLs; YAML and the shell add their own rules. The DVC backend must
keep all of that away from user text (compiler/backends/dvc.py: a direct `cmd` only for text DVC
and the shell read as written, everything else through `.dagshift/run.py`).

Hypothesis draws texts salted with what breaks DVC, YAML and the shell (`${x}`, `\\${x}`,
`\\\\${x}`, `${{ params.p0 }}` and the `$${{` escape, `$HOME`, `$(id)`, backticks, quotes,
backslashes, `#`, ` #`, `: `, `- `, spaces at either end, `@`, `%`, `{{ }}`, line breaks of every
kind `str.splitlines` knows, astral, combining and right-to-left characters, ...). NUL never: no
command line, environment or file name can hold one. Each example is ONE pipeline of a dozen
tasks, compiled through the real CLI and run by ONE `dvc repro --keep-going` in a fresh git + DVC
repository (dvc_harness.py); every task writes what it received to a file under out/, and the
bytes must be the text the pipeline means (docs/pipeline-syntax.md):

- lit0..lit2: `printf '%s' <the drawn text, shell single-quoted> > out/litN.txt`, every `${{` in
  the command escaped as `$${{` so the pipeline text is that command exactly; the file must hold
  the drawn text. Line breaks are drawn too: inside single quotes the shell keeps them, so the
  command is one valid shell command whatever the text holds;
- par: `printf '%s' 'A${{ params.p0 }}B|${{ params.n }}' > out/par.txt`, A, B and the str
  default of p0 drawn without `'` (the test's own quoting), so DVC's `${p0}` (or the runner) and
  then the shell must give exactly A + p0 + B;
- env / py / argv (through the runner): an env value, python kwargs (a tiny module, inj_probe.py,
  dumps them as JSON) and exec-form arguments, all drawn with `${{ params.* }}` placeholders;
- pyd (a python stage calling the function in its cmd, `python3 -c '...'`): kwargs drawn with
  only the number param's placeholder, plus a key Python cannot name; the stage must be that
  direct form, depend on inj_probe.py, and the function must receive the values exactly;
- make_a / copy_a and make_b / copy_b: an artifact whose PATH is drawn (quotes, `#`, colons,
  spaces, `$`, backslashes, unicode; never `${`, refused with E302 below) is written by one task
  and copied to out/ by another, once through `'${{ artifacts.a }}'` (the path without `'`) and
  once through a shell-quoted literal (any path); dvc.lock must show the path, as written, as the
  producer's out and the consumer's dep with the same hash: the DVC edge exists;
- fan: a foreach over a literal list of drawn items (no `'`, no `${`), each run appending its
  item to out/fan.txt;
- vprod / vcons: a value output holding drawn text, passed on through the runner;
- every task has a drawn description, which DVC itself must read back as written.

Texts DVC cannot carry (`${` in an artifact path or a literal foreach item) must be refused with
E302 and nothing written. The bugs this file found (fixed) keep a minimal test each (REGRESSIONS).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from dvc_harness import DvcEngine, DvcRepo, Repro, compile_dvc
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from test_airflow_injection import _escape_stray_placeholders, yaml_flow

from compiler.placeholders import Ref, parse_ref
from compiler.placeholders import parse as parse_placeholders

pytestmark = [pytest.mark.engine, pytest.mark.slow]

PROBE = "inj_probe"
PROBE_SOURCE = '''\
import json


def dump(path, **kwargs):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(kwargs, handle, ensure_ascii=True)
'''
ARGV_WRITER = ("import json, sys; open(sys.argv[1], 'w', encoding='utf-8')"
               ".write(json.dumps(sys.argv[2:], ensure_ascii=True))")
ODD_KEY = "it's a \\ ${key} \u00e9"  # an argument Python cannot name: `**{...}`
REPO_FILES = {f"{PROBE}.py": PROBE_SOURCE, "out/.keep": ""}
# DVC's own reading of dvc.yaml (interpolation included): every stage's description as DVC has it.
DESCRIPTIONS = ("import json\nfrom dvc.repo import Repo\nwith Repo('.') as repo:\n"
                "    print(json.dumps({s.addressing: s.desc for s in repo.index.stages}))")

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
PLACEHOLDERS = ["${{ params.p0 }}", "${{ params.p1 }}", "${{ params.n }}", "${{params.p1}}", "${{  params.n\t}}"]
TAILS = ["", " ", "\n", "\\", "$", "'", "#"]

_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")  # no surrogates, no NUL
_pieces = st.one_of(st.sampled_from(NASTY), st.text(_chars, max_size=6))


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
    """Text whose only placeholders are the int param's: a python stage says them in its cmd."""
    pieces = draw(st.lists(st.one_of(_pieces, st.just("${{ params.n }}")), max_size=7))
    return _escape_stray_placeholders("".join(pieces) + draw(st.sampled_from(TAILS)))


def no_quote(text: str) -> str:
    """Drawn text for inside the test's own single quotes."""
    return text.replace("'", "\u02bc")


def before_placeholder(text: str) -> str:
    """Literal text the pipeline syntax can put right before a placeholder: an unclosed `${{`
    would swallow the placeholder, and a `$` right before it would make it the `$${{` escape."""
    text = text.replace("${{", "${ {")
    return text + " " if text.endswith("$") else text


_path_chars = st.characters(exclude_categories=["Cs"], exclude_characters="\x00/" + LINE_BREAKS)
_PATH_PIECES = ["'", '"', "#", " #", ": ", ":", "x:y", "c:", "- ", "-", " ", "@", "%", "$", "$HOME", "$(id)", "`id`",
                "\\", "*", "?", "[a]", "~", "!", "&", "{{ x }}", "{", "}", ".", "é", "e\u0301", "\u05d0", "\u202e",
                "\ufeff", "\U0001f600", "中文", ".txt"]


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


file_names = st.lists(st.one_of(st.sampled_from(_PATH_PIECES), st.text(_path_chars, max_size=6)),
                      min_size=1, max_size=6).map("".join).map(file_name)


# ----------------------------------------------------------------------------- the batch


@dataclass
class Batch:
    """One pipeline's drawn texts (see the module docstring for the tasks using them)."""

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
    direct_kwargs: list[str] = field(default_factory=lambda: ["${{ params.n }}"])  # pyd: only n placeholders

    @property
    def params(self) -> dict[str, Any]:
        return {"p0": self.p0, "p1": self.p1, "n": self.n}

    @property
    def path_a(self) -> str:
        return f"art a/{self.name_a}"

    @property
    def path_b(self) -> str:
        return f"art b/{self.name_b}"


@st.composite
def batches(draw) -> Batch:
    return Batch(
        p0=draw(raw_texts().map(no_quote)),
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
        content_b=draw(raw_texts()),
        a_via_env=draw(st.booleans()),
        items=draw(st.lists(raw_texts().map(no_quote).map(lambda t: t.replace("${", "$_{")), min_size=1,
                            max_size=3)),
        value=draw(raw_texts().map(before_placeholder)),
        descriptions=draw(st.lists(raw_texts(), min_size=1, max_size=3)),
        direct_kwargs=draw(st.lists(number_texts(), min_size=1, max_size=3)),
    )


# ----------------------------------------------------------------------------- pipeline text


class Ph(str):
    """A placeholder among the parts of a pipeline text: Ph("params.p0")."""


_PLACEHOLDER_LIKE = re.compile(r"\$?\$\{\{.*?\}\}", re.DOTALL)  # compiler.placeholders._PLACEHOLDER


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


def meant(text: str, params: dict[str, Any], *, whole_value: bool = False) -> Any:
    """What a text means (docs/pipeline-syntax.md): a whole-value placeholder in python args
    keeps its type, any other placeholder is the value as text."""
    segments, errors = parse_placeholders(text)
    assert not errors, text
    if whole_value and len(segments) == 1 and isinstance(segments[0], Ref):
        return params[segments[0].name]
    return "".join(s if isinstance(s, str) else str(params[s.name]) for s in segments)


def pipeline_data(batch: Batch) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    for index, literal in enumerate(batch.literals):
        tasks[f"lit{index}"] = {"command": template(f"printf '%s' {sq(literal)} > out/lit{index}.txt")}
    before, after = batch.around
    tasks["par"] = {"command": template("printf '%s' '" + before, Ph("params.p0"), after + "|", Ph("params.n"),
                                        "' > out/par.txt")}
    tasks["env"] = {"command": "printf '%s' \"$V\" > out/env.txt", "env": {"V": batch.env}}
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
    tasks["fan"] = {"foreach": list(batch.items), "command": template("printf '%s\\0' '", Ph("item"),
                                                                      "' >> out/fan.txt")}
    tasks["vprod"] = {"command": template(f"printf '%s' {sq(batch.value)} > ", Ph("outputs.o")),
                      "outputs": {"o": "str"}}
    tasks["vcons"] = {"command": "printf '%s' \"$V\" > out/vcons.txt", "env": {"V": "${{ tasks.vprod.outputs.o }}"}}
    for index, task in enumerate(tasks.values()):
        task["description"] = batch.descriptions[index % len(batch.descriptions)]
    return {
        "name": "inject",
        "params": {"p0": {"type": "str", "default": batch.p0}, "p1": {"type": "str", "default": batch.p1},
                   "n": {"type": "int", "default": batch.n}},
        "artifacts": {"a": batch.path_a, "b": batch.path_b},
        "tasks": tasks,
    }


def expected_files(batch: Batch) -> dict[str, bytes]:
    """out/ file -> the bytes it must hold."""
    params = batch.params
    before, after = batch.around
    value = batch.value.removesuffix("\n")  # a value output loses one trailing newline
    files = {f"out/lit{index}.txt": literal for index, literal in enumerate(batch.literals)}
    files.update({
        "out/par.txt": f"{before}{batch.p0}{after}|{batch.n}",
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
        batch.path_a: batch.content_a,
        batch.path_b: batch.content_b,
    })
    return {name: text.encode("utf-8") for name, text in files.items()}


# ----------------------------------------------------------------------------- the check


def assert_well_formed(batch: Batch) -> None:
    """What the strategies guarantee (the hand-picked batches are written by hand)."""
    assert not any("'" in text for text in (batch.p0, *batch.around, batch.name_a, *batch.items)), batch
    assert all(before_placeholder(text) == text for text in (*batch.around, batch.content_a, batch.value)), batch
    assert file_name(batch.name_a) == batch.name_a and file_name(batch.name_b) == batch.name_b, batch
    assert not any("${" in item for item in batch.items), batch
    texts = [batch.p0, batch.p1, *batch.literals, *batch.around, batch.env, *batch.kwargs, *batch.argv, batch.name_a,
             batch.name_b, batch.content_a, batch.content_b, *batch.items, batch.value, *batch.descriptions]
    assert not any("\x00" in text for text in texts), batch
    assert not any(parse_placeholders(text)[1] for text in (batch.env, *batch.kwargs, *batch.argv)), batch


def compiled_repo(engine: DvcEngine, data: dict[str, Any]) -> DvcRepo:
    work = engine.scratch_dir("dvc-injection")
    source = work / "inject.yaml"
    source.write_text(yaml_flow(data) + "\n", encoding="utf-8")
    (work / f"{PROBE}.py").write_text(PROBE_SOURCE, encoding="utf-8")  # beside the pipeline: a dep of pyd
    compiled = compile_dvc(source, work / "out")
    assert compiled.exception is None, f"{compiled.exception!r}\n{compiled.output}"
    assert compiled.exit_code == 0 and compiled.files, compiled.output
    return engine.repo(work / "out", examples=False, files=REPO_FILES)


def dvc_descriptions(repo: DvcRepo) -> dict[str, str | None]:
    process = subprocess.run([str(repo.engine.python), "-c", DESCRIPTIONS], cwd=repo.path, env=repo.engine.env,
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
    repo = compiled_repo(engine, data)
    result = repo.repro("--keep-going", check=False)
    problems: list[str] = []
    if not result.ok:
        problems.append(f"dvc repro failed:\n{result.describe()}")
    stages = sorted([t for t in data["tasks"] if t != "fan"] + [f"fan@{i}" for i in range(len(batch.items))])
    if sorted(result.ran) != stages:
        problems.append(f"stages run: {sorted(result.ran)}, expected {stages}")
    compare_files(repo, expected_files(batch), problems)

    fan = repo.path / "out" / "fan.txt"
    got = sorted(fan.read_bytes().split(b"\0")[:-1]) if fan.is_file() else None
    if got != sorted(item.encode("utf-8") for item in batch.items):
        problems.append(f"fan: items {batch.items!r}, out/fan.txt {fan.read_bytes() if fan.is_file() else None!r}")

    check_artifact_edges(repo, result, batch, problems)
    check_direct_python_stage(repo, problems)

    descriptions = dvc_descriptions(repo)
    for task_id, task in data["tasks"].items():
        for stage in [s for s in stages if s.split("@")[0] == task_id]:
            if descriptions.get(stage) != (task["description"] or None):
                problems.append(f"{stage}: DVC reads the description {descriptions.get(stage)!r}, "
                                f"expected {task['description']!r}")
    assert not problems, f"repository: {repo.path}\n" + "\n".join(problems)


def check_direct_python_stage(repo: DvcRepo, problems: list[str]) -> None:
    """pyd calls the function in its cmd (no runner) and depends on the module's file."""
    stage = repo.read_yaml("dvc.yaml")["stages"]["pyd"]
    if not str(stage["cmd"]).startswith("python3 -c ") or stage.get("deps") != [f"{PROBE}.py"]:
        problems.append(f"pyd is not a direct python stage depending on {PROBE}.py: {stage}")


def check_artifact_edges(repo: DvcRepo, result: Repro, batch: Batch, problems: list[str]) -> None:
    """Each artifact path, as written, is the producer's out and the consumer's dep (same hash),
    and the producer ran first: DVC has the edge."""
    lock = repo.lock()
    for name, path, producer, consumer in (("a", batch.path_a, "make_a", "copy_a"),
                                           ("b", batch.path_b, "make_b", "copy_b")):
        outs = {o["path"]: o.get("md5") for o in lock.get(producer, {}).get("outs", [])}
        deps = {d["path"]: d.get("md5") for d in lock.get(consumer, {}).get("deps", [])}
        if path not in outs or path not in deps or outs[path] != deps[path]:
            problems.append(f"artifact {name} {path!r}: dvc.lock outs of {producer} {outs}, deps of {consumer} {deps}")
        if producer in result.ran and consumer in result.ran and result.ran.index(producer) > result.ran.index(consumer):
            problems.append(f"artifact {name}: {consumer} ran before {producer}: {result.ran}")


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
                   "line 1\nline 2\r\n\u2028\x85 ${x} \\${x} '\"'"],
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


# Real bugs this file found (since fixed in compiler/backends/dvc.py), each as the smallest
# pipeline that showed it.
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


@pytest.mark.parametrize("case", list(REGRESSIONS))
def test_regression(dvc_engine: DvcEngine, case: str) -> None:
    data, want = REGRESSIONS[case]
    data = {"name": "bug", **data}
    data["params"] = {name: {"type": "str", "default": value} for name, value in data.get("params", {}).items()}
    repo = compiled_repo(dvc_engine, data)
    result = repo.repro("--keep-going", check=False)
    problems = [] if result.ok else [f"dvc repro failed:\n{result.describe()}"]
    compare_files(repo, want, problems)
    assert not problems, f"{case} (repository {repo.path}):\n" + "\n".join(problems)


# Texts DVC would read as its own interpolation where no runner can step in: refused, nothing written.
REFUSED = {
    "artifact path with ${": {"artifacts": {"a": "data/${HOME}.csv"},
                              "tasks": {"t": {"command": "touch 'data/${HOME}.csv'", "produces": ["a"]}}},
    "external artifact path with \\${": {"artifacts": {"a": {"path": "a\\${x}", "external": True}},
                                "tasks": {"t": {"command": "echo", "consumes": ["a"]}}},
    "foreach item with ${": {"tasks": {"t": {"foreach": ["ok", "it's ${x}"], "command": "echo ${{ item }}"}}},
    "foreach mapping item with ${": {"tasks": {"t": {"foreach": [{"k": "$${x}"}], "command": "echo ${{ item.k }}"}}},
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_text_dvc_would_interpolate_is_refused(tmp_path: Path, case: str) -> None:
    source = tmp_path / "refused.yaml"
    source.write_text(yaml_flow({"name": "refused", **REFUSED[case]}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    compiled = compile_dvc(source, out)
    assert compiled.exception is None, repr(compiled.exception)
    assert "Traceback" not in compiled.output, compiled.output
    assert compiled.exit_code == 1 and "error[E302]" in compiled.output, compiled.output
    assert not compiled.files and not (out.exists() and any(out.iterdir())), compiled.files
