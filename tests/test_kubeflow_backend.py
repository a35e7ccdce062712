"""What the Kubeflow backend refuses, with the reason, and writes nothing for (no kfp needed: the
refusals come before the module is written). What it builds is checked on the real kfp in
tests/engines/test_kubeflow_engine.py."""

from __future__ import annotations

from pathlib import Path

import pytest

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
