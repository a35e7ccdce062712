"""What DVC 3 (scripts/engines/dvc.txt) does with `${...}`, commands and params: the facts the DVC
backend builds on, checked on the real DVC so a new pin that changes them fails here first.

Sources (dvc 3.67.1): dvc/parsing/interpolate.py (KEYCRE, to_str, validate_value,
str_interpolate), dvc/parsing/context.py (Context.resolve_str), dvc/parsing/__init__.py
(EntryDefinition.resolve_stage, ForeachDefinition), dvc/stage/run.py (cmd_run, _make_cmd,
get_executable), dvc/dependency/__init__.py (_merge_params), dvc/schema.py (STAGE_DEFINITION).
"""

from __future__ import annotations

import json

import pytest
from dvc_harness import DvcEngine

pytestmark = pytest.mark.engine

PARAMS = """\
seed: 42
lr: 0.1
tiny: 0.00001
big: 12345678901234567890
flag_t: true
flag_f: false
nothing: null
word: yes
octal: 0755
name: hello world
inject: "$(echo INJECTED)"
esc: 'a\\${b}'
opts: {epochs: 3, verbose: true, quiet: false, name: "a b", tags: [x, "y z"], nested: {k: 1}}
a: {b: 7, c: 1}
models: [logreg, stump]
"""

DVC_YAML = r"""
stages:
  facts:
    cmd:
      - printf '%s\n' 'seed=${seed} lr=${lr} tiny=${tiny} big=${big} t=${flag_t} f=${flag_f} none=${nothing} word=${word} octal=${octal} ab=${a.b} ab2=${a[b]}' > facts.txt
      - echo name=${name} inject=${inject} >> facts.txt
      - echo opts ${opts} >> facts.txt
      - printf '%s\n' '1 \${seed}' '2 \\${seed}' '3 \\\${seed}' 'esc=${esc}' >> facts.txt
      - echo "stage=\${DVC_STAGE} shell=$0" >> facts.txt
    outs:
      - facts.txt
  lines:
    cmd: |
      X=1; cd /
      echo "x=[$X] cwd=$(pwd)" > lines.txt
    outs:
      - lines.txt
  paths:
    desc: literal \${HOME}
    cmd: echo hi > 'o\${x}.txt'
    outs:
      - o\${x}.txt
  train:
    foreach: ${models}
    do:
      cmd: echo ${item} > m_${item}.txt
      outs:
        - m_${item}.txt
  tune:
    foreach:
      - {name: lr_slow, lr: 0.01}
      - {name: lr_fast, lr: 0.5}
    do:
      cmd: echo ${item.name} ${item.lr} / ${item} > t_${item.name}.txt
      outs:
        - t_${item.name}.txt
  grid:
    foreach:
      small: {lr: 0.1}
      big: {lr: 0.5}
    do:
      cmd: echo ${key} ${item.lr} > g_${key}.txt
      outs:
        - g_${key}.txt
  tracked:
    cmd: echo tracked > tracked.txt
    params:
      - seed
      - a.b
      - conf.json:
          - x
    outs:
      - tracked.txt
  untracked:
    cmd: echo ${lr} > untracked.txt
    outs:
      - untracked.txt
"""


def test_interpolation_escaping_commands_foreach_and_params(dvc_engine: DvcEngine) -> None:
    repo = dvc_engine.repo(examples=False, files={"dvc.yaml": DVC_YAML, "params.yaml": PARAMS,
                                                  "conf.json": json.dumps({"x": 1, "y": 2})})
    first = repo.repro()
    assert sorted(first.ran) == sorted(["facts", "lines", "paths", "train@logreg", "train@stump", "tune@0", "tune@1",
                                        "grid@small", "grid@big", "tracked", "untracked"]), first.describe()
    facts = (repo.path / "facts.txt").read_text().splitlines()
    assert facts == [
        # scalars: str() of the value, booleans true/false, null "None"; YAML 1.2 (ruamel): `yes` is
        # a string and 0755 is the integer 755; `a[b]` is `a.b`
        "seed=42 lr=0.1 tiny=1e-05 big=12345678901234567890 t=true f=false none=None word=yes octal=755 ab=7 ab2=7",
        # strings go in unquoted: the shell splits them and runs $(...) in them
        "name=hello world inject=INJECTED",
        # a dict in cmd: --key value (dotted keys, true -> bare flag, false left out, lists as nargs,
        # strings shlex-quoted)
        "opts --epochs 3 --verbose --name a b --tags x y z --nested.k 1",
        # DVC drops exactly one backslash before every `${`, after interpolating (values included)
        "1 ${seed}", "2 \\${seed}", "3 \\\\${seed}", "esc=a${b}",
        # the shell is $SHELL -c CMD (the harness pins /bin/sh), with DVC_STAGE in the environment
        "stage=facts shell=/bin/sh",
    ]
    lock = repo.lock()
    assert lock["facts"]["cmd"][2] == ("echo opts --epochs 3 --verbose --name 'a b' --tags x 'y z' --nested.k 1"
                                       " >> facts.txt")
    # A multi-line string is split into lines, each run by its own shell: nothing carries over.
    assert (repo.path / "lines.txt").read_text() == f"x=[] cwd={repo.path}\n"
    assert lock["lines"]["cmd"] == 'X=1; cd /\necho "x=[$X] cwd=$(pwd)" > lines.txt\n'  # as written
    # \${ is unescaped in outs (and desc) as in cmd
    assert (repo.path / "o${x}.txt").is_file() and lock["paths"]["outs"][0]["path"] == "o${x}.txt"
    # foreach: a list of scalars names runs by item, a list of dicts by index, a dict by key;
    # ${item} of a dict in cmd is the --key value form
    assert (repo.path / "t_lr_slow.txt").read_text() == "lr_slow 0.01 / --name lr_slow --lr 0.01\n"
    assert (repo.path / "g_big.txt").read_text() == "big 0.5\n"
    assert (repo.path / "m_stump.txt").read_text() == "stump\n"

    # params: `seed`, nested `a.b`, and a key of another file are tracked; a value used only
    # through ${} is not a param dep, but changes the command (`facts` reads a.b and lr too).
    repo.set_param("a.c", 2)
    repo.set_param("a.b", 8)
    repo.set_param("lr", 0.2)
    assert (repo.path / "params.yaml").read_text() == PARAMS.replace("lr: 0.1", "lr: 0.2").replace(
        "a: {b: 7, c: 1}", "a: {b: 8, c: 2}")
    (repo.path / "conf.json").write_text(json.dumps({"x": 2, "y": 2}))
    assert repo.status() == {"tracked": [{"changed deps": {"params.yaml": {"a.b": "modified"},
                                                           "conf.json": {"x": "modified"}}}],
                             "untracked": ["changed command"], "facts": ["changed command"]}
    assert sorted(repo.repro().ran) == ["facts", "tracked", "untracked"]
    assert repo.lock()["tracked"]["params"] == {"params.yaml": {"seed": 42, "a.b": 8}, "conf.json": {"x": 2}}


# dvc.yaml texts DVC refuses, and what it says.
REFUSED = {
    "unknown variable": ("stages:\n  a:\n    cmd: echo ${HOME}\n", "Could not find 'HOME'"),
    "shell default": ("stages:\n  a:\n    cmd: echo ${X:-none}\n", "Could not find 'X:-none'"),
    "list in cmd": ("stages:\n  a:\n    cmd: echo ${models}\n", "Cannot interpolate data of type 'list'"),
    "dict in deps": ("stages:\n  a:\n    cmd: echo\n    deps:\n      - ${opts}\n",
                     "Cannot interpolate data of type 'dict'"),
    "flow list": ("stages:\n  a:\n    cmd: echo\n    outs: [m_${seed}.txt]\n", "While parsing a flow sequence"),
    "misspelled key": ("stages:\n  a:\n    cmd: echo\n    dep:\n      - x\n", "extra keys not allowed"),
    "colon in plain cmd": ("stages:\n  a:\n    cmd: mkdir -p d && : > d/f\n", "Mapping values are not allowed here"),
}


def test_what_dvc_refuses(dvc_engine: DvcEngine) -> None:
    repo = dvc_engine.repo(examples=False, files={"params.yaml": PARAMS})
    found = {}
    for case, (text, _) in REFUSED.items():
        (repo.path / "dvc.yaml").write_text(text)
        call = repo.dvc_call("stage", "list", check=False)
        found[case] = (call.returncode, call.output)
    wrong = {case: found[case] for case, (_, message) in REFUSED.items()
             if found[case][0] == 0 or message not in found[case][1]}
    assert not wrong, wrong

    # A command list runs in order and stops at the first failure; a param a stage lists must exist.
    (repo.path / "dvc.yaml").write_text(
        'stages:\n  a:\n    cmd:\n      - echo 1 > one.txt\n      - "false"\n      - echo 3 > three.txt\n'
        "  b:\n    cmd: echo b\n    params:\n      - nope\n")
    failed = repo.repro("a", check=False)
    assert not failed.ok and "failed to run: false, exited with 1" in failed.call.output
    assert (repo.path / "one.txt").is_file() and not (repo.path / "three.txt").exists()
    missing = repo.repro("b", check=False)
    assert not missing.ok and "nope" in missing.call.output, missing.describe()
