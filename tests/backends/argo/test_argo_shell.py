"""Shell tasks run with bash on Argo, as on every backend: bash-only text (`[[ ]]`, arrays,
`${x^^}`, `pipefail`) does what it does under bash once Argo has substituted the workflow (the
container's argv, run here by a real bash; /bin/sh may be dash), whether the command is one
argument or pieces joined again around a `{{`. `dagshift import` reads the bash forms and the `sh`
forms of earlier versions."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml
from argo_model import load, main_spec, params_of, resolve_task

from compiler.importers import import_file, pipeline_yaml

BASH_ONLY = ('set -o pipefail; words=(a "${{ params.who }}" c); [[ ${#words[@]} == 3 ]] && '
             'echo "${words[1]^^}"')


def compile_tasks(cli, tmp_path: Path, tasks: dict) -> tuple[dict, Path]:
    source = tmp_path / "bash.yaml"
    source.write_text(yaml.safe_dump({"name": "bash", "params": {"who": "argo"}, "tasks": tasks}), encoding="utf-8")
    out = tmp_path / "out"
    result = cli("compile", str(source), "-t", "argo", "-o", str(out), "-q")
    assert result.exit_code == 0, result.stdout
    return main_spec(load((out / "workflow.yaml").read_text(encoding="utf-8"))), out


@pytest.mark.parametrize("command, printed", [
    (BASH_ONLY, "ARGO\n"),
    (BASH_ONLY + "; echo '{{'", "ARGO\n{{\n"),  # cut around the `{{` and joined again by bash
])
def test_a_bash_only_command_runs_as_bash_runs_it(cli, tmp_path: Path, command: str, printed: str) -> None:
    spec, _ = compile_tasks(cli, tmp_path, {"t": {"command": command}})
    container = resolve_task(spec, "t", params_of(spec))["container"]
    assert container["command"][0] == "bash"
    ran = subprocess.run(container["command"] + container["args"], capture_output=True, text=True, timeout=30,
                         check=False)
    assert (ran.returncode, ran.stdout) == (0, printed), ran.stderr


def test_shell_tasks_sharing_a_template_and_alerts_run_with_bash(cli, tmp_path: Path) -> None:
    spec, _ = compile_tasks(cli, tmp_path, {"a": {"command": "echo a", "alerts": [{"on": "failure",
                                                                                    "command": "echo {{x"}]},
                                            "b": {"command": "echo b"}})
    containers = [t["container"] for t in spec["templates"] if "container" in t]
    assert len(containers) == 2 and all(c["command"][0] == "bash" for c in containers), containers


def test_a_container_command_keeps_sh_for_images_without_bash(cli, tmp_path: Path) -> None:
    spec, _ = compile_tasks(cli, tmp_path, {"t": {"image": "alpine:3.20", "command": "echo", "args": ["x"]}})
    assert resolve_task(spec, "t", {})["container"]["command"] == ["sh", "-c", 'echo "$@"', "sh"]


@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_both_shell_forms_import_back(tmp_path: Path, shell: str) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(textwrap.dedent(f"""\
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {{generateName: old-, labels: {{app.kubernetes.io/managed-by: dagshift}}}}
        spec:
          entrypoint: main
          templates:
            - name: main
              dag: {{failFast: false, tasks: [{{name: one, template: one}}, {{name: joined, template: joined}}]}}
            - name: one
              container: {{image: python:3.12-slim, command: [{shell}, -c], args: ["echo 1"], workingDir: /workspace}}
            - name: joined
              container:
                image: python:3.12-slim
                command: [{shell}, -c, 'IFS=; exec {shell} -c "$*"', {shell}]
                args: ["echo '{{", "{{'"]
                workingDir: /workspace
        """), encoding="utf-8")
    (imported,) = import_file(path, "argo")
    tasks = yaml.safe_load(pipeline_yaml(imported))["tasks"]
    assert tasks == {"one": {"command": "echo 1"}, "joined": {"command": "echo '{{'"}}
