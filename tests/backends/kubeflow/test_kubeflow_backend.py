"""What the Kubeflow backend refuses, with the reason, and writes nothing for (no kfp needed: the
refusals come before the module is written), and the shape of the module kfp's CLI needs. What it
builds is checked on the real kfp in tests/engines/test_kubeflow_engine.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[3] / "golden"

REFUSED = {
    "one_failed over two tasks (a dsl.If has no `or`)": """\
tasks:
  a: {command: "echo a"}
  b: {command: "echo b"}
  rescue: {command: "echo rescue", after: [a, b], trigger_rule: one_failed}
""",
    "watching a fanned-out task": """\
tasks:
  each: {command: "echo ${{ item }}", foreach: [1, 2]}
  rescue: {command: "echo rescue", after: [each], trigger_rule: one_failed}
""",
    "watching a task in another block": """\
params: {go: true}
tasks:
  a: {command: "echo a"}
  gated: {command: "echo gated", when: "params.go == true"}
  rescue: {command: "echo rescue", after: [a, gated], trigger_rule: all_failed}
""",
    "nothing in after: to watch": """\
tasks:
  a: {command: "echo a > ${{ outputs.v }}", outputs: {v: str}}
  rescue: {command: "echo ${{ tasks.a.outputs.v }}", trigger_rule: one_failed}
""",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_failure_rules_kfp_cannot_watch_are_refused(cli, tmp_path: Path, case: str) -> None:
    source = tmp_path / "refused.yaml"
    source.write_text("name: refused\n" + REFUSED[case], encoding="utf-8")
    out = tmp_path / "out"
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(out))
    assert result.exit_code == 1, result.stdout
    assert "error[E302]: Kubeflow backend: trigger rule" in result.stdout
    assert "refused.yaml:" in result.stdout and "Traceback" not in result.stdout
    assert not out.exists()


def test_a_watched_task_is_not_an_upstream_of_its_fallback(cli, tmp_path: Path) -> None:
    """The fallback waits for the probe, not for the task that may fail (KFP would skip it)."""
    source = tmp_path / "p.yaml"
    source.write_text("name: p\ntasks:\n  a: {command: 'echo a'}\n"
                      "  rescue: {command: 'echo r', after: [a], trigger_rule: one_failed}\n", encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stdout
    module = (tmp_path / "out" / "p.py").read_text()
    assert "rescue_task.after(" not in module
    assert "rescue_watch_a.after(a_task)" in module and "rescue_watch_a.ignore_upstream_failure()" in module
    assert 'with dsl.If(rescue_watch_a.output == "FAILED"):' in module


def test_a_literal_loop_starting_with_null_is_refused(cli, tmp_path: Path) -> None:
    """kfp types a literal loop's variable by its first item, and has no type for null."""
    source = tmp_path / "n.yaml"
    source.write_text("name: n\ntasks:\n  e: {command: 'echo ${{ item }}', foreach: [null, 1]}\n", encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "out"))
    assert result.exit_code == 1 and "null has no KFP type" in result.stdout and "n.yaml:3:" in result.stdout
    assert not (tmp_path / "out").exists()


def test_args_that_need_sh_without_a_command_are_refused(cli, tmp_path: Path) -> None:
    """sh can rebuild mixed arguments only when it knows the command to exec: not the image's entrypoint."""
    source = tmp_path / "e.yaml"
    source.write_text("name: e\nparams: {p: v}\ntasks:\n  c: {image: 'busybox:1', args: ['x=${{ params.p }}']}\n",
                      encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "out"))
    assert result.exit_code == 1 and "the entrypoint is unknown" in result.stdout and "e.yaml:4:" in result.stdout
    assert not (tmp_path / "out").exists()


def _is_pipeline(node: ast.stmt) -> bool:
    """A function decorated with `dsl.pipeline` or `dsl.pipeline(...)`."""
    return isinstance(node, ast.FunctionDef) and any(
        ast.unparse(d.func if isinstance(d, ast.Call) else d) == "dsl.pipeline" for d in node.decorator_list)


def _aliases(tree: ast.Module, function: str) -> list[str]:
    """Module-level names bound to `function` by an assignment."""
    return [ast.unparse(node) for node in tree.body
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Name)
            and node.value.id == function]


def test_every_module_holds_one_pipeline_and_compiles_it() -> None:
    """`kfp dsl compile --py` takes a module only when exactly one module-level name holds a
    pipeline (issue 17: a `PIPELINE = ...` alias made two), and `python MODULE` compiles that same
    function. Read from every golden module (the CLI's own output); the real kfp CLI runs on them in
    tests/engines/test_kubeflow_engine.py."""
    modules = sorted([*GOLDEN.glob("*/kubeflow/*.py"), *GOLDEN.glob("*/O2/kubeflow/*.py")])
    assert modules
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        function = module.stem  # the module is named after its pipeline function
        assert [node.name for node in tree.body if _is_pipeline(node)] == [function], module
        assert _aliases(tree, function) == [], module
        assert ast.unparse(tree.body[-1]) == (f"if __name__ == '__main__':\n"
                                              f"    compiler.Compiler().compile({function}, '{function}.yaml')"), module


def _module(cli, tmp_path: Path, text: str, *options: str) -> str:
    source = tmp_path / "p.yaml"
    source.write_text("name: p\n" + text, encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "out"), "-q", *options)
    assert result.exit_code == 0, result.stdout
    return (tmp_path / "out" / "p.py").read_text(encoding="utf-8")


VOLUME_PIPELINE = """\
workdir: /srv/p
tasks:
  a: {command: "echo a > out.txt", alerts: [{on: failure, command: "echo failed"}]}
  b: {python: "m:f", after: [a]}
"""


def test_a_volume_is_mounted_at_the_workdir_of_every_task(cli, tmp_path: Path) -> None:
    module = _module(cli, tmp_path, VOLUME_PIPELINE, "--option", "volume=shared-data")
    assert "from kfp import kubernetes\n" in module
    for variable in ("a_task", "a_alerts_task", "b_task"):  # a's alerts task runs in the workdir too
        assert f'kubernetes.mount_pvc({variable}, pvc_name="shared-data", mount_path="/srv/p")' in module, variable


def test_without_a_workdir_the_volume_is_the_working_directory(cli, tmp_path: Path) -> None:
    module = _module(cli, tmp_path, "tasks:\n  a: {command: 'echo a'}\n", "--option", "volume=data")
    assert 'kubernetes.mount_pvc(a_task, pvc_name="data", mount_path="/mnt/data")' in module
    assert "cd -- /mnt/data || exit" in module


def test_kfp_kubernetes_is_imported_only_when_used(cli, tmp_path: Path) -> None:
    assert "from kfp import kubernetes" not in _module(cli, tmp_path, VOLUME_PIPELINE)


@pytest.mark.parametrize("claim", ["Data", "data_1", "-data", "data.", "a" * 254])
def test_a_claim_name_kubernetes_refuses_is_an_error(cli, tmp_path: Path, claim: str) -> None:
    source = tmp_path / "p.yaml"
    source.write_text("name: p\n" + VOLUME_PIPELINE, encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "out"), "--option", f"volume={claim}")
    assert result.exit_code == 1 and "error[E303]" in result.stdout and "--option volume=CLAIM" in result.stdout
    assert not (tmp_path / "out").exists()


def test_component_names_are_plain_unless_they_clash(cli, tmp_path: Path) -> None:
    """An input or output keeps its own name, prefixed only when two would clash (param and
    artifact `model`), the component's code uses it (`str`, read by the _text helper), or it looks
    prefixed (`p_x`): the importer strips one prefix. One python output is a plain return value."""
    module = _module(cli, tmp_path, """\
params: {model: m, str: s, p_x: 1}
artifacts: {model: model.bin}
tasks:
  train:
    python: "m:train"
    args: {kind: "${{ params.model }}", out: "${{ artifacts.model }}", label: "a ${{ params.str }}",
           x: "${{ params.p_x }}"}
    produces: [model]
    outputs: {accuracy: float}
""")
    assert "def train(\n    p_model: str, p_str: str, p_p_x: int, a_model: dsl.Output[dsl.Dataset]\n) -> float:" in module
    assert "    accuracy = train(\n" in module and "    return accuracy\n" in module
    assert "NamedTuple" not in module
    assert "train_task.set_display_name" not in module  # kfp names the task `train` itself


def test_a_display_name_is_set_where_kfp_would_name_the_task_otherwise(cli, tmp_path: Path) -> None:
    module = _module(cli, tmp_path, "tasks:\n  pick_best: {command: 'echo a'}\n  Upper: {command: 'echo b'}\n")
    assert 'pick_best_task.set_display_name("pick_best")' in module  # kfp: pick-best
    assert 'Upper_task.set_display_name("Upper")' in module  # kfp: upper


def test_a_reader_of_a_refused_task_is_still_named(cli, tmp_path: Path) -> None:
    """A task's component names are known before any task is built: a reader of a task refused
    with E302 is still written, and the refusal is the only error."""
    source = tmp_path / "r.yaml"
    source.write_text("""\
name: r
params: {go: true, n: 1}
artifacts: {x: x.txt}
tasks:
  a: {python: "m:f", args: {out: "${{ artifacts.x }}"}, produces: [x], outputs: {v: int},
      when: "params.go == true or params.n > 1"}
  b: {python: "m:g", args: {src: "${{ artifacts.x }}", v: "${{ tasks.a.outputs.v }}"}, consumes: [x]}
""", encoding="utf-8")
    result = cli("compile", str(source), "-t", "kubeflow", "-o", str(tmp_path / "out"))
    assert result.exit_code == 1 and "Traceback" not in result.stdout + result.traceback_text
    assert result.stdout.count("error[") == 1 and "has a part KFP cannot express" in result.stdout


def test_text_kfps_launcher_reads_in_values_is_refused(tmp_path) -> None:
    """KFP's launcher substitutes `{{$...}}` inside parameter values and loop items (no escape):
    a default or a literal item holding `{{$` is E302 at its field."""
    from compiler.api import check_text
    from compiler.compile import compile_loaded

    loaded = check_text(
        "name: p\nparams: {p0: 'a{{$}}', p1: [x, '{{$.pipeline_job_name}}']}\n"
        "tasks:\n  t: {foreach: ['{{$}}', b], command: 'echo ${{ item }}'}\n", "p.yaml")
    result = compile_loaded(loaded, ["kubeflow"])
    found = sorted((d.code, ".".join(map(str, d.path))) for d in result.diagnostics.errors)
    assert found == [("E302", "params.p0.default"), ("E302", "params.p1.default"), ("E302", "tasks.t.foreach")]
