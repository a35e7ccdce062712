"""The Kubeflow Pipelines harness itself, on hand-written modules (tests/engines/fixtures), before
any generated one goes through it: kfp_inspect.py must report every construct the kfp backend
emits, and reject what kfp's protobuf schema rejects; kfp_local_runner.py must run a
python-components pipeline on kfp.local and report its outputs, and report a failure as one.

Both scripts run in the kubeflow engine venv (scripts/engines/kubeflow.txt: kfp 2.17.3 with
kfp-kubernetes 2.17.3). Nothing is mocked: the real SDK compiles, parses and runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from engine_harness import RUN_TIMEOUT

pytestmark = pytest.mark.engine

HERE = Path(__file__).resolve().parent
INSPECT = HERE / "kfp_inspect.py"
LOCAL_RUNNER = HERE / "kfp_local_runner.py"
FIXTURES = HERE / "fixtures"
SAMPLE = FIXTURES / "kfp_sample.py"
LOCAL_SAMPLE = FIXTURES / "kfp_local_sample.py"
LOCAL_HELPER = FIXTURES / "kfp_local_helper.py"


def _env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_script(python: Path, script: Path, *args: str, cwd: Path) -> tuple[int, dict[str, Any], str]:
    """(exit code, the JSON report on the last stdout line, stderr) of SCRIPT in the engine venv."""
    try:
        process = subprocess.run([str(python), str(script), *args], capture_output=True, text=True, check=False,
                                 env=_env(), cwd=cwd, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{script.name}: no result after {RUN_TIMEOUT}s") from None
    lines = process.stdout.strip().splitlines()
    assert lines, f"{script.name} printed no report (exit {process.returncode}):\n{process.stderr[-4000:]}"
    try:
        report = json.loads(lines[-1])
    except ValueError:
        raise AssertionError(f"{script.name}: the last stdout line is not JSON:\n{process.stdout[-2000:]}\n"
                             f"{process.stderr[-4000:]}") from None
    return process.returncode, report, process.stderr


def pipeline_name(key: str) -> str:
    """The pipeline's name of a generated component's input or output: dagshift prefixes one (p_,
    a_, v_, o_, k_) only where names would clash or a name looks prefixed, and once."""
    return key[2:] if re.match(r"[paovk]_", key) else key


def inspect_module(python: Path, module: Path, out: Path) -> tuple[int, dict[str, Any], str]:
    return run_script(python, INSPECT, str(module), str(out), cwd=out.parent)


def inspect_yaml(python: Path, path: Path) -> tuple[int, dict[str, Any], str]:
    return run_script(python, INSPECT, "--parse", str(path), cwd=path.parent)


def edit_yaml(python: Path, source: Path, target: Path, code: str) -> None:
    """Copy SOURCE to TARGET through PyYAML in the engine venv, running CODE on `docs` in between."""
    script = ("import sys, yaml\n"
              "docs = list(yaml.safe_load_all(open(sys.argv[1], encoding='utf-8')))\n"
              f"{code}\n"
              "yaml.safe_dump_all(docs, open(sys.argv[2], 'w', encoding='utf-8'), sort_keys=False)\n")
    process = subprocess.run([str(python), "-c", script, str(source), str(target)], capture_output=True, text=True,
                             check=False, env=_env(), timeout=RUN_TIMEOUT)
    assert process.returncode == 0, f"editing {source.name} failed:\n{process.stderr[-3000:]}"


# ----------------------------------------------------------------------------- kfp_inspect.py on the sample


@pytest.fixture(scope="module")
def sample(kubeflow_python: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """kfp_inspect.py's report on fixtures/kfp_sample.py, and the YAML it compiled."""
    out = tmp_path_factory.mktemp("kfp-sample") / "kfp_sample.yaml"
    code, report, stderr = inspect_module(kubeflow_python, SAMPLE, out)
    assert code == 0 and report["ok"], f"kfp_inspect.py failed on {SAMPLE.name} (exit {code}): {report}\n{stderr}"
    assert out.is_file()
    return report, out


@pytest.fixture(scope="module")
def tasks(sample: tuple[dict[str, Any], Path]) -> dict[str, dict[str, Any]]:
    """The sample's tasks by their path: 'exit-handler-1/for-loop-2/square'."""
    found = {"/".join([*task["dag"], task["task"]]): task for task in sample[0]["tasks"]}
    assert len(found) == len(sample[0]["tasks"]), "two tasks with one path"
    return found


def test_report_describes_the_compiled_pipeline(sample: tuple[dict[str, Any], Path]) -> None:
    report, out = sample
    assert report["kfp"] == "2.17.3"
    assert report["yaml"] == str(out)
    assert report["documents"] == 2  # PipelineSpec + PlatformSpec (kfp-kubernetes, PipelineConfig)
    assert report["pipeline"] == {"name": "kfp-sample", "description": "every construct the kfp backend uses",
                                  "displayName": None, "schemaVersion": "2.1.0", "sdkVersion": "kfp-2.17.3",
                                  "defaultPipelineRoot": None}
    assert report["warnings"] == []


def test_typed_parameters_with_defaults(sample: tuple[dict[str, Any], Path]) -> None:
    assert sample[0]["inputs"] == {
        "n": {"type": "NUMBER_INTEGER", "default": 3, "optional": True},
        "mode": {"type": "STRING", "default": "fast", "optional": True},
        "scale": {"type": "NUMBER_DOUBLE", "default": 1.5, "optional": True},
        "dry": {"type": "BOOLEAN", "default": False, "optional": True},
        "names": {"type": "LIST", "default": ["a", "b"], "optional": True},
        "opts": {"type": "STRUCT", "default": {"k": 1.0}, "optional": True},  # protobuf Value: no ints
    }
    assert type(sample[0]["inputs"]["n"]["default"]) is int


def test_every_task_sits_in_its_dag(tasks: dict[str, dict[str, Any]]) -> None:
    guard = "exit-handler-1"
    branches = f"{guard}/condition-branches-3"
    assert set(tasks) == {
        guard, "notify",
        f"{guard}/shell", f"{guard}/make-list", f"{guard}/for-loop-2", f"{guard}/for-loop-2/square",
        f"{guard}/total", branches, f"{branches}/condition-4", f"{branches}/condition-4/shell-2",
        f"{branches}/condition-5", f"{branches}/condition-5/shell-3", f"{branches}/condition-6",
        f"{branches}/condition-6/shell-4", f"{guard}/for-loop-8", f"{guard}/for-loop-8/shell-5",
        f"{guard}/prep", f"{guard}/train",
    }
    sub_dags = {path for path, task in tasks.items() if task["kind"] == "dag"}
    assert sub_dags == {guard, f"{guard}/for-loop-2", branches, f"{branches}/condition-4", f"{branches}/condition-5",
                        f"{branches}/condition-6", f"{guard}/for-loop-8"}
    for path, task in tasks.items():
        assert task["component"] == f"comp-{task['task']}", path
        assert (task["executor"] is None) == (task["kind"] == "dag"), path
        assert task["executor"] in (None, f"exec-{task['task']}"), path


def test_python_and_container_components(sample: tuple[dict[str, Any], Path],
                                         tasks: dict[str, dict[str, Any]]) -> None:
    executors = sample[0]["executors"]
    python = {name for name, executor in executors.items() if executor["python"]}
    assert python == {"exec-make-list", "exec-square", "exec-total", "exec-prep", "exec-train", "exec-notify"}
    make_list = dict(executors["exec-make-list"])
    source = make_list.pop("source")
    assert make_list == {"kind": "container", "image": "python:3.11-slim", "command": ["sh", "-c"], "python": True,
                         "function": "make_list"}
    assert "\ndef make_list(n: int) -> list[int]:\n    import math  # lightweight" in source, \
        f"the lightweight component's body (with its import inside) is not embedded: {source!r}"
    for name in ("exec-shell", "exec-shell-2", "exec-shell-3", "exec-shell-4", "exec-shell-5"):
        assert executors[name] == {"kind": "container", "image": "alpine:3.20", "command": ["sh", "-c"],
                                   "python": False, "args": ["{{$.inputs.parameters['cmd']}}"]}, name
    assert tasks["exit-handler-1/shell"]["inputs"] == {"parameters": {"cmd": {"constant": "echo hi"}}, "artifacts": {}}


def test_after_and_data_edges(tasks: dict[str, dict[str, Any]]) -> None:
    make_list = tasks["exit-handler-1/make-list"]
    assert make_list["dependentTasks"] == ["shell"]  # .after(hello): an edge without data
    assert make_list["inputs"]["parameters"] == {"n": {"pipelineInput": "pipelinechannel--n"}}
    train = tasks["exit-handler-1/train"]
    assert train["dependentTasks"] == ["prep"]
    assert train["inputs"] == {"artifacts": {"data": {"task": "prep", "output": "out"}},
                               "parameters": {"mode": {"pipelineInput": "pipelinechannel--mode"}}}
    assert tasks["exit-handler-1/prep"]["dependentTasks"] == []
    assert tasks["exit-handler-1"]["inputs"]["parameters"] == {
        "pipelinechannel--mode": {"pipelineInput": "mode"}, "pipelinechannel--n": {"pipelineInput": "n"},
        "pipelinechannel--scale": {"pipelineInput": "scale"}}


def test_if_elif_else(tasks: dict[str, dict[str, Any]]) -> None:
    branches = tasks["exit-handler-1/condition-branches-3"]
    assert branches["dependentTasks"] == ["total"]
    assert branches["inputs"]["parameters"] == {"pipelinechannel--total-Output": {"task": "total", "output": "Output"}}
    value = "int(inputs.parameter_values['pipelinechannel--total-Output'])"
    expected = {"condition-4": ("big", f"{value} > 10", "shell-2", "echo big"),
                "condition-5": ("medium", f"!({value} > 10) && {value} > 3", "shell-3", "echo medium"),
                "condition-6": ("small", f"!({value} > 10) && !({value} > 3)", "shell-4", "echo small")}
    for key, (name, condition, inner, command) in expected.items():
        task = tasks[f"exit-handler-1/condition-branches-3/{key}"]
        assert task["name"] == name  # dsl.If(name=...) is the display name; the key stays condition-N
        assert task["trigger"] == {"condition": condition, "strategy": None}, key
        shell = tasks[f"exit-handler-1/condition-branches-3/{key}/{inner}"]
        assert shell["inputs"]["parameters"] == {"cmd": {"constant": command}}
        assert shell["trigger"] is None


def test_parallel_for_over_an_upstream_output_and_collected(tasks: dict[str, dict[str, Any]]) -> None:
    loop = tasks["exit-handler-1/for-loop-2"]
    assert loop["dependentTasks"] == ["make-list"]
    assert loop["iterator"] == {"kind": "parameter", "itemInput": "pipelinechannel--make-list-Output-loop-item",
                                "items": {"input": "pipelinechannel--make-list-Output"}, "parallelism": 2}
    assert loop["inputs"]["parameters"] == {"pipelinechannel--make-list-Output": {"task": "make-list",
                                                                                  "output": "Output"}}
    square = tasks["exit-handler-1/for-loop-2/square"]
    assert square["inputs"]["parameters"] == {"x": {"pipelineInput": "pipelinechannel--make-list-Output-loop-item"}}
    total = tasks["exit-handler-1/total"]  # dsl.Collected: the loop DAG's output, gathered
    assert total["dependentTasks"] == ["for-loop-2"]
    assert total["inputs"]["parameters"] == {"xs": {"task": "for-loop-2", "output": "pipelinechannel--square-Output"}}


def test_parallel_for_over_a_static_list(tasks: dict[str, dict[str, Any]]) -> None:
    loop = tasks["exit-handler-1/for-loop-8"]
    assert loop["iterator"] == {"kind": "parameter", "itemInput": "pipelinechannel--loop-item-param-7",
                                "items": {"raw": [1, 2, 3]}, "parallelism": 1}
    assert loop["dependentTasks"] == []
    assert tasks["exit-handler-1/for-loop-8/shell-5"]["inputs"]["parameters"] == {"cmd": {"constant": "echo static"}}


def test_retry_and_caching(tasks: dict[str, dict[str, Any]]) -> None:
    assert tasks["exit-handler-1/for-loop-2/square"]["retry"] == {
        "maxRetryCount": 3, "backoffDuration": "10s", "backoffFactor": 2.0, "backoffMaxDuration": "300s"}
    assert [path for path, task in tasks.items() if task["retry"]] == ["exit-handler-1/for-loop-2/square"]
    off = {path for path, task in tasks.items() if task["caching"] == {"enableCache": False, "cacheKey": ""}}
    assert off == {"exit-handler-1/shell", "exit-handler-1/train"}
    for path, task in tasks.items():
        if task["kind"] == "dag":
            assert task["caching"] is None, path  # DAG tasks carry no cachingOptions
        elif path not in off:
            assert task["caching"] == {"enableCache": True, "cacheKey": ""}, path


def test_resources_and_kubernetes_platform_config(sample: tuple[dict[str, Any], Path]) -> None:
    report = sample[0]
    square = report["executors"]["exec-square"]
    assert square["resources"] == {"cpuLimit": 0.5, "memoryLimit": 2.0, "resourceCpuLimit": "500m",
                                   "resourceMemoryLimit": "2G"}
    assert square["kubernetes"] == {
        "activeDeadlineSeconds": "600",  # kubernetes.set_timeout (int64: a string in proto JSON)
        "secretAsEnv": [{"secretName": "acme-secrets", "keyToEnv": [{"secretKey": "token", "envVar": "API_TOKEN"}],
                         "optional": False,
                         "secretNameParameter": {"runtimeValue": {"constant": "acme-secrets"}}}]}
    assert [name for name, executor in report["executors"].items() if "kubernetes" in executor] == ["exec-square"]
    assert [name for name, executor in report["executors"].items() if "resources" in executor] == ["exec-square"]
    assert report["platform"] == {"kubernetes": {"pipelineConfig": {"activeDeadlineSeconds": 7200}}}


def test_exit_handler(sample: tuple[dict[str, Any], Path], tasks: dict[str, dict[str, Any]]) -> None:
    (handler,) = sample[0]["exitHandlers"]
    guarded = sorted(path for path in tasks if path.startswith("exit-handler-1/"))
    assert handler == {"task": "notify", "dag": [], "guards": "exit-handler-1", "guardName": "guard",
                       "statusInput": "status", "guarded": guarded}
    notify = tasks["notify"]
    assert notify["trigger"] == {"condition": None, "strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    assert notify["dependentTasks"] == ["exit-handler-1"]
    assert notify["inputs"]["parameters"] == {"status": {"taskFinalStatus": "exit-handler-1"}}
    assert tasks["exit-handler-1"]["name"] == "guard"


# ----------------------------------------------------------------------------- kfp_inspect.py can fail

# name -> (Python run on `docs`, the loaded YAML documents, to break them; words the error must hold)
BROKEN = {
    "unknown task field": (
        "docs[0]['root']['dag']['tasks']['notify']['retryPolicyy'] = {'maxRetryCount': 1}",
        ["document 1 (PipelineSpec)", "retryPolicyy"]),
    "unknown field in a sub-DAG task": (
        "docs[0]['components']['comp-for-loop-2']['dag']['tasks']['square']['cachingOptions']['enable'] = True",
        ["document 1 (PipelineSpec)", "enable"]),
    "mistyped parallelism": (
        ("docs[0]['components']['comp-exit-handler-1']['dag']['tasks']['for-loop-2']['iteratorPolicy']"
         "['parallelismLimit'] = 'two'"),
        ["document 1 (PipelineSpec)", "parallelismLimit"]),
    "unknown trigger strategy": (
        "docs[0]['root']['dag']['tasks']['notify']['triggerPolicy']['strategy'] = 'ALL_DONE'",
        ["document 1 (PipelineSpec)", "ALL_DONE"]),
    "unknown container resource": (
        "docs[0]['deploymentSpec']['executors']['exec-square']['container']['resources']['cpuLimitt'] = 1",
        ["deploymentSpec (PipelineDeploymentConfig)", "cpuLimitt"]),
    "unknown platform field": (
        "docs[1]['platforms']['kubernetes']['pipelineConfigg'] = {}",
        ["document 2 (PlatformSpec)", "pipelineConfigg"]),
    "unknown kubernetes executor field": (
        "docs[1]['platforms']['kubernetes']['deploymentSpec']['executors']['exec-square']['timeoutSeconds'] = 5",
        ["exec-square (KubernetesExecutorConfig)", "timeoutSeconds"]),
    "platform config of a missing executor": (
        "docs[1]['platforms']['kubernetes']['deploymentSpec']['executors']['exec-nothing'] = {}",
        ["executors that document 1 does not have", "exec-nothing"]),
    "a third document": ("docs.append({'kind': 'ConfigMap'})", ["3 documents"]),
}


def test_the_unbroken_yaml_reads_back(kubeflow_python: Path, sample: tuple[dict[str, Any], Path],
                                      tmp_path: Path) -> None:
    """The edit round trip itself changes nothing: the copy reads back to the same report."""
    copy = tmp_path / "copy.yaml"
    edit_yaml(kubeflow_python, sample[1], copy, "pass")
    code, report, stderr = inspect_yaml(kubeflow_python, copy)
    assert code == 0 and report["ok"], f"{report}\n{stderr}"
    expected = dict(sample[0], yaml=str(copy))
    assert report == expected


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_spec_is_rejected(kubeflow_python: Path, sample: tuple[dict[str, Any], Path], tmp_path: Path,
                                 case: str) -> None:
    code_to_break, words = BROKEN[case]
    broken = tmp_path / "broken.yaml"
    edit_yaml(kubeflow_python, sample[1], broken, code_to_break)
    code, report, stderr = inspect_yaml(kubeflow_python, broken)
    assert code == 1, f"kfp_inspect.py accepted a broken spec ({case}): {str(report)[:500]}"
    assert report["ok"] is False and report["stage"] in ("parse", "read"), report
    for word in words:
        assert word in report["error"], f"{word!r} not in {report['error']!r}"
    assert report["error"] in stderr


_ONE = "from kfp import dsl\n\n@dsl.component\ndef one() -> int:\n    return 1\n\n"
_P = "@dsl.pipeline\ndef p():\n    one()\n"
MODULES = {  # name -> (module text, the failing stage, words the error must hold)
    "no pipeline, only a component": (_ONE, "contract", "has 0 module-level names for @dsl.pipeline functions"),
    "two pipelines": (_ONE + _P + "\n@dsl.pipeline\ndef q():\n    one()\n", "contract",
                      "has 2 module-level names for @dsl.pipeline functions (['p', 'q'])"),
    # what dagshift wrote before: kfp's CLI counts the alias as a second pipeline (issue 17)
    "an alias of the pipeline": (_ONE + _P + "\nPIPELINE = p\n", "contract",
                                 "has 2 module-level names for @dsl.pipeline functions (['PIPELINE', 'p'])"),
    "type error": (_ONE + "@dsl.component\ndef takes(s: dict):\n    pass\n\n@dsl.pipeline\ndef p():\n"
                   "    takes(s=one().output)\n", "import", "InconsistentTypeException"),
    "syntax error": ("def broken(:\n", "import", "SyntaxError"),
}


@pytest.mark.parametrize("case", list(MODULES))
def test_bad_module_fails_clearly(kubeflow_python: Path, tmp_path: Path, case: str) -> None:
    text, stage, words = MODULES[case]
    module = tmp_path / "bad.py"
    module.write_text(text, encoding="utf-8")
    code, report, stderr = inspect_module(kubeflow_python, module, tmp_path / "bad.yaml")
    assert code == 1 and report == {"ok": False, "stage": stage, "error": report["error"]}, report
    assert words in report["error"] and f"kfp_inspect.py: {stage}:" in stderr


def test_compile_warnings_are_reported(kubeflow_python: Path, tmp_path: Path) -> None:
    module = tmp_path / "deprecated.py"
    module.write_text(textwrap.dedent("""\
        from kfp import dsl

        @dsl.component
        def one(n: int) -> int:
            return n

        @dsl.pipeline
        def p(n: int = 1):
            with dsl.Condition(n > 0):
                one(n=n)
        """), encoding="utf-8")
    code, report, stderr = inspect_module(kubeflow_python, module, tmp_path / "deprecated.yaml")
    assert code == 0 and report["ok"], f"{report}\n{stderr}"
    deprecations = [w for w in report["warnings"] if w["category"] == "DeprecationWarning"]
    assert deprecations and "dsl.If" in deprecations[0]["message"], report["warnings"]
    (condition,) = [t for t in report["tasks"] if t["task"] == "condition-1"]
    assert condition["trigger"] == {"condition": "int(inputs.parameter_values['pipelinechannel--n']) > 0",
                                    "strategy": None}
    assert report["documents"] == 1 and report["platform"] is None


# ----------------------------------------------------------------------------- kfp_local_runner.py


def run_local(python: Path, module: Path, workdir: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(LOCAL_HELPER, workdir / LOCAL_HELPER.name)
    return run_script(python, LOCAL_RUNNER, str(module), str(workdir), *args, cwd=workdir)


def test_the_local_sample_is_the_sample_without_containers(kubeflow_python: Path, tmp_path: Path) -> None:
    """The local fixture really is python-only and keeps the control flow under test."""
    code, report, stderr = inspect_module(kubeflow_python, LOCAL_SAMPLE, tmp_path / "local.yaml")
    assert code == 0 and report["ok"], f"{report}\n{stderr}"
    assert all(executor["python"] for executor in report["executors"].values())
    assert report["documents"] == 1
    iterators = sorted(json.dumps(t["iterator"]["items"]) for t in report["tasks"] if t["iterator"])
    assert iterators == ['{"input": "pipelinechannel--make-list-Output"}', '{"raw": [10, 20]}']
    assert [t["task"] for t in report["tasks"] if t["trigger"] and t["trigger"]["condition"]] == \
        ["condition-4", "condition-5", "condition-6"]
    assert [h["task"] for h in report["exitHandlers"]] == ["notify"]


def test_local_run_of_python_components(kubeflow_python: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    code, report, stderr = run_local(kubeflow_python, LOCAL_SAMPLE, workdir)
    assert code == 0 and report["ok"] and report["status"] == "SUCCESS", \
        f"exit {code}: {json.dumps(report)[:2000]}\n{stderr[-4000:]}"
    assert report["pipeline"] == "kfp-local-sample" and report["arguments"] == {}
    outputs = report["tasks"]
    assert outputs["make-list"]["parameters"] == {"Output": [1, 2, 3]}  # made by kfp_local_helper in WORKDIR
    squares = sorted(outputs[f"for-loop-2-iteration-{i}/square"]["parameters"]["Output"] for i in range(3))
    assert squares == [1, 4, 9]
    assert outputs["total"]["parameters"] == {"Output": 14}
    assert outputs["mark"]["parameters"] == {"Output": "results/big-14.json"}  # the If branch
    assert "mark-2" not in outputs and "mark-3" not in outputs  # not Elif's, not Else's
    assert {outputs[f"for-loop-8-iteration-{i}/mark-4"]["parameters"]["Output"] for i in range(2)} == \
        {"results/static-10.json", "results/static-20.json"}
    assert outputs["train"]["parameters"] == {"Output": "fast:4.5"}
    (artifact,) = outputs["prep"]["artifacts"]["out"]
    assert artifact["metadata"] == {"rows": 3}
    assert json.loads(Path(artifact["uri"]).read_text(encoding="utf-8")) == [0.0, 1.5, 3.0]
    assert Path(artifact["uri"]).is_relative_to(workdir / ".kfp-local" / "outputs")
    # files the components wrote relative to the working directory
    results = workdir / "results"
    assert sorted(p.name for p in results.iterdir()) == ["big-14.json", "exit.json", "static-10.json",
                                                         "static-20.json", "total.json", "train.json"]
    assert json.loads((results / "total.json").read_text()) == {"xs": [1.0, 4.0, 9.0], "total": 14}  # floats
    assert json.loads((results / "train.json").read_text()) == {"result": "fast:4.5", "rows": 3.0}
    assert json.loads((results / "exit.json").read_text()) == {"state": "SUCCEEDED", "task": "exit-handler-1"}
    assert "Executing task" in stderr  # kfp.local's log went to stderr, not into the report


def test_local_run_with_arguments_takes_another_branch(kubeflow_python: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    code, report, stderr = run_local(kubeflow_python, LOCAL_SAMPLE, workdir, "--arg", "n=1", "--arg", "threshold=5",
                                     "--arg", 'mode="slow"')
    assert code == 0 and report["ok"], f"exit {code}: {json.dumps(report)[:2000]}\n{stderr[-4000:]}"
    assert report["arguments"] == {"n": 1, "threshold": 5, "mode": "slow"}
    assert report["tasks"]["total"]["parameters"] == {"Output": 1}
    # the Elif branch's task (mark-2); neither If's (mark) nor Else's (mark-3) ran
    assert report["tasks"]["mark-2"]["parameters"] == {"Output": "results/small-1.json"}
    assert "mark" not in report["tasks"] and "mark-3" not in report["tasks"]
    assert report["tasks"]["train"]["parameters"] == {"Output": "slow:0.0"}
    assert not (workdir / "results" / "big-1.json").exists()


def test_local_run_of_a_container_component_fails(kubeflow_python: Path, tmp_path: Path) -> None:
    """kfp.local's SubprocessRunner runs no container component; the report says so."""
    code, report, _ = run_local(kubeflow_python, SAMPLE, tmp_path / "work")
    assert code == 1 and report["ok"] is False and report["stage"] == "run", report
    assert "only supports running Lightweight Python Components" in report["error"]
    assert any("DockerRunner" in w["message"] for w in report["warnings"]), report["warnings"]


def test_local_run_reports_a_failing_task(kubeflow_python: Path, tmp_path: Path) -> None:
    module = tmp_path / "failing.py"
    module.write_text(textwrap.dedent("""\
        from kfp import dsl
        from kfp.dsl import PipelineTaskFinalStatus

        @dsl.component
        def ok() -> int:
            return 7

        @dsl.component
        def boom(x: int):
            with open("attempts.txt", "a") as handle:
                handle.write("attempt\\n")
            raise ValueError(f"boom {x}")

        @dsl.component
        def notify(status: PipelineTaskFinalStatus):
            with open("exit.txt", "w") as handle:
                handle.write(status.state)

        @dsl.pipeline
        def failing():
            with dsl.ExitHandler(notify()):
                boom(x=ok().output).set_retry(num_retries=1, backoff_duration="0s")
        """), encoding="utf-8")
    workdir = tmp_path / "work"
    code, report, stderr = run_local(kubeflow_python, module, workdir)
    assert code == 1 and report["ok"] is False and report["status"] == "FAILURE", report
    assert report["error"] == "Pipeline 'failing' finished with status FAILURE. Inner task failed: 'boom' inside " \
                              "'exit-handler-1'."
    assert report["tasks"]["ok"]["parameters"] == {"Output": 7}
    assert "boom" not in report["tasks"]  # a failed task writes no executor output
    assert (workdir / "attempts.txt").read_text() == "attempt\nattempt\n"  # set_retry(1): run twice
    assert (workdir / "exit.txt").read_text() == "FAILED"  # the exit task ran after the failure
    assert "ValueError: boom 7" in stderr


def test_local_runner_holds_modules_to_the_same_contract(kubeflow_python: Path, tmp_path: Path) -> None:
    module = tmp_path / "aliased.py"
    module.write_text(MODULES["an alias of the pipeline"][0], encoding="utf-8")
    code, report, _ = run_local(kubeflow_python, module, tmp_path / "work")
    assert code == 2 and report["stage"] == "contract", report
    assert "has 2 module-level names for @dsl.pipeline functions (['PIPELINE', 'p'])" in report["error"], report
    assert report["status"] is None and report["tasks"] == {}  # nothing ran


@pytest.mark.parametrize("args, words", [
    (["--arg", "mode=slow"], "is not JSON"),
    (["--arg", "=1"], "expected NAME=JSON"),
    (["--frobnicate"], "unknown option"),
])
def test_local_runner_refuses_bad_arguments(kubeflow_python: Path, tmp_path: Path, args: list[str],
                                            words: str) -> None:
    code, report, _ = run_local(kubeflow_python, LOCAL_SAMPLE, tmp_path / "work", *args)
    assert code == 2 and report["stage"] == "usage" and words in report["error"], report
    assert not (tmp_path / "work" / ".kfp-local").exists()  # nothing ran
