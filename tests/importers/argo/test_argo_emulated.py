"""Argo templates the importer carries as other tasks (compiler/importers/argo/emulated.py and
argo/graph.py): resource templates as kubectl, http templates as curl, containerSets as a dag of
container tasks; and the failFast default, a loss only where a failure can stop a task starting.

The kubectl script is run by real bash against a stand-in `kubectl` on PATH that records its calls
(no cluster here); the curl script is run by the real curl against a local HTTP server."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import textwrap
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from compiler.importers import import_file
from compiler.importers.base import Grade

NASTY = "it's \"quoted\" \\ back $HOME `id` {{x}} ${y} é\nsecond line"


def imported(tmp_path: Path, templates: str, entry: str = "main"):
    text = ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\nspec:\n"
            f"  entrypoint: {entry}\n  templates:\n" + textwrap.indent(textwrap.dedent(templates).lstrip("\n"), "    "))
    path = tmp_path / "wf.yaml"
    path.write_text(text, encoding="utf-8")
    (result,) = import_file(path, "argo")
    return result


def messages(result) -> list[str]:
    return [f"{d.code} {d.message}" for d in result.diagnostics]


def argv(task: dict, outputs: dict[str, Path]) -> list[str]:
    """The task's command as the backends pass it: output placeholders become their files."""
    def resolve(arg: str) -> str:
        return re.sub(r"\$\{\{ outputs\.(\w+) \}\}", lambda m: str(outputs[m.group(1)]), arg)
    return [resolve(a) for a in task["command"]]


# ----------------------------------------------------------------------------- resource -> kubectl

FAKE_KUBECTL = r"""#!/usr/bin/env python3
import json, os, sys
log = os.environ["KUBECTL_LOG"]
call = {"argv": sys.argv[1:], "stdin": sys.stdin.read() if "-f" in sys.argv else ""}
with open(log, "a", encoding="utf-8") as f:
    f.write(json.dumps(call) + "\n")
state = json.loads(os.environ["KUBECTL_STATE"])
if sys.argv[1] == "get":
    jsonpath = next(a for a in sys.argv if a.startswith("jsonpath=")).split("=", 1)[1]
    print(state.get(jsonpath, ""), end="")
else:
    print("job.batch/made-1")
"""

RESOURCE = """
- name: main
  resource:
    action: create
    flags: ["--namespace", "ns 1"]
    successCondition: status.succeeded > 2, status.phase in (Done, Complete)
    failureCondition: status.failed > 0
    manifest: |
      kind: Job
      metadata: {annotations: {note: %s}}
  outputs:
    parameters:
    - name: job-name
      valueFrom: {jsonPath: '{.metadata.name}'}
"""


def run_kubectl(tmp_path: Path, task: dict, state: dict) -> tuple[subprocess.CompletedProcess, list[dict], str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "kubectl").write_text(FAKE_KUBECTL, encoding="utf-8")
    (bin_dir / "kubectl").chmod(0o755)
    out = tmp_path / "job_name"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "KUBECTL_LOG": str(tmp_path / "log"),
           "KUBECTL_STATE": json.dumps(state)}
    done = subprocess.run(argv(task, {"job_name": out}), env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    calls = [json.loads(line) for line in (tmp_path / "log").read_text(encoding="utf-8").splitlines()]
    return done, calls, out.read_text(encoding="utf-8") if out.exists() else ""


def test_a_resource_template_runs_kubectl_with_the_manifest_flags_conditions_and_outputs(tmp_path: Path) -> None:
    result = imported(tmp_path, RESOURCE % json.dumps(NASTY))
    assert result.grade is Grade.REVIEW
    assert any(m.startswith("W602 resource template 'main' runs as a task: kubectl create") for m in messages(result))
    task = result.data["tasks"]["main"]
    assert task["image"] == "bitnami/kubectl:latest" and task["outputs"] == {"job_name": {"type": "str"}}
    state = {"{.status.succeeded}": "3", "{.status.phase}": "Complete", "{.status.failed}": "0",
             "{.metadata.name}": "made-1"}
    done, calls, output = run_kubectl(tmp_path, task, state)
    assert done.returncode == 0, done.stderr
    create = calls[0]
    assert create["argv"] == ["create", "-f", "-", "-o", "name", "--namespace", "ns 1"]
    # the manifest arrives byte for byte ({{x}} is an Argo variable: kept as text, and reported)
    assert create["stdin"] == f"kind: Job\nmetadata: {{annotations: {{note: {json.dumps(NASTY)}}}}}\n\n"
    assert [c["argv"][-1] for c in calls[1:4]] == [
        "jsonpath={.status.failed}", "jsonpath={.status.succeeded}", "jsonpath={.status.phase}"]
    assert output == "made-1"


def test_a_resource_whose_failure_condition_holds_fails_the_task(tmp_path: Path) -> None:
    task = imported(tmp_path, RESOURCE % "x").data["tasks"]["main"]
    done, _, output = run_kubectl(tmp_path, task, {"{.status.failed}": "1"})
    assert done.returncode == 1 and "failure condition holds" in done.stderr
    assert output == ""


def test_a_json_patch_names_its_target_by_flags(tmp_path: Path) -> None:
    task = imported(tmp_path, """
        - name: main
          resource:
            action: patch
            mergeStrategy: json
            flags: [pod, my-pod]
            manifest: '[{"op": "add", "path": "/metadata/labels/x", "value": "y"}]'
        """).data["tasks"]["main"]
    done, calls, _ = run_kubectl(tmp_path, task, {})
    assert done.returncode == 0, done.stderr
    patch = '[{"op": "add", "path": "/metadata/labels/x", "value": "y"}]'
    assert calls[0]["argv"] == ["patch", "--type", "json", "-p", patch, "-o", "name", "pod", "my-pod"]


def test_resource_settings_that_are_not_carried_are_named(tmp_path: Path) -> None:
    result = imported(tmp_path, """
        - name: main
          resource:
            action: create
            setOwnerReference: true
            successCondition: status.x ~ y
            manifest: "kind: Job"
          outputs:
            parameters:
            - {name: fields, valueFrom: {jqFilter: '.status'}}
        """)
    found = messages(result)
    assert "W601 setOwnerReference is not carried: the resource is not deleted with the run" in found
    assert any(m.startswith("W601 resource successCondition 'status.x ~ y' is not carried") for m in found)
    assert any(m.startswith("W601 output parameter 'fields': the jq filter '.status' is not carried") for m in found)


# ----------------------------------------------------------------------------- http -> curl

class Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[dict]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        Recorder.requests.append({"method": self.command, "path": self.path, "header": self.headers.get("X-Note", "").encode("latin-1").decode("utf-8"),
                                  "body": self.rfile.read(length).decode("utf-8")})
        status = int(self.path.rsplit("/", 1)[-1])
        self.send_response(status)
        self.end_headers()
        self.wfile.write(f"answer {status}: google".encode())

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def server():
    if shutil.which("curl") is None:
        pytest.fail("curl is not installed (the http template test runs the real curl)", pytrace=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Recorder.requests = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


HTTP = """
- name: main
  steps:
  - - name: call
      template: http
      arguments: {parameters: [{name: url, value: "%s"}]}
- name: http
  inputs: {parameters: [{name: url}]}
  http:
    url: "{{inputs.parameters.url}}"
    method: POST
    headers: [{name: X-Note, value: %s}]
    body: %s
    successCondition: %s
"""


def run_curl(task: dict) -> subprocess.CompletedProcess:
    return subprocess.run(task["command"], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("status, condition, succeeds", [
    (201, "response.statusCode == 201", True),
    (200, "response.statusCode == 201", False),
    (404, 'response.body contains "google"', True),
    (404, 'response.statusCode < 300 && response.body contains "google"', False),
])
def test_an_http_template_runs_curl_and_checks_the_response(server, tmp_path: Path, status: int, condition: str,
                                                           succeeds: bool) -> None:
    header = "a 'b' $HOME é"
    result = imported(tmp_path, HTTP % (f"{server}/{status}", json.dumps(header), json.dumps(NASTY),
                                         json.dumps(condition)))
    assert result.grade is Grade.REVIEW
    done = run_curl(result.data["tasks"]["call"])
    assert (done.returncode == 0) is succeeds, done.stderr
    assert done.stdout == f"answer {status}: google"  # the body is the task's output (Argo's result)
    assert Recorder.requests == [{"method": "POST", "path": f"/{status}", "header": header, "body": NASTY}]


def test_an_http_template_without_a_condition_needs_a_2xx_status(server, tmp_path: Path) -> None:
    for status, succeeds in ((204, True), (500, False)):
        result = imported(tmp_path, f"""
            - name: main
              http: {{url: "{server}/{status}"}}
            """)
        assert (run_curl(result.data["tasks"]["main"]).returncode == 0) is succeeds


# ----------------------------------------------------------------------------- containerSet -> dag

def test_a_container_set_becomes_its_containers_in_order(tmp_path: Path) -> None:
    result = imported(tmp_path, """
        - name: main
          containerSet:
            containers:
            - {name: a, image: alpine, command: [echo, a]}
            - {name: b, image: alpine, command: [echo, b], dependencies: [a]}
            - {name: c, image: alpine, command: [echo, c], dependencies: [a]}
            - {name: d, image: alpine, command: [echo, d], dependencies: [b, c]}
        """)
    tasks = result.data["tasks"]
    assert {name: (task["command"], task.get("after")) for name, task in tasks.items()} == {
        "a": (["echo", "a"], None), "b": (["echo", "b"], ["a"]), "c": (["echo", "c"], ["a"]),
        "d": (["echo", "d"], ["b", "c"])}
    # and no failFast loss: b and c start together
    assert messages(result) == [("W602 containerSet 'main': its containers run as separate tasks, in the same "
                                 "order, each in its own pod")]
    assert result.diagnostics.warnings[0].loc.line == 8  # containerSet:


def test_a_container_set_sharing_files_is_manual(tmp_path: Path) -> None:
    result = imported(tmp_path, """
        - name: main
          volumes: [{name: w, emptyDir: {}}]
          containerSet:
            volumeMounts: [{name: w, mountPath: /w}]
            containers:
            - {name: a, image: alpine, command: [sh, -c, "echo hi > /w/x"]}
            - {name: b, image: alpine, command: [cat, /w/x], dependencies: [a]}
        """)
    assert result.grade is Grade.MANUAL
    assert "share one pod and its files" in result.diagnostics.errors[0].message


# ----------------------------------------------------------------------------- failFast and suspend

FAIL_FAST = """
- name: main
  dag:
    tasks:
    - {name: a, template: t}
    - {name: b, template: t}
    - {name: c, template: t, dependencies: [a]}
- name: t
  container: {image: alpine, command: ["true"]}
"""


def test_fail_fast_is_a_loss_only_where_a_failure_can_keep_a_task_from_starting(tmp_path: Path) -> None:
    loss = ("W602 dag template 'main': after a task fails, Argo starts no new task (failFast, its default); the "
            "pipeline still runs the tasks that do not depend on the failed one")
    assert messages(imported(tmp_path, FAIL_FAST)) == [loss]  # b failing early keeps c from starting
    assert messages(imported(tmp_path, FAIL_FAST.replace("  dag:\n", "  dag:\n    failFast: false\n"))) == []
    assert messages(imported(tmp_path, FAIL_FAST.replace("{name: b, template: t}",
                                                         "{name: b, template: t, dependencies: [a]}"))) == []


def test_an_output_given_when_someone_resumes_is_manual_not_an_importer_bug(tmp_path: Path) -> None:
    result = imported(tmp_path, """
        - name: main
          steps:
          - - {name: approve, template: approve}
          - - name: use
              template: echo
              arguments: {parameters: [{name: m, value: "{{steps.approve.outputs.parameters.message}}"}]}
        - name: approve
          suspend: {}
          outputs: {parameters: [{name: message, valueFrom: {supplied: {}}}]}
        - name: echo
          inputs: {parameters: [{name: m}]}
          container: {image: alpine, command: [echo, "{{inputs.parameters.m}}"]}
        """)
    assert result.grade is Grade.MANUAL
    assert [d.code for d in result.diagnostics.errors] == ["E602"]
    assert "runs nothing (a suspend" in result.diagnostics.errors[0].message


# ----------------------------------------------------------------------------- run-time withSequence

def test_a_with_sequence_known_at_run_time_loops_over_an_added_task(tmp_path: Path) -> None:
    result = imported(tmp_path, """
        - name: main
          inputs: {parameters: [{name: first}, {name: n}]}
          steps:
          - - name: each
              template: echo
              arguments: {parameters: [{name: m, value: "{{item}}"}]}
              withSequence: {start: "{{inputs.parameters.first}}", count: "{{inputs.parameters.n}}", format: "u%02X"}
        - name: echo
          inputs: {parameters: [{name: m}]}
          container: {image: alpine, command: [echo, "{{inputs.parameters.m}}"]}
        """)
    assert result.grade is Grade.REVIEW, messages(result)
    tasks = result.data["tasks"]
    assert tasks["each"]["foreach"] == "${{ tasks.each-sequence.outputs.items }}"
    assert messages(result) == [("W602 'each' loops over a withSequence known only at run time: the added task "
                                 "'each-sequence' prints the sequence and the loop runs over its output")]
    command = tasks["each-sequence"]["command"]
    assert command[4:8] == ["${{ params.first }}", "", "${{ params.n }}", "u%02X"]
    for first, count, expected in (("9", "3", ["u09", "u0A", "u0B"]), ("", "0", [])):
        out = tmp_path / "items.json"
        argv = [first if a == "${{ params.first }}" else count if a == "${{ params.n }}" else
                str(out) if a == "${{ outputs.items }}" else a for a in command]
        subprocess.run(argv, check=True, timeout=30)
        assert json.loads(out.read_text(encoding="utf-8")) == expected
