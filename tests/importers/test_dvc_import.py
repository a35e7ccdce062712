"""The DVC importer on hand-made dvc.yaml files: interpolation (DVC's rules), foreach / matrix
expansion, the graph from outs -> deps, losses at their lines, errors, --strict; and the round
trip of dagshift's own output checked up to the names of artifacts (which dvc.yaml does not hold)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from compiler.importers import import_file

ROOT = Path(__file__).resolve().parents[2]


def imported(tmp_path: Path, dvc_yaml: str, params: str | None = None, **files: str):
    (tmp_path / "dvc.yaml").write_text(textwrap.dedent(dvc_yaml))
    if params is not None:
        (tmp_path / "params.yaml").write_text(textwrap.dedent(params))
    for name, text in files.items():
        (tmp_path / name.replace("__", "/")).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name.replace("__", "/")).write_text(textwrap.dedent(text))
    (result,) = import_file(tmp_path / "dvc.yaml", "dvc")
    return result


def losses(result) -> list[tuple[str, int | None, str]]:
    return [(d.code, d.loc.line if d.loc else None, d.message) for d in result.diagnostics.sorted()]


def test_a_plain_pipeline_imports_without_loss(tmp_path: Path) -> None:
    result = imported(tmp_path, """\
        stages:
          prepare:
            desc: split the data
            cmd: python prepare.py data/raw.csv
            deps: [prepare.py, data/raw.csv]
            outs: [data/prepared]
          train:
            cmd: python train.py
            deps: [data/prepared/train.csv]
            outs: [model.pkl]
            metrics:
              - metrics.json:
                  cache: false
        """)
    assert result.grade.value == "automatic", losses(result)
    tasks = result.data["tasks"]
    assert tasks["prepare"]["description"] == "split the data"
    assert tasks["train"]["consumes"] == ["prepared"]  # a dep inside an out folder is an edge, as in DVC
    assert result.data["artifacts"]["metrics"] == {"path": "metrics.json", "kind": "metrics"}
    assert result.data["artifacts"]["raw"] == {"path": "data/raw.csv", "external": True}


def test_interpolation_params_become_pipeline_params(tmp_path: Path) -> None:
    result = imported(tmp_path, """\
        stages:
          train:
            cmd: python train.py --lr ${train.lr} --epochs ${epochs} --on ${flag} ${opts} \\${literal} ${{x
            params: [train.lr, epochs]
        """, params="""\
        train: {lr: 0.01}
        epochs: 5
        flag: true
        opts: {depth: 3, name: a b, fast: true, slow: false, layers: [1, 2]}
        """)
    assert result.data is not None, losses(result)
    command = result.data["tasks"]["train"]["command"]
    assert command == ("python train.py --lr ${{ params.train_lr }} --epochs ${{ params.epochs }} --on "
                       "${{ params.flag }} --depth 3 --name 'a b' --fast --layers 1 2 ${literal} $${{x")
    assert result.data["params"] == {"train_lr": 0.01, "epochs": 5, "flag": True}
    assert result.grade.value == "automatic", losses(result)  # the tracked params are read through ${}


def test_whole_value_interpolation_keeps_the_type_and_paths_resolve(tmp_path: Path) -> None:
    result = imported(tmp_path, """\
        vars:
          - data: {dir: data}
        stages:
          get:
            cmd: echo hi > ${data.dir}/a.txt
            outs: [ "${data.dir}/a.txt" ]
          use:
            cmd: cat data/a.txt
            deps: [ "${data.dir}/a.txt" ]
        """)
    assert result.data["tasks"]["use"]["consumes"] == ["a"]
    assert result.data["artifacts"]["a"] == "data/a.txt"


def test_foreach_list_dict_and_list_of_dicts_expand_as_dvc_names_them(tmp_path: Path) -> None:
    result = imported(tmp_path, """\
        stages:
          simple:
            foreach: [a, b, a]
            do:
              cmd: echo ${item}
          mapping:
            foreach: {us: 1, eu: 2}
            do:
              cmd: echo ${key} ${item}
          records:
            foreach:
              - {name: x, n: 1}
              - {name: y, n: 2}
            do:
              cmd: echo ${item.name} ${item.n}
        """)
    tasks = result.data["tasks"]
    assert list(tasks) == ["simple_a", "simple_b", "mapping_us", "mapping_eu", "records_0", "records_1"]
    assert tasks["mapping_eu"]["command"] == "echo eu 2"
    assert tasks["records_1"]["command"] == "echo y 2"
    assert {(c, l) for c, l, _ in losses(result)} == {("W602", 2), ("W602", 6), ("W602", 10)}


def test_matrix_expands_to_the_product(tmp_path: Path) -> None:
    result = imported(tmp_path, """\
        stages:
          train:
            matrix:
              model: [cnn, rnn]
              cfg: [{lr: 1}, {lr: 2}]
            cmd: train ${item.model} ${item.cfg.lr} ${key}
            outs: ["out/${item.model}-${item.cfg.lr}"]
        """)
    tasks = result.data["tasks"]
    assert list(tasks) == ["train_cnn-cfg0", "train_cnn-cfg1", "train_rnn-cfg0", "train_rnn-cfg1"]
    assert tasks["train_rnn-cfg1"]["command"] == "train rnn 2 rnn-cfg1"


def test_losses_are_reported_at_their_lines_and_strict_fails(tmp_path: Path, cli) -> None:
    result = imported(tmp_path, """\
        metrics: [summary.json]
        stages:
          fetch:
            cmd: curl -o data.csv https://x
            frozen: true
            outs:
              - data.csv:
                  persist: true
                  push: false
          use:
            cmd: python use.py
            deps: [data.csv]
            params: [threshold]
            meta: {owner: me}
        """, params="threshold: 3\n")
    found = losses(result)
    assert [(c, l) for c, l, _ in found] == [("W601", 1), ("W602", 5), ("W601", 7), ("W601", 13), ("W601", 14)]
    assert "frozen" in found[1][2] and "persist" in found[2][2] and "threshold" in found[3][2]
    assert result.data["tasks"]["fetch"].get("command") is None  # frozen: DVC does not run it
    run = cli("import", str(tmp_path / "dvc.yaml"), "--from", "dvc", "--strict", "-o", str(tmp_path / "out.yaml"))
    assert run.exit_code == 1 and "with --strict" in run.stdout
    run = cli("import", str(tmp_path / "dvc.yaml"), "--from", "dvc", "-o", str(tmp_path / "out.yaml"))
    assert run.exit_code == 0 and (tmp_path / "out.yaml").is_file()


def test_a_list_cmd_stops_at_the_first_failure_and_wdir(tmp_path: Path) -> None:
    result = imported(tmp_path, """\
        stages:
          one:
            cmd: [mkdir -p out, "cd out; touch a"]
          two:
            wdir: sub
            cmd: python run.py
            outs: [res.txt]
        """)
    tasks = result.data["tasks"]
    assert tasks["one"]["command"] == "mkdir -p out && ( cd out; touch a )"
    assert tasks["two"]["command"] == "cd sub && python run.py"
    assert result.data["artifacts"]["res"] == "sub/res.txt"
    assert ("W602", 5) in [(c, l) for c, l, _ in losses(result)]  # at the wdir


@pytest.mark.parametrize("dvc_yaml, params, reason", [
    ("stages:\n  a:\n    cmd: echo ${missing}\n", None, "could not find 'missing'"),
    ("stages:\n  a:\n    cmd: echo ${lst}\n", "lst: [1, 2]\n", "cannot interpolate data of type 'list'"),
    ("stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o]\n", None, "written by stages"),
    ("stages:\n  a:\n    cmd: x\n    deps: [p]\n    outs: [q]\n  b:\n    cmd: y\n    deps: [q]\n    outs: [p]\n",
     None, "cycle"),
    ("stages:\n  a:\n    cmd: x\n    live: {}\n", None, "does not accept `live`"),
    ("vars: [nothere.yaml]\nstages:\n  a:\n    cmd: x\n", None, "'nothere.yaml' does not exist"),
    ("stages:\n  a:\n    foreach: [1]\n    matrix: {x: [1]}\n    do: {cmd: x}\n", None, "both"),
    ("stages:\n  a: [\n", None, "not valid YAML"),
])
def test_what_dvc_refuses_is_manual_with_the_reason(tmp_path: Path, dvc_yaml: str, params, reason: str) -> None:
    result = imported(tmp_path, dvc_yaml, params)
    assert result.grade.value == "manual"
    assert any(reason in d.message for d in result.diagnostics.errors), losses(result)


def test_no_stages_is_one_task_that_does_nothing(tmp_path: Path) -> None:
    result = imported(tmp_path, "plots:\n  - dvclive/plots\n")
    assert list(result.data["tasks"]) == ["no_stages"]
    assert result.grade.value == "review"
