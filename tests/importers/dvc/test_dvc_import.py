"""The DVC importer on hand-made dvc.yaml files: interpolation (DVC's rules), foreach / matrix
expansion, the graph from outs -> deps, losses at their lines, errors, --strict; and the round
trip of dagshift's own output checked up to the names of artifacts (which dvc.yaml does not hold)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from compiler.importers import import_file, pipeline_yaml

ROOT = Path(__file__).resolve().parents[3]


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



def test_params_a_stage_names_from_its_wdir_are_those_beside_dvc_yaml(tmp_path: Path) -> None:
    """dagshift writes `- ../params.yaml: [seed]` for a stage in a wdir (DVC reads the file from
    there): the param is read through `${}`, no loss."""
    result = imported(tmp_path, """\
        stages:
          train:
            wdir: src
            cmd: python train.py --seed ${seed}
            params:
              - ../params.yaml: [seed]
        """, params="seed: 1\n")
    assert result.grade.value == "automatic", losses(result)
    assert result.data["params"] == {"seed": 1}


LONE = """\
stages:
  prepare:
    cmd: python prepare.py --seed ${seed} > prepared.txt
    deps: [prepare.py]
    outs: [prepared.txt]
  train:
    cmd:
      - echo start
      - python train.py --lr ${train.lr} --seed ${ seed } --hidden-size ${model.hidden-size}
    deps: [prepared.txt]
    outs: [model.pkl]
    params: [train.lr]
  score:
    foreach: [a, b]
    do:
      cmd: python score.py ${item} ${train.lr}
      deps: [model.pkl]
"""


def required_params(data: dict) -> dict[str, dict]:
    return {name: spec for name, spec in data.get("params", {}).items()
            if isinstance(spec, dict) and "default" not in spec}


def test_a_lone_dvc_yaml_reads_what_params_yaml_would_give_as_required_params(tmp_path: Path) -> None:
    result = imported(tmp_path, LONE)  # no params.yaml beside it
    assert result.data is not None, losses(result)
    assert set(required_params(result.data)) == {"seed", "train_lr", "model_hidden_size"}
    assert "type" not in result.data["params"]["train_lr"]  # a DVC value may be any scalar: the one given decides
    assert "${train.lr}" in result.data["params"]["train_lr"]["description"]
    tasks = result.data["tasks"]
    assert tasks["prepare"]["command"] == "python prepare.py --seed ${{ params.seed }} > prepared.txt"
    assert tasks["train"]["command"] == ("echo start && python train.py --lr ${{ params.train_lr }} --seed "
                                         "${{ params.seed }} --hidden-size ${{ params.model_hidden_size }}")
    assert tasks["score_b"]["command"] == "python score.py b ${{ params.train_lr }}"
    # one W601 per param, where it is first used, naming the file DVC reads it from
    required = [(line, message) for code, line, message in losses(result) if "required param" in message]
    assert [(line, message.split("'")[1]) for line, message in required] == [
        (3, "seed"), (9, "train_lr"), (9, "model_hidden_size")]  # by line and column
    assert all("params.yaml next to dvc.yaml, which is absent" in message for _, message in required)
    assert all(code == "W601" for code, _, message in losses(result) if "required param" in message)
    columns = {d.message.split("'")[1]: d.loc.col for d in result.diagnostics if "required param" in d.message}
    lines = LONE.splitlines()
    assert columns == {"seed": lines[2].index("${seed}") + 1, "train_lr": lines[8].index("${train.lr}") + 1,
                       "model_hidden_size": lines[8].index("${model.hidden-size}") + 1}
    assert result.grade.value == "review"


def test_the_required_params_validate_and_compile_once_given(tmp_path: Path, cli) -> None:
    result = imported(tmp_path, LONE)
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(pipeline_yaml(result))
    assert cli("validate", str(pipeline)).exit_code == 0
    run = cli("compile", str(pipeline), "-t", "airflow,prefect,argo", "-o", str(tmp_path / "out"), "-q")
    assert run.exit_code == 0, run.stdout + run.stderr
    # DVC reads every param from params.yaml: the user gives the values the W601s ask for
    run = cli("compile", str(pipeline), "-t", "dvc", "-o", str(tmp_path / "dvc"), "-q")
    assert run.exit_code == 1 and "seed" in run.stdout + run.stderr
    values = {"seed": 7, "train_lr": 0.1, "model_hidden_size": "64"}
    for name, value in values.items():
        result.data["params"][name]["default"] = value
    pipeline.write_text(pipeline_yaml(result))
    run = cli("compile", str(pipeline), "-t", "dvc", "-o", str(tmp_path / "dvc"), "-q")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert yaml.safe_load((tmp_path / "dvc" / "params.yaml").read_text()) == values


def test_a_missing_vars_file_is_named_as_where_the_value_would_come_from(tmp_path: Path) -> None:
    result = imported(tmp_path, """\
        vars:
          - conf/train.yaml
          - conf/lr.yaml:lr
        stages:
          train:
            cmd: python train.py --seed ${seed} --epochs ${epochs} --lr ${lr}
        """, params="seed: 1\n")
    assert result.data is not None, losses(result)
    assert result.data["params"]["seed"] == 1  # read from params.yaml, which is there
    assert set(required_params(result.data)) == {"epochs", "lr"}
    by_param = {m.split("'")[-2]: m for _, _, m in losses(result) if "required param" in m}
    # params.yaml was read; conf/lr.yaml gives only `lr`
    assert "DVC would read it from 'conf/train.yaml' (in `vars`), which is absent" in by_param["epochs"]
    assert "'conf/train.yaml' (in `vars`) or 'conf/lr.yaml' (in `vars`), which are absent" in by_param["lr"]
    # DVC refuses the file while they are missing: each is a loss at its entry
    missing = [(line, m.split("'")[1]) for _, line, m in losses(result) if "is missing" in m]
    assert missing == [(2, "conf/train.yaml"), (3, "conf/lr.yaml")]


def test_a_missing_vars_file_nothing_reads_is_still_a_loss(tmp_path: Path) -> None:
    result = imported(tmp_path, "vars: [nothere.yaml]\nstages:\n  a:\n    cmd: echo hi\n")
    assert result.data is not None and "params" not in result.data
    assert [(c, l) for c, l, _ in losses(result)] == [("W601", 1)]
    assert result.grade.value == "review"


def test_a_lone_dvc_yaml_without_interpolation_needs_no_params_yaml(tmp_path: Path) -> None:
    result = imported(tmp_path, "stages:\n  a:\n    cmd: echo hi\n")
    assert result.grade.value == "automatic", losses(result)


@pytest.mark.parametrize("body, key, reason", [
    ("foreach: ${models}\n    do:\n      cmd: train ${item}", "foreach", "the stages DVC makes of a foreach"),
    ("matrix:\n      model: ${models}\n    cmd: train ${item.model}", "matrix", "the stages DVC makes of a matrix"),
    ("cmd: prep\n    deps: [\"${data.dir}/raw.csv\"]", "deps", "DVC draws the graph from the paths"),
    ("cmd: prep\n    outs: [\"${data.dir}/clean.csv\"]", "outs", "DVC draws the graph from the paths"),
    ("cmd: prep\n    metrics: [\"${report}\"]", "metrics", "DVC draws the graph from the paths"),
    ("cmd: prep\n    wdir: ${dir}", "wdir", "relative to its wdir"),
    ("cmd: prep\n    frozen: ${frozen}", "frozen", "whether the stage runs"),
])
def test_a_missing_value_that_shapes_the_stages_or_the_graph_stays_manual(tmp_path: Path, body: str, key: str,
                                                                          reason: str) -> None:
    result = imported(tmp_path, f"stages:\n  a:\n    {body}\n")
    assert result.grade.value == "manual"
    (error,) = result.diagnostics.errors
    assert error.code == "E602"
    assert f"in `{key}` has no value" in error.message and reason in error.message
    assert "params.yaml next to dvc.yaml, which is absent" in error.message


def test_text_that_is_only_reported_keeps_a_missing_value_as_written(tmp_path: Path) -> None:
    result = imported(tmp_path, """\
        stages:
          train:
            desc: train on ${data.name}
            cmd: python train.py
            params: ["${section}"]
            outs:
              - model.pkl:
                  desc: model for ${data.name}
        """)
    assert result.data is not None, losses(result)
    assert result.data["tasks"]["train"]["description"] == "train on ${data.name}"
    assert result.data["artifacts"]["model"] == {"path": "model.pkl", "description": "model for ${data.name}"}
    assert "params" not in result.data
    assert [(c, l) for c, l, m in losses(result) if "kept as written" in m] == [("W601", 3), ("W601", 5), ("W601", 7)]
    assert any("tracks params ${section}" in m for _, _, m in losses(result))


@pytest.mark.parametrize("pipeline", [
    "examples/parallel.yaml",  # commands read params through `${}`
    # dagshift's runner reads a python task's params from params.yaml itself
    ("name: runner\nparams: {greeting: hello, n: 3}\ntasks:\n  a:\n    python: os.path:join\n"
     "    args: {a: '${{ params.greeting }}', b: x}\n  b:\n    command: echo ${{ params.n }}\n"),
])
def test_dagshift_output_without_its_params_yaml_asks_for_the_params(tmp_path: Path, cli, pipeline: str) -> None:
    if not pipeline.startswith("examples/"):
        (tmp_path / "pipeline.yaml").write_text(pipeline)
        pipeline = str(tmp_path / "pipeline.yaml")
    out = tmp_path / "dvc"
    assert cli("compile", pipeline, "-t", "dvc", "-o", str(out), "-q").exit_code == 0
    given = json.loads((out / "params.yaml").read_text())
    (out / "params.yaml").unlink()
    (result,) = import_file(out / "dvc.yaml", "dvc")
    assert result.data is not None, losses(result)
    assert set(required_params(result.data)) == set(given)
    asked = [m for c, _, m in losses(result) if c == "W601" and "required param" in m]
    assert len(asked) == len(given), asked


@pytest.mark.parametrize("dvc_yaml, params, reason", [
    # params.yaml is there and holds no `missing`: nothing else could give it
    ("stages:\n  a:\n    cmd: echo ${missing}\n", "other: 1\n", "could not find 'missing'"),
    # an item is never a param, whatever file is absent
    ("stages:\n  a:\n    foreach: [{x: 1}]\n    do:\n      cmd: echo ${item.y}\n", None, "could not find 'item.y'"),
    ("stages:\n  a:\n    cmd: echo ${lst}\n", "lst: [1, 2]\n", "cannot interpolate data of type 'list'"),
    ("stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o]\n", None, "written by stages"),
    ("stages:\n  a:\n    cmd: x\n    deps: [p]\n    outs: [q]\n  b:\n    cmd: y\n    deps: [q]\n    outs: [p]\n",
     None, "cycle"),
    ("stages:\n  a:\n    cmd: x\n    live: {}\n", None, "does not accept `live`"),
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


def test_python_tasks_of_earlier_versions_run_by_the_runner_still_import(tmp_path: Path) -> None:
    """Before issue 19 a python task was `python3 .dagshift/run.py TASK`; before issue 21 every
    runner task had its own spec file, .dagshift/tasks/TASK.json, and no digest in its cmd."""
    spec = {"kind": "python", "target": "tinyml.evaluate:main",
            "kwargs": {"model": "models/model.json", "seed": {"$dagshift": ["param", "seed"]}},
            "outputs": {"accuracy": ["float", None]}}
    result = imported(tmp_path, """\
        # DVC pipeline of `old`, generated by dagshift: `dvc repro` (params in params.yaml).
        stages:
          evaluate:
            cmd: python3 .dagshift/run.py evaluate
            deps:
              - models/model.json
              - ".dagshift/run.py"
              - ".dagshift/tasks/evaluate.json"
            params:
              - seed
            outs:
              - ".dagshift/outputs/evaluate/accuracy":
                  cache: false
        """, '{"seed": 42}\n', **{".dagshift__tasks__evaluate.json": json.dumps(spec)})
    assert result.grade.value == "automatic", losses(result)
    task = result.data["tasks"]["evaluate"]
    assert task["python"] == "tinyml.evaluate:main"
    assert task["args"] == {"model": "models/model.json", "seed": "${{ params.seed }}"}
    assert task["outputs"] == {"accuracy": "float"}


RUNNER_PIPELINE = """\
name: runner
params: {greeting: hello}
tasks:
  a: {command: "echo a"}
  b: {command: "echo ${{ params.greeting }} > b.txt", after: [a]}
"""


def _compiled_runner(tmp_path: Path, cli) -> Path:
    (tmp_path / "pipeline.yaml").write_text(RUNNER_PIPELINE)
    out = tmp_path / "dvc"
    assert cli("compile", str(tmp_path / "pipeline.yaml"), "-t", "dvc", "-o", str(out), "-q").exit_code == 0
    return out


def _cmd_line(out: Path, task: str) -> int:
    lines = (out / "dvc.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if f".dagshift/run.py {task} " in line)


def test_runner_specs_are_read_from_the_one_tasks_json(tmp_path: Path, cli) -> None:
    """`python3 .dagshift/run.py TASK DIGEST`: the spec is TASK in .dagshift/tasks.json."""
    out = _compiled_runner(tmp_path, cli)
    assert not (out / ".dagshift" / "tasks").exists()
    (result,) = import_file(out / "dvc.yaml", "dvc")
    assert result.grade.value == "automatic", losses(result)
    assert result.data["tasks"]["b"] == {"command": "echo ${{ params.greeting }} > b.txt", "after": ["a"]}


def test_a_hand_edited_tasks_json_is_read_with_a_warning_at_the_stage(tmp_path: Path, cli) -> None:
    """The runner would refuse a spec whose digest is not the one in the cmd: the import says so."""
    out = _compiled_runner(tmp_path, cli)
    specs = json.loads((out / ".dagshift" / "tasks.json").read_text())
    specs["b"]["command"]["$dagshift"][1] = "echo hi "
    (out / ".dagshift" / "tasks.json").write_text(json.dumps(specs))
    (result,) = import_file(out / "dvc.yaml", "dvc")
    assert result.data["tasks"]["b"]["command"] == "echo hi ${{ params.greeting }} > b.txt"
    found = [(c, line) for c, line, m in losses(result) if "does not match stage 'b'" in m]
    assert found == [("W602", _cmd_line(out, "b"))], losses(result)


def test_a_dvc_yaml_without_its_tasks_json_keeps_the_runner_command_with_a_warning(tmp_path: Path, cli) -> None:
    out = _compiled_runner(tmp_path, cli)
    (out / ".dagshift" / "tasks.json").unlink()
    (result,) = import_file(out / "dvc.yaml", "dvc")
    command = result.data["tasks"]["b"]["command"]
    assert command.startswith("python3 .dagshift/run.py b "), command
    found = [(c, line) for c, line, m in losses(result) if "the spec of task 'b' is not in .dagshift/tasks.json" in m]
    assert found == [("W601", _cmd_line(out, "b"))], losses(result)


@pytest.mark.parametrize("params", ["-_", "._"])
def test_a_params_file_ruamel_cannot_read_is_the_files_problem(tmp_path: Path, params: str) -> None:
    """ruamel takes these scalars for numbers and fails converting them (IndexError, ValueError):
    the params file cannot be read (E602), it is not an importer failure (E603)."""
    result = imported(tmp_path, "stages:\n  a:\n    cmd: echo ${x}\n", params)
    assert [(d.code, "cannot read 'params.yaml'" in d.message) for d in result.diagnostics.errors] == [("E602", True)]
