"""Argo python tasks are short scripts (compiler/backends/argo/script.py) that import and call the
user's function: valid Python, no `{{` Argo could read, only the helpers they use; run with the
values Argo would substitute, the function receives exactly the arguments meant (typed as
declared) and the outputs are written; `dagshift import` reads the task back, earlier versions'
DAGSHIFT_CALL form included."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from argo_model import dag_tasks, load, main_spec, substitute, templates
from test_argo_injection import yaml_flow

from compiler.api import check_text
from compiler.importers import import_file, pipeline_yaml

ROOT = Path(__file__).resolve().parents[3]
GOLDEN_SCRIPTS = [(path, template) for path in sorted(ROOT.glob("golden/**/argo/*.yaml"))
                  for document in load(path.read_text(encoding="utf-8"))
                  for template in (document.get("spec", {}).get("workflowSpec") or document.get("spec", {}))
                  .get("templates", []) if "script" in template]

NASTY = "{{workflow.parameters.n}} {{=1+1}} {{ item }} {{{ }}} \"q\" 'q' \\ \\n\n\t é \u2028 \U0001f600 ${x}"

PIPELINE = {
    "name": "scripts",
    "params": {"n": 3, "ratio": 0.5, "flag": True, "text": {"type": "str", "default": NASTY},
               "conf": {"type": "dict", "default": {"a": [1, {"b": "{{"}]}}},
    "tasks": {
        "produce": {
            "python": "scriptmod:json",  # a name the script also uses: imported under another one
            "args": {"n": "${{ params.n }}", "ratio": "${{ params.ratio }}", "flag": "${{ params.flag }}",
                     "conf": "${{ params.conf }}", "text": "${{ params.text }}",
                     "mixed": "n=${{ params.n }} r=${{ params.ratio }} f=${{ params.flag }} t=${{ params.text }}{",
                     "nested": [{"x": "${{ params.n }}", "{{k}}": [NASTY, None, -1.5]}],
                     "my-arg": NASTY, "class": 1, "é": 2, "a{{b": "{{"},
            "outputs": {"count": "int", "score": "float", "ok": "bool", "items": "list", "meta": "dict",
                        "label": "str"},
        },
        "fan": {
            "foreach": ["a", 3, {"k": "v"}],
            "python": "scriptmod:record",
            "args": {"whole": "${{ item }}", "inside": "<${{ item }}>", "count": "${{ tasks.produce.outputs.count }}",
                     "meta": "${{ tasks.produce.outputs.meta }}"},
            "outputs": {"out": "float"},
        },
        "gather": {
            "python": "scriptmod:record",
            "args": {"outs": "${{ tasks.fan.outputs.out }}", "label": "${{ tasks.produce.outputs.label }}!"},
        },
    },
}
MODULE = """\
import json as _json


def json(**kwargs):
    with open("produce.json", "w", encoding="utf-8") as f:
        _json.dump(kwargs, f)
    return {"count": 7, "score": 0.25, "ok": True, "items": [1, "x"], "meta": {"m": "{{"}, "label": "é{{"}


def record(**kwargs):
    with open("record.json", "w", encoding="utf-8") as f:
        _json.dump(kwargs, f)
    return 1.5
"""


def test_there_are_golden_scripts() -> None:
    assert len(GOLDEN_SCRIPTS) >= 20


@pytest.mark.parametrize("path, template", GOLDEN_SCRIPTS, ids=lambda v: v["name"] if isinstance(v, dict) else v.parent.parent.name)
def test_golden_scripts_are_short_valid_python(path: Path, template: dict) -> None:
    source = template["script"]["source"]
    ast.parse(source)
    assert "{{" not in source
    assert len(source.splitlines()) <= 15, source
    if "def _text" in source:  # only the helpers a script uses
        assert source.count("_text(") >= 2, source


def compile_pipeline(cli, tmp_path: Path) -> dict:
    source = tmp_path / "scripts.yaml"
    source.write_text(yaml_flow(PIPELINE), encoding="utf-8")
    result = cli("compile", str(source), "-t", "argo", "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 0, result.stdout + result.stderr
    return main_spec(load((tmp_path / "out" / "workflow.yaml").read_text(encoding="utf-8")))


def run_task(spec: dict, name: str, dag_scope: dict[str, str], work: Path) -> subprocess.CompletedProcess:
    """The task's script run as Argo would: arguments in DAG scope (params, item, upstream
    outputs), then the template with the params, then with its inputs (one pass each)."""
    task = dag_tasks(spec)[name]
    arguments = substitute(task.get("arguments", {}), dag_scope)
    inputs = {f"inputs.parameters.{p['name']}": p["value"] for p in arguments.get("parameters", [])}
    params = {key: value for key, value in dag_scope.items() if key.startswith("workflow.parameters.")}
    template = substitute(substitute(templates(spec)[task["template"]], params), inputs)
    env = {e["name"]: e["value"] for e in template["script"]["env"]}
    assert env.pop("PYTHONPATH") == template["script"]["workingDir"]
    return subprocess.run([sys.executable, "-c", template["script"]["source"]], cwd=work, capture_output=True,
                          text=True, env={**env, "PYTHONPATH": str(work)}, timeout=30, check=False)


def test_scripts_call_the_function_with_the_values_meant(cli, tmp_path: Path) -> None:
    spec = compile_pipeline(cli, tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / "scriptmod.py").write_text(MODULE, encoding="utf-8")
    params = {f"workflow.parameters.{p['name']}": p["value"] for p in spec["arguments"]["parameters"]}
    for template in spec["templates"]:
        if "script" in template:
            ast.parse(template["script"]["source"])
            assert "{{" not in template["script"]["source"]

    ran = run_task(spec, "produce", params, work)
    assert ran.returncode == 0, ran.stderr
    assert json.loads((work / "produce.json").read_text(encoding="utf-8")) == {
        "n": 3, "ratio": 0.5, "flag": True, "conf": {"a": [1, {"b": "{{"}]}, "text": NASTY,
        "mixed": f"n=3 r=0.5 f=true t={NASTY}{{", "nested": [{"x": 3, "{{k}}": [NASTY, None, -1.5]}],
        "my-arg": NASTY, "class": 1, "é": 2, "a{{b": "{{"}
    outputs = {o["name"]: Path(o["valueFrom"]["path"]) for o in templates(spec)["produce"]["outputs"]["parameters"]}
    written = {name: path.read_text(encoding="utf-8") for name, path in outputs.items()}
    assert written == {"count": "7", "score": "0.25", "ok": "true", "items": '[1,"x"]', "meta": '{"m":"{{"}',
                       "label": "é{{"}

    upstream = {f"tasks.produce.outputs.parameters.{name}": text for name, text in written.items()}
    for item, meant in (("a", "a"), ("3", 3), ('{"k":"v"}', {"k": "v"})):
        ran = run_task(spec, "fan", {**params, **upstream, "item": item}, work)
        assert ran.returncode == 0, ran.stderr
        assert json.loads((work / "record.json").read_text(encoding="utf-8")) == {
            "whole": meant, "inside": f"<{item}>", "count": 7, "meta": {"m": "{{"}}

    # Argo's aggregated list of a fanned-out output: items as text
    ran = run_task(spec, "gather", {**params, **upstream, "tasks.fan.outputs.parameters.out": '["1.5","2"]'}, work)
    assert ran.returncode == 0, ran.stderr
    assert json.loads((work / "record.json").read_text(encoding="utf-8")) == {"outs": [1.5, 2.0], "label": "é{{!"}


def test_scripts_import_back_as_the_same_tasks(cli, tmp_path: Path) -> None:
    compile_pipeline(cli, tmp_path)
    (imported,) = import_file(tmp_path / "out" / "workflow.yaml", "argo")
    back = check_text(pipeline_yaml(imported), imported.file).pipeline
    meant = check_text(yaml_flow(PIPELINE), "scripts.yaml").pipeline
    for task_id, task in meant.tasks.items():
        fields = ("python", "args", "outputs", "foreach")
        assert back.tasks[task_id].model_dump(include=set(fields)) == task.model_dump(include=set(fields)), task_id


def test_a_python_alert_is_a_script_and_imports_back(cli, tmp_path: Path) -> None:
    data = {"name": "alerting", "alerts": [{"on": "failure", "python": "tinyml.notify:main",
                                            "args": {"message": "{{workflow.status}} failed", "n": 1}}],
            "tasks": {"t": {"command": "true"}}}
    source = tmp_path / "alerting.yaml"
    source.write_text(yaml_flow(data), encoding="utf-8")
    assert cli("compile", str(source), "-t", "argo", "-o", str(tmp_path / "out"), "-q").exit_code == 0
    spec = main_spec(load((tmp_path / "out" / "workflow.yaml").read_text(encoding="utf-8")))
    script = next(t["script"] for t in spec["templates"] if "script" in t)
    assert script["source"] == ('from tinyml.notify import main\n\n'
                                'main(message="{\\x7bworkflow.status}} failed", n=1)\n')
    (imported,) = import_file(tmp_path / "out" / "workflow.yaml", "argo")
    assert yaml.safe_load(pipeline_yaml(imported))["alerts"] == data["alerts"]


def test_the_earlier_dagshift_call_form_still_imports(tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text("""\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: old-, labels: {app.kubernetes.io/managed-by: dagshift}}
spec:
  entrypoint: main
  arguments: {parameters: [{name: n, value: "3"}]}
  templates:
    - name: main
      dag: {failFast: false, tasks: [{name: t, template: t}]}
    - name: t
      outputs: {parameters: [{name: x, valueFrom: {path: /tmp/dagshift-output-x}}]}
      script:
        image: python:3.12-slim
        command: [python3]
        source: "..."
        workingDir: /workspace
        env:
          - {name: DAGSHIFT_CALL, value: '{"target":"m:f","kwargs":["d",{"a":["r",0,"int"],"b":["v","s"]}],"outputs":[["x","/tmp/dagshift-output-x","float"]]}'}
          - {name: DAGSHIFT_REF_0, value: "{{workflow.parameters.n}}"}
""", encoding="utf-8")
    (imported,) = import_file(path, "argo")
    task = yaml.safe_load(pipeline_yaml(imported))["tasks"]["t"]
    assert task["python"] == "m:f"
    assert task["args"] == {"a": "${{ params.n }}", "b": "s"}
    assert task["outputs"]["x"] in ("float", {"type": "float"})
